//! The use cases: what the portal does, between the web adapter (which
//! resolves who is calling and speaks HTTP) and the store (which speaks
//! SQL). Rules come from the `domain` crate; what happens here is reading
//! the facts, asking the rule, and writing the answer with its audit rows in
//! one transaction.

pub mod access;
pub mod account;
pub mod console;
pub mod customers;
pub mod peeringdb;
pub mod people;
pub mod resync;
pub mod two_factor;

use std::sync::Arc;

use app::backend::{Backend, Caller, PasswordLogin, RequestMeta, SignIn};
use app::{AppError, SiteInfo};
use domain::throttle::Verdict;
use domain::{Actor, AuditEvent, LoginMethod};
use secrecy::SecretString;
use serde_json::json;

use crate::config::Config;
use crate::keys::{Keyring, Keys};
use crate::password;
use crate::peeringdb::PeeringDbClient;
use crate::store::audit::{self, AuditEntry};
use crate::store::{self, throttle, users, Db, DbError};

pub struct Portal {
    pub db: Db,
    pub config: Arc<Config>,
    /// Present when "Login with PeeringDB" is enabled.
    pub peeringdb: Option<Arc<PeeringDbClient>>,
    /// Present when mail is configured (`PEERPORTAL_SMTP_URL`).
    pub mailer: Option<Arc<crate::mail::Mailer>>,
    /// Seals PeeringDB refresh tokens at rest.
    pub keys: Keys,
    /// Token revocations on their way to PeeringDB (a command waits for
    /// them before it exits).
    pub(crate) background: std::sync::Mutex<tokio::task::JoinSet<()>>,
    /// Requests logins made to PeeringDB, not yet in the shared budget.
    pub(crate) login_requests: std::sync::atomic::AtomicI64,
    /// What `/metrics` reports.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// The one way a database failure reaches a person: logged with its cause,
/// answered with the fixed "something went wrong".
impl From<DbError> for AppError {
    fn from(e: DbError) -> AppError {
        tracing::error!(error = %e, "database error");
        AppError::Internal
    }
}

impl From<password::PasswordError> for AppError {
    fn from(e: password::PasswordError) -> AppError {
        if matches!(e, password::PasswordError::Busy) {
            tracing::warn!("every password check slot is busy: answered 429");
            return AppError::Busy;
        }
        tracing::error!(error = %e, "password hashing failed");
        AppError::Internal
    }
}

impl Portal {
    /// The portal on `db` as the configuration says: the PeeringDB client
    /// when enabled, the key file read (or created).
    pub fn new(db: Db, config: Config) -> anyhow::Result<Portal> {
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let peeringdb = match &config.peeringdb {
            Some(p) => Some(Arc::new(PeeringDbClient::new(p, metrics.clone()).map_err(|e| anyhow::anyhow!("PEERINGDB_OAUTH_URL: {e}"))?)),
            None => None,
        };
        let mailer = match &config.mail {
            Some(m) => Some(Arc::new(crate::mail::Mailer::new(m).map_err(|e| anyhow::anyhow!("PEERPORTAL_SMTP_URL: {e}"))?)),
            None => None,
        };
        let keys = Keys::new(Keyring::load_or_create(&config.secret_key_file)?);
        Ok(Portal { db, config: Arc::new(config), peeringdb, mailer, keys, background: Default::default(), login_requests: Default::default(), metrics })
    }

    /// Who the mails come from; `None` when mail is off (then no mail is
    /// written at all: an outbox nobody sends would only grow).
    pub(crate) fn mail_site(&self) -> Option<crate::mail::message::Site<'_>> {
        let from = &self.config.mail.as_ref()?.from;
        Some(crate::mail::message::Site {
            public_url: &self.config.public_url,
            signature: from.name.as_deref().unwrap_or("PeerPortal"),
            support: self.config.support_email.as_deref(),
        })
    }

    /// Writes the requests logins made since the last call into the shared
    /// per-minute budget: one write every few seconds instead of one per
    /// login. The re-sync of another replica may therefore see logins up
    /// to one flush late.
    pub async fn flush_login_requests(&self) -> Result<(), DbError> {
        let n = self.login_requests.swap(0, std::sync::atomic::Ordering::Relaxed);
        if n > 0 {
            if let Err(e) = store::budget::record(&self.db, store::budget::minute_of(store::now()), n).await {
                self.login_requests.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Runs `work` in the background, reaping what has finished.
    pub(crate) fn in_background(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut set = self.background.lock().unwrap_or_else(|e| e.into_inner());
        while set.try_join_next().is_some() {}
        set.spawn(work);
    }

    /// Waits (up to `within`) for the background work still running, so a
    /// command does not exit with revocations unsent.
    pub async fn finish_background(&self, within: std::time::Duration) {
        let mut set = std::mem::take(&mut *self.background.lock().unwrap_or_else(|e| e.into_inner()));
        let _ = tokio::time::timeout(within, async { while set.join_next().await.is_some() {} }).await;
    }

    /// The signed-in person behind a session's user id, or `None` when the
    /// account is gone or disabled.
    pub async fn caller(&self, user_id: i64) -> Result<Option<Caller>, AppError> {
        let Some(row) = users::caller(&self.db, user_id).await? else { return Ok(None) };
        let mut caller = row.caller;
        caller.must_set_up_2fa = !row.two_factor && self.config.two_factor_policy.requires(caller.is_superadmin, row.has_password);
        Ok(Some(caller))
    }

    /// Records a password login (and its second factor, if any) and says
    /// what the new session holds.
    pub(crate) async fn signed_in_with_password(&self, meta: &RequestMeta, user_id: i64, second_factor: Option<&str>) -> Result<SignIn, AppError> {
        let mut tx = self.db.begin().await?;
        users::record_login(&mut tx, user_id, LoginMethod::Password).await?;
        let mut details = json!({ "via": LoginMethod::Password });
        if let Some(second) = second_factor {
            details["second_factor"] = json!(second);
        }
        let entry =
            AuditEntry { actor: Actor::User(user_id), event: AuditEvent::LoginSuccess, user_id: Some(user_id), customer_id: None, details, ip: meta.ip.as_deref() };
        audit::write(&mut tx, &entry).await?;
        tx.commit().await?;
        let memberships = store::grants::memberships(&self.db, user_id).await?;
        let sole_customer = match memberships.as_slice() {
            [only] => Some(only.customer_id),
            _ => None,
        };
        self.metrics.login(LoginMethod::Password, true);
        tracing::info!(user_id, "password login");
        Ok(SignIn { user_id, sole_customer })
    }

    pub(crate) async fn refuse_password(&self, meta: &RequestMeta, username: &str, user_id: Option<i64>, reason: &str) -> Result<(), AppError> {
        self.count_refused_password(reason);
        audit_refused_password(&self.db, meta, username, user_id, reason).await
    }

    /// A refused password login in `/metrics`, audited or not (only the
    /// first attempt over a throttle's limit is).
    pub(crate) fn count_refused_password(&self, reason: &str) {
        self.metrics.login(LoginMethod::Password, false);
        self.metrics.refusal(LoginMethod::Password, reason);
    }

    /// Checks a password under the throttle (`domain::throttle`): the
    /// attempt is counted before argon2 runs, waits the username's delay,
    /// and is given back when the password was right.
    pub(crate) async fn check_password(&self, meta: &RequestMeta, username: &str, stored: Option<String>, password: SecretString) -> Result<Checked, AppError> {
        self.throttled(meta, username, async move { Ok(password::verify(password, stored).await?) }).await
    }

    /// Runs `check` (a password's or a code's) under the login throttle
    /// of `username` from the caller's address.
    pub(crate) async fn throttled(
        &self,
        meta: &RequestMeta,
        username: &str,
        check: impl std::future::Future<Output = Result<bool, AppError>>,
    ) -> Result<Checked, AppError> {
        let address = throttle_address(meta);
        let pair = throttle::pair_key(username, address.as_deref().unwrap_or("unknown"));
        let user = throttle::username_key(username);
        let address = address.map(|a| throttle::address_key(&a));
        let mut keys = vec![pair.as_str(), user.as_str()];
        keys.extend(address.as_deref());
        let counts = throttle::take(&self.db, &keys, domain::throttle::WINDOW).await?;
        let (pair_count, user_count, address_count) = (counts[0], counts[1], counts.get(2).copied());
        match domain::throttle::judge(pair_count, address_count, user_count, store::now()) {
            Verdict::Refuse { retry_after, first } => {
                let minutes = domain::throttle::minutes(retry_after);
                if !first {
                    // Only the attempt that went over the limit is audited: a
                    // flood of refused attempts is a count in the log.
                    tracing::info!(username = %domain::audit::capped(username), "login attempt refused by the throttle");
                }
                return Ok(Checked::Throttled { minutes, first });
            }
            Verdict::Check { delay } => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
            }
        }
        if !check.await? {
            return Ok(Checked::Wrong);
        }
        let mut back = vec![user.as_str()];
        back.extend(address.as_deref());
        throttle::settle(&self.db, &pair, &back).await?;
        Ok(Checked::Right)
    }
}

/// The caller's address as the throttles count it (`domain::net`), when known.
pub(crate) fn throttle_address(meta: &RequestMeta) -> Option<String> {
    meta.ip.as_deref().and_then(|ip| ip.parse().ok()).map(domain::net::throttle_address)
}

/// 256 random bits, URL-safe: a browser binding, a login's `state`, the
/// secret of a single-use link.
pub(crate) fn random_token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// What is stored for a token: its SHA-256, so a database leak gives no
/// usable binding or link.
pub(crate) fn token_hash(token: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()))
}

/// What a throttled password check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Checked {
    Right,
    Wrong,
    /// Not checked: a limit was reached. `first` for the attempt that
    /// reached it.
    Throttled { minutes: u32, first: bool },
}

/// The longest username a password login reads: longer ones are refused
/// before anything is counted or written.
pub const MAX_USERNAME_BYTES: usize = 64;
/// The longest password a login or a password change reads.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Refuses what no account can have, before any database write.
pub(crate) fn within_limits(username: &str, password: &SecretString) -> Result<(), AppError> {
    use secrecy::ExposeSecret;
    if username.len() > MAX_USERNAME_BYTES {
        return Err(AppError::Validation(format!("A username has at most {MAX_USERNAME_BYTES} characters.")));
    }
    if password.expose_secret().len() > MAX_PASSWORD_BYTES {
        return Err(AppError::Validation(format!("A password has at most {MAX_PASSWORD_BYTES} characters.")));
    }
    Ok(())
}

async fn audit_refused_password(db: &Db, meta: &RequestMeta, username: &str, user_id: Option<i64>, reason: &str) -> Result<(), AppError> {
    let entry = AuditEntry {
        actor: Actor::Anonymous,
        event: AuditEvent::LoginRefused,
        user_id,
        customer_id: None,
        details: json!({ "via": LoginMethod::Password, "username": username, "reason": reason }),
        ip: meta.ip.as_deref(),
    };
    Ok(audit::write_alone(db, &entry).await?)
}

#[async_trait::async_trait]
impl Backend for Portal {
    fn site_info(&self) -> SiteInfo {
        SiteInfo {
            peeringdb_login: self.config.peeringdb.is_some(),
            demo: self.config.demo,
            mail: self.config.mail.is_some(),
            support_email: self.config.support_email.clone(),
        }
    }

    #[tracing::instrument(skip(self, meta, password), fields(username = %username))]
    async fn password_login(&self, meta: &RequestMeta, username: &str, password: SecretString) -> Result<PasswordLogin, AppError> {
        within_limits(username, &password)?;
        let user = users::by_username(&self.db, username).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let user = match (self.check_password(meta, username, stored, password).await?, user) {
            (Checked::Throttled { minutes, first }, user) => {
                if first {
                    self.refuse_password(meta, username, user.map(|u| u.id), "throttled").await?;
                } else {
                    self.count_refused_password("throttled");
                }
                return Err(AppError::Throttled { minutes });
            }
            (Checked::Right, Some(user)) => user,
            (_, user) => {
                let reason = match &user {
                    None => "unknown_user",
                    Some(u) if u.password_hash.is_none() => "no_password",
                    Some(_) => "wrong_password",
                };
                self.refuse_password(meta, username, user.map(|u| u.id), reason).await?;
                return Err(AppError::BadCredentials);
            }
        };
        if user.disabled {
            self.refuse_password(meta, username, Some(user.id), "disabled").await?;
            return Err(AppError::AccountDisabled);
        }
        if store::two_factor::get(&self.db, user.id).await?.is_some_and(|t| t.confirmed) {
            tracing::info!(user_id = user.id, "password right; the second factor comes next");
            return Ok(PasswordLogin::SecondFactor(SignIn { user_id: user.id, sole_customer: None }));
        }
        Ok(PasswordLogin::SignedIn(self.signed_in_with_password(meta, user.id, None).await?))
    }

    async fn second_factor(&self, meta: &RequestMeta, pending: SignIn, code: &str) -> Result<SignIn, AppError> {
        self.second_step(meta, pending.user_id, code).await
    }

    async fn forgot_password(&self, meta: &RequestMeta, who: &str) -> Result<(), AppError> {
        self.forgot(meta, who).await
    }

    async fn reset_link(&self, token: &str) -> Result<Option<String>, AppError> {
        self.reset_link_user(token).await
    }

    async fn reset_password(&self, meta: &RequestMeta, token: &str, new: SecretString) -> Result<(), AppError> {
        self.reset(meta, token, new).await
    }

    async fn invitation(&self, token: &str, me: Option<&Caller>) -> Result<app::console::InvitationView, AppError> {
        self.invitation_view(token, me).await
    }

    async fn join_by_invitation(&self, meta: &RequestMeta, token: &str, username: &str, name: &str, password: SecretString) -> Result<SignIn, AppError> {
        self.join_with_password(meta, token, username, name, password).await
    }
}
