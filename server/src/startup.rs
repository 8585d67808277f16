//! Builds the application once, identically for `main` and for the tests.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use serde_json::json;
use tower::Layer;
use tower_http::services::ServeDir;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::backend::Portal;
use crate::config::Config;
use crate::peeringdb::client::PeeringDbClient;
use crate::db::Db;
use crate::sessions::{self, DbSessionStore};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub portal: Arc<Portal>,
}

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    db: Db,
}

impl Application {
    /// Opens the database, runs migrations and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("PEERPORTAL_LISTEN: cannot listen on {}: {e}", config.listen))?;
        Self::build_on(config, listener).await
    }

    /// Like [`Application::build`] on a listener bound by the caller (tests
    /// bind port 0 first, to know the public URL before building).
    pub async fn build_on(config: Config, listener: tokio::net::TcpListener) -> anyhow::Result<Application> {
        let db = Db::connect(config.database_url.expose()).await?;
        db.migrate().await?;
        if config.demo {
            crate::cli::customers_import(&db, DEMO_CUSTOMERS, "demo", true).await?;
            tracing::warn!("DEMO MODE: sample customers and a built-in PeeringDB simulator; never use this in production");
        }
        let router = router(config, db.clone())?;
        Ok(Application { listener, router, db })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let purge_db = self.db.clone();
        let purger = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                tick.tick().await;
                if let Err(e) = sessions::purge_expired(&purge_db).await {
                    tracing::warn!(error = %e, "purging expired sessions failed");
                }
            }
        });
        // No Nagle: a streamed page goes out in several writes, and waiting
        // for the browser's delayed ACK between them costs ~40 ms.
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |tcp: &mut tokio::net::TcpStream| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::warn!(error = %e, "could not set TCP_NODELAY");
            }
        });
        let result = axum::serve(listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await;
        purger.abort();
        self.db.close().await;
        result
    }
}

/// The whole HTTP surface: Leptos pages and server functions, plain axum
/// routes, and the layers every request passes through.
pub fn router(config: Config, db: Db) -> anyhow::Result<Router> {
    let config = Arc::new(config);
    let mut leptos_options = get_configuration(None)?.leptos_options;
    leptos_options.site_addr = config.listen;
    if leptos_options.output_name.is_empty() {
        // Built without cargo-leptos (plain `cargo test`): same bundle name.
        leptos_options.output_name = "peerportal".into();
    }
    let peeringdb = match &config.peeringdb {
        Some(p) => Some(PeeringDbClient::new(p).map_err(|e| anyhow::anyhow!("PEERINGDB_OAUTH_URL: {e}"))?),
        None => None,
    };
    let portal = Arc::new(Portal { db: db.clone(), config: config.clone(), peeringdb });
    let state = AppState { leptos_options: leptos_options.clone(), portal: portal.clone() };

    let routes = generate_route_list(app::App);
    let backend = app::backend::SharedBackend(portal.clone());

    let https = config.https();
    let session_layer = SessionManagerLayer::new(DbSessionStore::new(db))
        .with_name(if https { "__Host-peerportal" } else { "peerportal" })
        .with_secure(https)
        .with_http_only(true)
        // Lax, not Strict: the redirect back from PeeringDB is a cross-site
        // navigation and must carry the cookie.
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(12)));

    let origin: Arc<str> = config.origin().into();
    let mut router = Router::new();
    if let Some(sim) = demo_simulator(&config) {
        router = router.nest_service("/peeringdb-sim", sim.router());
    }
    let router = router
        .nest_service(&format!("/{}", leptos_options.site_pkg_dir), bundle_service(&leptos_options))
        .route("/healthz", get(healthz))
        .route("/logout", post(logout))
        .route("/admin/audit.csv", get(crate::console::audit_csv))
        .route("/auth/peeringdb/login", get(crate::peeringdb::login::start))
        .route("/auth/peeringdb/callback", get(crate::peeringdb::login::callback))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(backend.clone()),
            {
                let options = leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .with_state(state)
        .layer(middleware::from_fn_with_state(portal.clone(), require_login))
        .layer(middleware::from_fn_with_state(origin, refuse_cross_site))
        .layer(session_layer)
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(
            // Path only: query strings carry OAuth codes and state.
            TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        );
    Ok(router)
}

/// The WASM, JS and CSS bundle. `make build` writes brotli and gzip copies
/// beside each file (`scripts/bundle.mjs compress`); the best one the
/// browser accepts is sent, so no request pays for compressing 1.6 MB.
/// File names are not hashed, so browsers revalidate (`no-cache`) and get a
/// 304 while the file is unchanged.
fn bundle_service(options: &LeptosOptions) -> SetResponseHeader<ServeDir, HeaderValue> {
    let dir = std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")).layer(files)
}

/// Demo mode serves the PeeringDB simulator itself, under `/peeringdb-sim`,
/// and the portal talks to it over HTTP like to PeeringDB: no shortcut.
fn demo_simulator(config: &Config) -> Option<peeringdb_sim::Simulator> {
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

/// Demo customers, imported (or refreshed) at every demo start.
pub const DEMO_CUSTOMERS: &str = include_str!("../../fixtures/customers.csv");

async fn healthz(State(portal): State<Arc<Portal>>) -> Response {
    match portal.db.ping().await {
        Ok(()) => Json(json!({ "ok": true, "database": "ok", "backend": portal.db.backend_name() })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "ok": false, "database": "unreachable" }))).into_response()
        }
    }
}

async fn logout(State(portal): State<Arc<Portal>>, session: Session) -> Response {
    if let Ok(Some(user_id)) = session.get::<i64>(sessions::USER_ID).await {
        let entry = crate::store::AuditEntry {
            actor: format!("user:{user_id}"),
            event: "logout",
            user_id: Some(user_id),
            customer_id: None,
            details: json!({}),
            ip: None,
        };
        if let Err(e) = crate::store::audit_alone(&portal.db, &entry).await {
            tracing::warn!(error = %e, "could not audit a logout");
        }
    }
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "logout: could not end the session");
        return (StatusCode::INTERNAL_SERVER_ERROR, "Could not log you out, please try again.").into_response();
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response()
}

/// CSRF defence for every state-changing request, server functions
/// included (they have none of their own): the browser must say the request
/// came from our own origin. `Origin` is sent by every current browser on
/// POST; `Sec-Fetch-Site` covers the rest.
async fn refuse_cross_site(State(origin): State<Arc<str>>, req: Request, next: Next) -> Response {
    // The demo simulator stands in for another site (PeeringDB), whose token
    // endpoint is called server to server.
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) || req.uri().path().starts_with("/peeringdb-sim/") {
        return next.run(req).await;
    }
    let headers = req.headers();
    let same_origin = match headers.get(header::ORIGIN) {
        Some(o) => o.as_bytes() == origin.as_bytes(),
        None => headers.get("sec-fetch-site").is_some_and(|v| v == "same-origin"),
    };
    if same_origin {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "refused a cross-site or origin-less state-changing request");
        (StatusCode::FORBIDDEN, "Refused: this request did not come from a PeerPortal page.").into_response()
    }
}

/// Pages that need a signed-in person send anonymous visitors to `/login`
/// before anything renders (so it works without JavaScript too).
/// A session whose user was disabled or deleted meanwhile counts as none.
async fn require_login(State(portal): State<Arc<Portal>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let protected = req.method() == Method::GET
        && (path == "/" || path == "/choose" || path == "/account" || path.starts_with("/admin"));
    if protected {
        let mut signed_in = false;
        if let Some(session) = req.extensions().get::<Session>() {
            if let Ok(Some(user_id)) = session.get::<i64>(sessions::USER_ID).await {
                signed_in = matches!(crate::store::user_by_id(&portal.db, user_id).await, Ok(Some(u)) if !u.disabled);
                if !signed_in {
                    let _ = session.flush().await;
                }
            }
        }
        if !signed_in {
            let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let location = if target == "/" { "/login".to_string() } else { format!("/login?next={}", urlencode(target)) };
            return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
        }
    }
    next.run(req).await
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
