//! The PeeringDB adapter: talking to PeeringDB (or the simulator) over
//! HTTP. The authorize URL, the code exchange (oauth2 crate,
//! client_secret_post, PKCE) and `/profile/v1`. One reqwest client, no
//! redirects followed, timeouts from the configuration, bodies capped at
//! 1 MiB; every failure PeeringDB can give is its own error.

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, StandardErrorResponse, TokenResponse,
    TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use domain::peeringdb::profile::ProfileError;
use domain::peeringdb::{Profile, SCOPES};
use domain::LoginError;

use crate::config::PeeringDbConfig;

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

type OAuthClient = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub struct PeeringDbClient {
    http: reqwest::Client,
    oauth: OAuthClient,
    profile_url: Url,
    /// `<PEERINGDB_OAUTH_URL>/oauth2`, compared to `iss` (RFC 9207).
    pub issuer: String,
}

/// Reads a body, refusing more than [`MAX_BODY`] bytes.
async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, PeeringDbError> {
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(PeeringDbError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(from_reqwest)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(PeeringDbError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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
    pub fn new(config: &PeeringDbConfig) -> Result<PeeringDbClient, String> {
        let base = config.base_url.as_str().trim_end_matches('/');
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(concat!("PeerPortal/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        let oauth = BasicClient::new(ClientId::new(config.client_id.clone()))
            .set_client_secret(ClientSecret::new(config.secret().to_string()))
            .set_auth_uri(AuthUrl::new(format!("{base}/oauth2/authorize/")).map_err(|e| e.to_string())?)
            .set_token_uri(TokenUrl::new(format!("{base}/oauth2/token/")).map_err(|e| e.to_string())?)
            .set_redirect_uri(RedirectUrl::new(config.redirect_uri.to_string()).map_err(|e| e.to_string())?)
            // client_secret_post: PeeringDB answers HTTP Basic with 401.
            .set_auth_type(AuthType::RequestBody);
        let profile_url = Url::parse(&format!("{base}/profile/v1")).map_err(|e| e.to_string())?;
        Ok(PeeringDbClient { http, oauth, profile_url, issuer: format!("{base}/oauth2") })
    }

    /// The URL to send the browser to, with state and an S256 challenge.
    pub fn authorize_url(&self, state: &str, challenge: PkceCodeChallenge) -> Url {
        let state = state.to_string();
        let (url, _) = self
            .oauth
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_string())))
            .set_pkce_challenge(challenge)
            .url();
        url
    }

    /// The person's profile for a login's code: exchanges the code, reads
    /// `/profile/v1` with the access token, and drops the token.
    pub async fn fetch_profile(&self, code: String, verifier: String) -> Result<Profile, PeeringDbError> {
        let token = self.exchange(code, verifier).await?;
        self.profile(&token).await
    }

    /// Exchanges a code for an access token.
    async fn exchange(&self, code: String, verifier: String) -> Result<SecretString, PeeringDbError> {
        let http = self.http.clone();
        // oauth2's HTTP hook: our client, our caps, our status handling.
        let send = move |req: oauth2::HttpRequest| {
            let http = http.clone();
            async move {
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
            }
        };
        let result = self
            .oauth
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&send)
            .await;
        match result {
            Ok(token) => Ok(SecretString::from(token.access_token().secret().to_string())),
            Err(RequestTokenError::ServerResponse(r)) => Err(map_oauth_error(&r)),
            Err(RequestTokenError::Request(HookError(e))) => Err(e),
            Err(RequestTokenError::Parse(e, _)) => Err(PeeringDbError::Malformed(e.to_string())),
            Err(RequestTokenError::Other(e)) => Err(PeeringDbError::Malformed(e)),
        }
    }

    async fn profile(&self, token: &SecretString) -> Result<Profile, PeeringDbError> {
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
