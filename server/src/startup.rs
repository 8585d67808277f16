//! Builds the application once, identically for `main` and for the tests.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use domain::Actor;

use crate::config::Config;
use crate::portal::Portal;
use crate::store::{sessions, Db};

pub struct Application {
    listener: tokio::net::TcpListener,
    /// `/metrics`, when `PEERPORTAL_METRICS_LISTEN` is set.
    metrics_listener: Option<tokio::net::TcpListener>,
    router: Router,
    db: Db,
    portal: Arc<Portal>,
}

/// Demo customers, imported (or refreshed) at every demo start.
pub const DEMO_CUSTOMERS: &str = include_str!("../../fixtures/customers.csv");

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
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| anyhow::anyhow!("PEERPORTAL_METRICS_LISTEN: cannot listen on {addr}: {e}"))?,
            ),
            None => None,
        };
        let db = Db::connect(config.database_url.expose()).await?;
        db.migrate().await?;
        if config.demo {
            crate::portal::customers::import(&db, DEMO_CUSTOMERS, Actor::Demo, true).await?;
            tracing::warn!("DEMO MODE: sample customers and a built-in PeeringDB simulator; never use this in production");
        }
        if !crate::web::assets::bundled() {
            tracing::warn!("this binary carries no browser bundle (build it with `make build`): pages are served without their CSS and scripts");
        }
        let portal = Arc::new(Portal::new(db.clone(), config)?);
        let router = crate::web::router(portal.clone())?;
        Ok(Application { listener, metrics_listener, router, db, portal })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The portal this application serves.
    pub fn portal(&self) -> &Arc<Portal> {
        &self.portal
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
        let resync = tokio::spawn(resync_loop(self.portal.clone()));
        let ixf = tokio::spawn(ixf_loop(self.portal.clone()));
        let metrics = self.metrics_listener.map(|listener| {
            let router = crate::web::metrics_router(self.portal.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            })
        });
        let mail = tokio::spawn(crate::mail::worker(self.db.clone(), self.portal.mailer.clone()));
        let budget_portal = self.portal.clone();
        let budget = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                if let Err(e) = budget_portal.flush_login_requests().await {
                    tracing::warn!(error = %e, "could not count PeeringDB requests");
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
        resync.abort();
        ixf.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        mail.abort();
        budget.abort();
        let _ = self.portal.flush_login_requests().await;
        self.db.close().await;
        result
    }
}

/// How often a replica looks for users due for a re-sync: a 24th of the
/// interval, between a minute and an hour, plus up to a tenth at random so
/// replicas (and restarts) spread out. Users' own due times spread after
/// the first sweep, since each is due one interval after its last sync.
fn resync_tick(interval: std::time::Duration) -> std::time::Duration {
    let base = (interval / 24).clamp(std::time::Duration::from_secs(60), std::time::Duration::from_secs(3600));
    base + base.mul_f64(rand::random::<f64>() / 10.0)
}

/// The background re-sync of this replica (`PEERINGDB_RESYNC_INTERVAL`;
/// off with `0` or without PeeringDB login).
async fn resync_loop(portal: Arc<Portal>) {
    let Some(interval) = portal.config.resync_interval.filter(|_| portal.peeringdb.is_some()) else {
        return;
    };
    let holder = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
    loop {
        tokio::time::sleep(resync_tick(interval)).await;
        match crate::portal::resync::background_tick(&portal, &holder, interval).await {
            Ok(Some(r)) if r.synced + r.stale + r.errors + r.grace_expired > 0 => tracing::info!(
                synced = r.synced,
                changed = r.changed,
                stale = r.stale,
                errors = r.errors,
                grace_expired = r.grace_expired,
                "PeeringDB re-sync sweep"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "PeeringDB re-sync sweep failed"),
        }
    }
}

/// The scheduled IX-F import (`PEERPORTAL_IXF_URL`): every
/// `PEERPORTAL_IXF_REFRESH`, on whichever replica takes the lease first.
/// A failure is logged and tried again next time; nothing is written.
async fn ixf_loop(portal: Arc<Portal>) {
    let Some(every) = portal.config.ixf_source.as_ref().map(|s| s.every) else {
        return;
    };
    let holder = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
    loop {
        tokio::time::sleep(every + every.mul_f64(rand::random::<f64>() / 20.0)).await;
        match crate::portal::customers::refresh_ixf(&portal, &holder).await {
            Ok(Some(r)) => tracing::info!(
                ixp = %r.ixp.1,
                created = r.created,
                updated = r.updated,
                not_in_export = %r.missing.join(", "),
                "IX-F member export imported"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "the scheduled IX-F import failed; nothing was written"),
        }
    }
}
