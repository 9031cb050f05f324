//! Why an SAP call failed, with what to do about it. Messages name the connection and the
//! user, never the secret.

/// An SAP failure.
#[derive(Debug, thiserror::Error)]
pub enum SapError {
    /// The connection's settings cannot be used.
    #[error("SAP connection `{connection}` is misconfigured: {reason}; fix it with `airlock vault add {connection} --kind sap --url … --user …`")]
    Config {
        /// The connection.
        connection: String,
        /// What is wrong.
        reason: String,
    },
    /// A URL points somewhere the connection does not allow (e.g. a `__next` link to another
    /// host). Nothing was sent.
    #[error(
        "refused to contact {host} for SAP connection `{connection}`: it may only reach {allowed}"
    )]
    HostNotAllowed {
        /// The connection.
        connection: String,
        /// The host:port asked for.
        host: String,
        /// The one origin the connection allows.
        allowed: String,
    },
    /// The gateway cannot be reached (refused, unresolvable, timed out).
    #[error("cannot reach the SAP gateway of connection `{connection}` at {origin}: {reason}; check that the gateway is up and the URL is right")]
    Unreachable {
        /// The connection.
        connection: String,
        /// scheme://host:port.
        origin: String,
        /// What failed.
        reason: String,
    },
    /// The TLS handshake failed (untrusted or mismatched certificate, protocol error).
    #[error("TLS with the SAP gateway of connection `{connection}` at {origin} failed: {reason}; if the gateway uses a plant CA, add its certificate with --ca-file")]
    Tls {
        /// The connection.
        connection: String,
        /// scheme://host:port.
        origin: String,
        /// The TLS error.
        reason: String,
    },
    /// The gateway refused the login (401).
    #[error("SAP refused the login of user `{user}` on connection `{connection}` (401): check the user, then store the right password with `airlock vault add {connection} --kind sap …`")]
    Unauthorized {
        /// The connection.
        connection: String,
        /// The user.
        user: String,
    },
    /// The CSRF token was refused even after fetching a new one.
    #[error("the SAP gateway of connection `{connection}` refused the CSRF token twice; check that the user may write to this service")]
    Csrf {
        /// The connection.
        connection: String,
    },
    /// The entity was changed by someone else since it was read (412).
    #[error("{entity} was changed in SAP by someone else since it was read ({message}); read it again and retry")]
    Conflict {
        /// e.g. `maintenance order 4000101`.
        entity: String,
        /// SAP's message.
        message: String,
    },
    /// The entity's state is not what the write expected (e.g. a rollback of a status change
    /// finds the status changed since).
    #[error("{entity} is now {found}, not {expected} as expected: it was changed since, so nothing was written; check it in SAP")]
    Unexpected {
        /// e.g. `maintenance order 4000101`.
        entity: String,
        /// The state expected.
        expected: String,
        /// The state found.
        found: String,
    },
    /// No such entity (404).
    #[error("{0} does not exist in SAP")]
    NotFound(String),
    /// SAP answered with an error of its own.
    #[error("SAP answered {status}{code}: {message}")]
    Sap {
        /// The HTTP status.
        status: u16,
        /// ` (CODE)` from the SAP error body, or empty.
        code: String,
        /// SAP's message, or a description of the status.
        message: String,
    },
    /// The answer is not the OData JSON expected.
    #[error("the SAP gateway of connection `{connection}` answered with something that is not OData JSON ({reason}); check that the URL is the service root (…/sap/opu/odata/sap)")]
    Malformed {
        /// The connection.
        connection: String,
        /// What was wrong.
        reason: String,
    },
    /// The answer is larger than the cap; it was not read further.
    #[error("the SAP answer on connection `{connection}` exceeds {limit_mib} MiB and was cut off; ask for fewer rows ($top) or fewer fields")]
    TooLarge {
        /// The connection.
        connection: String,
        /// The cap in MiB.
        limit_mib: usize,
    },
    /// An argument is not acceptable.
    #[error("{0}")]
    Invalid(String),
}
