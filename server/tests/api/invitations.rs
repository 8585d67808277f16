//! A customer's admins manage their people: invitations by mail (accepted
//! with a password, with the account one is signed in to, or with
//! PeeringDB), removal, and the customer's own PeeringDB settings.

use app::Role;

use crate::console::{call, customer_id, f, grant, local_user, logged_in, ok_json};
use crate::helpers::{browser, TestApp};
use crate::mailsink::{MailSink, Received};
use crate::peeringdb::{spawn_pdb, PdbApp};

/// An exchange with mail and PeeringDB, and "cadmin", admin of Alpha.
async fn exchange(sink: &MailSink) -> (PdbApp, reqwest::Client) {
    let settings = sink.settings();
    let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let t = spawn_pdb(&env).await;
    let cadmin = local_user(&t.app, "cadmin", false).await;
    grant(&t.app, cadmin, "alpha", Role::Admin).await;
    let client = logged_in(&t.app, "cadmin").await;
    (t, client)
}

async fn invite(app: &TestApp, client: &reqwest::Client, email: &str, role: &str) -> reqwest::Response {
    let alpha = customer_id(app, "alpha").await;
    call(client, app, "customer/invite", &f(&[("customer_id", &alpha.to_string()), ("email", email), ("role", role)])).await
}

fn token_of(app: &TestApp, mail: &Received) -> String {
    let link = mail.link(&app.url("/invitation/")).expect("an invitation link in the mail");
    link.rsplit('/').next().unwrap().to_string()
}

async fn join(app: &TestApp, browser: &reqwest::Client, token: &str, username: &str) -> reqwest::Response {
    let form = f(&[("token", token), ("username", username), ("name", "Nina New"), ("password", "a long new password"), ("again", "a long new password")]);
    call(browser, app, "invitation/join", &form).await
}

async fn roles(app: &TestApp, username: &str) -> Vec<(String, String, String)> {
    crate::peeringdb::roles_of(app, username).await
}

#[tokio::test]
async fn an_invited_person_makes_a_password_account_and_lands_on_the_customer() {
    let sink = MailSink::start();
    let (t, cadmin) = exchange(&sink).await;
    assert!(invite(&t.app, &cadmin, "nina@new.example", "member").await.status().is_success());
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.rcpt_tos, ["nina@new.example"]);
    assert_eq!(mail.subject, "Invitation to Alpha Net");
    assert!(mail.text.contains("cadmin invites you to Alpha Net at Example IX portal, as member."), "{}", mail.text);
    let token = token_of(&t.app, &mail);

    let page = t.app.get(&format!("/invitation/{token}")).await.text().await.unwrap();
    assert!(page.contains("id=\"invitation-join\"") && page.contains("id=\"invitation-peeringdb\""), "{page}");
    let nina = browser(&t.app.base);
    let joined = join(&t.app, &nina, &token, "nina").await;
    assert!(joined.status().is_success() || joined.status().is_redirection(), "{}", joined.status());
    assert_eq!(roles(&t.app, "nina").await, [("alpha".to_string(), "member".to_string(), "manual".to_string())]);
    let me = ok_json(&nina, &t.app, "me", &[]).await;
    assert_eq!(me["email"], "nina@new.example");
    assert_eq!(me["current_customer"], customer_id(&t.app, "alpha").await, "signed in, with the customer chosen");

    // The customer's admins see why Nina has access.
    let alpha = customer_id(&t.app, "alpha").await;
    let access = ok_json(&cadmin, &t.app, "customer/access", &f(&[("customer_id", &alpha.to_string())])).await;
    let entry = access["entries"].as_array().unwrap().iter().find(|e| e["username"] == "nina").unwrap().clone();
    assert_eq!(entry["why"], "Invited by cadmin");

    // Once only.
    let again = join(&t.app, &browser(&t.app.base), &token, "nina2").await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("used already"));
    let events: Vec<String> = t.app.audit_events().await.into_iter().map(|(e, _)| e).collect();
    for event in ["invitation.sent", "user.created", "invitation.accepted", "grant.added"] {
        assert!(events.contains(&event.to_string()), "{event} in {events:?}");
    }
}

#[tokio::test]
async fn an_expired_invitation_makes_nothing() {
    let sink = MailSink::start();
    let (t, cadmin) = exchange(&sink).await;
    invite(&t.app, &cadmin, "nina@new.example", "member").await;
    let token = token_of(&t.app, &sink.wait_for(1).await[0]);
    let past = peerportal::store::now() - time::Duration::minutes(1);
    peerportal::with_db!(&t.app.db, p => sqlx::query("UPDATE invitations SET expires_at = $1").bind(past).execute(p).await.map(|r| r.rows_affected())).unwrap();
    let before = t.app.snapshot_without_audit().await;
    let refused = join(&t.app, &browser(&t.app.base), &token, "nina").await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("expired"));
    assert_eq!(t.app.snapshot_without_audit().await, before);
}

#[tokio::test]
async fn nobody_invites_above_their_own_role_and_members_invite_nobody() {
    let sink = MailSink::start();
    let (t, _) = exchange(&sink).await;
    let member = local_user(&t.app, "mia", false).await;
    grant(&t.app, member, "alpha", Role::Member).await;
    let mia = logged_in(&t.app, "mia").await;
    let before = t.app.snapshot_without_audit().await;
    let above = invite(&t.app, &mia, "x@new.example", "admin").await;
    assert_eq!(above.status(), 422);
    assert!(above.text().await.unwrap().contains("as member at most"));
    assert_eq!(invite(&t.app, &mia, "x@new.example", "member").await.status(), 403);
    assert_eq!(t.app.snapshot_without_audit().await, before);
}

#[tokio::test]
async fn an_invitation_is_accepted_only_by_an_account_with_the_invited_address() {
    let sink = MailSink::start();
    let (t, cadmin) = exchange(&sink).await;
    local_user(&t.app, "bob", false).await; // bob@example.net
    local_user(&t.app, "ann", false).await; // ann@example.net
    invite(&t.app, &cadmin, "ANN@example.net", "admin").await;
    let token = token_of(&t.app, &sink.wait_for(1).await[0]);

    let bob = logged_in(&t.app, "bob").await;
    let page = bob.get(t.app.url(&format!("/invitation/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"invitation-refused\"") && page.contains("another email address"), "{page}");
    let wrong = call(&bob, &t.app, "invitation/accept", &f(&[("token", &token)])).await;
    assert_eq!(wrong.status(), 409);
    assert!(roles(&t.app, "bob").await.is_empty());

    let ann = logged_in(&t.app, "ann").await;
    let ok = call(&ann, &t.app, "invitation/accept", &f(&[("token", &token)])).await;
    assert!(ok.status().is_success() || ok.status().is_redirection(), "{}", ok.status());
    assert_eq!(roles(&t.app, "ann").await, [("alpha".to_string(), "admin".to_string(), "manual".to_string())]);
}

#[tokio::test]
async fn a_withdrawn_invitation_no_longer_works() {
    let sink = MailSink::start();
    let (t, cadmin) = exchange(&sink).await;
    invite(&t.app, &cadmin, "nina@new.example", "member").await;
    let token = token_of(&t.app, &sink.wait_for(1).await[0]);
    let alpha = customer_id(&t.app, "alpha").await;
    let access = ok_json(&cadmin, &t.app, "customer/access", &f(&[("customer_id", &alpha.to_string())])).await;
    let id = access["invitations"][0]["id"].as_i64().unwrap();
    assert_eq!(access["invitations"][0]["email"], "nina@new.example");
    ok_json(&cadmin, &t.app, "customer/withdraw_invitation", &f(&[("customer_id", &alpha.to_string()), ("invitation_id", &id.to_string())])).await;
    let refused = join(&t.app, &browser(&t.app.base), &token, "nina").await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("withdrawn"));
}

#[tokio::test]
async fn an_invited_person_accepts_with_peeringdb_though_none_of_their_networks_is_a_customer() {
    let sink = MailSink::start();
    let (t, cadmin) = exchange(&sink).await;
    let mut profile = t.sim.profile("alice").unwrap();
    profile["networks"] = serde_json::json!([]);
    t.sim.set_profile("alice", profile);
    invite(&t.app, &cadmin, "alice@alpha.example", "member").await;
    let token = token_of(&t.app, &sink.wait_for(1).await[0]);

    let alice = browser(&t.app.base);
    let start = alice.post(t.app.url("/auth/peeringdb/login")).form(&[("next", format!("/invitation/{token}"))]).send().await.unwrap();
    let callback = t.approve_at_peeringdb(start, "alice").await;
    let landed = alice.get(&callback).send().await.unwrap();
    assert_eq!(landed.headers()["location"], "/", "on to the customer's dashboard");
    assert_eq!(roles(&t.app, "alice.anders").await, [("alpha".to_string(), "member".to_string(), "manual".to_string())]);
    let me = ok_json(&alice, &t.app, "me", &[]).await;
    assert_eq!(me["current_customer"], customer_id(&t.app, "alpha").await);
    assert!(me["flash"].as_str().unwrap().contains("You joined Alpha Net as member."), "{me}");
    let welcome = sink.wait_for(2).await.remove(1);
    assert_eq!((welcome.subject.as_str(), welcome.rcpt_tos.as_slice()), ("Welcome to Example IX portal", ["alice@alpha.example".to_string()].as_slice()));
    assert!(welcome.text.contains("You have access to:\n\n  - Alpha Net, as member\n"), "the welcome names the invited customer: {}", welcome.text);
}

#[tokio::test]
async fn a_customer_admin_switches_peeringdb_login_off_unless_the_exchange_locked_it() {
    let sink = MailSink::start();
    let (t, cadmin) = exchange(&sink).await;
    t.login_as("alice", true).await; // admin of Alpha through PeeringDB
    let alpha = customer_id(&t.app, "alpha").await;
    let off = f(&[("customer_id", &alpha.to_string()), ("max_role", "")]);
    ok_json(&cadmin, &t.app, "customer/peeringdb", &off).await;
    assert!(roles(&t.app, "alice.anders").await.iter().all(|(c, _, _)| c != "alpha"), "alice's PeeringDB access to Alpha ended at once");
    let (event, details) = t.app.audit_events().await.into_iter().rev().find(|(e, _)| e == "customer.updated").unwrap();
    assert_eq!(event, "customer.updated");
    assert!(details.contains("\"peeringdb_login\":[true,false]"), "{details}");

    peerportal::with_db!(&t.app.db, p => sqlx::query("UPDATE customers SET peeringdb_locked = TRUE WHERE id = $1").bind(alpha).execute(p).await.map(|r| r.rows_affected())).unwrap();
    let before = t.app.snapshot_without_audit().await;
    let on = f(&[("customer_id", &alpha.to_string()), ("peeringdb_login", "on"), ("max_role", "member")]);
    let locked = call(&cadmin, &t.app, "customer/peeringdb", &on).await;
    assert_eq!(locked.status(), 409);
    assert_eq!(t.app.snapshot_without_audit().await, before);
}

#[tokio::test]
async fn an_admin_through_peeringdb_cannot_cap_away_their_own_admin_rights() {
    let sink = MailSink::start();
    let (t, _) = exchange(&sink).await;
    let alice = browser(&t.app.base);
    t.login_in(&alice, "alice", true).await; // admin of Alpha through PeeringDB
    let alpha = customer_id(&t.app, "alpha").await;
    let before = t.app.snapshot_without_audit().await;
    let cap = f(&[("customer_id", &alpha.to_string()), ("peeringdb_login", "on"), ("max_role", "member")]);
    let refused = call(&alice, &t.app, "customer/peeringdb", &cap).await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("take it away"));
    assert_eq!(t.app.snapshot_without_audit().await, before);
}

#[tokio::test]
async fn inviting_again_replaces_the_open_invitation_and_nobody_is_invited_who_has_access() {
    let sink = MailSink::start();
    let (t, cadmin) = exchange(&sink).await;
    invite(&t.app, &cadmin, "nina@new.example", "member").await;
    let first = token_of(&t.app, &sink.wait_for(1).await[0]);
    assert!(invite(&t.app, &cadmin, "Nina@New.example", "admin").await.status().is_success());
    let second = token_of(&t.app, &sink.wait_for(2).await[1]);
    let alpha = customer_id(&t.app, "alpha").await;
    let access = ok_json(&cadmin, &t.app, "customer/access", &f(&[("customer_id", &alpha.to_string())])).await;
    assert_eq!(access["invitations"].as_array().unwrap().len(), 1, "{access}");
    assert_eq!(join(&t.app, &browser(&t.app.base), &first, "nina").await.status(), 409, "the first link was replaced");
    assert!(join(&t.app, &browser(&t.app.base), &second, "nina").await.status().is_success());
    assert_eq!(roles(&t.app, "nina").await, [("alpha".to_string(), "admin".to_string(), "manual".to_string())]);

    let before = t.app.snapshot_without_audit().await;
    let again = invite(&t.app, &cadmin, "nina@new.example", "member").await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("has access to Alpha Net already"));
    assert_eq!(t.app.snapshot_without_audit().await, before);
}
