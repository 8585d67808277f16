//! The `peerportal` command line.

use std::io::IsTerminal;

use clap::{Parser, Subcommand};
use domain::{Actor, AuditEvent, CreatedVia, Email, Username};
use secrecy::SecretString;
use serde_json::json;

use crate::keys::{refresh_context, Keyring};
use crate::password;
use crate::portal::resync::SweepOptions;
use crate::portal::Portal;
use crate::portal::customers::ImportError;
use crate::store::audit::{self, AuditEntry};
use crate::store::{customers, links, users, Db, DbError};

#[derive(Debug, Parser)]
#[command(name = "peerportal", version, about = "An IXP member portal with Login with PeeringDB")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage superadmin accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage customers (member networks).
    Customers {
        #[command(subcommand)]
        command: CustomersCommand,
    },
    /// Inspect user accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Re-sync linked users with PeeringDB now: refresh, read the profile,
    /// apply the same checks and grant plan as a login; print what changed.
    Sync {
        /// Only this user.
        #[arg(long)]
        user: Option<String>,
        /// Show what would change and write nothing (except the refresh
        /// token PeeringDB rotates on every use, which must be kept).
        #[arg(long)]
        dry_run: bool,
    },
    /// Write a consistent copy of the SQLite database to FILE while the
    /// portal serves (the key file is not in it: keep a copy of that too).
    Backup { file: std::path::PathBuf },
    /// Replace the SQLite database with the backup FILE. Refused while any
    /// process has the database open, and for a file that is not a sound
    /// PeerPortal database.
    Restore { file: std::path::PathBuf },
    /// Print the settings in effect (secrets hidden) and check what they
    /// name: the database answers, the key file, the browser bundle, and
    /// PeeringDB's discovery document and key set. Fails if a check fails.
    CheckConfig,
    /// Manage the key file that seals secrets at rest (PEERPORTAL_SECRET_KEY_FILE).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new key to the key file and re-seal every stored secret under
    /// it. Older keys stay in the file (replicas started before still seal
    /// with them until they restart); run it again later to move those too.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a superadmin with a password (from PEERPORTAL_ADMIN_PASSWORD or a prompt).
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Display name; defaults to the username.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CustomersCommand {
    /// Import customers from CSV: name,shortname,asns,type,status,peeringdb_login.
    /// Existing shortnames are updated. Any bad row and nothing is imported.
    Import {
        file: std::path::PathBuf,
        /// Accept AS_TRANS, documentation, private-use and reserved ASNs (labs, demos).
        #[arg(long)]
        allow_reserved: bool,
    },
    /// Import the members of one exchange from an IX-F Member Export (a
    /// file or an http(s) URL, schema 0.6 to 1.0): new members are
    /// created, known ones (matched by ASN) updated, and customers the
    /// export no longer lists are named, never removed. One problem and
    /// nothing is imported.
    ImportIxf {
        /// A file, or the export's URL (IXP Manager: /api/v4/member-export/ixf/1.0).
        source: String,
        /// Which exchange of the export (needed when it lists several).
        #[arg(long)]
        ixp_id: Option<i64>,
        /// Accept AS_TRANS, documentation, private-use and reserved ASNs.
        #[arg(long)]
        allow_reserved: bool,
        /// Show what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// List all customers.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List all users.
    List,
    /// Remove a person's two-factor authentication (a lost phone) and end
    /// their sessions; they set it up again at their next login.
    #[command(name = "reset-2fa")]
    Reset2fa { username: String },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    KeyFile(#[from] crate::keys::KeyFileError),
}

/// `peerportal sync`: every linked user (or one), now. The text to print,
/// or an error naming why PeeringDB could not be asked.
pub async fn sync(portal: &Portal, username: Option<&str>, dry_run: bool) -> Result<String, CliError> {
    let only = match username {
        Some(name) => Some(users::by_username(&portal.db, name).await?.ok_or_else(|| CliError::Usage(format!("no user named {name:?}")))?.id),
        None => None,
    };
    let opts = SweepOptions {
        synced_before: None,
        stale_cutoff: crate::store::now() - portal.config.stale_grace,
        only,
        limit: i64::MAX,
        dry_run,
        give_up_after: std::time::Duration::from_secs(110),
        started: crate::store::now(),
    };
    let report = portal.sweep(&opts).await.map_err(|e| CliError::Usage(e.to_string()))?;
    let mut out: String = report.lines.iter().map(|l| format!("{l}\n")).collect();
    out.push_str(&format!(
        "{} synced, {} changed{}, {} stale, {} with nothing to do, {} stale past the grace, {} PeeringDB errors\n",
        report.synced,
        report.changed,
        if dry_run { " (dry run: nothing written)" } else { "" },
        report.stale,
        report.nothing_to_do,
        report.grace_expired,
        report.errors
    ));
    if report.deferred > 0 {
        return Err(CliError::Usage(format!("{out}the request budget (PEERINGDB_REQUESTS_PER_MINUTE) left {} users for later", report.deferred)));
    }
    match (&report.gave_up, report.errors) {
        (Some(why), _) => Err(CliError::Usage(format!("{out}gave up: {why}"))),
        (None, 0) => Ok(out),
        (None, n) => Err(CliError::Usage(format!("{out}PeeringDB could not be asked for {n} users"))),
    }
}

/// `peerportal check-config`: the report, and whether every check passed.
pub async fn check_config(config: &crate::config::Config) -> (String, bool) {
    let mut out = String::from("settings in effect:\n");
    for (name, value) in config.settings() {
        out.push_str(&format!("  {name} = {value}\n"));
    }
    out.push_str("checks:\n");
    let mut all = true;
    let mut report = |what: &str, result: Result<String, String>| {
        let line = match result {
            Ok(fine) => format!("  ok      {what}: {fine}\n"),
            Err(why) => {
                all = false;
                format!("  FAILED  {what}: {why}\n")
            }
        };
        out.push_str(&line);
    };
    let url = config.database_url.expose();
    let fresh = crate::backup::sqlite_path(url).ok().filter(|path| !path.exists());
    let database = match fresh {
        // Connecting would create it: a check writes nothing.
        Some(path) => Ok(format!("{} will be created at the first start", path.display())),
        None => match Db::connect(url).await {
            Ok(db) => {
                let answer = db.ping().await.map(|()| format!("{} answers", db.backend_name())).map_err(|e| e.to_string());
                db.close().await;
                answer
            }
            Err(e) => Err(e.to_string()),
        },
    };
    report("database", database);
    let keys = &config.secret_key_file;
    report(
        "key file",
        match std::fs::metadata(keys) {
            Ok(m) if m.is_file() => Ok(format!("{} exists", keys.display())),
            Ok(_) => Err(format!("{} is not a file", keys.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(format!("{} will be created at the first start", keys.display())),
            Err(e) => Err(format!("{}: {e}", keys.display())),
        },
    );
    report(
        "browser bundle",
        if crate::web::assets::bundled() { Ok("carried by this binary".into()) } else { Err("not in this binary: build it with `make build`".into()) },
    );
    if let Some(p) = &config.peeringdb {
        let discovered = match crate::peeringdb::PeeringDbClient::new(p, std::sync::Arc::new(crate::metrics::Metrics::new())) {
            Ok(client) => client.discover().await.map(|n| format!("{} answers with {n} signing key(s)", client.issuer)).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        report("PeeringDB discovery", discovered);
    }
    (out, all)
}

/// `peerportal users reset-2fa`: what to print.
pub async fn reset_two_factor(portal: &Portal, username: &str) -> Result<String, CliError> {
    let user = users::by_username(&portal.db, username).await?.ok_or_else(|| CliError::Usage(format!("no user named {username:?}")))?;
    if portal.remove_two_factor(user.id, domain::Actor::Cli, None, "peerportal users reset-2fa").await? {
        Ok(format!("two-factor authentication of {username} removed and their sessions ended; they set it up again at their next login\n"))
    } else {
        Ok(format!("{username} had no two-factor authentication; their sessions were ended\n"))
    }
}

/// What `keys rotate` did.
#[derive(Debug, PartialEq, Eq)]
pub struct Rotated {
    pub key_id: String,
    pub resealed: usize,
    /// Values no key of the file opens (tampered, or sealed under a key
    /// that was removed): left as they are; those links go stale at their
    /// next re-sync and come back at the person's next login.
    pub unreadable: Vec<i64>,
}

/// Adds a key and re-seals every stored refresh token and TOTP secret
/// under it, in one transaction (`peerportal keys rotate`).
pub async fn keys_rotate(db: &Db, keys: &Keyring) -> Result<Rotated, CliError> {
    let keys = keys.add_key()?;
    let mut tx = db.begin().await?;
    let mut out = Rotated { key_id: keys.current_id().to_string(), resealed: 0, unreadable: Vec::new() };
    for (user_id, sealed) in links::all_sealed(db).await? {
        let context = refresh_context(user_id);
        let Ok(secret) = keys.open(&sealed, &context) else {
            out.unreadable.push(user_id);
            continue;
        };
        let resealed = keys.seal(&secret, &context).map_err(|e| CliError::Usage(e.to_string()))?;
        if links::reseal(&mut tx, user_id, &sealed, &resealed).await? {
            out.resealed += 1;
        }
    }
    for (user_id, sealed) in crate::store::two_factor::all_sealed(db).await? {
        let context = crate::keys::totp_context(user_id);
        let Ok(secret) = keys.open(&sealed, &context) else {
            out.unreadable.push(user_id);
            continue;
        };
        let resealed = keys.seal(&secret, &context).map_err(|e| CliError::Usage(e.to_string()))?;
        if crate::store::two_factor::reseal(&mut tx, user_id, &sealed, &resealed).await? {
            out.resealed += 1;
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// Creates a superadmin with a password (`peerportal admin create`).
pub async fn admin_create(db: &Db, username: &str, email: &str, name: Option<&str>, password: SecretString) -> Result<i64, CliError> {
    let username = Username::parse(username).map_err(|e| CliError::Usage(format!("--username must be {e}")))?;
    let email = Email::parse(email).map_err(|e| CliError::Usage(format!("--email {e}")))?;
    password::validate_new(&password).map_err(|e| CliError::Usage(format!("password: {e}")))?;
    let hash = password::hash(password).await?;
    let mut tx = db.begin().await?;
    let new = users::NewUser {
        username: username.as_str(),
        name: name.unwrap_or(username.as_str()),
        email: email.as_str(),
        password_hash: Some(&hash),
        is_superadmin: true,
        peeringdb_id: None,
        created_via: CreatedVia::Cli,
    };
    let id = match users::insert(&mut tx, &new).await {
        Ok(id) => id,
        Err(e) if e.is_unique_violation() => return Err(CliError::Usage(format!("a user named {:?} already exists", username.as_str()))),
        Err(e) => return Err(e.into()),
    };
    let entry = AuditEntry {
        actor: Actor::Cli,
        event: AuditEvent::UserCreated,
        user_id: Some(id),
        customer_id: None,
        details: json!({ "username": username.as_str(), "superadmin": true }),
        ip: None,
    };
    audit::write(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(id)
}

/// The password for `admin create`: `PEERPORTAL_ADMIN_PASSWORD`, else asked twice on the terminal.
pub fn read_admin_password() -> Result<SecretString, CliError> {
    if let Ok(p) = std::env::var("PEERPORTAL_ADMIN_PASSWORD") {
        return Ok(SecretString::from(p));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage("set PEERPORTAL_ADMIN_PASSWORD or run on a terminal to be asked for the password".into()));
    }
    let first = rpassword::prompt_password("Password: ").map_err(|e| CliError::Usage(e.to_string()))?;
    let second = rpassword::prompt_password("Again: ").map_err(|e| CliError::Usage(e.to_string()))?;
    if first != second {
        return Err(CliError::Usage("the passwords differ".into()));
    }
    Ok(SecretString::from(first))
}

/// Imports a CSV text in one transaction (`peerportal customers import`).
pub async fn customers_import(db: &Db, text: &str, allow_reserved: bool) -> Result<(usize, usize), CliError> {
    Ok(crate::portal::customers::import(db, text, Actor::Cli, allow_reserved).await?)
}

/// `peerportal customers import-ixf`: what to print.
pub async fn customers_import_ixf(portal: &Portal, source: &str, ixp_id: Option<i64>, allow_reserved: bool, dry_run: bool) -> Result<String, CliError> {
    let json = crate::portal::customers::fetch_ixf(source).await.map_err(CliError::Usage)?;
    let source = crate::fetch::http_url(source).map(|u| crate::fetch::shown(&u));
    let run = crate::portal::customers::IxfRun { ixp_id, allow_reserved, dry_run, actor: Actor::Cli, ip: None, source };
    let r = crate::portal::customers::import_ixf(&portal.db, &json, &portal.config.ixf_mapping, run).await?;
    let mut out = format!("{} (ixp_id {}): {} customers, {} new, {} updated\n", r.ixp.1, r.ixp.0, r.rows.len(), r.created, r.updated);
    for row in &r.rows {
        out.push_str(&format!(
            "  {:<8} {:<24} {:<32} {:<9} {:<9} {}\n",
            if row.new { "new" } else { "update" },
            row.shortname,
            row.name,
            row.kind.as_str(),
            row.status.as_str(),
            domain::customer::format_asns(&row.asns)
        ));
    }
    if !r.missing.is_empty() {
        out.push_str(&format!("not in the export at this exchange (kept; look at them): {}\n", r.missing.join(", ")));
    }
    if dry_run {
        out.push_str("dry run: nothing written\n");
    }
    Ok(out)
}

pub async fn customers_list(db: &Db) -> Result<String, CliError> {
    let customers = customers::all(db).await?;
    let mut out = format!("{:<16} {:<32} {:<9} {:<9} {:<9} {}\n", "SHORTNAME", "NAME", "TYPE", "STATUS", "PEERINGDB", "ASNS");
    for c in &customers {
        out.push_str(&format!(
            "{:<16} {:<32} {:<9} {:<9} {:<9} {}\n",
            c.shortname,
            c.name,
            c.kind.as_str(),
            c.status.as_str(),
            if c.peeringdb_login { "on" } else { "off" },
            domain::customer::format_asns(&c.asns)
        ));
    }
    out.push_str(&format!("{} customers\n", customers.len()));
    Ok(out)
}

pub async fn users_list(db: &Db) -> Result<String, CliError> {
    let users = users::all(db).await?;
    let mut out = format!("{:<20} {:<24} {:<28} {:<11} {:<9} {}\n", "USERNAME", "NAME", "EMAIL", "ROLE", "STATE", "LAST LOGIN");
    for u in &users {
        let last = match (&u.last_login_at, &u.last_login_via) {
            (Some(at), Some(via)) => format!("{} via {via}", at.date()),
            _ => "never".into(),
        };
        out.push_str(&format!(
            "{:<20} {:<24} {:<28} {:<11} {:<9} {}\n",
            u.username,
            u.name,
            u.email,
            if u.is_superadmin { "superadmin" } else { "user" },
            if u.disabled { "disabled" } else { "active" },
            last
        ));
    }
    out.push_str(&format!("{} users\n", users.len()));
    Ok(out)
}
