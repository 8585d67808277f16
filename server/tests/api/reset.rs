//! Password reset by mail: a single-use link that expires, the same answer
//! whether or not an account exists, throttled, and the account's sessions
//! ended when it is used.

use serde_json::Value;

use crate::console::{call, f, local_user, logged_in, ok_json};
use crate::helpers::{browser, spawn_with, TestApp};
use crate::mailsink::MailSink;

async fn with_mail(sink: &MailSink) -> TestApp {
    let settings = sink.settings();
    let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_with(&env).await
}

async fn forgot(app: &TestApp, who: &str) -> reqwest::Response {
    call(&browser(&app.base), app, "login/forgot", &f(&[("who", who)])).await
}

/// The token of a reset link in a mail.
fn token_of(app: &TestApp, text: &str) -> String {
    let link = text.split_whitespace().find(|w| w.starts_with(&app.url("/reset/"))).expect("a reset link in the mail");
    link.rsplit('/').next().unwrap().to_string()
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    call(&browser(&app.base), app, "login/reset", &f(&[("token", token), ("new", password), ("again", password)])).await
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_session_of_the_account() {
    let sink = MailSink::start();
    let app = with_mail(&sink).await;
    local_user(&app, "ann", false).await;
    let laptop = logged_in(&app, "ann").await;

    assert_eq!(forgot(&app, "ann").await.status(), 200);
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.rcpt_tos, ["ann@example.net"]);
    assert_eq!(mail.subject, "Reset your password");
    let token = token_of(&app, &mail.text);
    assert!(mail.html.contains(&format!("/reset/{token}\"")), "{}", mail.html);

    // Looking at the link (a mail scanner does) spends nothing.
    let page = app.get(&format!("/reset/{token}")).await.text().await.unwrap();
    assert!(page.contains("id=\"reset-username\">ann<"), "{page}");
    let looked = ok_json(&browser(&app.base), &app, "login/reset_link", &f(&[("token", &token)])).await;
    assert_eq!(looked, Value::from("ann"));

    // Only the hash is stored.
    let stored: Vec<String> = peerportal::with_db!(&app.db, p => sqlx::query_scalar("SELECT token_hash FROM password_resets").fetch_all(p).await).unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);

    let done = reset(&app, &token, "a brand new password").await;
    assert!(done.status().is_success(), "{}", done.status());
    assert_eq!(laptop.get(app.url("/account")).send().await.unwrap().status(), 302, "the laptop's session ended");
    let fresh = browser(&app.base);
    let login = fresh.post(app.url("/api/login")).form(&[("username", "ann"), ("password", "a brand new password")]).send().await.unwrap();
    assert!(login.status().is_success(), "{}", login.status());

    // Once only.
    let again = reset(&app, &token, "yet another password").await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("expired or was used already"));
    assert_eq!(ok_json(&browser(&app.base), &app, "login/reset_link", &f(&[("token", &token)])).await, Value::Null);
    let events: Vec<String> = app.audit_events().await.into_iter().map(|(e, _)| e).collect();
    assert!(events.contains(&"account.reset_requested".to_string()) && events.contains(&"account.password_reset".to_string()), "{events:?}");
}

#[tokio::test]
async fn an_expired_link_changes_nothing() {
    let sink = MailSink::start();
    let app = with_mail(&sink).await;
    local_user(&app, "ann", false).await;
    forgot(&app, "ann@EXAMPLE.net").await;
    let token = token_of(&app, &sink.wait_for(1).await[0].text);
    let past = peerportal::store::now() - time::Duration::minutes(1);
    peerportal::with_db!(&app.db, p => sqlx::query("UPDATE password_resets SET expires_at = $1").bind(past).execute(p).await.map(|r| r.rows_affected())).unwrap();
    let before = app.snapshot_without_audit().await;
    assert_eq!(reset(&app, &token, "a brand new password").await.status(), 409);
    assert_eq!(app.snapshot_without_audit().await, before);
    let page = app.get(&format!("/reset/{token}")).await.text().await.unwrap();
    assert!(page.contains("id=\"reset-dead\""), "{page}");
}

#[tokio::test]
async fn the_answer_is_the_same_whether_or_not_the_account_exists() {
    let sink = MailSink::start();
    let app = with_mail(&sink).await;
    local_user(&app, "ann", false).await;
    let known = forgot(&app, "ann").await;
    let unknown = forgot(&app, "nobody@nowhere.example").await;
    assert_eq!((known.status().as_u16(), unknown.status().as_u16()), (200, 200));
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(app.count("outbox").await, 1, "a mail only for the account that exists");
}

#[tokio::test]
async fn an_account_without_a_password_is_told_to_use_peeringdb() {
    let sink = MailSink::start();
    let app = with_mail(&sink).await;
    let id = local_user(&app, "pdbonly", false).await;
    peerportal::with_db!(&app.db, p => sqlx::query("UPDATE users SET password_hash = NULL WHERE id = $1").bind(id).execute(p).await.map(|r| r.rows_affected())).unwrap();
    assert_eq!(forgot(&app, "pdbonly").await.status(), 200);
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.subject, "Your account logs in with PeeringDB");
    assert!(mail.text.contains("Login with PeeringDB"), "{}", mail.text);
    assert!(!mail.text.contains("/reset/"), "no link: there is no password to reset");
    assert_eq!(app.count("password_resets").await, 0);
}

#[tokio::test]
async fn requests_are_throttled_per_account_silently_and_per_address_openly() {
    let sink = MailSink::start();
    let app = with_mail(&sink).await;
    local_user(&app, "ann", false).await;
    for _ in 0..domain::mail::RESETS_PER_ACCOUNT + 2 {
        assert_eq!(forgot(&app, "ann").await.status(), 200, "the same answer past the account's limit");
    }
    assert_eq!(app.count("outbox").await, domain::mail::RESETS_PER_ACCOUNT, "no more mails than the account's hourly limit");
    for _ in domain::mail::RESETS_PER_ACCOUNT + 2..domain::mail::RESETS_PER_ADDRESS {
        forgot(&app, "someone").await;
    }
    let over = forgot(&app, "ann").await;
    assert_eq!(over.status(), 429);
    assert!(over.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn without_mail_the_reset_says_whom_to_ask() {
    let app = spawn_with(&[]).await;
    local_user(&app, "ann", false).await;
    let resp = forgot(&app, "ann").await;
    assert_eq!(resp.status(), 409);
    assert!(resp.text().await.unwrap().contains("ask its support team"));
    let login = app.get("/login").await.text().await.unwrap();
    assert!(!login.contains("/login/forgot"), "no reset link on the login page without mail");
}
