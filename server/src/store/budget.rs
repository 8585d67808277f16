//! The shared budget of requests to PeeringDB, counted per minute in the
//! database so every replica draws on the same one.

use time::OffsetDateTime;

use super::{Db, DbError};
use crate::write_db;

/// The minute a moment falls in (minutes since the Unix epoch).
pub fn minute_of(t: OffsetDateTime) -> i64 {
    t.unix_timestamp().div_euclid(60)
}

/// Counts `n` requests already made (logins never wait for the budget).
pub async fn record(db: &Db, minute: i64, n: i64) -> Result<(), DbError> {
    let sql = "INSERT INTO peeringdb_budget (minute, used) VALUES ($1, $2) \
               ON CONFLICT (minute) DO UPDATE SET used = peeringdb_budget.used + excluded.used";
    write_db!(db, p => sqlx::query(sql).bind(minute).bind(n).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes `n` requests from `minute`'s budget of `limit` if they fit, in one
/// statement (two replicas cannot both take the last ones).
pub async fn take(db: &Db, minute: i64, n: i64, limit: i64) -> Result<bool, DbError> {
    if n > limit {
        return Ok(false);
    }
    let sql = "INSERT INTO peeringdb_budget (minute, used) VALUES ($1, $2) \
               ON CONFLICT (minute) DO UPDATE SET used = peeringdb_budget.used + excluded.used \
               WHERE peeringdb_budget.used + excluded.used <= $3";
    let rows = write_db!(db, p => sqlx::query(sql).bind(minute).bind(n).bind(limit).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(rows == 1)
}

/// Forgets minutes before `minute`.
pub async fn purge(db: &Db, minute: i64) -> Result<u64, DbError> {
    Ok(write_db!(db, p => sqlx::query("DELETE FROM peeringdb_budget WHERE minute < $1").bind(minute).execute(p).await.map(|r| r.rows_affected()))?)
}
