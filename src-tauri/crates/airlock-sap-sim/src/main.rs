//! `airlock-sap-sim`: serves the SAP simulator on loopback until Ctrl-C.

use std::io::{BufRead, IsTerminal, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use airlock_sap_sim::{SapSimulator, SimConfig};
use anyhow::{bail, Context};
use clap::Parser;

/// Environment variable holding the password (else it is read from stdin).
const PASSWORD_VAR: &str = "AIRLOCK_SAP_SIM_PASSWORD";

/// A simulated SAP NetWeaver Gateway (OData v2, JSON) on 127.0.0.1. The password comes from
/// AIRLOCK_SAP_SIM_PASSWORD or the first line of stdin, never from the command line.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Directory with the seed (one JSON file per entity set).
    #[arg(long, default_value = "fixtures/sap")]
    seed: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one; the root URL is printed either way).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The user that may log on.
    #[arg(long, default_value = "AIRLOCK")]
    user: String,
    /// Append every write attempt to this file as a JSON line.
    #[arg(long)]
    record: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = SimConfig::new(args.seed, args.user, password()?);
    config.bind = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    config.record = args.record;
    let simulator = SapSimulator::start(config).context("cannot start the SAP simulator")?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", simulator.root_url())?;
    stdout.flush()?;
    drop(stdout);

    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(tokio::signal::ctrl_c())
        .context("cannot wait for Ctrl-C")?;
    simulator.shutdown();
    Ok(())
}

/// The password from the environment, else the first line of stdin.
fn password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_VAR) {
        if !password.is_empty() {
            return Ok(password);
        }
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password for the simulated SAP user (shown as typed): ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password: set {PASSWORD_VAR} or give it on the first line of stdin");
    }
    Ok(password)
}
