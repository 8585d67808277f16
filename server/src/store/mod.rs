//! The database adapter: SQLite (default, embedded) or PostgreSQL (several
//! replicas), and every query, grouped by what it is about.
//!
//! Every query is written once, as plain SQL that runs unchanged on both.
//! Instead of sqlx's `Any` driver (which cannot decode SQLite booleans or
//! timestamps), the pool is an enum and [`with_db!`]/[`with_tx!`] compile
//! each query once per backend with native types; `docs/design.md` says why
//! these macros and not a generic layer. Reads take the pool; writes take an
//! open transaction, so callers decide what commits together. Words of the
//! domain's vocabulary are read back strictly: an unknown one is
//! [`DbError::Corrupt`], never a default.

pub mod audit;
pub mod budget;
pub mod customers;
pub mod grants;
pub mod invitations;
pub mod leases;
pub mod links;
pub mod outbox;
pub mod pending;
pub mod resets;
pub mod sessions;
pub mod throttle;
pub mod two_factor;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

#[derive(Clone, Debug)]
pub enum Db {
    /// Readers, and the one connection every write of this process goes
    /// through (see [`Db::begin`]).
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// An open write transaction on either backend.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$p` bound to the concrete pool.
#[macro_export]
macro_rules! with_db {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { read: $p, .. } => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}

/// [`with_db!`] for one write outside a transaction: on SQLite it waits its
/// turn for the writer connection (see [`Db::begin`]), so it never meets
/// SQLite's sleeping busy handler.
#[macro_export]
macro_rules! write_db {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { write: $p, .. } => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the transaction's concrete connection.
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// Runs one statement in a transaction and gives the number of rows it touched.
#[macro_export]
macro_rules! execute {
    ($tx:expr, $query:expr) => {
        $crate::with_tx!($tx, c => $query.execute(c).await.map(|r| r.rows_affected()))
    };
}

/// The one of two SQL texts that fits the transaction's backend, for the
/// few statements whose dialects differ (JSON and array parameters).
#[macro_export]
macro_rules! backend_sql {
    ($tx:expr, sqlite: $sqlite:expr, postgres: $postgres:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(..) => $sqlite,
            $crate::store::Tx::Postgres(_) => $postgres,
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
    /// A stored value the code does not understand (a word outside the
    /// vocabulary, a malformed aggregate): refused, never guessed.
    #[error("the database holds a value the portal does not know: {0}")]
    Corrupt(String),
}

/// Reads a stored word of the vocabulary (role, source, kind…), strictly.
pub fn word<T>(value: &str) -> Result<T, DbError>
where
    T: std::str::FromStr<Err = domain::UnknownValue>,
{
    value.parse().map_err(|e: domain::UnknownValue| DbError::Corrupt(e.to_string()))
}

/// ASNs are 32-bit; the column is a BIGINT because SQL has no unsigned int.
pub fn asn(value: i64) -> Result<u32, DbError> {
    u32::try_from(value).map_err(|_| DbError::Corrupt(format!("{value} is not an ASN")))
}

/// Groups `(customer_id, asn)` rows, keeping their order.
pub fn asns_by_customer(rows: Vec<(i64, i64)>) -> Result<std::collections::HashMap<i64, Vec<u32>>, DbError> {
    let mut by_customer: std::collections::HashMap<i64, Vec<u32>> = std::collections::HashMap::new();
    for (customer, number) in rows {
        by_customer.entry(customer).or_default().push(asn(number)?);
    }
    Ok(by_customer)
}

/// A list of ids as one parameter: a JSON array, read back with SQLite's
/// `json_each` or PostgreSQL's `jsonb_array_elements_text`, so each
/// statement is prepared once whatever the list's length.
pub fn json_list(ids: &[i64]) -> String {
    serde_json::Value::from(ids).to_string()
}

/// "2026-11-29 11:13 UTC": minutes are what people read in a console.
pub fn fmt_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

impl DbError {
    /// True when a UNIQUE constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Query(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// How long starting a write transaction took, its wait for the pool's
/// connection included: where requests queue when the database is the
/// bottleneck (`peerportal_db_transaction_begin_duration_seconds`).
/// Process-wide, as the pools are.
pub static BEGIN_WAITS: std::sync::LazyLock<prometheus_client::metrics::histogram::Histogram> =
    std::sync::LazyLock::new(crate::metrics::local_buckets);

fn idle(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// How long a writer waits for its turn before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often committed WAL pages are copied back into the database file.
const SQLITE_CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// WAL pages after which a commit checkpoints by itself after all: a safety
/// net should the background checkpoints fall behind (SQLite's default is
/// 1 000, about 4 MB).
const SQLITE_AUTOCHECKPOINT_PAGES: &str = "10000";

/// Copies the WAL back into the database file off the request path: left
/// to SQLite, the commit that crosses 1 000 WAL pages does it inline, two
/// `fsync`s in the middle of someone's login. `PASSIVE` never waits for
/// readers or writers.
fn spawn_sqlite_checkpoints(pool: SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SQLITE_CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                break;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                tracing::warn!(error = %e, "SQLite checkpoint failed; the WAL grows until one succeeds");
            }
        }
    });
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx_macros::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx_macros::migrate!("../migrations/postgres");

/// The newest SQLite migration this binary carries: a backup made by a
/// newer binary cannot be restored by this one.
pub fn sqlite_schema_version() -> i64 {
    SQLITE_MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

impl Db {
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(DbError::Connect)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .pragma("wal_autocheckpoint", SQLITE_AUTOCHECKPOINT_PAGES)
                .foreign_keys(true);
            // The writer first: it creates the file and turns WAL on.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(SQLITE_BUSY_TIMEOUT)
                .connect_with(opts.clone())
                .await
                .map_err(DbError::Connect)?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(SQLITE_BUSY_TIMEOUT)
                .connect_with(opts)
                .await
                .map_err(DbError::Connect)?;
            spawn_sqlite_checkpoints(read.clone());
            Ok(Db::Sqlite { read, write })
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await
                .map_err(DbError::Connect)?;
            Ok(Db::Postgres(pool))
        }
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite { write, .. } => SQLITE_MIGRATIONS.run(write).await,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await,
        }
        .map_err(DbError::Migrate)
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers never fail upgrading a read lock.
    ///
    /// Every write of this process, in a transaction or alone
    /// ([`write_db!`]), goes through one connection, queued fairly by its
    /// pool: SQLite's own busy handler sleeps between tries (unfair under
    /// load), and in WAL mode a connection drops its page cache whenever
    /// another one has committed, while the one writer only ever sees its
    /// own commits. Other processes on the same file (a second replica, the
    /// CLI) still meet the busy timeout.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        let asked = std::time::Instant::now();
        let tx = match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        };
        BEGIN_WAITS.observe(asked.elapsed().as_secs_f64());
        Ok(tx)
    }

    /// Each pool's connections: `(pool, open, idle, max)`.
    pub fn pool_state(&self) -> Vec<(&'static str, u32, u32, u32)> {
        match self {
            Db::Sqlite { read, write } => vec![
                ("sqlite_read", read.size(), idle(read.num_idle()), read.options().get_max_connections()),
                ("sqlite_write", write.size(), idle(write.num_idle()), write.options().get_max_connections()),
            ],
            Db::Postgres(p) => vec![("postgres", p.size(), idle(p.num_idle()), p.options().get_max_connections())],
        }
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        with_db!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    /// Serialises transactions about the same thing (one PeeringDB
    /// identity) across every replica until this one ends. SQLite needs
    /// nothing: `BEGIN IMMEDIATE` already holds the database's write lock.
    pub async fn lock_key(&mut self, key: i64) -> Result<(), DbError> {
        if let Tx::Postgres(t) = self {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(key).execute(&mut **t).await?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// The clock in one place; UTC always.
pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits leave the WAL to the background task: with SQLite's own
    /// checkpoint moved to 10 000 pages, a few hundred pages reach the
    /// database file only if that task runs.
    #[tokio::test]
    async fn committed_pages_reach_the_database_file_without_a_commit_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wal.db");
        let db = Db::connect(&format!("sqlite://{}", file.display())).await.unwrap();
        let Db::Sqlite { write: pool, .. } = &db else { unreachable!() };
        let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint").fetch_one(pool).await.unwrap();
        assert_eq!(pages.to_string(), SQLITE_AUTOCHECKPOINT_PAGES);

        sqlx::query("CREATE TABLE t (x TEXT)").execute(pool).await.unwrap();
        let before = std::fs::metadata(&file).unwrap().len();
        let mut tx = db.begin().await.unwrap();
        let fill = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) \
                    INSERT INTO t SELECT hex(randomblob(1000)) FROM n";
        execute!(&mut tx, sqlx::query(fill)).unwrap();
        tx.commit().await.unwrap();

        // Bounded wait (a liveness bound, not a speed assertion).
        let mut grown = false;
        for _ in 0..100 {
            if std::fs::metadata(&file).unwrap().len() > before + 500_000 {
                grown = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(grown, "the database file stayed at {before} bytes: nothing checkpointed the WAL");
        db.close().await;
    }
}
