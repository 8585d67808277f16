//! The PeeringDB adapter: talking to PeeringDB (or the simulator) over
//! HTTP. The authorize URL, the code exchange and the refresh grant (oauth2
//! crate, client_secret_post, PKCE), the ID token (`oidc`), `/profile/v1`
//! and token revocation. One reqwest client, no redirects followed,
//! timeouts from the configuration, bodies capped at 1 MiB; every failure
//! PeeringDB can give is its own error.

mod jwk;
pub mod oidc;

use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, ExtraTokenFields,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardErrorResponse,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use domain::peeringdb::oidc::IdTokenRefusal;
use domain::peeringdb::profile::ProfileError;
use domain::peeringdb::{scopes, Profile};
use domain::LoginError;

use self::oidc::{Identity, Oidc, OidcError};

use std::sync::Arc;
use std::time::Instant;

use crate::config::PeeringDbConfig;
use crate::metrics::Metrics;

const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PeeringDbError {
    #[error("PeeringDB refused the code (invalid_grant): expired, reused or not ours")]
    InvalidGrant,
    #[error("PeeringDB refused our client credentials (invalid_client)")]
    InvalidClient,
    #[error("PeeringDB answered the token request with {0}")]
    OAuth(String),
    #[error("PeeringDB refused the access token on the profile (403)")]
    ProfileForbidden,
    #[error("PeeringDB rate-limited us (429), retry after {retry_after:?} s")]
    RateLimited { retry_after: Option<u64> },
    #[error("PeeringDB is unavailable (HTTP {0})")]
    Unavailable(u16),
    #[error("PeeringDB did not answer in time")]
    Timeout,
    #[error("PeeringDB's answer was malformed: {0}")]
    Malformed(String),
    #[error("PeeringDB's answer was larger than 1 MiB")]
    TooLarge,
    #[error("could not reach PeeringDB: {0}")]
    Network(String),
    #[error("{0}")]
    IdToken(IdTokenRefusal),
    #[error("PeeringDB's OpenID configuration is not usable: {0}")]
    Discovery(String),
}

impl PeeringDbError {
    /// The `?error=` code shown on `/login`.
    pub fn code(&self) -> LoginError {
        match self {
            PeeringDbError::InvalidGrant => LoginError::PdbInvalidGrant,
            PeeringDbError::InvalidClient | PeeringDbError::OAuth(_) => LoginError::PdbConfig,
            PeeringDbError::ProfileForbidden => LoginError::PdbForbidden,
            PeeringDbError::RateLimited { .. } => LoginError::PdbRateLimited,
            PeeringDbError::Unavailable(_) | PeeringDbError::Network(_) => LoginError::PdbUnavailable,
            PeeringDbError::Timeout => LoginError::PdbTimeout,
            PeeringDbError::Malformed(_) | PeeringDbError::TooLarge => LoginError::PdbMalformed,
            PeeringDbError::IdToken(r) => r.code(),
            PeeringDbError::Discovery(_) => LoginError::PdbDiscovery,
        }
    }

    /// The reason a refused login's audit row records.
    pub fn reason(&self) -> &'static str {
        match self {
            PeeringDbError::IdToken(r) => r.reason(),
            other => other.code().as_str(),
        }
    }
}

impl From<OidcError> for PeeringDbError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::Refused(r) => PeeringDbError::IdToken(r),
            OidcError::Discovery(e) => e,
        }
    }
}

fn from_reqwest(e: reqwest::Error) -> PeeringDbError {
    if e.is_timeout() {
        PeeringDbError::Timeout
    } else {
        PeeringDbError::Network(e.without_url().to_string())
    }
}

/// The token answer's `id_token`, kept as the raw JWT: `oidc` parses it
/// itself so that every way it can be wrong is named.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub struct IdTokenField {
    #[serde(default)]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type TokenAnswer = StandardTokenResponse<IdTokenField, BasicTokenType>;

type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

pub struct PeeringDbClient {
    http: reqwest::Client,
    oauth: OAuthClient,
    /// `Some` with `PEERINGDB_OIDC=required`.
    oidc: Option<Oidc>,
    profile_url: Url,
    revoke_url: Url,
    client_id: String,
    client_secret: SecretString,
    /// `<PEERINGDB_OAUTH_URL>/oauth2`, compared to `iss` (RFC 9207).
    pub issuer: String,
    metrics: Arc<Metrics>,
}

/// Reads a body, refusing more than [`MAX_BODY`] bytes.
async fn read_capped(resp: reqwest::Response) -> Result<Vec<u8>, PeeringDbError> {
    crate::fetch::read_capped(resp, MAX_BODY).await.map_err(|e| match e {
        crate::fetch::CappedError::TooLarge => PeeringDbError::TooLarge,
        crate::fetch::CappedError::Read(e) => from_reqwest(e),
    })
}

/// Statuses that are not OAuth answers at all.
fn status_error(resp: &reqwest::Response) -> Option<PeeringDbError> {
    let status = resp.status();
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        return Some(PeeringDbError::RateLimited { retry_after });
    }
    if status.is_server_error() || status.is_redirection() {
        return Some(PeeringDbError::Unavailable(status.as_u16()));
    }
    None
}

impl PeeringDbClient {
    pub fn new(config: &PeeringDbConfig, metrics: Arc<Metrics>) -> Result<PeeringDbClient, String> {
        let base = config.base_url.as_str().trim_end_matches('/');
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(concat!("PeerPortal/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        let oauth: OAuthClient = oauth2::Client::new(ClientId::new(config.client_id.clone()))
            .set_client_secret(ClientSecret::new(config.secret().to_string()))
            .set_auth_uri(AuthUrl::new(format!("{base}/oauth2/authorize/")).map_err(|e| e.to_string())?)
            .set_token_uri(TokenUrl::new(format!("{base}/oauth2/token/")).map_err(|e| e.to_string())?)
            .set_redirect_uri(RedirectUrl::new(config.redirect_uri.to_string()).map_err(|e| e.to_string())?)
            // client_secret_post: PeeringDB answers HTTP Basic with 401.
            .set_auth_type(AuthType::RequestBody);
        let profile_url = Url::parse(&format!("{base}/profile/v1")).map_err(|e| e.to_string())?;
        let revoke_url = Url::parse(&format!("{base}/oauth2/revoke_token/")).map_err(|e| e.to_string())?;
        let issuer = format!("{base}/oauth2");
        let oidc = if config.oidc { Some(Oidc::new(&issuer, &config.client_id, metrics.clone())?) } else { None };
        Ok(PeeringDbClient {
            http,
            oauth,
            oidc,
            profile_url,
            revoke_url,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            issuer,
            metrics,
        })
    }

    /// Runs one request to PeeringDB's `endpoint`, counted and timed.
    async fn timed<T>(&self, endpoint: &'static str, request: impl std::future::Future<Output = Result<T, PeeringDbError>>) -> Result<T, PeeringDbError> {
        let asked = Instant::now();
        let answer = request.await;
        self.metrics.peeringdb_request(endpoint, asked.elapsed(), answer.as_ref().err().map(PeeringDbError::reason));
        answer
    }

    /// Fetches PeeringDB's discovery document and key set (for
    /// `peerportal check-config`), whether or not logins check ID tokens.
    pub async fn discover(&self) -> Result<usize, PeeringDbError> {
        let send = self.hook();
        match &self.oidc {
            Some(oidc) => oidc.discover(&send).await,
            None => Oidc::new(&self.issuer, &self.client_id, self.metrics.clone()).map_err(PeeringDbError::Discovery)?.discover(&send).await,
        }
    }

    /// Whether logins ask for an ID token and must have a valid one.
    pub fn checks_id_tokens(&self) -> bool {
        self.oidc.is_some()
    }

    /// The URL to send the browser to, with state, an S256 challenge and,
    /// when ID tokens are checked, the nonce the token must carry.
    pub fn authorize_url(&self, state: &str, challenge: PkceCodeChallenge, nonce: Option<&str>) -> Url {
        let state = state.to_string();
        let mut request = self
            .oauth
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(scopes(self.oidc.is_some()).iter().map(|s| Scope::new((*s).to_string())))
            .set_pkce_challenge(challenge);
        if let Some(nonce) = nonce {
            request = request.add_extra_param("nonce", nonce.to_string());
        }
        request.url().0
    }

    /// Who the ID token of a login says the person is, and how they
    /// authenticated; `None` when ID tokens are not checked.
    pub async fn identify(&self, tokens: &Tokens, nonce: Option<&str>) -> Result<Option<Identity>, PeeringDbError> {
        let Some(oidc) = &self.oidc else { return Ok(None) };
        // A login started before ID tokens were switched on has no nonce.
        let nonce = nonce.ok_or(PeeringDbError::IdToken(IdTokenRefusal::Nonce))?;
        let send = self.hook();
        Ok(Some(oidc.verify(&send, tokens.id_token.as_ref(), nonce, &tokens.access).await?))
    }

    /// The ID token of a refresh grant, when PeeringDB sends one and ID
    /// tokens are checked: signed by PeeringDB, for this client, and about
    /// the linked person `peeringdb_id` (OpenID Connect Core §12.2).
    pub async fn check_refreshed(&self, tokens: &Tokens, peeringdb_id: i64) -> Result<(), PeeringDbError> {
        let (Some(oidc), Some(id_token)) = (&self.oidc, &tokens.id_token) else { return Ok(()) };
        let send = self.hook();
        let identity = oidc.verify_refreshed(&send, id_token, &tokens.access).await?;
        domain::peeringdb::oidc::check_subject(&identity.sub, peeringdb_id).map_err(PeeringDbError::IdToken)
    }

    /// Exchanges a login's code for tokens.
    pub async fn exchange(&self, code: String, verifier: String) -> Result<Tokens, PeeringDbError> {
        let send = self.hook();
        let request = self.oauth.exchange_code(AuthorizationCode::new(code)).set_pkce_verifier(PkceCodeVerifier::new(verifier));
        self.timed("token", async { tokens(request.request_async(&send).await) }).await
    }

    /// The refresh grant. PeeringDB rotates refresh tokens: once this
    /// answers, `refresh` is dead and the returned one is the only one.
    pub async fn refresh(&self, refresh: &SecretString) -> Result<Tokens, PeeringDbError> {
        let send = self.hook();
        let token = RefreshToken::new(refresh.expose_secret().to_string());
        self.timed("refresh", async { tokens(self.oauth.exchange_refresh_token(&token).request_async(&send).await) }).await
    }

    /// Revokes a token at PeeringDB (RFC 7009, client_secret_post).
    pub async fn revoke(&self, token: &SecretString, hint: TokenHint) -> Result<(), PeeringDbError> {
        self.timed("revoke", self.revoke_untimed(token, hint)).await
    }

    async fn revoke_untimed(&self, token: &SecretString, hint: TokenHint) -> Result<(), PeeringDbError> {
        let form = [
            ("token", token.expose_secret()),
            ("token_type_hint", hint.as_str()),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
        ];
        let resp = self.http.post(self.revoke_url.clone()).form(&form).send().await.map_err(from_reqwest)?;
        if let Some(e) = status_error(&resp) {
            return Err(e);
        }
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            401 => Err(PeeringDbError::InvalidClient),
            other => Err(PeeringDbError::OAuth(format!("revocation answered {other}"))),
        }
    }

    /// oauth2's HTTP hook: our client, our caps, our status handling.
    fn hook(&self) -> impl Fn(oauth2::HttpRequest) -> HookFuture + use<> {
        let http = self.http.clone();
        move |req: oauth2::HttpRequest| {
            let http = http.clone();
            Box::pin(async move {
                let req = reqwest::Request::try_from(req).map_err(|e| HookError(PeeringDbError::Network(e.to_string())))?;
                let resp = http.execute(req).await.map_err(|e| HookError(from_reqwest(e)))?;
                if let Some(e) = status_error(&resp) {
                    return Err(HookError(e));
                }
                let status = resp.status();
                let mut builder = oauth2::http::Response::builder().status(status.as_u16());
                for (k, v) in resp.headers() {
                    builder = builder.header(k.as_str(), v.as_bytes());
                }
                let body = read_capped(resp).await.map_err(HookError)?;
                builder.body(body).map_err(|e| HookError(PeeringDbError::Malformed(e.to_string())))
            })
        }
    }

    pub async fn profile(&self, token: &SecretString) -> Result<Profile, PeeringDbError> {
        self.timed("profile", self.profile_untimed(token)).await
    }

    async fn profile_untimed(&self, token: &SecretString) -> Result<Profile, PeeringDbError> {
        let resp = self
            .http
            .get(self.profile_url.clone())
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(from_reqwest)?;
        if let Some(e) = status_error(&resp) {
            return Err(e);
        }
        if resp.status() == reqwest::StatusCode::FORBIDDEN || resp.status() == reqwest::StatusCode::UNAUTHORIZED {
            return Err(PeeringDbError::ProfileForbidden);
        }
        if !resp.status().is_success() {
            return Err(PeeringDbError::Unavailable(resp.status().as_u16()));
        }
        let body = read_capped(resp).await?;
        Profile::parse(&body).map_err(|ProfileError::Malformed(e)| PeeringDbError::Malformed(e))
    }
}

type HookFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, HookError>> + Send>>;

/// What a token request gives: the access token and, with every code and
/// every refresh at PeeringDB, a new refresh token; the ID token when
/// `openid` was asked for.
pub struct Tokens {
    pub access: SecretString,
    pub refresh: Option<SecretString>,
    pub id_token: Option<SecretString>,
}

/// Which kind of token a revocation names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenHint {
    AccessToken,
    RefreshToken,
}

impl TokenHint {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenHint::AccessToken => "access_token",
            TokenHint::RefreshToken => "refresh_token",
        }
    }
}

fn tokens(result: Result<TokenAnswer, RequestTokenError<HookError, StandardErrorResponse<BasicErrorResponseType>>>) -> Result<Tokens, PeeringDbError> {
    match result {
        Ok(token) => Ok(Tokens {
            access: SecretString::from(token.access_token().secret().to_string()),
            refresh: token.refresh_token().map(|r| SecretString::from(r.secret().to_string())),
            id_token: token.extra_fields().id_token.clone().map(SecretString::from),
        }),
        Err(RequestTokenError::ServerResponse(r)) => Err(map_oauth_error(&r)),
        Err(RequestTokenError::Request(HookError(e))) => Err(e),
        Err(RequestTokenError::Parse(e, _)) => Err(PeeringDbError::Malformed(e.to_string())),
        Err(RequestTokenError::Other(e)) => Err(PeeringDbError::Malformed(e)),
    }
}

fn map_oauth_error(r: &StandardErrorResponse<BasicErrorResponseType>) -> PeeringDbError {
    match r.error() {
        BasicErrorResponseType::InvalidGrant => PeeringDbError::InvalidGrant,
        BasicErrorResponseType::InvalidClient | BasicErrorResponseType::UnauthorizedClient => PeeringDbError::InvalidClient,
        other => PeeringDbError::OAuth(other.to_string()),
    }
}

/// Carries our error through oauth2's HTTP hook.
#[derive(Debug)]
pub struct HookError(PeeringDbError);

impl std::fmt::Display for HookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for HookError {}
