//! Servers that misbehave on purpose: canned raw HTTP answers and a TLS server whose
//! certificate no platform trusts.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A port nothing listens on.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An OData page of one maintenance order, as a full HTTP response.
pub fn odata_page() -> Vec<u8> {
    let body = r#"{"d": {"results": [{"MaintenanceOrder": "4000101", "Equipment": "P-101"}]}}"#;
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads a request's head (up to the blank line).
fn read_head(stream: &mut impl Read) {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
}

/// Answers every connection with `head` followed by `filler` bytes of JSON-ish text, then
/// closes it.
pub struct RawServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    sent: Arc<AtomicUsize>,
}

impl RawServer {
    pub fn start(head: Vec<u8>, filler: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&sent);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                read_head(&mut stream);
                if stream.write_all(&head).is_err() {
                    continue;
                }
                let chunk = vec![b' '; 64 * 1024];
                let mut left = filler;
                while left > 0 {
                    let size = left.min(chunk.len());
                    if stream.write_all(&chunk[..size]).is_err() {
                        break;
                    }
                    counter.fetch_add(size, Ordering::Relaxed);
                    left -= size;
                }
            }
        });
        Self { port, sent }
    }

    /// Filler bytes written so far.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }
}

/// A TLS server for `localhost` with a self-signed certificate, answering every request with
/// a canned response.
pub struct TlsServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The certificate, PEM: the "plant CA" a connection may be told to trust.
    pub ca_file: tempfile::NamedTempFile,
}

impl TlsServer {
    pub fn start(response: Vec<u8>) -> Self {
        let issued = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let mut ca_file = tempfile::NamedTempFile::new().unwrap();
        ca_file.write_all(issued.cert.pem().as_bytes()).unwrap();
        let cert = CertificateDer::from(issued.cert.der().to_vec());
        let key =
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(issued.signing_key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let config = Arc::clone(&config);
                let response = response.clone();
                thread::spawn(move || serve_tls(config, stream, &response));
            }
        });
        Self { port, ca_file }
    }
}

fn serve_tls(config: Arc<rustls::ServerConfig>, stream: TcpStream, response: &[u8]) {
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, stream);
    read_head(&mut tls);
    let _ = tls.write_all(response);
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.flush();
}
