//! The outbox: mail written with the change that causes it, sent later by
//! the worker (`crate::mail`). A row is marked sent only after the SMTP
//! server took it, so a crash in between sends it again, never loses it.

use domain::mail::MailKind;
use time::OffsetDateTime;

use super::{now, word, Db, DbError, Tx};
use crate::{execute, with_db, write_db};

/// A mail to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMail {
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub user_id: Option<i64>,
}

/// Writes a mail in the caller's transaction: it goes out only if that
/// commits.
pub async fn enqueue(tx: &mut Tx, mail: &NewMail) -> Result<(), DbError> {
    let sql = "INSERT INTO outbox (kind, recipient, subject, body_text, body_html, user_id, created_at, next_attempt_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $7)";
    execute!(
        tx,
        sqlx::query(sql).bind(mail.kind.as_str()).bind(&mail.to).bind(&mail.subject).bind(&mail.text).bind(&mail.html).bind(mail.user_id).bind(now())
    )?;
    Ok(())
}

/// A mail due to be sent.
pub struct Due {
    pub id: i64,
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attempts: u32,
}

/// True when some mail waits for its turn now (a cheap read, so idle
/// replicas do not fight over the sender's lease).
pub async fn any_due(db: &Db, at: OffsetDateTime) -> Result<bool, DbError> {
    let sql = "SELECT EXISTS (SELECT 1 FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1)";
    Ok(with_db!(db, p => sqlx::query_scalar(sql).bind(at).fetch_one(p).await)?)
}

/// Up to `limit` due mails, oldest first.
pub async fn due(db: &Db, at: OffsetDateTime, limit: i64) -> Result<Vec<Due>, DbError> {
    type Row = (i64, String, String, String, Option<String>, Option<String>, i64);
    let sql = "SELECT id, kind, recipient, subject, body_text, body_html, attempts FROM outbox \
               WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2";
    let rows: Vec<Row> = with_db!(db, p => sqlx::query_as(sql).bind(at).bind(limit).fetch_all(p).await)?;
    rows.into_iter()
        .map(|(id, kind, to, subject, text, html, attempts)| {
            Ok(Due {
                id,
                kind: word(&kind)?,
                to,
                subject,
                text: text.unwrap_or_default(),
                html: html.unwrap_or_default(),
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// The SMTP server took the mail: it is sent, and its bodies (which may
/// hold a single-use link) are dropped.
pub async fn sent(db: &Db, id: i64) -> Result<(), DbError> {
    let sql = "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL, body_text = NULL, body_html = NULL \
               WHERE id = $2 AND sent_at IS NULL";
    write_db!(db, p => sqlx::query(sql).bind(now()).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A try failed: counted, with why, and put off until `next`.
pub async fn failed(db: &Db, id: i64, error: &str, next: OffsetDateTime) -> Result<(), DbError> {
    let sql = "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3 AND sent_at IS NULL";
    let error = domain::audit::capped(error);
    write_db!(db, p => sqlx::query(sql).bind(error.as_ref()).bind(next).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Every unsent mail becomes due now (the console's "Send now"); how many.
pub async fn retry_now(db: &Db) -> Result<u64, DbError> {
    let sql = "UPDATE outbox SET next_attempt_at = $1 WHERE sent_at IS NULL AND next_attempt_at > $1";
    Ok(write_db!(db, p => sqlx::query(sql).bind(now()).execute(p).await.map(|r| r.rows_affected()))?)
}

/// Forgets sent mails older than `before` (their envelopes only remain).
pub async fn prune(db: &Db, before: OffsetDateTime) -> Result<u64, DbError> {
    let sql = "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1";
    Ok(write_db!(db, p => sqlx::query(sql).bind(before).execute(p).await.map(|r| r.rows_affected()))?)
}

/// A mail as the console lists it: the envelope, never the bodies.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub id: i64,
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub created_at: OffsetDateTime,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
    pub next_attempt_at: OffsetDateTime,
}

/// The queue (every unsent mail) and the last `sent` mails sent.
pub async fn recent(db: &Db, sent: i64) -> Result<(Vec<Envelope>, Vec<Envelope>), DbError> {
    type Row = (i64, String, String, String, OffsetDateTime, i64, Option<String>, Option<OffsetDateTime>, OffsetDateTime);
    let cols = "SELECT id, kind, recipient, subject, created_at, attempts, last_error, sent_at, next_attempt_at FROM outbox";
    let queued_sql = format!("{cols} WHERE sent_at IS NULL ORDER BY id LIMIT 200");
    let sent_sql = format!("{cols} WHERE sent_at IS NOT NULL ORDER BY sent_at DESC, id DESC LIMIT $1");
    let queued: Vec<Row> = with_db!(db, p => sqlx::query_as(&queued_sql).fetch_all(p).await)?;
    let done: Vec<Row> = with_db!(db, p => sqlx::query_as(&sent_sql).bind(sent).fetch_all(p).await)?;
    let envelope = |(id, kind, to, subject, created_at, attempts, last_error, sent_at, next_attempt_at): Row| -> Result<Envelope, DbError> {
        Ok(Envelope { id, kind: word(&kind)?, to, subject, created_at, attempts, last_error, sent_at, next_attempt_at })
    };
    Ok((queued.into_iter().map(envelope).collect::<Result<_, _>>()?, done.into_iter().map(envelope).collect::<Result<_, _>>()?))
}
