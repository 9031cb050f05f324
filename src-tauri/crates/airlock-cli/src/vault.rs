//! `airlock vault add|list|remove|test`: named connections whose settings go to the database
//! and whose secret goes to the OS keychain. The secret is read from a prompt (no echo) or,
//! when stdin is not a terminal, from its first line; never from the command line.

use std::io::{self, BufRead as _, IsTerminal as _};
use std::process::ExitCode;

use airlock_agent::{delete_connection, list_connections, save_connection, test_connection};
use airlock_store::Store;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::paths::Paths;

/// The settings of a new connection, from the command line.
#[derive(clap::Args)]
pub struct NewConnection {
    /// Its name, e.g. mes-line3 or sap-prod.
    name: String,
    /// `mes` or `sap`.
    #[arg(long)]
    kind: String,
    /// SAP: the OData service root URL.
    #[arg(long)]
    url: Option<String>,
    /// MES: the ODBC data source name.
    #[arg(long)]
    dsn: Option<String>,
    /// The user to log in as.
    #[arg(long)]
    user: Option<String>,
    /// SAP: the client (Mandant), e.g. 100.
    #[arg(long)]
    client: Option<String>,
    /// SAP: a PEM file of the plant CA that signed the gateway's certificate.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<String>,
}

pub fn add(paths: &Paths, new: NewConnection) -> anyhow::Result<ExitCode> {
    let settings = [
        ("url", new.url),
        ("dsn", new.dsn),
        ("user", new.user),
        ("client", new.client),
        ("ca_file", new.ca_file),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key.to_owned(), value?)))
    .collect();
    let connection = airlock_agent::NewConnection {
        name: new.name,
        kind: new.kind,
        settings,
    };
    // Settings are checked before the secret is asked for.
    connection.validated()?;
    let secret = read_secret(&connection.name)?;
    let store = Store::open(&paths.data_dir)?;
    let backend = save_connection(&store, &paths.vault_service, &connection, &secret)?;
    println!(
        "connection `{}` saved; its secret is in {backend}",
        connection.name
    );
    Ok(ExitCode::SUCCESS)
}

pub fn list(paths: &Paths) -> anyhow::Result<ExitCode> {
    let store = Store::open(&paths.data_dir)?;
    let connections = list_connections(&store, &paths.vault_service)?;
    if connections.is_empty() {
        println!("no connections; add one with `airlock vault add NAME --kind mes|sap …`");
    }
    for connection in connections {
        println!(
            "{}  {}  {}  ({})",
            connection.name,
            connection.kind,
            Value::Object(connection.settings),
            connection.secret_detail
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn remove(paths: &Paths, name: &str) -> anyhow::Result<ExitCode> {
    let store = Store::open(&paths.data_dir)?;
    if !delete_connection(&store, &paths.vault_service, name)? {
        println!("no connection `{name}`");
        return Ok(ExitCode::FAILURE);
    }
    println!("connection `{name}` removed");
    Ok(ExitCode::SUCCESS)
}

pub fn test(paths: &Paths, name: &str) -> anyhow::Result<ExitCode> {
    let store = Store::open(&paths.data_dir)?;
    let result = test_connection(&store, &paths.vault_service, name)?;
    println!("{}", result.detail);
    Ok(if result.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The secret: typed at a prompt without echo, or the first line of stdin.
fn read_secret(name: &str) -> anyhow::Result<Zeroizing<String>> {
    let text = if io::stdin().is_terminal() {
        rpassword::prompt_password(format!("secret for `{name}` (not shown): "))?
    } else {
        let mut line = String::new();
        io::stdin().lock().read_line(&mut line)?;
        let trimmed = line.trim_end_matches(['\n', '\r']).to_owned();
        zeroize::Zeroize::zeroize(&mut line);
        trimmed
    };
    if text.is_empty() {
        anyhow::bail!("the secret is empty; type it at the prompt or pipe it on stdin");
    }
    Ok(Zeroizing::new(text))
}
