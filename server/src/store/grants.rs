//! Affiliations: who may act for which customer, with what role, and who
//! vouches for it. Reading what the grant planner needs and applying its
//! plan; the manual grants of the console.

use std::collections::HashMap;

use app::console::{AccessEntry, Affiliation};
use app::Membership;
use domain::grants::{Customer, Existing, GrantPlan, PeeringdbGrant, Withdrawal};
use domain::{Role, Source};
use time::OffsetDateTime;

use super::{asn, asns_by_customer, fmt_time, json_list, now, word, Db, DbError, Tx};
use crate::{backend_sql, execute, with_db, with_tx};

/// The customers a user can act for, with their ASNs, by name: only
/// active ones (a suspended customer's grants stay, unusable).
pub async fn memberships(db: &Db, user_id: i64) -> Result<Vec<Membership>, DbError> {
    let sql = "SELECT c.id, c.name, c.shortname, a.role, a.source FROM affiliations a \
               JOIN customers c ON c.id = a.customer_id WHERE a.user_id = $1 AND c.status = 'active' ORDER BY c.name, c.id";
    let rows: Vec<(i64, String, String, String, String)> = with_db!(db, p => sqlx::query_as(sql).bind(user_id).fetch_all(p).await)?;
    let asn_sql = "SELECT ca.customer_id, ca.asn FROM customer_asns ca \
                   JOIN affiliations a ON a.customer_id = ca.customer_id WHERE a.user_id = $1 ORDER BY ca.asn";
    let asns: Vec<(i64, i64)> = with_db!(db, p => sqlx::query_as(asn_sql).bind(user_id).fetch_all(p).await)?;
    let mut by_customer = asns_by_customer(asns)?;
    rows.into_iter()
        .map(|(customer_id, name, shortname, role, source)| {
            Ok(Membership {
                asns: by_customer.remove(&customer_id).unwrap_or_default(),
                role: word(&role)?,
                source: word(&source)?,
                customer_id,
                name,
                shortname,
            })
        })
        .collect()
}

/// The rows the planner reads, with `$networks` (a subquery yielding the
/// person's ASNs from `$1`) spliced in at compile time. The UNION of the two
/// id sources lets both databases walk their indexes instead of an OR over
/// all customers; the user's affiliation is joined before the ASNs (SQLite
/// keeps LEFT JOINs in the order written): once per customer, not per ASN.
macro_rules! planning_rows {
    ($networks:literal) => {
        concat!(
            "SELECT c.id, c.name, c.type, c.status, c.peeringdb_login, c.peeringdb_max_role, c.peeringdb_require_mfa, ca.asn, a.role, a.source \
             FROM (SELECT customer_id FROM customer_asns WHERE asn IN (",
            $networks,
            ") UNION SELECT customer_id FROM affiliations WHERE user_id = $2) w \
             JOIN customers c ON c.id = w.customer_id \
             LEFT JOIN affiliations a ON a.customer_id = c.id AND a.user_id = $2 \
             JOIN customer_asns ca ON ca.customer_id = c.id"
        )
    };
}

/// The planning rows folded into one JSON value: one row to hand over
/// instead of one per (customer, ASN), with the customer names in it.
const PLANNING_SQLITE: &str = concat!(
    "SELECT json_group_array(json_array(id, name, type, status, peeringdb_login, peeringdb_max_role, peeringdb_require_mfa, asn, role, source)) FROM (",
    planning_rows!("SELECT value FROM json_each($1)"),
    ")"
);
const PLANNING_POSTGRES: &str = concat!(
    "SELECT COALESCE(json_agg(json_build_array(id, name, type, status, peeringdb_login::int, peeringdb_max_role, peeringdb_require_mfa::int, asn, role, source)), '[]')::text FROM (",
    planning_rows!("SELECT unnest($1::bigint[])"),
    ") p"
);

/// What the grant planner reads: the customers holding any of the
/// person's ASNs or affiliated with the user, the user's affiliations, and
/// the names of those customers (for the audit log and the notice).
#[derive(Debug, Default)]
pub struct Planning {
    pub customers: Vec<Customer>,
    pub existing: Vec<Existing>,
    pub names: HashMap<i64, String>,
}

impl Planning {
    pub fn name(&self, customer_id: i64) -> String {
        self.names.get(&customer_id).cloned().unwrap_or_else(|| format!("customer {customer_id}"))
    }
}

/// Everything the planner needs, in one statement returning one row.
pub async fn planning(tx: &mut Tx, asns: &[u32], user_id: Option<i64>) -> Result<Planning, DbError> {
    // id, name, type, status, peeringdb_login (0/1), max role, require MFA (0/1), asn, role, source
    type Row = (i64, String, String, String, i64, Option<String>, i64, i64, Option<String>, Option<String>);
    // The networks travel as one parameter (a JSON array for SQLite, an
    // array for PostgreSQL), so each backend prepares this statement once
    // instead of once per distinct list.
    let networks: Vec<i64> = asns.iter().map(|&a| i64::from(a)).collect();
    let user = user_id.unwrap_or(-1);
    let json: String = match tx {
        Tx::Sqlite(t) => sqlx::query_scalar(PLANNING_SQLITE).bind(json_list(&networks)).bind(user).fetch_one(&mut **t).await?,
        Tx::Postgres(t) => sqlx::query_scalar(PLANNING_POSTGRES).bind(&networks).bind(user).fetch_one(&mut **t).await?,
    };
    let mut rows: Vec<Row> = serde_json::from_str(&json).map_err(|e| DbError::Corrupt(format!("planning rows: {e}")))?;
    // An aggregate's order is the database's choice: sort here.
    rows.sort_unstable_by_key(|r| (r.0, r.7));
    let mut out = Planning::default();
    for (id, name, kind, status, peeringdb_login, max_role, require_mfa, number, role, source) in rows {
        match out.customers.last_mut() {
            Some(last) if last.id == id => last.asns.push(asn(number)?),
            _ => {
                if let (Some(role), Some(source)) = (&role, &source) {
                    out.existing.push(Existing { customer_id: id, role: word(role)?, source: word(source)? });
                }
                out.names.insert(id, name);
                out.customers.push(Customer {
                    id,
                    asns: vec![asn(number)?],
                    kind: word(&kind)?,
                    status: word(&status)?,
                    peeringdb_login: peeringdb_login != 0,
                    max_role: max_role.as_deref().map(word).transpose()?,
                    require_mfa: require_mfa != 0,
                })
            }
        }
    }
    Ok(out)
}

/// Applies a grant plan. Rows are touched only where still `peeringdb`, so
/// a manual grant made meanwhile by an admin is never overwritten. Each kind
/// of change is one statement whatever its size: the rows travel as one
/// JSON parameter.
pub async fn apply_plan(tx: &mut Tx, user_id: i64, plan: &GrantPlan) -> Result<(), DbError> {
    let at = now();
    if !plan.add.is_empty() {
        let rows = serde_json::Value::from_iter(plan.add.iter().map(|(c, r)| serde_json::json!([c, r.as_str()]))).to_string();
        let sql = backend_sql!(tx,
            sqlite: "INSERT INTO affiliations (user_id, customer_id, role, source, created_at, updated_at) \
                     SELECT $1, value ->> 0, value ->> 1, 'peeringdb', $2, $2 FROM json_each($3) WHERE true \
                     ON CONFLICT (user_id, customer_id) DO NOTHING",
            postgres: "INSERT INTO affiliations (user_id, customer_id, role, source, created_at, updated_at) \
                       SELECT $1, (e ->> 0)::bigint, e ->> 1, 'peeringdb', $2, $2 FROM jsonb_array_elements($3::text::jsonb) e \
                       ON CONFLICT (user_id, customer_id) DO NOTHING");
        execute!(tx, sqlx::query(sql).bind(user_id).bind(at).bind(&rows))?;
    }
    // One statement per role changed to, whatever roles there are.
    let mut changed_to: std::collections::BTreeMap<Role, Vec<i64>> = std::collections::BTreeMap::new();
    for (customer_id, _, role) in &plan.change_role {
        changed_to.entry(*role).or_default().push(*customer_id);
    }
    for (role, ids) in changed_to {
        let sql = backend_sql!(tx,
            sqlite: "UPDATE affiliations SET role = $1, updated_at = $2 \
                     WHERE user_id = $3 AND source = 'peeringdb' AND customer_id IN (SELECT value FROM json_each($4))",
            postgres: "UPDATE affiliations SET role = $1, updated_at = $2 \
                       WHERE user_id = $3 AND source = 'peeringdb' AND customer_id IN (SELECT (jsonb_array_elements_text($4::text::jsonb))::bigint)");
        execute!(tx, sqlx::query(sql).bind(role.as_str()).bind(at).bind(user_id).bind(json_list(&ids)))?;
    }
    if !plan.remove.is_empty() {
        let sql = backend_sql!(tx,
            sqlite: "DELETE FROM affiliations WHERE user_id = $1 AND source = 'peeringdb' AND customer_id IN (SELECT value FROM json_each($2))",
            postgres: "DELETE FROM affiliations WHERE user_id = $1 AND source = 'peeringdb' \
                       AND customer_id IN (SELECT (jsonb_array_elements_text($2::text::jsonb))::bigint)");
        execute!(tx, sqlx::query(sql).bind(user_id).bind(json_list(&plan.remove)))?;
    }
    Ok(())
}

/// Grants a user access to a customer by hand (source `manual`); a
/// PeeringDB grant of the same customer becomes manual.
pub async fn grant_manual(tx: &mut Tx, user_id: i64, customer_id: i64, role: Role) -> Result<(), DbError> {
    let sql = "INSERT INTO affiliations (user_id, customer_id, role, source, created_at, updated_at) \
               VALUES ($1, $2, $3, 'manual', $4, $4) \
               ON CONFLICT (user_id, customer_id) DO UPDATE SET role = excluded.role, source = 'manual', updated_at = excluded.updated_at";
    execute!(tx, sqlx::query(sql).bind(user_id).bind(customer_id).bind(role.as_str()).bind(now()))?;
    Ok(())
}

/// The role and source of one affiliation, if it exists.
pub async fn affiliation(tx: &mut Tx, user_id: i64, customer_id: i64) -> Result<Option<(Role, Source)>, DbError> {
    let sql = "SELECT role, source FROM affiliations WHERE user_id = $1 AND customer_id = $2";
    let row: Option<(String, String)> = with_tx!(tx, c => sqlx::query_as(sql).bind(user_id).bind(customer_id).fetch_optional(c).await)?;
    row.map(|(r, s)| Ok((word(&r)?, word(&s)?))).transpose()
}

/// Removes a grant an admin made. PeeringDB grants are not removed here:
/// the next login would bring them back, so the honest switch is the
/// customer's or the user's PeeringDB opt-out.
pub async fn revoke_manual(tx: &mut Tx, user_id: i64, customer_id: i64) -> Result<bool, DbError> {
    let sql = "DELETE FROM affiliations WHERE user_id = $1 AND customer_id = $2 AND source = 'manual'";
    Ok(execute!(tx, sqlx::query(sql).bind(user_id).bind(customer_id))? > 0)
}

/// The customers among `ids` that have PeeringDB grants, each as the
/// planner sees it (without ASNs: a withdrawal does not need them) with
/// those grants.
pub async fn peeringdb_grants_on(tx: &mut Tx, ids: &[i64]) -> Result<Vec<(Customer, Vec<PeeringdbGrant>)>, DbError> {
    type Row = (i64, String, String, bool, Option<String>, bool, i64, String, bool);
    let sql = backend_sql!(tx,
        sqlite: "SELECT c.id, c.type, c.status, c.peeringdb_login, c.peeringdb_max_role, c.peeringdb_require_mfa, a.user_id, a.role, COALESCE(l.mfa, FALSE) \
                 FROM affiliations a JOIN customers c ON c.id = a.customer_id LEFT JOIN peeringdb_links l ON l.user_id = a.user_id \
                 WHERE a.source = 'peeringdb' \
                 AND a.customer_id IN (SELECT value FROM json_each($1)) ORDER BY c.id, a.user_id",
        postgres: "SELECT c.id, c.type, c.status, c.peeringdb_login, c.peeringdb_max_role, c.peeringdb_require_mfa, a.user_id, a.role, COALESCE(l.mfa, FALSE) \
                   FROM affiliations a JOIN customers c ON c.id = a.customer_id LEFT JOIN peeringdb_links l ON l.user_id = a.user_id \
                   WHERE a.source = 'peeringdb' \
                   AND a.customer_id IN (SELECT (jsonb_array_elements_text($1::text::jsonb))::bigint) ORDER BY c.id, a.user_id");
    let rows: Vec<Row> = with_tx!(tx, c => sqlx::query_as(sql).bind(json_list(ids)).fetch_all(c).await)?;
    let mut out: Vec<(Customer, Vec<PeeringdbGrant>)> = Vec::new();
    for (id, kind, status, peeringdb_login, max_role, require_mfa, user_id, role, mfa) in rows {
        if out.last().is_none_or(|(c, _)| c.id != id) {
            let customer = Customer {
                id,
                asns: Vec::new(),
                kind: word(&kind)?,
                status: word(&status)?,
                peeringdb_login,
                max_role: max_role.as_deref().map(word).transpose()?,
                require_mfa,
            };
            out.push((customer, Vec::new()));
        }
        if let Some((_, grants)) = out.last_mut() {
            grants.push(PeeringdbGrant { user_id, role: word(&role)?, mfa });
        }
    }
    Ok(out)
}

/// Applies a withdrawal to the PeeringDB grants on one customer.
pub async fn apply_withdrawal(tx: &mut Tx, customer_id: i64, w: &Withdrawal) -> Result<(), DbError> {
    let at = now();
    if !w.remove.is_empty() {
        let sql = backend_sql!(tx,
            sqlite: "DELETE FROM affiliations WHERE customer_id = $1 AND source = 'peeringdb' AND user_id IN (SELECT value FROM json_each($2))",
            postgres: "DELETE FROM affiliations WHERE customer_id = $1 AND source = 'peeringdb' \
                       AND user_id IN (SELECT (jsonb_array_elements_text($2::text::jsonb))::bigint)");
        execute!(tx, sqlx::query(sql).bind(customer_id).bind(json_list(&w.remove)))?;
    }
    for (user_id, _, to) in &w.lower {
        let sql = "UPDATE affiliations SET role = $1, updated_at = $2 WHERE customer_id = $3 AND user_id = $4 AND source = 'peeringdb'";
        execute!(tx, sqlx::query(sql).bind(to.as_str()).bind(at).bind(customer_id).bind(user_id))?;
    }
    Ok(())
}

/// Everyone with any grant on one of `ids`.
pub async fn users_of(tx: &mut Tx, ids: &[i64]) -> Result<Vec<i64>, DbError> {
    let sql = backend_sql!(tx,
        sqlite: "SELECT DISTINCT user_id FROM affiliations WHERE customer_id IN (SELECT value FROM json_each($1)) ORDER BY user_id",
        postgres: "SELECT DISTINCT user_id FROM affiliations \
                   WHERE customer_id IN (SELECT (jsonb_array_elements_text($1::text::jsonb))::bigint) ORDER BY user_id");
    Ok(with_tx!(tx, c => sqlx::query_scalar(sql).bind(json_list(ids)).fetch_all(c).await)?)
}

/// Removes every grant PeeringDB gave a user; returns those customers.
pub async fn remove_peeringdb_grants(tx: &mut Tx, user_id: i64) -> Result<Vec<i64>, DbError> {
    let sql = "DELETE FROM affiliations WHERE user_id = $1 AND source = 'peeringdb' RETURNING customer_id";
    Ok(with_tx!(tx, c => sqlx::query_scalar(sql).bind(user_id).fetch_all(c).await)?)
}

/// Removes every grant of a user, manual and PeeringDB alike; returns
/// what went, in customer order.
pub async fn remove_all_of(tx: &mut Tx, user_id: i64) -> Result<Vec<(i64, Role, Source)>, DbError> {
    let sql = "DELETE FROM affiliations WHERE user_id = $1 RETURNING customer_id, role, source";
    let mut rows: Vec<(i64, String, String)> = with_tx!(tx, c => sqlx::query_as(sql).bind(user_id).fetch_all(c).await)?;
    rows.sort_unstable();
    rows.into_iter().map(|(customer_id, role, source)| Ok((customer_id, word(&role)?, word(&source)?))).collect()
}

/// Every customer a user has access to, with role, source and dates.
pub async fn affiliations_of(db: &Db, user_id: i64) -> Result<Vec<Affiliation>, DbError> {
    type Row = (i64, String, String, String, String, String, OffsetDateTime, OffsetDateTime);
    let sql = "SELECT c.id, c.name, c.shortname, c.status, a.role, a.source, a.created_at, a.updated_at FROM affiliations a \
               JOIN customers c ON c.id = a.customer_id WHERE a.user_id = $1 ORDER BY c.name, c.id";
    let rows: Vec<Row> = with_db!(db, p => sqlx::query_as(sql).bind(user_id).fetch_all(p).await)?;
    rows.into_iter()
        .map(|(customer_id, customer, shortname, status, role, source, created, updated)| {
            Ok(Affiliation {
                customer_status: word(&status)?,
                role: word(&role)?,
                source: word(&source)?,
                created_at: fmt_time(created),
                updated_at: fmt_time(updated),
                customer_id,
                customer,
                shortname,
            })
        })
        .collect()
}

/// Who has access to a customer, admins first.
pub async fn access_to(db: &Db, customer_id: i64) -> Result<Vec<AccessEntry>, DbError> {
    type Row = (i64, String, String, String, String, String, OffsetDateTime, Option<OffsetDateTime>, Option<OffsetDateTime>, Option<String>);
    let sql = "SELECT u.id, u.username, u.name, u.email, a.role, a.source, a.created_at, l.last_synced_at, u.last_login_at, \
               (SELECT iu.name FROM invitations i JOIN users iu ON iu.id = i.invited_by \
                WHERE i.accepted_by = u.id AND i.customer_id = a.customer_id ORDER BY i.id DESC LIMIT 1) \
               FROM affiliations a JOIN users u ON u.id = a.user_id LEFT JOIN peeringdb_links l ON l.user_id = u.id \
               WHERE a.customer_id = $1 ORDER BY a.role, u.username";
    let rows: Vec<Row> = with_db!(db, p => sqlx::query_as(sql).bind(customer_id).fetch_all(p).await)?;
    rows.into_iter()
        .map(|(user_id, username, name, email, role, source, since, synced, login, inviter)| {
            let source: Source = word(&source)?;
            let why = match (source, inviter) {
                (Source::Peeringdb, _) => match synced.max(login) {
                    Some(at) => format!("PeeringDB lists them in one of this customer's networks (last checked {})", fmt_time(at)),
                    None => "PeeringDB lists them in one of this customer's networks".to_string(),
                },
                (Source::Manual, Some(inviter)) => format!("Invited by {inviter}"),
                (Source::Manual, None) => "Granted by hand".to_string(),
            };
            Ok(AccessEntry { role: word(&role)?, source, since: fmt_time(since), why, user_id, username, name, email })
        })
        .collect()
}

/// (users linked to PeeringDB, PeeringDB grants, customers opted out).
pub async fn peeringdb_counts(db: &Db) -> Result<(i64, i64, i64), DbError> {
    let sql = "SELECT (SELECT COUNT(*) FROM users WHERE peeringdb_id IS NOT NULL), \
               (SELECT COUNT(*) FROM affiliations WHERE source = 'peeringdb'), \
               (SELECT COUNT(*) FROM customers WHERE NOT peeringdb_login)";
    Ok(with_db!(db, p => sqlx::query_as(sql).fetch_one(p).await)?)
}
