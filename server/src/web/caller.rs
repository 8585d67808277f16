//! Who is calling, settled once per request.
//!
//! The middleware reads the session, loads the person and their customers
//! and leaves a [`ResolvedCaller`] in the request for the server functions,
//! the pages rendered on the server and the plain routes. Pages that need a
//! signed-in person send anonymous visitors to `/login` before anything
//! renders (so it works without JavaScript too).

use std::sync::Arc;

use app::backend::{BrowserSession, Caller, ResolvedCaller};
use app::AppError;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::portal::Portal;

/// Paths that never act for a person: the bundle, files, health, the
/// PeeringDB flow (it starts the session itself) and the demo simulator.
/// They are served as anonymous without reading the session.
fn anonymous_path(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/auth/peeringdb/")
        || path.starts_with("/peeringdb-sim/")
        || path == "/healthz"
        || path.rsplit('/').next().is_some_and(|last| last.contains('.') && !path.starts_with("/admin/"))
}

/// Pages that need a signed-in person.
fn protected(method: &Method, path: &str) -> bool {
    method == Method::GET && (path == "/" || path == "/choose" || path.starts_with("/account") || path.starts_with("/admin"))
}

/// Where a person who must set up two-factor first may go.
const SET_UP_2FA: &str = "/account/2fa";

/// The person behind the session, if any. A session whose user was
/// disabled or deleted meanwhile counts as none, and is ended.
async fn signed_in(portal: &Portal, session: &BrowserSession) -> Result<Option<Caller>, AppError> {
    let Some(user_id) = session.user_id().await? else {
        return Ok(None);
    };
    match portal.caller(user_id).await? {
        Some(caller) => Ok(Some(caller)),
        None => {
            session.end().await?;
            Ok(None)
        }
    }
}

pub async fn resolve(State(portal): State<Arc<Portal>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let caller = match req.extensions().get::<Session>() {
        Some(session) if !anonymous_path(path) => match signed_in(&portal, &BrowserSession(session.clone())).await {
            Ok(caller) => caller,
            Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, AppError::Internal.to_string()).into_response(),
        },
        _ => None,
    };
    if caller.is_none() && protected(req.method(), path) {
        let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let location = if target == "/" { "/login".to_string() } else { format!("/login?next={}", urlencode(target)) };
        return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    }
    // Someone the exchange requires to have two-factor sets it up before
    // any page; the server functions refuse them too (`Ctx::caller`).
    if caller.as_ref().is_some_and(|c| c.must_set_up_2fa) && protected(req.method(), path) && path != SET_UP_2FA {
        return (StatusCode::FOUND, [(header::LOCATION, SET_UP_2FA)]).into_response();
    }
    req.extensions_mut().insert(ResolvedCaller(caller.map(Arc::new)));
    next.run(req).await
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_the_peeringdb_flow_are_served_without_reading_the_session() {
        for path in ["/pkg/peerportal.wasm", "/favicon.svg", "/healthz", "/auth/peeringdb/callback", "/peeringdb-sim/oauth2/token/"] {
            assert!(anonymous_path(path), "{path}");
        }
        for path in ["/", "/login", "/api/me", "/admin/users/3", "/admin/audit.csv", "/logout", "/account"] {
            assert!(!anonymous_path(path), "{path}");
        }
    }
}
