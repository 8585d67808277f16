//! How fast the console's list pages answer on a big exchange: 10 000
//! customers, 2 000 users, 50 000 audit rows, on SQLite. Each page is asked
//! for both ways a browser asks: the server function (hydrated navigation)
//! and the whole server-rendered page (first load). Loopback only, a fixed
//! number of requests. Prints a Markdown table for BENCHMARKS.md.
//!
//! `cargo bench -p peerportal --bench console_lists`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use domain::customer::{validate_customer, CustomerFields};
use domain::{Actor, AuditEvent, CreatedVia, Role};
use peerportal::config::Config;
use peerportal::startup::Application;
use peerportal::store::audit::{self, AuditEntry};
use peerportal::store::customers::{self, PeeringDbRules};
use peerportal::store::users::{self, NewUser};
use peerportal::store::{grants, Db};

const CUSTOMERS: usize = 10_000;
const USERS: usize = 2_000;
const AUDIT_ROWS: usize = 50_000;
const ROUNDS: usize = 40;
/// Requests per cell before timing: the first ones prepare statements and warm SQLite's page cache.
const WARMUP: usize = 3;
const PASSWORD: &str = "bench password 123";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let env: BTreeMap<String, String> = [
        ("PEERPORTAL_LISTEN", listener.local_addr().expect("addr").to_string()),
        ("PEERPORTAL_PUBLIC_URL", base.clone()),
        ("PEERPORTAL_DATABASE_URL", format!("sqlite://{}/bench.db", dir.path().display())),
        // The measured superadmin signs in with a password alone.
        ("PEERPORTAL_REQUIRE_2FA", "off".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let config = Config::from_sources(&env, None, &|_| Err("no files".into())).expect("config");
    let app = Application::build_on(config, listener).await.expect("build");
    let db = app.db().clone();

    let seeding = Instant::now();
    seed(&db).await;
    eprintln!("seeded {CUSTOMERS} customers, {USERS} users, {AUDIT_ROWS} audit rows in {:.1?}", seeding.elapsed());
    tokio::spawn(app.run_until_stopped(std::future::pending()));

    let client = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let login = client
        .post(format!("{base}/api/login"))
        .header("origin", &base)
        .header("accept", "application/json")
        .form(&[("username", "ops"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert!(login.status().is_success(), "login: {}", login.status());

    let cases = [
        Case { label: "customers, first page", endpoint: "admin/customers", form: &[("q", ""), ("page", "0")], page: "/admin/customers" },
        Case { label: "customers, page 150 of 200", endpoint: "admin/customers", form: &[("q", ""), ("page", "150")], page: "/admin/customers?page=150" },
        Case { label: "customers, search by name", endpoint: "admin/customers", form: &[("q", "net 42"), ("page", "0")], page: "/admin/customers?q=net%2042" },
        Case { label: "customers, search by ASN", endpoint: "admin/customers", form: &[("q", "AS204242"), ("page", "0")], page: "/admin/customers?q=AS204242" },
        Case { label: "users, first page", endpoint: "admin/users", form: &[("q", ""), ("page", "0")], page: "/admin/users" },
        Case { label: "users, search", endpoint: "admin/users", form: &[("q", "user17"), ("page", "0")], page: "/admin/users?q=user17" },
        Case { label: "audit, first page", endpoint: "admin/audit", form: &[("user", ""), ("customer", ""), ("event", ""), ("from", ""), ("to", ""), ("page", "0")], page: "/admin/audit" },
        Case { label: "audit, page 900 of 1000", endpoint: "admin/audit", form: &[("user", ""), ("customer", ""), ("event", ""), ("from", ""), ("to", ""), ("page", "900")], page: "/admin/audit?page=900" },
        Case { label: "audit, by event prefix", endpoint: "admin/audit", form: &[("user", ""), ("customer", ""), ("event", "grant."), ("from", ""), ("to", ""), ("page", "0")], page: "/admin/audit?event=grant." },
        Case { label: "audit, by user", endpoint: "admin/audit", form: &[("user", "user17"), ("customer", ""), ("event", ""), ("from", ""), ("to", ""), ("page", "0")], page: "/admin/audit?user=user17" },
        Case { label: "audit, by customer", endpoint: "admin/audit", form: &[("user", ""), ("customer", "c4242"), ("event", ""), ("from", ""), ("to", ""), ("page", "0")], page: "/admin/audit?customer=c4242" },
    ];

    println!("| list | server function p50 / p99 / max (ms) | whole SSR page p50 / p99 / max (ms) |");
    println!("|---|---|---|");
    let mut worst = Duration::ZERO;
    for Case { label, endpoint, form, page } in cases {
        let mut fn_times = Vec::with_capacity(ROUNDS);
        let mut page_times = Vec::with_capacity(ROUNDS);
        for round in 0..WARMUP + ROUNDS {
            let t = Instant::now();
            let r = client
                .post(format!("{base}/api/{endpoint}"))
                .header("origin", &base)
                .header("accept", "application/json")
                .form(form)
                .send()
                .await
                .expect("call");
            assert!(r.status().is_success(), "{label}: {}", r.status());
            r.bytes().await.expect("body");
            if round >= WARMUP {
                fn_times.push(t.elapsed());
            }

            let t = Instant::now();
            let r = client.get(format!("{base}{page}")).send().await.expect("page");
            assert_eq!(r.status(), 200, "{label}");
            r.bytes().await.expect("body");
            if round >= WARMUP {
                page_times.push(t.elapsed());
            }
        }
        let (f, p) = (stats(&mut fn_times), stats(&mut page_times));
        worst = worst.max(f.1).max(p.1);
        println!("| {label} | {} | {} |", fmt(f), fmt(p));
    }
    println!();
    println!("Worst p99: {:.1} ms (budget 50 ms). {ROUNDS} requests per cell after {WARMUP} untimed, one at a time, loopback.", worst.as_secs_f64() * 1e3);
}

/// One list, asked for as a server function and as a whole page.
struct Case {
    label: &'static str,
    endpoint: &'static str,
    form: &'static [(&'static str, &'static str)],
    page: &'static str,
}

fn stats(times: &mut [Duration]) -> (Duration, Duration, Duration) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99), times[times.len() - 1])
}

fn fmt((p50, p99, max): (Duration, Duration, Duration)) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!("{:.2} / {:.2} / {:.2}", ms(p50), ms(p99), ms(max))
}

async fn seed(db: &Db) {
    let mut tx = db.begin().await.expect("tx");
    for i in 0..CUSTOMERS {
        let (name, shortname) = (format!("Net {i} Networks"), format!("c{i}"));
        // Public 32-bit ASNs, one or two per customer.
        let asns = if i % 3 == 0 { format!("{} {}", 200_000 + i, 300_000 + i) } else { format!("{}", 200_000 + i) };
        let fields = CustomerFields {
            name: &name,
            shortname: &shortname,
            asns: &asns,
            kind: if i % 10 == 0 { "associate" } else { "full" },
            status: "active",
            peeringdb_login: i % 20 != 0,
            allow_reserved: false,
        };
        let customer = validate_customer(&fields).expect("valid customer");
        customers::save(&mut tx, None, &customer, PeeringDbRules::Keep).await.expect("customer");
    }
    tx.commit().await.expect("commit");

    let hash = peerportal::password::hash(PASSWORD.to_string().into()).await.expect("hash");
    let mut tx = db.begin().await.expect("tx");
    let ops = NewUser {
        username: "ops",
        name: "Ops",
        email: "ops@example.net",
        password_hash: Some(&hash),
        is_superadmin: true,
        peeringdb_id: None,
        created_via: CreatedVia::Cli,
    };
    users::insert(&mut tx, &ops).await.expect("ops");
    let mut people = Vec::new();
    for i in 0..USERS {
        let (username, email) = (format!("user{i}"), format!("user{i}@example.net"));
        let u = NewUser {
            username: &username,
            name: &username,
            email: &email,
            password_hash: None,
            is_superadmin: false,
            peeringdb_id: None,
            created_via: CreatedVia::Peeringdb,
        };
        let id = users::insert(&mut tx, &u).await.expect("user");
        for k in 0..(1 + i % 3) {
            let customer = 1 + ((i * 7 + k * 1_301) % CUSTOMERS) as i64;
            grants::grant_manual(&mut tx, id, customer, Role::Member).await.expect("grant");
        }
        people.push(id);
    }
    tx.commit().await.expect("commit");

    let events = [AuditEvent::LoginSuccess, AuditEvent::LoginRefused, AuditEvent::GrantAdded, AuditEvent::GrantRemoved, AuditEvent::Logout, AuditEvent::CustomerUpdated];
    let mut tx = db.begin().await.expect("tx");
    for i in 0..AUDIT_ROWS {
        let entry = AuditEntry {
            actor: Actor::Peeringdb,
            event: events[i % events.len()],
            user_id: Some(people[i % people.len()]),
            customer_id: Some(1 + (i % CUSTOMERS) as i64),
            details: serde_json::json!({ "via": "peeringdb", "n": i }),
            ip: Some("192.0.2.1"),
        };
        audit::write(&mut tx, &entry).await.expect("audit");
    }
    tx.commit().await.expect("commit");
}
