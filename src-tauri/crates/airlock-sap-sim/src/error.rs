//! The library's error type, and the error bodies the simulated gateway answers with.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::query::QueryError;

/// Why the simulator could not start, or refused a direct change.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A seed file could not be read.
    #[error("cannot read the seed file {path}: {source}")]
    SeedRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A seed file is not a valid list of entities.
    #[error("invalid seed file {path}: {reason}")]
    SeedInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The record file could not be opened for appending.
    #[error("cannot open the record file {path}: {source}")]
    Record {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The listening socket could not be set up.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The server's runtime or thread could not be started.
    #[error("cannot start the server thread: {0}")]
    Runtime(std::io::Error),
    /// No entity set of that name is served.
    #[error("unknown entity set {0}")]
    UnknownEntitySet(String),
    /// The entity set has no entity with that key.
    #[error("{entity_set} has no entity with key {key}")]
    UnknownEntity {
        /// The entity set.
        entity_set: String,
        /// The key asked for.
        key: String,
    },
    /// The value cannot be given to that property.
    #[error("cannot set {entity_set}.{property}: {reason}")]
    InvalidChange {
        /// The entity set.
        entity_set: String,
        /// The property.
        property: String,
        /// Why not.
        reason: String,
    },
}

/// A gateway error: an HTTP status and SAP's JSON error body.
#[derive(Debug)]
pub(crate) struct SapError {
    status: StatusCode,
    code: String,
    message: String,
    target: String,
}

/// The message class of the gateway runtime's own errors.
const RUNTIME: &str = "/IWBEP/CM_MGW_RT";

impl SapError {
    /// An error with an explicit status, message code (`CLASS/NNN`) and message.
    pub(crate) fn new(
        status: StatusCode,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            target: String::new(),
        }
    }

    /// An error of the gateway runtime itself, message `number` of its class.
    pub(crate) fn runtime(status: StatusCode, number: &str, message: impl Into<String>) -> Self {
        Self::new(status, format!("{RUNTIME}/{number}"), message)
    }

    /// A 400 from the gateway runtime (malformed request, query or body).
    pub(crate) fn bad_request(number: &str, message: impl Into<String>) -> Self {
        Self::runtime(StatusCode::BAD_REQUEST, number, message)
    }

    /// A 400 from an API's business checks (`class` as in `API_MAINTORDER`).
    pub(crate) fn business(class: &str, number: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            format!("{class}/{number}"),
            message,
        )
    }

    /// The 404 for a path segment that names nothing.
    pub(crate) fn segment_not_found(segment: &str) -> Self {
        Self::runtime(
            StatusCode::NOT_FOUND,
            "020",
            format!("Resource not found for segment '{segment}'"),
        )
    }

    /// The 405 for a method the resource does not support.
    pub(crate) fn method_not_allowed(message: String) -> Self {
        Self::runtime(StatusCode::METHOD_NOT_ALLOWED, "021", message)
    }

    /// Names the property the error is about (`target` and `propertyref` of the details).
    pub(crate) fn with_target(mut self, target: &str) -> Self {
        self.target = target.to_owned();
        self
    }
}

impl From<QueryError> for SapError {
    fn from(err: QueryError) -> Self {
        match &err {
            QueryError::UnknownProperty { property, .. } => {
                let property = property.clone();
                Self::bad_request("023", err.to_string()).with_target(&property)
            }
            _ => Self::bad_request("022", err.to_string()),
        }
    }
}

impl IntoResponse for SapError {
    fn into_response(self) -> Response {
        let transaction = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let body = json!({
            "error": {
                "code": self.code,
                "message": {"lang": "en", "value": self.message},
                "innererror": {
                    "transactionid": transaction,
                    "timestamp": timestamp(OffsetDateTime::now_utc()),
                    "Error_Resolution": {
                        "SAP_Transaction": "For backend administrators: use ADT feed reader \"SAP Gateway Error Log\" or run transaction /IWFND/ERROR_LOG on SAP Gateway hub system and search for entries with the timestamp above for more details",
                        "SAP_Note": "See SAP Note 1797736 for error analysis (https://service.sap.com/sap/support/notes/1797736)"
                    },
                    "errordetails": [{
                        "code": self.code,
                        "message": self.message,
                        "propertyref": self.target,
                        "severity": "error",
                        "target": self.target
                    }]
                }
            }
        });
        tracing::debug!(status = self.status.as_u16(), code = %self.code, message = %self.message, "SAP error");
        let mut response = (self.status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        response
    }
}

/// SAP's UTC timestamp form, `20261122101500.1234560`.
fn timestamp(now: OffsetDateTime) -> String {
    let seconds = now
        .format(format_description!(
            "[year][month][day][hour][minute][second]"
        ))
        .unwrap_or_default();
    format!("{seconds}.{:07}", now.nanosecond() / 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_have_seven_fractional_digits() {
        let at = datetime!(2026-11-22 10:15:00.123456 UTC);
        assert_eq!(timestamp(at), "20261122101500.1234560");
    }
}
