//! Keeping access true between logins: a linked person's PeeringDB link is
//! refreshed (refresh grant, the rotated token saved at once), their
//! profile read, and the same checks and grant plan as a login applied in
//! one transaction (`domain::peeringdb::resync`). PeeringDB failing never
//! removes anything; PeeringDB refusing the refresh token marks the link
//! stale, and a link stale for longer than `PEERINGDB_STALE_GRACE` loses its
//! PeeringDB grants (the person's next login brings back what holds).

use domain::peeringdb::oidc::Assurance;
use domain::peeringdb::resync::{self, Resync};
use domain::{Actor, AuditEvent, Role, Source};
use secrecy::SecretString;
use serde_json::json;

use super::access;
use super::peeringdb::grant_audit;
use super::Portal;
use crate::keys::refresh_context;
use crate::peeringdb::{PeeringDbError, TokenHint};
use crate::store::audit::{self, AuditEntry};
use crate::mail::message::{self, AccessChanges};
use crate::store::{budget, grants, links, outbox, sessions, users, DbError};

/// How one user's re-sync ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    /// Not linked, or no refresh token kept (they log in again to get one).
    NothingToDo(&'static str),
    /// PeeringDB refused the refresh token: the link is stale.
    Stale,
    /// Checked; `changes` is what changed (or would, in a dry run).
    Done { changes: Changes, skipped: Option<&'static str> },
}

/// What a re-sync changed for one person, by customer name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<(String, Role)>,
    pub changed: Vec<(String, Role, Role)>,
    pub removed: Vec<String>,
    pub sessions_ended: u64,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty() && self.sessions_ended == 0
    }

    /// "added Alpha Net (admin); removed Beta Net".
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.added.iter().map(|(c, r)| format!("added {c} ({})", r.as_str())));
        parts.extend(self.changed.iter().map(|(c, from, to)| format!("{c}: {} → {}", from.as_str(), to.as_str())));
        parts.extend(self.removed.iter().map(|c| format!("removed {c}")));
        if self.sessions_ended > 0 {
            parts.push(format!("{} sessions ended", self.sessions_ended));
        }
        if parts.is_empty() {
            "no change".into()
        } else {
            parts.join("; ")
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("Login with PeeringDB is not enabled")]
    NotEnabled,
    #[error("no such user")]
    NoSuchUser,
    #[error(transparent)]
    PeeringDb(#[from] PeeringDbError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl Portal {
    /// Re-syncs one user now. With `dry_run` nothing is written except the
    /// rotated refresh token: PeeringDB has already retired the old one.
    pub async fn resync_user(&self, user_id: i64, dry_run: bool) -> Result<Synced, SyncError> {
        let Some(due) = links::due_one(&self.db, user_id).await? else {
            let user = users::by_id(&self.db, user_id).await?.ok_or(SyncError::NoSuchUser)?;
            return Ok(Synced::NothingToDo(match user.peeringdb_id {
                None => "not linked to PeeringDB",
                Some(_) => "no refresh token kept (the next PeeringDB login brings one)",
            }));
        };
        self.resync(&due, dry_run).await
    }

    async fn resync(&self, due: &links::Due, dry_run: bool) -> Result<Synced, SyncError> {
        let (user_id, peeringdb_id, sealed) = (due.user_id, due.peeringdb_id, &due.refresh_token);
        let client = self.peeringdb.clone().ok_or(SyncError::NotEnabled)?;
        let context = refresh_context(user_id);
        let token = match self.keys.open(sealed, &context) {
            Ok(token) => token,
            Err(e) => return self.stale(user_id, sealed, &format!("the stored token does not open: {e}")).await,
        };
        let mut tokens = match client.refresh(&token).await {
            Ok(tokens) => tokens,
            Err(PeeringDbError::InvalidGrant) => return self.stale(user_id, sealed, "PeeringDB refused the refresh token (invalid_grant)").await,
            Err(e) => {
                if !dry_run {
                    links::record_error(&self.db, user_id, &e.to_string()).await?;
                }
                return Err(e.into());
            }
        };
        // Saved before anything else: the token just used is dead at
        // PeeringDB. A crash before this line leaves a stale link, never a
        // wrong grant.
        match tokens.refresh.take() {
            Some(next) => {
                if !self.keep_refresh(user_id, sealed, &next).await? {
                    // A login or another sweep stored a newer token while
                    // this one was being refreshed: theirs stays, ours goes.
                    self.revoke_later(next, TokenHint::RefreshToken);
                    self.revoke_later(tokens.access, TokenHint::AccessToken);
                    return Ok(Synced::NothingToDo("the link was refreshed elsewhere meanwhile"));
                }
            }
            None => return self.stale(user_id, sealed, "PeeringDB issued no new refresh token").await,
        }
        // The new refresh token is kept above whatever the ID token says:
        // the old one is dead. A token that does not check out changes no
        // grant; the link records the error, as for any PeeringDB failure.
        if let Err(e) = client.check_refreshed(&tokens, peeringdb_id).await {
            self.revoke_later(tokens.access, TokenHint::AccessToken);
            if !dry_run {
                links::record_error(&self.db, user_id, &e.to_string()).await?;
            }
            return Err(e.into());
        }
        let profile = client.profile(&tokens.access).await;
        self.revoke_later(tokens.access, TokenHint::AccessToken);
        let profile = match profile {
            Ok(p) => p,
            Err(e) => {
                if !dry_run {
                    links::record_error(&self.db, user_id, &e.to_string()).await?;
                }
                return Err(e.into());
            }
        };

        let mut tx = self.db.begin().await?;
        tx.lock_key(peeringdb_id).await?;
        let Some(user) = users::by_peeringdb_id(&mut tx, peeringdb_id).await?.filter(|u| u.id == user_id) else {
            return Ok(Synced::NothingToDo("unlinked meanwhile"));
        };
        let planning = grants::planning(&mut tx, &profile.asns(), Some(user_id)).await?;
        // A re-sync is no authentication: the last login's second factor counts.
        let assurance = Assurance { policy: self.config.mfa_policy, second_factor: due.mfa };
        let decision = resync::decide(&profile, peeringdb_id, user.account(), &planning.customers, &planning.existing, self.config.role_policy, assurance);
        let mut changes = Changes::default();
        let mut skipped = None;
        let mut rows: Vec<AuditEntry<'_>> = Vec::new();
        match decision {
            Resync::Apply { plan, lost_everything } => {
                changes.added = plan.add.iter().map(|(c, r)| (planning.name(*c), *r)).collect();
                changes.changed = plan.change_role.iter().map(|(c, from, to)| (planning.name(*c), *from, *to)).collect();
                changes.removed = plan.remove.iter().map(|c| planning.name(*c)).collect();
                let (name, email) = (profile.display_name(), profile.email.as_deref().map(str::trim).unwrap_or(&user.email));
                if name != user.name || email != user.email {
                    users::follow_peeringdb(&mut tx, user_id, &name, email).await?;
                }
                grants::apply_plan(&mut tx, user_id, &plan).await?;
                rows = grant_audit(user_id, &plan, &planning, None);
                if lost_everything {
                    changes.sessions_ended = sessions::end_all_of(&mut tx, user_id).await?;
                }
            }
            Resync::Withdraw => {
                let (removed, ended) = access::unverified(&mut tx, user_id, None).await?;
                (rows, changes.removed, changes.sessions_ended) = (removed.rows, removed.customers, ended);
            }
            Resync::Skip(reason) => skipped = Some(reason.as_str()),
        }
        if dry_run {
            // Dropped, not committed: a dry run writes nothing here.
            return Ok(Synced::Done { changes, skipped });
        }
        for row in &mut rows {
            row.details["via"] = json!("resync");
        }
        audit::write_all(&mut tx, &rows).await?;
        if let Some(site) = self.mail_site() {
            let access = AccessChanges { added: changes.added.clone(), changed: changes.changed.clone(), removed: changes.removed.clone(), lowered: Vec::new() };
            // To the address PeeringDB gives now, where it gives one.
            let to = profile.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).unwrap_or(&user.email);
            if let Some(mail) = message::access_changed(&site, user_id, to, &profile.display_name(), &access, true) {
                outbox::enqueue(&mut tx, &mail).await?;
            }
        }
        links::mark_synced(&mut tx, user_id, skipped).await?;
        tx.commit().await?;
        if !changes.is_empty() {
            tracing::info!(user_id, changes = %changes.describe(), "PeeringDB re-sync changed access");
        }
        Ok(Synced::Done { changes, skipped })
    }

    /// Seals and stores a rotated refresh token in place of `used`, on its
    /// own, at once; false when `used` was no longer the stored one.
    async fn keep_refresh(&self, user_id: i64, used: &str, token: &SecretString) -> Result<bool, SyncError> {
        let sealed = self.keys.seal(token, &refresh_context(user_id)).map_err(|e| DbError::Corrupt(e.to_string()))?;
        Ok(links::rotate(&self.db, user_id, used, &sealed).await?)
    }

    /// Marks the link stale (audited once, when it becomes stale), unless
    /// the token that failed was replaced meanwhile.
    async fn stale(&self, user_id: i64, used: &str, why: &str) -> Result<Synced, SyncError> {
        let marked = links::mark_stale(&self.db, user_id, used, why).await?;
        if marked == links::Marked::Replaced {
            return Ok(Synced::NothingToDo("the link was refreshed elsewhere meanwhile"));
        }
        if marked == links::Marked::NowStale {
            let entry = AuditEntry {
                actor: Actor::Peeringdb,
                event: AuditEvent::PeeringdbLinkStale,
                user_id: Some(user_id),
                customer_id: None,
                details: json!({ "why": why, "source": Source::Peeringdb.as_str() }),
                ip: None,
            };
            audit::write_alone(&self.db, &entry).await?;
            tracing::info!(user_id, why, "PeeringDB link is stale");
        }
        Ok(Synced::Stale)
    }
}

/// How a sweep runs.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Users last synced before this are due; `None`: everyone linked.
    pub synced_before: Option<time::OffsetDateTime>,
    /// Links stale since before this lose their PeeringDB grants.
    pub stale_cutoff: time::OffsetDateTime,
    /// Only this user (`peerportal sync --user`).
    pub only: Option<i64>,
    /// At most this many users (the background sweep works in batches and
    /// renews its lease between them).
    pub limit: i64,
    pub dry_run: bool,
    /// Under a persistent 429 the sweep waits as PeeringDB asks, up to this
    /// long in all, then stops; waiting for the request budget likewise.
    pub give_up_after: std::time::Duration,
    /// The clock of the request budget at the start (the sweep's minutes
    /// follow from it as it runs).
    pub started: time::OffsetDateTime,
}

/// Requests one re-sync makes: refresh, profile, revoke the access token.
pub const REQUESTS_PER_RESYNC: i64 = 3;

/// What a sweep did.
#[derive(Debug, Default)]
pub struct SweepReport {
    pub synced: usize,
    pub changed: usize,
    pub stale: usize,
    pub nothing_to_do: usize,
    /// PeeringDB failed for these users (nothing was changed for them).
    pub errors: usize,
    /// Stale links past the grace whose PeeringDB grants were removed.
    pub grace_expired: usize,
    /// One line per user that changed (or would), became stale or failed.
    pub lines: Vec<String>,
    /// Why the sweep stopped early (PeeringDB kept answering 429).
    pub gave_up: Option<String>,
    /// How many users were due in this batch.
    pub batch: usize,
    /// Users left for later: the request budget was spent.
    pub deferred: usize,
}

impl Portal {
    /// Re-syncs every due user once, then withdraws the PeeringDB grants
    /// of links stale past the grace. PeeringDB errors skip a user; 429s
    /// are waited out (as `Retry-After` asks) up to `give_up_after`.
    pub async fn sweep(&self, opts: &SweepOptions) -> Result<SweepReport, SyncError> {
        let report = self.sweep_uncounted(opts).await?;
        if !opts.dry_run {
            self.metrics.resync_sweep(&[
                ("synced", report.synced as u64),
                ("changed", report.changed as u64),
                ("stale", report.stale as u64),
                ("nothing_to_do", report.nothing_to_do as u64),
                ("error", report.errors as u64),
                ("grace_expired", report.grace_expired as u64),
                ("deferred", report.deferred as u64),
            ]);
        }
        Ok(report)
    }

    async fn sweep_uncounted(&self, opts: &SweepOptions) -> Result<SweepReport, SyncError> {
        let mut report = SweepReport::default();
        let users = match opts.only {
            Some(id) => match links::due_one(&self.db, id).await? {
                Some(due) => vec![due],
                None => {
                    // Not linked, or no token: say why and sync no one.
                    if let Synced::NothingToDo(why) = self.resync_user(id, opts.dry_run).await? {
                        let name = users::by_id(&self.db, id).await?.map_or_else(|| format!("user {id}"), |u| u.username);
                        report.lines.push(format!("{name}: nothing to do ({why})"));
                    }
                    report.nothing_to_do += 1;
                    Vec::new()
                }
            },
            None => links::due(&self.db, opts.synced_before.unwrap_or_else(|| crate::store::now() + time::Duration::seconds(1)), opts.limit).await?,
        };
        let mut waited = std::time::Duration::ZERO;
        let users_len = users.len();
        let clock = std::time::Instant::now();
        let limit = i64::from(self.config.requests_per_minute);
        self.flush_login_requests().await?;
        for (done, due) in users.iter().enumerate() {
            // The budget first: what logins left this minute, else the next
            // minute, else stop and leave the rest for the next sweep.
            let mut granted = false;
            loop {
                let at = opts.started + clock.elapsed();
                if budget::take(&self.db, budget::minute_of(at), REQUESTS_PER_RESYNC, limit).await? {
                    granted = true;
                    break;
                }
                let to_next_minute = std::time::Duration::from_secs(60 - (at.unix_timestamp().rem_euclid(60)) as u64);
                let left = opts.give_up_after.saturating_sub(waited);
                if left < to_next_minute {
                    break;
                }
                tokio::time::sleep(to_next_minute).await;
                waited += to_next_minute;
            }
            if !granted {
                report.deferred = users_len - done;
                break;
            }
            let name = &due.username;
            loop {
                match self.resync(due, opts.dry_run).await {
                    Ok(Synced::Done { changes, skipped }) => {
                        report.synced += 1;
                        if !changes.is_empty() {
                            report.changed += 1;
                            let verb = if opts.dry_run { "would change" } else { "changed" };
                            report.lines.push(format!("{name}: {verb}: {}", changes.describe()));
                        }
                        if let Some(why) = skipped {
                            report.lines.push(format!("{name}: unchanged ({why})"));
                        }
                    }
                    Ok(Synced::Stale) => {
                        report.stale += 1;
                        report.lines.push(format!("{name}: link stale (PeeringDB refused the refresh token)"));
                    }
                    Ok(Synced::NothingToDo(why)) => {
                        report.nothing_to_do += 1;
                        if opts.only.is_some() {
                            report.lines.push(format!("{name}: nothing to do ({why})"));
                        }
                    }
                    Err(SyncError::PeeringDb(PeeringDbError::RateLimited { retry_after })) => {
                        let wait = std::time::Duration::from_secs(retry_after.unwrap_or(60));
                        let left = opts.give_up_after.saturating_sub(waited);
                        if left.is_zero() {
                            report.gave_up = Some(format!("PeeringDB kept answering 429 for {} s", waited.as_secs()));
                            return Ok(report);
                        }
                        let wait = wait.min(left);
                        tracing::info!(wait_s = wait.as_secs_f32(), "PeeringDB rate-limited the re-sync; waiting");
                        tokio::time::sleep(wait).await;
                        waited += wait;
                        continue;
                    }
                    Err(SyncError::PeeringDb(e)) => {
                        report.errors += 1;
                        report.lines.push(format!("{name}: PeeringDB could not be asked: {e}"));
                    }
                    Err(e) => return Err(e),
                }
                break;
            }
        }
        report.batch = users_len;
        if opts.only.is_none() {
            report.grace_expired = self.expire_stale(opts.stale_cutoff, opts.dry_run, &mut report.lines).await?;
        }
        if !opts.dry_run && opts.only.is_none() && (report.batch > 0 || report.grace_expired > 0) {
            let entry = AuditEntry {
                actor: Actor::Peeringdb,
                event: AuditEvent::PeeringdbSweep,
                user_id: None,
                customer_id: None,
                details: json!({ "synced": report.synced, "changed": report.changed, "stale": report.stale, "errors": report.errors,
                                 "grace_expired": report.grace_expired, "gave_up": report.gave_up }),
                ip: None,
            };
            audit::write_alone(&self.db, &entry).await?;
        }
        Ok(report)
    }

    /// Links stale since before `cutoff` lose their PeeringDB grants.
    async fn expire_stale(&self, cutoff: time::OffsetDateTime, dry_run: bool, lines: &mut Vec<String>) -> Result<usize, SyncError> {
        let users = links::stale_with_grants(&self.db, cutoff).await?;
        for &user_id in &users {
            let mut tx = self.db.begin().await?;
            let removed = access::peeringdb_grants_of_user(&mut tx, user_id, "PeeringDB link stale past the grace period", Actor::Peeringdb, None).await?;
            let ended = sessions::end_where_no_access(&mut tx, &[user_id]).await?;
            let verb = if dry_run { "would remove" } else { "removed" };
            lines.push(format!("user {user_id}: link stale past the grace: {verb} {}", removed.customers.join(", ")));
            if dry_run {
                continue;
            }
            audit::write_all(&mut tx, &removed.rows).await?;
            tx.commit().await?;
            tracing::info!(user_id, grants_removed = removed.rows.len(), sessions_ended = ended, "stale PeeringDB link past the grace");
        }
        Ok(users.len())
    }
}

/// The lease that lets one replica sweep at a time.
const LEASE: &str = "peeringdb-resync";
/// How long a lease holds without renewal; a batch takes far less.
const LEASE_TTL: time::Duration = time::Duration::minutes(5);
/// Users per batch between lease renewals.
const BATCH: i64 = 200;

/// What the background runner of one replica does every tick: take the
/// lease (or leave it to the replica that has it), sweep the due users in
/// batches, renewing between them, and give the lease back.
pub async fn background_tick(portal: &Portal, holder: &str, interval: std::time::Duration) -> Result<Option<SweepReport>, SyncError> {
    let mut total: Option<SweepReport> = None;
    budget::purge(&portal.db, budget::minute_of(crate::store::now()) - 60).await?;
    loop {
        let now = crate::store::now();
        if !crate::store::leases::acquire(&portal.db, LEASE, holder, now, now + LEASE_TTL).await? {
            return Ok(total);
        }
        let opts = SweepOptions {
            synced_before: Some(now - interval),
            stale_cutoff: now - portal.config.stale_grace,
            only: None,
            limit: BATCH,
            dry_run: false,
            give_up_after: std::time::Duration::from_secs(120),
            started: now,
        };
        let report = portal.sweep(&opts).await;
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                crate::store::leases::release(&portal.db, LEASE, holder).await?;
                return Err(e);
            }
        };
        let done = report.batch < BATCH as usize || report.gave_up.is_some() || report.deferred > 0;
        let t = total.get_or_insert_with(SweepReport::default);
        t.synced += report.synced;
        t.changed += report.changed;
        t.stale += report.stale;
        t.errors += report.errors;
        t.grace_expired += report.grace_expired;
        t.gave_up = report.gave_up;
        t.deferred = report.deferred;
        if done {
            crate::store::leases::release(&portal.db, LEASE, holder).await?;
            return Ok(total);
        }
    }
}
