//! tower-sessions records kept in our own database, so every replica sees
//! the same sessions and an admin can end all sessions of one user. Rows
//! are keyed by a hash of the session id: the table holds no usable cookie.
//! Lifetimes are `domain::session`'s: the absolute one from sign-in, the
//! idle one from "last seen", which a read moves at most once a minute.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use app::backend::session_keys::{IP, USER_AGENT, USER_ID};
use domain::session::{SessionLifetime, SessionState};

use super::{now, Db, DbError, Tx};
use crate::{backend_sql, execute, with_db, write_db};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
    lifetime: SessionLifetime,
}

impl DbSessionStore {
    pub fn new(db: Db, lifetime: SessionLifetime) -> Self {
        Self { db, lifetime }
    }
}

/// The key a session is stored under.
pub fn id_hash(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(id.as_bytes()))
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// The record's data, and the columns copied out of it.
struct Encoded {
    data: String,
    user_id: Option<i64>,
    user_agent: Option<String>,
    ip: Option<String>,
}

fn encode(record: &Record) -> session_store::Result<Encoded> {
    let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let text = |key: &str| record.data.get(key).and_then(|v| v.as_str()).map(str::to_string);
    Ok(Encoded { data, user_id: record.data.get(USER_ID).and_then(|v| v.as_i64()), user_agent: text(USER_AGENT), ip: text(IP) })
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let e = encode(record)?;
        let at = now();
        let expires = self.lifetime.expires_at(at, at);
        let sql = "INSERT INTO sessions (id_hash, user_id, data, created_at, last_seen_at, expires_at, user_agent, ip) \
                   VALUES ($1, $2, $3, $4, $4, $5, $6, $7)";
        loop {
            let key = id_hash(&record.id.to_string());
            let result = write_db!(&self.db, p => sqlx::query(sql).bind(&key).bind(e.user_id).bind(&e.data).bind(at).bind(expires)
                .bind(&e.user_agent).bind(&e.ip).execute(p).await.map(|r| r.rows_affected()));
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
        let e = encode(record)?;
        let sql = "UPDATE sessions SET user_id = $1, data = $2, user_agent = $3, ip = $4 WHERE id_hash = $5";
        let key = id_hash(&record.id.to_string());
        write_db!(&self.db, p => sqlx::query(sql).bind(e.user_id).bind(&e.data).bind(&e.user_agent).bind(&e.ip).bind(&key)
            .execute(p).await.map(|r| r.rows_affected()))
            .map_err(backend)?;
        Ok(())
    }

    /// A live session's record. An expired one is deleted and reads as
    /// none; a live one's "last seen" moves when it is a minute old.
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let sql = "SELECT data, created_at, last_seen_at FROM sessions WHERE id_hash = $1";
        let key = id_hash(&id.to_string());
        let row: Option<(String, OffsetDateTime, OffsetDateTime)> =
            with_db!(&self.db, p => sqlx::query_as(sql).bind(&key).fetch_optional(p).await).map_err(backend)?;
        let Some((data, created, last_seen)) = row else {
            return Ok(None);
        };
        let at = now();
        match self.lifetime.state(created, last_seen, at) {
            SessionState::Expired => {
                write_db!(&self.db, p => sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(&key).execute(p).await.map(|r| r.rows_affected()))
                    .map_err(backend)?;
                return Ok(None);
            }
            SessionState::Live { touch: true } => {
                let sql = "UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3";
                let expires = self.lifetime.expires_at(created, at);
                write_db!(&self.db, p => sqlx::query(sql).bind(at).bind(expires).bind(&key).execute(p).await.map(|r| r.rows_affected()))
                    .map_err(backend)?;
            }
            SessionState::Live { touch: false } => {}
        }
        let data: HashMap<String, serde_json::Value> = serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date: self.lifetime.expires_at(created, at) }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let key = id_hash(&id.to_string());
        write_db!(&self.db, p => sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(&key).execute(p).await.map(|r| r.rows_affected()))
            .map_err(backend)?;
        Ok(())
    }
}

/// One live session of a person, for their account page.
#[derive(Debug, sqlx_macros::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A user's live sessions, most recently seen first.
pub async fn of_user(db: &Db, user_id: i64) -> Result<Vec<SessionRow>, DbError> {
    let sql = "SELECT id_hash, created_at, last_seen_at, user_agent, ip FROM sessions WHERE user_id = $1 AND expires_at > $2 \
               ORDER BY last_seen_at DESC, id_hash";
    Ok(with_db!(db, p => sqlx::query_as::<_, SessionRow>(sql).bind(user_id).bind(now()).fetch_all(p).await)?)
}

/// Ends one session of a user; false when there is no such session of theirs.
pub async fn end_one(tx: &mut Tx, user_id: i64, id_hash: &str) -> Result<bool, DbError> {
    Ok(execute!(tx, sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash = $2").bind(user_id).bind(id_hash))? > 0)
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

/// Sessions not yet expired, of every replica.
pub async fn live_count(db: &Db) -> Result<i64, DbError> {
    Ok(with_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions WHERE expires_at > $1").bind(now()).fetch_one(p).await)?)
}

/// Deletes expired sessions and pending logins; run periodically.
pub async fn purge_expired(db: &Db) -> Result<u64, DbError> {
    let at = now();
    let a = write_db!(db, p => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(at).execute(p).await.map(|r| r.rows_affected()))?;
    let b = write_db!(db, p => sqlx::query("DELETE FROM pending_logins WHERE expires_at <= $1").bind(at).execute(p).await.map(|r| r.rows_affected()))?;
    let stale = at - domain::throttle::WINDOW;
    let c = write_db!(db, p => sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1").bind(stale).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(a + b + c)
}
