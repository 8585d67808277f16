//! Several `peerportal` processes on one database (docs/design.md: nothing the
//! flow needs lives in one process). Real processes of the real binary,
//! with the PeeringDB simulator in the test; loopback only.

use std::process::Stdio;
use std::time::Duration;

use peeringdb_sim::Simulator;
use reqwest::header::ACCEPT;

use crate::helpers::{browser, fresh_database_url};

const CLIENT_ID: &str = "replica-client";
const CLIENT_SECRET: &str = "replica-client-secret";

struct Replica {
    base: String,
    child: std::process::Child,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Cluster {
    a: Replica,
    b: Replica,
    sim: Simulator,
    sim_base: String,
    db: peerportal::store::Db,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts one replica; `public` is the address the load balancer would have.
async fn replica(db_url: &str, public: &str, port: u16, sim_base: &str) -> Replica {
    replica_with(db_url, public, port, sim_base, &[]).await
}

/// A replica with more environment (`extra`).
async fn replica_with(db_url: &str, public: &str, port: u16, sim_base: &str, extra: &[(&str, &str)]) -> Replica {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_peerportal"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PEERPORTAL_LISTEN", format!("127.0.0.1:{port}"))
        .env("PEERPORTAL_PUBLIC_URL", public)
        .env("PEERPORTAL_DATABASE_URL", db_url)
        .env("AUTH_PEERINGDB_ENABLED", "true")
        .env("PEERINGDB_OAUTH_CLIENT_ID", CLIENT_ID)
        .env("PEERINGDB_OAUTH_CLIENT_SECRET", CLIENT_SECRET)
        .env("PEERINGDB_OAUTH_URL", sim_base)
        .env("RUST_LOG", "warn")
        .env("PEERPORTAL_REQUIRE_2FA", "off")
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start peerportal");
    let base = format!("http://127.0.0.1:{port}");
    let replica = Replica { base: base.clone(), child };
    let probe = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = probe.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return replica;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("replica on {base} did not come up");
}

async fn cluster() -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database_url(&dir).await;
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_base = format!("http://{}", sim_listener.local_addr().unwrap());
    let (pa, pb) = (free_port(), free_port());
    let public = format!("http://127.0.0.1:{pa}");
    let sim = Simulator::new(peeringdb_sim::Client {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uris: vec![format!("{public}/auth/peeringdb/callback")],
    });
    let router = sim.router();
    tokio::spawn(async move { axum::serve(sim_listener, router).await });
    // One at a time: the first applies the migrations.
    let a = replica(&db_url, &public, pa, &sim_base).await;
    let b = replica(&db_url, &public, pb, &sim_base).await;
    let db = peerportal::store::Db::connect(&db_url).await.unwrap();
    crate::helpers::import_demo_customers(&db).await;
    Cluster { a, b, sim, sim_base, db, _dir: dir }
}

impl Cluster {
    /// Starts at `start`, approves as `user` at the simulator, and returns
    /// the callback URL PeeringDB redirects to.
    async fn authorize(&self, client: &reqwest::Client, start: &Replica, user: &str) -> url::Url {
        let resp = client.post(format!("{}/auth/peeringdb/login", start.base)).form(&[("next", "")]).send().await.unwrap();
        assert_eq!(resp.status(), 302);
        let authorize = resp.headers()["location"].to_str().unwrap().to_string();
        assert!(authorize.starts_with(&self.sim_base));
        let url = url::Url::parse(&authorize).unwrap();
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        form.push(("user".into(), user.into()));
        form.push(("decision".into(), "allow".into()));
        let sim = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let decided = sim.post(authorize.split('?').next().unwrap()).form(&form).send().await.unwrap();
        assert_eq!(decided.status(), 302);
        url::Url::parse(decided.headers()["location"].to_str().unwrap()).unwrap()
    }
}

/// The load balancer sent this request to `replica`.
fn via(mut url: url::Url, replica: &Replica) -> String {
    let port = replica.base.rsplit(':').next().unwrap().parse().unwrap();
    url.set_port(Some(port)).unwrap();
    url.to_string()
}

/// What `/proc/<pid>/status` says of the process's transparent huge pages.
fn thp_enabled(replica: &Replica) -> String {
    let status = std::fs::read_to_string(format!("/proc/{}/status", replica.child.id())).unwrap();
    status.lines().find_map(|l| l.strip_prefix("THP_enabled:")).map(|v| v.trim().to_string()).expect("THP_enabled in /proc/<pid>/status")
}

/// Huge pages made the allocator's memory count 2 MiB at a time (the RSS
/// budget of docs/design.md): the binary turns them off for itself before
/// its first allocation, unless the operator set mimalloc's own option.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_binary_turns_transparent_huge_pages_off_unless_the_operator_chose() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database_url(&dir).await;
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let default = replica(&db_url, &public, port, "http://127.0.0.1:9").await;
    assert_eq!(thp_enabled(&default), "0");
    drop(default);
    let chosen = replica_with(&db_url, &public, port, "http://127.0.0.1:9", &[("MIMALLOC_ALLOW_THP", "1")]).await;
    assert_eq!(thp_enabled(&chosen), "1", "MIMALLOC_ALLOW_THP=1 is the operator's choice");
}

#[tokio::test]
async fn a_peeringdb_login_started_on_one_replica_finishes_on_the_other() {
    let c = cluster().await;
    // Cookies are per host, not per port: one browser for both replicas.
    let client = browser(&c.a.base);
    let callback = c.authorize(&client, &c.a, "alice").await;
    let done = client.get(via(callback, &c.b)).send().await.unwrap();
    assert_eq!(done.status(), 302);
    assert_eq!(done.headers()["location"], "/choose", "the pending login, made by A, was found by B");
    assert_eq!(c.sim.calls(), (1, 1));

    // The session B started is good on A, and the choice made on A holds on B.
    let picker = client.get(format!("{}/choose", c.a.base)).send().await.unwrap();
    assert_eq!(picker.status(), 200);
    assert!(picker.text().await.unwrap().contains("Beta Net"));
    let alpha = peerportal::store::customers::id_by_shortname(&c.db, "alpha").await.unwrap().unwrap();
    let chose = client
        .post(format!("{}/api/choose_customer", c.a.base))
        .header(ACCEPT, "application/json")
        .form(&[("customer_id", alpha.to_string())])
        .send()
        .await
        .unwrap();
    assert!(chose.status().is_success() || chose.status().is_redirection(), "{}", chose.status());
    let dashboard = client.get(format!("{}/", c.b.base)).send().await.unwrap().text().await.unwrap();
    assert!(dashboard.contains(r#"<h2 id="current">Alpha Net</h2>"#), "B shows the customer chosen on A");
}

#[tokio::test]
async fn failed_password_logins_are_counted_across_replicas() {
    let c = cluster().await;
    crate::helpers::create_admin(&c.db, "ops").await;
    let client = browser(&c.a.base);
    let attempt = |replica: &Replica, password: &str| {
        client
            .post(format!("{}/api/login", replica.base))
            .header(ACCEPT, "application/json")
            .form(&[("username", "ops"), ("password", password)])
            .send()
    };
    for i in 0..5 {
        let r = attempt(if i % 2 == 0 { &c.a } else { &c.b }, "wrong password").await.unwrap();
        assert_eq!(r.status(), 401);
    }
    // Three failures on A and two on B make five: both replicas now refuse.
    assert_eq!(attempt(&c.b, crate::helpers::ADMIN_PASSWORD).await.unwrap().status(), 429);
    assert_eq!(attempt(&c.a, crate::helpers::ADMIN_PASSWORD).await.unwrap().status(), 429);
}

#[tokio::test]
async fn the_same_person_logging_in_on_both_replicas_at_once_gets_one_account() {
    let c = cluster().await;
    const LOGINS: usize = 8;
    let mut flows = Vec::new();
    for i in 0..LOGINS {
        // Each login in its own browser, started and finished on alternating replicas.
        let client = browser(&c.a.base);
        let (start, finish) = if i % 2 == 0 { (&c.a, &c.b) } else { (&c.b, &c.a) };
        let callback = c.authorize(&client, start, "alice").await;
        flows.push((client, via(callback, finish)));
    }
    // Every callback at once.
    let tasks: Vec<_> = flows
        .into_iter()
        .map(|(client, url)| {
            tokio::spawn(async move {
                let r = client.get(url).send().await.unwrap();
                (r.status().as_u16(), r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default())
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(statuses.iter().all(|(s, l)| *s == 302 && l == "/choose"), "every login lands: {statuses:?}");
    let db = &c.db;
    assert_eq!(count(db, "SELECT COUNT(*) FROM users WHERE peeringdb_id = 1001").await, 1, "one account");
    assert_eq!(count(db, "SELECT COUNT(*) FROM affiliations").await, 2, "Alpha and Beta, once each");
    assert_eq!(count(db, "SELECT COUNT(*) FROM audit_log WHERE event = 'user.created'").await, 1);
    assert_eq!(count(db, "SELECT COUNT(*) FROM audit_log WHERE event = 'grant.added'").await, 2);
    assert_eq!(count(db, "SELECT COUNT(*) FROM audit_log WHERE event = 'login.success'").await, LOGINS as i64);
}

async fn count(db: &peerportal::store::Db, sql: &str) -> i64 {
    peerportal::with_db!(db, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await).unwrap()
}

#[tokio::test]
async fn a_manual_grant_racing_peeringdb_logins_is_neither_lost_nor_doubled() {
    let c = cluster().await;
    // Alice exists, with Alpha (admin) and Beta (member) from PeeringDB.
    let first = browser(&c.a.base);
    let callback = c.authorize(&first, &c.a, "alice").await;
    assert_eq!(first.get(via(callback, &c.a)).send().await.unwrap().status(), 302);
    let alice = peerportal::store::users::by_username(&c.db, "alice.anders").await.unwrap().unwrap().id;

    crate::helpers::create_admin(&c.db, "ops").await;
    // The Origin a browser sends is the public (load balancer) address.
    let ops = browser(&c.a.base);
    let r = ops
        .post(format!("{}/api/login", c.b.base))
        .header(ACCEPT, "application/json")
        .form(&[("username", "ops"), ("password", crate::helpers::ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    let mut flows = Vec::new();
    for i in 0..6 {
        let client = browser(&c.a.base);
        let replica = if i % 2 == 0 { &c.a } else { &c.b };
        let callback = c.authorize(&client, replica, "alice").await;
        flows.push((client, via(callback, replica)));
    }
    let mut tasks: Vec<tokio::task::JoinHandle<u16>> = flows
        .into_iter()
        .map(|(client, url)| tokio::spawn(async move { client.get(url).send().await.unwrap().status().as_u16() }))
        .collect();
    // Meanwhile an admin on B makes Beta a manual grant: admin, then member.
    let (ops, url) = (ops.clone(), format!("{}/api/admin/grant", c.b.base));
    tasks.push(tokio::spawn(async move {
        let mut last = 0;
        for role in ["admin", "member"] {
            let form = [("user_id", alice.to_string()), ("customer", "beta".to_string()), ("role", role.to_string())];
            last = ops.post(&url).header(ACCEPT, "application/json").form(&form).send().await.unwrap().status().as_u16();
            assert_eq!(last, 200, "grant {role}");
        }
        last
    }));
    for t in tasks {
        let status = t.await.unwrap();
        assert!(status == 200 || status == 302, "{status}");
    }
    let rows: Vec<(String, String, String)> = peerportal::with_db!(&c.db, p => sqlx::query_as(
        "SELECT c.shortname, a.role, a.source FROM affiliations a JOIN customers c ON c.id = a.customer_id ORDER BY c.shortname")
        .fetch_all(p).await).unwrap();
    assert_eq!(
        rows,
        [("alpha".into(), "admin".into(), "peeringdb".into()), ("beta".into(), "member".into(), "manual".into())],
        "one row per customer; the manual grant survives every login"
    );
}
