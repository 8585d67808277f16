//! tower-sessions records kept in our own database, so every replica sees
//! the same sessions and an admin can end all sessions of one user.

use std::collections::HashMap;

use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use app::backend::session_keys::USER_ID;

use super::{now, Db, DbError, Tx};
use crate::{backend_sql, execute, with_db, write_db};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn encode(record: &Record) -> session_store::Result<(String, Option<i64>)> {
    let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let user_id = record.data.get(USER_ID).and_then(|v| v.as_i64());
    Ok((data, user_id))
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let (data, user_id) = encode(record)?;
        let sql = "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4)";
        loop {
            let id = record.id.to_string();
            let result = write_db!(&self.db, p => sqlx::query(sql).bind(&id).bind(user_id).bind(&data).bind(record.expiry_date).execute(p).await.map(|r| r.rows_affected()));
            match result.map_err(DbError::from) {
                Ok(_) => return Ok(()),
                // 128 random bits collide in theory only; take a new id.
                Err(e) if e.is_unique_violation() => record.id = Id::default(),
                Err(e) => return Err(backend(e)),
            }
        }
    }

    /// Updates only: a session that was ended (logout elsewhere, user
    /// disabled, access withdrawn) while a request was in flight stays ended.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (data, user_id) = encode(record)?;
        let sql = "UPDATE sessions SET user_id = $1, data = $2, expires_at = $3 WHERE id = $4";
        let id = record.id.to_string();
        write_db!(&self.db, p => sqlx::query(sql).bind(user_id).bind(&data).bind(record.expiry_date).bind(&id).execute(p).await.map(|r| r.rows_affected()))
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let sql = "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2";
        let id_text = id.to_string();
        let row: Option<(String, time::OffsetDateTime)> =
            with_db!(&self.db, p => sqlx::query_as(sql).bind(&id_text).bind(now()).fetch_optional(p).await).map_err(backend)?;
        match row {
            None => Ok(None),
            Some((data, expiry_date)) => {
                let data: HashMap<String, serde_json::Value> =
                    serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
                Ok(Some(Record { id: *id, data, expiry_date }))
            }
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let id = id.to_string();
        write_db!(&self.db, p => sqlx::query("DELETE FROM sessions WHERE id = $1").bind(&id).execute(p).await.map(|r| r.rows_affected())).map_err(backend)?;
        Ok(())
    }
}

/// Ends every session of a user (disable, de-provisioning, password change).
pub async fn end_all_of(tx: &mut Tx, user_id: i64) -> Result<u64, DbError> {
    Ok(execute!(tx, sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id))?)
}

/// Ends the sessions of those among `user_ids` who can no longer act for
/// any active customer (superadmins keep the console); returns how many.
pub async fn end_where_no_access(tx: &mut Tx, user_ids: &[i64]) -> Result<u64, DbError> {
    if user_ids.is_empty() {
        return Ok(0);
    }
    let sql = backend_sql!(tx,
        sqlite: "DELETE FROM sessions WHERE user_id IN (SELECT value FROM json_each($1)) \
                 AND user_id NOT IN (SELECT id FROM users WHERE is_superadmin) \
                 AND NOT EXISTS (SELECT 1 FROM affiliations a JOIN customers c ON c.id = a.customer_id \
                                 WHERE a.user_id = sessions.user_id AND c.status = 'active')",
        postgres: "DELETE FROM sessions WHERE user_id IN (SELECT (jsonb_array_elements_text($1::text::jsonb))::bigint) \
                   AND user_id NOT IN (SELECT id FROM users WHERE is_superadmin) \
                   AND NOT EXISTS (SELECT 1 FROM affiliations a JOIN customers c ON c.id = a.customer_id \
                                   WHERE a.user_id = sessions.user_id AND c.status = 'active')");
    Ok(execute!(tx, sqlx::query(sql).bind(super::json_list(user_ids)))?)
}

/// How many live sessions a user has.
pub async fn count_of(db: &Db, user_id: i64) -> Result<i64, DbError> {
    Ok(with_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2")
        .bind(user_id).bind(now()).fetch_one(p).await)?)
}

/// Deletes expired sessions and pending logins; run periodically.
pub async fn purge_expired(db: &Db) -> Result<u64, DbError> {
    let at = now();
    let a = write_db!(db, p => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(at).execute(p).await.map(|r| r.rows_affected()))?;
    let b = write_db!(db, p => sqlx::query("DELETE FROM pending_logins WHERE expires_at <= $1").bind(at).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(a + b)
}
