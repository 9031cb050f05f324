//! `airlock vault add|list|remove|test`: named connections whose settings go to the database
//! and whose secret goes to the OS keychain. The secret is read from a prompt (no echo) or,
//! when stdin is not a terminal, from its first line; never from the command line.

use std::io::{self, BufRead as _, IsTerminal as _};
use std::process::ExitCode;

use airlock_connectors::mes::Mes;
use airlock_connectors::sap::{MaintenanceFilter, SapClient, SapConnection};
use airlock_connectors::vault::{Secret, Vault, VaultError};
use airlock_store::{ConnectionRecord, Store};
use serde_json::{Map, Value};

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
    let mut settings = Map::new();
    for (key, value) in [
        ("url", new.url),
        ("dsn", new.dsn),
        ("user", new.user),
        ("client", new.client),
        ("ca_file", new.ca_file),
    ] {
        if let Some(value) = value {
            settings.insert(key.to_owned(), Value::String(value));
        }
    }
    let needed: &[&str] = match new.kind.as_str() {
        "mes" => &["dsn", "user"],
        "sap" => &["url", "user"],
        other => anyhow::bail!("--kind must be `sap` or `mes`, not `{other}`"),
    };
    if let Some(missing) = needed.iter().find(|key| !settings.contains_key(**key)) {
        anyhow::bail!("a {} connection needs --{missing}", new.kind);
    }
    let secret = read_secret(&new.name)?;
    let store = Store::open(&paths.data_dir)?;
    let record = ConnectionRecord {
        name: new.name.clone(),
        kind: new.kind,
        settings,
    };
    // Checked (no secret-like setting) before the keychain is touched.
    store.put_connection(&record)?;
    match vault(paths).store(&new.name, &secret) {
        Ok(backend) => {
            println!(
                "connection `{}` saved; its secret is in {backend}",
                new.name
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            store.remove_connection(&new.name)?;
            Err(err.into())
        }
    }
}

pub fn list(paths: &Paths) -> anyhow::Result<ExitCode> {
    let store = Store::open(&paths.data_dir)?;
    let vault = vault(paths);
    let connections = store.connections()?;
    if connections.is_empty() {
        println!("no connections; add one with `airlock vault add NAME --kind mes|sap …`");
    }
    for connection in connections {
        let secret = match vault.fetch(&connection.name) {
            Ok((_, backend)) => format!("secret in {backend}"),
            Err(VaultError::NotFound(_)) => "NO SECRET: add it again".to_owned(),
            Err(err) => format!("secret unavailable: {err}"),
        };
        println!(
            "{}  {}  {}  ({secret})",
            connection.name,
            connection.kind,
            Value::Object(connection.settings)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn remove(paths: &Paths, name: &str) -> anyhow::Result<ExitCode> {
    let store = Store::open(&paths.data_dir)?;
    let removed_secret = vault(paths).remove(name)?;
    let removed_settings = store.remove_connection(name)?;
    if !removed_settings && removed_secret.is_empty() {
        println!("no connection `{name}`");
        return Ok(ExitCode::FAILURE);
    }
    println!("connection `{name}` removed");
    Ok(ExitCode::SUCCESS)
}

pub fn test(paths: &Paths, name: &str) -> anyhow::Result<ExitCode> {
    let store = Store::open(&paths.data_dir)?;
    let Some(connection) = store.connection(name)? else {
        println!("no connection `{name}`; add it with `airlock vault add {name} …`");
        return Ok(ExitCode::FAILURE);
    };
    let (secret, backend) = vault(paths).fetch(name)?;
    println!("secret of `{name}` found in {backend}");
    let setting = |key: &str| {
        connection
            .settings
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match connection.kind.as_str() {
        "mes" => {
            let mes = Mes::dsn_with_login(&setting("dsn"), &setting("user"), secret.expose());
            match mes.query("SELECT 1 AS ok", 1) {
                Ok(_) => {
                    println!("MES `{name}` answers");
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => {
                    println!("MES `{name}`: {err}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        _ => {
            let read = SapConnection::from_settings(name, &connection.settings)
                .and_then(SapClient::new)
                .and_then(|client| {
                    client.maintenance_orders(&secret, &MaintenanceFilter::default(), 1)
                });
            match read {
                Ok(_) => {
                    println!("SAP `{name}` answers: maintenance orders are readable");
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => {
                    println!("SAP `{name}`: {err}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

fn vault(paths: &Paths) -> Vault {
    Vault::default().in_service(&paths.vault_service)
}

/// The secret: typed at a prompt without echo, or the first line of stdin.
fn read_secret(name: &str) -> anyhow::Result<Secret> {
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
    Ok(Secret::new(text))
}
