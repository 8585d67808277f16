//! The server's side of `app::backend::Backend`: what the server functions
//! call. Owns the database, checks rights, writes the audit log.

use std::sync::Arc;

use app::backend::{Backend, RequestMeta};
use app::{AppError, Me, SiteInfo};
use secrecy::SecretString;
use serde_json::json;
use tower_sessions::Session;

use crate::config::Config;
use crate::db::Db;
use crate::{password, sessions, store, throttle};

pub struct Portal {
    pub db: Db,
    pub config: Arc<Config>,
    /// Present when "Login with PeeringDB" is enabled.
    pub peeringdb: Option<crate::peeringdb::client::PeeringDbClient>,
}

/// Logs an unexpected failure with its cause and gives the person the
/// fixed "something went wrong" answer.
pub fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "internal error");
    AppError::Internal
}

/// The one customer of someone who has exactly one.
pub fn sole_customer(memberships: &[app::Membership]) -> Option<i64> {
    match memberships {
        [only] => Some(only.customer_id),
        _ => None,
    }
}

impl Portal {
    /// Starts a new session for a user who has just proved who they are.
    /// A new id defeats session fixation: any id planted before login dies.
    /// With exactly one customer there is nothing to pick: it is chosen.
    pub async fn start_session(&self, session: &Session, user_id: i64, sole_customer: Option<i64>) -> Result<(), AppError> {
        // Without a session cookie there is no id to plant: saving creates
        // a fresh one, and a cycle would only delete a random id that was
        // never stored (a write per login for nothing).
        if session.id().is_some() {
            session.cycle_id().await.map_err(internal)?;
        }
        session.clear().await;
        session.insert(sessions::USER_ID, user_id).await.map_err(internal)?;
        if let Some(customer_id) = sole_customer {
            session.insert(sessions::CUSTOMER_ID, customer_id).await.map_err(internal)?;
        }
        Ok(())
    }

    async fn refuse_password(&self, meta: &RequestMeta, username: &str, user_id: Option<i64>, reason: &str) -> Result<(), AppError> {
        let ip = meta.ip.as_deref();
        throttle::record_failure(&self.db, &throttle::username_key(username), throttle::PER_USERNAME).await.map_err(internal)?;
        if let Some(ip) = ip {
            throttle::record_failure(&self.db, &throttle::address_key(ip), throttle::PER_ADDRESS).await.map_err(internal)?;
        }
        let entry = store::AuditEntry {
            actor: "anonymous".into(),
            event: "login.refused",
            user_id,
            customer_id: None,
            details: json!({ "via": "password", "username": username, "reason": reason }),
            ip,
        };
        store::audit_alone(&self.db, &entry).await.map_err(internal)
    }
}

#[async_trait::async_trait]
impl Backend for Portal {
    fn site_info(&self) -> SiteInfo {
        SiteInfo { peeringdb_login: self.config.peeringdb.is_some(), demo: self.config.demo }
    }

    #[tracing::instrument(skip(self, session, meta, password), fields(username = %username))]
    async fn password_login(&self, session: &Session, meta: &RequestMeta, username: &str, password: SecretString) -> Result<(), AppError> {
        let user_key = throttle::username_key(username);
        let mut wait = throttle::blocked(&self.db, &user_key, throttle::PER_USERNAME).await.map_err(internal)?;
        if let (None, Some(ip)) = (wait, meta.ip.as_deref()) {
            wait = throttle::blocked(&self.db, &throttle::address_key(ip), throttle::PER_ADDRESS).await.map_err(internal)?;
        }
        if let Some(minutes) = wait {
            let entry = store::AuditEntry {
                actor: "anonymous".into(),
                event: "login.refused",
                user_id: None,
                customer_id: None,
                details: json!({ "via": "password", "username": username, "reason": "throttled" }),
                ip: meta.ip.as_deref(),
            };
            store::audit_alone(&self.db, &entry).await.map_err(internal)?;
            return Err(AppError::Throttled { minutes });
        }

        let user = store::user_by_username(&self.db, username).await.map_err(internal)?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = password::verify(password, stored).await.map_err(internal)?;
        let user = match (ok, user) {
            (true, Some(user)) => user,
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

        throttle::clear(&self.db, &user_key).await.map_err(internal)?;
        let mut tx = self.db.begin().await.map_err(internal)?;
        store::record_login(&mut tx, user.id, "password").await.map_err(internal)?;
        let entry = store::AuditEntry {
            actor: format!("user:{}", user.id),
            event: "login.success",
            user_id: Some(user.id),
            customer_id: None,
            details: json!({ "via": "password" }),
            ip: meta.ip.as_deref(),
        };
        store::audit(&mut tx, &entry).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;

        let memberships = store::memberships(&self.db, user.id).await.map_err(internal)?;
        self.start_session(session, user.id, sole_customer(&memberships)).await?;
        tracing::info!(user_id = user.id, "password login");
        Ok(())
    }

    async fn me(&self, session: &Session) -> Result<Option<Me>, AppError> {
        let Some(user_id) = session.get::<i64>(sessions::USER_ID).await.map_err(internal)? else {
            return Ok(None);
        };
        let user = match store::user_by_id(&self.db, user_id).await.map_err(internal)? {
            Some(u) if !u.disabled => u,
            _ => {
                session.flush().await.map_err(internal)?;
                return Ok(None);
            }
        };
        let memberships = store::memberships(&self.db, user.id).await.map_err(internal)?;
        let chosen = session.get::<i64>(sessions::CUSTOMER_ID).await.map_err(internal)?;
        let current_customer = chosen.filter(|c| memberships.iter().any(|m| m.customer_id == *c));
        let flash = session.remove::<String>(sessions::FLASH).await.map_err(internal)?;
        Ok(Some(Me {
            user_id: user.id,
            username: user.username,
            name: user.name,
            email: user.email,
            is_superadmin: user.is_superadmin,
            memberships,
            current_customer,
            flash,
        }))
    }

    async fn choose_customer(&self, session: &Session, customer_id: i64) -> Result<(), AppError> {
        let user_id = session.get::<i64>(sessions::USER_ID).await.map_err(internal)?.ok_or(AppError::Unauthenticated)?;
        let memberships = store::memberships(&self.db, user_id).await.map_err(internal)?;
        // Only a customer the person really has: never trust the form.
        if !memberships.iter().any(|m| m.customer_id == customer_id) {
            return Err(AppError::Forbidden);
        }
        session.insert(sessions::CUSTOMER_ID, customer_id).await.map_err(internal)
    }
}
