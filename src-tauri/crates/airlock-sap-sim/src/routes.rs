//! The HTTP side: authentication, CSRF, recording writes, resolving a path to a resource, and
//! each resource's methods.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};

use crate::auth::{self, Credentials, Sessions};
use crate::data::Store;
use crate::error::SapError;
use crate::model::{self, EntitySet, Writes};
use crate::mutate;
use crate::odata::{self, SERVICE_ROOT};
use crate::query::{self, CollectionQuery};
use crate::record::{RecordedWrite, Recorder};

/// The largest request body read, in bytes.
const MAX_BODY: usize = 1 << 20;
/// The methods that change data (and need a CSRF token).
const WRITE_METHODS: [&str; 5] = ["POST", "PUT", "PATCH", "MERGE", "DELETE"];

/// What the server thread and the [`crate::SapSimulator`] handle share.
pub(crate) struct Shared {
    credentials: Credentials,
    page_size: usize,
    addr: SocketAddr,
    backend: Mutex<Backend>,
}

/// The gateway's mutable state, behind one lock.
pub(crate) struct Backend {
    /// The entities.
    pub(crate) store: Store,
    /// CSRF sessions.
    pub(crate) sessions: Sessions,
    /// Write attempts.
    pub(crate) recorder: Recorder,
}

impl Shared {
    /// State for a server on `addr`.
    pub(crate) fn new(
        credentials: Credentials,
        page_size: usize,
        addr: SocketAddr,
        backend: Backend,
    ) -> Self {
        Self {
            credentials,
            page_size,
            addr,
            backend: Mutex::new(backend),
        }
    }

    /// The state, also after a panic elsewhere (each change is applied whole or not at all).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Backend> {
        self.backend.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers one request and records it if it is a write.
    fn respond(&self, parts: &Parts, body: Option<&[u8]>) -> Response {
        let method = effective_method(parts);
        let user = self.credentials.authenticate(&parts.headers);
        let mut backend = self.lock();
        let response = match &user {
            None => auth::unauthorized(),
            Some(user) => {
                let call = Call {
                    method: &method,
                    parts,
                    body,
                    user,
                    base: self.base_url(&parts.headers),
                    page_size: self.page_size,
                };
                backend.serve(&call)
            }
        };
        if WRITE_METHODS.contains(&method.as_str()) {
            backend.recorder.record(RecordedWrite {
                method,
                path: parts.uri.path().to_owned(),
                body: body_json(body.unwrap_or_default()),
                status: response.status().as_u16(),
                user,
            });
        }
        response
    }

    /// `http://<host>/sap/opu/odata/sap`, with the host the client addressed.
    fn base_url(&self, headers: &HeaderMap) -> String {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            })
            .map_or_else(|| self.addr.to_string(), str::to_owned);
        format!("http://{host}{SERVICE_ROOT}")
    }
}

/// The router: every path goes to one handler, which resolves OData paths itself.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await.ok();
    let response = shared.respond(&parts, body.as_deref());
    tracing::debug!(
        method = %parts.method,
        uri = %parts.uri,
        status = response.status().as_u16(),
        "request"
    );
    response
}

/// The method, with a POST's `X-HTTP-Method` tunnelling (`MERGE`, `PATCH`, `PUT`, `DELETE`)
/// applied.
fn effective_method(parts: &Parts) -> String {
    let tunnelled = parts
        .headers
        .get("x-http-method")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_uppercase)
        .filter(|m| ["MERGE", "PATCH", "PUT", "DELETE"].contains(&m.as_str()));
    match tunnelled {
        Some(method) if parts.method == "POST" => method,
        _ => parts.method.as_str().to_owned(),
    }
}

/// A write's body as recorded: its JSON, else its text, `null` if empty.
fn body_json(body: &[u8]) -> Value {
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
    }
}

/// One authenticated request.
struct Call<'a> {
    method: &'a str,
    parts: &'a Parts,
    /// `None` if the body was over [`MAX_BODY`] or could not be read.
    body: Option<&'a [u8]>,
    user: &'a str,
    base: String,
    page_size: usize,
}

impl Call<'_> {
    fn is_read(&self) -> bool {
        matches!(self.method, "GET" | "HEAD")
    }

    /// The body as JSON.
    fn json_body(&self) -> Result<Value, SapError> {
        let body = self.body.ok_or_else(|| {
            SapError::runtime(
                StatusCode::PAYLOAD_TOO_LARGE,
                "027",
                format!("The request body is larger than {MAX_BODY} bytes"),
            )
        })?;
        if body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(body).map_err(|err| {
            SapError::bad_request("024", format!("The request body is not valid JSON: {err}"))
        })
    }

    fn header(&self, name: HeaderName) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What a path names.
enum Target {
    /// A service's root: the service document.
    Service(&'static str),
    /// An entity set.
    Collection(&'static EntitySet),
    /// An entity set's `$count`.
    Count(&'static EntitySet),
    /// One entity, by key.
    Entity(&'static EntitySet, String),
}

/// Resolves `/sap/opu/odata/sap/<SERVICE>[/<Set>[('<key>')][/$count]]`.
fn resolve(path: &str) -> Result<Target, SapError> {
    let Some(rest) = path
        .strip_prefix(SERVICE_ROOT)
        .and_then(|r| r.strip_prefix('/'))
    else {
        let first = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        return Err(SapError::segment_not_found(first));
    };
    let segments = rest
        .strip_suffix('/')
        .unwrap_or(rest)
        .split('/')
        .map(|segment| {
            percent_decode_str(segment)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| SapError::bad_request("022", "The path is not valid UTF-8"))
        })
        .collect::<Result<Vec<String>, SapError>>()?;
    let service = segments[0].as_str();
    let sets = model::service_sets(service);
    let Some(first) = sets.first() else {
        return Err(SapError::segment_not_found(service));
    };
    let Some(resource) = segments.get(1) else {
        return Ok(Target::Service(first.service));
    };
    let (name, predicate) = match resource.split_once('(') {
        Some((name, inside)) => (name, Some(inside.strip_suffix(')'))),
        None => (resource.as_str(), None),
    };
    let set = sets
        .iter()
        .copied()
        .find(|set| set.name == name)
        .ok_or_else(|| SapError::segment_not_found(resource))?;
    match (predicate, &segments[2..]) {
        (None, []) => Ok(Target::Collection(set)),
        (None, [count]) if count == "$count" => Ok(Target::Count(set)),
        (Some(inside), []) => inside
            .and_then(|inside| odata::parse_key_predicate(set, inside))
            .map(|key| Target::Entity(set, key))
            .ok_or_else(|| {
                SapError::bad_request(
                    "022",
                    format!("Invalid key predicate in segment '{resource}'"),
                )
            }),
        (_, [extra, ..]) => Err(SapError::segment_not_found(extra)),
    }
}

impl Backend {
    /// Answers an authenticated request: CSRF check for writes, the resource, and a CSRF
    /// token for a read that asks for one.
    fn serve(&mut self, call: &Call<'_>) -> Response {
        let headers = &call.parts.headers;
        if WRITE_METHODS.contains(&call.method) && !self.sessions.verify(headers) {
            return auth::csrf_refused();
        }
        let mut response = self.route(call).unwrap_or_else(IntoResponse::into_response);
        if call.is_read() && auth::wants_token(headers) {
            let (session, token) = self.sessions.fetch(headers);
            auth::issue(&mut response, &session, &token);
        }
        response
    }

    fn route(&mut self, call: &Call<'_>) -> Result<Response, SapError> {
        let params = query::parse_query_string(call.parts.uri.query())?;
        let target = resolve(call.parts.uri.path())?;
        match (target, call.method) {
            (Target::Service(service), "GET" | "HEAD") => Ok(service_document(service)),
            (Target::Collection(set), "GET" | "HEAD") => self.read_collection(call, set, &params),
            (Target::Count(set), "GET" | "HEAD") => {
                let total = CollectionQuery::parse(&params, set)?.total(self.store.entities(set));
                Ok(text_response(total.to_string()))
            }
            (Target::Entity(set, key), "GET" | "HEAD") => {
                self.read_entity(call, set, &key, &params)
            }
            (Target::Collection(set), "POST") => self.create(call, set),
            (Target::Entity(set, key), "PATCH" | "MERGE") => self.update(call, set, &key),
            (Target::Entity(set, key), method) => Err(refuse(
                set,
                method,
                &format!("{}({})", set.name, odata::quote(&key)),
            )),
            (Target::Collection(set) | Target::Count(set), method) => {
                Err(refuse(set, method, set.name))
            }
            (Target::Service(service), method) => Err(SapError::method_not_allowed(format!(
                "Method '{method}' is not allowed for the service document of {service}"
            ))),
        }
    }

    fn read_collection(
        &self,
        call: &Call<'_>,
        set: &'static EntitySet,
        params: &[(String, String)],
    ) -> Result<Response, SapError> {
        let query = CollectionQuery::parse(params, set)?;
        let page = query.page(self.store.entities(set), call.page_size);
        let results: Vec<Value> = page
            .entities
            .iter()
            .map(|entity| odata::entity_json(&call.base, set, entity, query.select.as_deref()))
            .collect();
        let mut d = Map::new();
        if query.inline_count {
            d.insert("__count".into(), page.count.to_string().into());
        }
        d.insert("results".into(), results.into());
        if let Some(skiptoken) = page.next_skiptoken {
            let link = next_link(&call.base, set, call.parts.uri.query(), skiptoken);
            d.insert("__next".into(), link.into());
        }
        Ok(json_response(StatusCode::OK, &json!({ "d": d })))
    }

    fn read_entity(
        &self,
        call: &Call<'_>,
        set: &'static EntitySet,
        key: &str,
        params: &[(String, String)],
    ) -> Result<Response, SapError> {
        let select = query::entity_select(params, set)?;
        let entity = self
            .store
            .get(set, key)
            .ok_or_else(|| mutate::not_found(set, key))?;
        let body = json!({ "d": odata::entity_json(&call.base, set, entity, select.as_deref()) });
        let mut response = json_response(StatusCode::OK, &body);
        set_etag(&mut response, &entity.etag());
        Ok(response)
    }

    fn create(&mut self, call: &Call<'_>, set: &'static EntitySet) -> Result<Response, SapError> {
        let Writes::Allowed(rules) = set.writes else {
            return Err(refuse(set, call.method, set.name));
        };
        let body = call.json_body()?;
        let now = odata::now_millis();
        let key = mutate::create(&mut self.store, set, rules, &body, call.user, now)?;
        let entity = self
            .store
            .get(set, &key)
            .ok_or_else(|| mutate::not_found(set, &key))?;
        let body = json!({ "d": odata::entity_json(&call.base, set, entity, None) });
        let mut response = json_response(StatusCode::CREATED, &body);
        set_etag(&mut response, &entity.etag());
        if let Ok(location) = HeaderValue::from_str(&odata::entity_uri(&call.base, set, &key)) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        Ok(response)
    }

    fn update(
        &mut self,
        call: &Call<'_>,
        set: &'static EntitySet,
        key: &str,
    ) -> Result<Response, SapError> {
        let Writes::Allowed(rules) = set.writes else {
            return Err(refuse(
                set,
                call.method,
                &format!("{}({})", set.name, odata::quote(key)),
            ));
        };
        let body = call.json_body()?;
        let if_match = call.header(header::IF_MATCH);
        let now = odata::now_millis();
        let etag = mutate::update(&mut self.store, set, rules, key, if_match, &body, now)?;
        let mut response = StatusCode::NO_CONTENT.into_response();
        response.headers_mut().insert(
            HeaderName::from_static("dataserviceversion"),
            HeaderValue::from_static("2.0"),
        );
        set_etag(&mut response, &etag);
        Ok(response)
    }
}

/// The 405 for a method `resource` (of `set`) does not support.
fn refuse(set: &EntitySet, method: &str, resource: &str) -> SapError {
    SapError::method_not_allowed(match set.writes {
        Writes::ReadOnly => format!(
            "{} is read-only: method '{method}' is not allowed",
            set.name
        ),
        Writes::Allowed(_) => format!("Method '{method}' is not allowed for '{resource}'"),
    })
}

/// The `__next` link: the same request with `$skiptoken` set to `skiptoken`.
fn next_link(base: &str, set: &EntitySet, query: Option<&str>, skiptoken: usize) -> String {
    let mut pairs: Vec<&str> = query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !pair.is_empty() && percent_decode_str(name).decode_utf8_lossy() != "$skiptoken"
        })
        .collect();
    let token = format!("$skiptoken={skiptoken}");
    pairs.push(&token);
    format!("{base}/{}/{}?{}", set.service, set.name, pairs.join("&"))
}

/// `{"d":{"EntitySets":[...]}}` for a service root.
fn service_document(service: &str) -> Response {
    let sets: Vec<&str> = model::service_sets(service)
        .iter()
        .map(|set| set.name)
        .collect();
    json_response(StatusCode::OK, &json!({ "d": { "EntitySets": sets } }))
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (HeaderName::from_static("dataserviceversion"), "2.0"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn text_response(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn set_etag(response: &mut Response, etag: &str) {
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MAINTENANCE_ORDER;

    #[test]
    fn paths_resolve_to_resources() {
        let root = |rest: &str| format!("{SERVICE_ROOT}/{rest}");
        assert!(matches!(
            resolve(&root("API_MAINTENANCEORDER/")),
            Ok(Target::Service("API_MAINTENANCEORDER"))
        ));
        assert!(matches!(
            resolve(&root("API_MAINTENANCEORDER/MaintenanceOrder")),
            Ok(Target::Collection(set)) if set.name == "MaintenanceOrder"
        ));
        assert!(matches!(
            resolve(&root("API_MAINTENANCEORDER/MaintenanceOrder/$count")),
            Ok(Target::Count(_))
        ));
        assert!(matches!(
            resolve(&root("API_MAINTENANCEORDER/MaintenanceOrder(%274000101%27)")),
            Ok(Target::Entity(_, key)) if key == "4000101"
        ));
        for (path, status) in [
            ("API_NOPE/MaintenanceOrder", StatusCode::NOT_FOUND),
            (
                "API_MAINTENANCEORDER/A_ProductionOrder_2",
                StatusCode::NOT_FOUND,
            ),
            (
                "API_MAINTENANCEORDER/MaintenanceOrder('1')/to_Operation",
                StatusCode::NOT_FOUND,
            ),
            (
                "API_MAINTENANCEORDER/MaintenanceOrder(1)",
                StatusCode::BAD_REQUEST,
            ),
            (
                "API_MAINTENANCEORDER/MaintenanceOrder('1'",
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let err = resolve(&root(path)).err().unwrap();
            assert_eq!(err.into_response().status(), status, "{path}");
        }
        let outside = resolve("/other").err().unwrap();
        assert_eq!(outside.into_response().status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn next_links_replace_the_skiptoken() {
        let link = next_link(
            "http://h/sap/opu/odata/sap",
            &MAINTENANCE_ORDER,
            Some("$filter=Equipment%20eq%20'P-101'&%24skiptoken=2&$top=9"),
            4,
        );
        assert_eq!(
            link,
            "http://h/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder?\
             $filter=Equipment%20eq%20'P-101'&$top=9&$skiptoken=4"
        );
    }
}
