use crate::helpers::spawn;

#[tokio::test]
async fn healthz_reports_the_database_reachable() {
    let app = spawn().await;
    let resp = app.get("/healthz").await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(body["database"], "ok");
    // The suite runs twice in `make test`; this says which database it ran on.
    let expected = if std::env::var("PEERPORTAL_TEST_POSTGRES").is_ok_and(|v| !v.is_empty()) { "postgres" } else { "sqlite" };
    assert_eq!(body["backend"], expected);
}

#[tokio::test]
async fn login_page_renders_the_password_form_on_the_server() {
    let app = spawn().await;
    let resp = app.get("/login").await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"<form"#) && html.contains(r#"action="/api/login""#), "no form in {html}");
    assert!(html.contains(r#"name="username""#) && html.contains(r#"name="password""#));
    assert!(html.contains(r#"<label for="username""#), "inputs must be labelled");
    // PeeringDB login is off by default: no button.
    assert!(!html.contains("Login with PeeringDB"));
}

#[tokio::test]
async fn the_login_form_carries_next_in_the_html_for_browsers_without_javascript() {
    let app = spawn().await;
    let html = app.get("/login?next=/account").await.text().await.unwrap();
    assert!(html.contains(r#"name="next" value="/account""#), "the hidden next field must have its value in the HTML: {html}");
    let html = app.get("/login?next=https://evil.example").await.text().await.unwrap();
    assert!(!html.contains("evil.example"), "an unsafe next is dropped, not rendered");
}

#[tokio::test]
async fn peeringdb_button_shows_only_when_enabled() {
    let app = crate::helpers::spawn_with(&[
        ("AUTH_PEERINGDB_ENABLED", "true"),
        ("PEERINGDB_OAUTH_CLIENT_ID", "abc"),
        ("PEERINGDB_OAUTH_CLIENT_SECRET", "s3cret-value"),
    ])
    .await;
    let html = app.get("/login").await.text().await.unwrap();
    assert!(html.contains("Login with PeeringDB"));
    assert!(html.contains(r#"<form method="post" action="/auth/peeringdb/login""#), "a POST, never a link");
    assert!(!html.contains("s3cret-value"), "the client secret must never reach a page");
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_login() {
    let app = spawn().await;
    let resp = app.get("/").await;
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/login");
    let resp = app.get("/account?tab=x").await;
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/login?next=%2Faccount%3Ftab%3Dx");
}
