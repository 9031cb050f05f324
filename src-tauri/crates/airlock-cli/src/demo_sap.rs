//! The demo plant's SAP: the OData simulator on loopback, registered as connection
//! `sap-prd` in the demo run's database, with a password made up for this run and kept in the
//! OS keychain under a service of the demo's own (never a real connection's entry), removed
//! again when the demo ends.

use airlock_agent::{AgentConfig, SAP_CONNECTION};
use airlock_connectors::vault::{Backend, Secret, Vault};
use airlock_sap_sim::{SapSimulator, SimConfig};
use airlock_store::{ConnectionRecord, Store};
use serde_json::{json, Map, Value};

use crate::paths::Paths;

/// The keychain service of the demo's secrets.
const DEMO_VAULT_SERVICE: &str = "airlock-vault-demo";
/// The SAP user the demo logs in as.
const DEMO_USER: &str = "AIRLOCK";

/// The running simulator and the secret to remove when done.
pub struct DemoSap {
    simulator: SapSimulator,
    vault: Vault,
    backend: Backend,
}

impl DemoSap {
    /// Starts the simulator from `fixtures/sap`, stores the connection in `config`'s data
    /// directory and its secret in the keychain, and points `config` at that keychain service.
    pub fn start(paths: &Paths, config: &mut AgentConfig) -> anyhow::Result<Self> {
        let password = Secret::new(uuid::Uuid::new_v4().simple().to_string());
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
        })
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
