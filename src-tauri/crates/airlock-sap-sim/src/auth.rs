//! HTTP Basic authentication, and SAP's CSRF protection: a token fetched with a read and bound
//! to the session cookie that came with it.

use std::collections::HashMap;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

/// The session cookie's name (system SIM, client 100).
pub(crate) const SESSION_COOKIE: &str = "SAP_SESSIONID_SIM_100";
const CSRF_HEADER: &str = "x-csrf-token";
const REALM: &str = "Basic realm=\"SAP NetWeaver Application Server [SIM/100]\"";
const LOGON_FAILED: &str = "<html><head><title>Logon Error Message</title></head>\
<body><h1>Logon failed</h1><p>Logon with user and password failed: the user or the password is \
wrong, or no credentials were sent.</p><p>Server: SAP NetWeaver Application Server [SIM/100]</p>\
</body></html>";

/// The one user the gateway knows.
pub(crate) struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    /// The user `user` with password `password`.
    pub(crate) fn new(user: String, password: String) -> Self {
        Self { user, password }
    }

    /// The user a request's Basic credentials log on as, in upper case (SAP user names are
    /// not case-sensitive; passwords are).
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Option<String> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (user, password) = decoded.split_once(':')?;
        let known = user.eq_ignore_ascii_case(&self.user)
            && constant_time_eq(password.as_bytes(), self.password.as_bytes());
        known.then(|| self.user.to_uppercase())
    }
}

/// Compares without returning early on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The 401 SAP answers a request without valid credentials with.
pub(crate) fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, REALM),
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        ],
        LOGON_FAILED,
    )
        .into_response()
}

/// The 403 for a change without a valid CSRF token.
pub(crate) fn csrf_refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        [
            (header::HeaderName::from_static(CSRF_HEADER), "Required"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        "CSRF token validation failed",
    )
        .into_response()
}

/// Whether a request asks for a CSRF token (`X-CSRF-Token: Fetch`).
pub(crate) fn wants_token(headers: &HeaderMap) -> bool {
    headers
        .get(CSRF_HEADER)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"fetch"))
}

/// Open sessions and their CSRF tokens.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    /// Session id to token.
    tokens: HashMap<String, String>,
}

impl Sessions {
    /// Answers a token fetch: the session the request's cookie names if it is still open,
    /// else a new one, and its token (a session keeps one token until it ends).
    pub(crate) fn fetch(&mut self, headers: &HeaderMap) -> (String, String) {
        if let Some(session) = session_cookie(headers) {
            if let Some(token) = self.tokens.get(session) {
                return (session.to_owned(), token.clone());
            }
        }
        let session = URL_SAFE_NO_PAD.encode(
            [
                uuid::Uuid::new_v4().into_bytes(),
                uuid::Uuid::new_v4().into_bytes(),
            ]
            .concat(),
        );
        let token = STANDARD.encode(uuid::Uuid::new_v4().into_bytes());
        self.tokens.insert(session.clone(), token.clone());
        (session, token)
    }

    /// Whether a change carries the token of the session its cookie names.
    pub(crate) fn verify(&self, headers: &HeaderMap) -> bool {
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let expected = session_cookie(headers).and_then(|session| self.tokens.get(session));
        match (sent, expected) {
            (Some(sent), Some(expected)) => constant_time_eq(sent.as_bytes(), expected.as_bytes()),
            _ => false,
        }
    }

    /// Ends every session, so every token issued so far is refused.
    pub(crate) fn expire_all(&mut self) {
        self.tokens.clear();
    }
}

/// Adds a fetched token and its session cookie to a response.
pub(crate) fn issue(response: &mut Response, session: &str, token: &str) {
    let cookie = format!("{SESSION_COOKIE}={session}; path=/; HttpOnly");
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(token) {
        headers.insert(CSRF_HEADER, value);
    }
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.append(header::SET_COOKIE, value);
    }
}

/// The session id in the request's cookies.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE).then_some(value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn basic_credentials_are_checked() {
        let credentials = Credentials::new("Airlock".into(), "s3cret".into());
        let basic = |raw: &str| format!("Basic {}", STANDARD.encode(raw));
        let login =
            |raw: &str| credentials.authenticate(&headers(&[("authorization", &basic(raw))]));
        assert_eq!(login("airlock:s3cret").as_deref(), Some("AIRLOCK"));
        assert_eq!(login("airlock:S3cret"), None);
        assert_eq!(login("other:s3cret"), None);
        assert_eq!(login("airlock"), None);
        assert_eq!(credentials.authenticate(&HeaderMap::new()), None);
    }

    #[test]
    fn a_session_keeps_its_token_until_it_expires() {
        let mut sessions = Sessions::default();
        let (session, token) = sessions.fetch(&HeaderMap::new());
        let cookie = format!("other=1; {SESSION_COOKIE}={session}");
        let again = sessions.fetch(&headers(&[("cookie", &cookie)]));
        assert_eq!(again, (session.clone(), token.clone()));
        assert!(sessions.verify(&headers(&[("cookie", &cookie), (CSRF_HEADER, &token)])));
        assert!(!sessions.verify(&headers(&[(CSRF_HEADER, &token)])));
        assert!(!sessions.verify(&headers(&[("cookie", &cookie), (CSRF_HEADER, "x")])));
        sessions.expire_all();
        assert!(!sessions.verify(&headers(&[("cookie", &cookie), (CSRF_HEADER, &token)])));
        let (new_session, _) = sessions.fetch(&headers(&[("cookie", &cookie)]));
        assert_ne!(new_session, session);
    }
}
