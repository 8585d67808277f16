//! The admin console, the customer-admin view and the account page, over
//! real HTTP: the table of rights, then what each action does and records.

use reqwest::header::ACCEPT;
use serde_json::Value;

use crate::helpers::{browser, spawn, TestApp, ADMIN_PASSWORD};
use crate::peeringdb::spawn_pdb;

/// Calls a server function the way the hydrated page does.
pub(crate) async fn call(client: &reqwest::Client, app: &TestApp, endpoint: &str, form: &[(&str, String)]) -> reqwest::Response {
    client
        .post(app.url(&format!("/api/{endpoint}")))
        .header(ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .expect("server function call")
}

pub(crate) async fn ok_json(client: &reqwest::Client, app: &TestApp, endpoint: &str, form: &[(&str, String)]) -> Value {
    let resp = call(client, app, endpoint, form).await;
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "{endpoint}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

pub(crate) fn f(pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (leak(k), v.to_string())).collect()
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// A local account with the test password; optionally a superadmin.
pub(crate) async fn local_user(app: &TestApp, username: &str, superadmin: bool) -> i64 {
    let hash = peerportal::password::hash(ADMIN_PASSWORD.to_string().into()).await.unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let email = format!("{username}@example.net");
    let new = peerportal::store::users::NewUser {
        username,
        name: username,
        email: &email,
        password_hash: Some(&hash),
        is_superadmin: superadmin,
        peeringdb_id: None,
        created_via: domain::CreatedVia::Cli,
    };
    let id = peerportal::store::users::insert(&mut tx, &new).await.unwrap();
    tx.commit().await.unwrap();
    id
}

pub(crate) async fn grant(app: &TestApp, user_id: i64, shortname: &str, role: app::Role) {
    let customer = peerportal::store::customers::id_by_shortname(&app.db, shortname).await.unwrap().unwrap();
    let mut tx = app.db.begin().await.unwrap();
    peerportal::store::grants::grant_manual(&mut tx, user_id, customer, role).await.unwrap();
    tx.commit().await.unwrap();
}

pub(crate) async fn customer_id(app: &TestApp, shortname: &str) -> i64 {
    peerportal::store::customers::id_by_shortname(&app.db, shortname).await.unwrap().unwrap()
}

pub(crate) async fn logged_in(app: &TestApp, username: &str) -> reqwest::Client {
    let client = browser(&app.base);
    let resp = client
        .post(app.url("/api/login"))
        .header(ACCEPT, "application/json")
        .form(&[("username", username), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success() || resp.status().is_redirection(), "login {username}: {}", resp.status());
    client
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    Member,
    CustomerAdmin,
    Superadmin,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    Allowed,
    Unauthenticated,
    Forbidden,
    /// Allowed to ask; there was nothing of theirs by that name.
    NotFound,
    /// Allowed to ask; the request was refused on its merits (409, 422).
    Invalid,
}

/// The exchange every rights test starts from: the demo customers, a
/// superadmin, an admin and a member of Alpha, and people to act on.
struct World {
    app: TestApp,
    alpha: i64,
    beta: i64,
    member: i64,
    target: i64,
    linked: i64,
}

async fn world() -> World {
    let app = spawn().await;
    crate::helpers::import_demo_customers(&app.db).await;
    local_user(&app, "ops", true).await;
    let cadmin = local_user(&app, "cadmin", false).await;
    let member = local_user(&app, "member", false).await;
    let target = local_user(&app, "target", false).await;
    grant(&app, cadmin, "alpha", app::Role::Admin).await;
    grant(&app, member, "alpha", app::Role::Member).await;
    grant(&app, target, "alpha", app::Role::Member).await;
    grant(&app, target, "beta", app::Role::Member).await;
    let mut tx = app.db.begin().await.unwrap();
    let new = peerportal::store::users::NewUser {
        username: "linked",
        name: "Linked",
        email: "linked@example.net",
        password_hash: None,
        is_superadmin: false,
        peeringdb_id: Some(4242),
        created_via: domain::CreatedVia::Peeringdb,
    };
    let linked = peerportal::store::users::insert(&mut tx, &new).await.unwrap();
    tx.commit().await.unwrap();
    let (alpha, beta) = (customer_id(&app, "alpha").await, customer_id(&app, "beta").await);
    World { app, alpha, beta, member, target, linked }
}

/// One row of the table of rights: a server function, its arguments, and
/// the answer for (anonymous, member, customer admin, superadmin).
struct Right {
    endpoint: &'static str,
    args: fn(&World) -> Vec<(&'static str, String)>,
    answers: [Answer; 4],
}

use Answer::{Allowed as A, Forbidden as F, Invalid as I, NotFound as N, Unauthenticated as U};

/// The table of rights, as the README states it. Every server function is
/// here; a new one without a row fails `every_server_function_is_in_the_table`.
fn rights() -> Vec<Right> {
    vec![
        Right { endpoint: "site_info", args: |_| vec![], answers: [A, A, A, A] },
        Right { endpoint: "me", args: |_| vec![], answers: [A, A, A, A] },
        Right { endpoint: "choose_customer", args: |w| f(&[("customer_id", &w.alpha.to_string())]), answers: [U, A, A, F] },
        Right { endpoint: "account", args: |_| vec![], answers: [U, A, A, A] },
        Right { endpoint: "account/peeringdb_login", args: |_| f(&[("allowed", "true")]), answers: [U, A, A, A] },
        // Nobody has a session of that name: signed in, the answer is "not found".
        Right { endpoint: "account/end_session", args: |_| f(&[("handle", "nosuch")]), answers: [U, N, N, N] },
        Right {
            endpoint: "account/password",
            args: |_| f(&[("current", ADMIN_PASSWORD), ("new", ADMIN_PASSWORD), ("again", ADMIN_PASSWORD)]),
            answers: [U, A, A, A],
        },
        // Two-factor: nothing was started yet, so confirming is refused on
        // its merits; a wrong password refuses switching off; without a
        // password given in this browser the second step is no login.
        Right { endpoint: "account/2fa", args: |_| vec![], answers: [U, A, A, A] },
        Right { endpoint: "account/2fa/confirm", args: |_| f(&[("code", "000000")]), answers: [U, I, I, I] },
        Right { endpoint: "account/2fa/start", args: |_| vec![], answers: [U, A, A, A] },
        Right { endpoint: "account/2fa/disable", args: |_| f(&[("password", "wrong"), ("code", "000000")]), answers: [U, I, I, I] },
        Right { endpoint: "login/second_factor", args: |_| f(&[("code", "000000")]), answers: [U, U, U, U] },
        // Anyone may ask for a reset; this exchange sends no mail, which
        // the answer says (reset.rs tests it with mail on).
        Right { endpoint: "login/forgot", args: |_| f(&[("who", "member")]), answers: [I, I, I, I] },
        Right { endpoint: "login/reset_link", args: |_| f(&[("token", "nosuch")]), answers: [A, A, A, A] },
        Right {
            endpoint: "login/reset",
            args: |_| f(&[("token", "nosuch"), ("new", "a new password here"), ("again", "a new password here")]),
            answers: [I, I, I, I],
        },
        Right { endpoint: "customer/access", args: |w| f(&[("customer_id", &w.alpha.to_string())]), answers: [U, F, A, A] },
        Right { endpoint: "customer/access#other", args: |w| f(&[("customer_id", &w.beta.to_string())]), answers: [U, F, F, A] },
        Right {
            endpoint: "customer/revoke",
            args: |w| f(&[("customer_id", &w.alpha.to_string()), ("user_id", &w.target.to_string())]),
            answers: [U, F, A, A],
        },
        Right {
            endpoint: "customer/revoke#other",
            args: |w| f(&[("customer_id", &w.beta.to_string()), ("user_id", &w.target.to_string())]),
            answers: [U, F, F, A],
        },
        Right {
            endpoint: "customer/require_mfa",
            args: |w| f(&[("customer_id", &w.alpha.to_string()), ("require", "on")]),
            answers: [U, F, A, A],
        },
        Right {
            endpoint: "customer/require_mfa#other",
            args: |w| f(&[("customer_id", &w.beta.to_string()), ("require", "on")]),
            answers: [U, F, F, A],
        },
        // This exchange sends no mail: an allowed invitation is refused on
        // that ground (invitations.rs tests them with mail on).
        Right {
            endpoint: "customer/invite",
            args: |w| f(&[("customer_id", &w.alpha.to_string()), ("email", "new@example.net"), ("role", "member")]),
            answers: [U, F, I, I],
        },
        Right {
            endpoint: "customer/invite#other",
            args: |w| f(&[("customer_id", &w.beta.to_string()), ("email", "new@example.net"), ("role", "member")]),
            answers: [U, F, F, I],
        },
        Right {
            endpoint: "customer/withdraw_invitation",
            args: |w| f(&[("customer_id", &w.alpha.to_string()), ("invitation_id", "999")]),
            answers: [U, F, N, N],
        },
        Right {
            endpoint: "customer/withdraw_invitation#other",
            args: |w| f(&[("customer_id", &w.beta.to_string()), ("invitation_id", "999")]),
            answers: [U, F, F, N],
        },
        Right {
            endpoint: "customer/peeringdb",
            args: |w| f(&[("customer_id", &w.alpha.to_string()), ("peeringdb_login", "on"), ("max_role", "")]),
            answers: [U, F, A, A],
        },
        Right {
            endpoint: "customer/peeringdb#other",
            args: |w| f(&[("customer_id", &w.beta.to_string()), ("peeringdb_login", "on"), ("max_role", "")]),
            answers: [U, F, F, A],
        },
        Right { endpoint: "invitation", args: |_| f(&[("token", "nosuch")]), answers: [N, N, N, N] },
        Right { endpoint: "invitation/accept", args: |_| f(&[("token", "nosuch")]), answers: [U, N, N, N] },
        Right {
            endpoint: "invitation/join",
            args: |_| f(&[("token", "nosuch"), ("username", "x"), ("name", "X"), ("password", "a long password"), ("again", "a long password")]),
            answers: [N, N, N, N],
        },
        Right { endpoint: "admin/customers", args: |_| f(&[("q", ""), ("page", "0")]), answers: [U, F, F, A] },
        Right { endpoint: "admin/customer", args: |w| f(&[("id", &w.alpha.to_string())]), answers: [U, F, F, A] },
        Right {
            endpoint: "admin/save_customer",
            args: |_| f(&[("name", "New Co"), ("shortname", "newco"), ("asns", "13335 15169"), ("kind", "full"), ("status", "active"), ("peeringdb_login", "on")]),
            answers: [U, F, F, A],
        },
        Right {
            endpoint: "admin/import_customers",
            args: |_| f(&[("csv", "name,shortname,asns,type,status,peeringdb_login\nImported,imported,13335,full,active,true\n"), ("commit", "on")]),
            answers: [U, F, F, A],
        },
        Right {
            endpoint: "admin/import_ixf",
            args: |_| f(&[("json", include_str!("../../../fixtures/ixf/v0.7.json")), ("allow_reserved", "on"), ("commit", "on")]),
            answers: [U, F, F, A],
        },
        Right { endpoint: "admin/users", args: |_| f(&[("q", ""), ("page", "0")]), answers: [U, F, F, A] },
        Right { endpoint: "admin/user", args: |w| f(&[("id", &w.member.to_string())]), answers: [U, F, F, A] },
        Right {
            endpoint: "admin/create_user",
            args: |_| f(&[("username", "newbie"), ("name", "New Bie"), ("email", "newbie@example.net"), ("password", ADMIN_PASSWORD)]),
            answers: [U, F, F, A],
        },
        Right {
            endpoint: "admin/grant",
            args: |w| f(&[("user_id", &w.member.to_string()), ("customer", "gamma"), ("role", "member")]),
            answers: [U, F, F, A],
        },
        Right {
            endpoint: "admin/revoke",
            args: |w| f(&[("user_id", &w.member.to_string()), ("customer_id", &w.alpha.to_string())]),
            answers: [U, F, F, A],
        },
        Right {
            endpoint: "admin/set_disabled",
            args: |w| f(&[("user_id", &w.linked.to_string()), ("disabled", "true")]),
            answers: [U, F, F, A],
        },
        Right { endpoint: "admin/resync_user", args: |w| f(&[("user_id", &w.member.to_string())]), answers: [U, F, F, A] },
        Right { endpoint: "admin/unlink_peeringdb", args: |w| f(&[("user_id", &w.linked.to_string())]), answers: [U, F, F, A] },
        Right {
            endpoint: "admin/audit",
            args: |_| f(&[("user", ""), ("customer", ""), ("event", ""), ("from", ""), ("to", ""), ("page", "0")]),
            answers: [U, F, F, A],
        },
        Right { endpoint: "admin/peeringdb", args: |_| vec![], answers: [U, F, F, A] },
        Right { endpoint: "admin/mail", args: |_| vec![], answers: [U, F, F, A] },
        Right { endpoint: "admin/activity", args: |_| vec![], answers: [U, F, F, A] },
        // Mail is off in this exchange: nothing to retry, and the answer says why.
        Right { endpoint: "admin/mail/retry", args: |_| vec![], answers: [U, F, F, I] },
        Right {
            endpoint: "admin/delete_customer",
            args: |w| f(&[("id", &w.beta.to_string()), ("confirm", "on")]),
            answers: [U, F, F, A],
        },
        Right {
            endpoint: "admin/delete_user",
            args: |w| f(&[("user_id", &w.linked.to_string()), ("confirm", "on")]),
            answers: [U, F, F, A],
        },
        // Nothing to reset, but allowed to ask.
        Right {
            endpoint: "admin/reset_2fa",
            args: |w| f(&[("user_id", &w.member.to_string()), ("confirm", "on")]),
            answers: [U, F, F, A],
        },
        // Last: it ends the caller's session.
        Right { endpoint: "account/logout_everywhere", args: |_| vec![], answers: [U, A, A, A] },
    ]
}

fn classify(status: reqwest::StatusCode) -> Option<Answer> {
    match status.as_u16() {
        200..=399 => Some(Answer::Allowed),
        401 => Some(Answer::Unauthenticated),
        403 => Some(Answer::Forbidden),
        404 => Some(Answer::NotFound),
        409 | 422 => Some(Answer::Invalid),
        _ => None,
    }
}

#[tokio::test]
async fn each_role_gets_exactly_what_the_table_of_rights_allows() {
    let mut mismatches = Vec::new();
    for (column, who) in [Who::Anonymous, Who::Member, Who::CustomerAdmin, Who::Superadmin].into_iter().enumerate() {
        // A fresh exchange per role: what one role changes cannot decide another's answer.
        let w = world().await;
        let client = match who {
            Who::Anonymous => browser(&w.app.base),
            Who::Member => logged_in(&w.app, "member").await,
            Who::CustomerAdmin => logged_in(&w.app, "cadmin").await,
            Who::Superadmin => logged_in(&w.app, "ops").await,
        };
        for right in rights() {
            let endpoint = right.endpoint.split('#').next().unwrap();
            let resp = call(&client, &w.app, endpoint, &(right.args)(&w)).await;
            let status = resp.status();
            let got = classify(status);
            if got != Some(right.answers[column]) {
                mismatches.push(format!("{who:?} {}: expected {:?}, got {status} {}", right.endpoint, right.answers[column], resp.text().await.unwrap()));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn every_server_function_is_in_the_table() {
    let in_table: std::collections::BTreeSet<&str> = rights().iter().map(|r| r.endpoint.split('#').next().unwrap()).collect();
    let sources = [include_str!("../../../app/src/api/auth.rs"), include_str!("../../../app/src/api/console.rs"), include_str!("../../../app/src/api/account.rs")];
    let mut declared = std::collections::BTreeSet::new();
    for src in sources {
        for piece in src.split("endpoint = \"").skip(1) {
            declared.insert(piece.split('"').next().unwrap());
        }
    }
    // `login` has its own tests (password_login.rs): it is for anonymous visitors.
    declared.remove("login");
    assert_eq!(declared, in_table);
}

#[tokio::test]
async fn a_superadmin_creates_a_customer_with_two_asns_and_the_audit_log_says_so() {
    let w = world().await;
    let ops = logged_in(&w.app, "ops").await;
    let form = f(&[("name", "Acme Networks"), ("shortname", "acme"), ("asns", "AS13335, 15169"), ("kind", "full"), ("status", "active"), ("peeringdb_login", "on"), ("max_role", "member")]);
    let id = ok_json(&ops, &w.app, "admin/save_customer", &form).await.as_i64().unwrap();
    let c = ok_json(&ops, &w.app, "admin/customer", &f(&[("id", &id.to_string())])).await;
    assert_eq!(c["asns"], serde_json::json!([13335, 15169]));
    assert_eq!(c["peeringdb_max_role"], "Member");
    let found = ok_json(&ops, &w.app, "admin/customers", &f(&[("q", "AS15169"), ("page", "0")])).await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["shortname"], "acme");
    let (event, details) = w.app.audit_events().await.pop().unwrap();
    assert_eq!(event, "customer.created");
    assert!(details.contains("\"asns\":[13335,15169]"), "{details}");
}

#[tokio::test]
async fn bad_customers_are_refused_with_the_reason_and_nothing_is_written() {
    let w = world().await;
    let ops = logged_in(&w.app, "ops").await;
    let before = w.app.snapshot_without_audit().await;
    let cases = [
        ("asns", "0", "RFC 7607"),
        ("asns", "23456", "AS_TRANS"),
        ("asns", "64512", "private use"),
        ("asns", "4294967296", "not an ASN"),
        ("asns", "", "at least one ASN"),
        ("shortname", "Has Space", "shortname"),
        ("kind", "gold", "type"),
        ("status", "gone", "status"),
        ("name", " ", "name is empty"),
    ];
    for (field, value, expected) in cases {
        let mut form = f(&[("name", "X"), ("shortname", "x"), ("asns", "13335"), ("kind", "full"), ("status", "active")]);
        form.retain(|(k, _)| *k != field);
        form.push((leak(field), value.to_string()));
        let resp = call(&ops, &w.app, "admin/save_customer", &form).await;
        assert_eq!(resp.status(), 422, "{field}={value}");
        let text = resp.text().await.unwrap().to_lowercase();
        assert!(text.contains(&expected.to_lowercase()), "{field}={value}: {text}");
    }
    // Taken shortname: a conflict, not a crash.
    let form = f(&[("name", "Dup"), ("shortname", "alpha"), ("asns", "13335"), ("kind", "full"), ("status", "active")]);
    assert_eq!(call(&ops, &w.app, "admin/save_customer", &form).await.status(), 409);
    assert_eq!(w.app.snapshot_without_audit().await, before);
    // Forced, a private ASN is accepted.
    let form = f(&[("name", "Lab"), ("shortname", "lab"), ("asns", "64512"), ("kind", "internal"), ("status", "active"), ("allow_reserved", "on")]);
    ok_json(&ops, &w.app, "admin/save_customer", &form).await;
}

#[tokio::test]
async fn the_import_preview_lists_every_bad_row_and_writes_nothing() {
    let w = world().await;
    let ops = logged_in(&w.app, "ops").await;
    let before = w.app.snapshot_without_audit().await;
    let csv = "name,shortname,asns,type,status,peeringdb_login\nGood,good,13335,full,active,true\nBad,bad,0,full,active,true\nWorse,worse,13335,gold,active,true\n";
    let preview = ok_json(&ops, &w.app, "admin/import_customers", &f(&[("csv", csv), ("commit", "on")])).await;
    let lines: Vec<i64> = preview["errors"].as_array().unwrap().iter().map(|e| e[0].as_i64().unwrap()).collect();
    assert_eq!(lines, vec![3, 4]);
    assert_eq!(preview["committed"], false);
    assert_eq!(w.app.snapshot_without_audit().await, before);

    let csv = "name,shortname,asns,type,status,peeringdb_login\nGood,good,13335,full,active,true\nAlpha Renamed,alpha,64500,full,active,true\n";
    let preview = ok_json(&ops, &w.app, "admin/import_customers", &f(&[("csv", csv), ("allow_reserved", "on")])).await;
    assert_eq!((preview["rows"][0]["new"].as_bool(), preview["rows"][1]["new"].as_bool()), (Some(true), Some(false)));
    assert_eq!(w.app.snapshot_without_audit().await, before, "a preview writes nothing");
    // 64500 is a documentation ASN: the commit needs the box ticked.
    let refused = ok_json(&ops, &w.app, "admin/import_customers", &f(&[("csv", csv), ("commit", "on")])).await;
    assert_eq!(refused["committed"], false);
    assert!(refused["errors"][0][1].as_str().unwrap().contains("documentation"), "{refused}");
    let done = ok_json(&ops, &w.app, "admin/import_customers", &f(&[("csv", csv), ("commit", "on"), ("allow_reserved", "on")])).await;
    assert_eq!(done["committed"], true);
    assert_eq!(w.app.count("customers").await, 66);
}

#[tokio::test]
async fn manual_grants_are_added_changed_and_revoked_with_an_audit_row_each() {
    let w = world().await;
    let ops = logged_in(&w.app, "ops").await;
    let uid = w.member.to_string();
    ok_json(&ops, &w.app, "admin/grant", &f(&[("user_id", &uid), ("customer", "gamma"), ("role", "member")])).await;
    ok_json(&ops, &w.app, "admin/grant", &f(&[("user_id", &uid), ("customer", "gamma"), ("role", "admin")])).await;
    let detail = ok_json(&ops, &w.app, "admin/user", &f(&[("id", &uid)])).await;
    let gamma = detail["affiliations"].as_array().unwrap().iter().find(|a| a["shortname"] == "gamma").unwrap().clone();
    assert_eq!((gamma["role"].as_str(), gamma["source"].as_str()), (Some("Admin"), Some("Manual")));
    let gamma_id = customer_id(&w.app, "gamma").await.to_string();
    ok_json(&ops, &w.app, "admin/revoke", &f(&[("user_id", &uid), ("customer_id", &gamma_id)])).await;
    let events: Vec<String> = w.app.audit_events().await.into_iter().map(|(e, _)| e).filter(|e| e.starts_with("grant.")).collect();
    assert_eq!(events, ["grant.added", "grant.changed", "grant.removed"]);
    let log = ok_json(&ops, &w.app, "admin/audit", &f(&[("user", "member"), ("customer", "gamma"), ("event", "grant."), ("from", ""), ("to", ""), ("page", "0")])).await;
    let by: Vec<(&str, &str)> = log["items"].as_array().unwrap().iter().map(|i| (i["event"].as_str().unwrap(), i["actor_name"].as_str().unwrap())).collect();
    assert_eq!(by, [("grant.removed", "ops"), ("grant.changed", "ops"), ("grant.added", "ops")], "newest first, each by its admin");
    let unknown = call(&ops, &w.app, "admin/grant", &f(&[("user_id", &uid), ("customer", "nosuch"), ("role", "member")])).await;
    assert_eq!(unknown.status(), 422);
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_at_once() {
    let w = world().await;
    let member = logged_in(&w.app, "member").await;
    assert_eq!(member.get(w.app.url("/")).send().await.unwrap().status(), 200);
    let ops = logged_in(&w.app, "ops").await;
    ok_json(&ops, &w.app, "admin/set_disabled", &f(&[("user_id", &w.member.to_string()), ("disabled", "true")])).await;
    assert_eq!(member.get(w.app.url("/")).send().await.unwrap().status(), 302);
    assert_eq!(w.app.login_js("member", ADMIN_PASSWORD).await.status(), 403, "disabled accounts cannot log in");
    ok_json(&ops, &w.app, "admin/set_disabled", &f(&[("user_id", &w.member.to_string()), ("disabled", "false")])).await;
    assert!(w.app.login_js("member", ADMIN_PASSWORD).await.status().is_success());
}

#[tokio::test]
async fn a_superadmin_cannot_disable_themselves() {
    let w = world().await;
    let ops = logged_in(&w.app, "ops").await;
    let me = ok_json(&ops, &w.app, "me", &[]).await;
    let resp = call(&ops, &w.app, "admin/set_disabled", &f(&[("user_id", &me["user_id"].to_string()), ("disabled", "true")])).await;
    assert_eq!(resp.status(), 409);
}

#[tokio::test]
async fn a_customer_admin_revokes_manual_grants_of_their_own_customer_only() {
    let w = world().await;
    let cadmin = logged_in(&w.app, "cadmin").await;
    let access = ok_json(&cadmin, &w.app, "customer/access", &f(&[("customer_id", &w.alpha.to_string())])).await;
    let names: Vec<&str> = access["entries"].as_array().unwrap().iter().map(|e| e["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["cadmin", "member", "target"]);
    ok_json(&cadmin, &w.app, "customer/revoke", &f(&[("customer_id", &w.alpha.to_string()), ("user_id", &w.target.to_string())])).await;
    // Target keeps Beta: another customer's access is not theirs to touch.
    let resp = call(&cadmin, &w.app, "customer/revoke", &f(&[("customer_id", &w.beta.to_string()), ("user_id", &w.target.to_string())])).await;
    assert_eq!(resp.status(), 403);
    let me = ok_json(&cadmin, &w.app, "me", &[]).await;
    let resp = call(&cadmin, &w.app, "customer/revoke", &f(&[("customer_id", &w.alpha.to_string()), ("user_id", &me["user_id"].to_string())])).await;
    assert_eq!(resp.status(), 409, "no locking yourself out");
    let (event, details) = w.app.audit_events().await.pop().unwrap();
    assert_eq!(event, "grant.removed");
    assert!(details.contains("\"by\":\"customer admin\""), "{details}");
}

#[tokio::test]
async fn peeringdb_grants_cannot_be_revoked_by_hand_and_unlinking_removes_only_them() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    local_user(&t.app, "ops", true).await;
    let ops = logged_in(&t.app, "ops").await;
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    let alpha = customer_id(&t.app, "alpha").await;
    let resp = call(&ops, &t.app, "admin/revoke", &f(&[("user_id", &alice.to_string()), ("customer_id", &alpha.to_string())])).await;
    assert_eq!(resp.status(), 409);
    assert!(resp.text().await.unwrap().contains("comes from PeeringDB"));

    ok_json(&ops, &t.app, "admin/grant", &f(&[("user_id", &alice.to_string()), ("customer", "gamma"), ("role", "member")])).await;
    ok_json(&ops, &t.app, "admin/unlink_peeringdb", &f(&[("user_id", &alice.to_string())])).await;
    let detail = ok_json(&ops, &t.app, "admin/user", &f(&[("id", &alice.to_string())])).await;
    let left: Vec<&str> = detail["affiliations"].as_array().unwrap().iter().map(|a| a["shortname"].as_str().unwrap()).collect();
    assert_eq!(left, ["gamma"], "only the manual grant survives the unlink");
    assert_eq!(detail["user"]["peeringdb_id"], Value::Null);
    assert_eq!(t.app.get("/").await.status(), 302, "alice's session ended");
}

#[tokio::test]
async fn switching_a_customers_peeringdb_login_off_removes_the_grant_and_no_login_brings_it_back() {
    let t = spawn_pdb(&[]).await;
    local_user(&t.app, "ops", true).await;
    let ops = logged_in(&t.app, "ops").await;
    let form = f(&[("name", "Acme"), ("shortname", "acme"), ("asns", "64501 64999"), ("kind", "full"), ("status", "active"), ("peeringdb_login", "on"), ("allow_reserved", "on")]);
    let acme = ok_json(&ops, &t.app, "admin/save_customer", &form).await.as_i64().unwrap();
    t.login_as("alice", true).await;
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    let detail = ok_json(&ops, &t.app, "admin/user", &f(&[("id", &alice.to_string())])).await;
    let a = detail["affiliations"].as_array().unwrap().iter().find(|a| a["customer_id"] == acme).cloned().expect("alice got Acme");
    assert_eq!(a["source"], "Peeringdb");

    let mut off = form.clone();
    off.retain(|(k, _)| *k != "peeringdb_login");
    off.push(("id", acme.to_string()));
    ok_json(&ops, &t.app, "admin/save_customer", &off).await;
    t.login_as("alice", true).await;
    let detail = ok_json(&ops, &t.app, "admin/user", &f(&[("id", &alice.to_string())])).await;
    assert!(!detail["affiliations"].as_array().unwrap().iter().any(|a| a["customer_id"] == acme), "{detail}");
    let removed = ok_json(&ops, &t.app, "admin/audit", &f(&[("user", "alice.anders"), ("customer", "acme"), ("event", "grant."), ("from", ""), ("to", ""), ("page", "0")])).await;
    let events: Vec<&str> = removed["items"].as_array().unwrap().iter().map(|i| i["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["grant.removed", "grant.added"]);
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_exports_for_superadmins_only() {
    let w = world().await;
    let ops = logged_in(&w.app, "ops").await;
    for _ in 0..3 {
        w.app.login_js("member", "wrong password!").await;
    }
    let all = |event: &str, from: &str, to: &str| {
        f(&[("user", "member"), ("customer", ""), ("event", event), ("from", from), ("to", to), ("page", "0")])
    };
    let refused = ok_json(&ops, &w.app, "admin/audit", &all("login.refused", "", "")).await;
    assert_eq!(refused["total"], 3);
    let logins = ok_json(&ops, &w.app, "admin/audit", &all("login.", "", "")).await;
    assert_eq!(logins["total"], 3);
    let past = ok_json(&ops, &w.app, "admin/audit", &all("", "2000-01-01", "2000-12-31")).await;
    assert_eq!(past["total"], 0);
    let bad = call(&ops, &w.app, "admin/audit", &all("", "yesterday", "")).await;
    assert_eq!(bad.status(), 422);
    let nobody = ok_json(&ops, &w.app, "admin/audit", &f(&[("user", "nobody"), ("customer", ""), ("event", ""), ("from", ""), ("to", ""), ("page", "0")])).await;
    assert_eq!(nobody["total"], 0);

    let csv = ops.get(w.app.url("/admin/audit.csv?user=member&event=login.refused")).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("wrong_password"));

    let member = logged_in(&w.app, "target").await;
    assert_eq!(member.get(w.app.url("/admin/audit.csv")).send().await.unwrap().status(), 403);
    assert_eq!(browser(&w.app.base).get(w.app.url("/admin/audit.csv")).send().await.unwrap().status(), 302);
}

#[tokio::test]
async fn the_peeringdb_status_page_shows_the_client_id_and_never_the_secret() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    t.login_as("bob", true).await;
    local_user(&t.app, "ops", true).await;
    let ops = logged_in(&t.app, "ops").await;
    let resp = call(&ops, &t.app, "admin/peeringdb", &[]).await;
    let text = resp.text().await.unwrap();
    assert!(!text.contains("test-client-secret-value"), "{text}");
    let s: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(s["enabled"], true);
    assert_eq!(s["client_id"], "test-client");
    assert_eq!(s["redirect_uri"], t.app.url("/auth/peeringdb/callback"));
    assert_eq!(s["linked_users"], 1);
    assert_eq!(s["last_success"]["username"], "alice.anders");
    assert!(s["last_failure"]["details"].as_str().unwrap().contains("no_customer"), "{s}");
    let page = ops.get(t.app.url("/admin/peeringdb")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("test-client") && !page.contains("test-client-secret-value"));
}

#[tokio::test]
async fn switching_peeringdb_login_off_on_the_account_page_refuses_the_next_peeringdb_login() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    ok_json(&t.app.client, &t.app, "account/peeringdb_login", &f(&[("allowed", "false")])).await;
    let account = ok_json(&t.app.client, &t.app, "account", &[]).await;
    assert_eq!(account["peeringdb_login_allowed"], false);
    let flow = t.login_as("alice", true).await;
    assert_eq!(flow.response.headers()["location"], "/login?error=pdb_user_opted_out");
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let w = world().await;
    let laptop = logged_in(&w.app, "member").await;
    let phone = logged_in(&w.app, "member").await;
    let wrong = call(&laptop, &w.app, "account/password", &f(&[("current", "not it at all"), ("new", "a brand new password"), ("again", "a brand new password")])).await;
    assert_eq!(wrong.status(), 422);
    let short = call(&laptop, &w.app, "account/password", &f(&[("current", ADMIN_PASSWORD), ("new", "short"), ("again", "short")])).await;
    assert_eq!(short.status(), 422);
    ok_json(&laptop, &w.app, "account/password", &f(&[("current", ADMIN_PASSWORD), ("new", "a brand new password"), ("again", "a brand new password")])).await;
    assert_eq!(laptop.get(w.app.url("/account")).send().await.unwrap().status(), 200, "this session goes on");
    assert_eq!(phone.get(w.app.url("/account")).send().await.unwrap().status(), 302, "the other one ended");
    assert!(w.app.login_js("member", "a brand new password").await.status().is_success());
}

#[tokio::test]
async fn log_out_everywhere_ends_every_session_of_the_account() {
    let w = world().await;
    let laptop = logged_in(&w.app, "member").await;
    let phone = logged_in(&w.app, "member").await;
    let history = ok_json(&laptop, &w.app, "account", &[]).await;
    assert_eq!(history["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(history["history"][0]["event"], "login.success");
    call(&laptop, &w.app, "account/logout_everywhere", &[]).await;
    assert_eq!(laptop.get(w.app.url("/")).send().await.unwrap().status(), 302);
    assert_eq!(phone.get(w.app.url("/")).send().await.unwrap().status(), 302);
}

#[tokio::test]
async fn an_unknown_word_in_the_database_is_an_error_not_a_default() {
    let w = world().await;
    let ops = logged_in(&w.app, "ops").await;
    peerportal::with_db!(&w.app.db, p => sqlx::query(
        "INSERT INTO audit_log (at, actor, event, details) VALUES ($1, 'cli', 'login.teleported', '{}')")
        .bind(time::OffsetDateTime::now_utc()).execute(p).await.map(|_| ())).unwrap();
    let resp = call(&ops, &w.app, "admin/audit", &f(&[("user", ""), ("customer", ""), ("event", ""), ("from", ""), ("to", ""), ("page", "0")])).await;
    assert_eq!(resp.status(), 500, "never shown as some other event");
    assert!(w.app.logs.text().contains(r#""login.teleported" is not a known audit event"#), "the cause is logged");
}

#[tokio::test]
async fn console_changes_need_a_same_origin_request() {
    let w = world().await;
    let ops = logged_in(&w.app, "ops").await;
    let before = w.app.snapshot_without_audit().await;
    let resp = ops
        .post(w.app.url("/api/admin/delete_customer"))
        .header("origin", "https://evil.example")
        .form(&[("id", w.alpha.to_string()), ("confirm", "on".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(w.app.snapshot_without_audit().await, before);
}

/// A page that never finishes fails the test with its name instead of
/// hanging the suite.
async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(30), f).await.unwrap_or_else(|_| panic!("{what}: no answer in 30 s"))
}

#[tokio::test]
async fn console_pages_render_on_the_server_for_a_superadmin() {
    let w = world().await;
    let ops = logged_in(&w.app, "ops").await;
    for (path, expect) in [
        ("/admin/customers?q=alpha", "Alpha Net"),
        (&format!("/admin/customers/{}", w.alpha) as &str, "Allow login with PeeringDB"),
        ("/admin/customers/new", "New customer"),
        ("/admin/customers/import", "Preview"),
        ("/admin/customers/import-ixf", "Export URL"),
        ("/admin/users?q=member", "member@example.net"),
        (&format!("/admin/users/{}", w.target), "Beta Net"),
        ("/admin/users/new", "New local user"),
        ("/admin/audit?event=login.", "Audit log"),
        ("/admin/peeringdb", "Login with PeeringDB"),
        ("/account", "Log out everywhere"),
    ] {
        let resp = within(path, ops.get(w.app.url(path)).send()).await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let html = within(path, resp.text()).await.unwrap();
        assert!(html.contains(expect), "{path} lacks {expect:?}");
    }
    let member = within("member login", logged_in(&w.app, "member")).await;
    let resp = within("member /admin/customers", member.get(w.app.url("/admin/customers")).send()).await.unwrap();
    let html = within("member /admin/customers body", resp.text()).await.unwrap();
    assert!(!html.contains("PeeringDB login</th>") && html.contains("for the exchange"), "a member sees no customer list");
}

#[tokio::test]
async fn the_console_charts_logins_per_day_by_method_and_refusals_by_reason_without_javascript() {
    let t = spawn_pdb(&[]).await;
    local_user(&t.app, "ops", true).await;
    t.login_as("alice", true).await;
    t.login_as("alice", true).await;
    t.login_as("alice", false).await; // cancelled at PeeringDB
    t.app.login_form("ops", "not the password").await;
    let ops = logged_in(&t.app, "ops").await;

    let activity = ok_json(&ops, &t.app, "admin/activity", &[]).await;
    let days = activity["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = &days[29];
    assert_eq!(today["date"], peerportal::store::now().date().to_string());
    assert_eq!((today["peeringdb"].as_u64(), today["password"].as_u64(), today["refused"].as_u64()), (Some(2), Some(1), Some(2)));
    let reasons: Vec<(String, u64)> = serde_json::from_value(activity["refusals"].clone()).unwrap();
    assert_eq!(reasons, [("cancelled at PeeringDB".to_string(), 1), ("wrong password".to_string(), 1)]);

    // Rendered on the server: the SVG and its table are in the page itself.
    for page in ["/admin", "/admin/peeringdb"] {
        let html = ops.get(t.app.url(page)).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("<svg") && html.contains("Logins per day for the last 30 days"), "{page}: {html}");
        assert!(html.contains("<th scope=\"row\">wrong password</th>"), "{page}: {html}");
        assert!(html.contains("2 with PeeringDB, 1 with a password, 2 refused."), "{page}: {html}");
    }
}

#[tokio::test]
async fn audit_rows_read_as_sentences_with_names_while_the_csv_keeps_the_json() {
    let t = spawn_pdb(&[]).await;
    let ops_id = local_user(&t.app, "ops", true).await;
    peerportal::with_db!(&t.app.db, p => sqlx::query("UPDATE users SET name = 'Olga Ops' WHERE id = $1").bind(ops_id).execute(p).await.map(|r| r.rows_affected())).unwrap();
    t.login_as("alice", true).await;
    let ops = logged_in(&t.app, "ops").await;
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap();
    ok_json(&ops, &t.app, "admin/grant", &f(&[("user_id", &alice.id.to_string()), ("customer", "gamma"), ("role", "member")])).await;

    let page = ops.get(t.app.url(&format!("/admin/users/{}", alice.id))).send().await.unwrap().text().await.unwrap();
    for sentence in ["Logged in with PeeringDB, with MFA", "Access to Alpha Net added as admin, via PeeringDB", "Access to Gamma", "by hand"] {
        assert!(page.contains(sentence), "{sentence:?} on the user's page: {page}");
    }
    let table = page.split("<table class=\"audit\">").nth(1).and_then(|t| t.split("</table>").next()).expect("the audit table");
    assert!(table.contains("Olga Ops"), "the actor is a person's name: {table}");
    assert!(!table.contains("user:") && !table.contains("&quot;"), "no actor ids, no JSON: {table}");

    let log = ops.get(t.app.url("/admin/audit")).send().await.unwrap().text().await.unwrap();
    assert!(log.contains("Access to Alpha Net added as admin, via PeeringDB") && log.contains(">PeeringDB<"), "{log}");
    let csv = ops.get(t.app.url("/admin/audit.csv")).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains(r#"{""role"":""admin"""#) || csv.contains(r#""role"":""admin"#), "the CSV keeps the recorded JSON: {csv}");
}

/// Posts a form as a browser without the bundle's help would: a plain form
/// post from `page`, answered with a redirect.
pub(crate) async fn plain_post(client: &reqwest::Client, app: &TestApp, path: &str, page: &str, form: &[(&str, String)]) -> reqwest::Response {
    client
        .post(app.url(path))
        .header(ACCEPT, "text/html")
        .header(reqwest::header::REFERER, app.url(page))
        .form(form)
        .send()
        .await
        .expect("form post")
}

pub(crate) fn location(resp: &reqwest::Response) -> String {
    resp.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn a_plain_form_post_comes_back_saying_it_succeeded_or_why_not() {
    let w = world().await;
    let ops = logged_in(&w.app, "ops").await;
    let page = format!("/admin/customers/{}", w.alpha);
    let form = f(&[("id", &w.alpha.to_string()), ("name", "Alpha Net"), ("shortname", "alpha"), ("asns", "64500"), ("kind", "full"), ("status", "active"), ("allow_reserved", "on")]);

    // Success: back to the page, which confirms it once.
    let resp = plain_post(&ops, &w.app, "/api/admin/save_customer", &page, &form).await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let back = location(&resp);
    assert!(back.ends_with(&format!("{page}?__ok=%2Fapi%2Fadmin%2Fsave_customer")), "{back}");
    let html = ops.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(">Saved.</div>"), "the page confirms the change");
    assert!(!ops.get(w.app.url(&page)).send().await.unwrap().text().await.unwrap().contains("Saved."), "only once");

    // A refusal from that confirmed page: the error, and no stale confirmation.
    let before = w.app.snapshot_without_audit().await;
    let taken = f(&[("id", &w.alpha.to_string()), ("name", "Alpha Net"), ("shortname", "beta"), ("asns", "64500"), ("kind", "full"), ("status", "active"), ("allow_reserved", "on")]);
    let resp = plain_post(&ops, &w.app, "/api/admin/save_customer", &format!("{page}?__ok=%2Fapi%2Fadmin%2Fsave_customer"), &taken).await;
    let back = location(&resp);
    assert!(back.contains("__err=") && !back.contains("__ok"), "{back}");
    let html = ops.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"role="alert""#) && !html.contains("Saved."), "the page says why, and nothing else");
    assert_eq!(w.app.snapshot_without_audit().await, before, "a refused post writes nothing");

    // A new customer gets its own page, which confirms it.
    let new = f(&[("name", "Gamma Two"), ("shortname", "gamma2"), ("asns", "13335"), ("kind", "full"), ("status", "active")]);
    let resp = plain_post(&ops, &w.app, "/api/admin/save_customer", "/admin/customers/new", &new).await;
    let id = customer_id(&w.app, "gamma2").await;
    assert_eq!(location(&resp), format!("/admin/customers/{id}?__ok=/api/admin/save_customer"));
}

#[tokio::test]
async fn the_import_page_answers_a_posted_csv_with_its_preview_and_writes_nothing_until_import() {
    let w = world().await;
    let ops = logged_in(&w.app, "ops").await;
    let member = logged_in(&w.app, "member").await;
    let before = w.app.snapshot_without_audit().await;
    let bad = "name,shortname,asns,type,status,peeringdb_login\nGood,good,13335,full,active,true\nBad,bad,0,full,active,true\n";
    let resp = plain_post(&ops, &w.app, "/admin/customers/import", "/admin/customers/import", &f(&[("csv", bad)])).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Nothing was imported") && html.contains("Line 3:"), "the bad row is named");
    assert!(html.contains("Bad,bad,0,full,active,true"), "the pasted CSV is kept in the form");

    let good = "name,shortname,asns,type,status,peeringdb_login\nGood,good,13335,full,active,true\n";
    let html = plain_post(&ops, &w.app, "/admin/customers/import", "/admin/customers/import", &f(&[("csv", good)])).await.text().await.unwrap();
    assert!(html.contains("1 to create, 0 to update") && html.contains("Import 1 customer"), "the preview offers the import");
    assert_eq!(w.app.snapshot_without_audit().await, before, "a preview writes nothing");

    // Someone else's post, or a member's, writes nothing either.
    let html = plain_post(&member, &w.app, "/admin/customers/import", "/admin/customers/import", &f(&[("csv", good)])).await.text().await.unwrap();
    assert!(html.contains("for the exchange's administrators") && !html.contains("to create"));
    let outsider = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = outsider.post(w.app.url("/admin/customers/import")).form(&f(&[("csv", good)])).send().await.unwrap();
    assert_eq!(resp.status(), 403, "a cross-site post is refused");
    assert_eq!(w.app.snapshot_without_audit().await, before);

    // Import: a plain post to the server function, back to the page, which says what it wrote.
    let resp = plain_post(&ops, &w.app, "/api/admin/import_customers", "/admin/customers/import", &f(&[("csv", good), ("commit", "on")])).await;
    let back = location(&resp);
    assert!(back.starts_with("/admin/customers/import"), "{back}");
    let html = ops.get(w.app.url(&back)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Imported: 1 created, 0 updated."), "the import says what it wrote");
    assert!(customer_id(&w.app, "good").await > 0);
}
