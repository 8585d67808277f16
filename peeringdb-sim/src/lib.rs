//! A PeeringDB OAuth2 provider small enough to read, faithful to what
//! PeerPortal relies on (docs/design.md): exact redirect URIs, client_secret_post
//! only (HTTP Basic is answered 401 as PeeringDB's middleware does),
//! single-use 60-second codes, PKCE S256 checked, `access_denied` on cancel,
//! 403 with an empty body for a bad token on `/profile/v1`, refresh tokens
//! that rotate on every use (the old one dies when the new one is issued)
//! and never expire by time, revocation at `/oauth2/revoke_token/`,
//! OpenID Connect (discovery at the root and under `/oauth2/`, a JWKS whose
//! signing key rotates on demand, RS256 ID tokens carrying each person's
//! `amr`), and switchable faults for tests. State is in memory: it is a
//! simulator.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{Form, OriginalUri, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The demo users, mirroring `fixtures/profiles/`.
pub const FIXTURES: &[(&str, &str)] = &[
    ("alice", include_str!("../../fixtures/profiles/alice.json")),
    ("bob", include_str!("../../fixtures/profiles/bob.json")),
    ("carol", include_str!("../../fixtures/profiles/carol.json")),
    ("dave", include_str!("../../fixtures/profiles/dave.json")),
    ("erin", include_str!("../../fixtures/profiles/erin.json")),
    ("frank", include_str!("../../fixtures/profiles/frank.json")),
];

const CODE_LIFETIME: Duration = Duration::from_secs(60);

mod oidc;
pub use oidc::{IdTokenFault, Jwks};

/// A fault to inject into the next calls of one endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// 429 text/plain with Retry-After, as PeeringDB's rate limit answers.
    RateLimited,
    ServerError,
    /// 200 with a body that is not JSON.
    Malformed,
    /// Answers after 15 seconds (longer than any sane client timeout).
    Slow,
    /// 403 with an empty body, as PeeringDB answers a token it refuses.
    Forbidden,
    /// A 2 MiB JSON body (more than any client should read).
    Huge,
}

/// The one registered application.
#[derive(Clone, Debug)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
}

struct Grant {
    user: String,
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    scope: String,
    nonce: Option<String>,
    issued: Instant,
}

#[derive(Default)]
struct Inner {
    profiles: BTreeMap<String, serde_json::Value>,
    codes: HashMap<String, Grant>,
    /// Access token → user, while valid.
    tokens: HashMap<String, String>,
    /// Every access token ever issued, in order.
    issued: Vec<String>,
    /// Every ID token ever issued, in order.
    issued_id_tokens: Vec<String>,
    /// Refresh token → user; a token leaves this map when it is used.
    refresh_tokens: HashMap<String, String>,
    /// Every token revoked through `/oauth2/revoke_token/`, with its hint.
    revoked: Vec<(String, Option<String>)>,
    token_fault: Option<Fault>,
    profile_fault: Option<Fault>,
    token_calls: u64,
    profile_calls: u64,
    oidc: oidc::Provider,
}

/// A handle on the simulator; clones share state.
#[derive(Clone)]
pub struct Simulator {
    client: Arc<Client>,
    inner: Arc<Mutex<Inner>>,
}

impl Simulator {
    pub fn new(client: Client) -> Simulator {
        let mut inner = Inner::default();
        for (name, text) in FIXTURES {
            if let Ok(v) = serde_json::from_str(text) {
                inner.profiles.insert((*name).to_string(), v);
            }
        }
        Simulator { client: Arc::new(client), inner: Arc::new(Mutex::new(inner)) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a handler panicked; the data is fine.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces (or adds) a user's profile document.
    pub fn set_profile(&self, user: &str, profile: serde_json::Value) {
        self.lock().profiles.insert(user.to_string(), profile);
    }

    pub fn profile(&self, user: &str) -> Option<serde_json::Value> {
        self.lock().profiles.get(user).cloned()
    }

    pub fn set_token_fault(&self, fault: Option<Fault>) {
        self.lock().token_fault = fault;
    }

    pub fn set_profile_fault(&self, fault: Option<Fault>) {
        self.lock().profile_fault = fault;
    }

    /// How many times the token and profile endpoints were called.
    pub fn calls(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.token_calls, inner.profile_calls)
    }

    /// Every access token issued so far (tests look for them where they must not be).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.lock().issued.clone()
    }

    /// Every ID token issued so far.
    pub fn issued_id_tokens(&self) -> Vec<String> {
        self.lock().issued_id_tokens.clone()
    }

    /// The refresh tokens that would work now, with their users.
    pub fn live_refresh_tokens(&self) -> Vec<(String, String)> {
        self.lock().refresh_tokens.iter().map(|(t, u)| (t.clone(), u.clone())).collect()
    }

    /// Every revocation request that named a token, in order, with its hint.
    pub fn revoked(&self) -> Vec<(String, Option<String>)> {
        self.lock().revoked.clone()
    }

    /// The person revokes the application at PeeringDB: every token of
    /// `user` stops working (the next refresh gets `invalid_grant`).
    pub fn invalidate_tokens_of(&self, user: &str) {
        let mut inner = self.lock();
        inner.tokens.retain(|_, u| u != user);
        inner.refresh_tokens.retain(|_, u| u != user);
    }

    /// Issues a code as if `user` had approved `scope`: for tests that
    /// skip the pages. With `openid` in the scope the token answer carries
    /// an ID token with `nonce`.
    pub fn approve(&self, user: &str, redirect_uri: &str, challenge: Option<&str>, scope: &str, nonce: Option<&str>) -> String {
        let code = random_token();
        self.lock().codes.insert(
            code.clone(),
            Grant {
                user: user.into(),
                client_id: self.client.client_id.clone(),
                redirect_uri: redirect_uri.into(),
                challenge: challenge.map(str::to_owned),
                scope: scope.into(),
                nonce: nonce.map(str::to_owned),
                issued: Instant::now(),
            },
        );
        code
    }

    /// Spoils the ID tokens of the next logins in one way (`None`: honest).
    pub fn set_id_token_fault(&self, fault: Option<IdTokenFault>) {
        self.lock().oidc.fault = fault;
    }

    /// Which keys `/oauth2/.well-known/jwks.json` publishes.
    pub fn set_jwks(&self, jwks: Jwks) {
        self.lock().oidc.jwks = jwks;
    }

    /// Signs from now on with the next key, and publishes only that one.
    pub fn rotate_signing_key(&self) {
        self.lock().oidc.rotate();
    }

    /// Makes the discovery document name another issuer (`None`: its own).
    pub fn set_discovery_issuer(&self, issuer: Option<String>) {
        self.lock().oidc.discovery_issuer = issuer;
    }

    /// How many times the discovery document and the key set were fetched.
    pub fn oidc_calls(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.oidc.discovery_calls, inner.oidc.jwks_calls)
    }

    /// The provider's routes, to serve alone or nest under a prefix.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/oauth2/authorize/", get(authorize_page).post(authorize_decide))
            .route("/oauth2/token/", axum::routing::post(token))
            .route("/oauth2/revoke_token/", axum::routing::post(revoke))
            .route("/profile/v1", get(profile))
            .route("/.well-known/openid-configuration", get(oidc::discovery))
            .route("/oauth2/.well-known/openid-configuration", get(oidc::discovery))
            .route("/oauth2/.well-known/jwks.json", get(oidc::jwks))
            .with_state(self.clone())
    }
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[derive(Debug, Deserialize)]
struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
}

fn bad_request_page(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(format!("<!DOCTYPE html><title>Error</title><h1>Bad request</h1><p>{}</p>", escape(why))))
        .into_response()
}

impl Simulator {
    /// PeeringDB shows its own error page (no redirect back) for a bad
    /// client or redirect URI.
    #[allow(clippy::result_large_err)] // the Err is the page to send, built once
    fn check_client(&self, p: &AuthorizeParams) -> Result<(), Response> {
        if p.client_id.as_deref() != Some(self.client.client_id.as_str()) {
            return Err(bad_request_page("Invalid client_id parameter value."));
        }
        let uri = p.redirect_uri.as_deref().unwrap_or("");
        if !self.client.redirect_uris.iter().any(|r| r == uri) {
            return Err(bad_request_page("Mismatching redirect URI."));
        }
        if p.response_type.as_deref() != Some("code") {
            return Err(bad_request_page("Unsupported response type."));
        }
        if p.code_challenge.is_some() && p.code_challenge_method.as_deref() != Some("S256") {
            return Err(bad_request_page("Only S256 code challenges are accepted here."));
        }
        Ok(())
    }
}

/// The simulator's own login session: which user approved this client in
/// this browser. PeeringDB remembers consent, so a repeat login for the
/// same scopes skips the page.
const CONSENT_COOKIE: &str = "pdbsim_consent";

fn remembered_user(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == CONSENT_COOKIE)
        .map(|(_, v)| v.to_string())
}

async fn authorize_page(State(sim): State<Simulator>, headers: HeaderMap, Query(p): Query<AuthorizeParams>) -> Response {
    if let Err(page) = sim.check_client(&p) {
        return page;
    }
    if let Some(user) = remembered_user(&headers).filter(|u| sim.lock().profiles.contains_key(u)) {
        let redirect_uri = p.redirect_uri.clone().unwrap_or_default();
        let code = sim.approve(&user, &redirect_uri, p.code_challenge.as_deref(), p.scope.as_deref().unwrap_or_default(), p.nonce.as_deref());
        return redirect_with(&redirect_uri, &[("code", &code), ("state", p.state.as_deref().unwrap_or_default())]);
    }
    let hidden: String = [
        ("response_type", &p.response_type),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("scope", &p.scope),
        ("state", &p.state),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("nonce", &p.nonce),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!(r#"<input type="hidden" name="{k}" value="{}">"#, escape(v))))
    .collect();
    let users: String = sim
        .lock()
        .profiles
        .iter()
        .map(|(name, p)| {
            let full = p.get("name").and_then(|n| n.as_str()).unwrap_or(name);
            let nets = p.get("networks").and_then(|n| n.as_array()).map_or(0, Vec::len);
            format!(
                r#"<li><label><input type="radio" name="user" value="{n}"> <strong>{n}</strong> — {f} ({nets} networks)</label></li>"#,
                n = escape(name),
                f = escape(full)
            )
        })
        .collect();
    let scope = escape(p.scope.as_deref().unwrap_or("profile"));
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>PeeringDB simulator — authorize</title><link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}}li{{list-style:none;margin:.3rem 0}}
button{{font:inherit;padding:.5rem 1rem;margin-right:.5rem}}.note{{background:#fff3c4;padding:.5rem}}</style></head><body>
<p class="note">PeeringDB simulator (demo mode). Nothing here is the real PeeringDB.</p>
<h1>Authorize PeerPortal</h1>
<p>PeerPortal asks for: <code>{scope}</code>.</p>
<form method="post" action="">{hidden}
<fieldset><legend>Log in to the simulator as</legend><ul>{users}</ul></fieldset>
<p><label><input type="checkbox" name="remember" value="1"> Remember this approval (skip this page next time)</label></p>
<p><button type="submit" name="decision" value="allow">Authorize</button>
<button type="submit" name="decision" value="deny" formnovalidate>Cancel</button></p>
</form></body></html>"#
    ))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct Decision {
    #[serde(flatten)]
    params: AuthorizeParams,
    user: Option<String>,
    decision: String,
    /// "Remember this approval" (PeeringDB remembers consent).
    remember: Option<String>,
}

fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> Response {
    let query: String = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let sep = if uri.contains('?') { '&' } else { '?' };
    (StatusCode::FOUND, [(header::LOCATION, format!("{uri}{sep}{query}"))]).into_response()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn authorize_decide(State(sim): State<Simulator>, Form(d): Form<Decision>) -> Response {
    if let Err(page) = sim.check_client(&d.params) {
        return page;
    }
    let redirect_uri = d.params.redirect_uri.clone().unwrap_or_default();
    let state = d.params.state.clone().unwrap_or_default();
    if d.decision != "allow" {
        return redirect_with(&redirect_uri, &[("error", "access_denied"), ("state", &state)]);
    }
    let Some(user) = d.user.filter(|u| sim.lock().profiles.contains_key(u)) else {
        return bad_request_page("Pick a user to log in as.");
    };
    let scope = d.params.scope.as_deref().unwrap_or_default();
    let code = sim.approve(&user, &redirect_uri, d.params.code_challenge.as_deref(), scope, d.params.nonce.as_deref());
    let mut resp = redirect_with(&redirect_uri, &[("code", &code), ("state", &state)]);
    if d.remember.is_some() {
        let cookie = format!("{CONSENT_COOKIE}={user}; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400");
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(serde_json::json!({ "error": error }))).into_response()
}

async fn apply_fault(fault: Option<Fault>) -> Option<Response> {
    match fault? {
        Fault::RateLimited => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::CONTENT_TYPE, "text/plain"), (header::RETRY_AFTER, "42")],
                "Request was throttled. Expected available in 42 seconds.",
            )
                .into_response(),
        ),
        Fault::ServerError => Some((StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()),
        Fault::Malformed => Some(([(header::CONTENT_TYPE, "application/json")], "{\"access_token\": ").into_response()),
        Fault::Slow => {
            tokio::time::sleep(Duration::from_secs(15)).await;
            None
        }
        Fault::Forbidden => Some(StatusCode::FORBIDDEN.into_response()),
        Fault::Huge => {
            let padding = "x".repeat(2 * 1024 * 1024);
            Some(([(header::CONTENT_TYPE, "application/json")], format!("{{\"id\": 1, \"padding\": \"{padding}\"}}")).into_response())
        }
    }
}

async fn token(State(sim): State<Simulator>, headers: HeaderMap, OriginalUri(uri): OriginalUri, Form(f): Form<TokenForm>) -> Response {
    let fault = {
        let mut inner = sim.lock();
        inner.token_calls += 1;
        inner.token_fault
    };
    if let Some(r) = apply_fault(fault).await {
        return r;
    }
    // PeeringDB's middleware takes HTTP Basic as a user login and fails it.
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Basic ")) {
        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({ "meta": { "error": "Invalid username or password" } })))
            .into_response();
    }
    if f.client_id.as_deref() != Some(sim.client.client_id.as_str())
        || f.client_secret.as_deref() != Some(sim.client.client_secret.as_str())
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    match f.grant_type.as_deref() {
        Some("authorization_code") => {}
        Some("refresh_token") => {
            // django-oauth-toolkit sends a new ID token with every refresh of
            // an OpenID Connect grant (without a nonce).
            let id_token = oidc::IdTokenRequest { issuer: oidc::issuer(&headers, &uri, "/oauth2/token/"), nonce: None };
            return refresh(&sim, f.refresh_token.as_deref(), id_token);
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
    // Taken out: a code works once, whatever happens next.
    let grant = f.code.as_deref().and_then(|c| sim.lock().codes.remove(c));
    let Some(grant) = grant else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let fresh = grant.issued.elapsed() <= CODE_LIFETIME;
    let same_client = grant.client_id == sim.client.client_id;
    let same_redirect = f.redirect_uri.as_deref() == Some(grant.redirect_uri.as_str());
    let pkce_ok = match (&grant.challenge, &f.code_verifier) {
        (None, _) => true,
        (Some(challenge), Some(verifier)) => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == *challenge,
        (Some(_), None) => false,
    };
    if !(fresh && same_client && same_redirect && pkce_ok) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let id_token = grant.scope.split(' ').any(|s| s == "openid").then(|| oidc::IdTokenRequest {
        issuer: oidc::issuer(&headers, &uri, "/oauth2/token/"),
        nonce: grant.nonce.clone(),
    });
    issue_tokens(&sim, grant.user, id_token)
}

/// A new access token and a new refresh token for `user`, and an ID token
/// when the login asked for `openid`.
fn issue_tokens(sim: &Simulator, user: String, id_token: Option<oidc::IdTokenRequest>) -> Response {
    let (access, refresh) = (random_token(), random_token());
    let mut inner = sim.lock();
    inner.tokens.insert(access.clone(), user.clone());
    inner.issued.push(access.clone());
    inner.refresh_tokens.insert(refresh.clone(), user.clone());
    let id_token = id_token.and_then(|req| {
        let profile = inner.profiles.get(&user)?.clone();
        inner.oidc.id_token(&req, &profile, &sim.client, &access)
    });
    if let Some(t) = &id_token {
        inner.issued_id_tokens.push(t.clone());
    }
    drop(inner);
    let mut answer = serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 36000,
        "refresh_token": refresh,
        "scope": "profile email networks amr",
    });
    if let Some(id_token) = id_token {
        answer["id_token"] = serde_json::Value::String(id_token);
        answer["scope"] = serde_json::Value::String("openid profile email networks amr".into());
    }
    Json(answer).into_response()
}

/// The refresh grant: the old refresh token dies as the new one is issued.
fn refresh(sim: &Simulator, token: Option<&str>, id_token: oidc::IdTokenRequest) -> Response {
    let user = token.and_then(|t| sim.lock().refresh_tokens.remove(t));
    match user {
        Some(user) => issue_tokens(sim, user, Some(id_token)),
        None => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
    }
}

#[derive(Debug, Deserialize)]
struct RevokeForm {
    token: Option<String>,
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// RFC 7009 as django-oauth-toolkit answers it: 200 whether or not the
/// token was known; client_secret_post required.
async fn revoke(State(sim): State<Simulator>, Form(f): Form<RevokeForm>) -> Response {
    if f.client_id.as_deref() != Some(sim.client.client_id.as_str())
        || f.client_secret.as_deref() != Some(sim.client.client_secret.as_str())
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let Some(token) = f.token else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let mut inner = sim.lock();
    inner.tokens.remove(&token);
    inner.refresh_tokens.remove(&token);
    inner.revoked.push((token, f.token_type_hint));
    StatusCode::OK.into_response()
}

async fn profile(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    let fault = {
        let mut inner = sim.lock();
        inner.profile_calls += 1;
        inner.profile_fault
    };
    if let Some(r) = apply_fault(fault).await {
        return r;
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let inner = sim.lock();
    let doc = token.and_then(|t| inner.tokens.get(&t)).and_then(|user| inner.profiles.get(user)).cloned();
    drop(inner);
    match doc {
        Some(doc) => Json(doc).into_response(),
        // PeeringDB answers a bad token with 403 and no body, not 401.
        None => StatusCode::FORBIDDEN.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn serve(sim: &Simulator) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = sim.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        base
    }

    fn sim() -> Simulator {
        Simulator::new(Client {
            client_id: "cid".into(),
            client_secret: "secret".into(),
            redirect_uris: vec!["https://portal.example/auth/peeringdb/callback".into()],
        })
    }

    fn no_redirects() -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    #[tokio::test]
    async fn http_basic_at_the_token_endpoint_gets_peeringdbs_401() {
        let sim = sim();
        let base = serve(&sim).await;
        let resp = no_redirects()
            .post(format!("{base}/oauth2/token/"))
            .basic_auth("cid", Some("secret"))
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.text().await.unwrap(), r#"{"meta":{"error":"Invalid username or password"}}"#);
    }

    #[tokio::test]
    async fn a_wrong_secret_is_invalid_client() {
        let sim = sim();
        let base = serve(&sim).await;
        let resp = no_redirects()
            .post(format!("{base}/oauth2/token/"))
            .form(&[("grant_type", "authorization_code"), ("code", "x"), ("client_id", "cid"), ("client_secret", "nope")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.text().await.unwrap(), r#"{"error":"invalid_client"}"#);
    }

    #[tokio::test]
    async fn a_bad_redirect_uri_or_client_gets_an_error_page_not_a_redirect() {
        let sim = sim();
        let base = serve(&sim).await;
        for query in [
            "response_type=code&client_id=cid&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=s",
            "response_type=code&client_id=cid&redirect_uri=https%3A%2F%2Fportal.example%2Fauth%2Fpeeringdb%2Fcallback%2F&state=s",
            "response_type=code&client_id=other&redirect_uri=https%3A%2F%2Fportal.example%2Fauth%2Fpeeringdb%2Fcallback&state=s",
        ] {
            let resp = no_redirects().get(format!("{base}/oauth2/authorize/?{query}")).send().await.unwrap();
            assert_eq!(resp.status(), 400, "{query}");
            assert!(resp.headers().get("location").is_none());
        }
    }

    #[tokio::test]
    async fn codes_are_single_use_and_checked_against_pkce_and_redirect() {
        let sim = sim();
        let base = serve(&sim).await;
        let redirect = "https://portal.example/auth/peeringdb/callback";
        let verifier = "a-verifier-that-is-long-enough-for-pkce-0123456789";
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let exchange = |code: String, verifier: &'static str, redirect: &'static str| {
            let base = base.clone();
            async move {
                no_redirects()
                    .post(format!("{base}/oauth2/token/"))
                    .form(&[
                        ("grant_type", "authorization_code"),
                        ("code", code.as_str()),
                        ("redirect_uri", redirect),
                        ("client_id", "cid"),
                        ("client_secret", "secret"),
                        ("code_verifier", verifier),
                    ])
                    .send()
                    .await
                    .unwrap()
            }
        };
        let code = sim.approve("alice", redirect, Some(&challenge), "profile", None);
        assert_eq!(exchange(code.clone(), "wrong-verifier", "https://portal.example/auth/peeringdb/callback").await.status(), 400);
        // A failed attempt spends the code too.
        assert_eq!(exchange(code, "a-verifier-that-is-long-enough-for-pkce-0123456789", "https://portal.example/auth/peeringdb/callback").await.status(), 400);

        let code = sim.approve("alice", redirect, Some(&challenge), "profile", None);
        assert_eq!(exchange(code.clone(), "a-verifier-that-is-long-enough-for-pkce-0123456789", "https://portal.example/other").await.status(), 400);

        let code = sim.approve("alice", redirect, Some(&challenge), "profile", None);
        let ok = exchange(code.clone(), "a-verifier-that-is-long-enough-for-pkce-0123456789", "https://portal.example/auth/peeringdb/callback").await;
        assert_eq!(ok.status(), 200);
        let token: serde_json::Value = ok.json().await.unwrap();
        let replay = exchange(code, "a-verifier-that-is-long-enough-for-pkce-0123456789", "https://portal.example/auth/peeringdb/callback").await;
        assert_eq!(replay.status(), 400);
        assert_eq!(replay.text().await.unwrap(), r#"{"error":"invalid_grant"}"#);

        let profile = no_redirects().get(format!("{base}/profile/v1")).bearer_auth(token["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(profile.status(), 200);
        let bad = no_redirects().get(format!("{base}/profile/v1")).bearer_auth("nope").send().await.unwrap();
        assert_eq!(bad.status(), 403);
        assert!(bad.text().await.unwrap().is_empty());
    }

    /// The JSON of a token answer made in-process.
    async fn tokens_of(resp: Response) -> serde_json::Value {
        serde_json::from_slice(&axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap()).unwrap()
    }

    async fn revoke_with(base: &str, token: &str, secret: &str) -> reqwest::Response {
        no_redirects()
            .post(format!("{base}/oauth2/revoke_token/"))
            .form(&[("token", token), ("token_type_hint", "refresh_token"), ("client_id", "cid"), ("client_secret", secret)])
            .send()
            .await
            .unwrap()
    }

    async fn refresh_with(base: &str, token: &str) -> reqwest::Response {
        no_redirects()
            .post(format!("{base}/oauth2/token/"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", "cid"), ("client_secret", "secret")])
            .send()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn refresh_tokens_rotate_and_the_old_one_dies() {
        let sim = sim();
        let base = serve(&sim).await;
        let first = tokens_of(issue_tokens(&sim, "alice".into(), None)).await;
        let old = first["refresh_token"].as_str().unwrap();
        let rotated = refresh_with(&base, old).await;
        assert_eq!(rotated.status(), 200);
        let rotated: serde_json::Value = rotated.json().await.unwrap();
        let new = rotated["refresh_token"].as_str().unwrap();
        assert_ne!(new, old);
        let profile = no_redirects().get(format!("{base}/profile/v1")).bearer_auth(rotated["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(profile.status(), 200);
        let replay = refresh_with(&base, old).await;
        assert_eq!(replay.status(), 400);
        assert_eq!(replay.text().await.unwrap(), r#"{"error":"invalid_grant"}"#);

        sim.invalidate_tokens_of("alice");
        assert_eq!(refresh_with(&base, new).await.status(), 400, "the person revoked the app");
    }

    #[tokio::test]
    async fn revocation_needs_the_client_and_kills_the_token() {
        let sim = sim();
        let base = serve(&sim).await;
        let tokens = tokens_of(issue_tokens(&sim, "alice".into(), None)).await;
        let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
        assert_eq!(revoke_with(&base, &refresh, "wrong").await.status(), 401);
        assert_eq!(refresh_with(&base, &refresh).await.status(), 200, "a refused revocation changes nothing");
        let tokens = tokens_of(issue_tokens(&sim, "alice".into(), None)).await;
        let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
        assert_eq!(revoke_with(&base, &refresh, "secret").await.status(), 200);
        assert_eq!(sim.revoked(), vec![(refresh.clone(), Some("refresh_token".to_string()))]);
        assert_eq!(refresh_with(&base, &refresh).await.status(), 400);
    }
}
