//! The throttle's counters in the database, so a limit holds across
//! replicas (an in-process limiter such as governor would give each replica
//! its own budget). The rules are `domain::throttle`'s.

use domain::throttle::Count;
use time::Duration;

use super::{now, Db, DbError};
use crate::write_db;

pub fn username_key(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

/// `address` as `domain::net::throttle_address` gives it.
pub fn address_key(address: &str) -> String {
    format!("ip:{address}")
}

pub fn pair_key(username: &str, address: &str) -> String {
    format!("pair:{}|{address}", username.to_lowercase())
}

/// Counts one attempt on each key and returns the counters as they now
/// stand, in the order of `keys`. One statement: two requests racing each
/// see a different count, so N parallel attempts see 1..=N.
pub async fn take(db: &Db, keys: &[&str], window: Duration) -> Result<Vec<Count>, DbError> {
    let at = now();
    let mut sql = String::from("INSERT INTO login_throttle (key, attempts, window_start) VALUES ");
    for i in 0..keys.len() {
        sql.push_str(&format!("{}(${}, 1, $1)", if i == 0 { "" } else { ", " }, i + 3));
    }
    sql.push_str(
        " ON CONFLICT (key) DO UPDATE SET \
         attempts = CASE WHEN login_throttle.window_start <= $2 THEN 1 ELSE login_throttle.attempts + 1 END, \
         window_start = CASE WHEN login_throttle.window_start <= $2 THEN $1 ELSE login_throttle.window_start END \
         RETURNING key, attempts, window_start",
    );
    let rows: Vec<(String, i64, time::OffsetDateTime)> = write_db!(db, p => {
        let mut q = sqlx::query_as(&sql).bind(at).bind(at - window);
        for key in keys {
            q = q.bind(*key);
        }
        q.fetch_all(p).await
    })?;
    keys.iter()
        .map(|key| {
            rows.iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, attempts, window_start)| Count { attempts: *attempts, window_start: *window_start })
                .ok_or_else(|| DbError::Corrupt(format!("the throttle returned no row for {key}")))
        })
        .collect()
}

/// The password was right: `clear` starts over (the person at that
/// address proved they know it) and each of `give_back` returns the one
/// attempt it counted. One statement.
pub async fn settle(db: &Db, clear: &str, give_back: &[&str]) -> Result<(), DbError> {
    let mut sql = String::from(
        "UPDATE login_throttle SET attempts = CASE WHEN key = $1 THEN 0 ELSE attempts - 1 END WHERE attempts > 0 AND key IN ($1",
    );
    for i in 0..give_back.len() {
        sql.push_str(&format!(", ${}", i + 2));
    }
    sql.push(')');
    write_db!(db, p => {
        let mut q = sqlx::query(&sql).bind(clear);
        for key in give_back {
            q = q.bind(*key);
        }
        q.execute(p).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}
