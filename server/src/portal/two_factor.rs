//! Two-factor authentication for password accounts: enrolment (a secret
//! sealed at rest, shown once as a QR code made here as SVG and as text,
//! confirmed with a code), the second step of a password login (a TOTP
//! code or a single-use recovery code, through the login throttle, no code
//! accepted twice), switching it off (password and code), and the
//! operator's reset. The rules are `domain::two_factor`'s.

use app::backend::{Caller, RequestMeta};
use app::console::{Enrolment, TwoFactor};
use app::AppError;
use domain::two_factor::{self as rules, OneTimeCode, RECOVERY_ALPHABET, RECOVERY_CODES, RECOVERY_LENGTH, STEP_SECONDS};
use domain::{Actor, AuditEvent};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::console::{commit_audited, entry};
use super::{Checked, Portal};
use crate::keys::totp_context;
use crate::store::audit::{self, AuditEntry};
use crate::store::{now, sessions, two_factor, users, DbError};

/// What authenticator apps show above the code.
const ISSUER: &str = "PeerPortal";

fn totp(secret_base32: &str, account: &str) -> Result<totp_rs::Totp, AppError> {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).map_err(|_| internal("a stored TOTP secret is not base32"))?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| internal(&format!("TOTP settings refused: {e}")))
}

fn internal(why: &str) -> AppError {
    tracing::error!(why, "two-factor failed inside PeerPortal");
    AppError::Internal
}

fn unix_now() -> u64 {
    u64::try_from(now().unix_timestamp()).unwrap_or(0)
}

/// The step `code` is accepted for, given the last one used.
fn accepted(totp: &totp_rs::Totp, code: &OneTimeCode, last_used: Option<i64>) -> Option<u64> {
    let last = last_used.and_then(|s| u64::try_from(s).ok());
    rules::accepted_step(code, rules::step_of(unix_now()), last, |step| totp.generate(step * STEP_SECONDS).to_string())
}

fn recovery_hash(normalized: &str) -> String {
    Sha256::digest(normalized.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Ten fresh recovery codes: as shown, and as stored.
fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let mut rng = rand::thread_rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..RECOVERY_LENGTH).map(|_| char::from(RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())])).collect();
            (rules::format_recovery_code(&raw), recovery_hash(&raw))
        })
        .unzip()
}

/// The QR code of an `otpauth://` URI, as an SVG element.
fn qr_svg(uri: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| internal(&format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// What a second factor was.
enum Factor {
    Code,
    Recovery,
}

impl Portal {
    fn open_secret(&self, user_id: i64, sealed: &str) -> Result<SecretString, AppError> {
        self.keys.open(sealed, &totp_context(user_id)).map_err(|e| internal(&format!("a TOTP secret does not open: {e}")))
    }

    /// Checks a code or a recovery code of `user_id`'s confirmed second
    /// factor and spends it. `Ok(None)` when it is wrong or used.
    async fn spend_factor(&self, meta: &RequestMeta, user_id: i64, username: &str, typed: &str) -> Result<Option<Factor>, AppError> {
        let Some(record) = two_factor::get(&self.db, user_id).await?.filter(|t| t.confirmed) else {
            return Ok(None);
        };
        if let Some(code) = OneTimeCode::parse(typed) {
            let secret = self.open_secret(user_id, &record.secret)?;
            let totp = totp(secret.expose_secret(), username)?;
            let Some(step) = accepted(&totp, &code, record.last_step) else { return Ok(None) };
            // Two requests with the same code: only one moves the step.
            let step = i64::try_from(step).map_err(|_| AppError::Internal)?;
            return Ok(two_factor::use_step(&self.db, user_id, step).await?.then_some(Factor::Code));
        }
        let Some(normalized) = rules::normalize_recovery_code(typed) else { return Ok(None) };
        let mut tx = self.db.begin().await?;
        let Some(left) = two_factor::use_recovery_code(&mut tx, user_id, &recovery_hash(&normalized)).await? else {
            return Ok(None);
        };
        let details = json!({ "recovery_codes_left": left });
        let row = AuditEntry { actor: Actor::User(user_id), event: AuditEvent::TwoFactorRecoveryUsed, user_id: Some(user_id), customer_id: None, details, ip: meta.ip.as_deref() };
        audit::write(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(Some(Factor::Recovery))
    }

    /// The second step of a password login, under the login throttle.
    pub(crate) async fn second_step(&self, meta: &RequestMeta, user_id: i64, typed: &str) -> Result<app::backend::SignIn, AppError> {
        let user = users::by_id(&self.db, user_id).await?.ok_or(AppError::Unauthenticated)?;
        if user.disabled {
            return Err(AppError::AccountDisabled);
        }
        if typed.len() > 64 {
            return Err(AppError::WrongCode);
        }
        let mut factor = None;
        let checked = self
            .throttled(meta, &user.username, async {
                factor = self.spend_factor(meta, user_id, &user.username, typed).await?;
                Ok(factor.is_some())
            })
            .await?;
        match (checked, factor) {
            (Checked::Throttled { minutes, first }, _) => {
                if first {
                    self.refuse_password(meta, &user.username, Some(user_id), "throttled").await?;
                } else {
                    self.count_refused_password("throttled");
                }
                Err(AppError::Throttled { minutes })
            }
            (Checked::Right, Some(factor)) => {
                let second = match factor {
                    Factor::Code => "totp",
                    Factor::Recovery => "recovery_code",
                };
                self.signed_in_with_password(meta, user_id, Some(second)).await
            }
            _ => {
                self.refuse_password(meta, &user.username, Some(user_id), "wrong_code").await?;
                Err(AppError::WrongCode)
            }
        }
    }

    /// An operator removes a person's second factor (lost phone) and ends
    /// their sessions; they set it up again at their next login. False
    /// when they had none. `peerportal users reset-2fa` and the console.
    pub async fn remove_two_factor(&self, user_id: i64, actor: Actor, ip: Option<&str>, by: &str) -> Result<bool, DbError> {
        let mut tx = self.db.begin().await?;
        let had = two_factor::remove(&mut tx, user_id).await?;
        let ended = sessions::end_all_of(&mut tx, user_id).await?;
        let row = AuditEntry {
            actor,
            event: AuditEvent::TwoFactorReset,
            user_id: Some(user_id),
            customer_id: None,
            details: json!({ "by": by, "had_two_factor": had, "sessions_ended": ended }),
            ip,
        };
        audit::write(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(had)
    }

    pub(crate) async fn two_factor_state(&self, me: &Caller) -> Result<TwoFactor, AppError> {
        let record = two_factor::get(&self.db, me.user_id).await?;
        let user = users::by_id(&self.db, me.user_id).await?.ok_or(AppError::Unauthenticated)?;
        let required = self.config.two_factor_policy.requires(me.is_superadmin, user.password_hash.is_some());
        let enrolment = match &record {
            Some(r) if !r.confirmed => {
                let secret = self.open_secret(me.user_id, &r.secret)?;
                let totp = totp(secret.expose_secret(), &me.username)?;
                let uri = totp.to_url().map_err(|e| internal(&format!("otpauth URI: {e}")))?;
                Some(Enrolment { secret: secret.expose_secret().to_string(), qr_svg: qr_svg(&uri)?, otpauth_uri: uri })
            }
            _ => None,
        };
        let enabled = record.as_ref().is_some_and(|r| r.confirmed);
        let recovery_left = if enabled { two_factor::recovery_left(&self.db, me.user_id).await? } else { 0 };
        Ok(TwoFactor { enabled, required, recovery_left, enrolment, new_recovery_codes: Vec::new() })
    }

    pub(crate) async fn start_enrolment(&self, me: &Caller) -> Result<(), AppError> {
        let user = users::by_id(&self.db, me.user_id).await?.ok_or(AppError::Unauthenticated)?;
        if user.password_hash.is_none() {
            return Err(AppError::Conflict(
                "Your account logs in with PeeringDB only: set up two-factor authentication in your PeeringDB profile.".into(),
            ));
        }
        let secret = SecretString::from(totp_rs::Secret::from(rand::random::<[u8; 20]>()).to_base32());
        let sealed = self.keys.seal(&secret, &totp_context(me.user_id)).map_err(|e| internal(&e.to_string()))?;
        if !two_factor::start(&self.db, me.user_id, &sealed).await? {
            return Err(AppError::Conflict("Two-factor authentication is on already.".into()));
        }
        Ok(())
    }

    pub(crate) async fn confirm_enrolment(&self, me: &Caller, meta: &RequestMeta, typed: &str) -> Result<Vec<String>, AppError> {
        let Some(record) = two_factor::get(&self.db, me.user_id).await?.filter(|r| !r.confirmed) else {
            return Err(AppError::Conflict("Start the setup first.".into()));
        };
        let secret = self.open_secret(me.user_id, &record.secret)?;
        let totp = totp(secret.expose_secret(), &me.username)?;
        let mut step = None;
        let checked = self
            .throttled(meta, &me.username, async {
                step = OneTimeCode::parse(typed).and_then(|code| accepted(&totp, &code, None));
                Ok(step.is_some())
            })
            .await?;
        let step = match (checked, step) {
            (Checked::Throttled { minutes, .. }, _) => return Err(AppError::Throttled { minutes }),
            (Checked::Right, Some(step)) => i64::try_from(step).map_err(|_| AppError::Internal)?,
            _ => return Err(AppError::WrongCode),
        };
        let (shown, hashes) = new_recovery_codes();
        let mut tx = self.db.begin().await?;
        if !two_factor::confirm(&mut tx, me.user_id, step, &hashes).await? {
            return Err(AppError::Conflict("Two-factor authentication is on already.".into()));
        }
        commit_audited(tx, entry(me, meta, AuditEvent::TwoFactorEnabled, Some(me.user_id), None, json!({ "recovery_codes": RECOVERY_CODES }))).await?;
        tracing::info!(user_id = me.user_id, "two-factor switched on");
        Ok(shown)
    }

    pub(crate) async fn disable(&self, me: &Caller, meta: &RequestMeta, password: SecretString, typed: &str) -> Result<(), AppError> {
        let user = users::by_id(&self.db, me.user_id).await?.ok_or(AppError::Unauthenticated)?;
        match self.check_password(meta, &user.username, user.password_hash.clone(), password).await? {
            Checked::Right => {}
            Checked::Wrong => return Err(AppError::Validation("The current password is not right.".into())),
            Checked::Throttled { minutes, .. } => return Err(AppError::Throttled { minutes }),
        }
        let mut factor = None;
        let checked = self
            .throttled(meta, &user.username, async {
                factor = self.spend_factor(meta, me.user_id, &user.username, typed).await?;
                Ok(factor.is_some())
            })
            .await?;
        match checked {
            Checked::Right => {}
            Checked::Wrong => return Err(AppError::WrongCode),
            Checked::Throttled { minutes, .. } => return Err(AppError::Throttled { minutes }),
        }
        let mut tx = self.db.begin().await?;
        two_factor::remove(&mut tx, me.user_id).await?;
        commit_audited(tx, entry(me, meta, AuditEvent::TwoFactorDisabled, Some(me.user_id), None, json!({}))).await?;
        tracing::info!(user_id = me.user_id, "two-factor switched off");
        Ok(())
    }
}
