//! PeeringDB logins between the redirect out and the callback back in,
//! kept server-side so any replica can finish what another started.

use domain::peeringdb::Pending;
use time::OffsetDateTime;

use super::{Db, DbError};
use crate::write_db;

/// Stores a pending login under `id` (a hash of the browser's binding
/// cookie), unless `address` already has `max` unexpired ones: false then.
/// One statement, so it costs a login nothing more than the insert.
pub async fn put(db: &Db, id: &str, p: &Pending, expires_at: OffsetDateTime, address: Option<&str>, max: i64) -> Result<bool, DbError> {
    let sql = "INSERT INTO pending_logins (id, state, pkce_verifier, next_path, created_at, expires_at, address, nonce) \
               SELECT $1, $2, $3, $4, $5, $6, CAST($7 AS TEXT), $9 \
               WHERE CAST($7 AS TEXT) IS NULL \
                  OR (SELECT COUNT(*) FROM pending_logins WHERE address = CAST($7 AS TEXT) AND expires_at > $5) < $8";
    let stored = write_db!(db, c => sqlx::query(sql).bind(id).bind(&p.state).bind(&p.pkce_verifier).bind(&p.next).bind(p.created_at).bind(expires_at)
        .bind(address).bind(max).bind(&p.nonce).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(stored > 0)
}

/// When the first of `address`'s unexpired pending logins expires.
pub async fn first_expiry(db: &Db, address: &str, at: OffsetDateTime) -> Result<Option<OffsetDateTime>, DbError> {
    let sql = "SELECT MIN(expires_at) FROM pending_logins WHERE address = $1 AND expires_at > $2";
    Ok(crate::with_db!(db, c => sqlx::query_scalar(sql).bind(address).bind(at).fetch_one(c).await)?)
}

/// Takes a pending login out of storage: whoever gets it is the only one.
pub async fn take(db: &Db, id: &str) -> Result<Option<Pending>, DbError> {
    let sql = "DELETE FROM pending_logins WHERE id = $1 RETURNING state, pkce_verifier, nonce, next_path, created_at";
    // state, verifier, nonce, next, created
    type Row = (String, String, Option<String>, Option<String>, OffsetDateTime);
    let row: Option<Row> =
        write_db!(db, c => sqlx::query_as(sql).bind(id).fetch_optional(c).await)?;
    Ok(row.map(|(state, pkce_verifier, nonce, next, created_at)| Pending { state, pkce_verifier, nonce, next, created_at }))
}
