//! Two-factor authentication for password accounts: enrolment with a QR
//! code made on the server, the second step of a password login, recovery
//! codes, the throttle, the policy that sends a superadmin to set it up
//! first, and the operator's reset.

use reqwest::header::ACCEPT;
use serde_json::Value;

use crate::console::{call, f, local_user, logged_in, ok_json};
use crate::helpers::{browser, spawn_with, TestApp, ADMIN_PASSWORD};

/// The code an authenticator app shows for `secret` at time step `step`.
fn code_at(secret: &str, step: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).with_account_name("test").build().unwrap();
    totp.generate(step * 30).to_string()
}

fn step_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 30
}

/// Sets up two-factor for a signed-in `client`; returns the secret and
/// the recovery codes.
async fn enrol(app: &TestApp, client: &reqwest::Client) -> (String, Vec<String>) {
    ok_json(client, app, "account/2fa/start", &[]).await;
    let state = ok_json(client, app, "account/2fa", &[]).await;
    let secret = state["enrolment"]["secret"].as_str().unwrap().to_string();
    ok_json(client, app, "account/2fa/confirm", &f(&[("code", &code_at(&secret, step_now()))])).await;
    let state = ok_json(client, app, "account/2fa", &[]).await;
    let codes: Vec<String> = serde_json::from_value(state["new_recovery_codes"].clone()).unwrap();
    (secret, codes)
}

/// A password login from a fresh browser as a plain form: where it lands.
async fn password_step(app: &TestApp, username: &str) -> (reqwest::Client, String) {
    let client = browser(&app.base);
    let resp = client
        .post(app.url("/api/login"))
        .header(ACCEPT, "text/html")
        .form(&[("username", username), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    (client, to)
}

async fn second_step(app: &TestApp, client: &reqwest::Client, code: &str) -> reqwest::Response {
    client.post(app.url("/api/login/second_factor")).header(ACCEPT, "application/json").form(&[("code", code)]).send().await.unwrap()
}

async fn me(app: &TestApp, client: &reqwest::Client) -> Value {
    let resp = client.post(app.url("/api/me")).header(ACCEPT, "application/json").send().await.unwrap();
    resp.json().await.unwrap()
}

#[tokio::test]
async fn enrolment_shows_a_qr_code_and_the_secret_and_is_confirmed_with_a_code() {
    let app = spawn_with(&[]).await;
    local_user(&app, "noc", false).await;
    let client = logged_in(&app, "noc").await;
    ok_json(&client, &app, "account/2fa/start", &[]).await;
    let state = ok_json(&client, &app, "account/2fa", &[]).await;
    assert_eq!(state["enabled"], false);
    let secret = state["enrolment"]["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let uri = state["enrolment"]["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/PeerPortal:noc?") && uri.contains(&format!("secret={secret}")) && uri.contains("issuer=PeerPortal"), "{uri}");
    // The page, rendered on the server, works without JavaScript.
    let page = client.get(app.url("/account/2fa")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<svg") && page.contains(&secret), "the QR code and the key are on the page");
    // At rest the secret is sealed.
    let stored: String = peerportal::with_db!(&app.db, p => sqlx::query_scalar("SELECT secret FROM user_totp").fetch_one(p).await).unwrap();
    assert!(!stored.contains(&secret) && stored.starts_with("v1."), "{stored}");
    // A wrong code leaves it off.
    let wrong = call(&client, &app, "account/2fa/confirm", &f(&[("code", "000000")])).await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(ok_json(&client, &app, "account/2fa", &[]).await["enabled"], false);
    ok_json(&client, &app, "account/2fa/confirm", &f(&[("code", &code_at(&secret, step_now()))])).await;
    let state = ok_json(&client, &app, "account/2fa", &[]).await;
    assert_eq!((state["enabled"].as_bool(), state["recovery_left"].as_i64()), (Some(true), Some(10)));
    let codes = state["new_recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    assert!(state["enrolment"].is_null(), "the secret is not shown once it is on");
    let again = ok_json(&client, &app, "account/2fa", &[]).await;
    assert!(again["new_recovery_codes"].as_array().unwrap().is_empty(), "recovery codes are shown once");
    let stored: Vec<String> = peerportal::with_db!(&app.db, p => sqlx::query_scalar("SELECT code_hash FROM recovery_codes").fetch_all(p).await).unwrap();
    let first = codes[0].as_str().unwrap().replace('-', "");
    assert!(stored.iter().all(|h| h.len() == 64 && !h.contains(&first)), "recovery codes are stored hashed");
    assert!(app.audit_events().await.iter().any(|(e, _)| e == "2fa.enabled"));
}

#[tokio::test]
async fn a_password_login_with_two_factor_needs_a_code_and_no_code_works_twice() {
    let app = spawn_with(&[]).await;
    local_user(&app, "noc", false).await;
    let (secret, _) = enrol(&app, &logged_in(&app, "noc").await).await;
    let (client, to) = password_step(&app, "noc").await;
    assert_eq!(to, "/login/2fa");
    assert!(me(&app, &client).await.is_null(), "not signed in before the code");
    let page = client.get(app.url("/login/2fa")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"autocomplete="one-time-code""#), "{page}");
    // The step enrolment used is spent: the next step's code works once.
    let next = code_at(&secret, step_now() + 1);
    assert_eq!(second_step(&app, &client, &next).await.status(), 200);
    assert_eq!(me(&app, &client).await["username"], "noc");
    let (client, _) = password_step(&app, "noc").await;
    let replay = second_step(&app, &client, &next).await;
    assert_eq!(replay.status(), 401, "a used code cannot be replayed within its window");
    assert!(me(&app, &client).await.is_null());
    let (_, details) = app.audit_events().await.into_iter().rev().find(|(e, _)| e == "login.refused").unwrap();
    assert!(details.contains("wrong_code"), "{details}");
    let success = app.audit_events().await.into_iter().rev().find(|(e, _)| e == "login.success").unwrap().1;
    assert!(success.contains(r#""second_factor":"totp""#), "{success}");
}

#[tokio::test]
async fn a_plain_form_with_a_wrong_code_lands_back_on_the_code_page_with_the_reason() {
    let app = spawn_with(&[]).await;
    local_user(&app, "noc", false).await;
    enrol(&app, &logged_in(&app, "noc").await).await;
    let (client, _) = password_step(&app, "noc").await;
    let resp = client.post(app.url("/api/login/second_factor")).header(ACCEPT, "text/html").form(&[("code", "000000")]).send().await.unwrap();
    assert_eq!(resp.headers()["location"], "/login/2fa?error=wrong_code");
    let page = client.get(app.url("/login/2fa?error=wrong_code")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("That code is not right"), "{page}");
    // No password was given in this browser: the code alone is nothing.
    let stranger = browser(&app.base);
    let resp = stranger.post(app.url("/api/login/second_factor")).header(ACCEPT, "text/html").form(&[("code", "123456")]).send().await.unwrap();
    assert_eq!(resp.headers()["location"], "/login?error=session_ended");
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = spawn_with(&[]).await;
    local_user(&app, "noc", false).await;
    let (_, codes) = enrol(&app, &logged_in(&app, "noc").await).await;
    let (client, _) = password_step(&app, "noc").await;
    assert_eq!(second_step(&app, &client, &codes[3].to_uppercase()).await.status(), 200, "case does not matter");
    assert_eq!(me(&app, &client).await["username"], "noc");
    assert!(app.audit_events().await.iter().any(|(e, d)| e == "2fa.recovery_used" && d.contains(r#""recovery_codes_left":9"#)));
    let (client, _) = password_step(&app, "noc").await;
    assert_eq!(second_step(&app, &client, &codes[3]).await.status(), 401, "used once");
    assert_eq!(ok_json(&logged_in_with_code(&app, &codes[4]).await, &app, "account/2fa", &[]).await["recovery_left"], 8);
}

async fn logged_in_with_code(app: &TestApp, code: &str) -> reqwest::Client {
    let (client, _) = password_step(app, "noc").await;
    assert_eq!(second_step(app, &client, code).await.status(), 200);
    client
}

#[tokio::test]
async fn code_attempts_go_through_the_login_throttle() {
    let app = spawn_with(&[]).await;
    local_user(&app, "noc", false).await;
    let (secret, _) = enrol(&app, &logged_in(&app, "noc").await).await;
    let (client, _) = password_step(&app, "noc").await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(second_step(&app, &client, "000000").await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429], "five tries per username and address, as for passwords");
    assert_eq!(second_step(&app, &client, &code_at(&secret, step_now() + 1)).await.status(), 429, "even the right code waits");
}

#[tokio::test]
async fn a_superadmin_without_two_factor_must_set_it_up_before_anything_else() {
    let app = spawn_with(&[("PEERPORTAL_REQUIRE_2FA", "superadmins")]).await;
    local_user(&app, "ops", true).await;
    let client = logged_in(&app, "ops").await;
    let page = client.get(app.url("/admin/customers")).send().await.unwrap();
    assert_eq!((page.status().as_u16(), page.headers()["location"].to_str().unwrap()), (302, "/account/2fa"));
    let refused = call(&client, &app, "admin/customers", &f(&[("q", ""), ("page", "0")])).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("TwoFactorRequired"));
    assert_eq!(me(&app, &client).await["must_set_up_2fa"], true);
    let page = client.get(app.url("/account/2fa")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("requires two-factor authentication for your account"), "{page}");
    enrol(&app, &client).await;
    assert_eq!(client.get(app.url("/admin/customers")).send().await.unwrap().status(), 200);
    ok_json(&client, &app, "admin/customers", &f(&[("q", ""), ("page", "0")])).await;
    // A member is not held up by the `superadmins` policy.
    local_user(&app, "member", false).await;
    assert_eq!(logged_in(&app, "member").await.get(app.url("/account")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn switching_two_factor_off_needs_the_password_and_a_code() {
    let app = spawn_with(&[]).await;
    local_user(&app, "noc", false).await;
    let client = logged_in(&app, "noc").await;
    let (secret, _) = enrol(&app, &client).await;
    let code = code_at(&secret, step_now() + 1);
    let wrong_password = call(&client, &app, "account/2fa/disable", &f(&[("password", "nope"), ("code", &code)])).await;
    assert_eq!(wrong_password.status(), 422);
    let wrong_code = call(&client, &app, "account/2fa/disable", &f(&[("password", ADMIN_PASSWORD), ("code", "000000")])).await;
    assert_eq!(wrong_code.status(), 401);
    assert_eq!(ok_json(&client, &app, "account/2fa", &[]).await["enabled"], true);
    ok_json(&client, &app, "account/2fa/disable", &f(&[("password", ADMIN_PASSWORD), ("code", &code)])).await;
    assert_eq!(ok_json(&client, &app, "account/2fa", &[]).await["enabled"], false);
    assert_eq!(app.count("recovery_codes").await, 0);
    assert!(app.audit_events().await.iter().any(|(e, _)| e == "2fa.disabled"));
    let (_, to) = password_step(&app, "noc").await;
    assert_eq!(to, "/", "a password alone again");
}

#[tokio::test]
async fn the_operator_resets_a_lost_second_factor_from_the_command_line() {
    let app = spawn_with(&[]).await;
    let noc = local_user(&app, "noc", false).await;
    local_user(&app, "ops", true).await;
    let ops = logged_in(&app, "ops").await;
    let client = logged_in(&app, "noc").await;
    enrol(&app, &client).await;
    let detail = |ops: reqwest::Client| {
        let app = &app;
        async move { ok_json(&ops, app, "admin/user", &f(&[("id", &noc.to_string())])).await["two_factor"].clone() }
    };
    assert_eq!(detail(ops.clone()).await, true, "the operator sees who has two-factor on");
    let said = peerportal::cli::reset_two_factor(&app.portal(), "noc").await.unwrap();
    assert!(said.contains("removed"), "{said}");
    assert_eq!((app.count("user_totp").await, app.count("recovery_codes").await), (0, 0));
    assert!(me(&app, &client).await.is_null(), "their sessions ended");
    assert!(app.audit_events().await.iter().any(|(e, d)| e == "2fa.reset" && d.contains("had_two_factor\":true")));
    assert_eq!(detail(ops).await, false);
    let (_, to) = password_step(&app, "noc").await;
    assert_eq!(to, "/");
    assert!(peerportal::cli::reset_two_factor(&app.portal(), "nobody").await.is_err());
}

#[tokio::test]
async fn a_superadmin_resets_a_lost_second_factor_in_the_console() {
    let app = spawn_with(&[]).await;
    let noc = local_user(&app, "noc", false).await;
    let ops_id = local_user(&app, "ops", true).await;
    let ops = logged_in(&app, "ops").await;
    let client = logged_in(&app, "noc").await;
    enrol(&app, &client).await;
    let page = ops.get(app.url(&format!("/admin/users/{noc}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Reset two-factor"), "{page}");
    let unticked = call(&ops, &app, "admin/reset_2fa", &f(&[("user_id", &noc.to_string())])).await;
    assert_eq!(unticked.status(), 422);
    assert_eq!(app.count("user_totp").await, 1, "nothing changed");
    let own = call(&ops, &app, "admin/reset_2fa", &f(&[("user_id", &ops_id.to_string()), ("confirm", "on")])).await;
    assert_eq!(own.status(), 409);
    ok_json(&ops, &app, "admin/reset_2fa", &f(&[("user_id", &noc.to_string()), ("confirm", "on")])).await;
    assert_eq!((app.count("user_totp").await, app.count("recovery_codes").await), (0, 0));
    assert!(me(&app, &client).await.is_null(), "their sessions ended");
    let (_, details) = app.audit_events().await.into_iter().rev().find(|(e, _)| e == "2fa.reset").unwrap();
    assert!(details.contains(r#""by":"superadmin""#), "{details}");
}

#[tokio::test]
async fn keys_rotate_reseals_two_factor_secrets_and_codes_still_work() {
    let app = spawn_with(&[]).await;
    local_user(&app, "noc", false).await;
    let (secret, _) = enrol(&app, &logged_in(&app, "noc").await).await;
    let before: String = peerportal::with_db!(&app.db, p => sqlx::query_scalar("SELECT secret FROM user_totp").fetch_one(p).await).unwrap();
    let keys = peerportal::keys::Keyring::load_or_create(&app._dir.path().join("secret.key")).unwrap();
    let rotated = peerportal::cli::keys_rotate(&app.db, &keys).await.unwrap();
    assert_eq!((rotated.resealed, rotated.unreadable.len()), (1, 0));
    let after: String = peerportal::with_db!(&app.db, p => sqlx::query_scalar("SELECT secret FROM user_totp").fetch_one(p).await).unwrap();
    assert_eq!(peerportal::keys::Keyring::key_of(&after), Some(rotated.key_id.as_str()));
    assert_ne!(after, before);
    let (client, _) = password_step(&app, "noc").await;
    assert_eq!(second_step(&app, &client, &code_at(&secret, step_now() + 1)).await.status(), 200);
}
