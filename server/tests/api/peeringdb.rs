//! "Login with PeeringDB" over real HTTP between the portal and the
//! simulator, with the database checked before and after.

use peeringdb_sim::{Fault, Simulator};
use serde_json::json;

use crate::helpers::{browser, spawn_with, TestApp};

const CLIENT_ID: &str = "test-client";
const CLIENT_SECRET: &str = "test-client-secret-value";

pub struct PdbApp {
    pub app: TestApp,
    pub sim: Simulator,
}

pub async fn spawn_pdb(extra: &[(&str, &str)]) -> PdbApp {
    // The portal's address must be known to register the redirect URI, so
    // the simulator learns it after the portal is up.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_base = format!("http://{}", listener.local_addr().unwrap());
    let mut env = vec![
        ("AUTH_PEERINGDB_ENABLED", "true"),
        ("PEERINGDB_OAUTH_CLIENT_ID", CLIENT_ID),
        ("PEERINGDB_OAUTH_CLIENT_SECRET", CLIENT_SECRET),
        ("PEERINGDB_OAUTH_URL", sim_base.as_str()),
    ];
    env.extend_from_slice(extra);
    let app = spawn_with(&env).await;
    let sim = Simulator::new(peeringdb_sim::Client {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uris: vec![app.url("/auth/peeringdb/callback")],
    });
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let text = include_str!("../../../fixtures/customers.csv");
    peerportal::cli::customers_import(&app.db, text, true).await.unwrap();
    PdbApp { app, sim }
}

/// What the browser went through.
pub struct Flow {
    pub callback_url: String,
    pub response: reqwest::Response,
}

impl PdbApp {
    /// Starts a login, approves as `user` at the simulator (or cancels), and
    /// follows the redirect back to the portal's callback.
    pub async fn login_as(&self, user: &str, approve: bool) -> Flow {
        self.login_in(&self.app.client, user, approve).await
    }

    /// [`PdbApp::login_as`] in another browser.
    pub async fn login_in(&self, browser: &reqwest::Client, user: &str, approve: bool) -> Flow {
        let callback_url = self.authorize_in(browser, user, approve).await;
        let response = browser.get(&callback_url).send().await.unwrap();
        Flow { callback_url, response }
    }

    /// Runs the flow up to PeeringDB's redirect back; returns the callback URL.
    pub async fn authorize(&self, user: &str, approve: bool) -> String {
        self.authorize_in(&self.app.client, user, approve).await
    }

    async fn authorize_in(&self, browser: &reqwest::Client, user: &str, approve: bool) -> String {
        let start = browser.post(self.app.url("/auth/peeringdb/login")).form(&[("next", "")]).send().await.unwrap();
        self.decide_at_peeringdb(start, user, approve).await
    }

    /// Approves, as `user` at the simulator, the login that `start` began;
    /// returns the callback URL.
    pub async fn approve_at_peeringdb(&self, start: reqwest::Response, user: &str) -> String {
        self.decide_at_peeringdb(start, user, true).await
    }

    async fn decide_at_peeringdb(&self, start: reqwest::Response, user: &str, approve: bool) -> String {
        assert_eq!(start.status(), 302);
        let authorize = start.headers()["location"].to_str().unwrap().to_string();
        let url = url::Url::parse(&authorize).unwrap();
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        form.push(("user".into(), user.into()));
        form.push(("decision".into(), if approve { "allow" } else { "deny" }.into()));
        let sim = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let decided = sim.post(authorize.split('?').next().unwrap()).form(&form).send().await.unwrap();
        assert_eq!(decided.status(), 302, "{}", decided.text().await.unwrap());
        decided.headers()["location"].to_str().unwrap().to_string()
    }
}

pub fn location(resp: &reqwest::Response) -> &str {
    resp.headers()["location"].to_str().unwrap()
}

pub async fn roles_of(app: &TestApp, username: &str) -> Vec<(String, String, String)> {
    peerportal::with_db!(&app.db, p => sqlx::query_as::<_, (String, String, String)>(
        "SELECT c.shortname, a.role, a.source FROM affiliations a JOIN customers c ON c.id = a.customer_id \
         JOIN users u ON u.id = a.user_id WHERE u.username = $1 ORDER BY c.shortname").bind(username).fetch_all(p).await).unwrap()
}

#[tokio::test]
async fn the_authorize_redirect_carries_pkce_s256_state_and_exact_redirect() {
    let t = spawn_pdb(&[]).await;
    let start = t.app.start_peeringdb(Some("/account")).await;
    assert_eq!(start.status(), 302);
    let url = url::Url::parse(location(&start)).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(url.path(), "/oauth2/authorize/");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], t.app.url("/auth/peeringdb/callback"));
    assert_eq!(q["scope"], "openid profile email networks amr");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["state"].len() >= 22, "state must carry at least 128 bits");
    assert!(q["nonce"].len() >= 22 && q["nonce"] != q["state"], "the nonce is its own 128 random bits");
    assert!(!url.as_str().contains(CLIENT_SECRET));
    let cookie = crate::helpers::set_cookie(&start, "peerportal_pdb").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert_eq!(t.app.count("pending_logins").await, 1);
}

#[tokio::test]
async fn alice_gets_admin_of_alpha_and_member_of_beta_and_lands_on_the_picker() {
    let t = spawn_pdb(&[]).await;
    let flow = t.login_as("alice", true).await;
    assert_eq!(flow.response.status(), 302);
    assert_eq!(location(&flow.response), "/choose");
    assert_eq!(flow.response.headers()["referrer-policy"], "no-referrer");
    assert!(flow.response.headers().get("server-timing").is_none(), "timings are sent only when PEERPORTAL_SERVER_TIMING is on");
    assert_eq!(
        roles_of(&t.app, "alice.anders").await,
        vec![("alpha".into(), "admin".into(), "peeringdb".into()), ("beta".into(), "member".into(), "peeringdb".into())]
    );
    let html = t.app.get("/").await.text().await.unwrap();
    assert!(html.contains("Welcome, Alice Anders"), "{html}");
    let events: Vec<String> = t.app.audit_events().await.into_iter().map(|e| e.0).collect();
    assert!(events.ends_with(&["user.created".into(), "grant.added".into(), "grant.added".into(), "login.success".into()]), "{events:?}");
    assert_eq!(t.app.count("pending_logins").await, 0);
}

#[tokio::test]
async fn bob_without_a_customer_is_refused_and_nothing_is_written() {
    let t = spawn_pdb(&[]).await;
    let before = t.app.snapshot_without_audit().await;
    let flow = t.login_as("bob", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_no_customer");
    let mut after = t.app.snapshot_without_audit().await;
    // The pending login was consumed; nothing else changed.
    let mut before = before;
    before.retain(|r| !r.starts_with("pending_logins"));
    after.retain(|r| !r.starts_with("pending_logins"));
    assert_eq!(after, before);
    assert_eq!(t.app.count("users").await, 0);
    let last = t.app.audit_events().await.pop().unwrap();
    assert_eq!(last.0, "login.refused");
    assert!(last.1.contains("no_customer"));
}

#[tokio::test]
async fn carol_and_dave_are_refused_before_any_write() {
    let t = spawn_pdb(&[]).await;
    for (user, code) in [("carol", "pdb_email_not_verified"), ("dave", "pdb_user_not_verified")] {
        let audit_before = t.app.count("audit_log").await;
        let flow = t.login_as(user, true).await;
        assert_eq!(location(&flow.response), format!("/login?error={code}"));
        assert_eq!(t.app.count("users").await, 0);
        assert_eq!(t.app.count("affiliations").await, 0);
        assert_eq!(t.app.count("sessions").await, 0);
        assert_eq!(t.app.count("audit_log").await, audit_before + 1);
    }
}

#[tokio::test]
async fn erin_gets_only_active_full_or_probono_customers_with_roles_from_perms() {
    let t = spawn_pdb(&[]).await;
    let flow = t.login_as("erin", true).await;
    assert_eq!(location(&flow.response), "/choose");
    let roles = roles_of(&t.app, "erin.evans").await;
    let customers = peerportal::store::customers::all(&t.app.db).await.unwrap();
    let profile: serde_json::Value = serde_json::from_str(peeringdb_sim::FIXTURES[4].1).unwrap();
    let mut expected = Vec::new();
    for net in profile["networks"].as_array().unwrap() {
        let asn = net["asn"].as_u64().unwrap() as u32;
        let perms = net["perms"].as_u64().unwrap();
        for c in customers.iter().filter(|c| c.asns.contains(&asn)) {
            let eligible = matches!(c.kind.as_str(), "full" | "probono") && c.status.as_str() == "active" && c.peeringdb_login;
            if eligible {
                let role = if perms & 2 != 0 { "admin" } else { "member" };
                expected.push((c.shortname.clone(), role.to_string(), "peeringdb".to_string()));
            }
        }
    }
    expected.sort();
    assert!(expected.len() > 10 && expected.len() < 60, "fixture should mix eligible and ineligible: {}", expected.len());
    assert_eq!(roles, expected);
}

#[tokio::test]
async fn frank_is_refused_because_his_customer_opted_out() {
    let t = spawn_pdb(&[]).await;
    let flow = t.login_as("frank", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_customer_opted_out");
    assert_eq!(t.app.count("users").await, 0);
}

#[tokio::test]
async fn lost_network_removes_only_peeringdb_grants() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    // An admin grants alice Gamma Net by hand.
    let alice: i64 = peerportal::with_db!(&t.app.db, p => sqlx::query_scalar("SELECT id FROM users WHERE username = 'alice.anders'").fetch_one(p).await).unwrap();
    let gamma = peerportal::store::customers::id_by_shortname(&t.app.db, "gamma").await.unwrap().unwrap();
    let mut tx = t.app.db.begin().await.unwrap();
    peerportal::store::grants::grant_manual(&mut tx, alice, gamma, app::Role::Member).await.unwrap();
    tx.commit().await.unwrap();

    let mut profile = t.sim.profile("alice").unwrap();
    profile["networks"] = json!([profile["networks"][0].clone()]);
    t.sim.set_profile("alice", profile);
    let flow = t.login_as("alice", true).await;
    // Alpha (PeeringDB) and Gamma (manual): two customers, so the picker.
    assert_eq!(location(&flow.response), "/choose");
    assert_eq!(
        roles_of(&t.app, "alice.anders").await,
        vec![("alpha".into(), "admin".into(), "peeringdb".into()), ("gamma".into(), "member".into(), "manual".into())]
    );
    let html = t.app.get("/").await.text().await.unwrap();
    assert!(html.contains("Removed: Beta Net — PeeringDB no longer lists you there."), "{html}");
}

#[tokio::test]
async fn changed_permissions_change_the_roles_and_each_change_is_audited_in_order() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    let before = t.app.audit_events().await.len();

    // On PeeringDB alice now administers Beta and is a plain member of Alpha.
    let mut profile = t.sim.profile("alice").unwrap();
    profile["networks"][0]["perms"] = json!(1);
    profile["networks"][1]["perms"] = json!(15);
    t.sim.set_profile("alice", profile);
    t.login_as("alice", true).await;
    assert_eq!(
        roles_of(&t.app, "alice.anders").await,
        vec![("alpha".into(), "member".into(), "peeringdb".into()), ("beta".into(), "admin".into(), "peeringdb".into())]
    );

    type Row = (String, String, Option<i64>, Option<i64>, String, Option<String>);
    let rows: Vec<Row> = peerportal::with_db!(&t.app.db, p => sqlx::query_as(
        "SELECT a.actor, a.event, a.user_id, a.customer_id, a.details, a.ip FROM audit_log a ORDER BY a.id").fetch_all(p).await).unwrap();
    let alice: i64 = peerportal::with_db!(&t.app.db, p => sqlx::query_scalar("SELECT id FROM users WHERE username = 'alice.anders'").fetch_one(p).await).unwrap();
    let alpha = peerportal::store::customers::id_by_shortname(&t.app.db, "alpha").await.unwrap().unwrap();
    let beta = peerportal::store::customers::id_by_shortname(&t.app.db, "beta").await.unwrap().unwrap();
    type Parsed = (String, String, Option<i64>, Option<i64>, serde_json::Value, Option<String>);
    let new: Vec<Parsed> = rows[before..]
        .iter()
        .map(|(actor, event, user, customer, details, ip)| (actor.clone(), event.clone(), *user, *customer, serde_json::from_str(details).unwrap(), ip.clone()))
        .collect();
    let ip = Some("127.0.0.1".to_string());
    let changed = |customer: i64, name: &str, from: &str, to: &str| {
        ("peeringdb".to_string(), "grant.changed".to_string(), Some(alice), Some(customer),
         json!({ "from": from, "to": to, "source": "peeringdb", "customer": name }), ip.clone())
    };
    assert_eq!(new.len(), 3, "{new:?}");
    let mut grants = new[..2].to_vec();
    grants.sort_by_key(|r| r.3);
    let mut expected = vec![changed(alpha, "Alpha Net", "admin", "member"), changed(beta, "Beta Net", "member", "admin")];
    expected.sort_by_key(|r| r.3);
    assert_eq!(grants, expected);
    assert_eq!((new[2].0.as_str(), new[2].1.as_str(), new[2].2, new[2].3), (format!("user:{alice}").as_str(), "login.success", Some(alice), None));
    assert_eq!(new[2].4["via"], "peeringdb");
    assert_eq!(new[2].5, ip);
}

#[tokio::test]
async fn a_user_who_lost_every_network_is_refused_deprovisioned_and_logged_out() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    // alice keeps a session open in another browser.
    let other = browser(&t.app.base);
    let PdbApp { app, sim } = &t;
    let second = PdbApp { app: TestApp::sharing(app, other.clone()), sim: sim.clone() };
    second.login_as("alice", true).await;
    assert_eq!(second.app.get("/").await.status(), 200);

    let mut profile = t.sim.profile("alice").unwrap();
    profile["networks"] = json!([]);
    t.sim.set_profile("alice", profile);
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_no_customer");
    assert!(roles_of(&t.app, "alice.anders").await.is_empty());
    assert_eq!(t.app.count("users").await, 1, "the user stays, without access");
    let resp = other.get(t.app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 302, "the other session must be ended");
}

#[tokio::test]
async fn cancel_at_peeringdb_shows_the_friendly_message_and_writes_nothing() {
    let t = spawn_pdb(&[]).await;
    let flow = t.login_as("alice", false).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_cancelled");
    assert_eq!(t.app.count("users").await, 0);
    assert_eq!(t.sim.calls(), (0, 0), "PeeringDB is not called after a cancel");
    let html = t.app.get("/login?error=pdb_cancelled").await.text().await.unwrap();
    assert!(html.contains("You cancelled the login at PeeringDB."));
}

#[tokio::test]
async fn server_timing_names_the_wait_for_peeringdb_only_when_switched_on() {
    let t = spawn_pdb(&[("PEERPORTAL_SERVER_TIMING", "true")]).await;
    let flow = t.login_as("alice", true).await;
    let timing = flow.response.headers()["server-timing"].to_str().unwrap();
    assert!(timing.starts_with("peeringdb;dur="), "{timing}");
}

#[tokio::test]
async fn callback_with_wrong_state_is_refused_before_peeringdb_is_called() {
    let t = spawn_pdb(&[("PEERPORTAL_SERVER_TIMING", "true")]).await;
    let callback = t.authorize("alice", true).await;
    let mut url = url::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().map(|(k, v)| if k == "state" { (k, "forged".into()) } else { (k, v) }).collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let resp = t.app.client.get(url.as_str()).send().await.unwrap();
    assert_eq!(location(&resp), "/login?error=pdb_state");
    assert_eq!(t.sim.calls(), (0, 0));
    assert!(resp.headers().get("server-timing").is_none(), "PeeringDB was not asked");
    assert_eq!(t.app.count("users").await, 0);
}

#[tokio::test]
async fn a_callback_from_another_browser_is_refused() {
    let t = spawn_pdb(&[]).await;
    let callback = t.authorize("alice", true).await;
    let stranger = browser(&t.app.base);
    let resp = stranger.get(&callback).send().await.unwrap();
    assert_eq!(location(&resp), "/login?error=pdb_state");
    assert_eq!(t.sim.calls(), (0, 0));
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let t = spawn_pdb(&[]).await;
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/choose");
    let users_before = t.app.snapshot_without_audit().await.len();
    let replay = t.app.client.get(&flow.callback_url).send().await.unwrap();
    assert_eq!(location(&replay), "/login?error=pdb_state");
    assert_eq!(t.sim.calls(), (1, 1), "the replay never reached PeeringDB");
    assert_eq!(t.app.snapshot_without_audit().await.len(), users_before);
}

#[tokio::test]
async fn an_expired_pending_login_is_refused() {
    let t = spawn_pdb(&[]).await;
    let callback = t.authorize("alice", true).await;
    peerportal::with_db!(&t.app.db, p => sqlx::query("UPDATE pending_logins SET created_at = $1")
        .bind(time::OffsetDateTime::now_utc() - time::Duration::minutes(11)).execute(p).await.map(|_| ())).unwrap();
    let resp = t.app.client.get(&callback).send().await.unwrap();
    assert_eq!(location(&resp), "/login?error=pdb_expired");
    assert_eq!(t.sim.calls(), (0, 0));
}

#[tokio::test]
async fn a_code_spent_elsewhere_is_refused_by_peeringdb() {
    let t = spawn_pdb(&[]).await;
    let callback = t.authorize("alice", true).await;
    let code = url::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
    // An attacker holding the code and even the client secret, but not the
    // PKCE verifier, spends it first: PeeringDB refuses, and the code is gone.
    let stolen = reqwest::Client::new()
        .post(format!("{}/oauth2/token/", t.sim_base().await))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", t.app.url("/auth/peeringdb/callback").as_str()),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), 400);
    let resp = t.app.client.get(&callback).send().await.unwrap();
    assert_eq!(location(&resp), "/login?error=pdb_invalid_grant");
    assert_eq!(t.app.count("users").await, 0);
}

impl PdbApp {
    pub(crate) async fn sim_base(&self) -> String {
        let start = self.app.start_peeringdb_in(&crate::helpers::browser(&self.app.base), None).await;
        location(&start).split("/oauth2/").next().unwrap().to_string()
    }
}

#[tokio::test]
async fn peeringdb_failures_each_get_their_own_message_and_write_only_an_audit_row() {
    let t = spawn_pdb(&[]).await;
    let cases = [
        (Some(Fault::RateLimited), None, "/login?error=pdb_rate_limited&retry=42"),
        (Some(Fault::ServerError), None, "/login?error=pdb_unavailable"),
        (Some(Fault::Malformed), None, "/login?error=pdb_malformed"),
        (None, Some(Fault::RateLimited), "/login?error=pdb_rate_limited&retry=42"),
        (None, Some(Fault::ServerError), "/login?error=pdb_unavailable"),
        (None, Some(Fault::Malformed), "/login?error=pdb_malformed"),
        (None, Some(Fault::Forbidden), "/login?error=pdb_forbidden"),
        (None, Some(Fault::Huge), "/login?error=pdb_malformed"),
        (Some(Fault::Huge), None, "/login?error=pdb_malformed"),
    ];
    for (token_fault, profile_fault, expected) in cases {
        t.sim.set_token_fault(token_fault);
        t.sim.set_profile_fault(profile_fault);
        let audit_before = t.app.count("audit_log").await;
        let flow = t.login_as("alice", true).await;
        assert_eq!(location(&flow.response), expected, "{token_fault:?} {profile_fault:?}");
        assert_eq!(t.app.count("users").await, 0);
        assert_eq!(t.app.count("sessions").await, 0);
        assert_eq!(t.app.count("audit_log").await, audit_before + 1);
    }
}

#[tokio::test]
async fn a_slow_peeringdb_times_out_with_a_clear_message() {
    // PeeringDB's answer takes longer than PEERINGDB_TIMEOUT allows.
    let t = spawn_pdb(&[("PEERINGDB_TIMEOUT", "300ms")]).await;
    t.sim.set_profile_fault(Some(Fault::Slow));
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_timeout");
    assert_eq!(t.app.count("users").await, 0);
}

#[tokio::test]
async fn a_superadmin_cannot_log_in_with_peeringdb() {
    let t = spawn_pdb(&[]).await;
    let id = t.app.create_admin("ops").await;
    peerportal::with_db!(&t.app.db, p => sqlx::query("UPDATE users SET peeringdb_id = 1001 WHERE id = $1").bind(id).execute(p).await.map(|_| ())).unwrap();
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_superadmin");
    assert_eq!(t.app.count("affiliations").await, 0);
}

#[tokio::test]
async fn identities_are_not_merged_by_email_unless_the_operator_opted_in() {
    let t = spawn_pdb(&[]).await;
    peerportal::with_db!(&t.app.db, p => sqlx::query(
        "INSERT INTO users (username, name, email, created_via, created_at) VALUES ('alocal', 'A', 'alice@alpha.example', 'admin', $1)")
        .bind(time::OffsetDateTime::now_utc()).execute(p).await.map(|_| ())).unwrap();
    t.login_as("alice", true).await;
    assert_eq!(t.app.count("users").await, 2, "a second account, not a merge");

    let t = spawn_pdb(&[("PEERINGDB_LINK_BY_EMAIL", "true")]).await;
    peerportal::with_db!(&t.app.db, p => sqlx::query(
        "INSERT INTO users (username, name, email, created_via, created_at) VALUES ('alocal', 'A', 'alice@alpha.example', 'admin', $1)")
        .bind(time::OffsetDateTime::now_utc()).execute(p).await.map(|_| ())).unwrap();
    t.login_as("alice", true).await;
    assert_eq!(t.app.count("users").await, 1, "linked to the existing account");
    assert_eq!(roles_of(&t.app, "alocal").await.len(), 2);
}

#[tokio::test]
async fn secrets_and_tokens_never_reach_pages_or_logs() {
    let t = spawn_pdb(&[]).await;
    let flow = t.login_as("alice", true).await;
    let mut seen = String::new();
    for path in ["/", "/login", "/choose"] {
        seen.push_str(&t.app.get(path).await.text().await.unwrap());
    }
    seen.push_str(&format!("{:?}", flow.response.headers()));
    assert!(!seen.contains(CLIENT_SECRET));
    let audit: String = t.app.audit_events().await.into_iter().map(|(e, d)| e + &d).collect();
    let logs = t.app.logs.text();
    let alice = peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id;
    assert!(logs.contains(&format!("PeeringDB login user_id={alice} customers=2")), "the log capture must see this login: {logs}");
    let tokens = t.sim.issued_tokens();
    assert_eq!(tokens.len(), 1);
    let id_tokens = t.sim.issued_id_tokens();
    assert_eq!(id_tokens.len(), 1);
    // A JWT's signature is its most specific part.
    let id_token_signature = id_tokens[0].rsplit('.').next().unwrap();
    for (place, text) in [("pages", &seen), ("audit log", &audit), ("logs", &logs)] {
        assert!(!text.contains(CLIENT_SECRET), "client secret in {place}");
        assert!(!text.contains(&tokens[0]), "access token in {place}");
        assert!(!text.contains(id_token_signature), "ID token in {place}");
        let code = url::Url::parse(&flow.callback_url).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
        assert!(!text.contains(&code), "authorization code in {place}");
    }
}

#[tokio::test]
async fn choosing_a_customer_one_does_not_have_is_forbidden() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    let gamma = peerportal::store::customers::id_by_shortname(&t.app.db, "gamma").await.unwrap().unwrap();
    let resp = t.app.client.post(t.app.url("/api/choose_customer")).header("accept", "application/json")
        .form(&[("customer_id", gamma.to_string())]).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let alpha = peerportal::store::customers::id_by_shortname(&t.app.db, "alpha").await.unwrap().unwrap();
    let resp = t.app.client.post(t.app.url("/api/choose_customer")).header("accept", "text/html")
        .form(&[("customer_id", alpha.to_string())]).send().await.unwrap();
    assert_eq!(location(&resp), "/");
    let html = t.app.get("/").await.text().await.unwrap();
    assert!(html.contains(r#"<h2 id="current">Alpha Net</h2>"#), "{html}");
}

async fn set_user_flag(app: &TestApp, username: &str, column: &str, value: bool) {
    let sql = format!("UPDATE users SET {column} = $1 WHERE username = $2");
    peerportal::with_db!(&app.db, p => sqlx::query(&sql).bind(value).bind(username).execute(p).await.map(|_| ())).unwrap();
}

#[tokio::test]
async fn a_user_who_switched_peeringdb_login_off_is_refused_and_keeps_their_grants() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    set_user_flag(&t.app, "alice.anders", "peeringdb_login_allowed", false).await;
    let before = t.app.snapshot_without_audit().await;
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_user_opted_out");
    let strip = |v: Vec<String>| v.into_iter().filter(|r| !r.starts_with("pending_logins") && !r.starts_with("sessions")).collect::<Vec<_>>();
    assert_eq!(strip(t.app.snapshot_without_audit().await), strip(before));
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_with_peeringdb() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    set_user_flag(&t.app, "alice.anders", "disabled", true).await;
    let flow = t.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_disabled");
    assert_eq!(t.app.get("/").await.status(), 302);
}

#[tokio::test]
async fn a_callback_naming_another_issuer_is_refused() {
    let t = spawn_pdb(&[]).await;
    let callback = t.authorize("alice", true).await;
    let resp = t.app.client.get(format!("{callback}&iss=https%3A%2F%2Fevil.example%2Foauth2")).send().await.unwrap();
    assert_eq!(location(&resp), "/login?error=pdb_issuer");
    assert_eq!(t.sim.calls(), (0, 0));
}

#[tokio::test]
async fn the_rate_limit_message_says_when_to_retry() {
    let t = spawn_pdb(&[]).await;
    let html = t.app.get("/login?error=pdb_rate_limited&retry=42").await.text().await.unwrap();
    assert!(html.contains("Please try again in 42 seconds."), "{html}");
}

#[tokio::test]
async fn a_remembered_approval_skips_the_consent_page() {
    let t = spawn_pdb(&[]).await;
    let start = t.app.start_peeringdb(None).await;
    let authorize = location(&start).to_string();
    let url = url::Url::parse(&authorize).unwrap();
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.extend([("user".into(), "alice".into()), ("decision".into(), "allow".into()), ("remember".into(), "1".into())]);
    let pdb_browser = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let first = pdb_browser.post(authorize.split('?').next().unwrap()).form(&form).send().await.unwrap();
    assert_eq!(first.status(), 302);
    // Next time the same browser goes straight back with a code.
    let again = t.app.start_peeringdb(None).await;
    let skipped = pdb_browser.get(location(&again)).send().await.unwrap();
    assert_eq!(skipped.status(), 302);
    let back = location(&skipped).to_string();
    assert!(back.starts_with(&t.app.url("/auth/peeringdb/callback?code=")), "{back}");
    let resp = t.app.client.get(&back).send().await.unwrap();
    assert_eq!(location(&resp), "/choose");
}

#[tokio::test]
async fn a_wrong_client_secret_is_reported_as_a_configuration_problem() {
    // PeeringDB knows the client with a secret the portal no longer has.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = spawn_with_sim_url(&base).await;
    let sim = Simulator::new(peeringdb_sim::Client {
        client_id: CLIENT_ID.into(),
        client_secret: "rotated-secret".into(),
        redirect_uris: vec![app.url("/auth/peeringdb/callback")],
    });
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let flow = PdbApp { app, sim }.login_as("alice", true).await;
    assert_eq!(location(&flow.response), "/login?error=pdb_config");
}

async fn spawn_with_sim_url(base: &str) -> TestApp {
    let app = spawn_with(&[
        ("AUTH_PEERINGDB_ENABLED", "true"),
        ("PEERINGDB_OAUTH_CLIENT_ID", CLIENT_ID),
        ("PEERINGDB_OAUTH_CLIENT_SECRET", CLIENT_SECRET),
        ("PEERINGDB_OAUTH_URL", base),
    ])
    .await;
    crate::helpers::import_demo_customers(&app.db).await;
    app
}

#[tokio::test]
async fn a_peeringdb_login_issues_a_new_session_id() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    let first: String = peerportal::with_db!(&t.app.db, p => sqlx::query_scalar("SELECT id_hash FROM sessions").fetch_one(p).await).unwrap();
    t.login_as("alice", true).await;
    let ids: Vec<String> = peerportal::with_db!(&t.app.db, p => sqlx::query_scalar("SELECT id_hash FROM sessions").fetch_all(p).await).unwrap();
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], first);
}

#[tokio::test]
async fn a_refused_login_says_what_to_do_next_and_whom_to_write_to() {
    let t = spawn_pdb(&[("PEERPORTAL_SUPPORT_EMAIL", "noc@ix.example")]).await;
    let mut profile = t.sim.profile("alice").unwrap();
    profile["networks"] = json!([{ "id": 9, "asn": 4200000001u32, "perms": 15 }]);
    t.sim.set_profile("alice", profile);
    let refused = t.login_as("alice", true).await;
    let location = refused.response.headers()["location"].to_str().unwrap().to_string();
    let page = t.app.get(&location).await.text().await.unwrap();
    assert!(page.contains("None of your PeeringDB networks — AS4200000001 — is a member of this exchange."), "{page}");
    assert!(page.contains("ask its administrator at PeeringDB to add you to the network"), "{page}");
    assert!(page.contains("href=\"mailto:noc@ix.example\""), "{page}");
}
