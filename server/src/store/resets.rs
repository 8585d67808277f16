//! Password reset links: only the token's hash is stored. Using one is a
//! single conditional UPDATE, so two requests racing with one link cannot
//! both set a password.

use time::OffsetDateTime;

use super::{now, Db, DbError, Tx};
use crate::{execute, with_db};

pub async fn insert(tx: &mut Tx, token_hash: &str, user_id: i64, expires_at: OffsetDateTime) -> Result<(), DbError> {
    let sql = "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
    execute!(tx, sqlx::query(sql).bind(token_hash).bind(user_id).bind(now()).bind(expires_at))?;
    Ok(())
}

/// The account a link still works for: not used, not expired.
pub async fn open(db: &Db, token_hash: &str) -> Result<Option<i64>, DbError> {
    let sql = "SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
    Ok(with_db!(db, p => sqlx::query_scalar(sql).bind(token_hash).bind(now()).fetch_optional(p).await)?)
}

/// Spends the link; the account it was for, or `None` when it was used,
/// expired or never existed. The account's other open links go with it.
pub async fn spend(tx: &mut Tx, token_hash: &str) -> Result<Option<i64>, DbError> {
    let at = now();
    let sql = "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id";
    let user_id: Option<i64> = crate::with_tx!(tx, c => sqlx::query_scalar(sql).bind(at).bind(token_hash).fetch_optional(c).await)?;
    if let Some(user_id) = user_id {
        execute!(tx, sqlx::query("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL").bind(at).bind(user_id))?;
    }
    Ok(user_id)
}

/// Accounts a reset request names: by username, or by email address
/// (several accounts may share one), at most a few.
pub async fn accounts_named(db: &Db, who: &str) -> Result<Vec<super::users::UserRow>, DbError> {
    let mut found = Vec::new();
    if let Some(user) = super::users::by_username(db, who).await? {
        found.push(user);
    }
    for user in super::users::by_email(db, who, 5).await? {
        if !found.iter().any(|f| f.id == user.id) {
            found.push(user);
        }
    }
    Ok(found)
}
