//! PeeringDB's ID tokens (OpenID Connect Core §3.1.3.7) with the
//! `openidconnect` crate: the discovery document and key set, cached
//! until they fail or a token names a key they do not hold, and the
//! verification of one login's token (its RS256 signature by ring, in
//! `jwk`). The decisions with names (claims required, authorized party,
//! clock leeway, subject, second factor) are in `domain::peeringdb::oidc`.

use std::str::FromStr;
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::peeringdb::oidc::{self as rules, IdTokenRefusal, LEEWAY_SECONDS};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType, CoreIdToken, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    ClaimsVerificationError, ClientId, DiscoveryError, EmptyAdditionalProviderMetadata, IdTokenVerifier, IssuerUrl, Nonce,
    ProviderMetadata, SignatureVerificationError,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::jwk::SigningKey;
use super::{HookError, PeeringDbError};

/// The crate's provider metadata, with the key set read into
/// [`SigningKey`]s (RS256 checked by ring).
type ProviderMetadataWithKeys = ProviderMetadata<
    EmptyAdditionalProviderMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    SigningKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// What a verified ID token says about the login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// PeeringDB's user id, as text.
    pub sub: String,
    /// How the person authenticated (`pwd`, `mfa`, `otp`, `swk`).
    pub amr: Vec<String>,
}

/// Why a login's ID token could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error(transparent)]
    Refused(IdTokenRefusal),
    /// The discovery document or the key set could not be had, or does
    /// not describe PeeringDB as configured.
    #[error(transparent)]
    Discovery(PeeringDbError),
}

/// The discovery document's verifier: the key set with the issuer and
/// this client, built once per fetch.
struct Provider {
    verifier: IdTokenVerifier<'static, SigningKey>,
    /// Keys in the set as fetched (those this client could read).
    keys: usize,
}

pub struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    cached: RwLock<Option<Arc<Provider>>>,
    /// One fetch at a time: logins that find the cache empty or stale at
    /// once wait for the same fetch instead of each making their own.
    fetching: tokio::sync::Mutex<()>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Oidc {
    pub fn new(issuer: &str, client_id: &str, metrics: Arc<crate::metrics::Metrics>) -> Result<Oidc, String> {
        Ok(Oidc {
            issuer: IssuerUrl::new(issuer.to_string()).map_err(|e| e.to_string())?,
            client_id: ClientId::new(client_id.to_string()),
            cached: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
            metrics,
        })
    }

    fn current(&self) -> Option<Arc<Provider>> {
        self.cached.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The cached provider, or a fresh one when there is none or `stale`
    /// is the one cached (a token named a key it does not hold).
    async fn provider<C>(&self, http: &C, stale: Option<&Arc<Provider>>) -> Result<Arc<Provider>, PeeringDbError>
    where
        C: for<'c> openidconnect::AsyncHttpClient<'c, Error = HookError>,
    {
        let _turn = self.fetching.lock().await;
        if let Some(p) = self.current() {
            if !stale.is_some_and(|s| Arc::ptr_eq(s, &p)) {
                return Ok(p);
            }
        }
        let asked = std::time::Instant::now();
        let metadata = ProviderMetadataWithKeys::discover_async(self.issuer.clone(), http).await.map_err(discovery_error);
        // The discovery document and the key set, two requests timed as one.
        self.metrics.peeringdb_request("discovery", asked.elapsed(), metadata.as_ref().err().map(PeeringDbError::reason));
        let metadata = match metadata {
            Ok(m) => m,
            Err(e) => {
                // A failed fetch leaves nothing cached: the next login asks again.
                *self.cached.write().unwrap_or_else(|e| e.into_inner()) = None;
                return Err(e);
            }
        };
        tracing::info!(keys = metadata.jwks().keys().len(), "fetched PeeringDB's OpenID configuration and key set");
        let verifier = IdTokenVerifier::new_public_client(self.client_id.clone(), self.issuer.clone(), metadata.jwks().clone())
            // RS256 only: `none` and HS256 (signed with our own client
            // secret, which PeeringDB also advertises) are refused.
            .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
            // Several audiences are judged by `azp` below.
            .set_other_audience_verifier_fn(|_| true)
            .set_time_fn(|| chrono::Utc::now() - chrono::Duration::seconds(LEEWAY_SECONDS));
        let provider = Arc::new(Provider { verifier, keys: metadata.jwks().keys().len() });
        *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some(provider.clone());
        Ok(provider)
    }

    /// Fetches the discovery document and key set now, as a login would
    /// (the issuer checked); how many keys it holds.
    pub async fn discover<C>(&self, http: &C) -> Result<usize, PeeringDbError>
    where
        C: for<'c> openidconnect::AsyncHttpClient<'c, Error = HookError>,
    {
        let cached = self.current();
        Ok(self.provider(http, cached.as_ref()).await?.keys)
    }

    /// Verifies a login's ID token: signature (refetching the key set once
    /// when the token names a key it does not hold), issuer, audience,
    /// authorized party, expiry and issue time with a minute's leeway,
    /// nonce, and `at_hash` when present.
    pub async fn verify<C>(&self, http: &C, id_token: Option<&SecretString>, nonce: &str, access_token: &SecretString) -> Result<Identity, OidcError>
    where
        C: for<'c> openidconnect::AsyncHttpClient<'c, Error = HookError>,
    {
        self.verify_with(http, id_token, Some(nonce), access_token).await
    }

    /// Verifies the ID token of a refresh grant (OpenID Connect Core
    /// §12.2): the same checks, without a nonce (none was sent; the
    /// original one is not kept).
    pub async fn verify_refreshed<C>(&self, http: &C, id_token: &SecretString, access_token: &SecretString) -> Result<Identity, OidcError>
    where
        C: for<'c> openidconnect::AsyncHttpClient<'c, Error = HookError>,
    {
        self.verify_with(http, Some(id_token), None, access_token).await
    }

    async fn verify_with<C>(&self, http: &C, id_token: Option<&SecretString>, nonce: Option<&str>, access_token: &SecretString) -> Result<Identity, OidcError>
    where
        C: for<'c> openidconnect::AsyncHttpClient<'c, Error = HookError>,
    {
        let raw = id_token.ok_or(OidcError::Refused(IdTokenRefusal::Missing))?.expose_secret();
        rules::required_claims(&payload(raw)?).map_err(OidcError::Refused)?;
        let token = CoreIdToken::from_str(raw).map_err(|e| OidcError::Refused(IdTokenRefusal::Malformed(e.to_string())))?;
        let provider = self.provider(http, None).await.map_err(OidcError::Discovery)?;
        let identity = match check(&provider, &token, nonce, access_token, self.client_id.as_str()) {
            Err(IdTokenRefusal::UnknownKey) => {
                // PeeringDB may have rotated its key: fetch the set again, once.
                let fresh = self.provider(http, Some(&provider)).await.map_err(OidcError::Discovery)?;
                check(&fresh, &token, nonce, access_token, self.client_id.as_str())
            }
            other => other,
        };
        identity.map_err(OidcError::Refused)
    }
}

/// The token's payload as JSON, to name a missing claim before the
/// crate's parser refuses the whole token.
fn payload(raw: &str) -> Result<serde_json::Value, OidcError> {
    let malformed = |why: &str| OidcError::Refused(IdTokenRefusal::Malformed(why.to_string()));
    let mut parts = raw.split('.');
    let (Some(_), Some(body), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed("not three dot-separated parts"));
    };
    let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| malformed("the payload is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| malformed("the payload is not JSON"))
}

fn check(provider: &Provider, token: &CoreIdToken, nonce: Option<&str>, access_token: &SecretString, client_id: &str) -> Result<Identity, IdTokenRefusal> {
    let claims = match nonce {
        Some(nonce) => token.claims(&provider.verifier, &Nonce::new(nonce.to_string())),
        None => token.claims(&provider.verifier, |_: Option<&Nonce>| Ok(())),
    }
    .map_err(refusal)?;
    let audiences: Vec<&str> = claims.audiences().iter().map(|a| a.as_str()).collect();
    rules::check_authorized_party(&audiences, claims.authorized_party().map(|a| a.as_str()), client_id)?;
    rules::check_issued_at(claims.issue_time().timestamp(), chrono::Utc::now().timestamp())?;
    if let Some(at_hash) = claims.access_token_hash() {
        // RS256 is the only algorithm accepted: the hash is SHA-256's left half.
        let digest = Sha256::digest(access_token.expose_secret().as_bytes());
        let expected = URL_SAFE_NO_PAD.encode(&digest[..16]);
        if !bool::from(expected.as_bytes().ct_eq(at_hash.as_bytes())) {
            return Err(IdTokenRefusal::AccessTokenHash);
        }
    }
    Ok(Identity {
        sub: claims.subject().to_string(),
        amr: claims.auth_method_refs().map(|amr| amr.iter().map(|m| m.to_string()).collect()).unwrap_or_default(),
    })
}

fn refusal(e: ClaimsVerificationError) -> IdTokenRefusal {
    match e {
        ClaimsVerificationError::InvalidIssuer(m) => IdTokenRefusal::Issuer(m),
        ClaimsVerificationError::InvalidAudience(m) => IdTokenRefusal::Audience(m),
        ClaimsVerificationError::Expired(m) => IdTokenRefusal::Expired(m),
        ClaimsVerificationError::InvalidNonce(_) => IdTokenRefusal::Nonce,
        ClaimsVerificationError::SignatureVerification(e) => match e {
            SignatureVerificationError::NoSignature => IdTokenRefusal::Algorithm("none".into()),
            SignatureVerificationError::DisallowedAlg(m) | SignatureVerificationError::UnsupportedAlg(m) => IdTokenRefusal::Algorithm(m),
            SignatureVerificationError::NoMatchingKey => IdTokenRefusal::UnknownKey,
            SignatureVerificationError::AmbiguousKeyId(_) => IdTokenRefusal::AmbiguousKey,
            _ => IdTokenRefusal::Signature,
        },
        other => IdTokenRefusal::Malformed(other.to_string()),
    }
}

fn discovery_error(e: DiscoveryError<HookError>) -> PeeringDbError {
    match e {
        DiscoveryError::Request(HookError(e)) => e,
        DiscoveryError::Response(status, _, _) if status.is_server_error() => PeeringDbError::Unavailable(status.as_u16()),
        DiscoveryError::Response(status, _, _) => PeeringDbError::Discovery(format!("the discovery document or key set answered {status}")),
        DiscoveryError::Validation(m) => PeeringDbError::Discovery(m),
        DiscoveryError::Parse(e) => PeeringDbError::Discovery(format!("unreadable discovery document or key set: {e}")),
        other => PeeringDbError::Discovery(other.to_string()),
    }
}
