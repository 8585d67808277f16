//! People's accounts.

use std::collections::HashSet;

use app::backend::Caller;
use app::console::UserItem;
use domain::{CreatedVia, LoginMethod};
use time::OffsetDateTime;

use super::{fmt_time, now, word, Db, DbError, Tx};
use crate::{execute, with_db, with_tx};

/// An account as stored (the password hash included: never sent anywhere).
#[derive(Clone, Debug)]
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
    pub created_via: CreatedVia,
    pub created_at: OffsetDateTime,
    pub last_login_at: Option<OffsetDateTime>,
    pub last_login_via: Option<LoginMethod>,
}

#[derive(sqlx_macros::FromRow)]
struct UserRecord {
    id: i64,
    username: String,
    name: String,
    email: String,
    password_hash: Option<String>,
    is_superadmin: bool,
    disabled: bool,
    peeringdb_id: Option<i64>,
    peeringdb_login_allowed: bool,
    created_via: String,
    created_at: OffsetDateTime,
    last_login_at: Option<OffsetDateTime>,
    last_login_via: Option<String>,
}

impl TryFrom<UserRecord> for UserRow {
    type Error = DbError;
    fn try_from(r: UserRecord) -> Result<UserRow, DbError> {
        Ok(UserRow {
            created_via: word(&r.created_via)?,
            last_login_via: r.last_login_via.as_deref().map(word).transpose()?,
            id: r.id,
            username: r.username,
            name: r.name,
            email: r.email,
            password_hash: r.password_hash,
            is_superadmin: r.is_superadmin,
            disabled: r.disabled,
            peeringdb_id: r.peeringdb_id,
            peeringdb_login_allowed: r.peeringdb_login_allowed,
            created_at: r.created_at,
            last_login_at: r.last_login_at,
        })
    }
}

impl UserRow {
    /// The account as the PeeringDB login decision sees it.
    pub fn account(&self) -> domain::peeringdb::login::Account {
        domain::peeringdb::login::Account {
            id: self.id,
            is_superadmin: self.is_superadmin,
            disabled: self.disabled,
            peeringdb_login_allowed: self.peeringdb_login_allowed,
        }
    }
}

fn rows(records: Vec<UserRecord>) -> Result<Vec<UserRow>, DbError> {
    records.into_iter().map(UserRow::try_from).collect()
}

const USER_COLUMNS: &str = "id, username, name, email, password_hash, is_superadmin, disabled, peeringdb_id, \
     peeringdb_login_allowed, created_via, created_at, last_login_at, last_login_via";

pub async fn by_username(db: &Db, username: &str) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
    let username = username.to_lowercase();
    let row = with_db!(db, p => sqlx::query_as::<_, UserRecord>(&sql).bind(&username).fetch_optional(p).await)?;
    row.map(UserRow::try_from).transpose()
}

/// Accounts with this email address (case ignored), at most `limit`.
pub async fn by_email(db: &Db, email: &str, limit: i64) -> Result<Vec<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1) ORDER BY id LIMIT $2");
    let records = with_db!(db, p => sqlx::query_as::<_, UserRecord>(&sql).bind(email.trim()).bind(limit).fetch_all(p).await)?;
    rows(records)
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let row = with_db!(db, p => sqlx::query_as::<_, UserRecord>(&sql).bind(id).fetch_optional(p).await)?;
    row.map(UserRow::try_from).transpose()
}

pub async fn all(db: &Db) -> Result<Vec<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
    rows(with_db!(db, p => sqlx::query_as::<_, UserRecord>(&sql).fetch_all(p).await)?)
}

pub async fn by_peeringdb_id(tx: &mut Tx, peeringdb_id: i64) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE peeringdb_id = $1");
    let row = with_tx!(tx, c => sqlx::query_as::<_, UserRecord>(&sql).bind(peeringdb_id).fetch_optional(c).await)?;
    row.map(UserRow::try_from).transpose()
}

/// Local accounts with this email and no PeeringDB link (for opt-in linking).
pub async fn unlinked_by_email(tx: &mut Tx, email: &str) -> Result<Vec<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE LOWER(email) = LOWER($1) AND peeringdb_id IS NULL");
    rows(with_tx!(tx, c => sqlx::query_as::<_, UserRecord>(&sql).bind(email).fetch_all(c).await)?)
}

/// The signed-in person behind a session: enabled, with every customer
/// they can act for, by name. `None` for a deleted or disabled account.
/// One statement (every request that acts for a person reads it): a row per
/// (customer, ASN), the person's own columns repeated.
pub async fn caller(db: &Db, user_id: i64) -> Result<Option<CallerRow>, DbError> {
    type Row = (i64, String, String, String, bool, bool, bool, Option<i64>, Option<String>, Option<String>, Option<String>, Option<String>, Option<i64>);
    let sql = "SELECT u.id, u.username, u.name, u.email, u.is_superadmin, u.password_hash IS NOT NULL, \
               EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL), \
               c.id, c.name, c.shortname, a.role, a.source, ca.asn \
               FROM users u LEFT JOIN affiliations a ON a.user_id = u.id \
               LEFT JOIN customers c ON c.id = a.customer_id AND c.status = 'active' LEFT JOIN customer_asns ca ON ca.customer_id = c.id \
               WHERE u.id = $1 AND NOT u.disabled ORDER BY c.name, c.id, ca.asn";
    let rows: Vec<Row> = with_db!(db, p => sqlx::query_as(sql).bind(user_id).fetch_all(p).await)?;
    let Some((user_id, username, name, email, is_superadmin, has_password, two_factor, ..)) = rows.first().cloned() else {
        return Ok(None);
    };
    let mut memberships: Vec<app::Membership> = Vec::new();
    for (.., customer_id, customer, shortname, role, source, number) in rows {
        let (Some(customer_id), Some(customer), Some(shortname), Some(role), Some(source)) = (customer_id, customer, shortname, role, source) else {
            continue; // no affiliation: the person's row alone
        };
        if memberships.last().is_none_or(|m| m.customer_id != customer_id) {
            memberships.push(app::Membership { customer_id, name: customer, shortname, asns: Vec::new(), role: word(&role)?, source: word(&source)? });
        }
        if let (Some(number), Some(m)) = (number, memberships.last_mut()) {
            m.asns.push(super::asn(number)?);
        }
    }
    let caller = Caller { user_id, username, name, email, is_superadmin, memberships, must_set_up_2fa: false };
    Ok(Some(CallerRow { caller, has_password, two_factor }))
}

/// The caller as stored, with what the two-factor policy needs to know.
pub struct CallerRow {
    pub caller: Caller,
    pub has_password: bool,
    /// Two-factor is on (confirmed).
    pub two_factor: bool,
}

/// The usernames that a new one built on `base` could collide with.
pub async fn usernames_starting_with(tx: &mut Tx, base: &str) -> Result<HashSet<String>, DbError> {
    let sql = "SELECT username FROM users WHERE substr(username, 1, $2) = $1";
    let len = i32::try_from(base.len()).unwrap_or(i32::MAX);
    let names: Vec<String> = with_tx!(tx, c => sqlx::query_scalar(sql).bind(base).bind(len).fetch_all(c).await)?;
    Ok(names.into_iter().collect())
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub is_superadmin: bool,
    pub peeringdb_id: Option<i64>,
    pub created_via: CreatedVia,
}

pub async fn insert(tx: &mut Tx, u: &NewUser<'_>) -> Result<i64, DbError> {
    let sql = "INSERT INTO users (username, name, email, password_hash, is_superadmin, peeringdb_id, created_via, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    let username = u.username.to_lowercase();
    let id: i64 = with_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(&username).bind(u.name).bind(u.email).bind(u.password_hash)
        .bind(u.is_superadmin).bind(u.peeringdb_id).bind(u.created_via.as_str()).bind(now())
        .fetch_one(c).await)?;
    Ok(id)
}

pub async fn record_login(tx: &mut Tx, user_id: i64, via: LoginMethod) -> Result<(), DbError> {
    let sql = "UPDATE users SET last_login_at = $1, last_login_via = $2 WHERE id = $3";
    execute!(tx, sqlx::query(sql).bind(now()).bind(via.as_str()).bind(user_id))?;
    Ok(())
}

/// Name and email follow PeeringDB on every login; links the identity and
/// records the login (one statement where [`record_login`] would be a second).
/// Name and email follow PeeringDB (a re-sync: no login is recorded).
pub async fn follow_peeringdb(tx: &mut Tx, user_id: i64, name: &str, email: &str) -> Result<(), DbError> {
    execute!(tx, sqlx::query("UPDATE users SET name = $1, email = $2 WHERE id = $3").bind(name).bind(email).bind(user_id))?;
    Ok(())
}

pub async fn refresh_from_peeringdb(tx: &mut Tx, user_id: i64, name: &str, email: &str, peeringdb_id: i64) -> Result<(), DbError> {
    let sql = "UPDATE users SET name = $1, email = $2, peeringdb_id = $3, last_login_at = $4, last_login_via = $5 WHERE id = $6";
    execute!(tx, sqlx::query(sql).bind(name).bind(email).bind(peeringdb_id).bind(now()).bind(LoginMethod::Peeringdb.as_str()).bind(user_id))?;
    Ok(())
}

pub async fn set_disabled(tx: &mut Tx, user_id: i64, disabled: bool) -> Result<bool, DbError> {
    Ok(execute!(tx, sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2").bind(disabled).bind(user_id))? > 0)
}

pub async fn set_peeringdb_login_allowed(tx: &mut Tx, user_id: i64, allowed: bool) -> Result<(), DbError> {
    execute!(tx, sqlx::query("UPDATE users SET peeringdb_login_allowed = $1 WHERE id = $2").bind(allowed).bind(user_id))?;
    Ok(())
}

pub async fn set_password_hash(tx: &mut Tx, user_id: i64, hash: &str) -> Result<(), DbError> {
    execute!(tx, sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(user_id))?;
    Ok(())
}

/// Forgets a user's PeeringDB identity (their PeeringDB grants go separately).
pub async fn unlink_peeringdb(tx: &mut Tx, user_id: i64) -> Result<(), DbError> {
    execute!(tx, sqlx::query("UPDATE users SET peeringdb_id = NULL WHERE id = $1").bind(user_id))?;
    Ok(())
}

/// Deletes the account; its sessions and PeeringDB link go with it
/// (foreign keys). Audit rows keep the id and say who it was.
pub async fn delete(tx: &mut Tx, user_id: i64) -> Result<bool, DbError> {
    Ok(execute!(tx, sqlx::query("DELETE FROM users WHERE id = $1").bind(user_id))? > 0)
}

/// A LIKE pattern matching `needle` anywhere, with its wildcards escaped.
pub(crate) fn contains_pattern(needle: &str) -> String {
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

#[derive(sqlx_macros::FromRow)]
struct ListedUser {
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

impl TryFrom<ListedUser> for UserItem {
    type Error = DbError;
    fn try_from(r: ListedUser) -> Result<UserItem, DbError> {
        let via: Option<LoginMethod> = r.last_login_via.as_deref().map(word).transpose()?;
        Ok(UserItem {
            last_login: match (r.last_login_at, via) {
                (Some(at), Some(via)) => Some(format!("{} via {via}", fmt_time(at))),
                (Some(at), None) => Some(fmt_time(at)),
                _ => None,
            },
            created_via: word(&r.created_via)?,
            id: r.id,
            username: r.username,
            name: r.name,
            email: r.email,
            is_superadmin: r.is_superadmin,
            disabled: r.disabled,
            peeringdb_id: r.peeringdb_id,
            customers: r.customers,
        })
    }
}

const USER_SELECT: &str = "SELECT u.id, u.username, u.name, u.email, u.is_superadmin, u.disabled, u.peeringdb_id, u.created_via, \
     u.last_login_at, u.last_login_via, (SELECT COUNT(*) FROM affiliations a WHERE a.user_id = u.id) AS customers FROM users u";

const USER_SEARCH: &str = "($1 = '' OR u.username LIKE $2 ESCAPE '\\' OR LOWER(u.name) LIKE $2 ESCAPE '\\' OR LOWER(u.email) LIKE $2 ESCAPE '\\')";

/// Users by username, filtered by username, name or email, one page.
pub async fn search(db: &Db, q: &str, limit: i64, offset: i64) -> Result<(Vec<UserItem>, i64), DbError> {
    let q = q.trim();
    let pattern = contains_pattern(q);
    let sql = format!("{USER_SELECT} WHERE {USER_SEARCH} ORDER BY u.username LIMIT $3 OFFSET $4");
    let rows = with_db!(db, p => sqlx::query_as::<_, ListedUser>(&sql).bind(q).bind(&pattern).bind(limit).bind(offset).fetch_all(p).await)?;
    let count_sql = format!("SELECT COUNT(*) FROM users u WHERE {USER_SEARCH}");
    let total: i64 = with_db!(db, p => sqlx::query_scalar(&count_sql).bind(q).bind(&pattern).fetch_one(p).await)?;
    Ok((rows.into_iter().map(UserItem::try_from).collect::<Result<_, _>>()?, total))
}

pub async fn item(db: &Db, id: i64) -> Result<Option<UserItem>, DbError> {
    let sql = format!("{USER_SELECT} WHERE u.id = $1");
    let row = with_db!(db, p => sqlx::query_as::<_, ListedUser>(&sql).bind(id).fetch_optional(p).await)?;
    row.map(UserItem::try_from).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("Alpha"), "%alpha%");
        assert_eq!(contains_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
