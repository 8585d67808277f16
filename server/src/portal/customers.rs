//! Importing customers from CSV: the same rules and the same writer for
//! the console, the command line and demo mode. All rows or none.

use std::collections::HashMap;

use app::console::ImportRow;
use domain::customer::{parse_customers, RowError, ValidCustomer};
use domain::{Actor, AuditEvent};
use serde_json::json;

use crate::store::audit::{self, AuditEntry};
use crate::store::customers::{self, RoleCap};
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

/// Creates or updates every customer (the role cap is the console's, an
/// import leaves it); returns how many were new.
pub async fn write(tx: &mut Tx, rows: &[ValidCustomer], known: &Known) -> Result<usize, DbError> {
    let mut created = 0;
    for c in rows {
        let id = known.id(c);
        customers::save(tx, id, c, RoleCap::Keep).await?;
        created += usize::from(id.is_none());
    }
    Ok(created)
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("nothing was imported; fix these rows:\n{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RowError>),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Imports a CSV text in one transaction, audited as `actor` (the command
/// line, demo mode). Returns (created, updated).
pub async fn import(db: &Db, text: &str, actor: Actor, allow_reserved: bool) -> Result<(usize, usize), ImportError> {
    let rows = parse_customers(text, allow_reserved).map_err(ImportError::Rows)?;
    let known = Known::read(db).await?;
    let mut tx = db.begin().await?;
    let created = write(&mut tx, &rows, &known).await?;
    let updated = rows.len() - created;
    let entry = AuditEntry {
        actor,
        event: AuditEvent::CustomersImported,
        user_id: None,
        customer_id: None,
        details: json!({ "created": created, "updated": updated }),
        ip: None,
    };
    audit::write(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok((created, updated))
}
