//! The `peerportal` command line.

use std::io::IsTerminal;

use clap::{Parser, Subcommand};
use secrecy::SecretString;
use serde_json::json;

use crate::db::Db;
use crate::{import, password, store};

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
    /// List all customers.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List all users.
    List,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Password(#[from] password::PasswordError),
}

/// Usernames are stored lowercase: letters, digits, '.', '_' and '-'.
pub fn normalize_username(username: &str) -> Result<String, String> {
    let username = username.trim().to_lowercase();
    if username.is_empty() || username.len() > 64 || !username.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
        return Err("1 to 64 letters, digits, '.', '_' or '-'".into());
    }
    Ok(username)
}

/// Something@something, no spaces: the rest is the mail server's business.
pub fn plausible_email(email: &str) -> bool {
    matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace))
}

pub async fn admin_create(db: &Db, username: &str, email: &str, name: Option<&str>) -> Result<i64, CliError> {
    let username = normalize_username(username).map_err(|e| CliError::Usage(format!("--username must be {e}")))?;
    if !plausible_email(email) {
        return Err(CliError::Usage(format!("--email {email:?} is not an email address")));
    }
    let secret = read_admin_password()?;
    password::validate_new(&secret).map_err(|e| CliError::Usage(format!("password: {e}")))?;
    let hash = password::hash(secret).await?;
    let mut tx = db.begin().await?;
    let new = store::NewUser {
        username: &username,
        name: name.unwrap_or(&username),
        email,
        password_hash: Some(&hash),
        is_superadmin: true,
        created_via: "cli",
    };
    let id = match store::insert_user(&mut tx, &new).await {
        Ok(id) => id,
        Err(e) if e.is_unique_violation() => return Err(CliError::Usage(format!("a user named {username:?} already exists"))),
        Err(e) => return Err(e.into()),
    };
    let entry = store::AuditEntry {
        actor: "cli".into(),
        event: "user.created",
        user_id: Some(id),
        customer_id: None,
        details: json!({ "username": username, "superadmin": true }),
        ip: None,
    };
    store::audit(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(id)
}

fn read_admin_password() -> Result<SecretString, CliError> {
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

/// Imports a CSV file in one transaction. Returns (created, updated).
pub async fn customers_import(db: &Db, text: &str, actor: &str, allow_reserved: bool) -> Result<(usize, usize), CliError> {
    let customers = import::parse_customers(text, allow_reserved).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        CliError::Usage(format!("nothing was imported; fix these rows:\n{}", lines.join("\n")))
    })?;
    let mut tx = db.begin().await?;
    let created = write_customers(&mut tx, &customers).await?;
    let updated = customers.len() - created;
    let entry = store::AuditEntry {
        actor: actor.into(),
        event: "customers.imported",
        user_id: None,
        customer_id: None,
        details: json!({ "created": created, "updated": updated }),
        ip: None,
    };
    store::audit(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok((created, updated))
}

/// Creates or updates every customer; returns how many were new.
pub async fn write_customers(tx: &mut crate::db::Tx, customers: &[store::CustomerInput]) -> Result<usize, crate::db::DbError> {
    let mut created = 0;
    for c in customers {
        if store::upsert_customer(tx, c).await? {
            created += 1;
        }
    }
    Ok(created)
}

pub async fn customers_list(db: &Db) -> Result<String, CliError> {
    let customers = crate::console_store::all_customers(db).await?;
    let mut out = format!("{:<16} {:<32} {:<9} {:<9} {:<9} {}\n", "SHORTNAME", "NAME", "TYPE", "STATUS", "PEERINGDB", "ASNS");
    for c in &customers {
        out.push_str(&format!(
            "{:<16} {:<32} {:<9} {:<9} {:<9} {}\n",
            c.shortname,
            c.name,
            c.kind,
            c.status,
            if c.peeringdb_login { "on" } else { "off" },
            app::format_asns(&c.asns)
        ));
    }
    out.push_str(&format!("{} customers\n", customers.len()));
    Ok(out)
}

pub async fn users_list(db: &Db) -> Result<String, CliError> {
    let users = store::list_users(db).await?;
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
