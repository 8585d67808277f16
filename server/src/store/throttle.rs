//! Failed-login counters in the database, so the limit holds across
//! replicas (an in-process limiter such as governor would give each replica
//! its own budget). Counted per username and per client address.

use time::{Duration, OffsetDateTime};

use super::{now, Db, DbError};
use crate::{with_db, write_db};

#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max_failures: i64,
    pub window: Duration,
}

/// Five wrong passwords for one username per 15 minutes.
pub const PER_USERNAME: Limit = Limit { max_failures: 5, window: Duration::minutes(15) };
/// Thirty failures from one address per 15 minutes (password spraying).
pub const PER_ADDRESS: Limit = Limit { max_failures: 30, window: Duration::minutes(15) };

pub fn username_key(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

pub fn address_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// Minutes to wait, when the key has used up its failures in the window.
pub fn minutes_left(failures: i64, window_start: OffsetDateTime, limit: Limit, at: OffsetDateTime) -> Option<u32> {
    let ends = window_start + limit.window;
    if failures < limit.max_failures || ends <= at {
        return None;
    }
    let secs = (ends - at).whole_seconds().max(1);
    Some(u32::try_from((secs + 59) / 60).unwrap_or(u32::MAX))
}

pub async fn blocked(db: &Db, key: &str, limit: Limit) -> Result<Option<u32>, DbError> {
    let row: Option<(i64, OffsetDateTime)> = with_db!(db, p => sqlx::query_as("SELECT failures, window_start FROM login_throttle WHERE key = $1")
        .bind(key).fetch_optional(p).await)?;
    Ok(row.and_then(|(f, start)| minutes_left(f, start, limit, now())))
}

pub async fn record_failure(db: &Db, key: &str, limit: Limit) -> Result<(), DbError> {
    let at = now();
    let sql = "INSERT INTO login_throttle (key, failures, window_start) VALUES ($1, 1, $2) \
               ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.failures + 1 END, \
               window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END";
    write_db!(db, p => sqlx::query(sql).bind(key).bind(at).bind(at - limit.window).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn clear(db: &Db, key: &str) -> Result<(), DbError> {
    write_db!(db, p => sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(key).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_only_after_the_limit_and_until_the_window_ends() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let l = PER_USERNAME;
        assert_eq!(minutes_left(4, start, l, start + Duration::minutes(1)), None);
        assert_eq!(minutes_left(5, start, l, start + Duration::minutes(1)), Some(14));
        assert_eq!(minutes_left(5, start, l, start + Duration::seconds(14 * 60 + 30)), Some(1));
        assert_eq!(minutes_left(9, start, l, start + Duration::minutes(15)), None);
    }
}
