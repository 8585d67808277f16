use std::collections::BTreeMap;

use peerportal::config::Config;
use peerportal::store::Db;
use peerportal::startup::Application;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, ORIGIN};
use reqwest::redirect::Policy;

pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// A running PeerPortal on a fresh database, and a cookie-keeping browser.
pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub client: reqwest::Client,
    /// Everything this test's server logged.
    pub logs: LogCapture,
    pub _log_guard: Option<tracing::subscriber::DefaultGuard>,
    pub _dir: tempfile::TempDir,
    /// The settings it was started with.
    pub env: BTreeMap<String, String>,
    /// The portal the server runs (its in-process state, e.g. the logins'
    /// PeeringDB request count).
    pub served: Option<std::sync::Arc<peerportal::portal::Portal>>,
    /// `http://<addr>/metrics` when `PEERPORTAL_METRICS_LISTEN` was set.
    pub metrics_url: Option<String>,
}

/// Which database the suite runs on: SQLite in a temp dir by default, or a
/// fresh PostgreSQL database per test when `PEERPORTAL_TEST_POSTGRES` holds
/// the URL of a server where we may create databases.
pub async fn fresh_database_url(dir: &tempfile::TempDir) -> String {
    match std::env::var("PEERPORTAL_TEST_POSTGRES") {
        Ok(server) if !server.is_empty() => {
            use sqlx::Connection;
            let name = format!("pp_test_{}", rand::random::<u64>());
            let mut admin = sqlx::PgConnection::connect(&server).await.expect("connect to the test PostgreSQL");
            sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
            let mut url = url::Url::parse(&server).expect("PEERPORTAL_TEST_POSTGRES is a URL");
            url.set_path(&name);
            url.to_string()
        }
        _ => format!("sqlite://{}/peerportal.db", dir.path().display()),
    }
}

pub async fn spawn() -> TestApp {
    spawn_with(&[]).await
}

/// What one test's servers log, at debug level, so a test can prove a
/// secret never reaches the logs. Tests run on their own threads (tokio's
/// test runtime is single-threaded) and the capture is that thread's
/// default subscriber: no test reads another's lines.
#[derive(Clone, Default)]
pub struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> LogCapture {
        self.clone()
    }
}

impl LogCapture {
    /// Starts capturing this thread's logs until the guard is dropped.
    fn start() -> (LogCapture, tracing::subscriber::DefaultGuard) {
        let capture = LogCapture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(capture.clone())
            .with_ansi(false)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (capture, guard)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
    let (logs, log_guard) = LogCapture::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("PEERPORTAL_LISTEN".into(), addr.to_string());
    env.insert("PEERPORTAL_PUBLIC_URL".into(), base.clone());
    env.insert("PEERPORTAL_DATABASE_URL".into(), fresh_database_url(&dir).await);
    env.insert("PEERPORTAL_SECRET_KEY_FILE".into(), dir.path().join("secret.key").display().to_string());
    // Most tests sign superadmins in with a password alone; the two-factor
    // tests set the policy they test (the default is `superadmins`).
    env.insert("PEERPORTAL_REQUIRE_2FA".into(), "off".into());
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    let config = Config::from_sources(&env, None, &|_| Err("no files in tests".into())).expect("test config");
    let app = Application::build_on(config, listener).await.expect("build app");
    let db = app.db().clone();
    let served = Some(app.portal().clone());
    let metrics_url = app.metrics_addr().map(|a| format!("http://{a}/metrics"));
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp { client: browser(&base), base, db, logs, _log_guard: Some(log_guard), _dir: dir, env, served, metrics_url }
}

/// A client that keeps cookies, does not follow redirects (tests look at
/// them) and sends the `Origin` header a browser sends on our own pages.
pub fn browser(base: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(ORIGIN, HeaderValue::from_str(base).expect("origin"));
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

impl TestApp {
    /// The same server and database as `app`, seen from another browser
    /// (it owns no server, temp dir or log capture of its own).
    pub fn sharing(app: &TestApp, client: reqwest::Client) -> TestApp {
        TestApp {
            client,
            base: app.base.clone(),
            db: app.db.clone(),
            logs: app.logs.clone(),
            _log_guard: None,
            _dir: tempfile::tempdir().expect("temp dir"),
            env: app.env.clone(),
            served: None,
            metrics_url: None,
        }
    }

    /// Another portal on the same database, key file and PeeringDB: what
    /// a second replica, or a command of the command line, would be.
    pub fn portal(&self) -> peerportal::portal::Portal {
        let config = Config::from_sources(&self.env, None, &|_| Err("no files in tests".into())).expect("test config");
        peerportal::portal::Portal::new(self.db.clone(), config).expect("portal")
    }

    /// The raw bytes of the SQLite database files (main file and WAL), or
    /// `None` on PostgreSQL.
    pub fn sqlite_file_bytes(&self) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        let mut found = false;
        for entry in std::fs::read_dir(self._dir.path()).ok()?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("peerportal.db") {
                found = true;
                bytes.extend(std::fs::read(entry.path()).unwrap_or_default());
            }
        }
        found.then_some(bytes)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a superadmin through the same code as `peerportal admin create`.
    pub async fn create_admin(&self, username: &str) -> i64 {
        create_admin(&self.db, username).await
    }

    /// Posts the login form as a plain HTML form (JavaScript off).
    pub async fn login_form(&self, username: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/login"))
            .header(ACCEPT, "text/html")
            .header(reqwest::header::REFERER, self.url("/login"))
            .form(&[("username", username), ("password", password), ("next", "")])
            .send()
            .await
            .expect("post login")
    }

    /// Posts the login as the hydrated page does (server function call).
    pub async fn login_js(&self, username: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/login"))
            .header(ACCEPT, "application/json")
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .expect("post login")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("get")
    }

    /// Presses "Login with PeeringDB" (a form POST from our own page).
    pub async fn start_peeringdb(&self, next: Option<&str>) -> reqwest::Response {
        self.start_peeringdb_in(&self.client, next).await
    }

    pub async fn start_peeringdb_in(&self, browser: &reqwest::Client, next: Option<&str>) -> reqwest::Response {
        let form: Vec<(&str, &str)> = next.map(|n| ("next", n)).into_iter().collect();
        browser.post(self.url("/auth/peeringdb/login")).form(&form).send().await.expect("start a PeeringDB login")
    }

    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        peerportal::with_db!(&self.db, p => sqlx::query_scalar::<_, i64>(&sql).fetch_one(p).await).expect("count")
    }

    /// Every row of the tables a login may touch, as text, for before/after
    /// comparisons ("a failed login writes nothing but its audit row").
    pub async fn snapshot_without_audit(&self) -> Vec<String> {
        const TABLES: &[(&str, &[&str])] = &[
            ("users", &["id", "username", "name", "email", "password_hash", "is_superadmin", "disabled", "peeringdb_id",
                        "peeringdb_login_allowed", "created_via", "created_at", "last_login_at", "last_login_via"]),
            ("customers", &["id", "name", "shortname", "type", "status", "peeringdb_login", "peeringdb_max_role", "peeringdb_require_mfa", "updated_at"]),
            ("customer_asns", &["customer_id", "asn"]),
            ("affiliations", &["user_id", "customer_id", "role", "source", "created_at", "updated_at"]),
            ("sessions", &["id_hash", "user_id", "data", "created_at", "last_seen_at", "expires_at", "user_agent", "ip"]),
            ("pending_logins", &["id", "state", "next_path", "created_at"]),
            ("peeringdb_links", &["user_id", "refresh_token", "updated_at", "last_synced_at", "stale_since", "last_error", "mfa"]),
            ("outbox", &["id", "kind", "recipient", "subject", "user_id", "sent_at"]),
            ("password_resets", &["token_hash", "user_id", "expires_at", "used_at"]),
            ("invitations", &["id", "token_hash", "customer_id", "email", "role", "accepted_at", "accepted_by", "withdrawn_at"]),
        ];
        let mut out = Vec::new();
        for (table, columns) in TABLES {
            let row = columns
                .iter()
                .map(|c| format!("COALESCE(CAST({c} AS TEXT), '-')"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let sql = format!("SELECT {row} FROM {table} ORDER BY 1");
            let rows: Vec<String> =
                peerportal::with_db!(&self.db, p => sqlx::query_scalar(&sql).fetch_all(p).await).expect("snapshot");
            out.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
        }
        out
    }

    pub async fn audit_events(&self) -> Vec<(String, String)> {
        peerportal::with_db!(&self.db, p => sqlx::query_as::<_, (String, String)>(
            "SELECT event, details FROM audit_log ORDER BY id").fetch_all(p).await).expect("audit")
    }
}

/// A superadmin with [`ADMIN_PASSWORD`], made as `peerportal admin create` makes one.
pub async fn create_admin(db: &Db, username: &str) -> i64 {
    peerportal::cli::admin_create(db, username, &format!("{username}@example.net"), None, ADMIN_PASSWORD.to_string().into())
        .await
        .expect("create admin")
}

/// The demo exchange's 65 customers, imported as the command line does.
pub async fn import_demo_customers(db: &Db) {
    peerportal::cli::customers_import(db, peerportal::startup::DEMO_CUSTOMERS, true).await.expect("import the demo customers");
}

/// The value of a cookie set by a response, if any.
pub fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// Waits (boundedly) for something the server does in the background.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{what}: not within 5 s");
}
