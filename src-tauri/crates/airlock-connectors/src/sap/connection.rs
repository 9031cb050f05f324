//! One SAP connection's settings: the gateway's service root, the user, the client (Mandant),
//! an optional plant CA, and the one origin the connection may contact.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use serde_json::{Map, Value};

use super::SapError;

/// Largest answer read from the gateway; a larger one is cut off with [`SapError::TooLarge`].
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// The settings of one SAP connection. The password is not here: it comes from the vault for
/// each call.
#[derive(Debug, Clone)]
pub struct SapConnection {
    /// The connection's name, e.g. `sap-prd`.
    pub name: String,
    /// The OData service root, e.g. `https://gw.plant.local/sap/opu/odata/sap`.
    pub root: Url,
    /// The user to log in as.
    pub user: String,
    /// The SAP client (Mandant), sent as `sap-client`.
    pub client: Option<String>,
    /// A PEM file of extra CA certificates to trust (a plant CA).
    pub ca_file: Option<PathBuf>,
    /// How long one request may take.
    pub timeout: Duration,
    /// Largest answer read.
    pub max_response_bytes: usize,
}

impl SapConnection {
    /// A connection named `name` to the service root `url` as `user`.
    ///
    /// # Errors
    /// [`SapError::Config`] when the URL is not `https://…` (or `http://` to a loopback
    /// address), has credentials or a query in it, or the user is empty.
    pub fn new(name: &str, url: &str, user: &str) -> Result<Self, SapError> {
        let config = |reason: String| SapError::Config {
            connection: name.to_owned(),
            reason,
        };
        let mut root = Url::parse(url).map_err(|err| config(format!("URL `{url}`: {err}")))?;
        let loopback = match root.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            None => return Err(config(format!("URL `{url}` has no host"))),
        };
        match root.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(config(format!(
                    "URL `{url}` is plain http to another machine; use https"
                )))
            }
            other => return Err(config(format!("URL scheme `{other}` is not https"))),
        }
        if !root.username().is_empty() || root.password().is_some() {
            return Err(config(
                "the URL carries credentials; give the user with --user and the password at the prompt".to_owned(),
            ));
        }
        if root.query().is_some() || root.fragment().is_some() {
            return Err(config(format!(
                "URL `{url}` has a query or fragment; give the service root only"
            )));
        }
        if user.trim().is_empty() {
            return Err(config("the user is empty".to_owned()));
        }
        if !root.path().ends_with('/') {
            let path = format!("{}/", root.path());
            root.set_path(&path);
        }
        Ok(Self {
            name: name.to_owned(),
            root,
            user: user.to_owned(),
            client: None,
            ca_file: None,
            timeout: Duration::from_secs(30),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        })
    }

    /// The connection described by stored settings (`url`, `user`, optional `client` and
    /// `ca_file`).
    ///
    /// # Errors
    /// [`SapError::Config`] when a setting is missing or unusable.
    pub fn from_settings(name: &str, settings: &Map<String, Value>) -> Result<Self, SapError> {
        let setting = |key: &str| settings.get(key).and_then(Value::as_str);
        let missing = |key: &str| SapError::Config {
            connection: name.to_owned(),
            reason: format!("the setting `{key}` is missing"),
        };
        let mut connection = Self::new(
            name,
            setting("url").ok_or_else(|| missing("url"))?,
            setting("user").ok_or_else(|| missing("user"))?,
        )?;
        connection.client = setting("client").map(str::to_owned);
        connection.ca_file = setting("ca_file").map(PathBuf::from);
        Ok(connection)
    }

    /// `scheme://host:port` of the gateway: the only origin this connection contacts.
    #[must_use]
    pub fn origin(&self) -> String {
        self.root.origin().ascii_serialization()
    }

    /// Checks that `url` is on this connection's origin.
    ///
    /// # Errors
    /// [`SapError::HostNotAllowed`] when it is not.
    pub fn check_allowed(&self, url: &Url) -> Result<(), SapError> {
        if url.origin() == self.root.origin() {
            Ok(())
        } else {
            Err(SapError::HostNotAllowed {
                connection: self.name.clone(),
                host: url.origin().ascii_serialization(),
                allowed: self.origin(),
            })
        }
    }

    /// The URL of `path` (e.g. `API_MAINTENANCEORDER/MaintenanceOrder`) under the root.
    ///
    /// # Errors
    /// [`SapError::Config`] when the path does not make a URL.
    pub fn url(&self, path: &str) -> Result<Url, SapError> {
        self.root.join(path).map_err(|err| SapError::Config {
            connection: self.name.clone(),
            reason: format!("path `{path}`: {err}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        assert!(SapConnection::new("sap", "http://127.0.0.1:8080/sap/opu/odata/sap", "u").is_ok());
        assert!(SapConnection::new("sap", "http://localhost/sap", "u").is_ok());
        let err = SapConnection::new("sap", "http://gw.plant.local/sap", "u").unwrap_err();
        assert!(err.to_string().contains("use https"), "{err}");
        assert!(SapConnection::new("sap", "https://gw.plant.local/sap", "u").is_ok());
        assert!(SapConnection::new("sap", "ftp://gw/sap", "u").is_err());
    }

    #[test]
    fn credentials_in_the_url_are_refused_without_echoing_them() {
        let err = SapConnection::new("sap", "https://bob:hunter2@gw/sap", "bob").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn only_the_roots_origin_is_allowed() {
        let connection = SapConnection::new("sap", "https://gw.plant.local/sap", "u").unwrap();
        let inside = Url::parse("https://gw.plant.local/sap/API_X/Y?$skiptoken=5").unwrap();
        assert!(connection.check_allowed(&inside).is_ok());
        for outside in [
            "https://evil.example/sap/API_X/Y",
            "http://gw.plant.local/sap/API_X/Y",
            "https://gw.plant.local:8443/sap/API_X/Y",
        ] {
            let err = connection
                .check_allowed(&Url::parse(outside).unwrap())
                .unwrap_err();
            assert!(matches!(err, SapError::HostNotAllowed { .. }), "{outside}");
        }
    }

    #[test]
    fn paths_join_under_the_root() {
        let connection = SapConnection::new("sap", "https://gw/sap/opu/odata/sap", "u").unwrap();
        assert_eq!(
            connection
                .url("API_MAINTENANCEORDER/MaintenanceOrder")
                .unwrap()
                .as_str(),
            "https://gw/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder"
        );
    }
}
