//! The simulator as an OpenID Connect provider: discovery, a key set whose
//! signing key rotates on demand, and RS256 ID tokens as PeeringDB
//! (django-oauth-toolkit) issues them, with faults that spoil one thing
//! each for the portal's conformance tests.
//!
//! The keys are fixed test keys, in `keys/`: generating RSA keys at every
//! start would cost seconds in a debug build, and a simulator's keys guard
//! nothing.

use std::sync::OnceLock;

use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{Client, Simulator};

const PEMS: [&str; 3] = [include_str!("../keys/sim-1.pem"), include_str!("../keys/sim-2.pem"), include_str!("../keys/sim-3.pem")];

/// The parsed keys, shared by every simulator in the process.
fn keys() -> &'static [RsaPrivateKey] {
    static KEYS: OnceLock<Vec<RsaPrivateKey>> = OnceLock::new();
    KEYS.get_or_init(|| PEMS.iter().filter_map(|pem| RsaPrivateKey::from_pkcs8_pem(pem).ok()).collect())
}

fn kid(index: usize) -> String {
    format!("sim-key-{}", index + 1)
}

/// One way to spoil the next ID tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdTokenFault {
    /// No `id_token` in the token answer.
    Missing,
    /// The signature's bytes are changed.
    BadSignature,
    WrongAudience,
    NoAudience,
    /// `aud` lists the portal and another client, without `azp`.
    SeveralAudiences,
    WrongIssuer,
    WrongNonce,
    /// `exp` two minutes ago (more than any leeway).
    Expired,
    /// `iat` five minutes ahead.
    IssuedInFuture,
    NoSubject,
    NoIssuedAt,
    /// `sub` is another person's id than the profile's.
    OtherSubject,
    /// `at_hash` of another access token.
    BadAccessTokenHash,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 with the client secret as the key (PeeringDB advertises it).
    Hs256,
    /// Signed with a key the key set does not publish, under its own `kid`.
    UnknownKey,
    /// Signed with the current key, without a `kid` in the header.
    NoKeyId,
}

/// What `/oauth2/.well-known/jwks.json` publishes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jwks {
    /// The signing key only.
    #[default]
    Current,
    /// Every key the simulator has (several keys).
    All,
    /// The signing key and a key no client can parse.
    WithUnparseable,
}

#[derive(Default)]
pub(crate) struct Provider {
    pub(crate) fault: Option<IdTokenFault>,
    pub(crate) jwks: Jwks,
    /// Index of the signing key.
    current: usize,
    pub(crate) discovery_issuer: Option<String>,
    pub(crate) discovery_calls: u64,
    pub(crate) jwks_calls: u64,
}

/// What an ID token needs from the token request.
pub(crate) struct IdTokenRequest {
    pub(crate) issuer: String,
    pub(crate) nonce: Option<String>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Provider {
    pub(crate) fn rotate(&mut self) {
        self.current = (self.current + 1) % PEMS.len();
    }

    /// The ID token for `profile`, signed (or spoiled) as set.
    pub(crate) fn id_token(&self, req: &IdTokenRequest, profile: &Value, client: &Client, access_token: &str) -> Option<String> {
        let fault = self.fault;
        if fault == Some(IdTokenFault::Missing) {
            return None;
        }
        let t = now();
        let digest = Sha256::digest(if fault == Some(IdTokenFault::BadAccessTokenHash) { b"another token".as_slice() } else { access_token.as_bytes() });
        let mut claims = json!({
            "iss": req.issuer,
            "sub": profile.get("id").map(Value::to_string).unwrap_or_default(),
            "aud": client.client_id,
            "exp": t + 3600,
            "iat": t,
            "auth_time": t,
            "at_hash": b64(&digest[..16]),
            "name": profile.get("name"),
            "email": profile.get("email"),
            "email_verified": profile.get("verified_email"),
            "amr": profile.get("amr"),
        });
        if let Some(nonce) = &req.nonce {
            claims["nonce"] = json!(nonce);
        }
        match fault {
            Some(IdTokenFault::WrongAudience) => claims["aud"] = json!("another-client"),
            Some(IdTokenFault::NoAudience) => claims["aud"] = Value::Null,
            Some(IdTokenFault::SeveralAudiences) => claims["aud"] = json!([client.client_id, "another-client"]),
            Some(IdTokenFault::WrongIssuer) => claims["iss"] = json!("https://auth.example.net/oauth2"),
            Some(IdTokenFault::WrongNonce) => claims["nonce"] = json!("not-the-nonce-that-was-sent"),
            Some(IdTokenFault::Expired) => claims["exp"] = json!(t - 120),
            Some(IdTokenFault::IssuedInFuture) => claims["iat"] = json!(t + 300),
            Some(IdTokenFault::NoSubject) => claims["sub"] = Value::Null,
            Some(IdTokenFault::NoIssuedAt) => claims["iat"] = Value::Null,
            Some(IdTokenFault::OtherSubject) => claims["sub"] = json!("999999"),
            _ => {}
        }
        if let Some(map) = claims.as_object_mut() {
            map.retain(|_, v| !v.is_null());
        }
        let keys = keys();
        let (alg, kid_header, key_index) = match fault {
            Some(IdTokenFault::AlgNone) => ("none", None, None),
            Some(IdTokenFault::Hs256) => ("HS256", None, None),
            Some(IdTokenFault::UnknownKey) => {
                let other = (self.current + 1) % keys.len();
                ("RS256", Some(kid(other)), Some(other))
            }
            Some(IdTokenFault::NoKeyId) => ("RS256", None, Some(self.current)),
            _ => ("RS256", Some(kid(self.current)), Some(self.current)),
        };
        let mut header = json!({ "alg": alg, "typ": "JWT" });
        if let Some(kid) = kid_header {
            header["kid"] = json!(kid);
        }
        let signing_input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let mut signature = match (alg, key_index) {
            ("HS256", _) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(client.client_secret.as_bytes()).ok()?;
                mac.update(signing_input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            (_, Some(i)) => SigningKey::<Sha256>::new(keys.get(i)?.clone()).sign(signing_input.as_bytes()).to_vec(),
            _ => Vec::new(),
        };
        if fault == Some(IdTokenFault::BadSignature) {
            if let Some(last) = signature.last_mut() {
                *last ^= 0x01;
            }
        }
        Some(format!("{signing_input}.{}", b64(&signature)))
    }

    fn key_set(&self) -> Value {
        let keys = keys();
        let published: Vec<usize> = match self.jwks {
            Jwks::All => (0..keys.len()).collect(),
            Jwks::Current | Jwks::WithUnparseable => vec![self.current],
        };
        let mut list: Vec<Value> = published
            .into_iter()
            .filter_map(|i| {
                let public = keys.get(i)?.to_public_key();
                Some(json!({
                    "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid(i),
                    "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be()),
                }))
            })
            .collect();
        if self.jwks == Jwks::WithUnparseable {
            list.insert(0, json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "broken", "n": "%%%", "e": 7 }));
        }
        json!({ "keys": list })
    }
}

/// `<scheme://host/prefix>/oauth2` for a request whose path ends in
/// `suffix`: the simulator may be served alone or nested under a prefix,
/// and always on loopback over plain HTTP.
pub(crate) fn issuer(headers: &HeaderMap, uri: &Uri, suffix: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let prefix = uri.path().strip_suffix(suffix).unwrap_or_default();
    format!("http://{host}{prefix}/oauth2")
}

/// The discovery document, served at the root and under `/oauth2/` as
/// PeeringDB does.
pub(crate) async fn discovery(State(sim): State<Simulator>, headers: HeaderMap, OriginalUri(uri): OriginalUri) -> Response {
    let suffix = if uri.path().ends_with("/oauth2/.well-known/openid-configuration") {
        "/oauth2/.well-known/openid-configuration"
    } else {
        "/.well-known/openid-configuration"
    };
    let own = issuer(&headers, &uri, suffix);
    let mut inner = sim.lock();
    inner.oidc.discovery_calls += 1;
    let named = inner.oidc.discovery_issuer.clone().unwrap_or_else(|| own.clone());
    drop(inner);
    Json(json!({
        "issuer": named,
        "authorization_endpoint": format!("{own}/authorize/"),
        "token_endpoint": format!("{own}/token/"),
        "userinfo_endpoint": format!("{own}/userinfo/"),
        "jwks_uri": format!("{own}/.well-known/jwks.json"),
        "revocation_endpoint": format!("{own}/revoke_token/"),
        "introspection_endpoint": format!("{own}/introspect/"),
        "response_types_supported": ["code", "token", "id_token", "id_token token", "code token", "code id_token", "code id_token token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "HS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "networks", "amr"],
        "claims_supported": ["sub", "name", "email", "email_verified", "amr"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
    }))
    .into_response()
}

pub(crate) async fn jwks(State(sim): State<Simulator>) -> Response {
    let mut inner = sim.lock();
    inner.oidc.jwks_calls += 1;
    let set = inner.oidc.key_set();
    drop(inner);
    Json(set).into_response()
}
