//! Access withdrawn at once: when the IXP changes a customer or a user, the
//! PeeringDB grants that no longer hold go in the same transaction as the
//! change (manual grants stay), and the sessions of people left without an
//! active customer end. Nobody has to log in again for it to be true.

use domain::grants::withdraw;
use domain::{Actor, AuditEvent, Source};
use serde_json::json;

use crate::store::audit::AuditEntry;
use crate::store::{customers, grants, sessions, DbError, Tx};

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
            let details = json!({ "customer": name, "source": Source::Peeringdb.as_str(), "from": from.as_str(), "to": to.as_str(), "why": w.why });
            out.rows.push(AuditEntry { actor, event: AuditEvent::GrantChanged, user_id: Some(*user_id), customer_id: Some(*customer_id), details, ip });
        }
        out.grants_removed += w.remove.len();
        out.grants_lowered += w.lower.len();
    }
    out.sessions_ended = sessions::end_where_no_access(tx, affected).await?;
    Ok(out)
}

/// Removes every PeeringDB grant of a user the IXP (or the person) took
/// out of PeeringDB's hands: disabled, unlinked, opted out, or reported
/// unverified by PeeringDB. Sessions are the caller's choice.
pub async fn peeringdb_grants_of_user<'a>(
    tx: &mut Tx,
    user_id: i64,
    why: &'static str,
    actor: Actor,
    ip: Option<&'a str>,
) -> Result<Vec<AuditEntry<'a>>, DbError> {
    let removed = grants::remove_peeringdb_grants(tx, user_id).await?;
    let names = customers::names(tx, &removed).await?;
    Ok(removed
        .iter()
        .map(|customer_id| {
            let details = json!({ "customer": names.get(customer_id), "source": Source::Peeringdb.as_str(), "why": why });
            AuditEntry { actor, event: AuditEvent::GrantRemoved, user_id: Some(user_id), customer_id: Some(*customer_id), details, ip }
        })
        .collect())
}
