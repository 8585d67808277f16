//! Access true between logins: the re-sync refreshes each linked person at
//! PeeringDB and applies what PeeringDB says now, without them logging in.

use serde_json::{json, Value};
use time::Duration;

use crate::console::{f, grant, local_user, logged_in, ok_json};
use crate::helpers::{browser, TestApp};
use crate::peeringdb::{roles_of, spawn_pdb, PdbApp};
use peerportal::portal::resync::{SweepOptions, SweepReport};
use peeringdb_sim::Fault;

fn everyone(_: &TestApp, dry_run: bool) -> SweepOptions {
    SweepOptions {
        synced_before: None,
        stale_cutoff: peerportal::store::now() - Duration::days(7),
        only: None,
        limit: i64::MAX,
        dry_run,
        give_up_after: std::time::Duration::from_millis(300),
        // A minute of its own, far from the logins' real one, starting at its first second.
        started: time::OffsetDateTime::from_unix_timestamp((peerportal::store::now().unix_timestamp() / 60 + 10_000) * 60).unwrap(),
    }
}

async fn sweep(app: &TestApp, opts: &SweepOptions) -> SweepReport {
    app.portal().sweep(opts).await.expect("sweep")
}

/// Sets alice's networks at the simulator.
fn alice_networks(t: &PdbApp, networks: Value) {
    let mut profile = t.sim.profile("alice").unwrap();
    profile["networks"] = networks;
    t.sim.set_profile("alice", profile);
}

fn pair(rows: &[(String, String, String)]) -> Vec<(&str, &str, &str)> {
    rows.iter().map(|(c, r, s)| (c.as_str(), r.as_str(), s.as_str())).collect()
}

async fn has_session(app: &TestApp, client: &reqwest::Client) -> bool {
    client.get(app.url("/account")).send().await.unwrap().status() == 200
}

#[tokio::test]
async fn a_network_lost_at_peeringdb_goes_at_the_next_sweep_and_the_last_one_ends_the_sessions() {
    let t = spawn_pdb(&[]).await;
    let laptop = browser(&t.app.base);
    t.login_in(&laptop, "alice", true).await; // admin of Alpha, member of Beta
    alice_networks(&t, json!([{ "id": 1, "asn": 64500, "perms": 15 }]));
    let report = sweep(&t.app, &everyone(&t.app, false)).await;
    assert_eq!((report.synced, report.changed, report.errors), (1, 1, 0), "{:?}", report.lines);
    assert!(report.lines[0].contains("removed Beta Net"), "{:?}", report.lines);
    assert_eq!(pair(&roles_of(&t.app, "alice.anders").await), [("alpha", "admin", "peeringdb")]);
    assert!(has_session(&t.app, &laptop).await, "alice still has Alpha");
    let (events, details): (Vec<String>, Vec<String>) = t.app.audit_events().await.into_iter().unzip();
    let removed = events.iter().rposition(|e| e == "grant.removed").unwrap();
    assert!(details[removed].contains("\"via\":\"resync\""), "{}", details[removed]);

    alice_networks(&t, json!([]));
    sweep(&t.app, &everyone(&t.app, false)).await;
    assert!(roles_of(&t.app, "alice.anders").await.is_empty());
    assert!(!has_session(&t.app, &laptop).await, "alice lost her last customer: every session ended, without her logging in");
}

#[tokio::test]
async fn a_network_added_at_peeringdb_is_granted_at_the_sweep_and_name_and_email_follow() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    let mut profile = t.sim.profile("alice").unwrap();
    profile["networks"] = json!([{ "id": 1, "asn": 64500, "perms": 15 }, { "id": 2, "asn": 64501, "perms": 1 }, { "id": 3, "asn": 64510, "perms": 1 }]);
    profile["name"] = json!("Alice Anders-Smith");
    t.sim.set_profile("alice", profile);
    sweep(&t.app, &everyone(&t.app, false)).await;
    assert_eq!(
        pair(&roles_of(&t.app, "alice.anders").await),
        [("alpha", "admin", "peeringdb"), ("beta", "member", "peeringdb"), ("delta", "member", "peeringdb")]
    );
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap();
    assert_eq!(alice.name, "Alice Anders-Smith");
    assert_eq!(alice.last_login_via, Some(domain::LoginMethod::Peeringdb), "a re-sync is not a login, the login before it stays");
}

#[tokio::test]
async fn the_rotated_refresh_token_is_used_next_time_and_the_old_one_is_refused() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    let first: Vec<String> = t.sim.live_refresh_tokens().into_iter().map(|(tok, _)| tok).collect();
    sweep(&t.app, &everyone(&t.app, false)).await;
    let second: Vec<String> = t.sim.live_refresh_tokens().into_iter().map(|(tok, _)| tok).collect();
    assert_eq!(second.len(), 1);
    assert_ne!(first, second, "PeeringDB rotated it");
    let report = sweep(&t.app, &everyone(&t.app, false)).await;
    assert_eq!((report.synced, report.stale), (1, 0), "the second sweep used the rotated token");
    let refused = reqwest::Client::new()
        .post(format!("{}/oauth2/token/", t.app.env["PEERINGDB_OAUTH_URL"]))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", first[0].as_str()), ("client_id", "test-client"), ("client_secret", "test-client-secret-value")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "the old token is dead");
}

#[tokio::test]
async fn a_token_rotated_but_not_saved_leaves_a_stale_link_never_a_wrong_grant() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    // The crash: PeeringDB rotated the token (someone used it) and PeerPortal never saved the new one.
    let live = t.sim.live_refresh_tokens().pop().unwrap().0;
    let used = reqwest::Client::new()
        .post(format!("{}/oauth2/token/", t.app.env["PEERINGDB_OAUTH_URL"]))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", live.as_str()), ("client_id", "test-client"), ("client_secret", "test-client-secret-value")])
        .send()
        .await
        .unwrap();
    assert_eq!(used.status(), 200);
    alice_networks(&t, json!([])); // what PeeringDB says now would remove everything
    let before = roles_of(&t.app, "alice.anders").await;
    let report = sweep(&t.app, &everyone(&t.app, false)).await;
    assert_eq!(report.stale, 1, "{:?}", report.lines);
    assert_eq!(roles_of(&t.app, "alice.anders").await, before, "a stale link changes no grant");
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    let state = peerportal::store::links::state_of(&t.app.db, alice).await.unwrap().unwrap();
    assert!(state.stale_since.is_some() && state.last_error.unwrap().contains("invalid_grant"));
    let (events, _): (Vec<String>, Vec<String>) = t.app.audit_events().await.into_iter().unzip();
    assert_eq!(events.iter().filter(|e| *e == "peeringdb.link_stale").count(), 1);
}

#[tokio::test]
async fn a_person_who_revoked_the_app_keeps_access_for_the_grace_then_loses_only_peeringdb_grants() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    grant(&t.app, alice, "gamma", app::Role::Member).await;
    t.sim.invalidate_tokens_of("alice");
    let report = sweep(&t.app, &everyone(&t.app, false)).await;
    assert_eq!(report.stale, 1);
    assert_eq!(roles_of(&t.app, "alice.anders").await.len(), 3, "within the grace nothing is removed");
    // Eight days later (time passed in: the cutoff).
    let later = SweepOptions { stale_cutoff: peerportal::store::now() + Duration::days(1), ..everyone(&t.app, false) };
    let report = sweep(&t.app, &later).await;
    assert_eq!(report.grace_expired, 1, "{:?}", report.lines);
    assert_eq!(pair(&roles_of(&t.app, "alice.anders").await), [("gamma", "member", "manual")]);
    // The next PeeringDB login restores what PeeringDB vouches for.
    t.login_as("alice", true).await;
    assert_eq!(roles_of(&t.app, "alice.anders").await.len(), 3);
}

#[tokio::test]
async fn peeringdb_failing_during_a_sweep_changes_nothing_and_the_next_sweep_resumes() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    alice_networks(&t, json!([]));
    let before = roles_of(&t.app, "alice.anders").await;
    for fault in [Fault::RateLimited, Fault::ServerError, Fault::Malformed, Fault::Forbidden] {
        t.sim.set_token_fault(Some(fault));
        let report = sweep(&t.app, &everyone(&t.app, false)).await;
        assert_eq!(report.synced, 0, "{fault:?}");
        assert_eq!(roles_of(&t.app, "alice.anders").await, before, "{fault:?} at the token endpoint changed nothing");
        if fault == Fault::RateLimited {
            assert!(report.gave_up.is_some(), "a persistent 429 ends the sweep within its bound");
        }
    }
    t.sim.set_token_fault(None);
    t.sim.set_profile_fault(Some(Fault::ServerError));
    let report = sweep(&t.app, &everyone(&t.app, false)).await;
    assert_eq!((report.synced, report.errors), (0, 1));
    assert_eq!(roles_of(&t.app, "alice.anders").await, before, "a failed profile changed nothing");
    t.sim.set_profile_fault(None);
    let report = sweep(&t.app, &everyone(&t.app, false)).await;
    assert_eq!((report.synced, report.changed, report.stale), (1, 1, 0), "resumed with the token saved before the profile failed: {:?}", report.lines);
    assert!(roles_of(&t.app, "alice.anders").await.is_empty());
}

#[tokio::test]
async fn a_dry_run_says_what_would_change_and_writes_only_the_rotated_token() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    alice_networks(&t, json!([{ "id": 1, "asn": 64500, "perms": 15 }]));
    let before = t.app.snapshot_without_audit().await;
    let audit_before = t.app.audit_events().await.len();
    let out = peerportal::cli::sync(&t.app.portal(), None, true).await.unwrap();
    assert!(out.contains("alice.anders: would change: removed Beta Net"), "{out}");
    let after = t.app.snapshot_without_audit().await;
    let changed: Vec<&String> = after.iter().filter(|r| !before.contains(r)).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].starts_with("peeringdb_links:"), "only the rotated token: {changed:?}");
    assert_eq!(t.app.audit_events().await.len(), audit_before);
    let out = peerportal::cli::sync(&t.app.portal(), Some("alice.anders"), false).await.unwrap();
    assert!(out.contains("alice.anders: changed: removed Beta Net"), "{out}");
}

#[tokio::test]
async fn sync_fails_with_the_reason_when_peeringdb_cannot_be_asked() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    t.sim.set_token_fault(Some(Fault::ServerError));
    let err = peerportal::cli::sync(&t.app.portal(), None, false).await.unwrap_err().to_string();
    assert!(err.contains("PeeringDB could not be asked"), "{err}");
    let err = peerportal::cli::sync(&t.app.portal(), Some("nobody"), false).await.unwrap_err().to_string();
    assert!(err.contains("no user named"), "{err}");
}

#[tokio::test]
async fn two_replicas_sweeping_sync_every_user_exactly_once() {
    let t = spawn_pdb(&[]).await;
    for user in ["alice", "erin"] {
        t.login_in(&browser(&t.app.base), user, true).await;
    }
    local_user(&t.app, "ops", true).await;
    let _ = logged_in(&t.app, "ops").await;
    let (a, b) = (t.app.portal(), t.app.portal());
    let interval = std::time::Duration::from_secs(3600);
    let (ra, rb) = tokio::join!(
        peerportal::portal::resync::background_tick(&a, "replica-a", interval),
        peerportal::portal::resync::background_tick(&b, "replica-b", interval)
    );
    let synced = |r: Option<SweepReport>| r.map_or(0, |r| r.synced);
    // Just logged in, nobody is due yet: a login counts as fresh.
    assert_eq!(synced(ra.unwrap()) + synced(rb.unwrap()), 0);
    let (calls_before, _) = t.sim.calls();
    let (ra, rb) = tokio::join!(
        peerportal::portal::resync::background_tick(&a, "replica-a", std::time::Duration::ZERO),
        peerportal::portal::resync::background_tick(&b, "replica-b", std::time::Duration::ZERO)
    );
    assert_eq!(synced(ra.unwrap()) + synced(rb.unwrap()), 2, "each user once, whichever replica held the lease");
    assert_eq!(t.sim.calls().0 - calls_before, 2, "one refresh per user");
}

#[tokio::test]
async fn the_request_budget_holds_across_two_replicas_and_logins_come_first() {
    let t = spawn_pdb(&[("PEERINGDB_REQUESTS_PER_MINUTE", "9")]).await;
    let mut carol = t.sim.profile("carol").unwrap();
    carol["verified_email"] = json!(true);
    t.sim.set_profile("carol", carol);
    for user in ["alice", "erin", "carol"] {
        t.login_in(&browser(&t.app.base), user, true).await;
    }
    let opts = everyone(&t.app, false);
    let minute = peerportal::store::budget::minute_of(opts.started);
    // Logins this minute already made 3 requests: they came first.
    peerportal::store::budget::record(&t.app.db, minute, 3).await.unwrap();
    let (calls_before, _) = t.sim.calls();
    let (a, b) = (t.app.portal(), t.app.portal());
    let (ra, rb) = tokio::join!(a.sweep(&opts), b.sweep(&opts));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    // 9 a minute, 3 taken by logins: room for two re-syncs of 3 requests,
    // whichever replica makes them, however the two race for a person.
    let refreshes = t.sim.calls().0 - calls_before;
    assert!((1..=2).contains(&refreshes), "PeeringDB saw {refreshes} refreshes");
    assert!(ra.synced + rb.synced >= 1);
    assert!(ra.deferred + rb.deferred >= 1, "the rest waits for the next minute");
    for username in ["alice.anders", "erin.evans", "carol.chen"] {
        let id = peerportal::store::users::by_username(&t.app.db, username).await.unwrap().unwrap().id;
        let state = peerportal::store::links::state_of(&t.app.db, id).await.unwrap().unwrap();
        assert!(state.stale_since.is_none() && state.has_token, "{username}: racing replicas leave no link stale");
    }
}

#[tokio::test]
async fn an_operator_resyncs_a_user_from_the_console_and_sees_the_link_and_the_sweeps() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    local_user(&t.app, "ops", true).await;
    let ops = logged_in(&t.app, "ops").await;
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    alice_networks(&t, json!([{ "id": 1, "asn": 64500, "perms": 15 }]));
    let said = ok_json(&ops, &t.app, "admin/resync_user", &f(&[("user_id", &alice.to_string())])).await;
    assert!(said.as_str().unwrap().contains("removed Beta Net"), "{said}");
    let detail = ok_json(&ops, &t.app, "admin/user", &f(&[("id", &alice.to_string())])).await;
    assert!(detail["peeringdb_link"]["last_synced"].is_string() && detail["peeringdb_link"]["has_token"] == true, "{detail}");
    let page = ops.get(t.app.url(&format!("/admin/users/{alice}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Re-sync now") && page.contains("last synced"), "the user's page shows the link and the button");

    t.sim.invalidate_tokens_of("alice");
    sweep(&t.app, &everyone(&t.app, false)).await;
    let status = ok_json(&ops, &t.app, "admin/peeringdb", &[]).await;
    assert_eq!((status["links_stale"].as_i64(), status["links_synced"].as_i64()), (Some(1), Some(1)), "{status}");
    assert!(status["resync"].as_str().unwrap().starts_with("every 1 d"), "{status}");
    assert!(status["last_sweep"]["details"].as_str().unwrap().contains("\"stale\":1"), "{status}");
    let said = ok_json(&ops, &t.app, "admin/resync_user", &f(&[("user_id", &alice.to_string())])).await;
    assert!(said.as_str().unwrap().contains("Nothing to re-sync") || said.as_str().unwrap().contains("stale"), "{said}");
}

#[tokio::test]
async fn the_sweep_lease_has_one_holder_and_is_taken_over_when_its_holder_stops_renewing() {
    let app = crate::helpers::spawn().await;
    let now = peerportal::store::now();
    let lease = |holder: &'static str, at: time::OffsetDateTime| {
        let db = app.db.clone();
        async move { peerportal::store::leases::acquire(&db, "peeringdb-resync", holder, at, at + Duration::minutes(5)).await.unwrap() }
    };
    assert!(lease("a", now).await);
    assert!(!lease("b", now + Duration::minutes(1)).await, "a holds it");
    assert!(lease("a", now + Duration::minutes(2)).await, "its holder renews it");
    assert!(!lease("b", now + Duration::minutes(6)).await, "renewed until 7 minutes");
    assert!(lease("b", now + Duration::minutes(8)).await, "a died: b takes over once it expired");
    assert!(!lease("a", now + Duration::minutes(9)).await);
}

#[tokio::test]
async fn logins_count_their_peeringdb_requests_in_the_shared_budget() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    t.login_as("alice", true).await;
    let served = t.app.served.clone().unwrap();
    served.flush_login_requests().await.unwrap();
    let minute = peerportal::store::budget::minute_of(peerportal::store::now());
    let used: Vec<i64> = peerportal::with_db!(&t.app.db, p => sqlx::query_scalar("SELECT used FROM peeringdb_budget WHERE minute >= $1")
        .bind(minute - 1).fetch_all(p).await).unwrap();
    assert_eq!(used.iter().sum::<i64>(), 6, "token, profile and revocation, twice");
}
