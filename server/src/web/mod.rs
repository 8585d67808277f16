//! The web adapter: the whole HTTP surface (Leptos pages and server
//! functions, the plain axum routes of the PeeringDB flow, the CSV export,
//! logout and health) and the layers every request passes through.

pub mod assets;
mod audit_csv;
mod caller;
mod form_outcome;
mod headers;
mod import;
mod peeringdb;

use std::sync::{Arc, OnceLock};

use app::backend::{BrowserSession, ResolvedCaller};
use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use domain::AuditEvent;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use serde_json::json;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::portal::Portal;
use crate::store::audit::{self, AuditEntry};
use crate::store::sessions::DbSessionStore;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub portal: Arc<Portal>,
}

/// The Leptos routes, worked out once per process. Generating them runs the
/// app with a process-wide flag set that parks every resource started
/// meanwhile on a future that never wakes (leptos_server's
/// `SuppressResourceLoad`): a second server built in the same process (the
/// tests build dozens) would hang the pages another one is rendering.
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// The whole HTTP surface for one portal.
pub fn router(portal: Arc<Portal>) -> anyhow::Result<Router> {
    let config = portal.config.clone();
    let mut leptos_options = get_configuration(None)?.leptos_options;
    leptos_options.site_addr = config.listen;
    let state = AppState { leptos_options: leptos_options.clone(), portal: portal.clone() };
    let backend = app::backend::SharedBackend(portal.clone());

    let https = config.https();
    let session_layer = SessionManagerLayer::new(DbSessionStore::new(portal.db.clone(), config.session))
        .with_name(if https { "__Host-peerportal" } else { "peerportal" })
        .with_secure(https)
        .with_http_only(true)
        // Lax, not Strict: the redirect back from PeeringDB is a cross-site
        // navigation and must carry the cookie.
        .with_same_site(SameSite::Lax)
        .with_path("/")
        // The cookie's own Max-Age, renewed when the session is written;
        // the store enforces the real lifetimes (absolute and idle).
        .with_expiry(Expiry::OnInactivity(config.session.max_age));

    let mut router = Router::new();
    let simulator = demo_simulator(&config);
    let same_site = Arc::new(OwnOrigin { origin: config.origin(), simulator_mounted: simulator.is_some() });
    if let Some(sim) = simulator {
        router = router.nest_service("/peeringdb-sim", sim.router());
    }
    let trusted = Arc::new(config.trusted_proxies.clone());
    let form_action: Vec<String> = config.peeringdb.iter().map(|p| p.base_url.origin().ascii_serialization()).collect();
    let csp = headers::content_security_policy(&form_action);
    let policy = Arc::new(headers::Policy::new(&csp, https));
    let csp = app::backend::ContentSecurityPolicy(csp.into());
    let page_context = {
        let (backend, csp) = (backend.clone(), csp.clone());
        move || {
            provide_context(backend.clone());
            provide_context(csp.clone());
        }
    };
    let import_preview = {
        let (context, options) = (page_context.clone(), leptos_options.clone());
        move |req: Request| import::preview_csv(req, context.clone(), options.clone())
    };
    let ixf_preview = {
        let (context, options) = (page_context.clone(), leptos_options.clone());
        move |req: Request| import::preview_ixf(req, context.clone(), options.clone())
    };
    let router = router
        .route(&format!("/{}/{{*file}}", leptos_options.site_pkg_dir), get(assets::serve))
        .route("/favicon.svg", get(assets::serve))
        .route(IMPORT_PAGE, post(import_preview))
        .route(IXF_PAGE, post(ixf_preview))
        .route("/healthz", get(healthz))
        .route("/logout", post(logout))
        .route("/admin/audit.csv", get(audit_csv::export))
        .route("/auth/peeringdb/login", get(peeringdb::start_by_get).post(peeringdb::start))
        .route("/auth/peeringdb/callback", get(peeringdb::callback))
        .leptos_routes_with_context(
            &state,
            routes(),
            page_context.clone(),
            {
                let options = leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        .fallback(not_found(page_context, leptos_options.clone()))
        .with_state(state)
        .layer(middleware::from_fn(form_outcome::layer))
        .layer(middleware::from_fn_with_state(portal.clone(), caller::resolve))
        .layer(middleware::from_fn_with_state(same_site, refuse_cross_site))
        .layer(middleware::from_fn_with_state(trusted, client_address))
        .layer(middleware::from_fn_with_state(config.import_max_bytes, limit_body))
        // Our own limits (`limit_body`) replace axum's blanket 2 MB.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(session_layer)
        .layer(middleware::from_fn_with_state(policy, headers::security_headers))
        .layer(middleware::from_fn_with_state(portal.metrics.clone(), count_request))
        .layer(
            // Path only: query strings carry OAuth codes and state.
            TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        );
    Ok(router)
}

/// Any other path: the app's own "not found" page, rendered with a 404
/// (no file is looked up on disk: the binary carries its files).
fn not_found(
    page_context: impl Fn() + Clone + Send + Sync + 'static,
    options: LeptosOptions,
) -> impl Fn(Request) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>> + Clone + Send + Sync + 'static {
    let render = leptos_axum::render_app_to_stream_with_context(page_context, move || app::shell(options.clone()));
    move |req: Request| {
        let render = render.clone();
        Box::pin(async move {
            let mut res = render(req).await;
            // A redirect the app chose stands; a page found nothing.
            if res.status() == StatusCode::OK {
                *res.status_mut() = StatusCode::NOT_FOUND;
            }
            res
        })
    }
}

/// Counts and times every answer by the route's template: a path of its
/// own would put every customer's id in a series.
async fn count_request(State(metrics): State<Arc<crate::metrics::Metrics>>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = req.extensions().get::<axum::extract::MatchedPath>().map_or_else(|| "(fallback)".to_string(), |p| p.as_str().to_string());
    let method = req.method().clone();
    let response = next.run(req).await;
    metrics.http_request(&route, method.as_str(), response.status().as_u16(), started.elapsed());
    response
}

/// What `PEERPORTAL_METRICS_LISTEN` serves: `/metrics` and nothing else.
pub fn metrics_router(portal: Arc<Portal>) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(portal)
}

async fn metrics(State(portal): State<Arc<Portal>>) -> Response {
    match portal.metrics.render(&portal.db).await {
        Ok(text) => ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the database did not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "the database did not answer\n").into_response()
        }
    }
}

/// Demo mode serves the PeeringDB simulator itself, under `/peeringdb-sim`,
/// and the portal talks to it over HTTP like to PeeringDB: no shortcut.
fn demo_simulator(config: &crate::config::Config) -> Option<peeringdb_sim::Simulator> {
    let pdb = config.peeringdb.as_ref()?;
    let own = format!("{}/peeringdb-sim", config.public_url.as_str().trim_end_matches('/'));
    (config.demo && pdb.base_url.as_str().trim_end_matches('/') == own).then(|| {
        peeringdb_sim::Simulator::new(peeringdb_sim::Client {
            client_id: pdb.client_id.clone(),
            client_secret: pdb.secret().to_string(),
            redirect_uris: vec![pdb.redirect_uri.to_string()],
        })
    })
}

async fn healthz(State(portal): State<Arc<Portal>>) -> Response {
    match portal.db.ping().await {
        Ok(()) => Json(json!({ "ok": true, "database": "ok", "backend": portal.db.backend_name() })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "ok": false, "database": "unreachable" }))).into_response()
        }
    }
}

async fn logout(State(portal): State<Arc<Portal>>, Extension(ResolvedCaller(caller)): Extension<ResolvedCaller>, session: Session) -> Response {
    if let Some(caller) = caller {
        let entry = AuditEntry {
            actor: caller.actor(),
            event: AuditEvent::Logout,
            user_id: Some(caller.user_id),
            customer_id: None,
            details: json!({}),
            ip: None,
        };
        if let Err(e) = audit::write_alone(&portal.db, &entry).await {
            tracing::warn!(error = %e, "could not audit a logout");
        }
    }
    if BrowserSession(session).end().await.is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Could not log you out, please try again.").into_response();
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response()
}

/// Works out the client's address once per request ([`app::backend::ClientIp`]):
/// the TCP peer, unless it is a trusted reverse proxy
/// (`PEERPORTAL_TRUSTED_PROXIES`), whose `X-Forwarded-For` (or, alone,
/// `Forwarded`) then names the client (`domain::net::client_address`).
async fn client_address(State(trusted): State<Arc<domain::net::TrustedProxies>>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if let Some(peer) = peer {
        let values = |name: header::HeaderName| -> Vec<&str> { req.headers().get_all(name).iter().filter_map(|v| v.to_str().ok()).collect() };
        let ip = if trusted.is_empty() {
            peer
        } else {
            domain::net::client_address(peer, &trusted, &values(header::FORWARDED), &values(header::HeaderName::from_static("x-forwarded-for")))
        };
        req.extensions_mut().insert(app::backend::ClientIp(ip));
    }
    next.run(req).await
}

/// The largest request body anything but the CSV import takes: a server
/// function's form is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The server functions that take a pasted CSV file or IX-F export, and
/// the pages that preview them.
const IMPORT_PATH: &str = "/api/admin/import_customers";
const IMPORT_PAGE: &str = "/admin/customers/import";
const IXF_PATH: &str = "/api/admin/import_ixf";
const IXF_PAGE: &str = app::api::console::IXF_PAGE;

/// Bounds every request body before anything reads it: 64 KiB, or
/// `PEERPORTAL_IMPORT_MAX_BYTES` for the CSV import. A declared length over
/// the limit is answered 413 at once; a body that only turns out longer
/// stops being read at the limit.
async fn limit_body(State(import_max): State<usize>, req: Request, next: Next) -> Response {
    let limit = if [IMPORT_PATH, IMPORT_PAGE, IXF_PATH, IXF_PAGE].contains(&req.uri().path()) { import_max } else { MAX_BODY_BYTES };
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(req.uri().path(), limit);
    }
    // A body without a declared length (chunked) stops being read at the
    // limit; the handler then fails to read it, and the answer is 413, not
    // whatever that failure would have made of it.
    let path = req.uri().path().to_owned();
    let (head, body) = req.into_parts();
    let exceeded = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = exceeded.clone();
    let limited = http_body_util::BodyExt::map_err(http_body_util::Limited::new(body, limit), move |e| {
        if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        e
    });
    let resp = next.run(Request::from_parts(head, Body::new(limited))).await;
    if exceeded.load(std::sync::atomic::Ordering::Relaxed) {
        return too_large(&path, limit);
    }
    resp
}

fn too_large(path: &str, limit: usize) -> Response {
    tracing::info!(path, limit, "refused a request body over its limit");
    (StatusCode::PAYLOAD_TOO_LARGE, format!("Refused: this request's body is larger than {limit} bytes.")).into_response()
}

/// What the cross-site check compares against.
struct OwnOrigin {
    origin: String,
    /// The demo simulator stands in for another site (PeeringDB), whose
    /// token endpoint is called server to server: exempt only when it is
    /// mounted here at all.
    simulator_mounted: bool,
}

/// CSRF defence for every state-changing request, server functions
/// included (they have none of their own): the browser must say the request
/// came from our own origin. `Origin` is sent by every current browser on
/// POST; `Sec-Fetch-Site` covers the rest.
async fn refuse_cross_site(State(site): State<Arc<OwnOrigin>>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || (site.simulator_mounted && req.uri().path().starts_with("/peeringdb-sim/"))
    {
        return next.run(req).await;
    }
    let headers = req.headers();
    let same_origin = match headers.get(header::ORIGIN) {
        Some(o) => o.as_bytes() == site.origin.as_bytes(),
        None => headers.get("sec-fetch-site").is_some_and(|v| v == "same-origin"),
    };
    if same_origin {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "refused a cross-site or origin-less state-changing request");
        (StatusCode::FORBIDDEN, "Refused: this request did not come from a PeerPortal page.").into_response()
    }
}
