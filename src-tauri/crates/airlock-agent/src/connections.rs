//! The connector tools over the named connections in the store: SAP through connection
//! [`SAP_CONNECTION`], the MES through [`MES_CONNECTION`] when one is configured, else the
//! demo plant's fixture MES. A connection's name is the system the governor reasons about.
//! Nothing is contacted here, and no secret is read: each call fetches its own.

use std::path::Path;
use std::sync::Arc;

use airlock_connectors::mes::{self, Mes, MesSource};
use airlock_core::Tool;
use airlock_store::Store;

use crate::agent::AgentConfig;

/// The connection the SAP tools use.
pub const SAP_CONNECTION: &str = "sap-prd";
/// The connection the MES tools use when it is configured.
pub const MES_CONNECTION: &str = "mes-line3";

/// The SAP and MES tools.
pub(crate) fn connector_tools(config: &AgentConfig, store: &Store) -> Vec<Arc<dyn Tool>> {
    let stored = |name: &str, kind: &str| match store.connection(name) {
        Ok(Some(record)) if record.kind == kind => Some(record),
        Ok(Some(record)) => {
            tracing::warn!(connection = name, kind = %record.kind, "connection is not of kind {kind}; ignored");
            None
        }
        Ok(None) => None,
        Err(err) => {
            tracing::warn!(connection = name, %err, "cannot read the connection");
            None
        }
    };
    let mut tools = platform::sap_tools(config, stored(SAP_CONNECTION, "sap"));
    let mes = match stored(MES_CONNECTION, "mes") {
        Some(record) => platform::mes_login(config, &record)
            .unwrap_or_else(|| MesSource::Open(fixture_mes(config))),
        None => MesSource::Open(fixture_mes(config)),
    };
    tools.extend(mes::tools(mes));
    tools
}

#[cfg(target_os = "linux")]
mod platform {
    use std::sync::Arc;

    use airlock_connectors::mes::MesSource;
    use airlock_connectors::sap::{self, SapClient, SapConnection, SapSource};
    use airlock_connectors::vault::Vault;
    use airlock_core::Tool;
    use airlock_store::ConnectionRecord;
    use serde_json::Value;

    use super::SAP_CONNECTION;
    use crate::agent::AgentConfig;

    fn vault(config: &AgentConfig) -> Vault {
        Vault::default().in_service(&config.vault_service)
    }

    pub(super) fn sap_tools(
        config: &AgentConfig,
        record: Option<ConnectionRecord>,
    ) -> Vec<Arc<dyn Tool>> {
        let source = match record {
            None => SapSource::Unavailable(format!(
                "no SAP connection `{SAP_CONNECTION}` is configured: add it with `airlock vault add {SAP_CONNECTION} --kind sap --url https://<gateway>/sap/opu/odata/sap --user <user> --client <client>`"
            )),
            Some(record) => match SapConnection::from_settings(&record.name, &record.settings)
                .and_then(SapClient::new)
            {
                Ok(client) => SapSource::Connected {
                    client: Box::new(client),
                    vault: vault(config),
                },
                Err(err) => SapSource::Unavailable(err.to_string()),
            },
        };
        sap::tools(source)
    }

    pub(super) fn mes_login(config: &AgentConfig, record: &ConnectionRecord) -> Option<MesSource> {
        let setting = |key: &str| {
            record
                .settings
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Some(MesSource::Login {
            name: record.name.clone(),
            dsn: setting("dsn")?,
            user: setting("user")?,
            vault: vault(config),
        })
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use std::sync::Arc;

    use airlock_connectors::mes::MesSource;
    use airlock_core::Tool;
    use airlock_store::ConnectionRecord;

    use crate::agent::AgentConfig;

    pub(super) fn sap_tools(_: &AgentConfig, _: Option<ConnectionRecord>) -> Vec<Arc<dyn Tool>> {
        Vec::new()
    }

    pub(super) fn mes_login(_: &AgentConfig, _: &ConnectionRecord) -> Option<MesSource> {
        None
    }
}

/// The demo plant's MES: a SQLite database in the data directory built from
/// `fixtures/mes/*.sql` through the ODBC driver, rebuilt when a fixture file is newer. When it
/// cannot be built (no ODBC driver), the MES tools report that when called.
fn fixture_mes(config: &AgentConfig) -> Mes {
    let database = config.data_dir.join("mes-line3.db");
    let sql_dir = config.fixtures_dir.join("mes");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let newest_fixture = std::fs::read_dir(&sql_dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| modified(&entry.path()))
        .max();
    let stale = match (modified(&database), newest_fixture) {
        (Some(built), Some(fixture)) => fixture > built,
        (None, _) => true,
        (Some(_), None) => false,
    };
    if stale {
        if let Err(err) = Mes::build_fixture(&sql_dir, &database) {
            tracing::warn!(%err, "the fixture MES is unavailable; MES tools will say so when called");
        }
    }
    Mes::sqlite_file(&database)
}
