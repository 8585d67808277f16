//! `GET /admin/audit.csv?user=&customer=&event=&from=&to=`: the filtered
//! audit log for spreadsheets, newest first. A read, so a GET is fine; the
//! caller must still be a superadmin.

use std::sync::Arc;

use app::backend::ResolvedCaller;
use app::console::{AuditFilter, AuditItem};
use app::AppError;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use crate::portal::console::CSV_EXPORT_LIMIT;
use crate::portal::Portal;
use crate::store::audit::AuditQuery;

pub async fn export(
    State(portal): State<Arc<Portal>>,
    Extension(ResolvedCaller(caller)): Extension<ResolvedCaller>,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let answer = async {
        caller.ok_or(AppError::Unauthenticated)?.superadmin()?;
        let query = AuditQuery::resolve(&portal.db, &filter).await?.map_err(AppError::Validation)?;
        let rows = query.fetch(&portal.db, CSV_EXPORT_LIMIT, 0).await?;
        audit_rows_csv(&rows).map_err(|e| {
            tracing::error!(error = %e, "could not write the audit CSV");
            AppError::Internal
        })
    };
    match answer.await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"peerportal-audit.csv\""),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(AppError::Unauthenticated) => (StatusCode::UNAUTHORIZED, "Please log in first.").into_response(),
        Err(AppError::Forbidden) => (StatusCode::FORBIDDEN, "This export is for the exchange's administrators.").into_response(),
        Err(e @ AppError::Validation(_)) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The CSV text of audit rows. Cells starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return (OWASP's list) get a leading apostrophe so a spreadsheet never runs them as formulas
/// (usernames and reasons come from outside).
pub fn audit_rows_csv(rows: &[AuditItem]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "at", "event", "actor", "actor_name", "user_id", "username", "customer_id", "customer", "details", "ip", "summary"])?;
    for r in rows {
        let cells = [
            r.id.to_string(),
            r.at.clone(),
            r.event.to_string(),
            r.actor.to_string(),
            r.actor_name.clone().unwrap_or_default(),
            r.user_id.map(|v| v.to_string()).unwrap_or_default(),
            r.username.clone().unwrap_or_default(),
            r.customer_id.map(|v| v.to_string()).unwrap_or_default(),
            r.customer.clone().unwrap_or_default(),
            r.details.clone(),
            r.ip.clone().unwrap_or_default(),
            r.summary.clone(),
        ];
        w.write_record(cells.iter().map(|c| defuse_formula(c).into_owned()))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn defuse_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Actor, AuditEvent};

    fn item(username: &str) -> AuditItem {
        AuditItem {
            id: 7,
            at: "2026-11-29 10:00 UTC".into(),
            actor: Actor::Peeringdb,
            actor_name: None,
            summary: "Login refused (PeeringDB): no PeeringDB network of theirs is a customer".into(),
            event: AuditEvent::LoginRefused,
            user_id: Some(3),
            username: Some(username.into()),
            customer_id: None,
            customer: None,
            details: r#"{"reason":"no_customer","asns":[1,2]}"#.into(),
            ip: Some("127.0.0.1".into()),
        }
    }

    #[test]
    fn csv_export_quotes_json_and_defuses_formulas() {
        let text = audit_rows_csv(&[item("=HYPERLINK(\"x\")")]).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("id,at,event,actor,actor_name,user_id,username,customer_id,customer,details,ip,summary"));
        let row = lines.next().unwrap();
        assert!(row.contains(r#""'=HYPERLINK(""x"")""#), "{row}");
        assert!(row.contains(r#""{""reason"":""no_customer"",""asns"":[1,2]}""#), "{row}");
        for (cell, defused) in [("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("alice", "alice")] {
            assert_eq!(defuse_formula(cell), defused);
        }
    }
}
