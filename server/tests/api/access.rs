//! Access withdrawn at once: what the IXP changes about a customer or a
//! user takes PeeringDB's grants away in the same transaction, and ends the
//! sessions of people left without a customer, without anyone logging in.

use serde_json::Value;

use crate::console::{customer_id, f, grant, local_user, logged_in, ok_json};
use crate::helpers::{browser, TestApp};
use crate::peeringdb::{roles_of, spawn_pdb, PdbApp};

/// The row of the customer form for one of the fixture customers.
fn alpha_form(id: i64, status: &str, max_role: Option<&str>) -> Vec<(&'static str, String)> {
    let mut form = f(&[("id", &id.to_string()), ("name", "Alpha Net"), ("shortname", "alpha"), ("asns", "64500"), ("kind", "full"),
        ("status", status), ("peeringdb_login", "on"), ("allow_reserved", "on")]);
    if let Some(role) = max_role {
        form.push(("max_role", role.to_string()));
    }
    form
}

/// Does the browser still have a session?
async fn signed_in(app: &TestApp, client: &reqwest::Client) -> bool {
    client.get(app.url("/account")).send().await.unwrap().status() == 200
}

async fn grant_rows(t: &PdbApp, ops: &reqwest::Client, username: &str, customer: &str) -> Vec<Value> {
    let filter = f(&[("user", username), ("customer", customer), ("event", "grant."), ("from", ""), ("to", ""), ("page", "0")]);
    let log = ok_json(ops, &t.app, "admin/audit", &filter).await;
    log["items"].as_array().unwrap().clone()
}

/// Carol of the fixtures is a member of Alpha only, with her email
/// confirmed here (the fixture's is not, for the refusal tests).
fn carol_confirmed(t: &PdbApp) {
    let mut profile = t.sim.profile("carol").unwrap();
    profile["verified_email"] = Value::Bool(true);
    t.sim.set_profile("carol", profile);
}

/// An audit row's details, parsed.
fn details(row: &Value) -> Value {
    serde_json::from_str(row["details"].as_str().unwrap()).unwrap()
}

fn pair(rows: &[(String, String, String)]) -> Vec<(&str, &str, &str)> {
    rows.iter().map(|(c, r, s)| (c.as_str(), r.as_str(), s.as_str())).collect()
}

#[tokio::test]
async fn suspending_a_customer_takes_its_peeringdb_grants_at_once_and_ends_sessions_left_without_a_customer() {
    let t = spawn_pdb(&[]).await;
    local_user(&t.app, "ops", true).await;
    let mona = local_user(&t.app, "mona", false).await;
    grant(&t.app, mona, "alpha", app::Role::Member).await;
    carol_confirmed(&t);
    let (alice, carol) = (browser(&t.app.base), browser(&t.app.base));
    t.login_in(&alice, "alice", true).await; // admin of Alpha, member of Beta
    t.login_in(&carol, "carol", true).await; // member of Alpha only
    let mona_browser = logged_in(&t.app, "mona").await;
    assert!(signed_in(&t.app, &carol).await && signed_in(&t.app, &mona_browser).await);

    let ops = logged_in(&t.app, "ops").await;
    let alpha = customer_id(&t.app, "alpha").await;
    ok_json(&ops, &t.app, "admin/save_customer", &alpha_form(alpha, "suspended", None)).await;

    assert_eq!(pair(&roles_of(&t.app, "alice.anders").await), [("beta", "member", "peeringdb")], "Alpha's PeeringDB grant went, Beta stays");
    assert!(roles_of(&t.app, "carol.chen").await.is_empty());
    assert_eq!(pair(&roles_of(&t.app, "mona").await), [("alpha", "member", "manual")], "a manual grant stays, dormant");
    assert!(signed_in(&t.app, &alice).await, "alice still has Beta");
    assert!(!signed_in(&t.app, &carol).await, "carol lost her last customer: her session ended");
    assert!(!signed_in(&t.app, &mona_browser).await, "mona's only customer is suspended: her session ended");
    assert!(signed_in(&t.app, &ops).await, "a superadmin keeps the console");

    let removed = grant_rows(&t, &ops, "carol.chen", "alpha").await;
    assert_eq!(removed[0]["event"], "grant.removed");
    assert_eq!(removed[0]["actor_name"], "ops", "the operator's change, recorded as theirs");
    assert_eq!(details(&removed[0])["why"], "customer suspended");
    let updated = ok_json(&ops, &t.app, "admin/audit", &f(&[("event", "customer.updated"), ("user", ""), ("customer", "alpha"), ("from", ""), ("to", ""), ("page", "0")])).await;
    let d = details(&updated["items"][0]);
    assert_eq!((d["access_removed"].as_i64(), d["sessions_ended"].as_i64()), (Some(2), Some(2)), "{d}");

    // A suspended customer is offered nowhere, and a login still cannot get it.
    let mona_again = logged_in(&t.app, "mona").await;
    let me = ok_json(&mona_again, &t.app, "me", &[]).await;
    assert_eq!(me["memberships"], Value::Array(vec![]), "{me}");
    t.login_in(&carol, "carol", true).await;
    assert!(roles_of(&t.app, "carol.chen").await.is_empty());

    // Active again: the manual grant holds again; PeeringDB's come back at the next login.
    ok_json(&ops, &t.app, "admin/save_customer", &alpha_form(alpha, "active", None)).await;
    let me = ok_json(&mona_again, &t.app, "me", &[]).await;
    assert_eq!(me["memberships"][0]["shortname"], "alpha");
    t.login_in(&carol, "carol", true).await;
    assert_eq!(pair(&roles_of(&t.app, "carol.chen").await), [("alpha", "member", "peeringdb")]);
}

#[tokio::test]
async fn lowering_a_customers_role_cap_lowers_its_peeringdb_admins_at_once() {
    let t = spawn_pdb(&[]).await;
    local_user(&t.app, "ops", true).await;
    let mona = local_user(&t.app, "mona", false).await;
    grant(&t.app, mona, "alpha", app::Role::Admin).await;
    t.login_as("alice", true).await;
    let ops = logged_in(&t.app, "ops").await;
    let alpha = customer_id(&t.app, "alpha").await;
    ok_json(&ops, &t.app, "admin/save_customer", &alpha_form(alpha, "active", Some("member"))).await;
    assert_eq!(pair(&roles_of(&t.app, "alice.anders").await), [("alpha", "member", "peeringdb"), ("beta", "member", "peeringdb")]);
    assert_eq!(pair(&roles_of(&t.app, "mona").await), [("alpha", "admin", "manual")], "the cap is PeeringDB's, not the operator's own grants");
    let changed = grant_rows(&t, &ops, "alice.anders", "alpha").await;
    assert_eq!(changed[0]["event"], "grant.changed");
    assert_eq!((details(&changed[0])["from"].as_str(), details(&changed[0])["to"].as_str()), (Some("admin"), Some("member")));
    assert!(signed_in(&t.app, &t.app.client).await, "alice keeps her session: she still has customers");
}

#[tokio::test]
async fn an_import_that_marks_a_customer_as_left_takes_its_peeringdb_grants() {
    let t = spawn_pdb(&[]).await;
    local_user(&t.app, "ops", true).await;
    t.login_as("alice", true).await;
    let ops = logged_in(&t.app, "ops").await;
    let csv = "name,shortname,asns,type,status,peeringdb_login\nBeta Net,beta,64501,full,left,true\n";
    let preview = ok_json(&ops, &t.app, "admin/import_customers", &f(&[("csv", csv), ("allow_reserved", "on"), ("commit", "on")])).await;
    assert_eq!(preview["committed"], true, "{preview}");
    assert_eq!(pair(&roles_of(&t.app, "alice.anders").await), [("alpha", "admin", "peeringdb")]);
    let removed = grant_rows(&t, &ops, "alice.anders", "beta").await;
    assert_eq!(removed[0]["event"], "grant.removed");
    assert_eq!(details(&removed[0])["why"], "customer has left");
}

#[tokio::test]
async fn switching_a_customers_peeringdb_login_off_takes_its_peeringdb_grants_at_once() {
    let t = spawn_pdb(&[]).await;
    local_user(&t.app, "ops", true).await;
    carol_confirmed(&t);
    t.login_as("carol", true).await;
    assert!(signed_in(&t.app, &t.app.client).await);
    let ops = logged_in(&t.app, "ops").await;
    let alpha = customer_id(&t.app, "alpha").await;
    let mut off = alpha_form(alpha, "active", None);
    off.retain(|(k, _)| *k != "peeringdb_login");
    ok_json(&ops, &t.app, "admin/save_customer", &off).await;
    assert!(roles_of(&t.app, "carol.chen").await.is_empty());
    assert!(!signed_in(&t.app, &t.app.client).await, "carol's last customer went: session ended");
}

#[tokio::test]
async fn disabling_a_user_removes_their_peeringdb_grants_and_keeps_manual_ones() {
    let t = spawn_pdb(&[]).await;
    local_user(&t.app, "ops", true).await;
    t.login_as("alice", true).await;
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    grant(&t.app, alice, "gamma", app::Role::Member).await;
    let ops = logged_in(&t.app, "ops").await;
    assert!(signed_in(&t.app, &t.app.client).await);
    ok_json(&ops, &t.app, "admin/set_disabled", &f(&[("user_id", &alice.to_string()), ("disabled", "true")])).await;
    assert_eq!(pair(&roles_of(&t.app, "alice.anders").await), [("gamma", "member", "manual")]);
    assert!(!signed_in(&t.app, &t.app.client).await);
    let removed = grant_rows(&t, &ops, "alice.anders", "alpha").await;
    assert_eq!(details(&removed[0])["why"], "user disabled");
}

#[tokio::test]
async fn a_linked_user_peeringdb_stops_verifying_loses_peeringdb_grants_and_sessions() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    grant(&t.app, alice, "gamma", app::Role::Member).await;
    let other_browser = browser(&t.app.base);
    t.login_in(&other_browser, "alice", true).await;
    assert!(signed_in(&t.app, &other_browser).await);
    let mut profile = t.sim.profile("alice").unwrap();
    profile["verified_user"] = Value::Bool(false);
    t.sim.set_profile("alice", profile);
    let refused = t.login_as("alice", true).await;
    assert!(refused.response.headers()["location"].to_str().unwrap().contains("error="), "refused");
    assert_eq!(pair(&roles_of(&t.app, "alice.anders").await), [("gamma", "member", "manual")]);
    assert!(!signed_in(&t.app, &other_browser).await, "every session of the person ended");
}

#[tokio::test]
async fn a_suspended_customer_is_not_offered_in_the_picker() {
    let t = spawn_pdb(&[]).await;
    let mona = local_user(&t.app, "mona", false).await;
    grant(&t.app, mona, "alpha", app::Role::Member).await;
    grant(&t.app, mona, "erin07", app::Role::Admin).await; // suspended in the fixtures
    let resp = t.app.login_form("mona", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(resp.headers()["location"], "/", "one usable customer: no picker");
    let me: Value = ok_json(&t.app.client, &t.app, "me", &[]).await;
    let offered: Vec<&str> = me["memberships"].as_array().unwrap().iter().map(|m| m["shortname"].as_str().unwrap()).collect();
    assert_eq!(offered, ["alpha"]);
}
