//! Bounded sessions: an absolute lifetime and an idle timeout, ids stored
//! hashed, no write on a page load that changed nothing, and a person's
//! own list of sessions with "End". Time is moved by rewriting the stored
//! times, never by sleeping.

use reqwest::header::USER_AGENT;
use time::{Duration, OffsetDateTime};

use crate::console::{call, f, local_user, ok_json};
use crate::helpers::{set_cookie, TestApp, ADMIN_PASSWORD};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// A browser that says it is `user_agent`, signed in as `username`.
async fn signed_in_as(app: &TestApp, username: &str, user_agent: &str) -> (reqwest::Client, String) {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, app.base.parse().unwrap());
    headers.insert(USER_AGENT, user_agent.parse().unwrap());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
    let resp = client
        .post(app.url("/api/login"))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[("username", username), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let header = set_cookie(&resp, "peerportal").expect("a session cookie");
    let cookie = header.trim_start_matches("peerportal=").split(';').next().unwrap().to_string();
    (client, cookie)
}

async fn has_session(app: &TestApp, client: &reqwest::Client) -> bool {
    client.get(app.url("/account")).send().await.unwrap().status() == 200
}

/// Moves a session's start and last sighting into the past, as if that much
/// time had passed.
async fn shift(app: &TestApp, id_hash: &str, started_ago: Duration, seen_ago: Duration) {
    let now = OffsetDateTime::now_utc();
    let sql = "UPDATE sessions SET created_at = $1, last_seen_at = $2 WHERE id_hash = $3";
    peerportal::with_db!(&app.db, p => sqlx::query(sql).bind(now - started_ago).bind(now - seen_ago).bind(id_hash).execute(p).await.map(|r| r.rows_affected())).unwrap();
}

async fn stored(app: &TestApp, column: &str, id_hash: &str) -> String {
    let sql = format!("SELECT CAST({column} AS TEXT) FROM sessions WHERE id_hash = $1");
    peerportal::with_db!(&app.db, p => sqlx::query_scalar(&sql).bind(id_hash).fetch_one(p).await).unwrap()
}

fn hash(cookie: &str) -> String {
    peerportal::store::sessions::id_hash(cookie)
}

#[tokio::test]
async fn a_session_in_use_still_ends_at_its_max_age() {
    let app = crate::helpers::spawn().await;
    local_user(&app, "mona", false).await;
    let (browser, cookie) = signed_in_as(&app, "mona", FIREFOX).await;
    shift(&app, &hash(&cookie), Duration::hours(11) + Duration::minutes(59), Duration::seconds(5)).await;
    assert!(has_session(&app, &browser).await, "just under 12 hours: still valid");
    shift(&app, &hash(&cookie), Duration::hours(12), Duration::seconds(5)).await;
    assert!(!has_session(&app, &browser).await, "12 hours after sign-in it ends, however busy");
    assert_eq!(app.count("sessions").await, 0, "and is deleted");
}

#[tokio::test]
async fn a_session_left_idle_ends_after_the_idle_timeout_and_the_settings_are_honoured() {
    let app = crate::helpers::spawn_with(&[("PEERPORTAL_SESSION_IDLE", "30m")]).await;
    local_user(&app, "mona", false).await;
    let (browser, cookie) = signed_in_as(&app, "mona", FIREFOX).await;
    shift(&app, &hash(&cookie), Duration::minutes(40), Duration::minutes(29)).await;
    assert!(has_session(&app, &browser).await);
    // That page load was seen: the idle clock starts again from now.
    shift(&app, &hash(&cookie), Duration::minutes(70), Duration::minutes(30)).await;
    assert!(!has_session(&app, &browser).await, "30 minutes idle ends it");
}

#[tokio::test]
async fn a_page_load_that_changes_nothing_writes_nothing_and_last_seen_moves_once_a_minute() {
    let app = crate::helpers::spawn().await;
    local_user(&app, "mona", false).await;
    let (browser, cookie) = signed_in_as(&app, "mona", FIREFOX).await;
    let key = hash(&cookie);
    // A marker only the store's save would overwrite (it copies the user agent out of the record).
    peerportal::with_db!(&app.db, p => sqlx::query("UPDATE sessions SET user_agent = 'marker' WHERE id_hash = $1").bind(&key).execute(p).await.map(|r| r.rows_affected())).unwrap();
    let seen = stored(&app, "last_seen_at", &key).await;
    for path in ["/", "/account", "/"] {
        browser.get(app.url(path)).send().await.unwrap();
    }
    assert_eq!(stored(&app, "user_agent", &key).await, "marker", "no page load re-saved the session");
    assert_eq!(stored(&app, "last_seen_at", &key).await, seen, "seen less than a minute ago: not written");
    shift(&app, &key, Duration::minutes(5), Duration::minutes(2)).await;
    let before = stored(&app, "last_seen_at", &key).await;
    browser.get(app.url("/account")).send().await.unwrap();
    assert_ne!(stored(&app, "last_seen_at", &key).await, before, "a minute later the sighting is written");
}

#[tokio::test]
async fn session_ids_are_stored_hashed() {
    let app = crate::helpers::spawn().await;
    local_user(&app, "mona", false).await;
    let (_, cookie) = signed_in_as(&app, "mona", FIREFOX).await;
    let rows = app.snapshot_without_audit().await.join("\n");
    assert!(!rows.contains(&cookie), "the cookie's value is nowhere in the database");
    assert!(rows.contains(&hash(&cookie)));
}

#[tokio::test]
async fn the_account_page_lists_sessions_and_ends_another_one() {
    let app = crate::helpers::spawn().await;
    local_user(&app, "mona", false).await;
    let (laptop, laptop_cookie) = signed_in_as(&app, "mona", FIREFOX).await;
    let (phone, _) = signed_in_as(&app, "mona", "Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36").await;
    let account = ok_json(&laptop, &app, "account", &[]).await;
    let sessions = account["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    let this = sessions.iter().find(|s| s["current"] == true).expect("this browser is marked");
    assert_eq!(this["browser"], "Firefox on Linux");
    assert_eq!(this["ip"], "127.0.0.1");
    assert_eq!(this["handle"], hash(&laptop_cookie).as_str(), "the handle is the stored hash, never the id");
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["browser"], "Chrome on Android");

    let mine = call(&laptop, &app, "account/end_session", &f(&[("handle", this["handle"].as_str().unwrap())])).await;
    assert_eq!(mine.status(), 409, "this browser's own session ends with Log out");
    ok_json(&laptop, &app, "account/end_session", &f(&[("handle", other["handle"].as_str().unwrap())])).await;
    assert!(!has_session(&app, &phone).await, "the phone is logged out");
    assert!(has_session(&app, &laptop).await, "the laptop is not");
    let (events, _): (Vec<String>, Vec<String>) = app.audit_events().await.into_iter().unzip();
    assert_eq!(events.last().map(String::as_str), Some("account.session_ended"));

    // Someone else's session cannot be named.
    local_user(&app, "otto", false).await;
    let (otto, otto_cookie) = signed_in_as(&app, "otto", FIREFOX).await;
    let theirs = call(&laptop, &app, "account/end_session", &f(&[("handle", &hash(&otto_cookie))])).await;
    assert_eq!(theirs.status(), 404);
    assert!(has_session(&app, &otto).await);
}

#[tokio::test]
async fn anonymous_pages_set_no_cookie_and_write_no_session() {
    let app = crate::helpers::spawn().await;
    let before = app.snapshot_without_audit().await;
    for path in ["/login", "/login/forgot", "/reset/nosuch", "/invitation/nosuch", "/healthz"] {
        let resp = app.get(path).await;
        assert!(resp.headers().get(reqwest::header::SET_COOKIE).is_none(), "{path} set a cookie");
        let _ = resp.text().await;
    }
    assert_eq!(app.count("sessions").await, 0);
    assert_eq!(app.snapshot_without_audit().await, before, "an anonymous page writes nothing");
}
