//! The demo plant's SAP: the OData simulator on loopback, registered as connection
//! `sap-prd` in the demo run's database, with a password made up for this run and kept in the
//! OS keychain under a service of the demo's own (never a real connection's entry), removed
//! again when the demo ends.

use std::path::Path;

use airlock_agent::{AgentConfig, SAP_CONNECTION};
use airlock_connectors::vault::{Backend, Secret, Vault};
use airlock_sap_sim::{SapSimulator, SimConfig};
use airlock_store::{ConnectionRecord, ExportFormat, Store};
use serde_json::{json, Map, Value};

use crate::paths::Paths;

/// The keychain service of the demo's secrets.
const DEMO_VAULT_SERVICE: &str = "airlock-vault-demo";
/// The SAP user the demo logs in as.
const DEMO_USER: &str = "AIRLOCK";

/// Environment variable that sets the demo's SAP password (a test does, to look for it).
const PASSWORD_ENV: &str = "AIRLOCK_DEMO_SAP_PASSWORD";

/// The running simulator and the secret to remove when done.
pub struct DemoSap {
    simulator: SapSimulator,
    vault: Vault,
    backend: Backend,
    password: Secret,
}

impl DemoSap {
    /// Starts the simulator from `fixtures/sap`, stores the connection in `config`'s data
    /// directory and its secret in the keychain, and points `config` at that keychain service.
    pub fn start(paths: &Paths, config: &mut AgentConfig) -> anyhow::Result<Self> {
        let password = Secret::new(
            std::env::var(PASSWORD_ENV)
                .ok()
                .filter(|password| !password.is_empty())
                .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
        );
        let simulator = SapSimulator::start(SimConfig::new(
            paths.fixtures_dir.join("sap"),
            DEMO_USER,
            password.expose(),
        ))?;
        let settings: Map<String, Value> = [
            ("url", json!(simulator.root_url())),
            ("user", json!(DEMO_USER)),
            ("client", json!("100")),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
        Store::open(&config.data_dir)?.put_connection(&ConnectionRecord {
            name: SAP_CONNECTION.to_owned(),
            kind: "sap".to_owned(),
            settings,
        })?;
        let vault = Vault::default().in_service(DEMO_VAULT_SERVICE);
        let backend = vault.store(SAP_CONNECTION, &password)?;
        DEMO_VAULT_SERVICE.clone_into(&mut config.vault_service);
        Ok(Self {
            simulator,
            vault,
            backend,
            password,
        })
    }

    /// Looks for the password in every file of `data_dir` and in the audit export; returns
    /// where it was found (nothing, when all is well) and how many places were searched.
    pub fn find_password(&self, data_dir: &Path) -> anyhow::Result<(Vec<String>, usize)> {
        let needle = self.password.expose().as_bytes();
        let holds = |bytes: &[u8]| bytes.windows(needle.len()).any(|window| window == needle);
        let mut found = Vec::new();
        let mut searched = 0;
        for entry in std::fs::read_dir(data_dir)? {
            let path = entry?.path();
            if path.is_file() {
                searched += 1;
                if holds(&std::fs::read(&path)?) {
                    found.push(path.display().to_string());
                }
            }
        }
        let mut export = Vec::new();
        Store::open_read_only(data_dir)?.export_audit(None, ExportFormat::Json, &mut export)?;
        searched += 1;
        if holds(&export) {
            found.push("the audit export".to_owned());
        }
        Ok((found, searched))
    }

    /// One line for the demo's header.
    pub fn describe(&self) -> String {
        format!(
            "simulator at {} (connection {SAP_CONNECTION}, secret in {})",
            self.simulator.root_url(),
            self.backend
        )
    }
}

impl Drop for DemoSap {
    fn drop(&mut self) {
        if let Err(err) = self.vault.remove(SAP_CONNECTION) {
            tracing::warn!(%err, "the demo's SAP secret could not be removed from the keychain");
        }
    }
}
