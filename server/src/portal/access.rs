//! Access withdrawn at once: when the IXP changes a customer or a user, the
//! PeeringDB grants that no longer hold go in the same transaction as the
//! change (manual grants stay), and the sessions of people left without an
//! active customer end. Nobody has to log in again for it to be true.

use domain::grants::withdraw;
use domain::{Actor, AuditEvent, Source};
use serde_json::json;

use crate::store::audit::AuditEntry;
use crate::store::{customers, grants, links, sessions, DbError, Tx};

/// What a withdrawal did, for the change's own audit row and the caller.
#[derive(Default)]
pub struct Withdrawn<'a> {
    /// One `grant.removed` / `grant.changed` row per grant touched.
    pub rows: Vec<AuditEntry<'a>>,
    pub grants_removed: usize,
    pub grants_lowered: usize,
    pub sessions_ended: u64,
}

/// Brings the PeeringDB grants on `customer_ids` in line with those
/// customers as they are now in `tx`, and ends the sessions of `affected`
/// users (everyone who had a grant on them before the change) who can no
/// longer act for any active customer.
pub async fn after_customer_change<'a>(
    tx: &mut Tx,
    customer_ids: &[i64],
    affected: &[i64],
    actor: Actor,
    ip: Option<&'a str>,
) -> Result<Withdrawn<'a>, DbError> {
    let mut out = Withdrawn::default();
    let on = grants::peeringdb_grants_on(tx, customer_ids).await?;
    let mut touched = Vec::new();
    for (customer, holders) in &on {
        let w = withdraw(customer, holders);
        if w.is_noop() {
            continue;
        }
        grants::apply_withdrawal(tx, customer.id, &w).await?;
        touched.push((customer.id, w));
    }
    let ids: Vec<i64> = touched.iter().map(|(id, _)| *id).collect();
    let names = customers::names(tx, &ids).await?;
    for (customer_id, w) in &touched {
        let name = names.get(customer_id);
        for user_id in &w.remove {
            let details = json!({ "customer": name, "source": Source::Peeringdb.as_str(), "why": w.why });
            out.rows.push(AuditEntry { actor, event: AuditEvent::GrantRemoved, user_id: Some(*user_id), customer_id: Some(*customer_id), details, ip });
        }
        for (user_id, from, to) in &w.lower {
            let details = json!({ "customer": name, "source": Source::Peeringdb.as_str(), "from": from.as_str(), "to": to.as_str(), "why": domain::grants::CAPPED });
            out.rows.push(AuditEntry { actor, event: AuditEvent::GrantChanged, user_id: Some(*user_id), customer_id: Some(*customer_id), details, ip });
        }
        out.grants_removed += w.remove.len();
        out.grants_lowered += w.lower.len();
    }
    out.sessions_ended = sessions::end_where_no_access(tx, affected).await?;
    Ok(out)
}

/// Commits a customer's change made in `tx` with its audit row (`change`,
/// to which what the withdrawal did is added) and the withdrawal's rows.
pub async fn commit_customer_change(mut tx: Tx, mut change: AuditEntry<'_>, withdrawn: Withdrawn<'_>) -> Result<(), app::AppError> {
    change.details["access_removed"] = json!(withdrawn.grants_removed);
    change.details["roles_lowered"] = json!(withdrawn.grants_lowered);
    change.details["sessions_ended"] = json!(withdrawn.sessions_ended);
    let mut rows = vec![change];
    rows.extend(withdrawn.rows);
    crate::store::audit::write_all(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(())
}

/// A user's PeeringDB grants that went: their audit rows (to write with
/// the change) and the customers' names (to report).
pub struct Removed<'a> {
    pub rows: Vec<AuditEntry<'a>>,
    pub customers: Vec<String>,
}

/// Removes every PeeringDB grant of a user the IXP (or the person) took
/// out of PeeringDB's hands: disabled, unlinked, opted out, reported
/// unverified by PeeringDB, or stale past the grace. Sessions are the
/// caller's choice.
pub async fn peeringdb_grants_of_user<'a>(
    tx: &mut Tx,
    user_id: i64,
    why: &'static str,
    actor: Actor,
    ip: Option<&'a str>,
) -> Result<Removed<'a>, DbError> {
    let removed = grants::remove_peeringdb_grants(tx, user_id).await?;
    let mut names = customers::names(tx, &removed).await?;
    let mut out = Removed { rows: Vec::with_capacity(removed.len()), customers: Vec::with_capacity(removed.len()) };
    for customer_id in removed {
        let name = names.remove(&customer_id);
        let details = json!({ "customer": name, "source": Source::Peeringdb.as_str(), "why": why });
        out.rows.push(AuditEntry { actor, event: AuditEvent::GrantRemoved, user_id: Some(user_id), customer_id: Some(customer_id), details, ip });
        out.customers.extend(name);
    }
    Ok(out)
}

/// PeeringDB no longer verifies a linked person (at a login or a re-sync):
/// their PeeringDB grants and every session go. The link stays, so a
/// later verification restores access. Returns the sessions ended.
pub async fn unverified<'a>(tx: &mut Tx, user_id: i64, ip: Option<&'a str>) -> Result<(Removed<'a>, u64), DbError> {
    let removed = peeringdb_grants_of_user(tx, user_id, "PeeringDB no longer verifies the person", Actor::Peeringdb, ip).await?;
    let ended = sessions::end_all_of(tx, user_id).await?;
    Ok((removed, ended))
}

/// PeerPortal stops speaking to PeeringDB for a user (disabled, unlinked,
/// opted out): their PeeringDB grants go and the link's refresh token is
/// forgotten. The sealed token comes back for the caller to revoke
/// (`Portal::revoke_sealed_later`) once the transaction is committed.
pub async fn let_go<'a>(
    tx: &mut Tx,
    user_id: i64,
    why: &'static str,
    actor: Actor,
    ip: Option<&'a str>,
) -> Result<(Removed<'a>, Option<String>), DbError> {
    let removed = peeringdb_grants_of_user(tx, user_id, why, actor, ip).await?;
    let refresh = links::take_refresh(tx, user_id).await?;
    Ok((removed, refresh))
}
