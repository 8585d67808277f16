//! Importing customers from CSV: the same rules and the same writer for
//! the console, the command line and demo mode. All rows or none.

use std::collections::HashMap;

use app::console::ImportRow;
use domain::customer::{parse_customers, RowError, ValidCustomer};
use domain::{Actor, AuditEvent};
use serde_json::json;

use crate::store::audit::{self, AuditEntry};
use super::access::{self, Withdrawn};
use crate::store::customers::{self, PeeringDbRules};
use crate::store::grants;
use crate::store::{Db, DbError, Tx};

/// The customers that exist, by shortname: an imported row updates its
/// shortname's customer or creates a new one.
pub struct Known(HashMap<String, i64>);

impl Known {
    pub async fn read(db: &Db) -> Result<Known, DbError> {
        Ok(Known(customers::ids_by_shortname(db).await?))
    }

    fn id(&self, c: &ValidCustomer) -> Option<i64> {
        self.0.get(c.shortname.as_str()).copied()
    }
}

/// What an import would do, row by row.
pub fn preview(rows: &[ValidCustomer], known: &Known) -> Vec<ImportRow> {
    rows.iter()
        .map(|c| ImportRow {
            shortname: c.shortname.as_str().to_string(),
            name: c.name.as_str().to_string(),
            asns: c.asn_numbers(),
            kind: c.kind,
            status: c.status,
            peeringdb_login: c.peeringdb_login,
            new: known.id(c).is_none(),
        })
        .collect()
}

/// What an import wrote.
pub struct Written<'a> {
    pub created: usize,
    /// The PeeringDB grants that stopped holding on updated customers.
    pub withdrawn: Withdrawn<'a>,
}

impl Written<'_> {
    /// The `customers.imported` row's details.
    pub fn details(&self, rows: usize) -> serde_json::Value {
        json!({ "created": self.created, "updated": rows - self.created,
                "access_removed": self.withdrawn.grants_removed, "roles_lowered": self.withdrawn.grants_lowered,
                "sessions_ended": self.withdrawn.sessions_ended })
    }
}

/// Creates or updates every customer (the role cap is the console's, an
/// import leaves it), then withdraws the PeeringDB grants that no longer
/// hold on the updated ones (a row that suspends a customer, say).
pub async fn write<'a>(tx: &mut Tx, rows: &[ValidCustomer], known: &Known, actor: Actor, ip: Option<&'a str>) -> Result<Written<'a>, DbError> {
    let updated: Vec<i64> = rows.iter().filter_map(|c| known.id(c)).collect();
    let had_access = if updated.is_empty() { Vec::new() } else { grants::users_of(tx, &updated).await? };
    let mut created = 0;
    for c in rows {
        let id = known.id(c);
        customers::save(tx, id, c, PeeringDbRules::Keep).await?;
        created += usize::from(id.is_none());
    }
    let withdrawn = if updated.is_empty() { Withdrawn::default() } else { access::after_customer_change(tx, &updated, &had_access, actor, ip).await? };
    Ok(Written { created, withdrawn })
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("nothing was imported; fix these rows:\n{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RowError>),
    #[error("nothing was imported; the IX-F export has these problems:\n{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Ixf(Vec<domain::ixf::IxfError>),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Imports a CSV text in one transaction, audited as `actor` (the command
/// line, demo mode). Returns (created, updated).
pub async fn import(db: &Db, text: &str, actor: Actor, allow_reserved: bool) -> Result<(usize, usize), ImportError> {
    let rows = parse_customers(text, allow_reserved).map_err(ImportError::Rows)?;
    let known = Known::read(db).await?;
    let mut tx = db.begin().await?;
    let written = write(&mut tx, &rows, &known, actor, None).await?;
    let created = written.created;
    let entry = AuditEntry { actor, event: AuditEvent::CustomersImported, user_id: None, customer_id: None, details: written.details(rows.len()), ip: None };
    let mut audit_rows = vec![entry];
    audit_rows.extend(written.withdrawn.rows);
    audit::write_all(&mut tx, &audit_rows).await?;
    tx.commit().await?;
    Ok((created, rows.len() - created))
}

/// What an IX-F import did (or, dry, would do).
#[derive(Debug)]
pub struct IxfImport {
    /// The exchange read: its id and name in the export.
    pub ixp: (i64, String),
    pub rows: Vec<ImportRow>,
    pub created: usize,
    pub updated: usize,
    /// Known customers the export does not list at this exchange: kept.
    pub missing: Vec<String>,
}

/// How one IX-F import runs, and who runs it.
pub struct IxfRun<'a> {
    /// The exchange to read, when the export lists several.
    pub ixp_id: Option<i64>,
    pub allow_reserved: bool,
    /// Plan only: nothing is written.
    pub dry_run: bool,
    pub actor: Actor,
    pub ip: Option<&'a str>,
    /// Where the export came from, as the audit row names it (a URL
    /// through [`crate::fetch::shown`]); `None` when pasted or a file.
    pub source: Option<String>,
}

/// Imports the customers of one exchange of an IX-F Member Export in one
/// transaction (nothing when `dry_run`): new members are created, known
/// ones (matched by ASN) updated, and those the export no longer lists
/// are reported, never removed.
pub async fn import_ixf(db: &Db, json: &str, mapping: &domain::ixf::Mapping, run: IxfRun<'_>) -> Result<IxfImport, ImportError> {
    let existing: Vec<domain::ixf::Known> = customers::all(db)
        .await?
        .into_iter()
        .map(|c| domain::ixf::Known { shortname: c.shortname, name: c.name, asns: c.asns, peeringdb_login: c.peeringdb_login })
        .collect();
    let plan = domain::ixf::plan(json, run.ixp_id, mapping, &existing, run.allow_reserved).map_err(ImportError::Ixf)?;
    let known = Known::read(db).await?;
    let rows = preview(&plan.customers, &known);
    let created = rows.iter().filter(|r| r.new).count();
    let report = IxfImport { ixp: plan.ixp.clone(), created, updated: rows.len() - created, rows, missing: plan.missing.clone() };
    if run.dry_run {
        return Ok(report);
    }
    let mut tx = db.begin().await?;
    let written = write(&mut tx, &plan.customers, &known, run.actor, run.ip).await?;
    let mut details = written.details(plan.customers.len());
    details["source"] = json!("ixf");
    if let Some(url) = run.source {
        details["url"] = json!(url);
    }
    details["ixp"] = json!({ "ixp_id": plan.ixp.0, "name": plan.ixp.1 });
    details["not_in_export"] = json!(plan.missing);
    let entry = AuditEntry { actor: run.actor, event: AuditEvent::CustomersImported, user_id: None, customer_id: None, details, ip: run.ip };
    let mut audit_rows = vec![entry];
    audit_rows.extend(written.withdrawn.rows);
    audit::write_all(&mut tx, &audit_rows).await?;
    tx.commit().await?;
    Ok(report)
}

/// The largest IX-F export read: a large exchange's is a few MB.
const MAX_IXF_BYTES: usize = 64 << 20;

/// An IX-F export from a file or an http(s) URL (the command line).
pub async fn fetch_ixf(source: &str) -> Result<String, String> {
    match crate::fetch::http_url(source) {
        Some(url) => fetch_ixf_url(&url).await,
        None => std::fs::read_to_string(source).map_err(|e| format!("cannot read {source}: {e}")),
    }
}

/// An IX-F export from an http(s) URL. Messages name the URL without its
/// user and query, where an API key may be.
pub async fn fetch_ixf_url(url: &url::Url) -> Result<String, String> {
    let shown = crate::fetch::shown(url);
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{shown} is not an http(s) URL"));
    }
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .user_agent(concat!("PeerPortal/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    let fetch = |e: reqwest::Error| format!("cannot fetch {shown}: {}", e.without_url());
    let resp = client.get(url.clone()).send().await.map_err(fetch)?;
    if !resp.status().is_success() {
        return Err(format!("{shown} answered {}", resp.status()));
    }
    let body = crate::fetch::read_capped(resp, MAX_IXF_BYTES).await.map_err(|e| match e {
        crate::fetch::CappedError::TooLarge => format!("{shown} is larger than {MAX_IXF_BYTES} bytes"),
        crate::fetch::CappedError::Read(e) => fetch(e),
    })?;
    String::from_utf8(body).map_err(|_| format!("{shown} is not UTF-8 text"))
}

/// One scheduled import from `PEERPORTAL_IXF_URL`, on the one replica
/// that holds the lease (`None` elsewhere, or when it is off): additions
/// and changes applied, customers the export no longer lists reported.
pub async fn refresh_ixf(portal: &crate::portal::Portal, holder: &str) -> Result<Option<IxfImport>, String> {
    let Some(source) = &portal.config.ixf_source else { return Ok(None) };
    let now = crate::store::now();
    let until = now + time::Duration::seconds(i64::try_from(source.every.as_secs()).unwrap_or(i64::MAX / 2));
    if !crate::store::leases::acquire(&portal.db, IXF_LEASE, holder, now, until).await.map_err(|e| e.to_string())? {
        return Ok(None);
    }
    let json = fetch_ixf_url(&source.url).await?;
    let run = IxfRun {
        ixp_id: source.ixp_id,
        allow_reserved: false,
        dry_run: false,
        actor: Actor::Ixf,
        ip: None,
        source: Some(crate::fetch::shown(&source.url)),
    };
    let report = import_ixf(&portal.db, &json, &portal.config.ixf_mapping, run).await.map_err(|e| e.to_string())?;
    Ok(Some(report))
}

/// The lease that keeps the scheduled IX-F import to one replica per period.
const IXF_LEASE: &str = "ixf-refresh";
