//! ID tokens: the OpenID relying-party conformance cases that apply to a
//! code-flow client, each its own test, against the simulator's faults;
//! and the MFA policy read from the token's `amr`.

use peeringdb_sim::{IdTokenFault, Jwks};

use crate::helpers::eventually;
use crate::peeringdb::{location, roles_of, spawn_pdb, PdbApp};

/// The last audit row, which must be a refused login, and its reason.
async fn refusal_reason(t: &PdbApp) -> String {
    let (event, details) = t.app.audit_events().await.pop().expect("an audit row");
    assert_eq!(event, "login.refused", "{details}");
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    details["reason"].as_str().unwrap().to_string()
}

/// Alice logs in while the simulator spoils her ID token with `fault`:
/// refused with the one message for ID tokens, the audit row names
/// `reason`, nothing else is written and her profile is never fetched.
async fn refused_for(fault: IdTokenFault, reason: &str) -> PdbApp {
    let t = spawn_pdb(&[]).await;
    t.sim.set_id_token_fault(Some(fault));
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_id_token", "{fault:?}");
    assert_eq!(refusal_reason(&t).await, reason, "{fault:?}");
    assert_eq!(t.app.count("users").await, 0, "a refused login creates no account");
    assert_eq!(t.app.count("affiliations").await, 0);
    assert_eq!(t.sim.calls().1, 0, "a token that does not check out costs no profile request");
    t
}

#[tokio::test]
async fn an_id_token_signed_by_peeringdb_is_accepted_and_its_amr_recorded() {
    let t = spawn_pdb(&[]).await;
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/choose");
    let (event, details) = t.app.audit_events().await.pop().unwrap();
    assert_eq!(event, "login.success");
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!((details["mfa"].as_bool(), details["id_token"].as_bool()), (Some(true), Some(true)));
    // The discovery document and key set are cached across logins.
    t.login_in(&crate::helpers::browser(&t.app.url("")), "alice", true).await;
    assert_eq!(t.sim.oidc_calls(), (1, 1));
    // The operator sees both policies.
    crate::console::local_user(&t.app, "ops", true).await;
    let ops = crate::console::logged_in(&t.app, "ops").await;
    let page = ops.get(t.app.url("/admin/peeringdb")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("checked: RS256 ID tokens") && page.contains("PEERINGDB_REQUIRE_MFA=admins"), "{page}");
}

#[tokio::test]
async fn an_invalid_issuer_is_refused() {
    refused_for(IdTokenFault::WrongIssuer, "id_token_issuer").await;
}

#[tokio::test]
async fn an_audience_that_is_not_this_portal_is_refused() {
    refused_for(IdTokenFault::WrongAudience, "id_token_audience").await;
}

#[tokio::test]
async fn a_missing_audience_is_refused() {
    refused_for(IdTokenFault::NoAudience, "id_token_no_aud").await;
}

#[tokio::test]
async fn several_audiences_without_this_portal_as_authorized_party_are_refused() {
    refused_for(IdTokenFault::SeveralAudiences, "id_token_audience").await;
}

#[tokio::test]
async fn a_missing_subject_is_refused() {
    refused_for(IdTokenFault::NoSubject, "id_token_no_sub").await;
}

#[tokio::test]
async fn a_missing_issue_time_is_refused() {
    refused_for(IdTokenFault::NoIssuedAt, "id_token_no_iat").await;
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    refused_for(IdTokenFault::WrongNonce, "id_token_nonce").await;
}

#[tokio::test]
async fn a_bad_rs256_signature_is_refused_and_the_tokens_are_revoked() {
    let t = refused_for(IdTokenFault::BadSignature, "id_token_signature").await;
    let access = t.sim.issued_tokens();
    assert_eq!(access.len(), 1);
    eventually("both tokens revoked", || {
        let revoked = t.sim.revoked();
        revoked.iter().any(|(tok, hint)| *tok == access[0] && hint.as_deref() == Some("access_token"))
            && revoked.iter().any(|(_, hint)| hint.as_deref() == Some("refresh_token"))
    })
    .await;
    assert!(t.sim.live_refresh_tokens().is_empty());
}

#[tokio::test]
async fn hs256_signed_with_the_client_secret_is_refused() {
    refused_for(IdTokenFault::Hs256, "id_token_algorithm").await;
}

#[tokio::test]
async fn alg_none_is_refused() {
    refused_for(IdTokenFault::AlgNone, "id_token_algorithm").await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    refused_for(IdTokenFault::Expired, "id_token_expired").await;
}

#[tokio::test]
async fn an_id_token_issued_in_the_future_is_refused() {
    refused_for(IdTokenFault::IssuedInFuture, "id_token_issued_in_future").await;
}

#[tokio::test]
async fn an_at_hash_of_another_access_token_is_refused() {
    refused_for(IdTokenFault::BadAccessTokenHash, "id_token_at_hash").await;
}

#[tokio::test]
async fn a_token_answer_without_an_id_token_is_refused() {
    refused_for(IdTokenFault::Missing, "id_token_missing").await;
}

#[tokio::test]
async fn a_subject_other_than_the_profiles_id_is_refused() {
    let t = spawn_pdb(&[]).await;
    t.sim.set_id_token_fault(Some(IdTokenFault::OtherSubject));
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_id_token");
    assert_eq!(refusal_reason(&t).await, "id_token_subject");
    assert_eq!(t.app.count("users").await, 0);
}

#[tokio::test]
async fn a_missing_key_id_with_one_key_in_the_set_is_accepted() {
    let t = spawn_pdb(&[]).await;
    t.sim.set_id_token_fault(Some(IdTokenFault::NoKeyId));
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/choose");
}

#[tokio::test]
async fn a_missing_key_id_with_several_keys_in_the_set_is_refused() {
    let t = spawn_pdb(&[]).await;
    t.sim.set_jwks(Jwks::All);
    t.sim.set_id_token_fault(Some(IdTokenFault::NoKeyId));
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_id_token");
    assert_eq!(refusal_reason(&t).await, "id_token_ambiguous_key");
}

#[tokio::test]
async fn a_rotated_signing_key_is_picked_up_by_fetching_the_key_set_again() {
    let t = spawn_pdb(&[]).await;
    assert_eq!(location(&t.login_as("alice", true).await.response), "/choose");
    t.sim.rotate_signing_key();
    let flow = t.login_in(&crate::helpers::browser(&t.app.url("")), "alice", true).await;
    assert_eq!(location(&flow.response), "/choose");
    assert_eq!(t.sim.oidc_calls(), (2, 2), "one fetch at the first login, one for the new key");
}

#[tokio::test]
async fn a_key_nobody_publishes_is_refused_after_one_more_fetch() {
    let t = refused_for(IdTokenFault::UnknownKey, "id_token_unknown_key").await;
    assert_eq!(t.sim.oidc_calls(), (2, 2), "the key set is fetched again once, not more");
}

#[tokio::test]
async fn an_unparseable_key_in_the_key_set_is_ignored() {
    let t = spawn_pdb(&[]).await;
    t.sim.set_jwks(Jwks::WithUnparseable);
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/choose");
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused_and_not_cached() {
    let t = spawn_pdb(&[]).await;
    t.sim.set_discovery_issuer(Some("https://auth.example.net/oauth2".into()));
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_discovery");
    assert_eq!(refusal_reason(&t).await, "pdb_discovery");
    assert_eq!(t.app.count("users").await, 0);
    let page = t.app.get("/login?error=pdb_discovery").await.text().await.unwrap();
    assert!(page.contains("OpenID Connect settings do not match"), "{page}");
    // Once PeeringDB is right again, the next login fetches it again.
    t.sim.set_discovery_issuer(None);
    let flow = t.login_in(&crate::helpers::browser(&t.app.url("")), "alice", true).await;
    assert_eq!(location(&flow.response), "/choose");
}

#[tokio::test]
async fn the_refusal_page_says_what_happened_without_the_details() {
    let t = refused_for(IdTokenFault::BadSignature, "id_token_signature").await;
    let page = t.app.get("/login?error=pdb_id_token").await.text().await.unwrap();
    assert!(page.contains("did not check out, so you were not logged in"), "{page}");
    assert!(!page.contains("signature"), "the page does not echo the technical reason");
}

#[tokio::test]
async fn with_oidc_off_no_id_token_is_asked_for_and_the_profiles_amr_counts() {
    let t = spawn_pdb(&[("PEERINGDB_OIDC", "off")]).await;
    let start = t.app.start_peeringdb(None).await;
    let url = url::Url::parse(location(&start)).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "profile email networks amr");
    assert!(!q.contains_key("nonce"));
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/choose");
    assert_eq!(t.sim.oidc_calls(), (0, 0));
    let (_, details) = t.app.audit_events().await.pop().unwrap();
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!((details["mfa"].as_bool(), details["id_token"].as_bool()), (Some(true), Some(false)));
}

// The MFA policy. Alice may update AS64500 at PeeringDB (admin of Alpha)
// and here logs in with a password alone; Erin uses a security key and
// may update AS65000 (admin of Erin Transit 00).

fn without_mfa(t: &PdbApp, user: &str) {
    let mut profile = t.sim.profile(user).unwrap();
    profile["amr"] = serde_json::json!(["pwd"]);
    t.sim.set_profile(user, profile);
}

fn alpha_and_beta(role: &str) -> Vec<(String, String, String)> {
    vec![("alpha".into(), role.into(), "peeringdb".into()), ("beta".into(), "member".into(), "peeringdb".into())]
}

#[tokio::test]
async fn with_the_admins_policy_a_login_without_mfa_is_a_member_and_told_why() {
    let t = spawn_pdb(&[]).await;
    without_mfa(&t, "alice");
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/choose");
    assert_eq!(roles_of(&t.app, "alice.anders").await, alpha_and_beta("member"));
    let html = t.app.get("/choose").await.text().await.unwrap();
    assert!(html.contains("member rights only at Alpha Net: admin rights need a PeeringDB login with a second factor"), "{html}");
    let (_, details) = t.app.audit_events().await.pop().unwrap();
    assert!(details.contains(r#""amr":["pwd"]"#) && details.contains(r#""mfa":false"#), "{details}");
    // Erin, with a security key, is admin where PeeringDB says so.
    t.login_in(&crate::helpers::browser(&t.app.url("")), "erin", true).await;
    assert_eq!(roles_of(&t.app, "erin.evans").await[0], ("erin00".into(), "admin".into(), "peeringdb".into()));
}

#[tokio::test]
async fn with_the_all_policy_a_login_without_mfa_is_refused() {
    let t = spawn_pdb(&[("PEERINGDB_REQUIRE_MFA", "all")]).await;
    without_mfa(&t, "alice");
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_mfa_required");
    assert_eq!(refusal_reason(&t).await, "mfa_required");
    let (_, details) = t.app.audit_events().await.pop().unwrap();
    assert!(details.contains(r#""amr":["pwd"]"#), "{details}");
    assert_eq!(t.app.count("users").await, 0);
    let page = t.app.get("/login?error=pdb_mfa_required").await.text().await.unwrap();
    assert!(page.contains("log in to PeeringDB with a second factor"), "{page}");
    let flow = t.login_in(&crate::helpers::browser(&t.app.url("")), "erin", true).await;
    assert_eq!(location(&flow.response), "/choose");
}

#[tokio::test]
async fn with_the_policy_off_a_login_without_mfa_gets_what_peeringdb_vouches_for() {
    let t = spawn_pdb(&[("PEERINGDB_REQUIRE_MFA", "off")]).await;
    without_mfa(&t, "alice");
    t.login_as("alice", true).await;
    assert_eq!(roles_of(&t.app, "alice.anders").await, alpha_and_beta("admin"));
}

#[tokio::test]
async fn a_customer_that_requires_mfa_admits_only_logins_with_it() {
    let t = spawn_pdb(&[("PEERINGDB_REQUIRE_MFA", "off")]).await;
    peerportal::with_db!(&t.app.db, p => sqlx::query("UPDATE customers SET peeringdb_require_mfa = TRUE WHERE shortname = 'alpha'")
        .execute(p).await.map(|_| ())).unwrap();
    without_mfa(&t, "alice");
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/", "Beta admits her, Alpha does not");
    assert_eq!(roles_of(&t.app, "alice.anders").await, vec![("beta".into(), "member".into(), "peeringdb".into())]);
    let html = t.app.get("/").await.text().await.unwrap();
    assert!(html.contains("Alpha Net requires a PeeringDB login with a second factor"), "{html}");
    // With a one-time code she gets Alpha too.
    let mut profile = t.sim.profile("alice").unwrap();
    profile["amr"] = serde_json::json!(["pwd", "otp"]);
    t.sim.set_profile("alice", profile);
    t.login_in(&crate::helpers::browser(&t.app.url("")), "alice", true).await;
    assert_eq!(roles_of(&t.app, "alice.anders").await, alpha_and_beta("admin"));
}

#[tokio::test]
async fn a_resync_keeps_the_mfa_of_the_last_login() {
    let t = spawn_pdb(&[]).await;
    without_mfa(&t, "alice");
    t.login_as("alice", true).await;
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    // The profile now says MFA, but a refresh is no authentication.
    let mut profile = t.sim.profile("alice").unwrap();
    profile["amr"] = serde_json::json!(["pwd", "mfa"]);
    t.sim.set_profile("alice", profile);
    t.app.portal().resync_user(alice, false).await.unwrap();
    assert_eq!(roles_of(&t.app, "alice.anders").await, alpha_and_beta("member"));
    // The next login with MFA gives admin back.
    t.login_in(&crate::helpers::browser(&t.app.url("")), "alice", true).await;
    assert_eq!(roles_of(&t.app, "alice.anders").await, alpha_and_beta("admin"));
}

#[tokio::test]
async fn a_customer_admin_requires_mfa_and_peeringdb_access_without_it_ends_at_once() {
    use crate::console::{call, customer_id, f, ok_json};
    let t = spawn_pdb(&[]).await;
    // Frank reads AS65000 at PeeringDB and logs in with a password alone.
    let mut frank = t.sim.profile("frank").unwrap();
    frank["networks"] = serde_json::json!([{ "id": 9, "asn": 65000, "perms": 1 }]);
    frank["amr"] = serde_json::json!(["pwd"]);
    t.sim.set_profile("frank", frank);
    t.login_in(&crate::helpers::browser(&t.app.url("")), "frank", true).await;
    assert_eq!(roles_of(&t.app, "frank.fischer").await, vec![("erin00".into(), "member".into(), "peeringdb".into())]);
    // Erin administers Erin Transit 00 through PeeringDB, with a security key.
    t.login_as("erin", true).await;
    let erin00 = customer_id(&t.app, "erin00").await;
    let before = t.app.audit_events().await.len();
    ok_json(&t.app.client, &t.app, "customer/require_mfa", &f(&[("customer_id", &erin00.to_string()), ("require", "on")])).await;
    assert!(roles_of(&t.app, "frank.fischer").await.is_empty(), "Frank's PeeringDB access ended at once");
    assert_eq!(roles_of(&t.app, "erin.evans").await[0], ("erin00".into(), "admin".into(), "peeringdb".into()));
    let rows: Vec<String> = t.app.audit_events().await[before..].iter().map(|(e, d)| format!("{e} {d}")).collect();
    assert!(rows[0].starts_with("customer.updated") && rows[0].contains(r#""peeringdb_require_mfa":[false,true]"#), "{rows:?}");
    assert!(rows[1].starts_with("grant.removed") && rows[1].contains("second factor"), "{rows:?}");
    let access = ok_json(&t.app.client, &t.app, "customer/access", &f(&[("customer_id", &erin00.to_string())])).await;
    assert_eq!(access["require_mfa"], true);
    // Frank's next login without a second factor gets nothing there.
    let flow = t.login_in(&crate::helpers::browser(&t.app.url("")), "frank", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_mfa_required");
    // An admin whose own last login had no second factor cannot lock themselves out.
    let t = spawn_pdb(&[("PEERINGDB_REQUIRE_MFA", "off")]).await;
    without_mfa(&t, "alice");
    t.login_as("alice", true).await;
    let alpha = customer_id(&t.app, "alpha").await;
    let before = t.app.snapshot_without_audit().await;
    let resp = call(&t.app.client, &t.app, "customer/require_mfa", &f(&[("customer_id", &alpha.to_string()), ("require", "on")])).await;
    assert_eq!(resp.status(), 409);
    assert!(resp.text().await.unwrap().contains("second factor first"));
    assert_eq!(t.app.snapshot_without_audit().await, before, "nothing changed");
}

#[tokio::test]
async fn the_operator_requires_mfa_for_a_customer_in_the_console() {
    use crate::console::{customer_id, f, local_user, logged_in, ok_json};
    let t = spawn_pdb(&[]).await;
    local_user(&t.app, "ops", true).await;
    let ops = logged_in(&t.app, "ops").await;
    let alpha = customer_id(&t.app, "alpha").await;
    let form = f(&[("id", &alpha.to_string()), ("name", "Alpha Net"), ("shortname", "alpha"), ("asns", "64500"), ("kind", "full"),
                   ("status", "active"), ("peeringdb_login", "on"), ("require_mfa", "on"), ("allow_reserved", "on")]);
    ok_json(&ops, &t.app, "admin/save_customer", &form).await;
    let item = ok_json(&ops, &t.app, "admin/customer", &f(&[("id", &alpha.to_string())])).await;
    assert_eq!(item["peeringdb_require_mfa"], true);
    let page = ops.get(t.app.url(&format!("/admin/customers/{alpha}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"name="require_mfa" value="on" checked"#) || page.contains("Require a second factor at PeeringDB"), "{page}");
    without_mfa(&t, "alice");
    t.login_as("alice", true).await;
    assert_eq!(roles_of(&t.app, "alice.anders").await, vec![("beta".into(), "member".into(), "peeringdb".into())]);
}

#[tokio::test]
async fn a_resync_checks_the_id_token_that_comes_with_the_refreshed_token() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    let before = roles_of(&t.app, "alice.anders").await;
    // Her networks change at PeeringDB, but the refresh's ID token is about someone else.
    let mut profile = t.sim.profile("alice").unwrap();
    profile["networks"] = serde_json::json!([]);
    t.sim.set_profile("alice", profile);
    t.sim.set_id_token_fault(Some(IdTokenFault::OtherSubject));
    let refused = t.app.portal().resync_user(alice, false).await;
    assert!(refused.is_err_and(|e| e.to_string().contains("subject")), "a token about another person changes nothing");
    assert_eq!(roles_of(&t.app, "alice.anders").await, before);
    let link = peerportal::store::links::state_of(&t.app.db, alice).await.unwrap().unwrap();
    assert!(link.has_token && link.stale_since.is_none(), "the rotated refresh token was kept");
    assert!(link.last_error.is_some_and(|e| e.contains("subject")));
    // A right token: the re-sync goes ahead.
    t.sim.set_id_token_fault(None);
    t.app.portal().resync_user(alice, false).await.unwrap();
    assert!(roles_of(&t.app, "alice.anders").await.is_empty());
}
