//! PeeringDB tokens: the refresh token kept sealed, nowhere in clear; the
//! access token revoked right after the profile was read; refresh tokens
//! revoked whenever PeerPortal lets go of them.

use crate::console::{call, f, local_user, logged_in, ok_json};
use crate::helpers::eventually;
use crate::peeringdb::{spawn_pdb, PdbApp};

/// The one refresh token of `user` that PeeringDB would honour now.
fn live_refresh_of(t: &PdbApp, user: &str) -> Vec<String> {
    t.sim.live_refresh_tokens().into_iter().filter(|(_, u)| u == user).map(|(token, _)| token).collect()
}

async fn stored_refresh(t: &PdbApp, username: &str) -> Option<String> {
    let id = peerportal::store::users::by_username(&t.app.db, username).await.unwrap().unwrap().id;
    peerportal::store::links::due_one(&t.app.db, id).await.unwrap().map(|due| due.refresh_token)
}

fn revoked(t: &PdbApp, token: &str, hint: &str) -> bool {
    t.sim.revoked().iter().any(|(revoked, h)| revoked == token && h.as_deref() == Some(hint))
}

#[tokio::test]
async fn the_refresh_token_is_kept_sealed_and_is_nowhere_in_clear() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    local_user(&t.app, "ops", true).await;
    let ops = logged_in(&t.app, "ops").await;
    let live = live_refresh_of(&t, "alice");
    assert_eq!(live.len(), 1, "PeeringDB issued alice one refresh token");
    let token = &live[0];
    let stored = stored_refresh(&t, "alice.anders").await.expect("kept at login");
    assert!(stored.starts_with("v1.") && !stored.contains(token.as_str()), "sealed: {stored}");

    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    let mut seen = Vec::new();
    for path in ["/", "/account", "/choose"] {
        seen.push(t.app.get(path).await.text().await.unwrap());
    }
    seen.push(ok_json(&t.app.client, &t.app, "account", &[]).await.to_string());
    seen.push(ok_json(&ops, &t.app, "admin/user", &f(&[("id", &alice.to_string())])).await.to_string());
    seen.push(ops.get(t.app.url(&format!("/admin/users/{alice}"))).send().await.unwrap().text().await.unwrap());
    seen.push(ok_json(&ops, &t.app, "admin/peeringdb", &[]).await.to_string());
    seen.push(format!("{:?}", t.app.audit_events().await));
    seen.push(t.app.snapshot_without_audit().await.join("\n"));
    seen.push(t.app.logs.text());
    for (i, text) in seen.iter().enumerate() {
        assert!(!text.contains(token.as_str()), "the refresh token is in clear in place {i}");
    }
    match t.app.sqlite_file_bytes() {
        Some(bytes) => {
            let (needle, sealed) = (token.as_bytes(), stored.as_bytes());
            assert!(bytes.windows(sealed.len()).any(|w| w == sealed), "the file read is the one the portal writes");
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "the refresh token is in the database file in clear");
        }
        // PostgreSQL's files are not ours to read: the snapshot above covers its rows.
        None => assert!(std::env::var("PEERPORTAL_TEST_POSTGRES").is_ok_and(|v| !v.is_empty())),
    }
}

#[tokio::test]
async fn the_access_token_is_revoked_right_after_the_profile_was_read() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    let access = t.sim.issued_tokens();
    assert_eq!(access.len(), 1);
    eventually("the access token revoked at PeeringDB", || revoked(&t, &access[0], "access_token")).await;
    assert!(!t.app.logs.text().contains(&access[0]));
}

#[tokio::test]
async fn a_new_login_keeps_the_new_refresh_token_and_revokes_the_old_one() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    let first = live_refresh_of(&t, "alice").pop().unwrap();
    let first_sealed = stored_refresh(&t, "alice.anders").await.unwrap();
    t.login_as("alice", true).await;
    let second_sealed = stored_refresh(&t, "alice.anders").await.unwrap();
    assert_ne!(first_sealed, second_sealed);
    eventually("the replaced refresh token revoked", || revoked(&t, &first, "refresh_token")).await;
    assert_eq!(live_refresh_of(&t, "alice").len(), 1, "only the kept one still works");
}

#[tokio::test]
async fn a_refused_login_keeps_no_refresh_token_and_revokes_it() {
    let t = spawn_pdb(&[]).await;
    t.login_as("bob", true).await; // no network of a customer: refused
    assert!(peerportal::store::users::by_username(&t.app.db, "bob.brown").await.unwrap().is_none());
    assert_eq!(t.app.count("peeringdb_links").await, 0);
    eventually("bob's refresh token revoked", || live_refresh_of(&t, "bob").is_empty()).await;
}

#[tokio::test]
async fn unlinking_or_disabling_revokes_the_refresh_token_at_peeringdb() {
    let t = spawn_pdb(&[]).await;
    local_user(&t.app, "ops", true).await;
    let ops = logged_in(&t.app, "ops").await;
    for (user, username, endpoint) in [("alice", "alice.anders", "admin/unlink_peeringdb"), ("erin", "erin.evans", "admin/set_disabled")] {
        t.login_in(&crate::helpers::browser(&t.app.base), user, true).await;
        let token = live_refresh_of(&t, user).pop().unwrap();
        let id = peerportal::store::users::by_username(&t.app.db, username).await.unwrap().unwrap().id;
        let mut form = f(&[("user_id", &id.to_string())]);
        if endpoint == "admin/set_disabled" {
            form.push(("disabled", "true".into()));
        }
        ok_json(&ops, &t.app, endpoint, &form).await;
        assert_eq!(stored_refresh(&t, username).await, None, "{endpoint}: forgotten");
        eventually(endpoint, || revoked(&t, &token, "refresh_token")).await;
    }
}

#[tokio::test]
async fn deleting_a_user_removes_every_grant_and_session_and_revokes_their_token_at_peeringdb() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    local_user(&t.app, "ops", true).await;
    let ops = logged_in(&t.app, "ops").await;
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    ok_json(&ops, &t.app, "admin/grant", &f(&[("user_id", &alice.to_string()), ("customer", "gamma"), ("role", "member")])).await;
    let token = live_refresh_of(&t, "alice").pop().unwrap();
    let detail = ok_json(&ops, &t.app, "admin/user", &f(&[("id", &alice.to_string())])).await;
    let sources: Vec<&str> = detail["affiliations"].as_array().unwrap().iter().map(|a| a["source"].as_str().unwrap()).collect();
    assert!(sources.contains(&"Manual") && sources.contains(&"Peeringdb"), "{sources:?}");
    let grants = sources.len();

    let unconfirmed = call(&ops, &t.app, "admin/delete_user", &f(&[("user_id", &alice.to_string())])).await;
    assert_eq!(unconfirmed.status(), 422, "the box must be ticked");
    assert!(peerportal::store::users::by_id(&t.app.db, alice).await.unwrap().is_some(), "nothing deleted without it");

    ok_json(&ops, &t.app, "admin/delete_user", &f(&[("user_id", &alice.to_string()), ("confirm", "on")])).await;
    assert!(peerportal::store::users::by_id(&t.app.db, alice).await.unwrap().is_none());
    assert_eq!(call(&ops, &t.app, "admin/user", &f(&[("id", &alice.to_string())])).await.status(), 404);
    assert_eq!(t.app.get("/").await.status(), 302, "alice's session ended with her account");
    eventually("alice's refresh token revoked", || revoked(&t, &token, "refresh_token")).await;

    let events = t.app.audit_events().await;
    let tail: Vec<&str> = events.iter().rev().take(grants + 2).map(|(e, _)| e.as_str()).collect();
    assert_eq!(tail[0], "user.deleted");
    assert!(tail[1..=grants].iter().all(|e| *e == "grant.removed"), "one row per grant, manual and PeeringDB: {tail:?}");
    assert_ne!(tail[grants + 1], "grant.removed");
    let (_, details) = events.last().unwrap();
    assert!(details.contains("\"username\":\"alice.anders\"") && details.contains(&format!("\"access_removed\":{grants}")), "{details}");

    // The audit log still finds alice's rows by her old username.
    let form = f(&[("user", "Alice.Anders"), ("customer", ""), ("event", ""), ("from", ""), ("to", ""), ("page", "0")]);
    let found = ok_json(&ops, &t.app, "admin/audit", &form).await;
    let found: Vec<&str> = found["items"].as_array().unwrap().iter().map(|i| i["event"].as_str().unwrap()).collect();
    assert!(found.contains(&"user.deleted") && found.contains(&"login.success") && found.contains(&"grant.removed"), "{found:?}");

    let me = ok_json(&ops, &t.app, "me", &[]).await["user_id"].as_i64().unwrap();
    let resp = call(&ops, &t.app, "admin/delete_user", &f(&[("user_id", &me.to_string()), ("confirm", "on")])).await;
    assert_eq!(resp.status(), 409, "nobody deletes their own account");
    assert_eq!(call(&ops, &t.app, "admin/delete_user", &f(&[("user_id", &alice.to_string()), ("confirm", "on")])).await.status(), 404);
}

#[tokio::test]
async fn keys_rotate_reseals_every_refresh_token_and_the_running_server_still_opens_them() {
    let t = spawn_pdb(&[]).await;
    local_user(&t.app, "ops", true).await;
    t.login_as("alice", true).await;
    let before = stored_refresh(&t, "alice.anders").await.unwrap();
    let path = t.app._dir.path().join("secret.key");
    let keys = peerportal::keys::Keyring::load_or_create(&path).unwrap();
    let rotated = peerportal::cli::keys_rotate(&t.app.db, &keys).await.unwrap();
    assert_eq!((rotated.resealed, rotated.unreadable.len()), (1, 0));
    let after = stored_refresh(&t, "alice.anders").await.unwrap();
    assert_ne!(after, before);
    assert_eq!(peerportal::keys::Keyring::key_of(&after), Some(rotated.key_id.as_str()));
    let token = live_refresh_of(&t, "alice").pop().unwrap();
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    let fresh = peerportal::keys::Keyring::load_or_create(&path).unwrap();
    let opened = fresh.open(&after, &peerportal::keys::refresh_context(alice)).unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&opened), token.as_str());
    // The server, started before the rotation, opens the new value: unlinking revokes the right token.
    let ops = logged_in(&t.app, "ops").await;
    ok_json(&ops, &t.app, "admin/unlink_peeringdb", &f(&[("user_id", &alice.to_string())])).await;
    eventually("the re-sealed token revoked", || revoked(&t, &token, "refresh_token")).await;
}
