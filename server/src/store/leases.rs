//! Named leases in the database: one holder at a time across replicas,
//! taken over once the holder stops renewing.

use time::OffsetDateTime;

use super::{Db, DbError};
use crate::write_db;

/// Takes or renews the lease `name` for `holder` until `until`; false when
/// another holder has it and it has not expired at `now`.
pub async fn acquire(db: &Db, name: &str, holder: &str, now: OffsetDateTime, until: OffsetDateTime) -> Result<bool, DbError> {
    let sql = "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
               ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
               WHERE leases.holder = excluded.holder OR leases.expires_at < $4";
    let n = write_db!(db, p => sqlx::query(sql).bind(name).bind(holder).bind(until).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Gives the lease up (only if `holder` has it).
pub async fn release(db: &Db, name: &str, holder: &str) -> Result<(), DbError> {
    write_db!(db, p => sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2").bind(name).bind(holder).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}
