//! The port between the Leptos server functions and the server crate.
//!
//! Server functions live in `app` (they are compiled into both the server and
//! the browser), but the database and secrets live in `server`. The server
//! implements [`Backend`] and puts it in the Leptos context; server
//! functions translate HTTP into calls on it.
//!
//! Who is calling is settled once per request, before any server function
//! runs: the server's middleware reads the session, loads the person and
//! their customers, and leaves a [`ResolvedCaller`] in the request. Use
//! cases receive a [`Caller`] or a [`Superadmin`], never the session; the
//! session itself is only touched here, through [`BrowserSession`].

use std::sync::Arc;

use leptos::prelude::*;
use tower_sessions::Session;

use crate::console::{
    Account, AuditFilter, AuditItem, CustomerAccess, CustomerForm, CustomerItem, ImportPreview, InvitationView, IxfForm, IxfPreview, NewUserForm, Page,
    PeeringDbStatus, TwoFactor, UserDetail, UserItem,
};

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
use crate::{Actor, AppError, Me, Membership, Role, SiteInfo};

/// Facts about the HTTP request that the backend records (audit, throttling).
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    /// What the browser calls itself, cut to a sane length: shown to the
    /// person in their list of sessions.
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// The longest user agent kept.
    pub const USER_AGENT_MAX: usize = 256;

    pub fn new(ip: Option<String>, user_agent: Option<&str>) -> RequestMeta {
        let user_agent = user_agent.map(|ua| {
            let mut end = ua.len().min(Self::USER_AGENT_MAX);
            while !ua.is_char_boundary(end) {
                end -= 1;
            }
            ua[..end].to_string()
        });
        RequestMeta { ip, user_agent }
    }

    /// A request's facts as the server receives it: the client's address
    /// (as the web layer worked it out, [`ClientIp`]) and the browser's
    /// `User-Agent`.
    pub fn from_http(client: Option<std::net::IpAddr>, headers: &axum::http::HeaderMap) -> RequestMeta {
        Self::new(client.map(|ip| ip.to_string()), headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()))
    }
}

/// The page's Content-Security-Policy, with `{nonce}` where the nonce of
/// the response goes (the server builds it from its configuration).
#[derive(Clone, Debug)]
pub struct ContentSecurityPolicy(pub std::sync::Arc<str>);

impl ContentSecurityPolicy {
    /// Where the response's nonce goes in the policy.
    pub const NONCE: &'static str = "{nonce}";
}

/// Sends the page's Content-Security-Policy with the nonce Leptos put on
/// its inline scripts. Called by the shell while it renders; without a
/// policy in context (the fallback page) the web layer's nonce-less one
/// stays, under which nothing inline runs.
pub fn send_content_security_policy() {
    let (Some(res), Some(policy), Some(nonce)) =
        (use_context::<leptos_axum::ResponseOptions>(), use_context::<ContentSecurityPolicy>(), leptos::nonce::use_nonce())
    else {
        return;
    };
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy.0.replace(ContentSecurityPolicy::NONCE, &nonce)) {
        res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The client's address, put into every request's extensions by the web
/// layer: the TCP peer, or the address a trusted reverse proxy forwarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

/// The signed-in, enabled person behind a request, with every customer
/// they can act for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub is_superadmin: bool,
    pub memberships: Vec<Membership>,
    /// The exchange requires two-factor of this account and it has none:
    /// nothing but setting it up until it does.
    pub must_set_up_2fa: bool,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::User(self.user_id)
    }

    pub fn membership(&self, customer_id: i64) -> Option<&Membership> {
        self.memberships.iter().find(|m| m.customer_id == customer_id)
    }

    /// True when the caller may see and manage who has access to the customer.
    pub fn administers(&self, customer_id: i64) -> bool {
        self.is_superadmin || self.membership(customer_id).is_some_and(|m| m.role == Role::Admin)
    }

    /// The one customer of someone who has exactly one.
    pub fn sole_customer(&self) -> Option<i64> {
        match self.memberships.as_slice() {
            [only] => Some(only.customer_id),
            _ => None,
        }
    }

    /// The caller as a superadmin, or `Forbidden`.
    pub fn superadmin(&self) -> Result<Superadmin, AppError> {
        if self.is_superadmin {
            Ok(Superadmin(self.clone()))
        } else {
            tracing::warn!(user_id = self.user_id, "refused: superadmin only");
            Err(AppError::Forbidden)
        }
    }

    /// The person as the pages see them.
    pub fn me(&self, chosen: Option<i64>, flash: Option<String>) -> Me {
        Me {
            user_id: self.user_id,
            username: self.username.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            is_superadmin: self.is_superadmin,
            memberships: self.memberships.clone(),
            current_customer: chosen.filter(|c| self.membership(*c).is_some()),
            flash,
            must_set_up_2fa: self.must_set_up_2fa,
        }
    }
}

/// A caller proven to be a superadmin: the console's use cases take only
/// this, so a missing rights check does not compile.
#[derive(Clone, Debug)]
pub struct Superadmin(Caller);

impl std::ops::Deref for Superadmin {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

/// What the request's middleware found: the caller, or nobody.
#[derive(Clone, Debug, Default)]
pub struct ResolvedCaller(pub Option<Arc<Caller>>);

/// A person who just proved who they are: what their new session holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignIn {
    pub user_id: i64,
    /// With exactly one customer there is nothing to pick: it is chosen.
    pub sole_customer: Option<i64>,
}

/// What a right password leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordLogin {
    SignedIn(SignIn),
    /// The account has two-factor on: the code must come first.
    SecondFactor(SignIn),
}

#[async_trait::async_trait]
pub trait Backend: Console + SelfService + Send + Sync + 'static {
    fn site_info(&self) -> SiteInfo;

    /// Checks the password (throttled, audited). An account with
    /// two-factor on is not signed in yet: its code comes next.
    async fn password_login(&self, meta: &RequestMeta, username: &str, password: secrecy::SecretString) -> Result<PasswordLogin, AppError>;
    /// The second step of a password login: a code from the authenticator
    /// app or a recovery code (throttled like passwords, audited).
    async fn second_factor(&self, meta: &RequestMeta, pending: SignIn, code: &str) -> Result<SignIn, AppError>;

    /// "Forgot your password?": mails a single-use link (or, to an account
    /// without a password, how to log in with PeeringDB) to the accounts
    /// `who` names, by username or email. The answer is the same whether
    /// or not any account matches; throttled per address and per account.
    async fn forgot_password(&self, meta: &RequestMeta, who: &str) -> Result<(), AppError>;
    /// The username a reset link is for, while it works.
    async fn reset_link(&self, token: &str) -> Result<Option<String>, AppError>;
    /// Sets a new password with a reset link, once; ends every session of
    /// the account.
    async fn reset_password(&self, meta: &RequestMeta, token: &str, new: secrecy::SecretString) -> Result<(), AppError>;

    /// What an invitation link offers, to `me` if someone is signed in.
    async fn invitation(&self, token: &str, me: Option<&Caller>) -> Result<InvitationView, AppError>;
    /// Makes a password account for the invited address and accepts the
    /// invitation with it, in one transaction.
    async fn join_by_invitation(&self, meta: &RequestMeta, token: &str, username: &str, name: &str, password: secrecy::SecretString)
        -> Result<SignIn, AppError>;
}

/// The admin console: superadmins only, which the argument proves.
#[async_trait::async_trait]
pub trait Console: Send + Sync + 'static {
    async fn customers(&self, admin: &Superadmin, q: &str, page: u32) -> Result<Page<CustomerItem>, AppError>;
    async fn customer(&self, admin: &Superadmin, id: i64) -> Result<CustomerItem, AppError>;
    /// Creates or updates; returns the customer's id.
    async fn save_customer(&self, admin: &Superadmin, meta: &RequestMeta, form: CustomerForm) -> Result<i64, AppError>;
    async fn delete_customer(&self, admin: &Superadmin, meta: &RequestMeta, id: i64) -> Result<(), AppError>;
    /// Checks a CSV; writes it only when `commit` and every row is good.
    async fn import_customers(&self, admin: &Superadmin, meta: &RequestMeta, csv: &str, allow_reserved: bool, commit: bool)
        -> Result<ImportPreview, AppError>;
    /// Reads an IX-F export (pasted or fetched); writes it only when
    /// `commit`, every member is good and the export is still the one the
    /// preview's digest names.
    async fn import_ixf(&self, admin: &Superadmin, meta: &RequestMeta, form: IxfForm, commit: bool) -> Result<IxfPreview, AppError>;

    async fn users(&self, admin: &Superadmin, q: &str, page: u32) -> Result<Page<UserItem>, AppError>;
    async fn user(&self, admin: &Superadmin, id: i64) -> Result<UserDetail, AppError>;
    async fn create_user(&self, admin: &Superadmin, meta: &RequestMeta, form: NewUserForm, password: secrecy::SecretString)
        -> Result<i64, AppError>;
    /// A manual grant by customer shortname (turns a PeeringDB grant manual).
    async fn grant(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64, customer: &str, role: Role) -> Result<(), AppError>;
    async fn revoke(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64, customer_id: i64) -> Result<(), AppError>;
    async fn set_disabled(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64, disabled: bool) -> Result<(), AppError>;
    async fn unlink_peeringdb(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64) -> Result<(), AppError>;
    /// Deletes an account: every grant, session and the PeeringDB link go,
    /// and the link's refresh token is revoked at PeeringDB.
    async fn delete_user(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64) -> Result<(), AppError>;
    /// Removes a user's two-factor authentication and ends their sessions
    /// (not one's own: the account page switches it off).
    async fn reset_two_factor(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64) -> Result<(), AppError>;
    /// Re-syncs one user with PeeringDB now; says what changed.
    async fn resync_user(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64) -> Result<String, AppError>;

    async fn audit(&self, admin: &Superadmin, filter: AuditFilter, page: u32) -> Result<Page<AuditItem>, AppError>;
    async fn peeringdb_status(&self, admin: &Superadmin) -> Result<PeeringDbStatus, AppError>;
    async fn mail_status(&self, admin: &Superadmin) -> Result<crate::console::MailStatus, AppError>;
    async fn login_activity(&self, admin: &Superadmin) -> Result<crate::console::LoginActivity, AppError>;
    /// Makes every queued mail due now; how many.
    async fn retry_mail(&self, admin: &Superadmin, meta: &RequestMeta) -> Result<u64, AppError>;
}

/// What every signed-in person may do about their own account, and what a
/// customer's admins may do about their customer.
#[async_trait::async_trait]
pub trait SelfService: Send + Sync + 'static {
    /// The caller's account; `current_session` (the id of the browser's
    /// own session) marks that one in the list of sessions.
    async fn account(&self, me: &Caller, current_session: Option<&str>) -> Result<Account, AppError>;
    /// Ends one other session of the caller, named by its handle.
    async fn end_session(&self, me: &Caller, meta: &RequestMeta, handle: &str, current_session: Option<&str>) -> Result<(), AppError>;
    async fn set_own_peeringdb_login(&self, me: &Caller, meta: &RequestMeta, allowed: bool) -> Result<(), AppError>;
    /// Ends every other session of the caller; the answer restarts this one.
    async fn change_password(&self, me: &Caller, meta: &RequestMeta, current: secrecy::SecretString, new: secrecy::SecretString)
        -> Result<SignIn, AppError>;
    /// Ends every session of the caller, this one included.
    async fn logout_everywhere(&self, me: &Caller, meta: &RequestMeta) -> Result<(), AppError>;

    /// Who has access to a customer: its admins (and superadmins) only.
    async fn customer_access(&self, me: &Caller, customer_id: i64) -> Result<CustomerAccess, AppError>;
    /// A customer's admin invites a person by email with a role (never
    /// above their own); the invitation goes out by mail.
    async fn invite(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, email: &str, role: Role) -> Result<(), AppError>;
    async fn withdraw_invitation(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, invitation_id: i64) -> Result<(), AppError>;
    /// A customer's admins switch login with PeeringDB on or off for their
    /// customer and cap its role, unless the operator locked that choice.
    async fn set_customer_peeringdb(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, login: bool, max_role: Option<Role>)
        -> Result<(), AppError>;
    /// Accepts an invitation into the signed-in account (its email must
    /// be the invited one); the customer's id.
    async fn accept_invitation(&self, me: &Caller, meta: &RequestMeta, token: &str) -> Result<i64, AppError>;
    /// A customer admin removes a manual grant of their own customer.
    async fn revoke_access(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, user_id: i64) -> Result<(), AppError>;
    /// A customer admin requires a second factor at PeeringDB of the
    /// customer's people (PeeringDB access without one ends at once).
    async fn require_mfa(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, require: bool) -> Result<(), AppError>;

    /// The caller's two-factor state (without the one-time recovery codes:
    /// the server function adds those from the session).
    async fn two_factor(&self, me: &Caller) -> Result<TwoFactor, AppError>;
    /// Starts (or restarts) an enrolment with a new secret.
    async fn start_two_factor(&self, me: &Caller) -> Result<(), AppError>;
    /// Confirms the enrolment with a code; returns the recovery codes.
    async fn confirm_two_factor(&self, me: &Caller, meta: &RequestMeta, code: &str) -> Result<Vec<String>, AppError>;
    /// Switches two-factor off: needs the password and a code.
    async fn disable_two_factor(&self, me: &Caller, meta: &RequestMeta, password: secrecy::SecretString, code: &str) -> Result<(), AppError>;
}

/// How the backend travels through the Leptos context.
#[derive(Clone)]
pub struct SharedBackend(pub Arc<dyn Backend>);

/// The names of the session's values, in one place (the server's session
/// store reads `USER_ID` to know whose session a row is).
pub mod session_keys {
    pub const USER_ID: &str = "user_id";
    pub const CUSTOMER_ID: &str = "customer_id";
    pub const FLASH: &str = "flash";
    /// Where the session started, for the person's list of sessions.
    pub const USER_AGENT: &str = "user_agent";
    /// A password login waiting for its second factor: (user, sole
    /// customer, unix time of the password, next page).
    pub const SECOND_FACTOR: &str = "second_factor";
    /// Recovery codes just made, until the 2FA page has shown them once.
    pub const RECOVERY_CODES: &str = "recovery_codes";
    pub const IP: &str = "ip";
}

/// The browser's session, through the few operations the portal needs.
#[derive(Clone, Debug)]
pub struct BrowserSession(pub Session);

fn session_error(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    AppError::Internal
}

impl BrowserSession {
    pub async fn user_id(&self) -> Result<Option<i64>, AppError> {
        self.0.get::<i64>(session_keys::USER_ID).await.map_err(session_error)
    }

    /// An empty session under a new id: any id planted before dies.
    async fn fresh(&self) -> Result<(), AppError> {
        // Without a session cookie there is no id to plant: saving creates
        // a fresh one, and a cycle would only delete a random id that was
        // never stored (a write per login for nothing).
        if self.0.id().is_some() {
            self.0.cycle_id().await.map_err(session_error)?;
        }
        self.0.clear().await;
        Ok(())
    }

    /// Starts a new session for a person who has just proved who they are.
    /// A new id defeats session fixation: any id planted before login dies.
    pub async fn sign_in(&self, s: SignIn, meta: &RequestMeta) -> Result<(), AppError> {
        self.fresh().await?;
        self.0.insert(session_keys::USER_ID, s.user_id).await.map_err(session_error)?;
        if let Some(ua) = &meta.user_agent {
            self.0.insert(session_keys::USER_AGENT, ua).await.map_err(session_error)?;
        }
        if let Some(ip) = &meta.ip {
            self.0.insert(session_keys::IP, ip).await.map_err(session_error)?;
        }
        if let Some(customer_id) = s.sole_customer {
            self.choose(customer_id).await?;
        }
        Ok(())
    }

    pub async fn chosen_customer(&self) -> Result<Option<i64>, AppError> {
        self.0.get::<i64>(session_keys::CUSTOMER_ID).await.map_err(session_error)
    }

    pub async fn choose(&self, customer_id: i64) -> Result<(), AppError> {
        self.0.insert(session_keys::CUSTOMER_ID, customer_id).await.map_err(session_error)
    }

    /// Remembers a password that was right, for its second factor (a new
    /// session id: the waiting step is bound to this browser alone).
    pub async fn await_second_factor(&self, s: SignIn, next: Option<&str>) -> Result<(), AppError> {
        self.fresh().await?;
        let at = unix_now();
        let pending = (s.user_id, s.sole_customer, at, next.map(str::to_owned));
        self.0.insert(session_keys::SECOND_FACTOR, pending).await.map_err(session_error)
    }

    /// The password login waiting for its second factor, if it is not
    /// older than `domain::two_factor::SECOND_STEP_SECONDS`, and its `next`.
    pub async fn second_factor(&self) -> Result<Option<(SignIn, Option<String>)>, AppError> {
        type Pending = (i64, Option<i64>, i64, Option<String>);
        let Some((user_id, sole_customer, at, next)) = self.0.get::<Pending>(session_keys::SECOND_FACTOR).await.map_err(session_error)? else {
            return Ok(None);
        };
        let age = unix_now() - at;
        Ok((0..=domain::two_factor::SECOND_STEP_SECONDS).contains(&age).then_some((SignIn { user_id, sole_customer }, next)))
    }

    /// Keeps recovery codes for the 2FA page to show once.
    pub async fn stash_recovery_codes(&self, codes: Vec<String>) -> Result<(), AppError> {
        self.0.insert(session_keys::RECOVERY_CODES, codes).await.map_err(session_error)
    }

    /// The stashed recovery codes, once.
    pub async fn take_recovery_codes(&self) -> Result<Vec<String>, AppError> {
        if self.0.get_value(session_keys::RECOVERY_CODES).await.map_err(session_error)?.is_none() {
            return Ok(Vec::new());
        }
        Ok(self.0.remove::<Vec<String>>(session_keys::RECOVERY_CODES).await.map_err(session_error)?.unwrap_or_default())
    }

    /// A one-time notice for the next page ("Access added: …").
    pub async fn set_flash(&self, text: String) -> Result<(), AppError> {
        self.0.insert(session_keys::FLASH, text).await.map_err(session_error)
    }

    /// The notice, once. Only a session that has one is changed: a page
    /// load without a notice writes nothing.
    pub async fn take_flash(&self) -> Result<Option<String>, AppError> {
        if self.0.get_value(session_keys::FLASH).await.map_err(session_error)?.is_none() {
            return Ok(None);
        }
        self.0.remove::<String>(session_keys::FLASH).await.map_err(session_error)
    }

    /// The session's id, when it has one: the server marks "this browser"
    /// in the person's list of sessions with it. Never sent to a page.
    pub fn id(&self) -> Option<String> {
        self.0.id().map(|id| id.to_string())
    }

    /// Forgets the session, here and in the store.
    pub async fn end(&self) -> Result<(), AppError> {
        self.0.flush().await.map_err(session_error)
    }
}

/// What every server function needs: the backend, the caller, the session
/// and the request facts.
pub struct Ctx {
    pub backend: Arc<dyn Backend>,
    pub session: BrowserSession,
    pub meta: RequestMeta,
    /// True when the browser posted a plain HTML form (JavaScript off): the
    /// answer must then be a redirect, not JSON.
    pub plain_form: bool,
    caller: Option<Arc<Caller>>,
}

impl Ctx {
    pub async fn get() -> Result<Ctx, AppError> {
        let backend = use_context::<SharedBackend>().ok_or(AppError::Internal)?.0;
        let session: Session = leptos_axum::extract().await.map_err(|_| AppError::Internal)?;
        let parts = use_context::<axum::http::request::Parts>().ok_or(AppError::Internal)?;
        let plain_form = parts
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
        let meta = RequestMeta::from_http(parts.extensions.get::<ClientIp>().map(|c| c.0), &parts.headers);
        let Some(ResolvedCaller(caller)) = parts.extensions.get::<ResolvedCaller>().cloned() else {
            tracing::error!(path = %parts.uri.path(), "no caller was resolved for this request");
            return Err(AppError::Internal);
        };
        Ok(Ctx { backend, session: BrowserSession(session), meta, plain_form, caller })
    }

    /// The signed-in person, if any.
    pub fn signed_in(&self) -> Option<&Caller> {
        self.caller.as_deref()
    }

    /// The signed-in person, or `Unauthenticated`; `TwoFactorRequired`
    /// while the exchange requires them to set up two-factor first.
    pub fn caller(&self) -> Result<&Caller, AppError> {
        let caller = self.setting_up_two_factor()?;
        if caller.must_set_up_2fa {
            return Err(self.fail(AppError::TwoFactorRequired));
        }
        Ok(caller)
    }

    /// The signed-in person, even one who must set up two-factor first:
    /// for the server functions that set it up.
    pub fn setting_up_two_factor(&self) -> Result<&Caller, AppError> {
        self.signed_in().ok_or_else(|| self.fail(AppError::Unauthenticated))
    }

    /// The signed-in superadmin, or `Unauthenticated` / `Forbidden`.
    pub fn superadmin(&self) -> Result<Superadmin, AppError> {
        self.caller()?.superadmin().map_err(|e| self.fail(e))
    }

    /// Answers an error with a fitting status instead of leptos' blanket
    /// 500 (a wrong password is not a server fault, and logs should say so).
    pub fn fail(&self, e: AppError) -> AppError {
        use axum::http::StatusCode;
        let status = match &e {
            AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::AccountDisabled | AppError::TwoFactorRequired => StatusCode::FORBIDDEN,
            AppError::WrongCode => StatusCode::UNAUTHORIZED,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Throttled { .. } | AppError::Busy => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let retry_after = match &e {
            AppError::Throttled { minutes } => Some(u64::from(*minutes) * 60),
            AppError::Busy => Some(1),
            _ => None,
        };
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            if !self.plain_form {
                res.set_status(status);
            }
            if let Some(seconds) = retry_after {
                res.insert_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
            }
        }
        e
    }

    /// Sends the person somewhere after a form post (a 302).
    pub fn redirect(&self, to: &str) {
        leptos_axum::redirect(to);
    }

    /// Sends the person to `to` (a path without a query), where the page
    /// confirms that the server function at `function` succeeded.
    pub fn redirect_done(&self, to: &str, function: &str) {
        leptos_axum::redirect(&format!("{to}?{}={}", crate::FORM_OK, crate::encode_query_component(function)));
    }
}
