//! The collector's address: `http://HOST[:PORT][/PATH]`, nothing else.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use crate::error::TelemetryError;

/// Where traces are POSTed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The host as written (an IPv6 address keeps its brackets).
    host: String,
    port: u16,
    /// The request path: the endpoint's path followed by `/v1/traces`.
    path: String,
}

impl Endpoint {
    /// Reads `http://HOST[:PORT][/PATH]` (port 80 when absent). `https://` is refused:
    /// the collector is reached over plain HTTP on the plant LAN only.
    pub(crate) fn parse(url: &str) -> Result<Self, TelemetryError> {
        let bad = |reason| TelemetryError::BadEndpoint {
            endpoint: url.to_owned(),
            reason,
        };
        let url = url.trim();
        let scheme_end = url
            .find("://")
            .ok_or_else(|| bad("it has no http:// in front"))?;
        let scheme = &url[..scheme_end];
        if scheme.eq_ignore_ascii_case("https") {
            return Err(TelemetryError::TlsNotSupported(url.to_owned()));
        }
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(bad("only http:// is supported"));
        }
        let rest = &url[scheme_end + 3..];
        if rest.contains(['?', '#']) {
            return Err(bad("it has a query or fragment"));
        }
        if rest
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || !b.is_ascii())
        {
            return Err(bad("it contains spaces, control or non-ASCII characters"));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.contains('@') {
            return Err(bad("it carries a user name or password"));
        }
        let (host, port) =
            split_host_port(authority).ok_or_else(|| bad("the host or port is not valid"))?;
        Ok(Self {
            host: host.to_owned(),
            port,
            path: format!("{}/v1/traces", path.trim_end_matches('/')),
        })
    }

    /// The request path.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The `Host` header's value.
    pub(crate) fn host_header(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The addresses the host resolves to.
    pub(crate) fn addrs(&self) -> io::Result<Vec<SocketAddr>> {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        Ok((host, self.port).to_socket_addrs()?.collect())
    }
}

/// `host[:port]` or `[v6][:port]`, the port 80 when absent.
fn split_host_port(authority: &str) -> Option<(&str, u16)> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, after) = authority.split_at(close + 1);
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    let port = match port {
        None => 80,
        Some(port) => port.parse().ok().filter(|p| *p != 0)?,
    };
    host_ok.then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lan_address_gives_host_port_and_the_traces_path() {
        let e = Endpoint::parse("http://10.0.0.5:4318").unwrap();
        assert_eq!(
            (e.host_header().as_str(), e.path()),
            ("10.0.0.5:4318", "/v1/traces")
        );
        let e = Endpoint::parse("HTTP://collector.plant/otel/").unwrap();
        assert_eq!(
            (e.host_header().as_str(), e.path()),
            ("collector.plant:80", "/otel/v1/traces")
        );
        let e = Endpoint::parse("http://[fd00::5]:4318").unwrap();
        assert_eq!(e.host_header(), "[fd00::5]:4318");
        assert_eq!(e.addrs().unwrap()[0].port(), 4318);
    }

    #[test]
    fn https_is_refused_with_the_way_out() {
        let err = Endpoint::parse("https://collector.example:4318").unwrap_err();
        assert!(matches!(err, TelemetryError::TlsNotSupported(_)));
        let message = err.to_string();
        assert!(
            message.contains("TLS is not supported for the collector"),
            "{message}"
        );
        assert!(message.contains("same LAN segment"), "{message}");
        assert!(message.contains("local relay"), "{message}");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for url in [
            "10.0.0.5:4318",
            "ftp://10.0.0.5",
            "http://",
            "http://:4318",
            "http://host:0",
            "http://host:99999",
            "http://user:pw@host:4318",
            "http://host:4318/x?y=1",
            "http://host:4318/a b",
            "http://host\r\nX: y",
        ] {
            assert!(
                matches!(
                    Endpoint::parse(url),
                    Err(TelemetryError::BadEndpoint { .. })
                ),
                "{url:?}"
            );
        }
    }
}
