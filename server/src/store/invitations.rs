//! Invitations to a customer: only the token's hash is stored; accepting
//! is one conditional UPDATE, so a link cannot be used twice, even by two
//! requests at once.

use domain::invitation::Invitation;
use domain::Role;
use time::OffsetDateTime;

use super::{fmt_time, now, word, Db, DbError, Tx};
use crate::{execute, with_db, with_tx};

pub struct NewInvitation<'a> {
    pub token_hash: &'a str,
    pub customer_id: i64,
    pub email: &'a str,
    pub role: Role,
    pub invited_by: i64,
    pub expires_at: OffsetDateTime,
}

pub async fn insert(tx: &mut Tx, i: &NewInvitation<'_>) -> Result<i64, DbError> {
    let sql = "INSERT INTO invitations (token_hash, customer_id, email, role, invited_by, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    Ok(with_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(i.token_hash).bind(i.customer_id).bind(i.email).bind(i.role.as_str()).bind(i.invited_by).bind(now()).bind(i.expires_at)
        .fetch_one(c).await)?)
}

/// An invitation found by its token, with what its page shows.
pub struct Found {
    pub id: i64,
    pub customer_id: i64,
    pub customer: String,
    pub inviter: Option<String>,
    pub invitation: Invitation,
}

pub async fn by_token(db: &Db, token_hash: &str) -> Result<Option<Found>, DbError> {
    type Row = (i64, i64, String, Option<String>, String, String, OffsetDateTime, bool, bool);
    let sql = "SELECT i.id, i.customer_id, c.name, u.name, i.email, i.role, i.expires_at, i.accepted_at IS NOT NULL, i.withdrawn_at IS NOT NULL \
               FROM invitations i JOIN customers c ON c.id = i.customer_id LEFT JOIN users u ON u.id = i.invited_by WHERE i.token_hash = $1";
    let row: Option<Row> = with_db!(db, p => sqlx::query_as(sql).bind(token_hash).fetch_optional(p).await)?;
    row.map(|(id, customer_id, customer, inviter, email, role, expires_at, accepted, withdrawn)| {
        Ok(Found { id, customer_id, customer, inviter, invitation: Invitation { email, role: word(&role)?, expires_at, accepted, withdrawn } })
    })
    .transpose()
}

/// Marks it accepted by `user_id`, if it is still open: false when
/// another request took it first, or it expired or was withdrawn meanwhile.
pub async fn accept(tx: &mut Tx, id: i64, user_id: i64) -> Result<bool, DbError> {
    let at = now();
    let sql = "UPDATE invitations SET accepted_at = $1, accepted_by = $2 \
               WHERE id = $3 AND accepted_at IS NULL AND withdrawn_at IS NULL AND expires_at > $1";
    Ok(execute!(tx, sqlx::query(sql).bind(at).bind(user_id).bind(id))? > 0)
}

/// Withdraws an open invitation of `customer_id`; its email, or `None`.
pub async fn withdraw(tx: &mut Tx, id: i64, customer_id: i64) -> Result<Option<String>, DbError> {
    let sql = "UPDATE invitations SET withdrawn_at = $1 WHERE id = $2 AND customer_id = $3 AND accepted_at IS NULL AND withdrawn_at IS NULL \
               RETURNING email";
    Ok(with_tx!(tx, c => sqlx::query_scalar(sql).bind(now()).bind(id).bind(customer_id).fetch_optional(c).await)?)
}

/// Withdraws the open invitations of `email` to `customer_id` (an
/// invitation sent again replaces them); how many.
pub async fn withdraw_open_for(tx: &mut Tx, customer_id: i64, email: &str) -> Result<u64, DbError> {
    let sql = "UPDATE invitations SET withdrawn_at = $1 WHERE customer_id = $2 AND lower(email) = lower($3) \
               AND accepted_at IS NULL AND withdrawn_at IS NULL";
    Ok(execute!(tx, sqlx::query(sql).bind(now()).bind(customer_id).bind(email))?)
}

/// True when an account with this email (case ignored) has access to the customer.
pub async fn has_access(db: &Db, customer_id: i64, email: &str) -> Result<bool, DbError> {
    let sql = "SELECT EXISTS (SELECT 1 FROM affiliations a JOIN users u ON u.id = a.user_id \
               WHERE a.customer_id = $1 AND lower(u.email) = lower($2))";
    Ok(with_db!(db, p => sqlx::query_scalar(sql).bind(customer_id).bind(email).fetch_one(p).await)?)
}

/// An open invitation as the customer's admins see it.
pub struct Open {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub inviter: Option<String>,
    pub expires: String,
}

/// The customer's invitations still open (not used, withdrawn or expired).
pub async fn open_for(db: &Db, customer_id: i64) -> Result<Vec<Open>, DbError> {
    type Row = (i64, String, String, Option<String>, OffsetDateTime);
    let sql = "SELECT i.id, i.email, i.role, u.name, i.expires_at FROM invitations i LEFT JOIN users u ON u.id = i.invited_by \
               WHERE i.customer_id = $1 AND i.accepted_at IS NULL AND i.withdrawn_at IS NULL AND i.expires_at > $2 ORDER BY i.id";
    let rows: Vec<Row> = with_db!(db, p => sqlx::query_as(sql).bind(customer_id).bind(now()).fetch_all(p).await)?;
    rows.into_iter()
        .map(|(id, email, role, inviter, expires_at)| Ok(Open { id, email, role: word(&role)?, inviter, expires: fmt_time(expires_at) }))
        .collect()
}
