//! Two-factor secrets and recovery codes. The secret arrives sealed (by
//! `crate::keys`, bound to its user) and leaves sealed; recovery codes
//! arrive hashed. Every use is one conditional statement, so two requests
//! racing with the same code cannot both succeed.

use super::{now, Db, DbError, Tx};
use crate::{backend_sql, execute, with_db, with_tx, write_db};

/// A user's TOTP record.
pub struct Totp {
    /// Sealed.
    pub secret: String,
    pub confirmed: bool,
    /// The last time step a code was accepted for.
    pub last_step: Option<i64>,
}

pub async fn get(db: &Db, user_id: i64) -> Result<Option<Totp>, DbError> {
    let sql = "SELECT secret, confirmed_at IS NOT NULL, last_step FROM user_totp WHERE user_id = $1";
    let row: Option<(String, bool, Option<i64>)> = with_db!(db, p => sqlx::query_as(sql).bind(user_id).fetch_optional(p).await)?;
    Ok(row.map(|(secret, confirmed, last_step)| Totp { secret, confirmed, last_step }))
}

/// Starts (or restarts) an enrolment with a new sealed secret. Never
/// replaces a confirmed one: false then.
pub async fn start(db: &Db, user_id: i64, sealed: &str) -> Result<bool, DbError> {
    let sql = "INSERT INTO user_totp (user_id, secret, created_at) VALUES ($1, $2, $3) \
               ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = NULL \
               WHERE user_totp.confirmed_at IS NULL";
    Ok(write_db!(db, p => sqlx::query(sql).bind(user_id).bind(sealed).bind(now()).execute(p).await.map(|r| r.rows_affected()))? > 0)
}

/// Confirms an enrolment whose code was right for `step`, and replaces the
/// recovery codes. False when there was no enrolment to confirm.
pub async fn confirm(tx: &mut Tx, user_id: i64, step: i64, recovery_hashes: &[String]) -> Result<bool, DbError> {
    let sql = "UPDATE user_totp SET confirmed_at = $1, last_step = $2 WHERE user_id = $3 AND confirmed_at IS NULL";
    if execute!(tx, sqlx::query(sql).bind(now()).bind(step).bind(user_id))? == 0 {
        return Ok(false);
    }
    execute!(tx, sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id))?;
    let sql = backend_sql!(tx,
        sqlite: "INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, value FROM json_each($2)",
        postgres: "INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, jsonb_array_elements_text($2::text::jsonb)");
    execute!(tx, sqlx::query(sql).bind(user_id).bind(serde_json::Value::from(recovery_hashes).to_string()))?;
    Ok(true)
}

/// Records `step` as used, if it is newer than the last one: true when
/// this request is the one that used it.
pub async fn use_step(db: &Db, user_id: i64, step: i64) -> Result<bool, DbError> {
    let sql = "UPDATE user_totp SET last_step = $1 WHERE user_id = $2 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $1)";
    Ok(write_db!(db, p => sqlx::query(sql).bind(step).bind(user_id).execute(p).await.map(|r| r.rows_affected()))? > 0)
}

/// Spends a recovery code: how many are left after it, or `None` when it
/// did not exist or was used already.
pub async fn use_recovery_code(tx: &mut Tx, user_id: i64, hash: &str) -> Result<Option<i64>, DbError> {
    let sql = "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL";
    if execute!(tx, sqlx::query(sql).bind(now()).bind(user_id).bind(hash))? == 0 {
        return Ok(None);
    }
    let sql = "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL";
    Ok(Some(with_tx!(tx, c => sqlx::query_scalar(sql).bind(user_id).fetch_one(c).await)?))
}

/// Recovery codes not used yet.
pub async fn recovery_left(db: &Db, user_id: i64) -> Result<i64, DbError> {
    let sql = "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL";
    Ok(with_db!(db, p => sqlx::query_scalar(sql).bind(user_id).fetch_one(p).await)?)
}

/// Removes a user's second factor and recovery codes; true when a
/// confirmed one was removed.
pub async fn remove(tx: &mut Tx, user_id: i64) -> Result<bool, DbError> {
    let confirmed: Option<bool> =
        with_tx!(tx, c => sqlx::query_scalar("DELETE FROM user_totp WHERE user_id = $1 RETURNING confirmed_at IS NOT NULL").bind(user_id).fetch_optional(c).await)?;
    execute!(tx, sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id))?;
    Ok(confirmed.unwrap_or(false))
}

/// Every sealed secret, by user (for `keys rotate`).
pub async fn all_sealed(db: &Db) -> Result<Vec<(i64, String)>, DbError> {
    Ok(with_db!(db, p => sqlx::query_as("SELECT user_id, secret FROM user_totp ORDER BY user_id").fetch_all(p).await)?)
}

/// Replaces `old` by `new` for a user, only if `old` is still stored.
pub async fn reseal(tx: &mut Tx, user_id: i64, old: &str, new: &str) -> Result<bool, DbError> {
    let sql = "UPDATE user_totp SET secret = $1 WHERE user_id = $2 AND secret = $3";
    Ok(execute!(tx, sqlx::query(sql).bind(new).bind(user_id).bind(old))? > 0)
}
