//! Nobody can jam the door: the client behind a trusted proxy, throttles
//! that cannot be turned into a lockout, bounded work per request, and a
//! PeeringDB login that only our own page can start.

use reqwest::header::ACCEPT;

use crate::helpers::{browser, spawn, spawn_with, TestApp, ADMIN_PASSWORD};
use crate::peeringdb::spawn_pdb;

/// A password login posted as a browser without JavaScript would, from
/// `client` (sent as `X-Forwarded-For`, which only a trusted proxy may set).
async fn login_from(app: &TestApp, client: Option<&str>, username: &str, password: &str) -> reqwest::Response {
    let mut req = browser(&app.base).post(app.url("/api/login")).header(ACCEPT, "application/json");
    if let Some(ip) = client {
        req = req.header("x-forwarded-for", ip);
    }
    req.form(&[("username", username), ("password", password)]).send().await.expect("post login")
}

async fn throttle_rows(app: &TestApp) -> i64 {
    app.count("login_throttle").await
}

async fn refusals(app: &TestApp, reason: &str) -> usize {
    app.audit_events().await.iter().filter(|(e, d)| e == "login.refused" && d.contains(&format!("\"reason\":\"{reason}\""))).count()
}

#[tokio::test]
async fn failed_logins_through_the_proxy_do_not_lock_out_another_client() {
    let app = spawn_with(&[("PEERPORTAL_TRUSTED_PROXIES", "127.0.0.1, ::1")]).await;
    app.create_admin("ops").await;
    // One attacker behind the proxy: the operator's account six times, then
    // thirty more accounts, until the address itself is refused.
    for _ in 0..6 {
        login_from(&app, Some("198.51.100.7"), "ops", "wrong password").await;
    }
    assert_eq!(login_from(&app, Some("198.51.100.7"), "ops", ADMIN_PASSWORD).await.status(), 429, "that client is throttled");
    for i in 0..30 {
        login_from(&app, Some("198.51.100.7"), &format!("user{i}"), "wrong password").await;
    }
    assert_eq!(login_from(&app, Some("198.51.100.7"), "someone", "wrong password").await.status(), 429);

    // The operator, behind the same proxy, from another address.
    let resp = login_from(&app, Some("192.0.2.1"), "ops", ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let (event, _) = app.audit_events().await.pop().unwrap();
    assert_eq!(event, "login.success");
    let ip: Option<String> = peerportal::with_db!(&app.db, p => sqlx::query_scalar("SELECT ip FROM audit_log ORDER BY id DESC LIMIT 1").fetch_one(p).await).unwrap();
    assert_eq!(ip.as_deref(), Some("192.0.2.1"), "the audit log names the client, not the proxy");
}

#[tokio::test]
async fn a_right_password_starts_its_address_over() {
    let app = spawn().await;
    app.create_admin("ops").await;
    // Three typos and the right password, twice: without starting over the
    // second round would reach the limit of five per username and address.
    for _ in 0..2 {
        for _ in 0..3 {
            assert_eq!(login_from(&app, None, "ops", "wrong password").await.status(), 401);
        }
        assert_eq!(login_from(&app, None, "ops", ADMIN_PASSWORD).await.status(), 200);
    }
}

#[tokio::test]
async fn a_forwarded_address_from_an_untrusted_peer_is_ignored() {
    let app = spawn().await;
    app.create_admin("ops").await;
    // Each guess claims a fresh address; without trusted proxies they are
    // all the TCP peer's.
    for i in 0..5 {
        login_from(&app, Some(&format!("203.0.113.{i}")), "ops", "wrong password").await;
    }
    assert_eq!(login_from(&app, Some("203.0.113.99"), "ops", ADMIN_PASSWORD).await.status(), 429);
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_no_more_checks_than_the_limit() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (client, url) = (browser(&app.base), app.url("/api/login"));
        burst.spawn(async move {
            let form = [("username", "ops"), ("password", "wrong password")];
            client.post(url).header(ACCEPT, "application/json").form(&form).send().await.unwrap().status().as_u16()
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = burst.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses.sort_unstable();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    assert_eq!(refusals(&app, "wrong_password").await, 5, "five passwords were checked");
    assert_eq!(refusals(&app, "throttled").await, 1, "one audit row when the limit was reached, the rest only counted");
}

#[tokio::test]
async fn a_username_guessed_from_many_addresses_only_waits_and_the_right_password_gets_in() {
    let app = spawn_with(&[("PEERPORTAL_TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.create_admin("ops").await;
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..7 {
        let (client, url) = (browser(&app.base), app.url("/api/login"));
        burst.spawn(async move {
            let form = [("username", "ops"), ("password", "wrong password")];
            let req = client.post(url).header(ACCEPT, "application/json").header("x-forwarded-for", format!("198.51.100.{i}"));
            req.form(&form).send().await.unwrap().status().as_u16()
        });
    }
    while let Some(status) = burst.join_next().await {
        assert_eq!(status.unwrap(), 401, "no address reached its own limit: every guess is checked");
    }
    let started = std::time::Instant::now();
    let resp = login_from(&app, Some("192.0.2.1"), "ops", ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), 200, "a delay, never a lock");
    // The eighth attempt on the username waits (domain::throttle::username_delay).
    assert!(started.elapsed() >= domain::throttle::username_delay(8), "{:?}", started.elapsed());
}

#[tokio::test]
async fn overlong_usernames_and_passwords_are_refused_before_anything_is_written() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let audit_before = app.audit_events().await.len();
    let long_name = "a".repeat(65);
    let long_password = "p".repeat(1025);
    for (username, password) in [(long_name.as_str(), ADMIN_PASSWORD), ("ops", long_password.as_str())] {
        let resp = login_from(&app, None, username, password).await;
        assert_eq!(resp.status(), 422);
    }
    assert_eq!(app.audit_events().await.len(), audit_before, "no audit row");
    assert_eq!(throttle_rows(&app).await, 0, "no throttle row");
}

#[tokio::test]
async fn the_current_password_check_of_a_password_change_goes_through_the_same_throttle() {
    let app = spawn().await;
    app.create_admin("ops").await;
    assert_eq!(app.login_form("ops", ADMIN_PASSWORD).await.status(), 302);
    let change = |current: &'static str| {
        let form = [("current", current), ("new", "a brand new password"), ("again", "a brand new password")];
        app.client.post(app.url("/api/account/password")).header(ACCEPT, "application/json").form(&form).send()
    };
    for _ in 0..5 {
        assert_eq!(change("wrong password").await.unwrap().status(), 422);
    }
    let resp = change(ADMIN_PASSWORD).await.unwrap();
    assert_eq!(resp.status(), 429, "{}", resp.text().await.unwrap());
    assert!(resp.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn request_bodies_are_bounded_per_route() {
    let app = spawn_with(&[("PEERPORTAL_IMPORT_MAX_BYTES", "100000")]).await;
    app.create_admin("ops").await;
    let audit_before = app.audit_events().await.len();
    let big = "x".repeat(65 * 1024);
    let resp = login_from(&app, None, "ops", &big).await;
    assert_eq!(resp.status(), 413, "a server function takes at most 64 KiB");
    assert_eq!(app.audit_events().await.len(), audit_before);

    let ops = crate::console::logged_in(&app, "ops").await;
    let csv = format!("name,shortname,asns\n{}", "Big Co,big,13335\n".repeat(4_000));
    assert!(csv.len() > 64 * 1024 && csv.len() < 100_000);
    let resp = crate::console::call(&ops, &app, "admin/import_customers", &crate::console::f(&[("csv", &csv)])).await;
    assert_ne!(resp.status(), 413, "the import has its own, larger limit");
    let too_big = format!("name,shortname,asns\n{}", "Big Co,big,13335\n".repeat(7_000));
    let resp = crate::console::call(&ops, &app, "admin/import_customers", &crate::console::f(&[("csv", &too_big)])).await;
    assert_eq!(resp.status(), 413);

    // A pasted IX-F export, to its page and to its server function, has the import's limit.
    let padded = |n: usize| format!("{{\"version\":\"1.0\",\"pad\":\"{}\"}}", "x".repeat(n));
    for path in ["/admin/customers/import-ixf", "/api/admin/import_ixf"] {
        let send = |json: String| ops.post(app.url(path)).header(reqwest::header::REFERER, app.url("/admin/customers/import-ixf")).form(&[("json", json)]).send();
        assert_ne!(send(padded(80_000)).await.unwrap().status(), 413, "{path} takes an export over 64 KiB");
        assert_eq!(send(padded(120_000)).await.unwrap().status(), 413, "{path} stops at PEERPORTAL_IMPORT_MAX_BYTES");
    }
}

#[tokio::test]
async fn a_cross_site_link_cannot_start_a_peeringdb_login() {
    let t = spawn_pdb(&[]).await;
    // A link (GET) lands on the login page and stores nothing.
    let resp = t.app.get("/auth/peeringdb/login?next=/account").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/login");
    // A form on another site (POST with its Origin) is refused.
    let foreign = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = foreign.post(t.app.url("/auth/peeringdb/login")).header("origin", "https://evil.example").form(&[("next", "")]).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let resp = foreign.post(t.app.url("/auth/peeringdb/login")).form(&[("next", "")]).send().await.unwrap();
    assert_eq!(resp.status(), 403, "no Origin and no Sec-Fetch-Site: refused too");
    assert_eq!(t.app.count("pending_logins").await, 0);
    assert_eq!(t.sim.calls(), (0, 0));
    // Our own page's button works.
    let resp = t.app.start_peeringdb(Some("/account")).await;
    assert_eq!(resp.status(), 302);
    assert_eq!(t.app.count("pending_logins").await, 1);
}

#[tokio::test]
async fn one_address_cannot_pile_up_pending_peeringdb_logins() {
    let t = spawn_pdb(&[]).await;
    let max = peerportal::portal::peeringdb::MAX_PENDING_PER_ADDRESS;
    for _ in 0..max {
        assert_eq!(t.app.start_peeringdb(None).await.status(), 302);
    }
    let resp = t.app.start_peeringdb(None).await;
    assert_eq!(resp.headers()["location"], "/login?error=throttled");
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(t.app.count("pending_logins").await, max);
}

#[tokio::test]
async fn a_callback_without_the_binding_cookie_writes_no_audit_row() {
    let t = spawn_pdb(&[]).await;
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let before = t.app.audit_events().await.len();
    for _ in 0..3 {
        let resp = bare.get(t.app.url("/auth/peeringdb/callback?code=x&state=y")).send().await.unwrap();
        assert_eq!(resp.headers()["location"], "/login?error=pdb_state");
    }
    assert_eq!(t.app.audit_events().await.len(), before);
}

#[tokio::test]
async fn without_the_simulator_its_path_has_no_csrf_exemption() {
    let app = spawn().await;
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = bare.post(app.url("/peeringdb-sim/oauth2/token/")).form(&[("grant_type", "x")]).send().await.unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn audit_rows_keep_at_most_a_capped_text_of_anything() {
    let app = spawn().await;
    let entry = peerportal::store::audit::AuditEntry {
        actor: domain::Actor::Anonymous,
        event: domain::AuditEvent::LoginRefused,
        user_id: None,
        customer_id: None,
        details: serde_json::json!({ "username": "u".repeat(100_000) }),
        ip: None,
    };
    peerportal::store::audit::write_alone(&app.db, &entry).await.unwrap();
    let (_, details) = app.audit_events().await.pop().unwrap();
    assert!(details.len() < 1_000, "{} bytes kept", details.len());
}

#[tokio::test]
async fn pages_send_a_csp_whose_nonce_is_the_one_on_their_inline_script() {
    let t = spawn_pdb(&[]).await;
    for path in ["/login", "/no-such-page"] {
        let resp = t.app.get(path).await;
        let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_string();
        let html = resp.text().await.unwrap();
        let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap_or_else(|| panic!("{path}: no nonce in {csp}"));
        assert!(nonce.len() >= 16, "{nonce}");
        assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{path}: the inline script carries the header's nonce");
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'") && csp.contains("base-uri 'none'"), "{csp}");
        let sim_origin = url::Url::parse(&t.sim_base().await).unwrap().origin().ascii_serialization();
        assert!(csp.contains(&format!("form-action 'self' {sim_origin};")), "PeeringDB may receive the login form's redirect: {csp}");
    }
    let again = t.app.get("/login").await.headers()["content-security-policy"].to_str().unwrap().to_string();
    let first = t.app.get("/login").await.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert_ne!(again, first, "a fresh nonce per response");
}

#[tokio::test]
async fn signed_in_pages_and_server_function_answers_are_never_stored() {
    let app = spawn_with(&[("PEERPORTAL_PUBLIC_URL", "https://portal.example.net")]).await;
    let plain = spawn().await;
    plain.create_admin("ops").await;
    assert_eq!(plain.login_form("ops", ADMIN_PASSWORD).await.status(), 302);
    let page = plain.get("/").await;
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["cross-origin-opener-policy"], "same-origin");
    assert!(page.headers().get("strict-transport-security").is_none(), "no HSTS over plain http");
    let api = plain.client.post(plain.url("/api/me")).header(ACCEPT, "application/json").send().await.unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
    assert!(api.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'self'"));
    let under_https = app.get("/login").await;
    assert_eq!(under_https.headers()["strict-transport-security"], "max-age=31536000");
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused_too() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: {}\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = "a".repeat(16 * 1024);
    for _ in 0..5 {
        let piece = format!("{:x}\r\n{chunk}\r\n", chunk.len());
        if stream.write_all(piece.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{}", answer.lines().next().unwrap_or(""));
}
