//! Queries behind the admin console, the customer-admin view and the
//! account page. Lists are paged in SQL (LIMIT/OFFSET on an indexed order)
//! so they stay fast at 10 000 customers and 50 000 audit rows.

use std::collections::HashMap;

use app::console::{AccessEntry, Affiliation, AuditFilter, AuditItem, CustomerItem, UserItem, PAGE_SIZE};
use app::{Role, Source};
use time::OffsetDateTime;

use crate::db::{now, Db, DbError, Tx};
use crate::store::CustomerInput;
use crate::{with_db, with_tx};

/// "2026-11-29 11:13 UTC": minutes are what people read in a console.
pub fn fmt_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// A LIKE pattern matching `needle` anywhere, with its wildcards escaped.
fn contains_pattern(needle: &str) -> String {
    let mut p = String::from("%");
    for ch in needle.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// "AS64500" or "64500" as a number, for searching by ASN.
fn as_asn(q: &str) -> i64 {
    let digits = q.strip_prefix("AS").or_else(|| q.strip_prefix("as")).unwrap_or(q);
    digits.parse::<u32>().map(i64::from).unwrap_or(-1)
}

pub fn offset(page: u32) -> i64 {
    i64::from(page) * i64::from(PAGE_SIZE)
}

#[derive(sqlx::FromRow)]
struct CustomerRecord {
    id: i64,
    name: String,
    shortname: String,
    #[sqlx(rename = "type")]
    kind: String,
    status: String,
    peeringdb_login: bool,
    peeringdb_max_role: Option<String>,
    users: i64,
}

const CUSTOMER_SELECT: &str = "SELECT c.id, c.name, c.shortname, c.type, c.status, c.peeringdb_login, c.peeringdb_max_role, \
     (SELECT COUNT(*) FROM affiliations a WHERE a.customer_id = c.id) AS users FROM customers c";

/// Text search: name or shortname contains the words.
const CUSTOMER_BY_TEXT: &str = "($1 = '' OR LOWER(c.name) LIKE $2 ESCAPE '\\' OR c.shortname LIKE $2 ESCAPE '\\')";
/// `64500` or `AS64500`: the customers holding that ASN (through its
/// index), or whose shortname has those digits; names are not scanned.
const CUSTOMER_BY_ASN: &str =
    "(c.id IN (SELECT customer_id FROM customer_asns WHERE asn = $3) OR c.shortname = $1 OR c.shortname LIKE $2 ESCAPE '\\')";

async fn with_asns(db: &Db, rows: Vec<CustomerRecord>) -> Result<Vec<CustomerItem>, DbError> {
    let mut asns: HashMap<i64, Vec<u32>> = HashMap::new();
    if !rows.is_empty() {
        let ids = rows.iter().map(|r| r.id.to_string()).collect::<Vec<_>>().join(",");
        let sql = format!("SELECT customer_id, asn FROM customer_asns WHERE customer_id IN ({ids}) ORDER BY asn");
        let pairs: Vec<(i64, i64)> = with_db!(db, p => sqlx::query_as(&sql).fetch_all(p).await)?;
        asns = crate::store::asns_by_customer(pairs);
    }
    Ok(rows
        .into_iter()
        .map(|r| CustomerItem {
            asns: asns.remove(&r.id).unwrap_or_default(),
            id: r.id,
            name: r.name,
            shortname: r.shortname,
            kind: r.kind,
            status: r.status,
            peeringdb_login: r.peeringdb_login,
            peeringdb_max_role: r.peeringdb_max_role.as_deref().and_then(Role::parse),
            users: r.users,
        })
        .collect())
}

/// Customers by name, filtered by name, shortname or ASN.
pub async fn search_customers(db: &Db, q: &str, page: u32) -> Result<(Vec<CustomerItem>, i64), DbError> {
    let q = q.trim();
    let (pattern, asn) = (contains_pattern(q), as_asn(q));
    let search = if asn >= 0 { CUSTOMER_BY_ASN } else { CUSTOMER_BY_TEXT };
    let sql = format!("{CUSTOMER_SELECT} WHERE {search} ORDER BY c.name, c.id LIMIT $4 OFFSET $5");
    let rows = with_db!(db, p => sqlx::query_as::<_, CustomerRecord>(&sql)
        .bind(q).bind(&pattern).bind(asn).bind(i64::from(PAGE_SIZE)).bind(offset(page)).fetch_all(p).await)?;
    let count_sql = format!("SELECT COUNT(*) FROM customers c WHERE {search}");
    let total: i64 = with_db!(db, p => sqlx::query_scalar(&count_sql).bind(q).bind(&pattern).bind(asn).fetch_one(p).await)?;
    Ok((with_asns(db, rows).await?, total))
}

/// Every customer, by name (the CLI's listing).
pub async fn all_customers(db: &Db) -> Result<Vec<CustomerItem>, DbError> {
    let sql = format!("{CUSTOMER_SELECT} ORDER BY c.name, c.id");
    let rows = with_db!(db, p => sqlx::query_as::<_, CustomerRecord>(&sql).fetch_all(p).await)?;
    with_asns(db, rows).await
}

pub async fn customer(db: &Db, id: i64) -> Result<Option<CustomerItem>, DbError> {
    let sql = format!("{CUSTOMER_SELECT} WHERE c.id = $1");
    let rows = with_db!(db, p => sqlx::query_as::<_, CustomerRecord>(&sql).bind(id).fetch_all(p).await)?;
    Ok(with_asns(db, rows).await?.pop())
}

pub async fn customer_by_shortname(db: &Db, shortname: &str) -> Result<Option<CustomerItem>, DbError> {
    let sql = format!("{CUSTOMER_SELECT} WHERE c.shortname = $1");
    let rows = with_db!(db, p => sqlx::query_as::<_, CustomerRecord>(&sql).bind(shortname.trim()).fetch_all(p).await)?;
    Ok(with_asns(db, rows).await?.pop())
}

/// Creates (`id = None`) or updates a customer and replaces its ASNs.
/// Returns the id; `Ok(None)` when the id to update does not exist.
pub async fn save_customer(tx: &mut Tx, id: Option<i64>, c: &CustomerInput, max_role: Option<Role>) -> Result<Option<i64>, DbError> {
    let at = now();
    let max_role = max_role.map(Role::as_str);
    let id = match id {
        Some(id) => {
            let sql = "UPDATE customers SET name = $1, shortname = $2, type = $3, status = $4, peeringdb_login = $5, \
                       peeringdb_max_role = $6, updated_at = $7 WHERE id = $8";
            let n = with_tx!(tx, x => sqlx::query(sql).bind(&c.name).bind(&c.shortname).bind(&c.kind).bind(&c.status)
                .bind(c.peeringdb_login).bind(max_role).bind(at).bind(id).execute(x).await.map(|r| r.rows_affected()))?;
            if n == 0 {
                return Ok(None);
            }
            with_tx!(tx, x => sqlx::query("DELETE FROM customer_asns WHERE customer_id = $1").bind(id).execute(x).await.map(|r| r.rows_affected()))?;
            id
        }
        None => {
            let sql = "INSERT INTO customers (name, shortname, type, status, peeringdb_login, peeringdb_max_role, created_at, updated_at) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id";
            with_tx!(tx, x => sqlx::query_scalar(sql).bind(&c.name).bind(&c.shortname).bind(&c.kind).bind(&c.status)
                .bind(c.peeringdb_login).bind(max_role).bind(at).fetch_one(x).await)?
        }
    };
    for asn in &c.asns {
        with_tx!(tx, x => sqlx::query("INSERT INTO customer_asns (customer_id, asn) VALUES ($1, $2)").bind(id).bind(i64::from(*asn))
            .execute(x).await.map(|r| r.rows_affected()))?;
    }
    Ok(Some(id))
}

/// Deletes a customer; its ASNs and affiliations go with it (cascade).
/// Returns how many people lost access, or `None` when there was no such customer.
pub async fn delete_customer(tx: &mut Tx, id: i64) -> Result<Option<i64>, DbError> {
    let users: i64 = with_tx!(tx, x => sqlx::query_scalar("SELECT COUNT(*) FROM affiliations WHERE customer_id = $1").bind(id).fetch_one(x).await)?;
    let n = with_tx!(tx, x => sqlx::query("DELETE FROM customers WHERE id = $1").bind(id).execute(x).await.map(|r| r.rows_affected()))?;
    Ok((n > 0).then_some(users))
}

pub async fn all_shortnames(db: &Db) -> Result<std::collections::HashSet<String>, DbError> {
    let rows: Vec<String> = with_db!(db, p => sqlx::query_scalar("SELECT shortname FROM customers").fetch_all(p).await)?;
    Ok(rows.into_iter().collect())
}

#[derive(sqlx::FromRow)]
struct UserRecord {
    id: i64,
    username: String,
    name: String,
    email: String,
    is_superadmin: bool,
    disabled: bool,
    peeringdb_id: Option<i64>,
    created_via: String,
    last_login_at: Option<OffsetDateTime>,
    last_login_via: Option<String>,
    customers: i64,
}

impl From<UserRecord> for UserItem {
    fn from(r: UserRecord) -> UserItem {
        UserItem {
            last_login: match (r.last_login_at, r.last_login_via) {
                (Some(at), Some(via)) => Some(format!("{} via {via}", fmt_time(at))),
                (Some(at), None) => Some(fmt_time(at)),
                _ => None,
            },
            id: r.id,
            username: r.username,
            name: r.name,
            email: r.email,
            is_superadmin: r.is_superadmin,
            disabled: r.disabled,
            peeringdb_id: r.peeringdb_id,
            created_via: r.created_via,
            customers: r.customers,
        }
    }
}

const USER_SELECT: &str = "SELECT u.id, u.username, u.name, u.email, u.is_superadmin, u.disabled, u.peeringdb_id, u.created_via, \
     u.last_login_at, u.last_login_via, (SELECT COUNT(*) FROM affiliations a WHERE a.user_id = u.id) AS customers FROM users u";

const USER_SEARCH: &str = "($1 = '' OR u.username LIKE $2 ESCAPE '\\' OR LOWER(u.name) LIKE $2 ESCAPE '\\' OR LOWER(u.email) LIKE $2 ESCAPE '\\')";

/// Users by username, filtered by username, name or email.
pub async fn search_users(db: &Db, q: &str, page: u32) -> Result<(Vec<UserItem>, i64), DbError> {
    let q = q.trim();
    let pattern = contains_pattern(q);
    let sql = format!("{USER_SELECT} WHERE {USER_SEARCH} ORDER BY u.username LIMIT $3 OFFSET $4");
    let rows = with_db!(db, p => sqlx::query_as::<_, UserRecord>(&sql)
        .bind(q).bind(&pattern).bind(i64::from(PAGE_SIZE)).bind(offset(page)).fetch_all(p).await)?;
    let count_sql = format!("SELECT COUNT(*) FROM users u WHERE {USER_SEARCH}");
    let total: i64 = with_db!(db, p => sqlx::query_scalar(&count_sql).bind(q).bind(&pattern).fetch_one(p).await)?;
    Ok((rows.into_iter().map(UserItem::from).collect(), total))
}

pub async fn user_item(db: &Db, id: i64) -> Result<Option<UserItem>, DbError> {
    let sql = format!("{USER_SELECT} WHERE u.id = $1");
    let row = with_db!(db, p => sqlx::query_as::<_, UserRecord>(&sql).bind(id).fetch_optional(p).await)?;
    Ok(row.map(UserItem::from))
}

/// Every customer a user has access to, with role, source and dates.
pub async fn affiliations_of(db: &Db, user_id: i64) -> Result<Vec<Affiliation>, DbError> {
    type Row = (i64, String, String, String, String, OffsetDateTime, OffsetDateTime);
    let sql = "SELECT c.id, c.name, c.shortname, a.role, a.source, a.created_at, a.updated_at FROM affiliations a \
               JOIN customers c ON c.id = a.customer_id WHERE a.user_id = $1 ORDER BY c.name, c.id";
    let rows: Vec<Row> = with_db!(db, p => sqlx::query_as(sql).bind(user_id).fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .map(|(customer_id, customer, shortname, role, source, created, updated)| Affiliation {
            customer_id,
            customer,
            shortname,
            role: Role::parse(&role).unwrap_or(Role::Member),
            source: Source::parse(&source).unwrap_or(Source::Manual),
            created_at: fmt_time(created),
            updated_at: fmt_time(updated),
        })
        .collect())
}

/// The role and source of one affiliation, if it exists.
pub async fn affiliation(tx: &mut Tx, user_id: i64, customer_id: i64) -> Result<Option<(Role, Source)>, DbError> {
    let sql = "SELECT role, source FROM affiliations WHERE user_id = $1 AND customer_id = $2";
    let row: Option<(String, String)> = with_tx!(tx, c => sqlx::query_as(sql).bind(user_id).bind(customer_id).fetch_optional(c).await)?;
    Ok(row.map(|(r, s)| (Role::parse(&r).unwrap_or(Role::Member), Source::parse(&s).unwrap_or(Source::Manual))))
}

/// Removes a grant an admin made. PeeringDB grants are not removed here:
/// the next login would bring them back, so the honest switch is the
/// customer's or the user's PeeringDB opt-out.
pub async fn revoke_manual(tx: &mut Tx, user_id: i64, customer_id: i64) -> Result<bool, DbError> {
    let sql = "DELETE FROM affiliations WHERE user_id = $1 AND customer_id = $2 AND source = 'manual'";
    let n = with_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(customer_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn set_disabled(tx: &mut Tx, user_id: i64, disabled: bool) -> Result<bool, DbError> {
    let n = with_tx!(tx, c => sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2").bind(disabled).bind(user_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Forgets the PeeringDB identity of a user and the access PeeringDB gave
/// them. Returns the customers that access was for.
pub async fn unlink_peeringdb(tx: &mut Tx, user_id: i64) -> Result<Vec<i64>, DbError> {
    with_tx!(tx, c => sqlx::query("UPDATE users SET peeringdb_id = NULL WHERE id = $1").bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    let removed: Vec<i64> = with_tx!(tx, c => sqlx::query_scalar(
        "DELETE FROM affiliations WHERE user_id = $1 AND source = 'peeringdb' RETURNING customer_id").bind(user_id).fetch_all(c).await)?;
    Ok(removed)
}

pub async fn set_peeringdb_login_allowed(tx: &mut Tx, user_id: i64, allowed: bool) -> Result<(), DbError> {
    with_tx!(tx, c => sqlx::query("UPDATE users SET peeringdb_login_allowed = $1 WHERE id = $2").bind(allowed).bind(user_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_password_hash(tx: &mut Tx, user_id: i64, hash: &str) -> Result<(), DbError> {
    with_tx!(tx, c => sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(user_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn session_count(db: &Db, user_id: i64) -> Result<i64, DbError> {
    Ok(with_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2")
        .bind(user_id).bind(now()).fetch_one(p).await)?)
}

/// Who has access to a customer, admins first.
pub async fn access_to(db: &Db, customer_id: i64) -> Result<Vec<AccessEntry>, DbError> {
    type Row = (i64, String, String, String, String, String, OffsetDateTime);
    let sql = "SELECT u.id, u.username, u.name, u.email, a.role, a.source, a.created_at FROM affiliations a \
               JOIN users u ON u.id = a.user_id WHERE a.customer_id = $1 ORDER BY a.role, u.username";
    let rows: Vec<Row> = with_db!(db, p => sqlx::query_as(sql).bind(customer_id).fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, username, name, email, role, source, since)| AccessEntry {
            user_id,
            username,
            name,
            email,
            role: Role::parse(&role).unwrap_or(Role::Member),
            source: Source::parse(&source).unwrap_or(Source::Manual),
            since: fmt_time(since),
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct AuditRecord {
    id: i64,
    at: OffsetDateTime,
    actor: String,
    event: String,
    user_id: Option<i64>,
    username: Option<String>,
    customer_id: Option<i64>,
    customer: Option<String>,
    details: String,
    ip: Option<String>,
}

impl From<AuditRecord> for AuditItem {
    fn from(r: AuditRecord) -> AuditItem {
        AuditItem {
            id: r.id,
            at: fmt_time(r.at),
            actor_name: None,
            actor: r.actor,
            event: r.event,
            user_id: r.user_id,
            username: r.username,
            customer_id: r.customer_id,
            customer: r.customer,
            details: r.details,
            ip: r.ip,
        }
    }
}

const AUDIT_SELECT: &str = "SELECT l.id, l.at, l.actor, l.event, l.user_id, u.username, l.customer_id, c.name AS customer, l.details, l.ip \
     FROM audit_log l LEFT JOIN users u ON u.id = l.user_id LEFT JOIN customers c ON c.id = l.customer_id";

/// The audit filter, checked and resolved to ids and instants. Only the
/// conditions in use go into the SQL, so each filter can use its own index
/// (`(user_id, at)`, `(customer_id, at)`, `(event, at)`, `(at)`); a
/// catch-all `($1 < 0 OR user_id = $1)` form would scan the whole log.
pub struct AuditQuery {
    conditions: Vec<String>,
    args: Vec<Arg>,
    /// A name in the filter matched nothing: the answer is empty.
    nothing: bool,
}

/// A value bound to a placeholder, in order.
enum Arg {
    Int(i64),
    Text(String),
    Time(OffsetDateTime),
}

/// Binds every `Arg` to a sqlx query, in order (per backend, inside `with_db!`).
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.clone()),
                Arg::Time(v) => q.bind(*v),
            };
        }
        q
    }};
}

fn parse_day(s: &str, setting: &str) -> Result<Option<time::Date>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format).map(Some).map_err(|_| format!("{setting} must be a date like 2026-11-29"))
}

impl AuditQuery {
    pub async fn resolve(db: &Db, f: &AuditFilter) -> Result<Result<AuditQuery, String>, DbError> {
        let (from, to) = match (parse_day(&f.from, "From"), parse_day(&f.to, "To")) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
        };
        let mut q = AuditQuery { conditions: Vec::new(), args: Vec::new(), nothing: false };
        if !f.user.trim().is_empty() {
            match crate::store::user_by_username(db, f.user.trim()).await? {
                Some(u) => q.push("a.user_id = ?", Arg::Int(u.id)),
                None => q.nothing = true,
            }
        }
        if !f.customer.trim().is_empty() {
            match crate::store::customer_id_by_shortname(db, f.customer.trim()).await? {
                Some(id) => q.push("a.customer_id = ?", Arg::Int(id)),
                None => q.nothing = true,
            }
        }
        let event = f.event.trim();
        if let Some(prefix) = event.strip_suffix('.') {
            // `login.` = every event from "login." up to "login/" ('/' follows '.'):
            // a range, which the (event, at) index serves; LIKE would not.
            q.push("a.event > ?", Arg::Text(format!("{prefix}.")));
            q.push("a.event < ?", Arg::Text(format!("{prefix}/")));
        } else if !event.is_empty() {
            q.push("a.event = ?", Arg::Text(event.to_string()));
        }
        let midnight = |d: time::Date| d.midnight().assume_utc();
        if let Some(d) = from {
            q.push("a.at >= ?", Arg::Time(midnight(d)));
        }
        if let Some(d) = to.and_then(|d| d.next_day()) {
            q.push("a.at < ?", Arg::Time(midnight(d)));
        }
        Ok(Ok(q))
    }

    fn push(&mut self, condition: &str, arg: Arg) {
        self.args.push(arg);
        self.conditions.push(condition.replace('?', &format!("${}", self.args.len())));
    }

    fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// Newest first; `limit` rows from `offset`. The page is chosen on ids
    /// alone (an index walk), and only its rows are joined to names: a deep
    /// page does not join the tens of thousands of rows it skips.
    pub async fn fetch(&self, db: &Db, limit: i64, offset: i64) -> Result<Vec<AuditItem>, DbError> {
        if self.nothing {
            return Ok(Vec::new());
        }
        let n = self.args.len();
        let sql = format!(
            "{AUDIT_SELECT} WHERE l.id IN (SELECT a.id FROM audit_log a {} ORDER BY a.at DESC, a.id DESC LIMIT ${} OFFSET ${}) \
             ORDER BY l.at DESC, l.id DESC",
            self.where_clause(),
            n + 1,
            n + 2
        );
        let rows = with_db!(db, p => bind_args!(sqlx::query_as::<_, AuditRecord>(&sql), &self.args).bind(limit).bind(offset).fetch_all(p).await)?;
        name_actors(db, rows.into_iter().map(AuditItem::from).collect()).await
    }

    pub async fn count(&self, db: &Db) -> Result<i64, DbError> {
        if self.nothing {
            return Ok(0);
        }
        let sql = format!("SELECT COUNT(*) FROM audit_log a {}", self.where_clause());
        Ok(with_db!(db, p => bind_args!(sqlx::query_scalar(&sql), &self.args).fetch_one(p).await)?)
    }
}

/// Fills in who `user:<id>` actors are, with one query for the whole page.
async fn name_actors(db: &Db, mut items: Vec<AuditItem>) -> Result<Vec<AuditItem>, DbError> {
    let ids: std::collections::BTreeSet<i64> =
        items.iter().filter_map(|i| i.actor.strip_prefix("user:").and_then(|id| id.parse().ok())).collect();
    if ids.is_empty() {
        return Ok(items);
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!("SELECT id, username FROM users WHERE id IN ({list})");
    let names: HashMap<i64, String> = with_db!(db, p => sqlx::query_as::<_, (i64, String)>(&sql).fetch_all(p).await)?.into_iter().collect();
    for item in &mut items {
        if let Some(id) = item.actor.strip_prefix("user:").and_then(|id| id.parse::<i64>().ok()) {
            item.actor_name = names.get(&id).cloned();
        }
    }
    Ok(items)
}

/// A user's own logins, logouts and account changes, newest first.
pub async fn login_history(db: &Db, user_id: i64, limit: i64) -> Result<Vec<AuditItem>, DbError> {
    let sql = format!(
        "{AUDIT_SELECT} WHERE l.user_id = $1 AND (l.event LIKE 'login.%' OR l.event LIKE 'logout%' OR l.event LIKE 'account.%') \
         ORDER BY l.id DESC LIMIT $2"
    );
    let rows = with_db!(db, p => sqlx::query_as::<_, AuditRecord>(&sql).bind(user_id).bind(limit).fetch_all(p).await)?;
    name_actors(db, rows.into_iter().map(AuditItem::from).collect()).await
}

/// Everything recorded about one user, newest first.
pub async fn audit_of_user(db: &Db, user_id: i64, limit: i64) -> Result<Vec<AuditItem>, DbError> {
    let sql = format!("{AUDIT_SELECT} WHERE l.user_id = $1 ORDER BY l.id DESC LIMIT $2");
    let rows = with_db!(db, p => sqlx::query_as::<_, AuditRecord>(&sql).bind(user_id).bind(limit).fetch_all(p).await)?;
    name_actors(db, rows.into_iter().map(AuditItem::from).collect()).await
}

/// The newest PeeringDB login with this outcome (`login.success` or `login.refused`).
pub async fn last_peeringdb_login(db: &Db, event: &str) -> Result<Option<AuditItem>, DbError> {
    let sql = format!("{AUDIT_SELECT} WHERE l.event = $1 AND l.details LIKE '%\"via\":\"peeringdb\"%' ORDER BY l.id DESC LIMIT 1");
    let row = with_db!(db, p => sqlx::query_as::<_, AuditRecord>(&sql).bind(event).fetch_optional(p).await)?;
    Ok(row.map(AuditItem::from))
}

/// (users linked to PeeringDB, PeeringDB grants, customers opted out).
pub async fn peeringdb_counts(db: &Db) -> Result<(i64, i64, i64), DbError> {
    let sql = "SELECT (SELECT COUNT(*) FROM users WHERE peeringdb_id IS NOT NULL), \
               (SELECT COUNT(*) FROM affiliations WHERE source = 'peeringdb'), \
               (SELECT COUNT(*) FROM customers WHERE NOT peeringdb_login)";
    Ok(with_db!(db, p => sqlx::query_as(sql).fetch_one(p).await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("Alpha"), "%alpha%");
        assert_eq!(contains_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }

    #[test]
    fn asn_searches_accept_the_as_prefix() {
        assert_eq!(as_asn("AS64500"), 64500);
        assert_eq!(as_asn("64500"), 64500);
        assert_eq!(as_asn("alpha"), -1);
    }

    #[test]
    fn times_read_in_minutes_utc() {
        let t = time::macros::datetime!(2026-11-29 11:13:05 +01:00);
        assert_eq!(fmt_time(t), "2026-11-29 10:13 UTC");
    }
}
