//! One HTTP/1.1 POST over a plain TCP connection: all the collector needs.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::endpoint::Endpoint;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long each read or write may wait.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of the answer read (its status line is all that matters).
const MAX_ANSWER_BYTES: u64 = 8 * 1024;

/// POSTs `body` as `application/json` to the endpoint; an answer other than 2xx is an error.
pub(crate) fn post_json(endpoint: &Endpoint, body: &[u8]) -> io::Result<()> {
    let mut stream = connect(endpoint)?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    let mut request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nUser-Agent: airlock-telemetry/{}\r\nConnection: close\r\n\r\n",
        endpoint.path(),
        endpoint.host_header(),
        body.len(),
        env!("CARGO_PKG_VERSION"),
    )
    .into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request)?;
    stream.flush()?;
    let mut status_line = String::new();
    BufReader::new(stream.take(MAX_ANSWER_BYTES)).read_line(&mut status_line)?;
    let status_line = status_line.trim_end();
    let code = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok());
    match code {
        Some(200..=299) => Ok(()),
        Some(_) => Err(io::Error::other(format!(
            "the collector answered {status_line:?}"
        ))),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the collector's answer is not HTTP: {status_line:?}"),
        )),
    }
}

/// The first of the host's addresses that accepts a connection.
fn connect(endpoint: &Endpoint) -> io::Result<TcpStream> {
    let mut last = io::Error::new(
        io::ErrorKind::NotFound,
        "the host name resolves to no address",
    );
    for addr in endpoint.addrs()? {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}
