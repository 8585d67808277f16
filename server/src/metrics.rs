//! What an operator's Prometheus scrapes, served on
//! `PEERPORTAL_METRICS_LISTEN` only, never on the public listener.
//!
//! One registry per portal (not a process-wide recorder), so a test reads
//! exactly what its own portal counted; only the wait for a write
//! transaction is the process's, measured where the database handle has
//! no portal to report to. Labels take values from the code
//! alone (methods, reasons, route templates, status codes), never from a
//! request's own text: the series stay few, and nobody can write into
//! them.

use std::time::Duration;

use domain::LoginMethod;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

use crate::store::{Db, DbError};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    method: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    method: &'static str,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    endpoint: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResyncLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// 1 ms to ~16 s: PeeringDB answers in tens of milliseconds and times
/// out after seconds.
fn upstream_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// 0.1 ms to ~3 s: pages and waits for a database connection.
pub(crate) fn local_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    logins: Family<LoginLabels, Counter>,
    refusals: Family<RefusalLabels, Counter>,
    peeringdb: Histograms<EndpointLabels>,
    peeringdb_errors: Family<ErrorLabels, Counter>,
    resync_users: Family<ResyncLabels, Counter>,
    resync_sweeps: Counter,
    resync_last: Gauge,
    sessions: Gauge,
    pool: Family<PoolLabels, Gauge>,
    begin_wait: Histogram,
    http: Family<HttpLabels, Counter>,
    http_duration: Histograms<RouteLabels>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("peerportal");
        let m = Metrics {
            logins: Family::default(),
            refusals: Family::default(),
            peeringdb: Family::new_with_constructor(upstream_buckets),
            peeringdb_errors: Family::default(),
            resync_users: Family::default(),
            resync_sweeps: Counter::default(),
            resync_last: Gauge::default(),
            sessions: Gauge::default(),
            pool: Family::default(),
            begin_wait: crate::store::BEGIN_WAITS.clone(),
            http: Family::default(),
            http_duration: Family::new_with_constructor(local_buckets),
            registry: Registry::default(),
        };
        registry.register("logins", "Logins finished, by method and result (success, refused)", m.logins.clone());
        registry.register("login_refusals", "Refused logins, by method and the reason the audit log records", m.refusals.clone());
        registry.register_with_unit(
            "peeringdb_request_duration",
            "Requests to PeeringDB, by endpoint (token, refresh, profile, revoke, discovery)",
            Unit::Seconds,
            m.peeringdb.clone(),
        );
        registry.register("peeringdb_errors", "Failed requests to PeeringDB, by endpoint and kind", m.peeringdb_errors.clone());
        registry.register(
            "resync_users",
            "Linked people the re-sync looked at, by outcome (synced, of them changed; stale, nothing_to_do, error, grace_expired, deferred)",
            m.resync_users.clone(),
        );
        registry.register("resync_sweeps", "Re-sync sweeps run by this process", m.resync_sweeps.clone());
        registry.register_with_unit(
            "resync_last_sweep_timestamp",
            "When this process last finished a re-sync sweep (Unix time; 0 before the first)",
            Unit::Seconds,
            m.resync_last.clone(),
        );
        registry.register("sessions_active", "Sessions not yet expired (all replicas), read at each scrape", m.sessions.clone());
        registry.register("db_pool_connections", "Database connections of this process, by pool and state (idle, in_use, max)", m.pool.clone());
        registry.register_with_unit(
            "db_transaction_begin_duration",
            "Time to start a write transaction, waiting for the pool's connection included",
            Unit::Seconds,
            m.begin_wait.clone(),
        );
        registry.register("http_requests", "HTTP requests answered, by route template, method and status", m.http.clone());
        registry.register_with_unit("http_request_duration", "Time to answer an HTTP request (until the headers), by route template", Unit::Seconds, m.http_duration.clone());
        // Every login series from zero, so a rate over the first login is
        // a rate and a dashboard shows 0 rather than "no data".
        for method in [LoginMethod::Password, LoginMethod::Peeringdb] {
            for result in ["success", "refused"] {
                let _ = m.logins.get_or_create(&LoginLabels { method: method.as_str(), result });
            }
        }
        Metrics { registry, ..m }
    }

    /// A login that ended: in, or refused (any reason, PeeringDB's or ours).
    pub fn login(&self, method: LoginMethod, signed_in: bool) {
        let result = if signed_in { "success" } else { "refused" };
        self.logins.get_or_create(&LoginLabels { method: method.as_str(), result }).inc();
    }

    /// Why a login was refused; `reason` is one of the code's own words.
    pub fn refusal(&self, method: LoginMethod, reason: &str) {
        self.refusals.get_or_create(&RefusalLabels { method: method.as_str(), reason: reason.to_string() }).inc();
    }

    /// One request to PeeringDB, and its error's kind when it failed.
    pub fn peeringdb_request(&self, endpoint: &'static str, took: Duration, error: Option<&'static str>) {
        self.peeringdb.get_or_create(&EndpointLabels { endpoint }).observe(took.as_secs_f64());
        if let Some(kind) = error {
            self.peeringdb_errors.get_or_create(&ErrorLabels { endpoint, kind }).inc();
        }
    }

    /// What one re-sync sweep did.
    pub fn resync_sweep(&self, outcomes: &[(&'static str, u64)]) {
        self.resync_sweeps.inc();
        self.resync_last.set(crate::store::now().unix_timestamp());
        for (outcome, n) in outcomes {
            self.resync_users.get_or_create(&ResyncLabels { outcome }).inc_by(*n);
        }
    }

    /// One answered request; `route` is the router's template
    /// (`/admin/customers/{id}`), never the path itself.
    pub fn http_request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let route = route.to_string();
        self.http_duration.get_or_create(&RouteLabels { route: route.clone() }).observe(took.as_secs_f64());
        self.http.get_or_create(&HttpLabels { route, method: method.to_string(), status }).inc();
    }

    /// The text Prometheus reads, with the gauges read now.
    pub async fn render(&self, db: &Db) -> Result<String, DbError> {
        self.sessions.set(crate::store::sessions::live_count(db).await?);
        for (pool, size, idle, max) in db.pool_state() {
            let set = |state, n: u32| self.pool.get_or_create(&PoolLabels { pool, state }).set(i64::from(n));
            set("idle", idle);
            set("in_use", size.saturating_sub(idle));
            set("max", max);
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).map_err(|e| DbError::Corrupt(e.to_string()))?;
        Ok(out)
    }
}

/// The content type of [`Metrics::render`]'s text (OpenMetrics, which
/// Prometheus asks for first).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    fn text(m: &Metrics) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry).unwrap();
        out
    }

    #[test]
    fn counters_carry_the_prefix_and_their_labels() {
        let m = Metrics::new();
        m.login(LoginMethod::Peeringdb, true);
        m.login(LoginMethod::Password, false);
        m.refusal(LoginMethod::Password, "wrong_password");
        m.peeringdb_request("token", Duration::from_millis(30), Some("timeout"));
        let out = text(&m);
        for line in [
            r#"peerportal_logins_total{method="peeringdb",result="success"} 1"#,
            r#"peerportal_logins_total{method="password",result="refused"} 1"#,
            r#"peerportal_login_refusals_total{method="password",reason="wrong_password"} 1"#,
            r#"peerportal_peeringdb_request_duration_seconds_count{endpoint="token"} 1"#,
            r#"peerportal_peeringdb_errors_total{endpoint="token",kind="timeout"} 1"#,
        ] {
            assert!(out.lines().any(|l| l == line), "{line} not in\n{out}");
        }
        assert!(out.ends_with("# EOF\n"));
    }

    #[test]
    fn a_route_is_counted_by_its_template_and_status() {
        let m = Metrics::new();
        m.http_request("/admin/customers/{id}", "GET", 200, Duration::from_millis(2));
        m.http_request("/admin/customers/{id}", "GET", 200, Duration::from_millis(2));
        let out = text(&m);
        assert!(out.contains(r#"peerportal_http_requests_total{route="/admin/customers/{id}",method="GET",status="200"} 2"#), "{out}");
    }
}
