//! The port between the Leptos server functions and the server crate.
//!
//! Server functions live in `app` (they are compiled into both the server and
//! the browser), but the database, sessions and secrets live in `server`. The
//! server implements [`Backend`] and puts it in the Leptos context; server
//! functions only translate HTTP to calls on it.

use std::sync::Arc;

use leptos::prelude::*;
use tower_sessions::Session;

use crate::{AppError, Me, SiteInfo};

/// Facts about the HTTP request that the backend records (audit, throttling).
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    fn site_info(&self) -> SiteInfo;

    /// Checks the password and, on success, starts a fresh session.
    async fn password_login(
        &self,
        session: &Session,
        meta: &RequestMeta,
        username: &str,
        password: secrecy::SecretString,
    ) -> Result<(), AppError>;

    /// The signed-in person, or `None` for an anonymous session.
    async fn me(&self, session: &Session) -> Result<Option<Me>, AppError>;

    /// Remembers which of their customers the person acts for.
    async fn choose_customer(&self, session: &Session, customer_id: i64) -> Result<(), AppError>;
}

/// How the backend travels through the Leptos context.
#[derive(Clone)]
pub struct SharedBackend(pub Arc<dyn Backend>);

/// What every server function needs: the backend, the session and the request facts.
pub struct Ctx {
    pub backend: Arc<dyn Backend>,
    pub session: Session,
    pub meta: RequestMeta,
    /// True when the browser posted a plain HTML form (JavaScript off): the
    /// answer must then be a redirect, not JSON.
    pub plain_form: bool,
}

impl Ctx {
    pub async fn get() -> Result<Ctx, AppError> {
        let backend = use_context::<SharedBackend>().ok_or(AppError::Internal)?.0;
        let session: Session = leptos_axum::extract().await.map_err(|_| AppError::Internal)?;
        let parts = use_context::<axum::http::request::Parts>().ok_or(AppError::Internal)?;
        let header = |name: axum::http::HeaderName| {
            parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let plain_form = header(axum::http::header::ACCEPT).is_some_and(|a| a.contains("text/html"));
        let meta = RequestMeta {
            ip: parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
            user_agent: header(axum::http::header::USER_AGENT),
        };
        Ok(Ctx { backend, session, meta, plain_form })
    }

    /// Answers an error with a fitting status instead of leptos' blanket
    /// 500 (a wrong password is not a server fault, and logs should say so).
    pub fn fail(&self, e: AppError) -> AppError {
        use axum::http::StatusCode;
        let status = match &e {
            AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::AccountDisabled => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if !self.plain_form {
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(status);
            }
        }
        e
    }

    /// Sends the person somewhere: a 302 for a plain form post, a
    /// client-side navigation when the call came from the hydrated page.
    pub fn redirect(&self, to: &str) {
        leptos_axum::redirect(to);
    }
}
