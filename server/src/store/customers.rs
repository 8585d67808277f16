//! Customers and their ASNs. Lists are paged in SQL (LIMIT/OFFSET on an
//! indexed order) so they stay fast at 10 000 customers.

use std::collections::HashMap;

use app::console::CustomerItem;
use domain::customer::ValidCustomer;
use domain::Role;

use super::users::contains_pattern;
use super::{asns_by_customer, now, word, Db, DbError, Tx};
use crate::{backend_sql, execute, with_db, with_tx};

#[derive(sqlx_macros::FromRow)]
struct CustomerRecord {
    id: i64,
    name: String,
    shortname: String,
    #[sqlx(rename = "type")]
    kind: String,
    status: String,
    peeringdb_login: bool,
    peeringdb_max_role: Option<String>,
    peeringdb_require_mfa: bool,
    peeringdb_locked: bool,
    users: i64,
}

const CUSTOMER_SELECT: &str = "SELECT c.id, c.name, c.shortname, c.type, c.status, c.peeringdb_login, c.peeringdb_max_role, c.peeringdb_require_mfa, \
     c.peeringdb_locked, (SELECT COUNT(*) FROM affiliations a WHERE a.customer_id = c.id) AS users FROM customers c";

/// Text search: name or shortname contains the words.
const CUSTOMER_BY_TEXT: &str = "($1 = '' OR LOWER(c.name) LIKE $2 ESCAPE '\\' OR c.shortname LIKE $2 ESCAPE '\\')";
/// `64500` or `AS64500`: the customers holding that ASN (through its
/// index), or whose shortname has those digits; names are not scanned.
const CUSTOMER_BY_ASN: &str =
    "(c.id IN (SELECT customer_id FROM customer_asns WHERE asn = $3) OR c.shortname = $1 OR c.shortname LIKE $2 ESCAPE '\\')";

/// "AS64500" or "64500" as a number, for searching by ASN.
fn as_asn(q: &str) -> Option<i64> {
    let digits = q.strip_prefix("AS").or_else(|| q.strip_prefix("as")).unwrap_or(q);
    digits.parse::<u32>().map(i64::from).ok()
}

async fn with_asns(db: &Db, rows: Vec<CustomerRecord>) -> Result<Vec<CustomerItem>, DbError> {
    let mut asns = HashMap::new();
    if !rows.is_empty() {
        let ids = rows.iter().map(|r| r.id.to_string()).collect::<Vec<_>>().join(",");
        let sql = format!("SELECT customer_id, asn FROM customer_asns WHERE customer_id IN ({ids}) ORDER BY asn");
        let pairs: Vec<(i64, i64)> = with_db!(db, p => sqlx::query_as(&sql).fetch_all(p).await)?;
        asns = asns_by_customer(pairs)?;
    }
    rows.into_iter()
        .map(|r| {
            Ok(CustomerItem {
                asns: asns.remove(&r.id).unwrap_or_default(),
                kind: word(&r.kind)?,
                status: word(&r.status)?,
                peeringdb_max_role: r.peeringdb_max_role.as_deref().map(word).transpose()?,
                id: r.id,
                name: r.name,
                shortname: r.shortname,
                peeringdb_login: r.peeringdb_login,
                peeringdb_require_mfa: r.peeringdb_require_mfa,
                peeringdb_locked: r.peeringdb_locked,
                users: r.users,
            })
        })
        .collect()
}

/// Customers by name, filtered by name, shortname or ASN, one page.
pub async fn search(db: &Db, q: &str, limit: i64, offset: i64) -> Result<(Vec<CustomerItem>, i64), DbError> {
    let q = q.trim();
    let pattern = contains_pattern(q);
    let asn = as_asn(q);
    let search = if asn.is_some() { CUSTOMER_BY_ASN } else { CUSTOMER_BY_TEXT };
    let asn = asn.unwrap_or(-1);
    let sql = format!("{CUSTOMER_SELECT} WHERE {search} ORDER BY c.name, c.id LIMIT $4 OFFSET $5");
    let rows = with_db!(db, p => sqlx::query_as::<_, CustomerRecord>(&sql)
        .bind(q).bind(&pattern).bind(asn).bind(limit).bind(offset).fetch_all(p).await)?;
    let count_sql = format!("SELECT COUNT(*) FROM customers c WHERE {search}");
    let total: i64 = with_db!(db, p => sqlx::query_scalar(&count_sql).bind(q).bind(&pattern).bind(asn).fetch_one(p).await)?;
    Ok((with_asns(db, rows).await?, total))
}

/// Every customer, by name (the CLI's listing).
pub async fn all(db: &Db) -> Result<Vec<CustomerItem>, DbError> {
    let sql = format!("{CUSTOMER_SELECT} ORDER BY c.name, c.id");
    let rows = with_db!(db, p => sqlx::query_as::<_, CustomerRecord>(&sql).fetch_all(p).await)?;
    with_asns(db, rows).await
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<CustomerItem>, DbError> {
    let sql = format!("{CUSTOMER_SELECT} WHERE c.id = $1");
    let rows = with_db!(db, p => sqlx::query_as::<_, CustomerRecord>(&sql).bind(id).fetch_all(p).await)?;
    Ok(with_asns(db, rows).await?.pop())
}

pub async fn id_by_shortname(db: &Db, shortname: &str) -> Result<Option<i64>, DbError> {
    Ok(with_db!(db, p => sqlx::query_scalar("SELECT id FROM customers WHERE shortname = $1").bind(shortname.trim()).fetch_optional(p).await)?)
}

/// Every shortname with its customer's id (an import's create-or-update).
pub async fn ids_by_shortname(db: &Db) -> Result<HashMap<String, i64>, DbError> {
    let rows: Vec<(String, i64)> = with_db!(db, p => sqlx::query_as("SELECT shortname, id FROM customers").fetch_all(p).await)?;
    Ok(rows.into_iter().collect())
}

pub async fn names(tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, String>, DbError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!("SELECT id, name FROM customers WHERE id IN ({list})");
    let rows: Vec<(i64, String)> = with_tx!(tx, c => sqlx::query_as(&sql).fetch_all(c).await)?;
    Ok(rows.into_iter().collect())
}

/// What a save does to the customer's PeeringDB role cap and MFA
/// requirement: the console's form sets them, a CSV import (which has no
/// such columns) leaves them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeeringDbRules {
    Set { max_role: Option<Role>, require_mfa: bool },
    Keep,
}

/// The one writer of customers: creates one (`id = None`) or updates one,
/// and replaces its ASNs. `Ok(None)` when the id to update does not exist.
pub async fn save(tx: &mut Tx, id: Option<i64>, c: &ValidCustomer, rules: PeeringDbRules) -> Result<Option<i64>, DbError> {
    let at = now();
    let (set, max_role, require_mfa) = match rules {
        PeeringDbRules::Set { max_role, require_mfa } => (true, max_role.map(Role::as_str), require_mfa),
        PeeringDbRules::Keep => (false, None, false),
    };
    let id = match id {
        Some(id) => {
            let sql = "UPDATE customers SET name = $1, shortname = $2, type = $3, status = $4, peeringdb_login = $5, \
                       peeringdb_max_role = CASE WHEN $6 THEN $7 ELSE peeringdb_max_role END, \
                       peeringdb_require_mfa = CASE WHEN $6 THEN $10 ELSE peeringdb_require_mfa END, updated_at = $8 WHERE id = $9";
            let n = execute!(tx, sqlx::query(sql).bind(c.name.as_str()).bind(c.shortname.as_str()).bind(c.kind.as_str())
                .bind(c.status.as_str()).bind(c.peeringdb_login).bind(set).bind(max_role).bind(at).bind(id).bind(require_mfa))?;
            if n == 0 {
                return Ok(None);
            }
            execute!(tx, sqlx::query("DELETE FROM customer_asns WHERE customer_id = $1").bind(id))?;
            id
        }
        None => {
            let sql = "INSERT INTO customers (name, shortname, type, status, peeringdb_login, peeringdb_max_role, peeringdb_require_mfa, \
                       created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $7) RETURNING id";
            with_tx!(tx, x => sqlx::query_scalar(sql).bind(c.name.as_str()).bind(c.shortname.as_str()).bind(c.kind.as_str())
                .bind(c.status.as_str()).bind(c.peeringdb_login).bind(max_role).bind(at).bind(require_mfa).fetch_one(x).await)?
        }
    };
    let asns: Vec<i64> = c.asns.iter().map(|a| i64::from(a.get())).collect();
    let sql = backend_sql!(tx,
        sqlite: "INSERT INTO customer_asns (customer_id, asn) SELECT $1, value FROM json_each($2)",
        postgres: "INSERT INTO customer_asns (customer_id, asn) SELECT $1, (jsonb_array_elements_text($2::text::jsonb))::bigint");
    execute!(tx, sqlx::query(sql).bind(id).bind(super::json_list(&asns)))?;
    Ok(Some(id))
}

/// Sets whether a customer requires a second factor of its people's
/// PeeringDB logins; false when there is no such customer.
pub async fn set_require_mfa(tx: &mut Tx, id: i64, require: bool) -> Result<bool, DbError> {
    let sql = "UPDATE customers SET peeringdb_require_mfa = $1, updated_at = $2 WHERE id = $3";
    Ok(execute!(tx, sqlx::query(sql).bind(require).bind(now()).bind(id))? > 0)
}

/// Whether the customer's admins may change its PeeringDB settings (the
/// operator's lock); false when there is no such customer.
pub async fn set_peeringdb_locked(tx: &mut Tx, id: i64, locked: bool) -> Result<bool, DbError> {
    let sql = "UPDATE customers SET peeringdb_locked = $1, updated_at = $2 WHERE id = $3";
    Ok(execute!(tx, sqlx::query(sql).bind(locked).bind(now()).bind(id))? > 0)
}

/// A customer's admins set PeeringDB login on or off and its role cap;
/// false when there is no such customer or the operator locked the choice
/// (which `operator` overrides).
pub async fn set_own_peeringdb(tx: &mut Tx, id: i64, login: bool, max_role: Option<domain::Role>, operator: bool) -> Result<bool, DbError> {
    let sql = "UPDATE customers SET peeringdb_login = $1, peeringdb_max_role = $2, updated_at = $3 WHERE id = $4 AND (NOT peeringdb_locked OR $5)";
    Ok(execute!(tx, sqlx::query(sql).bind(login).bind(max_role.map(|r| r.as_str())).bind(now()).bind(id).bind(operator))? > 0)
}

/// Deletes a customer; its ASNs and affiliations go with it (cascade).
/// Returns how many people lost access, or `None` when there was no such customer.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<Option<i64>, DbError> {
    let users: i64 = with_tx!(tx, x => sqlx::query_scalar("SELECT COUNT(*) FROM affiliations WHERE customer_id = $1").bind(id).fetch_one(x).await)?;
    let n = execute!(tx, sqlx::query("DELETE FROM customers WHERE id = $1").bind(id))?;
    Ok((n > 0).then_some(users))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asn_searches_accept_the_as_prefix() {
        assert_eq!(as_asn("AS64500"), Some(64500));
        assert_eq!(as_asn("64500"), Some(64500));
        assert_eq!(as_asn("alpha"), None);
    }
}
