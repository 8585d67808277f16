//! A person's PeeringDB link between logins: the refresh token, sealed
//! by `crate::keys` before it gets here (this module never sees it in
//! clear), and the re-sync state.

use super::{now, Db, DbError, Tx};
use crate::{execute, with_db, with_tx};

/// Stores a new sealed refresh token for a user (their link is fresh again)
/// and returns the one it replaces, for the caller to revoke. A login
/// (`synced`) also counts as the person's latest sync; a re-sync saving
/// its rotated token does not yet (it has not read the profile).
pub async fn replace_refresh(tx: &mut Tx, user_id: i64, sealed: &str, synced: bool, mfa: bool) -> Result<Option<String>, DbError> {
    let old: Option<Option<String>> =
        with_tx!(tx, c => sqlx::query_scalar("SELECT refresh_token FROM peeringdb_links WHERE user_id = $1").bind(user_id).fetch_optional(c).await)?;
    let sql = "INSERT INTO peeringdb_links (user_id, refresh_token, updated_at, last_synced_at, mfa) VALUES ($1, $2, $3, CASE WHEN $4 THEN $3 END, $5) \
               ON CONFLICT (user_id) DO UPDATE SET refresh_token = excluded.refresh_token, updated_at = excluded.updated_at, \
               last_synced_at = COALESCE(excluded.last_synced_at, peeringdb_links.last_synced_at), stale_since = NULL, last_error = NULL, \
               mfa = excluded.mfa";
    execute!(tx, sqlx::query(sql).bind(user_id).bind(sealed).bind(now()).bind(synced).bind(mfa))?;
    Ok(old.flatten())
}

/// Forgets a user's link and returns the sealed refresh token it held, for
/// the caller to revoke (unlink, disable).
pub async fn take_refresh(tx: &mut Tx, user_id: i64) -> Result<Option<String>, DbError> {
    let sql = "DELETE FROM peeringdb_links WHERE user_id = $1 RETURNING refresh_token";
    let old: Option<Option<String>> = with_tx!(tx, c => sqlx::query_scalar(sql).bind(user_id).fetch_optional(c).await)?;
    Ok(old.flatten())
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

/// Whether marking a link stale took, and whether it just became stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    /// The stored token is no longer the one that failed (a login or
    /// another sweep replaced it meanwhile): nothing marked.
    Replaced,
    AlreadyStale,
    NowStale,
}

/// Marks a link stale because PeeringDB refused `sealed`, only if that is
/// still the stored token.
pub async fn mark_stale(db: &Db, user_id: i64, sealed: &str, why: &str) -> Result<Marked, DbError> {
    let mut tx = db.begin().await?;
    let sql = "SELECT stale_since FROM peeringdb_links WHERE user_id = $1 AND refresh_token = $2";
    let before: Option<Option<time::OffsetDateTime>> =
        with_tx!(&mut tx, c => sqlx::query_scalar(sql).bind(user_id).bind(sealed).fetch_optional(c).await)?;
    let Some(before) = before else {
        return Ok(Marked::Replaced);
    };
    let sql = "UPDATE peeringdb_links SET stale_since = COALESCE(stale_since, $1), last_error = $2 WHERE user_id = $3";
    execute!(&mut tx, sqlx::query(sql).bind(now()).bind(why).bind(user_id))?;
    tx.commit().await?;
    Ok(if before.is_some() { Marked::AlreadyStale } else { Marked::NowStale })
}

/// A re-sync's rotated token replaces the one it used, only if that is
/// still the stored one; false when a login or another sweep replaced it.
/// One statement on its own: the comparison and the write are atomic.
pub async fn rotate(db: &Db, user_id: i64, used: &str, next: &str) -> Result<bool, DbError> {
    let sql = "UPDATE peeringdb_links SET refresh_token = $1, updated_at = $2, stale_since = NULL, last_error = NULL \
               WHERE user_id = $3 AND refresh_token = $4";
    let rows = crate::write_db!(db, p => sqlx::query(sql).bind(next).bind(now()).bind(user_id).bind(used).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(rows > 0)
}

/// Records why the last attempt failed, changing nothing else.
pub async fn record_error(db: &Db, user_id: i64, error: &str) -> Result<(), DbError> {
    let sql = "UPDATE peeringdb_links SET last_error = $1 WHERE user_id = $2";
    crate::write_db!(db, p => sqlx::query(sql).bind(error).bind(user_id).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A re-sync went through: the link is fresh, with an optional note.
pub async fn mark_synced(tx: &mut Tx, user_id: i64, note: Option<&str>) -> Result<(), DbError> {
    let sql = "UPDATE peeringdb_links SET last_synced_at = $1, stale_since = NULL, last_error = $2 WHERE user_id = $3";
    execute!(tx, sqlx::query(sql).bind(now()).bind(note).bind(user_id))?;
    Ok(())
}

/// What a re-sync starts from: one query for a whole batch.
#[derive(Debug, Clone, sqlx_macros::FromRow)]
pub struct Due {
    pub user_id: i64,
    pub username: String,
    pub peeringdb_id: i64,
    /// Sealed.
    pub refresh_token: String,
    /// The last login used a second factor (a re-sync keeps its MFA policy).
    pub mfa: bool,
}

const DUE_SELECT: &str = "SELECT l.user_id, u.username, u.peeringdb_id, l.refresh_token, l.mfa FROM peeringdb_links l JOIN users u ON u.id = l.user_id \
                          WHERE l.refresh_token IS NOT NULL AND u.peeringdb_id IS NOT NULL";

/// Linked users whose re-sync is due (never synced, or last synced before
/// `synced_before`), oldest first; stale links and disabled users wait.
pub async fn due(db: &Db, synced_before: time::OffsetDateTime, limit: i64) -> Result<Vec<Due>, DbError> {
    let sql = format!(
        "{DUE_SELECT} AND l.stale_since IS NULL AND NOT u.disabled AND (l.last_synced_at IS NULL OR l.last_synced_at < $1) \
         ORDER BY l.last_synced_at IS NOT NULL, l.last_synced_at, l.user_id LIMIT $2"
    );
    Ok(with_db!(db, p => sqlx::query_as::<_, Due>(&sql).bind(synced_before).bind(limit).fetch_all(p).await)?)
}

/// One user's link as a re-sync starts from it, whether due or not.
pub async fn due_one(db: &Db, user_id: i64) -> Result<Option<Due>, DbError> {
    let sql = format!("{DUE_SELECT} AND l.user_id = $1");
    Ok(with_db!(db, p => sqlx::query_as::<_, Due>(&sql).bind(user_id).fetch_optional(p).await)?)
}

/// Users whose link has been stale since before `cutoff` and who still
/// hold PeeringDB grants.
pub async fn stale_with_grants(db: &Db, cutoff: time::OffsetDateTime) -> Result<Vec<i64>, DbError> {
    let sql = "SELECT l.user_id FROM peeringdb_links l WHERE l.stale_since IS NOT NULL AND l.stale_since < $1 \
               AND EXISTS (SELECT 1 FROM affiliations a WHERE a.user_id = l.user_id AND a.source = 'peeringdb') ORDER BY l.user_id";
    Ok(with_db!(db, p => sqlx::query_scalar(sql).bind(cutoff).fetch_all(p).await)?)
}

/// (links synced at least once, stale, failing at PeeringDB, the oldest
/// last sync of a link that is neither stale nor without a token).
pub async fn summary(db: &Db) -> Result<(i64, i64, i64, Option<time::OffsetDateTime>), DbError> {
    let sql = "SELECT (SELECT COUNT(*) FROM peeringdb_links WHERE last_synced_at IS NOT NULL), \
               (SELECT COUNT(*) FROM peeringdb_links WHERE stale_since IS NOT NULL), \
               (SELECT COUNT(*) FROM peeringdb_links WHERE stale_since IS NULL AND last_error IS NOT NULL), \
               (SELECT MIN(last_synced_at) FROM peeringdb_links WHERE stale_since IS NULL AND refresh_token IS NOT NULL)";
    Ok(with_db!(db, p => sqlx::query_as(sql).fetch_one(p).await)?)
}

/// The link's state, for the console.
#[derive(Debug, Clone, sqlx_macros::FromRow)]
pub struct LinkState {
    pub last_synced_at: Option<time::OffsetDateTime>,
    pub stale_since: Option<time::OffsetDateTime>,
    pub last_error: Option<String>,
    pub has_token: bool,
}

pub async fn state_of(db: &Db, user_id: i64) -> Result<Option<LinkState>, DbError> {
    let sql = "SELECT last_synced_at, stale_since, last_error, refresh_token IS NOT NULL AS has_token FROM peeringdb_links WHERE user_id = $1";
    Ok(with_db!(db, p => sqlx::query_as::<_, LinkState>(sql).bind(user_id).fetch_optional(p).await)?)
}
