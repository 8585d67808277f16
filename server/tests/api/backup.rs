//! `peerportal backup` during a login storm, and `peerportal restore`:
//! a backup is one moment's commits, whole; a restore gives back exactly
//! those rows, and refuses a database in use or a file that is not a
//! PeerPortal backup, writing nothing.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use peerportal::backup::{self, BackupError};
use rusqlite::{Connection, OpenFlags};

use crate::helpers::browser;
use crate::peeringdb::{spawn_pdb, PdbApp};

/// Every row of the tables a restore must give back, as text, in order.
fn rows(path: &Path) -> Vec<String> {
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut out = Vec::new();
    for (table, order) in [("users", "id"), ("affiliations", "user_id, customer_id"), ("audit_log", "id"), ("customers", "id")] {
        let sql = format!("SELECT * FROM {table} ORDER BY {order}");
        let mut stmt = db.prepare(&sql).unwrap();
        let columns = stmt.column_count();
        let mut found = stmt.query([]).unwrap();
        while let Some(row) = found.next().unwrap() {
            let cells: Vec<String> = (0..columns).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
            out.push(format!("{table}: {}", cells.join(" | ")));
        }
    }
    out
}

fn scalar(path: &Path, sql: &str) -> i64 {
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Logs in new people (each a new account, its grants and its audit rows
/// in one transaction) until told to stop.
fn storm(t: &PdbApp, stop: Arc<AtomicBool>, lanes: usize) -> Vec<tokio::task::JoinHandle<usize>> {
    let alice = t.sim.profile("alice").unwrap();
    (0..lanes)
        .map(|lane| {
            let (sim, base, stop, alice) = (t.sim.clone(), t.app.base.clone(), stop.clone(), alice.clone());
            let pdb = PdbApp { app: crate::helpers::TestApp::sharing(&t.app, browser(&base)), sim: sim.clone() };
            tokio::spawn(async move {
                let mut done = 0;
                while !stop.load(Ordering::Relaxed) && done < 200 {
                    let user = format!("storm-{lane}-{done}");
                    let mut profile = alice.clone();
                    profile["id"] = serde_json::json!(50_000 + lane * 1000 + done);
                    profile["email"] = serde_json::json!(format!("{user}@alpha.example"));
                    profile["name"] = serde_json::json!(user.clone());
                    sim.set_profile(&user, profile);
                    let flow = pdb.login_in(&browser(&base), &user, true).await;
                    assert_eq!(flow.response.status(), 302);
                    done += 1;
                }
                done
            })
        })
        .collect()
}

fn path_of(t: &PdbApp) -> PathBuf {
    backup::sqlite_path(&t.app.env["PEERPORTAL_DATABASE_URL"]).unwrap()
}

#[tokio::test]
async fn a_backup_taken_during_a_login_storm_restores_to_the_rows_of_that_moment() {
    let t = spawn_pdb(&[]).await;
    let url = t.app.env["PEERPORTAL_DATABASE_URL"].clone();
    if !url.starts_with("sqlite:") {
        let e = backup::backup(&url, Path::new("/nonexistent/never-written")).unwrap_err();
        assert!(matches!(e, BackupError::Postgres) && e.to_string().contains("pg_dump"), "{e}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let lanes = storm(&t, stop.clone(), 3);
    while t.app.count("users").await < 6 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let during = dir.path().join("during.db");
    let (u, p) = (url.clone(), during.clone());
    tokio::task::spawn_blocking(move || backup::backup(&u, &p)).await.unwrap().unwrap();
    // The storm goes on after the backup, then stops.
    let users_then = scalar(&during, "SELECT COUNT(*) FROM users");
    while t.app.count("users").await <= users_then {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for lane in lanes {
        lane.await.unwrap();
    }

    // Whole transactions only: every account the backup holds has its
    // creation, its login and its grants; no row points at a missing one.
    assert_eq!(scalar(&during, "SELECT COUNT(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), 0);
    assert_eq!(scalar(&during, "SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
    let whole = "SELECT COUNT(*) FROM users u WHERE u.created_via = 'peeringdb' AND (
        NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.user_id = u.id AND a.event = 'user.created')
        OR NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.user_id = u.id AND a.event = 'login.success')
        OR NOT EXISTS (SELECT 1 FROM affiliations g WHERE g.user_id = u.id AND g.source = 'peeringdb'))";
    assert!(users_then >= 6);
    assert_eq!(scalar(&during, whole), 0);
    assert_eq!(scalar(&during, "SELECT COUNT(*) FROM audit_log WHERE event = 'user.created' AND user_id NOT IN (SELECT id FROM users)"), 0);

    // Restored elsewhere, the backup is exactly the rows it holds.
    let restored = dir.path().join("restored.db");
    let target = format!("sqlite://{}", restored.display());
    let (tg, p) = (target.clone(), during.clone());
    tokio::task::spawn_blocking(move || backup::restore(&tg, &p, peerportal::store::sqlite_schema_version())).await.unwrap().unwrap();
    assert_eq!(rows(&restored), rows(&during));

    // With the storm over, a backup is the live database's rows.
    let after = dir.path().join("after.db");
    let (u, p) = (url.clone(), after.clone());
    tokio::task::spawn_blocking(move || backup::backup(&u, &p)).await.unwrap().unwrap();
    assert_eq!(rows(&after), rows(&path_of(&t)));
    assert!(rows(&after).len() > rows(&during).len());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&after).unwrap().permissions().mode() & 0o777, 0o600, "a backup is its owner's alone");
    }
    let again = backup::backup(&url, &after).unwrap_err();
    assert!(matches!(again, BackupError::Exists(_)), "{again}");
}

#[tokio::test]
async fn a_restore_refuses_a_database_in_use_and_a_file_that_is_no_backup_and_writes_nothing() {
    let t = spawn_pdb(&[]).await;
    let url = t.app.env["PEERPORTAL_DATABASE_URL"].clone();
    if !url.starts_with("sqlite:") {
        let e = backup::restore(&url, Path::new("/nonexistent"), 1).unwrap_err();
        assert!(matches!(e, BackupError::Postgres), "{e}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("stale.db");
    backup::backup(&url, &stale).unwrap();
    t.login_as("alice", true).await;
    let good = dir.path().join("good.db");
    backup::backup(&url, &good).unwrap();
    let live = rows(&path_of(&t));
    let known = peerportal::store::sqlite_schema_version();

    // The portal has the database open.
    let e = backup::restore(&url, &good, known).unwrap_err();
    assert!(matches!(e, BackupError::InUse(_)), "{e}");

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"not a database at all, just some bytes").unwrap();
    let e = backup::restore(&url, &garbage, known).unwrap_err();
    assert!(matches!(e, BackupError::NotABackup(..)), "{e}");

    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    let e = backup::restore(&url, &foreign, known).unwrap_err();
    assert!(matches!(e, BackupError::NotABackup(..)) && e.to_string().contains("migration"), "{e}");

    let newer = dir.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    Connection::open(&newer)
        .unwrap()
        .execute("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (?1, 'future', 1, x'00', 0)", [known + 1])
        .unwrap();
    let e = backup::restore(&url, &newer, known).unwrap_err();
    assert!(matches!(e, BackupError::Newer { .. }), "{e}");

    assert_eq!(rows(&path_of(&t)), live, "nothing was written");

    // A database nobody has open (the portal stopped), in WAL mode as the
    // portal leaves it, is replaced whole.
    let mode: String = Connection::open(&stale).unwrap().query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    assert_ne!(rows(&stale), rows(&good));
    backup::restore(&format!("sqlite://{}", stale.display()), &good, known).unwrap();
    assert_eq!(rows(&stale), rows(&good));
}
