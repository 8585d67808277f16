use crate::helpers::{spawn, ADMIN_PASSWORD};

fn bare_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

#[tokio::test]
async fn login_post_without_origin_is_refused_and_writes_nothing() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let before = app.snapshot_without_audit().await;
    let audit_before = app.count("audit_log").await;
    let resp = bare_client()
        .post(app.url("/api/login"))
        .form(&[("username", "ops"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(app.snapshot_without_audit().await, before);
    assert_eq!(app.count("audit_log").await, audit_before);
}

#[tokio::test]
async fn login_post_from_another_origin_is_refused() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let resp = bare_client()
        .post(app.url("/api/login"))
        .header("origin", "https://evil.example")
        .form(&[("username", "ops"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(app.count("sessions").await, 0);
}

#[tokio::test]
async fn same_origin_fetch_metadata_is_accepted_without_origin() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let resp = bare_client()
        .post(app.url("/api/login"))
        .header("sec-fetch-site", "same-origin")
        .header("accept", "text/html")
        .form(&[("username", "ops"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/");
}

#[tokio::test]
async fn cross_site_logout_is_refused() {
    let app = spawn().await;
    app.create_admin("ops").await;
    app.login_form("ops", ADMIN_PASSWORD).await;
    let resp = app.client.post(app.url("/logout")).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(app.get("/").await.status(), 200);
}

#[tokio::test]
async fn server_functions_refuse_get() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let before = app.count("audit_log").await;
    let resp = app.get(&format!("/api/login?username=ops&password={}", ADMIN_PASSWORD.replace(' ', "+"))).await;
    assert_eq!(resp.status(), 405, "a state-changing server function has no GET form");
    assert_eq!(app.count("sessions").await, 0);
    assert_eq!(app.count("audit_log").await, before, "nothing was even attempted");
}

#[tokio::test]
async fn pages_carry_protective_headers() {
    let app = spawn().await;
    let resp = app.get("/login").await;
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    assert_eq!(resp.headers()["referrer-policy"], "same-origin");
}

#[tokio::test]
async fn under_https_cookies_are_secure_and_host_prefixed() {
    // The test server speaks plain HTTP, but cookies follow the public URL.
    let app = crate::helpers::spawn_with(&[
        ("PEERPORTAL_PUBLIC_URL", "https://portal.example.net"),
        ("AUTH_PEERINGDB_ENABLED", "true"),
        ("PEERINGDB_OAUTH_CLIENT_ID", "abc"),
        ("PEERINGDB_OAUTH_CLIENT_SECRET", "s"),
        ("PEERINGDB_OAUTH_URL", "https://auth.peeringdb.com"),
    ])
    .await;
    app.create_admin("ops").await;
    let resp = bare_client()
        .post(app.url("/api/login"))
        .header("origin", "https://portal.example.net")
        .header("accept", "text/html")
        .form(&[("username", "ops"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let session = crate::helpers::set_cookie(&resp, "__Host-peerportal").expect("__Host- session cookie");
    assert!(session.contains("Secure") && session.contains("HttpOnly") && session.contains("Path=/"), "{session}");
    assert!(!session.contains("Domain="), "{session}");

    let start = app.start_peeringdb_in(&crate::helpers::browser("https://portal.example.net"), None).await;
    let binding = crate::helpers::set_cookie(&start, "__Host-peerportal_pdb").expect("__Host- binding cookie");
    assert!(binding.contains("Secure") && binding.contains("HttpOnly") && binding.contains("SameSite=Lax"), "{binding}");
    assert!(start.headers()["location"].to_str().unwrap().starts_with("https://auth.peeringdb.com/oauth2/authorize/?"));
}
