//! The admin console's use cases. Every method takes a [`Superadmin`]:
//! the rights check is the argument's type, made once per request by the
//! web layer.

use app::backend::{Caller, Console, RequestMeta, Superadmin};
use app::console::{
    AuditFilter, AuditItem, CustomerForm, CustomerItem, ImportPreview, IxfForm, IxfPreview, LinkStatus, NewUserForm, Page, PeeringDbStatus, UserDetail, UserItem,
    PAGE_SIZE,
};
use app::{AppError, Role, Source};
use domain::customer::{validate_customer, CustomerFields};
use domain::{AuditEvent, CreatedVia, Email, Username};
use secrecy::SecretString;
use serde_json::{json, Value};

use super::customers::{self as import, Known};
use super::{access, Portal};
use crate::password;
use crate::store::audit::{self, AuditEntry, AuditQuery};
use crate::store::customers::{self, PeeringDbRules};
use crate::store::{fmt_time, grants, links, sessions, users, Tx};

/// How many audit rows the CSV export writes at most.
pub const CSV_EXPORT_LIMIT: i64 = 100_000;

fn validation(e: impl Into<String>) -> AppError {
    AppError::Validation(e.into())
}

/// "the password must…" → "The password must…".
pub(crate) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

fn offset(page: u32) -> i64 {
    i64::from(page) * i64::from(PAGE_SIZE)
}

/// Names an IX-F export's exact bytes, so an import writes only what its
/// preview showed.
fn ixf_digest(json: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(json.as_bytes()))
}

/// An audit row for something `who` did.
pub(crate) fn entry<'a>(who: &Caller, meta: &'a RequestMeta, event: AuditEvent, user_id: Option<i64>, customer_id: Option<i64>, details: Value) -> AuditEntry<'a> {
    AuditEntry { actor: who.actor(), event, user_id, customer_id, details, ip: meta.ip.as_deref() }
}

/// Records the change made in `tx` and commits both together.
pub(crate) async fn commit_audited(mut tx: Tx, entry: AuditEntry<'_>) -> Result<(), AppError> {
    audit::write(&mut tx, &entry).await?;
    Ok(tx.commit().await?)
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
    diff("peeringdb_require_mfa", json!(before.peeringdb_require_mfa), json!(after.peeringdb_require_mfa));
    diff("peeringdb_locked", json!(before.peeringdb_locked), json!(after.peeringdb_locked));
    Value::Object(changes)
}

impl Portal {
    async fn user_row(&self, id: i64) -> Result<users::UserRow, AppError> {
        users::by_id(&self.db, id).await?.ok_or(AppError::NotFound)
    }
}

#[async_trait::async_trait]
impl Console for Portal {
    async fn customers(&self, _: &Superadmin, q: &str, page: u32) -> Result<Page<CustomerItem>, AppError> {
        let (items, total) = customers::search(&self.db, q, i64::from(PAGE_SIZE), offset(page)).await?;
        Ok(Page { items, total, page })
    }

    async fn customer(&self, _: &Superadmin, id: i64) -> Result<CustomerItem, AppError> {
        customers::by_id(&self.db, id).await?.ok_or(AppError::NotFound)
    }

    async fn save_customer(&self, admin: &Superadmin, meta: &RequestMeta, form: CustomerForm) -> Result<i64, AppError> {
        let fields = CustomerFields {
            name: &form.name,
            shortname: &form.shortname,
            asns: &form.asns,
            kind: &form.kind,
            status: &form.status,
            peeringdb_login: form.peeringdb_login,
            allow_reserved: form.allow_reserved,
        };
        let valid = validate_customer(&fields).map_err(|e| validation(capitalise(&e)))?;
        let before = match form.id {
            Some(id) => Some(customers::by_id(&self.db, id).await?.ok_or(AppError::NotFound)?),
            None => None,
        };
        let mut tx = self.db.begin().await?;
        // Read inside the transaction: the people whose sessions may end.
        let had_access = match form.id {
            Some(id) => grants::users_of(&mut tx, &[id]).await?,
            None => Vec::new(),
        };
        let id = match customers::save(&mut tx, form.id, &valid, PeeringDbRules::Set { max_role: form.max_role, require_mfa: form.require_mfa }).await {
            Ok(Some(id)) => id,
            Ok(None) => return Err(AppError::NotFound),
            Err(e) if e.is_unique_violation() => {
                return Err(AppError::Conflict(format!("The shortname {:?} is already taken by another customer.", valid.shortname.as_str())))
            }
            Err(e) => return Err(e.into()),
        };
        let after = CustomerItem {
            id,
            name: valid.name.as_str().to_string(),
            shortname: valid.shortname.as_str().to_string(),
            asns: valid.asn_numbers(),
            kind: valid.kind,
            status: valid.status,
            peeringdb_login: valid.peeringdb_login,
            peeringdb_max_role: form.max_role,
            peeringdb_require_mfa: form.require_mfa,
            peeringdb_locked: form.peeringdb_locked,
            users: 0,
        };
        customers::set_peeringdb_locked(&mut tx, id, form.peeringdb_locked).await?;
        let withdrawn = access::after_customer_change(&mut tx, &[id], &had_access, admin.actor(), meta.ip.as_deref()).await?;
        let (event, details) = match &before {
            Some(before) => (
                AuditEvent::CustomerUpdated,
                json!({ "customer": after.name, "changes": customer_changes(before, &after),
                        "access_removed": withdrawn.grants_removed, "roles_lowered": withdrawn.grants_lowered,
                        "sessions_ended": withdrawn.sessions_ended }),
            ),
            None => (
                AuditEvent::CustomerCreated,
                json!({ "customer": after.name, "shortname": after.shortname, "asns": after.asns, "type": after.kind,
                        "status": after.status, "peeringdb_login": after.peeringdb_login,
                        "peeringdb_max_role": after.peeringdb_max_role.map(Role::as_str),
                        "peeringdb_require_mfa": after.peeringdb_require_mfa, "peeringdb_locked": after.peeringdb_locked }),
            ),
        };
        let mut rows = vec![entry(admin, meta, event, None, Some(id), details)];
        rows.extend(withdrawn.rows);
        audit::write_all(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn delete_customer(&self, admin: &Superadmin, meta: &RequestMeta, id: i64) -> Result<(), AppError> {
        let customer = customers::by_id(&self.db, id).await?.ok_or(AppError::NotFound)?;
        let mut tx = self.db.begin().await?;
        let had_access = grants::users_of(&mut tx, &[id]).await?;
        let lost = customers::delete(&mut tx, id).await?.ok_or(AppError::NotFound)?;
        let ended = sessions::end_where_no_access(&mut tx, &had_access).await?;
        let details = json!({ "customer": customer.name, "shortname": customer.shortname, "asns": customer.asns,
                              "access_removed": lost, "sessions_ended": ended });
        commit_audited(tx, entry(admin, meta, AuditEvent::CustomerDeleted, None, Some(id), details)).await
    }

    async fn import_customers(&self, admin: &Superadmin, meta: &RequestMeta, csv: &str, allow_reserved: bool, commit: bool) -> Result<ImportPreview, AppError> {
        let rows = match domain::customer::parse_customers(csv, allow_reserved) {
            Ok(rows) => rows,
            Err(errors) => {
                return Ok(ImportPreview { rows: Vec::new(), errors: errors.into_iter().map(|e| (e.line, e.message)).collect(), committed: false })
            }
        };
        let known = Known::read(&self.db).await?;
        let preview = import::preview(&rows, &known);
        if !commit || rows.is_empty() {
            return Ok(ImportPreview { rows: preview, errors: Vec::new(), committed: false });
        }
        let mut tx = self.db.begin().await?;
        let written = import::write(&mut tx, &rows, &known, admin.actor(), meta.ip.as_deref()).await?;
        let mut audit_rows = vec![entry(admin, meta, AuditEvent::CustomersImported, None, None, written.details(rows.len()))];
        audit_rows.extend(written.withdrawn.rows);
        audit::write_all(&mut tx, &audit_rows).await?;
        tx.commit().await?;
        Ok(ImportPreview { rows: preview, errors: Vec::new(), committed: true })
    }

    async fn import_ixf(&self, admin: &Superadmin, meta: &RequestMeta, form: IxfForm, commit: bool) -> Result<IxfPreview, AppError> {
        let (json, source) = match (form.json.trim().is_empty(), form.url.trim()) {
            (false, "") => (form.json, None),
            (true, "") => return Err(validation("Paste the export, or give the URL it is published at.")),
            (false, _) => return Err(validation("Give either the export's URL or the export itself, not both.")),
            (true, url) => {
                // The console reads URLs only: a path would read the
                // server's own files.
                let url = crate::fetch::http_url(url).ok_or_else(|| validation("The export's URL must start with https:// or http://."))?;
                let json = import::fetch_ixf_url(&url).await.map_err(|e| validation(format!("The export could not be read: {e}.")))?;
                (json, Some(crate::fetch::shown(&url)))
            }
        };
        let digest = ixf_digest(&json);
        if commit && form.digest.as_ref().is_some_and(|d| *d != digest) {
            return Err(AppError::Conflict("The export changed after the preview; nothing was imported. Preview it again.".into()));
        }
        let run = import::IxfRun {
            ixp_id: form.ixp_id,
            allow_reserved: form.allow_reserved,
            dry_run: !commit,
            actor: admin.actor(),
            ip: meta.ip.as_deref(),
            source,
        };
        match import::import_ixf(&self.db, &json, &self.config.ixf_mapping, run).await {
            Ok(r) => Ok(IxfPreview { ixp: Some(r.ixp), rows: r.rows, missing: r.missing, errors: Vec::new(), digest, committed: commit }),
            Err(import::ImportError::Ixf(errors)) => Ok(IxfPreview { errors: errors.iter().map(ToString::to_string).collect(), digest, ..IxfPreview::default() }),
            Err(import::ImportError::Rows(_)) => Err(AppError::Internal),
            Err(import::ImportError::Db(e)) => Err(e.into()),
        }
    }

    async fn users(&self, _: &Superadmin, q: &str, page: u32) -> Result<Page<UserItem>, AppError> {
        let (items, total) = users::search(&self.db, q, i64::from(PAGE_SIZE), offset(page)).await?;
        Ok(Page { items, total, page })
    }

    async fn user(&self, _: &Superadmin, id: i64) -> Result<UserDetail, AppError> {
        let user = users::item(&self.db, id).await?.ok_or(AppError::NotFound)?;
        let row = self.user_row(id).await?;
        let peeringdb_link = match row.peeringdb_id {
            Some(_) => Some(links::state_of(&self.db, id).await?.map_or(
                LinkStatus { last_synced: None, stale_since: None, last_error: None, has_token: false },
                |l| LinkStatus {
                    last_synced: l.last_synced_at.map(fmt_time),
                    stale_since: l.stale_since.map(fmt_time),
                    last_error: l.last_error,
                    has_token: l.has_token,
                },
            )),
            None => None,
        };
        Ok(UserDetail {
            user,
            peeringdb_link,
            peeringdb_login_allowed: row.peeringdb_login_allowed,
            has_password: row.password_hash.is_some(),
            two_factor: crate::store::two_factor::get(&self.db, row.id).await?.is_some_and(|t| t.confirmed),
            created_at: fmt_time(row.created_at),
            affiliations: grants::affiliations_of(&self.db, id).await?,
            recent: audit::about_user(&self.db, id, 20).await?,
        })
    }

    async fn create_user(&self, admin: &Superadmin, meta: &RequestMeta, form: NewUserForm, password: SecretString) -> Result<i64, AppError> {
        let username = Username::parse(&form.username).map_err(|e| validation(format!("Username: {e}.")))?;
        let email = Email::parse(&form.email).map_err(|e| validation(format!("Email: {e}.")))?;
        let name = if form.name.trim().is_empty() { username.to_string() } else { form.name.trim().to_string() };
        password::validate_new(&password).map_err(|e| validation(format!("Password: {e}.")))?;
        let hash = password::hash(password).await?;
        let new = users::NewUser {
            username: username.as_str(),
            name: &name,
            email: email.as_str(),
            password_hash: Some(&hash),
            is_superadmin: form.superadmin,
            peeringdb_id: None,
            created_via: CreatedVia::Admin,
        };
        let mut tx = self.db.begin().await?;
        let id = match users::insert(&mut tx, &new).await {
            Ok(id) => id,
            Err(e) if e.is_unique_violation() => return Err(AppError::Conflict(format!("A user named {:?} already exists.", username.as_str()))),
            Err(e) => return Err(e.into()),
        };
        let details = json!({ "username": username.as_str(), "superadmin": form.superadmin });
        commit_audited(tx, entry(admin, meta, AuditEvent::UserCreated, Some(id), None, details)).await?;
        Ok(id)
    }

    async fn grant(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64, customer: &str, role: Role) -> Result<(), AppError> {
        let target = self.user_row(user_id).await?;
        let customer_id = customers::id_by_shortname(&self.db, customer)
            .await?
            .ok_or_else(|| validation(format!("There is no customer with the shortname {:?}.", customer.trim())))?;
        let mut tx = self.db.begin().await?;
        let name = customers::names(&mut tx, &[customer_id]).await?.remove(&customer_id);
        let before = grants::affiliation(&mut tx, target.id, customer_id).await?;
        let (event, details) = match before {
            Some((r, Source::Manual)) if r == role => return Ok(()),
            Some((from, source)) => (
                AuditEvent::GrantChanged,
                json!({ "customer": name, "from": from.as_str(), "to": role.as_str(), "source": Source::Manual.as_str(), "was": source.as_str() }),
            ),
            None => (AuditEvent::GrantAdded, json!({ "customer": name, "role": role.as_str(), "source": Source::Manual.as_str() })),
        };
        grants::grant_manual(&mut tx, target.id, customer_id, role).await?;
        commit_audited(tx, entry(admin, meta, event, Some(target.id), Some(customer_id), details)).await
    }

    async fn revoke(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64, customer_id: i64) -> Result<(), AppError> {
        self.revoke_manual_grant(admin, meta, user_id, customer_id, "superadmin").await
    }

    async fn set_disabled(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64, disabled: bool) -> Result<(), AppError> {
        if admin.user_id == user_id {
            return Err(AppError::Conflict("You cannot disable your own account.".into()));
        }
        let target = self.user_row(user_id).await?;
        let event = if disabled { AuditEvent::UserDisabled } else { AuditEvent::UserEnabled };
        let mut tx = self.db.begin().await?;
        users::set_disabled(&mut tx, target.id, disabled).await?;
        // Disabled, a person's PeeringDB grants go (their next PeeringDB
        // login after being enabled again brings back what still holds).
        let (mut rows, ended, refresh) = match disabled {
            false => (Vec::new(), 0, None),
            true => {
                let (removed, refresh) = access::let_go(&mut tx, target.id, "user disabled", admin.actor(), meta.ip.as_deref()).await?;
                (removed.rows, sessions::end_all_of(&mut tx, target.id).await?, refresh)
            }
        };
        let details = json!({ "username": target.username, "access_removed": rows.len(), "sessions_ended": ended });
        rows.push(entry(admin, meta, event, Some(target.id), None, details));
        audit::write_all(&mut tx, &rows).await?;
        tx.commit().await?;
        self.revoke_sealed_later(target.id, refresh);
        Ok(())
    }

    async fn unlink_peeringdb(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64) -> Result<(), AppError> {
        let target = self.user_row(user_id).await?;
        let Some(peeringdb_id) = target.peeringdb_id else {
            return Err(AppError::Conflict("This account is not linked to PeeringDB.".into()));
        };
        let mut tx = self.db.begin().await?;
        users::unlink_peeringdb(&mut tx, target.id).await?;
        let (removed, refresh) = access::let_go(&mut tx, target.id, "PeeringDB identity unlinked", admin.actor(), meta.ip.as_deref()).await?;
        let mut rows = removed.rows;
        let ended = sessions::end_all_of(&mut tx, target.id).await?;
        let details = json!({ "username": target.username, "peeringdb_id": peeringdb_id, "access_removed": rows.len(), "sessions_ended": ended });
        rows.push(entry(admin, meta, AuditEvent::UserUnlinked, Some(target.id), None, details));
        audit::write_all(&mut tx, &rows).await?;
        tx.commit().await?;
        self.revoke_sealed_later(target.id, refresh);
        Ok(())
    }

    async fn reset_two_factor(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64) -> Result<(), AppError> {
        if admin.user_id == user_id {
            return Err(AppError::Conflict("Switch your own two-factor authentication off on your account page.".into()));
        }
        self.user_row(user_id).await?;
        self.remove_two_factor(user_id, admin.actor(), meta.ip.as_deref(), "superadmin").await?;
        Ok(())
    }

    async fn delete_user(&self, admin: &Superadmin, meta: &RequestMeta, user_id: i64) -> Result<(), AppError> {
        if admin.user_id == user_id {
            return Err(AppError::Conflict("You cannot delete your own account.".into()));
        }
        let target = self.user_row(user_id).await?;
        let mut tx = self.db.begin().await?;
        let refresh = links::take_refresh(&mut tx, target.id).await?;
        let ended = sessions::end_all_of(&mut tx, target.id).await?;
        let removed = grants::remove_all_of(&mut tx, target.id).await?;
        if !users::delete(&mut tx, target.id).await? {
            return Err(AppError::NotFound);
        }
        let ids: Vec<i64> = removed.iter().map(|(id, _, _)| *id).collect();
        let names = customers::names(&mut tx, &ids).await?;
        let mut rows: Vec<AuditEntry<'_>> = removed
            .iter()
            .map(|(customer_id, role, source)| {
                let details = json!({ "customer": names.get(customer_id), "role": role.as_str(), "source": source.as_str(), "why": "user deleted" });
                entry(admin, meta, AuditEvent::GrantRemoved, Some(target.id), Some(*customer_id), details)
            })
            .collect();
        // The account's own row says who it was: the audit log outlives it.
        let details = json!({ "username": target.username, "name": target.name,
                              "peeringdb_id": target.peeringdb_id, "access_removed": removed.len(), "sessions_ended": ended });
        rows.push(entry(admin, meta, AuditEvent::UserDeleted, Some(target.id), None, details));
        audit::write_all(&mut tx, &rows).await?;
        tx.commit().await?;
        self.revoke_sealed_later(target.id, refresh);
        Ok(())
    }

    async fn resync_user(&self, _: &Superadmin, _: &RequestMeta, user_id: i64) -> Result<String, AppError> {
        use super::resync::{SyncError, Synced};
        match self.resync_user(user_id, false).await {
            Ok(Synced::Done { changes, skipped: None }) => Ok(format!("Re-synced with PeeringDB: {}.", changes.describe())),
            Ok(Synced::Done { skipped: Some(why), .. }) => Ok(format!("Re-synced with PeeringDB; nothing changed ({why}).")),
            Ok(Synced::Stale) => Ok("PeeringDB refused the link's refresh token: the link is stale until the person logs in with PeeringDB.".into()),
            Ok(Synced::NothingToDo(why)) => Ok(format!("Nothing to re-sync: {why}.")),
            Err(SyncError::NoSuchUser) => Err(AppError::NotFound),
            Err(SyncError::NotEnabled) => Err(AppError::Conflict("Login with PeeringDB is not enabled.".into())),
            Err(SyncError::PeeringDb(e)) => Err(AppError::Conflict(format!("PeeringDB could not be asked: {e}. Nothing was changed."))),
            Err(SyncError::Db(e)) => Err(e.into()),
        }
    }

    async fn audit(&self, _: &Superadmin, filter: AuditFilter, page: u32) -> Result<Page<AuditItem>, AppError> {
        let query = AuditQuery::resolve(&self.db, &filter).await?.map_err(validation)?;
        let items = query.fetch(&self.db, i64::from(PAGE_SIZE), offset(page)).await?;
        let total = query.count(&self.db).await?;
        Ok(Page { items, total, page })
    }

    async fn login_activity(&self, _: &Superadmin) -> Result<app::console::LoginActivity, AppError> {
        const DAYS: i64 = 30;
        /// Reasons named in the chart; the rest add up to "other".
        const REASONS: usize = 8;
        let today = crate::store::now().date();
        let first = today - time::Duration::days(DAYS - 1);
        let rows = audit::login_activity(&self.db, first.midnight().assume_utc()).await?;
        let mut days: Vec<app::console::DayLogins> = (0..DAYS)
            .map(|i| app::console::DayLogins { date: (first + time::Duration::days(i)).to_string(), ..Default::default() })
            .collect();
        let mut reasons: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        for (date, succeeded, via, reason, count) in rows {
            let count = u64::try_from(count).unwrap_or(0);
            let Some(day) = days.iter_mut().find(|d| d.date == date) else { continue };
            match (succeeded, via.as_str()) {
                (true, "peeringdb") => day.peeringdb += count,
                (true, _) => day.password += count,
                (false, _) => {
                    day.refused += count;
                    *reasons.entry(domain::audit::refusal_label(&reason)).or_default() += count;
                }
            }
        }
        let mut refusals: Vec<(String, u64)> = reasons.into_iter().collect();
        refusals.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if refusals.len() > REASONS {
            let other: u64 = refusals.drain(REASONS - 1..).map(|(_, n)| n).sum();
            refusals.push(("other reasons".to_string(), other));
        }
        let chart_days: Vec<crate::charts::Day> =
            days.iter().map(|d| crate::charts::Day { date: d.date.clone(), password: d.password, peeringdb: d.peeringdb }).collect();
        Ok(app::console::LoginActivity {
            logins_svg: crate::charts::logins_per_day(&chart_days),
            refusals_svg: crate::charts::refusals_by_reason(&refusals),
            days,
            refusals,
        })
    }

    async fn mail_status(&self, _: &Superadmin) -> Result<app::console::MailStatus, AppError> {
        let Some(mail) = self.config.mail.as_ref() else { return Ok(app::console::MailStatus::default()) };
        let (queued, sent) = crate::store::outbox::recent(&self.db, 50).await?;
        let item = |e: crate::store::outbox::Envelope| app::console::MailItem {
            id: e.id,
            kind: e.kind.label().to_string(),
            to: e.to,
            subject: e.subject,
            created: fmt_time(e.created_at),
            attempts: e.attempts,
            last_error: e.last_error,
            when: fmt_time(e.sent_at.unwrap_or(e.next_attempt_at)),
        };
        Ok(app::console::MailStatus {
            on: true,
            server: mail.describe(),
            from: mail.from.to_string(),
            queued: queued.into_iter().map(item).collect(),
            sent: sent.into_iter().map(item).collect(),
        })
    }

    async fn retry_mail(&self, admin: &Superadmin, _: &RequestMeta) -> Result<u64, AppError> {
        if self.config.mail.is_none() {
            return Err(AppError::Conflict("Mail is off: set PEERPORTAL_SMTP_URL.".into()));
        }
        let n = crate::store::outbox::retry_now(&self.db).await?;
        tracing::info!(user_id = admin.user_id, mails = n, "queued mail made due now");
        Ok(n)
    }

    async fn peeringdb_status(&self, _: &Superadmin) -> Result<PeeringDbStatus, AppError> {
        let pdb = self.config.peeringdb.as_ref();
        let (linked_users, peeringdb_grants, customers_opted_out) = grants::peeringdb_counts(&self.db).await?;
        let (links_synced, links_stale, links_failing, oldest) = links::summary(&self.db).await?;
        let interval = self.config.resync_interval.filter(|_| pdb.is_some());
        let resync = match (pdb, interval) {
            (None, _) => "off (PeeringDB login is not enabled)".to_string(),
            (Some(_), None) => "off (PEERINGDB_RESYNC_INTERVAL=0); peerportal sync still works".to_string(),
            (Some(_), Some(i)) => format!("every {}", domain::user::duration_words(i.as_secs())),
        };
        let next_due = interval.zip(oldest).map(|(i, t)| fmt_time(t + i));
        Ok(PeeringDbStatus {
            enabled: pdb.is_some(),
            resync,
            requests_per_minute: self.config.requests_per_minute,
            last_sweep: audit::last_of(&self.db, AuditEvent::PeeringdbSweep).await?,
            next_due,
            links_synced,
            links_stale,
            links_failing,
            client_id: pdb.map(|p| p.client_id.clone()),
            redirect_uri: pdb.map(|p| p.redirect_uri.to_string()),
            oauth_url: pdb.map(|p| p.base_url.to_string()),
            role_policy: pdb.map(|_| self.config.role_policy.description().to_string()),
            id_tokens: pdb.map(|p| {
                if p.oidc { "checked: RS256 ID tokens from PeeringDB's key set (PEERINGDB_OIDC=required)" } else { "not asked for (PEERINGDB_OIDC=off)" }.to_string()
            }),
            mfa_policy: pdb.map(|_| format!("{} (PEERINGDB_REQUIRE_MFA={})", self.config.mfa_policy.description(), self.config.mfa_policy)),
            link_by_email: self.config.link_by_email,
            last_success: audit::last_peeringdb_login(&self.db, AuditEvent::LoginSuccess).await?,
            last_failure: audit::last_peeringdb_login(&self.db, AuditEvent::LoginRefused).await?,
            linked_users,
            peeringdb_grants,
            customers_opted_out,
        })
    }
}

impl Portal {
    /// Removes a manual grant, for a superadmin or the customer's own admin.
    pub(crate) async fn revoke_manual_grant(&self, who: &Caller, meta: &RequestMeta, user_id: i64, customer_id: i64, by: &str) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        match grants::affiliation(&mut tx, user_id, customer_id).await? {
            None => Err(AppError::NotFound),
            Some((_, Source::Peeringdb)) => Err(AppError::Conflict(
                "This access comes from PeeringDB and would return at the next login. Switch PeeringDB login off for the customer or the user instead."
                    .into(),
            )),
            Some((role, Source::Manual)) => {
                grants::revoke_manual(&mut tx, user_id, customer_id).await?;
                let name = customers::names(&mut tx, &[customer_id]).await?.remove(&customer_id);
                let details = json!({ "customer": name, "role": role.as_str(), "source": Source::Manual.as_str(), "by": by });
                commit_audited(tx, entry(who, meta, AuditEvent::GrantRemoved, Some(user_id), Some(customer_id), details)).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::{CustomerKind, CustomerStatus};

    #[test]
    fn customer_changes_list_only_what_changed() {
        let before = CustomerItem {
            id: 1,
            name: "Alpha".into(),
            shortname: "alpha".into(),
            asns: vec![64500],
            kind: CustomerKind::Full,
            status: CustomerStatus::Active,
            peeringdb_login: true,
            peeringdb_max_role: None,
            peeringdb_require_mfa: false,
            peeringdb_locked: false,
            users: 2,
        };
        let after = CustomerItem { peeringdb_login: false, asns: vec![64500, 64501], users: 0, ..before.clone() };
        assert_eq!(customer_changes(&before, &after), json!({ "asns": [[64500], [64500, 64501]], "peeringdb_login": [true, false] }));
    }
}
