//! Real `peerportal` processes on a throwaway database, and what the
//! kernel says they use.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};

use crate::stats;

pub const CLIENT_ID: &str = "load-client";
pub const CLIENT_SECRET: &str = "load-client-secret-not-a-real-one";

/// Where the portal keeps its data for one scenario; dropped afterwards.
pub enum Database {
    Sqlite { url: String, _dir: tempfile::TempDir },
    Postgres { url: String, admin: String, name: String },
}

impl Database {
    pub fn sqlite() -> anyhow::Result<Database> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}/load.db", dir.path().display());
        Ok(Database::Sqlite { url, _dir: dir })
    }

    /// A fresh database on the server `admin` points at (created with psql).
    pub fn postgres(admin: &str, name: &str) -> anyhow::Result<Database> {
        psql(admin, &format!("DROP DATABASE IF EXISTS {name}"))?;
        psql(admin, &format!("CREATE DATABASE {name}"))?;
        let mut url = url::Url::parse(admin).context("--postgres is not a URL")?;
        url.set_path(name);
        Ok(Database::Postgres { url: url.to_string(), admin: admin.to_string(), name: name.to_string() })
    }

    pub fn url(&self) -> &str {
        match self {
            Database::Sqlite { url, .. } | Database::Postgres { url, .. } => url,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Database::Sqlite { .. } => "SQLite",
            Database::Postgres { .. } => "PostgreSQL",
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Database::Postgres { admin, name, .. } = self {
            let _ = psql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let psql = find_psql().context("psql not found (Debian's postgresql-client)")?;
    let out = Command::new(psql).args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql]).output()?;
    if !out.status.success() {
        bail!("psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn find_psql() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("psql"))
        .find(|p| p.exists());
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| Some(e.ok()?.path().join("bin/psql")))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        found.pop()
    })
}

/// How to start the portal binary.
pub struct Launcher {
    pub binary: PathBuf,
    pub database_url: String,
    pub secret_key_file: PathBuf,
    /// The address the load balancer would have: replica A's.
    pub public: String,
    /// PeeringDB's base URL: the simulator's or the Django stand-in's.
    pub peeringdb: String,
}

impl Launcher {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PEERPORTAL_PUBLIC_URL", &self.public)
            .env("PEERPORTAL_DATABASE_URL", &self.database_url)
            .env("PEERPORTAL_SECRET_KEY_FILE", &self.secret_key_file)
            .env("LEPTOS_ENV", "PROD")
            .env("AUTH_PEERINGDB_ENABLED", "true")
            // The callback's time at PeeringDB, subtracted from the portal's own.
            .env("PEERPORTAL_SERVER_TIMING", "true")
            // The burst's operator logs in with a password alone.
            .env("PEERPORTAL_REQUIRE_2FA", "off")
            // The burst's clients come "through nginx" with X-Forwarded-For.
            .env("PEERPORTAL_TRUSTED_PROXIES", "127.0.0.1")
            .env("PEERINGDB_OAUTH_CLIENT_ID", CLIENT_ID)
            .env("PEERINGDB_OAUTH_CLIENT_SECRET", CLIENT_SECRET)
            .env("PEERINGDB_OAUTH_URL", &self.peeringdb)
            // What a production exchange would log (request lines off),
            // unless the person profiling asks for more.
            .env("RUST_LOG", std::env::var("PEERPORTAL_LOAD_LOG").unwrap_or_else(|_| "warn".into()));
        // Allocator tuning is an operator's choice; pass it on to compare.
        for (key, value) in std::env::vars_os() {
            if key.to_str().is_some_and(|k| k.starts_with("MIMALLOC_")) {
                cmd.env(key, value);
            }
        }
        cmd
    }

    /// `peerportal sync` (every linked user, now) with the request budget
    /// lifted, started for the caller to watch.
    pub fn spawn_sync(&self) -> anyhow::Result<Child> {
        self.command()
            .arg("sync")
            .env("PEERINGDB_REQUESTS_PER_MINUTE", "1000000000")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {} sync", self.binary.display()))
    }

    /// `peerportal customers import` of a CSV file, as an operator would.
    pub fn import_customers(&self, csv: &Path) -> anyhow::Result<String> {
        let out = self.command().args(["customers", "import"]).arg(csv).arg("--allow-reserved").output()?;
        if !out.status.success() {
            bail!("customers import failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// `peerportal admin create`, as an operator would.
    pub fn create_admin(&self, username: &str, password: &str) -> anyhow::Result<()> {
        let out = self
            .command()
            .args(["admin", "create", "--username", username, "--email"])
            .arg(format!("{username}@example.net"))
            .env("PEERPORTAL_ADMIN_PASSWORD", password)
            .output()?;
        if !out.status.success() {
            bail!("admin create failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(())
    }

    pub async fn start(&self, port: u16) -> anyhow::Result<Replica> {
        let child = self
            .command()
            .arg("serve")
            .env("PEERPORTAL_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", self.binary.display()))?;
        let replica = Replica { base: format!("http://127.0.0.1:{port}"), child };
        let probe = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(r) = probe.get(format!("{}/healthz", replica.base)).send().await {
                if r.status().is_success() {
                    return Ok(replica);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the replica on {} did not answer /healthz within 15 s", replica.base)
    }
}

pub struct Replica {
    pub base: String,
    child: Child,
}

/// A process's CPU time so far (user + system) and resident memory in KiB,
/// from /proc; `None` once it is gone.
pub fn cpu_and_rss(pid: u32) -> Option<(Duration, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let ticks = stats::cpu_ticks(&stat)?;
    let cpu = Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64);
    Some((cpu, stats::status_kib(&status, "VmRSS").unwrap_or(0)))
}

impl Replica {
    fn proc_file(&self, name: &str) -> String {
        std::fs::read_to_string(format!("/proc/{}/{name}", self.child.id())).unwrap_or_default()
    }

    /// CPU time used so far (user + system).
    pub fn cpu(&self) -> Duration {
        let ticks = stats::cpu_ticks(&self.proc_file("stat")).unwrap_or(0);
        Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64)
    }

    /// Resident memory now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        stats::status_kib(&self.proc_file("status"), "VmRSS").unwrap_or(0)
    }

    /// The most resident memory the process ever had, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        stats::status_kib(&self.proc_file("status"), "VmHWM").unwrap_or(0)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clock_ticks_per_second() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100)
    })
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
