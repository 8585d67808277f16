//! The admin console, the customer-admin view and the account page: the
//! rights checks and the audit trail around `console_store`. Every method
//! asks who is calling first; the browser's idea of who may do what counts
//! for nothing here.

use app::backend::{Console, RequestMeta, SelfService};
use app::console::{
    Account, AuditFilter, AuditItem, CustomerAccess, CustomerForm, CustomerItem, ImportPreview, ImportRow, NewUserForm, Page,
    PeeringDbStatus, UserDetail, UserItem, PAGE_SIZE,
};
use app::{AppError, Role, Source};
use secrecy::SecretString;
use serde_json::{json, Value};
use tower_sessions::Session;

use crate::backend::{internal, Portal};
use crate::config::RolePolicy;
use crate::console_store as cs;
use crate::db::Tx;
use crate::import::{self, CustomerFields};
use crate::store::{self, AuditEntry, UserRow};
use crate::{password, sessions};

/// How many audit rows the CSV export writes at most.
pub const CSV_EXPORT_LIMIT: i64 = 100_000;

impl Portal {
    /// The signed-in, enabled user behind this session.
    pub async fn caller(&self, session: &Session) -> Result<UserRow, AppError> {
        let user_id = session.get::<i64>(sessions::USER_ID).await.map_err(internal)?.ok_or(AppError::Unauthenticated)?;
        match store::user_by_id(&self.db, user_id).await.map_err(internal)? {
            Some(u) if !u.disabled => Ok(u),
            _ => Err(AppError::Unauthenticated),
        }
    }

    /// The caller, if a superadmin; `Forbidden` for everyone else.
    pub async fn superadmin(&self, session: &Session) -> Result<UserRow, AppError> {
        let user = self.caller(session).await?;
        if user.is_superadmin {
            Ok(user)
        } else {
            tracing::warn!(user_id = user.id, "refused: superadmin only");
            Err(AppError::Forbidden)
        }
    }

    /// Records the change made in `tx` and commits both together.
    async fn commit_audited(&self, mut tx: Tx, entry: AuditEntry<'_>) -> Result<(), AppError> {
        store::audit(&mut tx, &entry).await.map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    fn audit_entry<'a>(actor: &UserRow, meta: &'a RequestMeta, event: &'a str, user_id: Option<i64>, customer_id: Option<i64>, details: Value) -> AuditEntry<'a> {
        AuditEntry { actor: format!("user:{}", actor.id), event, user_id, customer_id, details, ip: meta.ip.as_deref() }
    }

    async fn user_row(&self, id: i64) -> Result<UserRow, AppError> {
        store::user_by_id(&self.db, id).await.map_err(internal)?.ok_or(AppError::NotFound)
    }

    /// True when `user` may see and manage access to `customer_id`.
    async fn administers(&self, user: &UserRow, customer_id: i64) -> Result<bool, AppError> {
        if user.is_superadmin {
            return Ok(true);
        }
        let memberships = store::memberships(&self.db, user.id).await.map_err(internal)?;
        Ok(memberships.iter().any(|m| m.customer_id == customer_id && m.role == Role::Admin))
    }
}

/// What changed between two versions of a customer, field by field.
fn customer_changes(before: &CustomerItem, after: &CustomerItem) -> Value {
    let mut changes = serde_json::Map::new();
    let mut diff = |field: &str, a: Value, b: Value| {
        if a != b {
            changes.insert(field.to_string(), json!([a, b]));
        }
    };
    diff("name", json!(before.name), json!(after.name));
    diff("shortname", json!(before.shortname), json!(after.shortname));
    diff("asns", json!(before.asns), json!(after.asns));
    diff("type", json!(before.kind), json!(after.kind));
    diff("status", json!(before.status), json!(after.status));
    diff("peeringdb_login", json!(before.peeringdb_login), json!(after.peeringdb_login));
    diff("peeringdb_max_role", json!(before.peeringdb_max_role.map(Role::as_str)), json!(after.peeringdb_max_role.map(Role::as_str)));
    Value::Object(changes)
}

fn validation(e: impl Into<String>) -> AppError {
    AppError::Validation(e.into())
}

#[async_trait::async_trait]
impl Console for Portal {
    async fn customers(&self, session: &Session, q: &str, page: u32) -> Result<Page<CustomerItem>, AppError> {
        self.superadmin(session).await?;
        let (items, total) = cs::search_customers(&self.db, q, page).await.map_err(internal)?;
        Ok(Page { items, total, page })
    }

    async fn customer(&self, session: &Session, id: i64) -> Result<CustomerItem, AppError> {
        self.superadmin(session).await?;
        cs::customer(&self.db, id).await.map_err(internal)?.ok_or(AppError::NotFound)
    }

    async fn save_customer(&self, session: &Session, meta: &RequestMeta, form: CustomerForm) -> Result<i64, AppError> {
        let actor = self.superadmin(session).await?;
        let fields = CustomerFields {
            name: &form.name,
            shortname: &form.shortname,
            asns: &form.asns,
            kind: &form.kind,
            status: &form.status,
            peeringdb_login: form.peeringdb_login,
            allow_reserved: form.allow_reserved,
        };
        let input = import::validate_customer(&fields).map_err(|e| validation(capitalise(&e)))?;
        let before = match form.id {
            Some(id) => Some(cs::customer(&self.db, id).await.map_err(internal)?.ok_or(AppError::NotFound)?),
            None => None,
        };
        let mut tx = self.db.begin().await.map_err(internal)?;
        let id = match cs::save_customer(&mut tx, form.id, &input, form.max_role).await {
            Ok(Some(id)) => id,
            Ok(None) => return Err(AppError::NotFound),
            Err(e) if e.is_unique_violation() => {
                return Err(AppError::Conflict(format!("The shortname {:?} is already taken by another customer.", input.shortname)))
            }
            Err(e) => return Err(internal(e)),
        };
        let after = CustomerItem {
            id,
            name: input.name.clone(),
            shortname: input.shortname.clone(),
            asns: input.asns.clone(),
            kind: input.kind.clone(),
            status: input.status.clone(),
            peeringdb_login: input.peeringdb_login,
            peeringdb_max_role: form.max_role,
            users: 0,
        };
        let (event, details) = match &before {
            Some(before) => ("customer.updated", json!({ "customer": after.name, "changes": customer_changes(before, &after) })),
            None => (
                "customer.created",
                json!({ "customer": after.name, "shortname": after.shortname, "asns": after.asns, "type": after.kind,
                        "status": after.status, "peeringdb_login": after.peeringdb_login,
                        "peeringdb_max_role": after.peeringdb_max_role.map(Role::as_str) }),
            ),
        };
        store::audit(&mut tx, &Portal::audit_entry(&actor, meta, event, None, Some(id), details)).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(id)
    }

    async fn delete_customer(&self, session: &Session, meta: &RequestMeta, id: i64) -> Result<(), AppError> {
        let actor = self.superadmin(session).await?;
        let customer = cs::customer(&self.db, id).await.map_err(internal)?.ok_or(AppError::NotFound)?;
        let mut tx = self.db.begin().await.map_err(internal)?;
        let lost = cs::delete_customer(&mut tx, id).await.map_err(internal)?.ok_or(AppError::NotFound)?;
        let details = json!({ "customer": customer.name, "shortname": customer.shortname, "asns": customer.asns, "access_removed": lost });
        self.commit_audited(tx, Portal::audit_entry(&actor, meta, "customer.deleted", None, Some(id), details)).await
    }

    async fn import_customers(&self, session: &Session, meta: &RequestMeta, csv: &str, allow_reserved: bool, commit: bool) -> Result<ImportPreview, AppError> {
        let actor = self.superadmin(session).await?;
        let customers = match import::parse_customers(csv, allow_reserved) {
            Ok(c) => c,
            Err(errors) => {
                return Ok(ImportPreview { rows: Vec::new(), errors: errors.into_iter().map(|e| (e.line, e.message)).collect(), committed: false })
            }
        };
        let known = cs::all_shortnames(&self.db).await.map_err(internal)?;
        let rows: Vec<ImportRow> = customers
            .iter()
            .map(|c| ImportRow {
                shortname: c.shortname.clone(),
                name: c.name.clone(),
                asns: c.asns.clone(),
                kind: c.kind.clone(),
                status: c.status.clone(),
                peeringdb_login: c.peeringdb_login,
                new: !known.contains(&c.shortname),
            })
            .collect();
        if !commit || rows.is_empty() {
            return Ok(ImportPreview { rows, errors: Vec::new(), committed: false });
        }
        let mut tx = self.db.begin().await.map_err(internal)?;
        let created = crate::cli::write_customers(&mut tx, &customers).await.map_err(internal)?;
        let details = json!({ "created": created, "updated": customers.len() - created });
        store::audit(&mut tx, &Portal::audit_entry(&actor, meta, "customers.imported", None, None, details)).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(ImportPreview { rows, errors: Vec::new(), committed: true })
    }

    async fn users(&self, session: &Session, q: &str, page: u32) -> Result<Page<UserItem>, AppError> {
        self.superadmin(session).await?;
        let (items, total) = cs::search_users(&self.db, q, page).await.map_err(internal)?;
        Ok(Page { items, total, page })
    }

    async fn user(&self, session: &Session, id: i64) -> Result<UserDetail, AppError> {
        self.superadmin(session).await?;
        let user = cs::user_item(&self.db, id).await.map_err(internal)?.ok_or(AppError::NotFound)?;
        let row = self.user_row(id).await?;
        Ok(UserDetail {
            user,
            peeringdb_login_allowed: row.peeringdb_login_allowed,
            has_password: row.password_hash.is_some(),
            created_at: cs::fmt_time(row.created_at),
            affiliations: cs::affiliations_of(&self.db, id).await.map_err(internal)?,
            recent: cs::audit_of_user(&self.db, id, 20).await.map_err(internal)?,
        })
    }

    async fn create_user(&self, session: &Session, meta: &RequestMeta, form: NewUserForm, password: SecretString) -> Result<i64, AppError> {
        let actor = self.superadmin(session).await?;
        let username = crate::cli::normalize_username(&form.username).map_err(|e| validation(format!("Username: {e}.")))?;
        let email = form.email.trim();
        if !crate::cli::plausible_email(email) {
            return Err(validation(format!("Email: {email:?} is not an email address.")));
        }
        let name = if form.name.trim().is_empty() { username.clone() } else { form.name.trim().to_string() };
        password::validate_new(&password).map_err(|e| validation(format!("Password: {e}.")))?;
        let hash = password::hash(password).await.map_err(internal)?;
        let new = store::NewUser { username: &username, name: &name, email, password_hash: Some(&hash), is_superadmin: form.superadmin, created_via: "admin" };
        let mut tx = self.db.begin().await.map_err(internal)?;
        let id = match store::insert_user(&mut tx, &new).await {
            Ok(id) => id,
            Err(e) if e.is_unique_violation() => return Err(AppError::Conflict(format!("A user named {username:?} already exists."))),
            Err(e) => return Err(internal(e)),
        };
        let details = json!({ "username": username, "superadmin": form.superadmin });
        self.commit_audited(tx, Portal::audit_entry(&actor, meta, "user.created", Some(id), None, details)).await?;
        Ok(id)
    }

    async fn grant(&self, session: &Session, meta: &RequestMeta, user_id: i64, customer: &str, role: Role) -> Result<(), AppError> {
        let actor = self.superadmin(session).await?;
        let target = self.user_row(user_id).await?;
        let customer = cs::customer_by_shortname(&self.db, customer)
            .await
            .map_err(internal)?
            .ok_or_else(|| validation(format!("There is no customer with the shortname {:?}.", customer.trim())))?;
        let mut tx = self.db.begin().await.map_err(internal)?;
        let before = cs::affiliation(&mut tx, target.id, customer.id).await.map_err(internal)?;
        let (event, details) = match before {
            Some((r, Source::Manual)) if r == role => return Ok(()),
            Some((from, source)) => (
                "grant.changed",
                json!({ "customer": customer.name, "from": from.as_str(), "to": role.as_str(), "source": "manual", "was": source.as_str() }),
            ),
            None => ("grant.added", json!({ "customer": customer.name, "role": role.as_str(), "source": "manual" })),
        };
        store::grant_manual(&mut tx, target.id, customer.id, role).await.map_err(internal)?;
        store::audit(&mut tx, &Portal::audit_entry(&actor, meta, event, Some(target.id), Some(customer.id), details)).await.map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    async fn revoke(&self, session: &Session, meta: &RequestMeta, user_id: i64, customer_id: i64) -> Result<(), AppError> {
        let actor = self.superadmin(session).await?;
        revoke_manual_grant(self, &actor, meta, user_id, customer_id, "superadmin").await
    }

    async fn set_disabled(&self, session: &Session, meta: &RequestMeta, user_id: i64, disabled: bool) -> Result<(), AppError> {
        let actor = self.superadmin(session).await?;
        if actor.id == user_id {
            return Err(AppError::Conflict("You cannot disable your own account.".into()));
        }
        let target = self.user_row(user_id).await?;
        let event = if disabled { "user.disabled" } else { "user.enabled" };
        let mut tx = self.db.begin().await.map_err(internal)?;
        cs::set_disabled(&mut tx, target.id, disabled).await.map_err(internal)?;
        let ended = if disabled { store::end_sessions_of(&mut tx, target.id).await.map_err(internal)? } else { 0 };
        let details = json!({ "username": target.username, "sessions_ended": ended });
        self.commit_audited(tx, Portal::audit_entry(&actor, meta, event, Some(target.id), None, details)).await
    }

    async fn unlink_peeringdb(&self, session: &Session, meta: &RequestMeta, user_id: i64) -> Result<(), AppError> {
        let actor = self.superadmin(session).await?;
        let target = self.user_row(user_id).await?;
        let Some(peeringdb_id) = target.peeringdb_id else {
            return Err(AppError::Conflict("This account is not linked to PeeringDB.".into()));
        };
        let mut tx = self.db.begin().await.map_err(internal)?;
        let removed = cs::unlink_peeringdb(&mut tx, target.id).await.map_err(internal)?;
        let names = store::customer_names(&mut tx, &removed).await.map_err(internal)?;
        for customer_id in &removed {
            let details = json!({ "customer": names.get(customer_id), "source": "peeringdb", "why": "PeeringDB identity unlinked" });
            let entry = Portal::audit_entry(&actor, meta, "grant.removed", Some(target.id), Some(*customer_id), details);
            store::audit(&mut tx, &entry).await.map_err(internal)?;
        }
        let ended = store::end_sessions_of(&mut tx, target.id).await.map_err(internal)?;
        let details = json!({ "username": target.username, "peeringdb_id": peeringdb_id, "access_removed": removed.len(), "sessions_ended": ended });
        self.commit_audited(tx, Portal::audit_entry(&actor, meta, "user.unlinked", Some(target.id), None, details)).await
    }

    async fn audit(&self, session: &Session, filter: AuditFilter, page: u32) -> Result<Page<AuditItem>, AppError> {
        self.superadmin(session).await?;
        let query = cs::AuditQuery::resolve(&self.db, &filter).await.map_err(internal)?.map_err(validation)?;
        let items = query.fetch(&self.db, i64::from(PAGE_SIZE), cs::offset(page)).await.map_err(internal)?;
        let total = query.count(&self.db).await.map_err(internal)?;
        Ok(Page { items, total, page })
    }

    async fn peeringdb_status(&self, session: &Session) -> Result<PeeringDbStatus, AppError> {
        self.superadmin(session).await?;
        let pdb = self.config.peeringdb.as_ref();
        let (linked_users, peeringdb_grants, customers_opted_out) = cs::peeringdb_counts(&self.db).await.map_err(internal)?;
        Ok(PeeringDbStatus {
            enabled: pdb.is_some(),
            client_id: pdb.map(|p| p.client_id.clone()),
            redirect_uri: pdb.map(|p| p.redirect_uri.to_string()),
            oauth_url: pdb.map(|p| p.base_url.to_string()),
            role_policy: pdb.map(|_| {
                match self.config.role_policy {
                    RolePolicy::Perms => "perms (update bit → admin, read bit → member)",
                    RolePolicy::Member => "member (everyone a member)",
                    RolePolicy::Admin => "admin (everyone an admin)",
                }
                .to_string()
            }),
            link_by_email: self.config.link_by_email,
            last_success: cs::last_peeringdb_login(&self.db, "login.success").await.map_err(internal)?,
            last_failure: cs::last_peeringdb_login(&self.db, "login.refused").await.map_err(internal)?,
            linked_users,
            peeringdb_grants,
            customers_opted_out,
        })
    }
}

/// Removes a manual grant, for a superadmin or the customer's own admin.
async fn revoke_manual_grant(portal: &Portal, actor: &UserRow, meta: &RequestMeta, user_id: i64, customer_id: i64, by: &str) -> Result<(), AppError> {
    let mut tx = portal.db.begin().await.map_err(internal)?;
    match cs::affiliation(&mut tx, user_id, customer_id).await.map_err(internal)? {
        None => return Err(AppError::NotFound),
        Some((_, Source::Peeringdb)) => {
            return Err(AppError::Conflict(
                "This access comes from PeeringDB and would return at the next login. Switch PeeringDB login off for the customer or the user instead."
                    .into(),
            ))
        }
        Some((role, Source::Manual)) => {
            cs::revoke_manual(&mut tx, user_id, customer_id).await.map_err(internal)?;
            let names = store::customer_names(&mut tx, &[customer_id]).await.map_err(internal)?;
            let details = json!({ "customer": names.get(&customer_id), "role": role.as_str(), "source": "manual", "by": by });
            store::audit(&mut tx, &Portal::audit_entry(actor, meta, "grant.removed", Some(user_id), Some(customer_id), details))
                .await
                .map_err(internal)?;
        }
    }
    tx.commit().await.map_err(internal)
}

/// "the password must…" → "The password must…".
fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

#[async_trait::async_trait]
impl SelfService for Portal {
    async fn account(&self, session: &Session) -> Result<Account, AppError> {
        let me = self.caller(session).await?;
        Ok(Account {
            sessions: cs::session_count(&self.db, me.id).await.map_err(internal)?,
            history: cs::login_history(&self.db, me.id, 20).await.map_err(internal)?,
            has_password: me.password_hash.is_some(),
            created_at: cs::fmt_time(me.created_at),
            username: me.username,
            name: me.name,
            email: me.email,
            created_via: me.created_via,
            peeringdb_id: me.peeringdb_id,
            peeringdb_login_allowed: me.peeringdb_login_allowed,
        })
    }

    async fn set_own_peeringdb_login(&self, session: &Session, meta: &RequestMeta, allowed: bool) -> Result<(), AppError> {
        let me = self.caller(session).await?;
        let mut tx = self.db.begin().await.map_err(internal)?;
        cs::set_peeringdb_login_allowed(&mut tx, me.id, allowed).await.map_err(internal)?;
        self.commit_audited(tx, Portal::audit_entry(&me, meta, "account.peeringdb_login", Some(me.id), None, json!({ "allowed": allowed }))).await
    }

    async fn change_password(&self, session: &Session, meta: &RequestMeta, current: SecretString, new: SecretString) -> Result<(), AppError> {
        let me = self.caller(session).await?;
        let Some(stored) = me.password_hash.clone() else {
            return Err(AppError::Conflict("This account logs in through PeeringDB and has no password to change.".into()));
        };
        if !password::verify(current, Some(stored)).await.map_err(internal)? {
            return Err(validation("Your current password is not correct."));
        }
        password::validate_new(&new).map_err(|e| validation(capitalise(&format!("{e}."))))?;
        let hash = password::hash(new).await.map_err(internal)?;
        let user_id = me.id;
        let mut tx = self.db.begin().await.map_err(internal)?;
        cs::set_password_hash(&mut tx, user_id, &hash).await.map_err(internal)?;
        // Whoever knew the old password is logged out everywhere.
        let ended = store::end_sessions_of(&mut tx, user_id).await.map_err(internal)?;
        let details = json!({ "sessions_ended": ended });
        self.commit_audited(tx, Portal::audit_entry(&me, meta, "account.password_changed", Some(user_id), None, details)).await?;
        let memberships = store::memberships(&self.db, user_id).await.map_err(internal)?;
        let chosen = session.get::<i64>(sessions::CUSTOMER_ID).await.map_err(internal)?;
        self.start_session(session, user_id, crate::backend::sole_customer(&memberships)).await?;
        if let Some(c) = chosen {
            session.insert(sessions::CUSTOMER_ID, c).await.map_err(internal)?;
        }
        Ok(())
    }

    async fn logout_everywhere(&self, session: &Session, meta: &RequestMeta) -> Result<(), AppError> {
        let me = self.caller(session).await?;
        let mut tx = self.db.begin().await.map_err(internal)?;
        let ended = store::end_sessions_of(&mut tx, me.id).await.map_err(internal)?;
        let details = json!({ "sessions_ended": ended });
        self.commit_audited(tx, Portal::audit_entry(&me, meta, "logout.everywhere", Some(me.id), None, details)).await?;
        session.flush().await.map_err(internal)
    }

    async fn customer_access(&self, session: &Session, customer_id: i64) -> Result<CustomerAccess, AppError> {
        let me = self.caller(session).await?;
        if !self.administers(&me, customer_id).await? {
            return Err(AppError::Forbidden);
        }
        let customer = cs::customer(&self.db, customer_id).await.map_err(internal)?.ok_or(AppError::NotFound)?;
        Ok(CustomerAccess { customer_id, customer: customer.name, entries: cs::access_to(&self.db, customer_id).await.map_err(internal)? })
    }

    async fn revoke_access(&self, session: &Session, meta: &RequestMeta, customer_id: i64, user_id: i64) -> Result<(), AppError> {
        let me = self.caller(session).await?;
        if !self.administers(&me, customer_id).await? {
            return Err(AppError::Forbidden);
        }
        if me.id == user_id {
            return Err(AppError::Conflict("You cannot remove your own access; ask another admin of this customer.".into()));
        }
        let by = if me.is_superadmin { "superadmin" } else { "customer admin" };
        revoke_manual_grant(self, &me, meta, user_id, customer_id, by).await
    }
}

/// `GET /admin/audit.csv?user=&customer=&event=&from=&to=`: the filtered
/// audit log for spreadsheets, newest first. A read, so a GET is fine; the
/// session must still be a superadmin's.
pub async fn audit_csv(
    axum::extract::State(portal): axum::extract::State<std::sync::Arc<Portal>>,
    session: Session,
    axum::extract::Query(filter): axum::extract::Query<AuditFilter>,
) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    let answer = async {
        portal.superadmin(&session).await?;
        let query = cs::AuditQuery::resolve(&portal.db, &filter).await.map_err(internal)?.map_err(validation)?;
        let rows = query.fetch(&portal.db, CSV_EXPORT_LIMIT, 0).await.map_err(internal)?;
        audit_rows_csv(&rows).map_err(internal)
    };
    match answer.await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"peerportal-audit.csv\""),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(AppError::Unauthenticated) => (StatusCode::UNAUTHORIZED, "Please log in first.").into_response(),
        Err(AppError::Forbidden) => (StatusCode::FORBIDDEN, "This export is for the exchange's administrators.").into_response(),
        Err(e @ AppError::Validation(_)) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The CSV text of audit rows. Cells starting with `=`, `+`, `-` or `@`
/// get a leading apostrophe so a spreadsheet never runs them as formulas
/// (usernames and reasons come from outside).
pub fn audit_rows_csv(rows: &[AuditItem]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "at", "event", "actor", "actor_name", "user_id", "username", "customer_id", "customer", "details", "ip"])?;
    for r in rows {
        let cells = [
            r.id.to_string(),
            r.at.clone(),
            r.event.clone(),
            r.actor.clone(),
            r.actor_name.clone().unwrap_or_default(),
            r.user_id.map(|v| v.to_string()).unwrap_or_default(),
            r.username.clone().unwrap_or_default(),
            r.customer_id.map(|v| v.to_string()).unwrap_or_default(),
            r.customer.clone().unwrap_or_default(),
            r.details.clone(),
            r.ip.clone().unwrap_or_default(),
        ];
        w.write_record(cells.iter().map(|c| defuse_formula(c).into_owned()))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn defuse_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(username: &str) -> AuditItem {
        AuditItem {
            id: 7,
            at: "2026-11-29 10:00 UTC".into(),
            actor: "peeringdb".into(),
            actor_name: None,
            event: "login.refused".into(),
            user_id: Some(3),
            username: Some(username.into()),
            customer_id: None,
            customer: None,
            details: r#"{"reason":"no_customer","asns":[1,2]}"#.into(),
            ip: Some("127.0.0.1".into()),
        }
    }

    #[test]
    fn csv_export_quotes_json_and_defuses_formulas() {
        let text = audit_rows_csv(&[item("=HYPERLINK(\"x\")")]).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("id,at,event,actor,actor_name,user_id,username,customer_id,customer,details,ip"));
        let row = lines.next().unwrap();
        assert!(row.contains(r#""'=HYPERLINK(""x"")""#), "{row}");
        assert!(row.contains(r#""{""reason"":""no_customer"",""asns"":[1,2]}""#), "{row}");
    }

    #[test]
    fn customer_changes_list_only_what_changed() {
        let before = CustomerItem {
            id: 1,
            name: "Alpha".into(),
            shortname: "alpha".into(),
            asns: vec![64500],
            kind: "full".into(),
            status: "active".into(),
            peeringdb_login: true,
            peeringdb_max_role: None,
            users: 2,
        };
        let after = CustomerItem { peeringdb_login: false, asns: vec![64500, 64501], users: 0, ..before.clone() };
        assert_eq!(customer_changes(&before, &after), json!({ "asns": [[64500], [64500, 64501]], "peeringdb_login": [true, false] }));
    }
}
