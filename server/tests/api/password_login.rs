use crate::helpers::{set_cookie, spawn, ADMIN_PASSWORD};

#[tokio::test]
async fn right_password_logs_in_and_shows_the_dashboard() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let resp = app.login_form("ops", ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/");
    assert!(set_cookie(&resp, "peerportal").is_some());

    let resp = app.get("/").await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Welcome, ops"), "{html}");
    assert!(html.contains("superadmin"));

    let events = app.audit_events().await;
    let last = events.last().unwrap();
    assert_eq!(last.0, "login.success");
    assert!(last.1.contains(r#""via":"password""#));
}

#[tokio::test]
async fn login_goes_to_a_safe_next_and_ignores_an_unsafe_one() {
    let app = spawn().await;
    app.create_admin("ops").await;
    for (next, expected) in [("/account", "/account"), ("https://evil.example/", "/"), ("//evil.example", "/")] {
        let client = crate::helpers::browser(&app.base);
        let resp = client
            .post(app.url("/api/login"))
            .header("accept", "text/html")
            .form(&[("username", "ops"), ("password", ADMIN_PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["location"], expected, "next={next}");
    }
}

#[tokio::test]
async fn hydrated_login_answers_with_a_client_redirect_not_a_302() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let resp = app.login_js("ops", ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("serverfnredirect"));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let wrong = app.login_form("ops", "not the password").await;
    let unknown = app.login_form("nobody", "not the password").await;
    assert_eq!(wrong.status(), 302);
    assert_eq!(wrong.headers()["location"], "/login?error=bad_credentials");
    assert_eq!(unknown.headers()["location"], wrong.headers()["location"]);

    let wrong = app.login_js("ops", "not the password").await;
    assert_eq!(wrong.status(), 401);
    let wrong = wrong.text().await.unwrap();
    let unknown = app.login_js("nobody", "not the password").await.text().await.unwrap();
    assert_eq!(wrong, unknown);
    assert!(wrong.contains("BadCredentials"), "{wrong}");

    // The dashboard stays closed.
    assert_eq!(app.get("/").await.status(), 302);
}

#[tokio::test]
async fn failed_password_login_writes_only_its_audit_row() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let before = app.snapshot_without_audit().await;
    let audit_before = app.count("audit_log").await;
    app.login_form("ops", "not the password").await;
    app.login_form("nobody", "whatever it is").await;
    assert_eq!(app.snapshot_without_audit().await, before);
    assert_eq!(app.count("audit_log").await, audit_before + 2);
    let events = app.audit_events().await;
    let reasons: Vec<&str> = events.iter().rev().take(2).map(|(_, d)| d.as_str()).collect();
    assert!(reasons[1].contains("wrong_password") && reasons[0].contains("unknown_user"), "{reasons:?}");
}

#[tokio::test]
async fn disabled_user_cannot_log_in() {
    let app = spawn().await;
    let id = app.create_admin("ops").await;
    peerportal::with_db!(&app.db, p => sqlx::query("UPDATE users SET disabled = TRUE WHERE id = $1").bind(id).execute(p).await.map(|_| ())).unwrap();
    let resp = app.login_form("ops", ADMIN_PASSWORD).await;
    assert_eq!(resp.headers()["location"], "/login?error=disabled");
    assert_eq!(app.get("/").await.status(), 302);
    // A wrong password for a disabled account says nothing about it.
    let resp = app.login_form("ops", "not the password").await;
    assert_eq!(resp.headers()["location"], "/login?error=bad_credentials");
}

#[tokio::test]
async fn a_disabled_users_open_session_stops_working() {
    let app = spawn().await;
    let id = app.create_admin("ops").await;
    app.login_form("ops", ADMIN_PASSWORD).await;
    assert_eq!(app.get("/").await.status(), 200);
    peerportal::with_db!(&app.db, p => sqlx::query("UPDATE users SET disabled = TRUE WHERE id = $1").bind(id).execute(p).await.map(|_| ())).unwrap();
    assert_eq!(app.get("/").await.status(), 302);
    assert_eq!(app.count("sessions").await, 0, "the stale session is flushed");
}

#[tokio::test]
async fn session_id_changes_at_login() {
    let app = spawn().await;
    app.create_admin("ops").await;
    app.create_admin("noc").await;
    let first = set_cookie(&app.login_form("ops", ADMIN_PASSWORD).await, "peerportal").unwrap();
    let second = set_cookie(&app.login_form("noc", ADMIN_PASSWORD).await, "peerportal").unwrap();
    assert_ne!(first, second, "a login must never keep the session id it came with");

    // The first id is dead: a browser that still holds it is anonymous.
    let old_id = first.split(';').next().unwrap();
    let stale = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = stale.get(app.url("/")).header("cookie", old_id).send().await.unwrap();
    assert_eq!(resp.status(), 302);
}

#[tokio::test]
async fn a_planted_session_id_is_not_adopted() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let planted = "peerportal=AAAAAAAAAAAAAAAAAAAAAA";
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = client
        .post(app.url("/api/login"))
        .header("accept", "text/html")
        .header("origin", &app.base)
        .header("cookie", planted)
        .form(&[("username", "ops"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let issued = set_cookie(&resp, "peerportal").unwrap();
    assert!(!issued.starts_with(planted));
}

#[tokio::test]
async fn session_cookie_is_httponly_and_lax() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let cookie = set_cookie(&app.login_form("ops", ADMIN_PASSWORD).await, "peerportal").unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn().await;
    app.create_admin("ops").await;
    app.login_form("ops", ADMIN_PASSWORD).await;
    assert_eq!(app.count("sessions").await, 1);
    let resp = app.client.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/login");
    assert_eq!(app.get("/").await.status(), 302);
    assert_eq!(app.count("sessions").await, 0);
}

#[tokio::test]
async fn repeated_failures_are_throttled_even_with_the_right_password() {
    let app = spawn().await;
    app.create_admin("ops").await;
    for _ in 0..5 {
        assert_eq!(app.login_form("ops", "wrong password").await.headers()["location"], "/login?error=bad_credentials");
    }
    let resp = app.login_form("ops", ADMIN_PASSWORD).await;
    assert_eq!(resp.headers()["location"], "/login?error=throttled");
    assert_eq!(app.get("/").await.status(), 302);
    let body = app.login_js("ops", ADMIN_PASSWORD).await.text().await.unwrap();
    assert!(body.contains("Throttled"), "{body}");
}
