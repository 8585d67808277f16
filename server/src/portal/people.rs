//! People looking after their own access: password reset by mail, and
//! invitations from a customer's admins.

use app::backend::{Caller, RequestMeta, SignIn};
use app::console::{CustomerAccess, InvitationItem, InvitationView};
use app::AppError;
use domain::invitation::{AcceptRefusal, InviteRefusal};
use domain::mail::{INVITATION_LIFETIME, RESETS_PER_ACCOUNT, RESETS_PER_ADDRESS, RESET_LIFETIME, RESET_WINDOW};
use domain::{Actor, AuditEvent, CreatedVia, LoginMethod, Role, Source};
use secrecy::SecretString;
use serde_json::json;

use super::console::{capitalise, commit_audited, entry};
use super::{access, Portal};
use crate::mail::message;
use crate::password;
use crate::store::audit::{self, AuditEntry};
use crate::store::{customers, grants, invitations, now, outbox, resets, sessions, throttle, users, DbError, Tx};

/// A single-use link's secret (256 random bits) and the hash stored for it.
pub(crate) struct LinkToken {
    pub token: String,
    pub hash: String,
}

impl LinkToken {
    pub fn new() -> LinkToken {
        let token = super::random_token();
        let hash = LinkToken::hash_of(&token);
        LinkToken { token, hash }
    }

    pub fn hash_of(token: &str) -> String {
        super::token_hash(token)
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
        let address = super::throttle_address(meta).unwrap_or_else(|| "unknown".into());
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
        let expired = || AppError::Conflict("This link has expired or was used already. Please ask for a new one.".into());
        let token_hash = LinkToken::hash_of(token);
        // A cheap look first: a made-up link costs no password hash.
        if resets::open(&self.db, &token_hash).await?.is_none() {
            return Err(expired());
        }
        let hash = password::hash(new).await?;
        let mut tx = self.db.begin().await?;
        let Some(user_id) = resets::spend(&mut tx, &token_hash).await? else {
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

/// Why an invitation was not accepted.
#[derive(Debug)]
pub(crate) enum Refused {
    NoSuch,
    Because(AcceptRefusal),
}

impl From<Refused> for AppError {
    fn from(r: Refused) -> AppError {
        match r {
            Refused::NoSuch => AppError::NotFound,
            Refused::Because(r) => AppError::Conflict(r.to_string()),
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::NoSuch => f.write_str("no such invitation"),
            Refused::Because(r) => write!(f, "{}", r.reason()),
        }
    }
}

/// The longest email address an invitation takes (RFC 5321's path limit).
const MAX_EMAIL_BYTES: usize = 254;

impl Portal {
    pub(crate) async fn customer_access_of(&self, me: &Caller, customer_id: i64) -> Result<CustomerAccess, AppError> {
        if !me.administers(customer_id) {
            return Err(AppError::Forbidden);
        }
        let customer = customers::by_id(&self.db, customer_id).await?.ok_or(AppError::NotFound)?;
        let invitations = invitations::open_for(&self.db, customer_id)
            .await?
            .into_iter()
            .map(|i| InvitationItem { id: i.id, email: i.email, role: i.role, invited_by: i.inviter, expires: i.expires })
            .collect();
        Ok(CustomerAccess {
            customer_id,
            customer: customer.name,
            require_mfa: customer.peeringdb_require_mfa,
            entries: grants::access_to(&self.db, customer_id).await?,
            peeringdb_login: customer.peeringdb_login,
            peeringdb_max_role: customer.peeringdb_max_role,
            peeringdb_locked: customer.peeringdb_locked,
            mail: self.config.mail.is_some(),
            invitations,
        })
    }

    pub(crate) async fn invite_person(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, email: &str, role: Role) -> Result<(), AppError> {
        let my_role = me.membership(customer_id).map(|m| m.role);
        domain::invitation::may_invite(me.is_superadmin, my_role, role).map_err(|e| match e {
            InviteRefusal::NotAdmin => AppError::Forbidden,
            e @ InviteRefusal::RoleAboveInviter { .. } => AppError::Validation(e.to_string()),
        })?;
        if email.len() > MAX_EMAIL_BYTES {
            return Err(AppError::Validation(format!("An email address has at most {MAX_EMAIL_BYTES} characters.")));
        }
        let email = domain::Email::parse(email).map_err(|e| AppError::Validation(capitalise(&format!("{e}."))))?;
        let Some(site) = self.mail_site() else {
            return Err(AppError::Conflict("This exchange sends no mail, so invitations cannot go out: ask the exchange to add the person.".into()));
        };
        let customer = customers::by_id(&self.db, customer_id).await?.ok_or(AppError::NotFound)?;
        if invitations::has_access(&self.db, customer_id, email.as_str()).await? {
            return Err(AppError::Conflict(format!("{} has access to {} already.", email.as_str(), customer.name)));
        }
        let link = LinkToken::new();
        let expires_at = now() + time::Duration::try_from(INVITATION_LIFETIME).unwrap_or(time::Duration::days(7));
        let mut tx = self.db.begin().await?;
        // Sent again, an invitation replaces the open one: one link works.
        let replaced = invitations::withdraw_open_for(&mut tx, customer_id, email.as_str()).await?;
        let new = invitations::NewInvitation { token_hash: &link.hash, customer_id, email: email.as_str(), role, invited_by: me.user_id, expires_at };
        let id = invitations::insert(&mut tx, &new).await?;
        let mail = message::invitation(&site, email.as_str(), &me.name, &customer.name, role, &link.token, customer.peeringdb_login && self.peeringdb.is_some());
        outbox::enqueue(&mut tx, &mail).await?;
        let details = json!({ "customer": customer.name, "email": email.as_str(), "role": role.as_str(), "invitation": id, "replaced": replaced });
        commit_audited(tx, entry(me, meta, AuditEvent::InvitationSent, None, Some(customer_id), details)).await
    }

    pub(crate) async fn withdraw(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, invitation_id: i64) -> Result<(), AppError> {
        if !me.administers(customer_id) {
            return Err(AppError::Forbidden);
        }
        let mut tx = self.db.begin().await?;
        let email = invitations::withdraw(&mut tx, invitation_id, customer_id).await?.ok_or(AppError::NotFound)?;
        let details = json!({ "email": email, "invitation": invitation_id });
        commit_audited(tx, entry(me, meta, AuditEvent::InvitationWithdrawn, None, Some(customer_id), details)).await
    }

    pub(crate) async fn set_own_customer_peeringdb(&self, me: &Caller, meta: &RequestMeta, customer_id: i64, login: bool, max_role: Option<Role>) -> Result<(), AppError> {
        if !me.administers(customer_id) {
            return Err(AppError::Forbidden);
        }
        let customer = customers::by_id(&self.db, customer_id).await?.ok_or(AppError::NotFound)?;
        if customer.peeringdb_locked && !me.is_superadmin {
            return Err(AppError::Conflict("The exchange keeps these settings for itself: ask its support team to change them.".into()));
        }
        let mut tx = self.db.begin().await?;
        let had_access = grants::users_of(&mut tx, &[customer_id]).await?;
        if !customers::set_own_peeringdb(&mut tx, customer_id, login, max_role, me.is_superadmin).await? {
            return Err(AppError::Conflict("The exchange keeps these settings for itself: ask its support team to change them.".into()));
        }
        let withdrawn = access::after_customer_change(&mut tx, &[customer_id], &had_access, me.actor(), meta.ip.as_deref()).await?;
        if withdrawn.rows.iter().any(|r| r.user_id == Some(me.user_id)) {
            // Dropped, not committed: nothing changes.
            return Err(AppError::Conflict(
                "Your own admin access comes from PeeringDB, so this would take it away: have the exchange grant you access by hand first.".into(),
            ));
        }
        let changes = json!({
            "peeringdb_login": [customer.peeringdb_login, login],
            "peeringdb_max_role": [customer.peeringdb_max_role.map(Role::as_str), max_role.map(Role::as_str)],
        });
        access::commit_customer_change(tx, entry(me, meta, AuditEvent::CustomerUpdated, None, Some(customer_id), json!({ "customer": customer.name, "changes": changes })), withdrawn).await
    }

    pub(crate) async fn invitation_view(&self, token: &str, me: Option<&Caller>) -> Result<InvitationView, AppError> {
        let found = invitations::by_token(&self.db, &LinkToken::hash_of(token)).await?.ok_or(AppError::NotFound)?;
        let at = now();
        let refusal = match me {
            Some(me) => domain::invitation::acceptable_by(&found.invitation, &me.email, at),
            None => domain::invitation::open(&found.invitation, at),
        };
        let peeringdb_login = self.peeringdb.is_some() && customers::by_id(&self.db, found.customer_id).await?.is_some_and(|c| c.peeringdb_login);
        Ok(InvitationView {
            customer: found.customer,
            role: found.invitation.role,
            email: found.invitation.email,
            invited_by: found.inviter,
            refusal: refusal.err().map(|r| r.to_string()),
            signed_in_as: me.map(|m| m.username.clone()),
            peeringdb_login,
        })
    }

    /// The invitation behind `token`, when an account with `email` may
    /// accept it now: (customer, role, customer's name).
    pub(crate) async fn invitation_for(&self, token: &str, email: &str) -> Result<Option<(i64, Role, String)>, DbError> {
        let found = invitations::by_token(&self.db, &LinkToken::hash_of(token)).await?;
        Ok(found.filter(|f| domain::invitation::acceptable_by(&f.invitation, email, now()).is_ok()).map(|f| (f.customer_id, f.invitation.role, f.customer)))
    }

    /// Accepts an open invitation into `user_id` (whose email is `email`)
    /// in `tx`: the grant (never lowering one the person has) and the
    /// audit rows. The customer's id, or why it cannot be accepted.
    pub(crate) async fn accept_in(&self, tx: &mut Tx, token: &str, user_id: i64, email: &str, ip: Option<&str>) -> Result<Result<i64, Refused>, DbError> {
        let Some(found) = invitations::by_token(&self.db, &LinkToken::hash_of(token)).await? else { return Ok(Err(Refused::NoSuch)) };
        if let Err(r) = domain::invitation::acceptable_by(&found.invitation, email, now()) {
            return Ok(Err(Refused::Because(r)));
        }
        if !invitations::accept(tx, found.id, user_id).await? {
            return Ok(Err(Refused::Because(AcceptRefusal::Used)));
        }
        let role = found.invitation.role;
        let had = grants::affiliation(tx, user_id, found.customer_id).await?;
        let mut rows = vec![AuditEntry {
            actor: Actor::User(user_id),
            event: AuditEvent::InvitationAccepted,
            user_id: Some(user_id),
            customer_id: Some(found.customer_id),
            details: json!({ "customer": found.customer, "role": role.as_str(), "invitation": found.id, "invited_by": found.inviter }),
            ip,
        }];
        if had.is_none_or(|(r, _)| r < role) {
            grants::grant_manual(tx, user_id, found.customer_id, role).await?;
            let (event, mut details) = match had {
                None => (AuditEvent::GrantAdded, json!({ "role": role.as_str() })),
                Some((from, _)) => (AuditEvent::GrantChanged, json!({ "from": from.as_str(), "to": role.as_str() })),
            };
            details["source"] = json!(Source::Manual.as_str());
            details["customer"] = json!(found.customer);
            details["via"] = json!("invitation");
            rows.push(AuditEntry { actor: Actor::User(user_id), event, user_id: Some(user_id), customer_id: Some(found.customer_id), details, ip });
        }
        audit::write_all(tx, &rows).await?;
        Ok(Ok(found.customer_id))
    }

    pub(crate) async fn accept_signed_in(&self, me: &Caller, meta: &RequestMeta, token: &str) -> Result<i64, AppError> {
        let mut tx = self.db.begin().await?;
        let customer_id = self.accept_in(&mut tx, token, me.user_id, &me.email, meta.ip.as_deref()).await??;
        tx.commit().await?;
        Ok(customer_id)
    }

    pub(crate) async fn join_with_password(&self, meta: &RequestMeta, token: &str, username: &str, name: &str, new: SecretString) -> Result<SignIn, AppError> {
        let found = invitations::by_token(&self.db, &LinkToken::hash_of(token)).await?.ok_or(AppError::NotFound)?;
        domain::invitation::open(&found.invitation, now()).map_err(|r| AppError::Conflict(r.to_string()))?;
        let username = domain::Username::parse(username).map_err(|e| AppError::Validation(format!("A username has {e}.")))?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::Validation("Please give your name (at most 100 characters).".into()));
        }
        password::validate_new(&new).map_err(|e| AppError::Validation(capitalise(&format!("{e}."))))?;
        let hash = password::hash(new).await?;
        let mut tx = self.db.begin().await?;
        let user = users::NewUser {
            username: username.as_str(),
            name,
            email: &found.invitation.email,
            password_hash: Some(&hash),
            is_superadmin: false,
            peeringdb_id: None,
            created_via: CreatedVia::Admin,
        };
        let user_id = match users::insert(&mut tx, &user).await {
            Ok(id) => id,
            Err(e) if e.is_unique_violation() => return Err(AppError::Conflict(format!("The username {:?} is taken: pick another.", username.as_str()))),
            Err(e) => return Err(e.into()),
        };
        users::record_login(&mut tx, user_id, LoginMethod::Password).await?;
        let created = AuditEntry {
            actor: Actor::User(user_id),
            event: AuditEvent::UserCreated,
            user_id: Some(user_id),
            customer_id: Some(found.customer_id),
            details: json!({ "username": username.as_str(), "via": "invitation", "invited_by": found.inviter }),
            ip: meta.ip.as_deref(),
        };
        audit::write(&mut tx, &created).await?;
        let customer_id = self.accept_in(&mut tx, token, user_id, &found.invitation.email, meta.ip.as_deref()).await??;
        tx.commit().await?;
        tracing::info!(user_id, customer_id, "account made by accepting an invitation");
        Ok(SignIn { user_id, sole_customer: Some(customer_id) })
    }
}
