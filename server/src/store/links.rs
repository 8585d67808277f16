//! A person's PeeringDB link between logins: the refresh token, sealed
//! by `crate::keys` before it gets here (this module never sees it in
//! clear), and the re-sync state.

use super::{now, Db, DbError, Tx};
use crate::{execute, with_db, with_tx};

/// Stores a new sealed refresh token for a user (their link is fresh again)
/// and returns the one it replaces, for the caller to revoke.
pub async fn replace_refresh(tx: &mut Tx, user_id: i64, sealed: &str) -> Result<Option<String>, DbError> {
    let old: Option<Option<String>> =
        with_tx!(tx, c => sqlx::query_scalar("SELECT refresh_token FROM peeringdb_links WHERE user_id = $1").bind(user_id).fetch_optional(c).await)?;
    let sql = "INSERT INTO peeringdb_links (user_id, refresh_token, updated_at) VALUES ($1, $2, $3) \
               ON CONFLICT (user_id) DO UPDATE SET refresh_token = excluded.refresh_token, updated_at = excluded.updated_at, \
               stale_since = NULL, last_error = NULL";
    execute!(tx, sqlx::query(sql).bind(user_id).bind(sealed).bind(now()))?;
    Ok(old.flatten())
}

/// Forgets a user's link and returns the sealed refresh token it held, for
/// the caller to revoke (unlink, disable).
pub async fn take_refresh(tx: &mut Tx, user_id: i64) -> Result<Option<String>, DbError> {
    let sql = "DELETE FROM peeringdb_links WHERE user_id = $1 RETURNING refresh_token";
    let old: Option<Option<String>> = with_tx!(tx, c => sqlx::query_scalar(sql).bind(user_id).fetch_optional(c).await)?;
    Ok(old.flatten())
}

/// The sealed refresh token of a user, if any.
pub async fn refresh_of(db: &Db, user_id: i64) -> Result<Option<String>, DbError> {
    let sql = "SELECT refresh_token FROM peeringdb_links WHERE user_id = $1";
    let token: Option<Option<String>> = with_db!(db, p => sqlx::query_scalar(sql).bind(user_id).fetch_optional(p).await)?;
    Ok(token.flatten())
}

/// Every stored sealed refresh token, by user (for `keys rotate`).
pub async fn all_sealed(db: &Db) -> Result<Vec<(i64, String)>, DbError> {
    let sql = "SELECT user_id, refresh_token FROM peeringdb_links WHERE refresh_token IS NOT NULL ORDER BY user_id";
    Ok(with_db!(db, p => sqlx::query_as(sql).fetch_all(p).await)?)
}

/// Replaces `old` by `new` for a user, only if `old` is still the stored
/// value (a login meanwhile stored a newer token: that one stays).
pub async fn reseal(tx: &mut Tx, user_id: i64, old: &str, new: &str) -> Result<bool, DbError> {
    let sql = "UPDATE peeringdb_links SET refresh_token = $1 WHERE user_id = $2 AND refresh_token = $3";
    Ok(execute!(tx, sqlx::query(sql).bind(new).bind(user_id).bind(old))? > 0)
}
