//! What every signed-in person may do about their own account, and what a
//! customer's admins may do about their customer.

use app::backend::{Caller, RequestMeta, SelfService, SignIn};
use app::console::{Account, CustomerAccess, SessionItem};
use domain::session::browser_summary;
use app::AppError;
use domain::{AuditEvent, Role};
use secrecy::SecretString;
use serde_json::json;

use super::console::{capitalise, commit_audited, entry};
use super::{access, Checked, Portal};
use crate::password;
use crate::store::{audit, customers, fmt_time, grants, sessions, users};

#[async_trait::async_trait]
impl SelfService for Portal {
    async fn account(&self, me: &Caller, current_session: Option<&str>) -> Result<Account, AppError> {
        let row = users::by_id(&self.db, me.user_id).await?.ok_or(AppError::Unauthenticated)?;
        let current = current_session.map(sessions::id_hash);
        let sessions = sessions::of_user(&self.db, me.user_id)
            .await?
            .into_iter()
            .map(|s| SessionItem {
                browser: browser_summary(s.user_agent.as_deref()),
                ip: s.ip,
                started: fmt_time(s.created_at),
                last_seen: fmt_time(s.last_seen_at),
                current: current.as_deref() == Some(s.id_hash.as_str()),
                handle: s.id_hash,
            })
            .collect();
        Ok(Account {
            sessions,
            history: audit::login_history(&self.db, me.user_id, 20).await?,
            has_password: row.password_hash.is_some(),
            created_at: fmt_time(row.created_at),
            username: row.username,
            name: row.name,
            email: row.email,
            created_via: row.created_via,
            peeringdb_id: row.peeringdb_id,
            peeringdb_login_allowed: row.peeringdb_login_allowed,
        })
    }

    async fn set_own_peeringdb_login(&self, me: &Caller, meta: &RequestMeta, allowed: bool) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        users::set_peeringdb_login_allowed(&mut tx, me.user_id, allowed).await?;
        // Opted out, nothing keeps PeeringDB's grants true any more: they
        // go now (the person's session stays; manual grants stay).
        let (mut rows, refresh) = match allowed {
            true => (Vec::new(), None),
            false => {
                let (removed, refresh) = access::let_go(&mut tx, me.user_id, "user switched PeeringDB login off", me.actor(), meta.ip.as_deref()).await?;
                (removed.rows, refresh)
            }
        };
        let details = json!({ "allowed": allowed, "access_removed": rows.len() });
        rows.push(entry(me, meta, AuditEvent::AccountPeeringdbLogin, Some(me.user_id), None, details));
        audit::write_all(&mut tx, &rows).await?;
        tx.commit().await?;
        self.revoke_sealed_later(me.user_id, refresh);
        Ok(())
    }

    async fn change_password(&self, me: &Caller, meta: &RequestMeta, current: SecretString, new: SecretString) -> Result<SignIn, AppError> {
        let row = users::by_id(&self.db, me.user_id).await?.ok_or(AppError::Unauthenticated)?;
        let Some(stored) = row.password_hash else {
            return Err(AppError::Conflict("This account logs in through PeeringDB and has no password to change.".into()));
        };
        super::within_limits(&me.username, &current)?;
        match self.check_password(meta, &me.username, Some(stored), current).await? {
            Checked::Right => {}
            Checked::Wrong => return Err(AppError::Validation("Your current password is not correct.".into())),
            Checked::Throttled { minutes, .. } => return Err(AppError::Throttled { minutes }),
        }
        password::validate_new(&new).map_err(|e| AppError::Validation(capitalise(&format!("{e}."))))?;
        let hash = password::hash(new).await?;
        let mut tx = self.db.begin().await?;
        users::set_password_hash(&mut tx, me.user_id, &hash).await?;
        // Whoever knew the old password is logged out everywhere.
        let ended = sessions::end_all_of(&mut tx, me.user_id).await?;
        let details = json!({ "sessions_ended": ended });
        commit_audited(tx, entry(me, meta, AuditEvent::AccountPasswordChanged, Some(me.user_id), None, details)).await?;
        Ok(SignIn { user_id: me.user_id, sole_customer: me.sole_customer() })
    }

    async fn end_session(&self, me: &Caller, meta: &RequestMeta, handle: &str, current_session: Option<&str>) -> Result<(), AppError> {
        if current_session.map(sessions::id_hash).as_deref() == Some(handle) {
            return Err(AppError::Conflict("This is the session you are using: log out instead.".into()));
        }
        let mut tx = self.db.begin().await?;
        if !sessions::end_one(&mut tx, me.user_id, handle).await? {
            return Err(AppError::NotFound);
        }
        commit_audited(tx, entry(me, meta, AuditEvent::AccountSessionEnded, Some(me.user_id), None, json!({}))).await
    }

    async fn logout_everywhere(&self, me: &Caller, meta: &RequestMeta) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        let ended = sessions::end_all_of(&mut tx, me.user_id).await?;
        let details = json!({ "sessions_ended": ended });
        commit_audited(tx, entry(me, meta, AuditEvent::LogoutEverywhere, Some(me.user_id), None, details)).await
    }

    async fn customer_access(&self, me: &Caller, customer_id: i64) -> Result<CustomerAccess, AppError> {
        self.customer_access_of(me, customer_id).await
    }

    async fn invite(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, email: &str, role: Role) -> Result<(), AppError> {
        self.invite_person(me, meta, customer_id, email, role).await
    }

    async fn withdraw_invitation(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, invitation_id: i64) -> Result<(), AppError> {
        self.withdraw(me, meta, customer_id, invitation_id).await
    }

    async fn set_customer_peeringdb(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, login: bool, max_role: Option<Role>) -> Result<(), AppError> {
        self.set_own_customer_peeringdb(me, meta, customer_id, login, max_role).await
    }

    async fn accept_invitation(&self, me: &Caller, meta: &RequestMeta, token: &str) -> Result<i64, AppError> {
        self.accept_signed_in(me, meta, token).await
    }

    async fn revoke_access(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, user_id: i64) -> Result<(), AppError> {
        if !me.administers(customer_id) {
            return Err(AppError::Forbidden);
        }
        if me.user_id == user_id {
            return Err(AppError::Conflict("You cannot remove your own access; ask another admin of this customer.".into()));
        }
        let by = if me.is_superadmin { "superadmin" } else { "customer admin" };
        self.revoke_manual_grant(me, meta, user_id, customer_id, by).await
    }

    async fn require_mfa(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, require: bool) -> Result<(), AppError> {
        if !me.administers(customer_id) {
            return Err(AppError::Forbidden);
        }
        let customer = customers::by_id(&self.db, customer_id).await?.ok_or(AppError::NotFound)?;
        let mut tx = self.db.begin().await?;
        let had_access = grants::users_of(&mut tx, &[customer_id]).await?;
        if !customers::set_require_mfa(&mut tx, customer_id, require).await? {
            return Err(AppError::NotFound);
        }
        let withdrawn = access::after_customer_change(&mut tx, &[customer_id], &had_access, me.actor(), meta.ip.as_deref()).await?;
        if withdrawn.rows.iter().any(|r| r.event == AuditEvent::GrantRemoved && r.user_id == Some(me.user_id)) {
            // Dropped, not committed: nothing changes.
            return Err(AppError::Conflict(
                "Your own last PeeringDB login had no second factor, so this would end your access. \
                 Log in with PeeringDB using a second factor first."
                    .into(),
            ));
        }
        let details = json!({ "customer": customer.name, "changes": { "peeringdb_require_mfa": [customer.peeringdb_require_mfa, require] } });
        access::commit_customer_change(tx, entry(me, meta, AuditEvent::CustomerUpdated, None, Some(customer_id), details), withdrawn).await
    }

    async fn two_factor(&self, me: &Caller) -> Result<app::console::TwoFactor, AppError> {
        self.two_factor_state(me).await
    }

    async fn start_two_factor(&self, me: &Caller) -> Result<(), AppError> {
        self.start_enrolment(me).await
    }

    async fn confirm_two_factor(&self, me: &Caller, meta: &RequestMeta, code: &str) -> Result<Vec<String>, AppError> {
        self.confirm_enrolment(me, meta, code).await
    }

    async fn disable_two_factor(&self, me: &Caller, meta: &RequestMeta, password: SecretString, code: &str) -> Result<(), AppError> {
        self.disable(me, meta, password, code).await
    }
}
