//! The audit log: written in the transaction of the change it records, and
//! read back for the console, the account page and the CSV export.

use std::collections::HashMap;

use app::console::{AuditFilter, AuditItem};
use domain::{Actor, AuditEvent};
use time::OffsetDateTime;

use super::{fmt_time, now, word, Db, DbError, Tx};
use crate::{backend_sql, execute, with_db};

/// One line of the audit log.
#[derive(Clone, Debug)]
pub struct AuditEntry<'a> {
    pub actor: Actor,
    pub event: AuditEvent,
    pub user_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub details: serde_json::Value,
    pub ip: Option<&'a str>,
}

/// An entry's details as stored: every text capped
/// (`domain::audit::cap_details`), whoever built the entry.
fn details_text(e: &AuditEntry<'_>) -> String {
    let mut details = e.details.clone();
    domain::audit::cap_details(&mut details);
    details.to_string()
}

pub async fn write(tx: &mut Tx, e: &AuditEntry<'_>) -> Result<(), DbError> {
    let sql = "INSERT INTO audit_log (at, actor, event, user_id, customer_id, details, ip) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    execute!(tx, sqlx::query(sql).bind(now()).bind(e.actor.to_string()).bind(e.event.as_str()).bind(e.user_id)
        .bind(e.customer_id).bind(details_text(e)).bind(e.ip))?;
    Ok(())
}

/// Writes audit rows in one statement, in the given order (ids ascending).
pub async fn write_all(tx: &mut Tx, entries: &[AuditEntry<'_>]) -> Result<(), DbError> {
    match entries {
        [] => return Ok(()),
        [one] => return write(tx, one).await,
        _ => {}
    }
    let rows = serde_json::Value::from_iter(entries.iter().map(|e| {
        serde_json::json!([e.actor.to_string(), e.event.as_str(), e.user_id, e.customer_id, details_text(e), e.ip])
    }))
    .to_string();
    let sql = backend_sql!(tx,
        sqlite: "INSERT INTO audit_log (at, actor, event, user_id, customer_id, details, ip) \
                 SELECT $1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 \
                 FROM json_each($2) ORDER BY key",
        postgres: "INSERT INTO audit_log (at, actor, event, user_id, customer_id, details, ip) \
                   SELECT $1, e ->> 0, e ->> 1, (e ->> 2)::bigint, (e ->> 3)::bigint, e ->> 4, e ->> 5 \
                   FROM jsonb_array_elements($2::text::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n");
    execute!(tx, sqlx::query(sql).bind(now()).bind(&rows))?;
    Ok(())
}

/// Writes a single audit row in its own transaction (refusals, where
/// nothing else may be written).
pub async fn write_alone(db: &Db, e: &AuditEntry<'_>) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    write(&mut tx, e).await?;
    tx.commit().await
}

#[derive(sqlx_macros::FromRow)]
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

impl TryFrom<AuditRecord> for AuditItem {
    type Error = DbError;
    fn try_from(r: AuditRecord) -> Result<AuditItem, DbError> {
        let event = word(&r.event)?;
        let summary = domain::audit::sentence(event, &serde_json::from_str(&r.details).unwrap_or_default());
        Ok(AuditItem {
            actor: Actor::parse(&r.actor).map_err(|e| DbError::Corrupt(e.to_string()))?,
            event,
            summary,
            id: r.id,
            at: fmt_time(r.at),
            actor_name: None,
            user_id: r.user_id,
            username: r.username,
            customer_id: r.customer_id,
            customer: r.customer,
            details: r.details,
            ip: r.ip,
        })
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
    /// The query for a filter, or the filter's problem as a sentence.
    pub async fn resolve(db: &Db, f: &AuditFilter) -> Result<Result<AuditQuery, String>, DbError> {
        let (from, to) = match (parse_day(&f.from, "From"), parse_day(&f.to, "To")) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
        };
        let mut q = AuditQuery { conditions: Vec::new(), args: Vec::new(), nothing: false };
        if !f.user.trim().is_empty() {
            let id = match super::users::by_username(db, f.user.trim()).await? {
                Some(u) => Some(u.id),
                // A deleted account keeps its rows: found by the name its
                // `user.deleted` row recorded.
                None => deleted_user_id(db, f.user.trim()).await?,
            };
            match id {
                Some(id) => q.push("a.user_id = ?", Arg::Int(id)),
                None => q.nothing = true,
            }
        }
        if !f.customer.trim().is_empty() {
            match super::customers::id_by_shortname(db, &f.customer).await? {
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
        name_actors(db, rows).await
    }

    pub async fn count(&self, db: &Db) -> Result<i64, DbError> {
        if self.nothing {
            return Ok(0);
        }
        let sql = format!("SELECT COUNT(*) FROM audit_log a {}", self.where_clause());
        Ok(with_db!(db, p => bind_args!(sqlx::query_scalar(&sql), &self.args).fetch_one(p).await)?)
    }
}

/// The id a deleted account had, from the newest `user.deleted` row
/// naming `username`.
async fn deleted_user_id(db: &Db, username: &str) -> Result<Option<i64>, DbError> {
    let sql = match db {
        Db::Sqlite { .. } => {
            "SELECT user_id FROM audit_log WHERE event = 'user.deleted' AND json_extract(details, '$.username') = lower($1) ORDER BY id DESC LIMIT 1"
        }
        Db::Postgres(_) => {
            "SELECT user_id FROM audit_log WHERE event = 'user.deleted' AND details::jsonb->>'username' = lower($1) ORDER BY id DESC LIMIT 1"
        }
    };
    Ok(with_db!(db, p => sqlx::query_scalar::<_, Option<i64>>(sql).bind(username).fetch_optional(p).await)?.flatten())
}

/// Turns rows into items and fills in who user actors are, with one query
/// for the whole page.
async fn name_actors(db: &Db, rows: Vec<AuditRecord>) -> Result<Vec<AuditItem>, DbError> {
    let mut items = rows.into_iter().map(AuditItem::try_from).collect::<Result<Vec<_>, _>>()?;
    let ids: std::collections::BTreeSet<i64> = items.iter().filter_map(|i| i.actor.user_id()).collect();
    let mut names: HashMap<i64, String> = HashMap::new();
    if !ids.is_empty() {
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!("SELECT id, name FROM users WHERE id IN ({list})");
        names = with_db!(db, p => sqlx::query_as::<_, (i64, String)>(&sql).fetch_all(p).await)?.into_iter().collect();
    }
    for item in &mut items {
        item.actor_name = Some(match item.actor {
            Actor::User(id) => names.get(&id).cloned().unwrap_or_else(|| format!("a deleted account (#{id})")),
            other => other.label().to_string(),
        });
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
    name_actors(db, rows).await
}

/// Everything recorded about one user, newest first.
pub async fn about_user(db: &Db, user_id: i64, limit: i64) -> Result<Vec<AuditItem>, DbError> {
    let sql = format!("{AUDIT_SELECT} WHERE l.user_id = $1 ORDER BY l.id DESC LIMIT $2");
    let rows = with_db!(db, p => sqlx::query_as::<_, AuditRecord>(&sql).bind(user_id).bind(limit).fetch_all(p).await)?;
    name_actors(db, rows).await
}

/// The newest PeeringDB login with this outcome (`login.success` or `login.refused`).
/// The newest row of one event.
pub async fn last_of(db: &Db, event: AuditEvent) -> Result<Option<AuditItem>, DbError> {
    let sql = format!("{AUDIT_SELECT} WHERE l.event = $1 ORDER BY l.id DESC LIMIT 1");
    let row = with_db!(db, p => sqlx::query_as::<_, AuditRecord>(&sql).bind(event.as_str()).fetch_optional(p).await)?;
    row.map(AuditItem::try_from).transpose()
}

pub async fn last_peeringdb_login(db: &Db, event: AuditEvent) -> Result<Option<AuditItem>, DbError> {
    let sql = format!("{AUDIT_SELECT} WHERE l.event = $1 AND l.details LIKE '%\"via\":\"peeringdb\"%' ORDER BY l.id DESC LIMIT 1");
    let row = with_db!(db, p => sqlx::query_as::<_, AuditRecord>(&sql).bind(event.as_str()).fetch_optional(p).await)?;
    row.map(AuditItem::try_from).transpose()
}

/// Logins and refusals per day since `since`: (day `YYYY-MM-DD` in UTC,
/// succeeded, method, refusal reason, count).
pub async fn login_activity(db: &Db, since: time::OffsetDateTime) -> Result<Vec<(String, bool, String, String, i64)>, DbError> {
    let sql = match db {
        Db::Sqlite { .. } => {
            "SELECT substr(at, 1, 10), event = 'login.success', COALESCE(json_extract(details, '$.via'), ''), \
             COALESCE(json_extract(details, '$.reason'), ''), COUNT(*) FROM audit_log \
             WHERE at >= $1 AND event IN ('login.success', 'login.refused') GROUP BY 1, 2, 3, 4"
        }
        Db::Postgres(_) => {
            "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), event = 'login.success', COALESCE(details::jsonb->>'via', ''), \
             COALESCE(details::jsonb->>'reason', ''), COUNT(*) FROM audit_log \
             WHERE at >= $1 AND event IN ('login.success', 'login.refused') GROUP BY 1, 2, 3, 4"
        }
    };
    Ok(with_db!(db, p => sqlx::query_as(sql).bind(since).fetch_all(p).await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_minutes_utc() {
        let t = time::macros::datetime!(2026-11-29 11:13:05 +01:00);
        assert_eq!(fmt_time(t), "2026-11-29 10:13 UTC");
    }
}

