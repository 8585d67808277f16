//! The two routes of "Login with PeeringDB". Plain axum handlers: the flow
//! is 302s, never a URL handed to JavaScript. What happens in between is
//! the use case's (`portal::peeringdb`); here are the cookie that binds a
//! login to its browser, the session, and one response per outcome.

use std::sync::Arc;
use std::time::Duration;

use app::backend::{BrowserSession, ClientIp, RequestMeta};
use axum::extract::{Query, State};
use axum::{Extension, Form};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::peeringdb::{CallbackQuery, PENDING_LIFETIME};
use domain::LoginError;
use tower_sessions::cookie::{Cookie, SameSite};
use tower_sessions::Session;

use crate::portal::peeringdb::{Finished, Outcome, StartError};
use crate::portal::Portal;

/// The cookie that binds a pending login to this browser.
fn binding_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-peerportal_pdb"
    } else {
        "peerportal_pdb"
    }
}

fn binding_cookie(https: bool, value: String, max_age: time::Duration) -> Option<HeaderValue> {
    let cookie = Cookie::build((binding_cookie_name(https), value))
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// A cookie's value, parsed by the cookie crate tower-sessions uses.
fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

#[derive(Debug, serde::Deserialize)]
pub struct StartForm {
    next: Option<String>,
}

/// `POST /auth/peeringdb/login` (the button on `/login`, a plain form that
/// works without JavaScript; the cross-site check in front of every POST
/// refuses a foreign `Origin`): remember a pending login server-side and
/// send the browser to PeeringDB.
pub async fn start(State(portal): State<Arc<Portal>>, client: Option<Extension<ClientIp>>, Form(form): Form<StartForm>) -> Response {
    match portal.start_peeringdb_login(form.next.as_deref(), client.map(|Extension(ClientIp(ip))| ip)).await {
        None => (StatusCode::NOT_FOUND, "Login with PeeringDB is not enabled here.").into_response(),
        Some(Err(StartError::TooMany { retry_after })) => {
            let mut resp = found(&format!("/login?error={}", LoginError::Throttled));
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs()));
            resp
        }
        Some(Err(StartError::Db(e))) => {
            tracing::error!(error = %e, "could not store a pending PeeringDB login");
            found(&format!("/login?error={}", LoginError::Internal))
        }
        Some(Ok(started)) => {
            let mut resp = found(started.authorize_url.as_str());
            if let Some(cookie) = binding_cookie(portal.config.https(), started.binding, PENDING_LIFETIME) {
                resp.headers_mut().append(header::SET_COOKIE, cookie);
            }
            resp
        }
    }
}

/// `GET /auth/peeringdb/login` never starts a login: a link on any site
/// could otherwise log a person in (login CSRF; PeeringDB remembers
/// consent, so nothing would be asked). Old bookmarks land on `/login`.
pub async fn start_by_get() -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response()
}

/// `GET /auth/peeringdb/callback`.
pub async fn callback(
    State(portal): State<Arc<Portal>>,
    session: Session,
    headers: HeaderMap,
    client: Option<Extension<ClientIp>>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let https = portal.config.https();
    let binding = read_cookie(&headers, binding_cookie_name(https));
    let meta = RequestMeta::from_http(client.map(|Extension(ClientIp(ip))| ip), &headers);
    let Finished { outcome, waited_for_peeringdb } = portal.finish_peeringdb_login(binding.as_deref(), query, meta.ip.as_deref()).await;
    let location = match outcome {
        Outcome::Refused { location } => location,
        Outcome::SignedIn { sign_in, next, notice } => match start_session(&session, sign_in, &meta, notice).await {
            Ok(()) => next,
            Err(_) => format!("/login?error={}", LoginError::Internal),
        },
    };
    let waited_for_peeringdb = waited_for_peeringdb.filter(|_| portal.config.server_timing);
    CallbackResponse { location, waited_for_peeringdb, https }.into_response()
}

async fn start_session(session: &Session, sign_in: app::backend::SignIn, meta: &RequestMeta, notice: Option<String>) -> Result<(), app::AppError> {
    let session = BrowserSession(session.clone());
    session.sign_in(sign_in, meta).await?;
    if let Some(notice) = notice {
        session.set_flash(notice).await?;
    }
    Ok(())
}

/// Every answer of the callback: a redirect that ends the binding cookie
/// and keeps the code in the URL from leaking.
struct CallbackResponse {
    location: String,
    waited_for_peeringdb: Option<Duration>,
    https: bool,
}

const SERVER_TIMING: header::HeaderName = header::HeaderName::from_static("server-timing");

/// How long the callback waited for PeeringDB (code exchange and profile),
/// as a `Server-Timing` entry, only with `PEERPORTAL_SERVER_TIMING=true`:
/// the load driver subtracts it to get the portal's own time per callback.
fn server_timing(waited: Duration) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("peeringdb;dur={:.3};desc=\"token and profile\"", waited.as_secs_f64() * 1000.0)).ok()
}

impl IntoResponse for CallbackResponse {
    fn into_response(self) -> Response {
        let mut resp = found(&self.location);
        let h = resp.headers_mut();
        if let Some(t) = self.waited_for_peeringdb.and_then(server_timing) {
            h.insert(SERVER_TIMING, t);
        }
        // The pending login is spent either way; drop the browser's half.
        if let Some(cookie) = binding_cookie(self.https, String::new(), time::Duration::ZERO) {
            h.append(header::SET_COOKIE, cookie);
        }
        // The URL carried a code: it must not leak through a Referer.
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_names_peeringdb_in_milliseconds() {
        let v = server_timing(Duration::from_micros(742_500)).unwrap();
        assert_eq!(v.to_str().unwrap(), "peeringdb;dur=742.500;desc=\"token and profile\"");
    }
}
