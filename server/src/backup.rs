//! `peerportal backup` and `peerportal restore` for SQLite. PostgreSQL has
//! `pg_dump` and `pg_restore`, which know more than we would.
//!
//! A backup is `VACUUM INTO`: one read transaction, so it is the database
//! as one moment's commits left it while the portal goes on serving, and
//! it is compact. A restore copies a backup into the configured database
//! with SQLite's backup API, after checking that the file is a sound
//! PeerPortal database no newer than this binary, and only when nobody has
//! the database open. Blocking: run them off the async workers.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Why a backup or a restore did nothing.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "PEERPORTAL_DATABASE_URL is PostgreSQL: back it up with pg_dump (pg_dump --format=custom --file=peerportal.dump \"$PEERPORTAL_DATABASE_URL\") and restore with pg_restore"
    )]
    Postgres,
    #[error("PEERPORTAL_DATABASE_URL: {0}")]
    Url(String),
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error("{0} exists: a backup never overwrites a file")]
    Exists(PathBuf),
    #[error("{0} is not a PeerPortal backup: {1}")]
    NotABackup(PathBuf, String),
    #[error("{path} was made by a newer PeerPortal (schema {found}; this one knows {known}): restore it with that version")]
    Newer { path: PathBuf, found: i64, known: i64 },
    #[error("{0} is in use (a portal or a command has it open): stop every process using it, then restore")]
    InUse(PathBuf),
    #[error("{0}: {1}")]
    Sqlite(PathBuf, rusqlite::Error),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// How long a backup or restore waits for a lock another process holds
/// for a moment (a commit), as the portal does.
const BUSY: Duration = Duration::from_secs(5);

/// The file of a `sqlite:` database URL.
pub fn sqlite_path(database_url: &str) -> Result<PathBuf, BackupError> {
    if !database_url.starts_with("sqlite:") {
        return Err(BackupError::Postgres);
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(database_url).map_err(|e| BackupError::Url(e.to_string()))?;
    Ok(options.get_filename().to_path_buf())
}

/// Writes a consistent copy of the database at `database_url` to `to`
/// (readable by its owner only: it holds password hashes and sealed
/// tokens). Returns its size in bytes.
pub fn backup(database_url: &str, to: &Path) -> Result<u64, BackupError> {
    let from = sqlite_path(database_url)?;
    if !from.exists() {
        return Err(BackupError::NoDatabase(from));
    }
    if to.exists() {
        return Err(BackupError::Exists(to.to_path_buf()));
    }
    // Written under another name and renamed: a backup cut short never
    // carries the name of a good one.
    let partial = partial_name(to);
    let _ = std::fs::remove_file(&partial);
    let sqlite = |e| BackupError::Sqlite(from.clone(), e);
    let db = Connection::open_with_flags(&from, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(sqlite)?;
    db.busy_timeout(BUSY).map_err(sqlite)?;
    let written = db.execute("VACUUM INTO ?1", [partial.to_string_lossy()]);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(sqlite(e));
    }
    private(&partial)?;
    std::fs::rename(&partial, to).map_err(|e| BackupError::Io(to.to_path_buf(), e))?;
    std::fs::metadata(to).map(|m| m.len()).map_err(|e| BackupError::Io(to.to_path_buf(), e))
}

/// Replaces the database at `database_url` with the backup `from`.
/// Nothing is written unless `from` is a sound PeerPortal database this
/// binary can migrate and the database is not in use.
pub fn restore(database_url: &str, from: &Path, known_schema: i64) -> Result<(), BackupError> {
    let to = sqlite_path(database_url)?;
    check_backup(from, known_schema)?;
    let existed = to.exists();
    let sqlite = |e| BackupError::Sqlite(to.clone(), e);
    let mut db = Connection::open(&to).map_err(sqlite)?;
    if existed {
        // Leaving WAL mode needs the only connection to the file: while
        // another (a portal, a command) has it open, SQLite says it is
        // locked, or answers with the mode unchanged.
        let mode = db.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get::<_, String>(0));
        match mode {
            Ok(mode) if mode.eq_ignore_ascii_case("delete") => {}
            Ok(_) => return Err(BackupError::InUse(to)),
            Err(e) if matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)) => {
                return Err(BackupError::InUse(to))
            }
            Err(e) => return Err(sqlite(e)),
        }
    }
    db.busy_timeout(BUSY).map_err(sqlite)?;
    db.restore(rusqlite::DatabaseName::Main, from, None::<fn(rusqlite::backup::Progress)>).map_err(sqlite)?;
    drop(db);
    if !existed {
        private(&to)?;
    }
    Ok(())
}

/// The checks a restore makes of its file before touching anything.
fn check_backup(path: &Path, known_schema: i64) -> Result<(), BackupError> {
    let not = |why: String| BackupError::NotABackup(path.to_path_buf(), why);
    if !path.is_file() {
        return Err(not("no such file".into()));
    }
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| not(e.to_string()))?;
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| not(e.to_string()))?;
    if integrity != "ok" {
        return Err(not(format!("the integrity check says {integrity:?}")));
    }
    let found: Option<i64> = db
        .query_row("SELECT MAX(version) FROM _sqlx_migrations WHERE success", [], |r| r.get(0))
        .map_err(|_| not("it has no migration history".into()))?;
    let found = found.ok_or_else(|| not("no migration has run on it".into()))?;
    if found > known_schema {
        return Err(BackupError::Newer { path: path.to_path_buf(), found, known: known_schema });
    }
    Ok(())
}

fn partial_name(to: &Path) -> PathBuf {
    let mut name = to.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Readable and writable by the owner alone.
fn private(path: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| BackupError::Io(path.to_path_buf(), e))?;
    }
    Ok(())
}
