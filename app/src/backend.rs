//! The port between the Leptos server functions and the server crate.
//!
//! Server functions live in `app` (they are compiled into both the server and
//! the browser), but the database, sessions and secrets live in `server`. The
//! server implements [`Backend`] and puts it in the Leptos context; server
//! functions only translate HTTP to calls on it.

use std::sync::Arc;

use leptos::prelude::*;
use tower_sessions::Session;

use crate::console::{
    Account, AuditFilter, AuditItem, CustomerAccess, CustomerForm, CustomerItem, ImportPreview, NewUserForm, Page, PeeringDbStatus,
    UserDetail, UserItem,
};
use crate::{AppError, Me, Role, SiteInfo};

/// Facts about the HTTP request that the backend records (audit, throttling).
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[async_trait::async_trait]
pub trait Backend: Console + SelfService + Send + Sync + 'static {
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

/// The admin console: superadmins only. Every method checks that itself;
/// the server functions are thin.
#[async_trait::async_trait]
pub trait Console: Send + Sync + 'static {
    async fn customers(&self, session: &Session, q: &str, page: u32) -> Result<Page<CustomerItem>, AppError>;
    async fn customer(&self, session: &Session, id: i64) -> Result<CustomerItem, AppError>;
    /// Creates or updates; returns the customer's id.
    async fn save_customer(&self, session: &Session, meta: &RequestMeta, form: CustomerForm) -> Result<i64, AppError>;
    async fn delete_customer(&self, session: &Session, meta: &RequestMeta, id: i64) -> Result<(), AppError>;
    /// Checks a CSV; writes it only when `commit` and every row is good.
    async fn import_customers(&self, session: &Session, meta: &RequestMeta, csv: &str, allow_reserved: bool, commit: bool)
        -> Result<ImportPreview, AppError>;

    async fn users(&self, session: &Session, q: &str, page: u32) -> Result<Page<UserItem>, AppError>;
    async fn user(&self, session: &Session, id: i64) -> Result<UserDetail, AppError>;
    async fn create_user(&self, session: &Session, meta: &RequestMeta, form: NewUserForm, password: secrecy::SecretString)
        -> Result<i64, AppError>;
    /// A manual grant by customer shortname (turns a PeeringDB grant manual).
    async fn grant(&self, session: &Session, meta: &RequestMeta, user_id: i64, customer: &str, role: Role) -> Result<(), AppError>;
    async fn revoke(&self, session: &Session, meta: &RequestMeta, user_id: i64, customer_id: i64) -> Result<(), AppError>;
    async fn set_disabled(&self, session: &Session, meta: &RequestMeta, user_id: i64, disabled: bool) -> Result<(), AppError>;
    async fn unlink_peeringdb(&self, session: &Session, meta: &RequestMeta, user_id: i64) -> Result<(), AppError>;

    async fn audit(&self, session: &Session, filter: AuditFilter, page: u32) -> Result<Page<AuditItem>, AppError>;
    async fn peeringdb_status(&self, session: &Session) -> Result<PeeringDbStatus, AppError>;
}

/// What every signed-in person may do about their own account, and what a
/// customer's admins may do about their customer.
#[async_trait::async_trait]
pub trait SelfService: Send + Sync + 'static {
    async fn account(&self, session: &Session) -> Result<Account, AppError>;
    async fn set_own_peeringdb_login(&self, session: &Session, meta: &RequestMeta, allowed: bool) -> Result<(), AppError>;
    async fn change_password(
        &self,
        session: &Session,
        meta: &RequestMeta,
        current: secrecy::SecretString,
        new: secrecy::SecretString,
    ) -> Result<(), AppError>;
    /// Ends every session of the caller, this one included.
    async fn logout_everywhere(&self, session: &Session, meta: &RequestMeta) -> Result<(), AppError>;

    /// Who has access to a customer: its admins (and superadmins) only.
    async fn customer_access(&self, session: &Session, customer_id: i64) -> Result<CustomerAccess, AppError>;
    /// A customer admin removes a manual grant of their own customer.
    async fn revoke_access(&self, session: &Session, meta: &RequestMeta, customer_id: i64, user_id: i64) -> Result<(), AppError>;
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
