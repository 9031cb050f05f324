//! The OData v2 client: basic auth with a secret handed in per call, reads that follow server
//! paging, and writes that fetch a CSRF token first (and once more when the gateway says it
//! expired) and send `If-Match`. Only the connection's origin is ever contacted, redirects are
//! not followed, no proxy is used, and every answer is read up to a cap.

use std::io::Read as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, COOKIE, ETAG, IF_MATCH, SET_COOKIE,
};
use reqwest::{Method, StatusCode, Url};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::CertificateDer;
use serde_json::{Map, Value};

use super::odata::{self, Entity};
use super::query::Query;
use super::{SapConnection, SapError};
use crate::vault::Secret;

/// The CSRF header, both to fetch a token and to send it.
const CSRF_HEADER: &str = "x-csrf-token";

/// Most pages followed in one read, whatever the server says.
const MAX_PAGES: usize = 100;

/// A CSRF token and the session cookies it belongs to.
struct CsrfSession {
    token: String,
    cookies: String,
}

/// A client for one SAP connection.
pub struct SapClient {
    connection: SapConnection,
    http: Client,
    session: Mutex<Option<CsrfSession>>,
}

/// What an HTTP exchange gave back.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl SapClient {
    /// A client for `connection`; nothing is contacted yet.
    ///
    /// # Errors
    /// [`SapError::Config`] when the CA file cannot be read or TLS cannot be set up.
    pub fn new(connection: SapConnection) -> Result<Self, SapError> {
        let tls = tls_config(&connection)?;
        let http = Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(connection.timeout)
            .connect_timeout(connection.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|err| SapError::Config {
                connection: connection.name.clone(),
                reason: format!("cannot set up HTTP: {err}"),
            })?;
        Ok(Self {
            connection,
            http,
            session: Mutex::new(None),
        })
    }

    /// The connection's settings.
    #[must_use]
    pub fn connection(&self) -> &SapConnection {
        &self.connection
    }

    /// Reads entities of the set at `path` (e.g. `API_MAINTENANCEORDER/MaintenanceOrder`)
    /// matching `query`, following the server's paging until `limit` entities are read.
    ///
    /// # Errors
    /// [`SapError`] as the gateway or the network fails.
    pub fn read(
        &self,
        secret: &Secret,
        path: &str,
        query: &Query,
        limit: usize,
    ) -> Result<Vec<Entity>, SapError> {
        let mut url = self.connection.url(path)?;
        url.set_query(Some(
            &query.to_query_string(self.connection.client.as_deref()),
        ));
        let mut entities = Vec::new();
        for _ in 0..MAX_PAGES {
            let answer = self.exchange(self.request(Method::GET, &url, secret)?)?;
            let answer = self.success(answer, path)?;
            let page = odata::collection(&answer.body).map_err(|reason| self.malformed(reason))?;
            entities.extend(page.entities);
            match page.next {
                Some(next) if entities.len() < limit => {
                    url = self.connection.url(&next)?;
                    self.connection.check_allowed(&url)?;
                }
                _ => break,
            }
        }
        entities.truncate(limit);
        Ok(entities)
    }

    /// Reads one entity (`path` names it, e.g. `…/MaintenanceOrder('4000101')`), with its ETag.
    ///
    /// # Errors
    /// [`SapError::NotFound`] naming `what`; [`SapError`] as the gateway or network fails.
    pub fn get(&self, secret: &Secret, path: &str, what: &str) -> Result<Entity, SapError> {
        let url = self.url_with_client(path)?;
        let answer = self.exchange(self.request(Method::GET, &url, secret)?)?;
        let answer = self.success(answer, what)?;
        let mut entity = odata::entity(&answer.body).map_err(|reason| self.malformed(reason))?;
        if let Some(etag) = header_text(&answer.headers, ETAG) {
            entity.etag = Some(etag);
        }
        Ok(entity)
    }

    /// Creates an entity in the set at `path` from `fields`; returns it as created.
    ///
    /// # Errors
    /// [`SapError`] as the gateway refuses it or the network fails.
    pub fn create(
        &self,
        secret: &Secret,
        path: &str,
        fields: &Map<String, Value>,
        what: &str,
    ) -> Result<Entity, SapError> {
        let url = self.url_with_client(path)?;
        let answer = self.write(secret, Method::POST, &url, fields, None)?;
        let answer = self.success(answer, what)?;
        let mut entity = odata::entity(&answer.body).map_err(|reason| self.malformed(reason))?;
        if let Some(etag) = header_text(&answer.headers, ETAG) {
            entity.etag = Some(etag);
        }
        Ok(entity)
    }

    /// Changes `fields` of the entity at `path`, which must still carry `etag`; returns its
    /// new ETag when the gateway sent one.
    ///
    /// # Errors
    /// [`SapError::Conflict`] when the entity changed since `etag`; [`SapError`] otherwise.
    pub fn update(
        &self,
        secret: &Secret,
        path: &str,
        fields: &Map<String, Value>,
        etag: &str,
        what: &str,
    ) -> Result<Option<String>, SapError> {
        let url = self.url_with_client(path)?;
        let answer = self.write(secret, Method::PATCH, &url, fields, Some(etag))?;
        let answer = self.success(answer, what)?;
        Ok(header_text(&answer.headers, ETAG))
    }

    /// Sends a write with the session's CSRF token, fetching one first; when the gateway says
    /// the token is required (expired), fetches a new one and sends once more.
    fn write(
        &self,
        secret: &Secret,
        method: Method,
        url: &Url,
        fields: &Map<String, Value>,
        etag: Option<&str>,
    ) -> Result<Answer, SapError> {
        let body = serde_json::to_vec(fields).map_err(|err| SapError::Invalid(err.to_string()))?;
        for _ in 0..2 {
            let (token, cookies) = self.csrf(secret, url)?;
            let mut request = self
                .request(method.clone(), url, secret)?
                .header(CONTENT_TYPE, "application/json")
                .header(CSRF_HEADER, token)
                .body(body.clone());
            if !cookies.is_empty() {
                request = request.header(COOKIE, cookies);
            }
            if let Some(etag) = etag {
                request = request.header(IF_MATCH, etag);
            }
            let answer = self.exchange(request)?;
            let token_required = answer.status == StatusCode::FORBIDDEN
                && header_text(&answer.headers, CSRF_HEADER)
                    .is_some_and(|value| value.eq_ignore_ascii_case("required"));
            if !token_required {
                return Ok(answer);
            }
            tracing::debug!(connection = %self.connection.name, "CSRF token expired; fetching a new one");
            *self.session() = None;
        }
        Err(SapError::Csrf {
            connection: self.connection.name.clone(),
        })
    }

    /// The session's CSRF token and cookies, fetched from the service root of `url` when
    /// there is none yet.
    fn csrf(&self, secret: &Secret, url: &Url) -> Result<(String, String), SapError> {
        if let Some(session) = self.session().as_ref() {
            return Ok((session.token.clone(), session.cookies.clone()));
        }
        let service = self.service_root(url)?;
        let answer = self.exchange(
            self.request(Method::GET, &service, secret)?
                .header(CSRF_HEADER, "Fetch"),
        )?;
        let answer = self.success(answer, "the service root")?;
        let token = header_text(&answer.headers, CSRF_HEADER)
            .filter(|token| !token.is_empty() && !token.eq_ignore_ascii_case("required"))
            .ok_or_else(|| SapError::Sap {
                status: answer.status.as_u16(),
                code: String::new(),
                message:
                    "the gateway sent no CSRF token; check that the user may write to this service"
                        .to_owned(),
            })?;
        let cookies = answer
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| value.split(';').next())
            .map(str::trim)
            .filter(|pair| pair.contains('='))
            .collect::<Vec<_>>()
            .join("; ");
        *self.session() = Some(CsrfSession {
            token: token.clone(),
            cookies: cookies.clone(),
        });
        Ok((token, cookies))
    }

    /// `…/sap/opu/odata/sap/SERVICE/` of an entity URL under the root.
    fn service_root(&self, url: &Url) -> Result<Url, SapError> {
        let root = self.connection.root.path();
        let service = url
            .path()
            .strip_prefix(root)
            .and_then(|rest| rest.split('/').next())
            .filter(|service| !service.is_empty())
            .ok_or_else(|| SapError::Invalid(format!("{url} is not under the service root")))?;
        self.url_with_client(&format!("{service}/"))
    }

    fn url_with_client(&self, path: &str) -> Result<Url, SapError> {
        let mut url = self.connection.url(path)?;
        if let Some(client) = &self.connection.client {
            url.set_query(Some(&format!(
                "sap-client={}",
                super::query::encode(client)
            )));
        }
        Ok(url)
    }

    fn request(
        &self,
        method: Method,
        url: &Url,
        secret: &Secret,
    ) -> Result<RequestBuilder, SapError> {
        self.connection.check_allowed(url)?;
        Ok(self
            .http
            .request(method, url.clone())
            .basic_auth(&self.connection.user, Some(secret.expose()))
            .header(ACCEPT, HeaderValue::from_static("application/json")))
    }

    /// Sends `request` and reads the answer up to the cap.
    fn exchange(&self, request: RequestBuilder) -> Result<Answer, SapError> {
        let response = request.send().map_err(|err| self.transport(&err))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.read_capped(response)?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    fn read_capped(&self, response: Response) -> Result<Vec<u8>, SapError> {
        let cap = self.connection.max_response_bytes;
        let too_large = || SapError::TooLarge {
            connection: self.connection.name.clone(),
            limit_mib: cap.div_ceil(1024 * 1024),
        };
        if response
            .content_length()
            .is_some_and(|length| length > cap as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        response
            .take(cap as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|err| SapError::Unreachable {
                connection: self.connection.name.clone(),
                origin: self.connection.origin(),
                reason: format!("the answer broke off: {}", innermost(&err)),
            })?;
        if body.len() > cap {
            return Err(too_large());
        }
        Ok(body)
    }

    /// `answer` when it is a success; the error it stands for otherwise.
    fn success(&self, answer: Answer, what: &str) -> Result<Answer, SapError> {
        if answer.status.is_success() {
            return Ok(answer);
        }
        let sap = odata::error(&answer.body);
        let message = sap.as_ref().map_or_else(
            || {
                answer
                    .status
                    .canonical_reason()
                    .unwrap_or("unexpected status")
                    .to_owned()
            },
            |(_, message)| message.clone(),
        );
        Err(match answer.status {
            StatusCode::UNAUTHORIZED => SapError::Unauthorized {
                connection: self.connection.name.clone(),
                user: self.connection.user.clone(),
            },
            StatusCode::NOT_FOUND => SapError::NotFound(what.to_owned()),
            StatusCode::PRECONDITION_FAILED => SapError::Conflict {
                entity: what.to_owned(),
                message,
            },
            status => SapError::Sap {
                status: status.as_u16(),
                code: sap
                    .map(|(code, _)| code)
                    .filter(|code| !code.is_empty())
                    .map(|code| format!(" ({code})"))
                    .unwrap_or_default(),
                message,
            },
        })
    }

    fn malformed(&self, reason: String) -> SapError {
        SapError::Malformed {
            connection: self.connection.name.clone(),
            reason,
        }
    }

    fn transport(&self, err: &reqwest::Error) -> SapError {
        let connection = self.connection.name.clone();
        let origin = self.connection.origin();
        if let Some(tls) = tls_error(err) {
            return SapError::Tls {
                connection,
                origin,
                reason: tls,
            };
        }
        let reason = if err.is_timeout() {
            format!(
                "no answer within {} s",
                self.connection.timeout.as_secs_f32()
            )
        } else {
            innermost(err)
        };
        SapError::Unreachable {
            connection,
            origin,
            reason,
        }
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Option<CsrfSession>> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Roots: the platform's trust store plus the connection's CA file; the ring provider.
fn tls_config(connection: &SapConnection) -> Result<rustls::ClientConfig, SapError> {
    let config_error = |reason: String| SapError::Config {
        connection: connection.name.clone(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for err in &native.errors {
        tracing::debug!(%err, "a platform CA certificate could not be loaded");
    }
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = &connection.ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|err| config_error(format!("CA file {}: {err}", path.display())))?;
        if certs.is_empty() {
            return Err(config_error(format!(
                "CA file {} holds no certificate",
                path.display()
            )));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|err| config_error(format!("CA file {}: {err}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| config_error(format!("TLS: {err}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The TLS error somewhere in `err`'s causes, as text.
fn tls_error(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = cause {
        if let Some(tls) = rustls_error(current) {
            return Some(tls.to_string());
        }
        cause = current.source();
    }
    None
}

/// `err` as a rustls error, looking inside I/O errors (whose `source` skips what they wrap).
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = err.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_error(inner)
}

/// The message of the deepest cause of `err`.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

fn header_text(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}
