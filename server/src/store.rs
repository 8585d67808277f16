//! Queries, one function each, in SQL that runs on SQLite and PostgreSQL.
//! Reads take the pool; writes take an open transaction so that callers
//! decide what commits together.

use std::collections::HashMap;

use app::{Membership, Role, Source};
use time::OffsetDateTime;

use crate::db::{now, Db, DbError, Tx};
use crate::{with_db, with_tx, write_db};

/// The one of two SQL texts that fits the transaction's backend, for the
/// few statements whose dialects differ (JSON and array parameters).
macro_rules! backend_sql {
    ($tx:expr, sqlite: $sqlite:expr, postgres: $postgres:expr) => {
        match $tx {
            Tx::Sqlite(..) => $sqlite,
            Tx::Postgres(_) => $postgres,
        }
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub is_superadmin: bool,
    pub disabled: bool,
    pub peeringdb_id: Option<i64>,
    pub peeringdb_login_allowed: bool,
    pub created_via: String,
    pub created_at: OffsetDateTime,
    pub last_login_at: Option<OffsetDateTime>,
    pub last_login_via: Option<String>,
}

const USER_COLUMNS: &str = "id, username, name, email, password_hash, is_superadmin, disabled, peeringdb_id, \
     peeringdb_login_allowed, created_via, created_at, last_login_at, last_login_via";

pub async fn user_by_username(db: &Db, username: &str) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
    let username = username.to_lowercase();
    Ok(with_db!(db, p => sqlx::query_as::<_, UserRow>(&sql).bind(&username).fetch_optional(p).await)?)
}

pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    Ok(with_db!(db, p => sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(p).await)?)
}

pub async fn list_users(db: &Db) -> Result<Vec<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
    Ok(with_db!(db, p => sqlx::query_as::<_, UserRow>(&sql).fetch_all(p).await)?)
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub is_superadmin: bool,
    pub created_via: &'a str,
}

pub async fn insert_user(tx: &mut Tx, u: &NewUser<'_>) -> Result<i64, DbError> {
    let sql = "INSERT INTO users (username, name, email, password_hash, is_superadmin, created_via, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    let username = u.username.to_lowercase();
    let id: i64 = with_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(&username).bind(u.name).bind(u.email).bind(u.password_hash)
        .bind(u.is_superadmin).bind(u.created_via).bind(now())
        .fetch_one(c).await)?;
    Ok(id)
}

pub async fn record_login(tx: &mut Tx, user_id: i64, via: &str) -> Result<(), DbError> {
    let sql = "UPDATE users SET last_login_at = $1, last_login_via = $2 WHERE id = $3";
    with_tx!(tx, c => sqlx::query(sql).bind(now()).bind(via).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The customers a user can act for, with their ASNs, by name.
pub async fn memberships(db: &Db, user_id: i64) -> Result<Vec<Membership>, DbError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        name: String,
        shortname: String,
        role: String,
        source: String,
    }
    let sql = "SELECT c.id, c.name, c.shortname, a.role, a.source FROM affiliations a \
               JOIN customers c ON c.id = a.customer_id WHERE a.user_id = $1 ORDER BY c.name, c.id";
    let rows = with_db!(db, p => sqlx::query_as::<_, Row>(sql).bind(user_id).fetch_all(p).await)?;
    let asn_sql = "SELECT ca.customer_id, ca.asn FROM customer_asns ca \
                   JOIN affiliations a ON a.customer_id = ca.customer_id WHERE a.user_id = $1 ORDER BY ca.asn";
    let asns: Vec<(i64, i64)> = with_db!(db, p => sqlx::query_as(asn_sql).bind(user_id).fetch_all(p).await)?;
    let mut by_customer = asns_by_customer(asns);
    Ok(rows
        .into_iter()
        .map(|r| Membership {
            customer_id: r.id,
            asns: by_customer.remove(&r.id).unwrap_or_default(),
            name: r.name,
            shortname: r.shortname,
            role: Role::parse(&r.role).unwrap_or(Role::Member),
            source: Source::parse(&r.source).unwrap_or(Source::Manual),
        })
        .collect())
}

/// Groups `(customer_id, asn)` rows, keeping their order.
pub(crate) fn asns_by_customer(rows: Vec<(i64, i64)>) -> HashMap<i64, Vec<u32>> {
    let mut by_customer: HashMap<i64, Vec<u32>> = HashMap::new();
    for (customer, asn) in rows {
        by_customer.entry(customer).or_default().push(asn_u32(asn));
    }
    by_customer
}

/// ASNs are 32-bit; the column is a BIGINT because SQL has no unsigned int.
fn asn_u32(asn: i64) -> u32 {
    u32::try_from(asn).unwrap_or_default()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerInput {
    pub name: String,
    pub shortname: String,
    pub asns: Vec<u32>,
    pub kind: String,
    pub status: String,
    pub peeringdb_login: bool,
}

/// Creates or updates a customer by shortname, replacing its ASNs.
/// Returns true when the customer was new.
pub async fn upsert_customer(tx: &mut Tx, c: &CustomerInput) -> Result<bool, DbError> {
    let at = now();
    let existing: Option<i64> =
        with_tx!(tx, x => sqlx::query_scalar("SELECT id FROM customers WHERE shortname = $1").bind(&c.shortname).fetch_optional(x).await)?;
    let id = match existing {
        Some(id) => {
            let sql = "UPDATE customers SET name = $1, type = $2, status = $3, peeringdb_login = $4, updated_at = $5 WHERE id = $6";
            with_tx!(tx, x => sqlx::query(sql).bind(&c.name).bind(&c.kind).bind(&c.status).bind(c.peeringdb_login).bind(at).bind(id).execute(x).await.map(|r| r.rows_affected()))?;
            with_tx!(tx, x => sqlx::query("DELETE FROM customer_asns WHERE customer_id = $1").bind(id).execute(x).await.map(|r| r.rows_affected()))?;
            id
        }
        None => {
            let sql = "INSERT INTO customers (name, shortname, type, status, peeringdb_login, created_at, updated_at) \
                       VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id";
            with_tx!(tx, x => sqlx::query_scalar(sql).bind(&c.name).bind(&c.shortname).bind(&c.kind).bind(&c.status).bind(c.peeringdb_login).bind(at).fetch_one(x).await)?
        }
    };
    for asn in &c.asns {
        with_tx!(tx, x => sqlx::query("INSERT INTO customer_asns (customer_id, asn) VALUES ($1, $2)").bind(id).bind(i64::from(*asn)).execute(x).await.map(|r| r.rows_affected()))?;
    }
    Ok(existing.is_none())
}

/// Grants a user access to a customer by hand (source `manual`).
pub async fn grant_manual(tx: &mut Tx, user_id: i64, customer_id: i64, role: Role) -> Result<(), DbError> {
    let at = now();
    let sql = "INSERT INTO affiliations (user_id, customer_id, role, source, created_at, updated_at) \
               VALUES ($1, $2, $3, 'manual', $4, $4) \
               ON CONFLICT (user_id, customer_id) DO UPDATE SET role = excluded.role, source = 'manual', updated_at = excluded.updated_at";
    with_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(customer_id).bind(role.as_str()).bind(at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn customer_id_by_shortname(db: &Db, shortname: &str) -> Result<Option<i64>, DbError> {
    Ok(with_db!(db, p => sqlx::query_scalar("SELECT id FROM customers WHERE shortname = $1").bind(shortname).fetch_optional(p).await)?)
}

/// Ends every session of a user (disable, de-provisioning).
pub async fn end_sessions_of(tx: &mut Tx, user_id: i64) -> Result<u64, DbError> {
    let r = with_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(r)
}

/// One line of the audit log. `actor` is who did it: `user:<id>`, `cli`,
/// `peeringdb` or `anonymous`.
#[derive(Clone, Debug)]
pub struct AuditEntry<'a> {
    pub actor: String,
    pub event: &'a str,
    pub user_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub details: serde_json::Value,
    pub ip: Option<&'a str>,
}

pub async fn audit(tx: &mut Tx, e: &AuditEntry<'_>) -> Result<(), DbError> {
    let sql = "INSERT INTO audit_log (at, actor, event, user_id, customer_id, details, ip) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let details = e.details.to_string();
    with_tx!(tx, c => sqlx::query(sql).bind(now()).bind(&e.actor).bind(e.event).bind(e.user_id).bind(e.customer_id).bind(&details).bind(e.ip).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Writes audit rows in one statement, in the given order (ids ascending).
pub async fn audit_all(tx: &mut Tx, entries: &[AuditEntry<'_>]) -> Result<(), DbError> {
    match entries {
        [] => return Ok(()),
        [one] => return audit(tx, one).await,
        _ => {}
    }
    let rows = serde_json::Value::from_iter(
        entries.iter().map(|e| serde_json::json!([e.actor, e.event, e.user_id, e.customer_id, e.details.to_string(), e.ip])),
    )
    .to_string();
    let sql = backend_sql!(tx,
        sqlite: "INSERT INTO audit_log (at, actor, event, user_id, customer_id, details, ip) \
                 SELECT $1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 \
                 FROM json_each($2) ORDER BY key",
        postgres: "INSERT INTO audit_log (at, actor, event, user_id, customer_id, details, ip) \
                   SELECT $1, e ->> 0, e ->> 1, (e ->> 2)::bigint, (e ->> 3)::bigint, e ->> 4, e ->> 5 \
                   FROM jsonb_array_elements($2::text::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n");
    with_tx!(tx, c => sqlx::query(sql).bind(now()).bind(&rows).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Writes a single audit row in its own transaction (refusals, where
/// nothing else may be written).
pub async fn audit_alone(db: &Db, e: &AuditEntry<'_>) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    audit(&mut tx, e).await?;
    tx.commit().await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub event: String,
    pub user_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub details: String,
    pub ip: Option<String>,
}

pub async fn recent_audit(db: &Db, limit: i64) -> Result<Vec<AuditRow>, DbError> {
    let sql = "SELECT id, at, actor, event, user_id, customer_id, details, ip FROM audit_log ORDER BY id DESC LIMIT $1";
    Ok(with_db!(db, p => sqlx::query_as::<_, AuditRow>(sql).bind(limit).fetch_all(p).await)?)
}

/// A PeeringDB login between the redirect out and the callback back in.
pub struct PendingRow {
    pub state: String,
    pub pkce_verifier: String,
    pub next_path: Option<String>,
    pub created_at: OffsetDateTime,
}

pub async fn put_pending(db: &Db, id: &str, p: &PendingRow, expires_at: OffsetDateTime) -> Result<(), DbError> {
    let sql = "INSERT INTO pending_logins (id, state, pkce_verifier, next_path, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
    write_db!(db, c => sqlx::query(sql).bind(id).bind(&p.state).bind(&p.pkce_verifier).bind(&p.next_path).bind(p.created_at).bind(expires_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes a pending login out of storage: whoever gets it is the only one.
pub async fn take_pending(db: &Db, id: &str) -> Result<Option<PendingRow>, DbError> {
    let sql = "DELETE FROM pending_logins WHERE id = $1 RETURNING state, pkce_verifier, next_path, created_at";
    let row: Option<(String, String, Option<String>, OffsetDateTime)> =
        write_db!(db, c => sqlx::query_as(sql).bind(id).fetch_optional(c).await)?;
    Ok(row.map(|(state, pkce_verifier, next_path, created_at)| PendingRow { state, pkce_verifier, next_path, created_at }))
}

pub async fn user_by_peeringdb_id(tx: &mut Tx, peeringdb_id: i64) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE peeringdb_id = $1");
    Ok(with_tx!(tx, c => sqlx::query_as::<_, UserRow>(&sql).bind(peeringdb_id).fetch_optional(c).await)?)
}

/// Local accounts with this email and no PeeringDB link (for opt-in linking).
pub async fn unlinked_users_by_email(tx: &mut Tx, email: &str) -> Result<Vec<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE LOWER(email) = LOWER($1) AND peeringdb_id IS NULL");
    Ok(with_tx!(tx, c => sqlx::query_as::<_, UserRow>(&sql).bind(email).fetch_all(c).await)?)
}

pub async fn username_taken(tx: &mut Tx, username: &str) -> Result<bool, DbError> {
    let n: i64 = with_tx!(tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = $1").bind(username).fetch_one(c).await)?;
    Ok(n > 0)
}

pub async fn insert_peeringdb_user(tx: &mut Tx, username: &str, name: &str, email: &str, peeringdb_id: i64) -> Result<i64, DbError> {
    let sql = "INSERT INTO users (username, name, email, password_hash, is_superadmin, peeringdb_id, created_via, created_at) \
               VALUES ($1, $2, $3, NULL, FALSE, $4, 'peeringdb', $5) RETURNING id";
    Ok(with_tx!(tx, c => sqlx::query_scalar(sql).bind(username).bind(name).bind(email).bind(peeringdb_id).bind(now()).fetch_one(c).await)?)
}

/// Name and email follow PeeringDB on every login; links the identity and
/// records the login (one statement where [`record_login`] would be a second).
pub async fn refresh_from_peeringdb(tx: &mut Tx, user_id: i64, name: &str, email: &str, peeringdb_id: i64) -> Result<(), DbError> {
    let sql = "UPDATE users SET name = $1, email = $2, peeringdb_id = $3, last_login_at = $4, last_login_via = 'peeringdb' WHERE id = $5";
    with_tx!(tx, c => sqlx::query(sql).bind(name).bind(email).bind(peeringdb_id).bind(now()).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The rows the planner reads, with `$networks` (a subquery yielding the
/// person's ASNs from `$1`) spliced in at compile time. The UNION of the two
/// id sources lets both databases walk their indexes instead of an OR over
/// all customers; the user's affiliation is joined before the ASNs (SQLite
/// keeps LEFT JOINs in the order written): once per customer, not per ASN.
macro_rules! planning_rows {
    ($networks:literal) => {
        concat!(
            "SELECT c.id, c.name, c.type, c.status, c.peeringdb_login, c.peeringdb_max_role, ca.asn, a.role, a.source \
             FROM (SELECT customer_id FROM customer_asns WHERE asn IN (",
            $networks,
            ") UNION SELECT customer_id FROM affiliations WHERE user_id = $2) w \
             JOIN customers c ON c.id = w.customer_id \
             LEFT JOIN affiliations a ON a.customer_id = c.id AND a.user_id = $2 \
             JOIN customer_asns ca ON ca.customer_id = c.id"
        )
    };
}

/// The planning rows folded into one JSON value. sqlx's SQLite driver hands
/// every result row from its worker thread to the request's task one at a
/// time, 120 hand-overs for a person in 60 networks; folded, it is one (on
/// PostgreSQL one message). Measured, the fold saved little (1.1 → 1.0 ms
/// with a cold page cache; the cache, not the hand-overs, was the cost, see
/// [`Db::begin`]); it stays because it also brings the names in one go.
const PLANNING_SQLITE: &str = concat!(
    "SELECT json_group_array(json_array(id, name, type, status, peeringdb_login, peeringdb_max_role, asn, role, source)) FROM (",
    planning_rows!("SELECT value FROM json_each($1)"),
    ")"
);
const PLANNING_POSTGRES: &str = concat!(
    "SELECT COALESCE(json_agg(json_build_array(id, name, type, status, peeringdb_login::int, peeringdb_max_role, asn, role, source)), '[]')::text FROM (",
    planning_rows!("SELECT unnest($1::bigint[])"),
    ") p"
);

/// What the grant planner reads: the customers holding any of the
/// person's ASNs or affiliated with the user, the user's affiliations, and
/// the names of those customers (for the audit log and the notice).
#[derive(Debug, Default)]
pub struct Planning {
    pub customers: Vec<crate::grants::Customer>,
    pub existing: Vec<crate::grants::Existing>,
    pub names: HashMap<i64, String>,
}

/// Everything the planner needs, in one statement returning one row.
pub async fn planning(tx: &mut Tx, asns: &[u32], user_id: Option<i64>) -> Result<Planning, DbError> {
    // id, name, type, status, peeringdb_login (0/1), max role, asn, role, source
    type Row = (i64, String, String, String, i64, Option<String>, i64, Option<String>, Option<String>);
    // The networks travel as one parameter (a JSON array for SQLite, an
    // array for PostgreSQL), so each backend prepares this statement once
    // instead of once per distinct list.
    let networks: Vec<i64> = asns.iter().map(|&a| i64::from(a)).collect();
    let user = user_id.unwrap_or(-1);
    let json: String = match tx {
        Tx::Sqlite(t) => sqlx::query_scalar(PLANNING_SQLITE).bind(json_list(&networks)).bind(user).fetch_one(&mut **t).await?,
        Tx::Postgres(t) => sqlx::query_scalar(PLANNING_POSTGRES).bind(&networks).bind(user).fetch_one(&mut **t).await?,
    };
    let mut rows: Vec<Row> = serde_json::from_str(&json).map_err(|e| DbError::Query(sqlx::Error::Decode(e.into())))?;
    // An aggregate's order is the database's choice: sort here.
    rows.sort_unstable_by_key(|r| (r.0, r.6));
    let mut out = Planning::default();
    for (id, name, kind, status, peeringdb_login, max_role, asn, role, source) in rows {
        match out.customers.last_mut() {
            Some(last) if last.id == id => last.asns.push(asn_u32(asn)),
            _ => {
                if let Some(role) = &role {
                    out.existing.push(crate::grants::Existing {
                        customer_id: id,
                        role: Role::parse(role).unwrap_or(Role::Member),
                        source: source.as_deref().and_then(Source::parse).unwrap_or(Source::Manual),
                    });
                }
                out.names.insert(id, name);
                out.customers.push(crate::grants::Customer {
                    id,
                    asns: vec![asn_u32(asn)],
                    kind,
                    status,
                    peeringdb_login: peeringdb_login != 0,
                    max_role: max_role.as_deref().and_then(Role::parse),
                })
            }
        }
    }
    Ok(out)
}

/// A list of ids as one SQLite parameter, read back with `json_each`.
fn json_list(ids: &[i64]) -> String {
    serde_json::Value::from(ids).to_string()
}

/// Applies a grant plan. Rows are touched only where still `peeringdb`, so
/// a manual grant made meanwhile by an admin is never overwritten. Each kind
/// of change is one statement whatever its size (a first login in sixty
/// networks was 60 inserts): the rows travel as one JSON parameter.
pub async fn apply_plan(tx: &mut Tx, user_id: i64, plan: &crate::grants::GrantPlan) -> Result<(), DbError> {
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
        with_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(at).bind(&rows).execute(c).await.map(|r| r.rows_affected()))?;
    }
    // One statement per role changed to, whatever roles there are.
    let mut changed_to: std::collections::BTreeMap<&str, Vec<i64>> = std::collections::BTreeMap::new();
    for (customer_id, _, role) in &plan.change_role {
        changed_to.entry(role.as_str()).or_default().push(*customer_id);
    }
    for (role, ids) in changed_to {
        let sql = backend_sql!(tx,
            sqlite: "UPDATE affiliations SET role = $1, updated_at = $2 \
                     WHERE user_id = $3 AND source = 'peeringdb' AND customer_id IN (SELECT value FROM json_each($4))",
            postgres: "UPDATE affiliations SET role = $1, updated_at = $2 \
                       WHERE user_id = $3 AND source = 'peeringdb' AND customer_id IN (SELECT (jsonb_array_elements_text($4::text::jsonb))::bigint)");
        with_tx!(tx, c => sqlx::query(sql).bind(role).bind(at).bind(user_id).bind(json_list(&ids)).execute(c).await.map(|r| r.rows_affected()))?;
    }
    if !plan.remove.is_empty() {
        let sql = backend_sql!(tx,
            sqlite: "DELETE FROM affiliations WHERE user_id = $1 AND source = 'peeringdb' AND customer_id IN (SELECT value FROM json_each($2))",
            postgres: "DELETE FROM affiliations WHERE user_id = $1 AND source = 'peeringdb' \
                       AND customer_id IN (SELECT (jsonb_array_elements_text($2::text::jsonb))::bigint)");
        with_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(json_list(&plan.remove)).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

pub async fn customer_names(tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, String>, DbError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!("SELECT id, name FROM customers WHERE id IN ({list})");
    let rows: Vec<(i64, String)> = with_tx!(tx, c => sqlx::query_as(&sql).fetch_all(c).await)?;
    Ok(rows.into_iter().collect())
}
