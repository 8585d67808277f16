//! `/metrics`: on its own listener only, counting what the portal did by
//! the code's own words, with nothing of a request's text in it.

use crate::helpers::{spawn, TestApp};
use crate::peeringdb::spawn_pdb;

const METRICS_ON: (&str, &str) = ("PEERPORTAL_METRICS_LISTEN", "127.0.0.1:0");

async fn scrape(app: &TestApp) -> String {
    let url = app.metrics_url.as_ref().expect("metrics listener");
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    resp.text().await.unwrap()
}

/// The value of the series `line` names exactly (name and labels), if any.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_and_never_on_the_public_one() {
    let off = spawn().await;
    assert!(off.metrics_url.is_none(), "off unless PEERPORTAL_METRICS_LISTEN is set");
    let on = crate::helpers::spawn_with(&[METRICS_ON]).await;
    for app in [&off, &on] {
        let public = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(public.status(), 404);
        assert!(!public.text().await.unwrap().contains("peerportal_"));
    }
    let text = scrape(&on).await;
    assert!(text.contains("# TYPE peerportal_logins counter"), "{text}");
    assert!(text.ends_with("# EOF\n"));
    // The metrics listener serves nothing else.
    let other = reqwest::get(on.metrics_url.as_ref().unwrap().replace("/metrics", "/login")).await.unwrap();
    assert_eq!(other.status(), 404);
}

#[tokio::test]
async fn logins_are_counted_by_method_result_and_reason_with_peeringdbs_requests() {
    let t = spawn_pdb(&[METRICS_ON]).await;
    let flow = t.login_as("alice", true).await;
    assert_eq!(flow.response.status(), 302);
    // A second browser without the binding cookie replays the callback.
    let replay = crate::helpers::browser(&t.app.base).get(&flow.callback_url).send().await.unwrap();
    assert_eq!(replay.status(), 302);
    t.app.login_form("nobody", "not a password at all").await;

    let text = scrape(&t.app).await;
    let expect = [
        (r#"peerportal_logins_total{method="peeringdb",result="success"}"#, 1.0),
        (r#"peerportal_logins_total{method="peeringdb",result="refused"}"#, 1.0),
        (r#"peerportal_login_refusals_total{method="peeringdb",reason="no_binding"}"#, 1.0),
        (r#"peerportal_logins_total{method="password",result="refused"}"#, 1.0),
        (r#"peerportal_login_refusals_total{method="password",reason="unknown_user"}"#, 1.0),
        (r#"peerportal_peeringdb_request_duration_seconds_count{endpoint="token"}"#, 1.0),
        (r#"peerportal_peeringdb_request_duration_seconds_count{endpoint="profile"}"#, 1.0),
        (r#"peerportal_peeringdb_request_duration_seconds_count{endpoint="discovery"}"#, 1.0),
        (r#"peerportal_http_requests_total{route="/auth/peeringdb/callback",method="GET",status="302"}"#, 2.0),
        (r#"peerportal_sessions_active"#, 1.0),
    ];
    for (series, want) in expect {
        assert_eq!(value(&text, series), Some(want), "{series} in\n{text}");
    }
    assert_eq!(value(&text, r#"peerportal_logins_total{method="password",result="success"}"#), Some(0.0));
    assert!(value(&text, r#"peerportal_db_pool_connections{pool="postgres",state="max"}"#)
        .or(value(&text, r#"peerportal_db_pool_connections{pool="sqlite_write",state="max"}"#))
        .is_some_and(|n| n >= 1.0));
    assert!(value(&text, "peerportal_db_transaction_begin_duration_seconds_count").is_some_and(|n| n >= 1.0));
}

#[tokio::test]
async fn a_failing_peeringdb_request_is_counted_by_its_kind() {
    let t = spawn_pdb(&[METRICS_ON]).await;
    let callback = t.authorize("alice", true).await;
    t.sim.set_profile_fault(Some(peeringdb_sim::Fault::Forbidden));
    t.app.client.get(&callback).send().await.unwrap();
    let text = scrape(&t.app).await;
    assert_eq!(value(&text, r#"peerportal_peeringdb_errors_total{endpoint="profile",kind="pdb_forbidden"}"#), Some(1.0), "{text}");
    assert_eq!(value(&text, r#"peerportal_login_refusals_total{method="peeringdb",reason="pdb_forbidden"}"#), Some(1.0), "{text}");
}

#[tokio::test]
async fn routes_are_counted_by_their_template_and_no_request_text_reaches_the_metrics() {
    let t = spawn_pdb(&[METRICS_ON]).await;
    let flow = t.login_as("alice", true).await;
    let code = url::Url::parse(&flow.callback_url).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    t.app.client.get(t.app.url("/admin/customers/987654321")).send().await.unwrap();
    t.app.client.get(t.app.url("/no-such-page-xq7")).send().await.unwrap();
    let text = scrape(&t.app).await;
    assert!(text.contains(r#"route="/admin/customers/{id}""#), "{text}");
    let tokens = t.sim.issued_tokens();
    assert!(!tokens.is_empty());
    let words = [code.as_str(), "987654321", "no-such-page-xq7", "test-client-secret-value", "alice"];
    for secret in words.iter().copied().chain(tokens.iter().map(String::as_str)) {
        assert!(!text.contains(secret), "{secret} reached the metrics");
    }
}

#[tokio::test]
async fn a_resync_sweep_is_counted_by_outcome() {
    let t = spawn_pdb(&[METRICS_ON]).await;
    t.login_as("alice", true).await;
    let portal = t.app.served.clone().unwrap();
    peerportal::cli::sync(&portal, None, false).await.unwrap();
    let text = scrape(&t.app).await;
    assert_eq!(value(&text, "peerportal_resync_sweeps_total"), Some(1.0), "{text}");
    assert_eq!(value(&text, r#"peerportal_resync_users_total{outcome="synced"}"#), Some(1.0), "{text}");
    assert_eq!(value(&text, r#"peerportal_peeringdb_request_duration_seconds_count{endpoint="refresh"}"#), Some(1.0), "{text}");
    assert!(value(&text, "peerportal_resync_last_sweep_timestamp_seconds").is_some_and(|t| t > 1.7e9));
}
