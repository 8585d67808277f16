//! People looking after their own access: password reset by mail, and
//! invitations from a customer's admins.

use app::backend::RequestMeta;
use app::AppError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::mail::{RESETS_PER_ACCOUNT, RESETS_PER_ADDRESS, RESET_LIFETIME, RESET_WINDOW};
use domain::{Actor, AuditEvent};
use secrecy::SecretString;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::console::capitalise;
use super::Portal;
use crate::mail::message;
use crate::password;
use crate::store::audit::{self, AuditEntry};
use crate::store::{now, outbox, resets, sessions, throttle, users};

/// A single-use link's secret (256 random bits) and the hash stored for it.
pub(crate) struct LinkToken {
    pub token: String,
    pub hash: String,
}

impl LinkToken {
    pub fn new() -> LinkToken {
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let hash = LinkToken::hash_of(&token);
        LinkToken { token, hash }
    }

    pub fn hash_of(token: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
    }
}

/// The longest "username or email" a reset request reads.
const MAX_WHO_BYTES: usize = 254;

impl Portal {
    pub(crate) async fn forgot(&self, meta: &RequestMeta, who: &str) -> Result<(), AppError> {
        let who = who.trim();
        if who.is_empty() || who.len() > MAX_WHO_BYTES {
            return Err(AppError::Validation("Please give your username or your email address.".into()));
        }
        let Some(site) = self.mail_site() else {
            return Err(AppError::Conflict("This exchange sends no mail: please ask its support team to reset your password.".into()));
        };
        // Per address first: it is the same whether or not an account exists.
        let address = meta.ip.as_deref().and_then(|ip| ip.parse().ok()).map(domain::net::throttle_address).unwrap_or_else(|| "unknown".into());
        let key = format!("reset:ip:{address}");
        if throttle::take(&self.db, &[key.as_str()], RESET_WINDOW).await?[0].attempts > RESETS_PER_ADDRESS {
            return Err(AppError::Throttled { minutes: 60 });
        }
        let accounts = resets::accounts_named(&self.db, who).await?;
        for user in accounts.iter().filter(|u| !u.disabled) {
            // Per account: past the limit, silently no mail (the answer
            // stays the same, the mailbox is not flooded).
            let key = format!("reset:user:{}", user.id);
            if throttle::take(&self.db, &[key.as_str()], RESET_WINDOW).await?[0].attempts > RESETS_PER_ACCOUNT {
                tracing::info!(user_id = user.id, "password reset: this account's hourly limit is reached; no mail");
                continue;
            }
            let mut tx = self.db.begin().await?;
            let mail = if user.password_hash.is_some() {
                let link = LinkToken::new();
                let expires = now() + time::Duration::try_from(RESET_LIFETIME).unwrap_or(time::Duration::MINUTE * 30);
                resets::insert(&mut tx, &link.hash, user.id, expires).await?;
                message::password_reset(&site, user.id, &user.email, &user.name, &user.username, &link.token)
            } else {
                message::no_password(&site, user.id, &user.email, &user.name, &user.username)
            };
            outbox::enqueue(&mut tx, &mail).await?;
            let details = json!({ "mail": mail.kind.as_str(), "asked_with": if who.eq_ignore_ascii_case(&user.username) { "username" } else { "email" } });
            let entry = AuditEntry { actor: Actor::Anonymous, event: AuditEvent::AccountResetRequested, user_id: Some(user.id), customer_id: None, details, ip: meta.ip.as_deref() };
            audit::write(&mut tx, &entry).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    pub(crate) async fn reset_link_user(&self, token: &str) -> Result<Option<String>, AppError> {
        let Some(user_id) = resets::open(&self.db, &LinkToken::hash_of(token)).await? else { return Ok(None) };
        Ok(users::by_id(&self.db, user_id).await?.filter(|u| !u.disabled).map(|u| u.username))
    }

    pub(crate) async fn reset(&self, meta: &RequestMeta, token: &str, new: SecretString) -> Result<(), AppError> {
        password::validate_new(&new).map_err(|e| AppError::Validation(capitalise(&format!("{e}."))))?;
        let hash = password::hash(new).await?;
        let mut tx = self.db.begin().await?;
        let expired = || AppError::Conflict("This link has expired or was used already. Please ask for a new one.".into());
        let Some(user_id) = resets::spend(&mut tx, &LinkToken::hash_of(token)).await? else {
            return Err(expired());
        };
        let Some(user) = users::by_id(&self.db, user_id).await?.filter(|u| !u.disabled) else {
            return Err(expired());
        };
        users::set_password_hash(&mut tx, user_id, &hash).await?;
        // Whoever is signed in with the old password is signed out.
        let ended = sessions::end_all_of(&mut tx, user_id).await?;
        let entry = AuditEntry {
            actor: Actor::User(user_id),
            event: AuditEvent::AccountPasswordReset,
            user_id: Some(user_id),
            customer_id: None,
            details: json!({ "sessions_ended": ended }),
            ip: meta.ip.as_deref(),
        };
        audit::write(&mut tx, &entry).await?;
        tx.commit().await?;
        tracing::info!(user_id = user.id, sessions_ended = ended, "password reset with a mailed link");
        Ok(())
    }
}
