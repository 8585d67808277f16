//! Server functions of the admin console (superadmins). Each asks for the
//! caller as a [`Superadmin`](crate::backend::Superadmin), which the
//! backend's methods require; all are POSTs with url-encoded bodies, so the
//! CSRF origin check covers them.

use leptos::prelude::*;
use leptos::server_fn::codec::PostUrl;

use crate::console::{AuditItem, CustomerItem, ImportPreview, IxfPreview, Page, PeeringDbStatus, UserDetail, UserItem};
use crate::AppError;

#[server(prefix = "/api", endpoint = "admin/customers", input = PostUrl)]
pub async fn admin_customers(q: String, page: u32) -> Result<Page<CustomerItem>, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.customers(&ctx.superadmin()?, &q, page).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "admin/customer", input = PostUrl)]
pub async fn admin_customer(id: i64) -> Result<CustomerItem, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.customer(&ctx.superadmin()?, id).await.map_err(|e| ctx.fail(e))
}

/// Creates (no `id`) or updates a customer, then shows it.
#[allow(clippy::too_many_arguments)] // one argument per form field
#[server(prefix = "/api", endpoint = "admin/save_customer", input = PostUrl)]
pub async fn save_customer(
    id: Option<i64>,
    name: String,
    shortname: String,
    asns: String,
    kind: String,
    status: String,
    peeringdb_login: Option<String>,
    max_role: Option<String>,
    require_mfa: Option<String>,
    peeringdb_locked: Option<String>,
    allow_reserved: Option<String>,
) -> Result<i64, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let admin = ctx.superadmin()?;
    let form = crate::console::CustomerForm {
        id,
        name,
        shortname,
        asns,
        kind,
        status,
        peeringdb_login: crate::console::checkbox(&peeringdb_login),
        max_role: max_role
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(crate::Role::parse)
            .transpose()
            .map_err(|_| ctx.fail(AppError::Validation("The highest role must be member or admin.".into())))?,
        require_mfa: crate::console::checkbox(&require_mfa),
        peeringdb_locked: crate::console::checkbox(&peeringdb_locked),
        allow_reserved: crate::console::checkbox(&allow_reserved),
    };
    let new = id.is_none();
    let id = ctx.backend.save_customer(&admin, &ctx.meta, form).await.map_err(|e| ctx.fail(e))?;
    // A new customer gets its own address.
    if new {
        ctx.redirect_done(&format!("/admin/customers/{id}"), <SaveCustomer as leptos::server_fn::ServerFn>::PATH);
    }
    Ok(id)
}

#[server(prefix = "/api", endpoint = "admin/delete_customer", input = PostUrl)]
pub async fn delete_customer(id: i64, confirm: Option<String>) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let admin = ctx.superadmin()?;
    if !crate::console::checkbox(&confirm) {
        return Err(ctx.fail(AppError::Validation("Tick the box to confirm the deletion.".into())));
    }
    ctx.backend.delete_customer(&admin, &ctx.meta, id).await.map_err(|e| ctx.fail(e))?;
    ctx.redirect("/admin/customers");
    Ok(())
}

/// Checks a CSV and, with `commit`, imports it (all rows or none).
#[server(prefix = "/api", endpoint = "admin/import_customers", input = PostUrl)]
pub async fn import_customers(csv: String, allow_reserved: Option<String>, commit: Option<String>) -> Result<ImportPreview, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let (allow, commit) = (crate::console::checkbox(&allow_reserved), crate::console::checkbox(&commit));
    let preview = ctx.backend.import_customers(&ctx.superadmin()?, &ctx.meta, &csv, allow, commit).await.map_err(|e| ctx.fail(e))?;
    // The Import button is a plain form post: it comes back to the import
    // page, which says what was written.
    if preview.committed && ctx.plain_form {
        let (new, updated) = preview.counts();
        ctx.session.set_flash(format!("Imported: {new} created, {updated} updated.")).await?;
        ctx.redirect("/admin/customers/import");
    }
    Ok(preview)
}

/// Reads an IX-F export, pasted (`json`) or by its `url`, and, with
/// `commit`, imports its members at one exchange (all or none), provided
/// the export is still the one previewed (`digest`).
#[server(prefix = "/api", endpoint = "admin/import_ixf", input = PostUrl)]
pub async fn import_ixf(
    json: Option<String>,
    url: Option<String>,
    ixp_id: Option<String>,
    allow_reserved: Option<String>,
    digest: Option<String>,
    commit: Option<String>,
) -> Result<IxfPreview, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let admin = ctx.superadmin()?;
    let ixp_id = match ixp_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(id) => Some(id.parse::<i64>().map_err(|_| AppError::Validation("The exchange's ixp_id is a number, e.g. 1.".into()))?),
    };
    let form = crate::console::IxfForm {
        json: json.unwrap_or_default(),
        url: url.unwrap_or_default(),
        ixp_id,
        allow_reserved: crate::console::checkbox(&allow_reserved),
        digest: digest.filter(|d| !d.is_empty()),
    };
    let preview = ctx.backend.import_ixf(&admin, &ctx.meta, form, crate::console::checkbox(&commit)).await.map_err(|e| ctx.fail(e))?;
    if preview.committed && ctx.plain_form {
        let (new, updated) = preview.counts();
        ctx.session.set_flash(format!("Imported from the IX-F export: {new} created, {updated} updated.")).await?;
        ctx.redirect(IXF_PAGE);
    }
    Ok(preview)
}

/// The IX-F import page, where a plain-form import comes back to.
pub const IXF_PAGE: &str = "/admin/customers/import-ixf";

#[server(prefix = "/api", endpoint = "admin/users", input = PostUrl)]
pub async fn admin_users(q: String, page: u32) -> Result<Page<UserItem>, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.users(&ctx.superadmin()?, &q, page).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "admin/user", input = PostUrl)]
pub async fn admin_user(id: i64) -> Result<UserDetail, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.user(&ctx.superadmin()?, id).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "admin/create_user", input = PostUrl)]
pub async fn create_user(username: String, name: String, email: String, password: String, superadmin: Option<String>) -> Result<i64, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let form = crate::console::NewUserForm { username, name, email, superadmin: crate::console::checkbox(&superadmin) };
    let password = secrecy::SecretString::from(password);
    let id = ctx.backend.create_user(&ctx.superadmin()?, &ctx.meta, form, password).await.map_err(|e| ctx.fail(e))?;
    // Access is given on the new user's own page.
    ctx.redirect_done(&format!("/admin/users/{id}"), <CreateUser as leptos::server_fn::ServerFn>::PATH);
    Ok(id)
}

#[server(prefix = "/api", endpoint = "admin/grant", input = PostUrl)]
pub async fn grant_access(user_id: i64, customer: String, role: String) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let admin = ctx.superadmin()?;
    let role = crate::Role::parse(&role).map_err(|_| ctx.fail(AppError::Validation("Pick a role: member or admin.".into())))?;
    ctx.backend.grant(&admin, &ctx.meta, user_id, &customer, role).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "admin/revoke", input = PostUrl)]
pub async fn revoke_grant(user_id: i64, customer_id: i64) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.revoke(&ctx.superadmin()?, &ctx.meta, user_id, customer_id).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "admin/set_disabled", input = PostUrl)]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.set_disabled(&ctx.superadmin()?, &ctx.meta, user_id, disabled).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "admin/unlink_peeringdb", input = PostUrl)]
pub async fn unlink_peeringdb(user_id: i64) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.unlink_peeringdb(&ctx.superadmin()?, &ctx.meta, user_id).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "admin/delete_user", input = PostUrl)]
pub async fn delete_user(user_id: i64, confirm: Option<String>) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let admin = ctx.superadmin()?;
    if !crate::console::checkbox(&confirm) {
        return Err(ctx.fail(AppError::Validation("Tick the box to confirm the deletion.".into())));
    }
    ctx.backend.delete_user(&admin, &ctx.meta, user_id).await.map_err(|e| ctx.fail(e))?;
    ctx.redirect("/admin/users");
    Ok(())
}

/// Removes a person's two-factor authentication (a lost phone): they set
/// it up again at their next login; their sessions end.
#[server(prefix = "/api", endpoint = "admin/reset_2fa", input = PostUrl)]
pub async fn reset_two_factor(user_id: i64, confirm: Option<String>) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let admin = ctx.superadmin()?;
    if !crate::console::checkbox(&confirm) {
        return Err(ctx.fail(AppError::Validation("Tick the box to confirm the reset.".into())));
    }
    ctx.backend.reset_two_factor(&admin, &ctx.meta, user_id).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "admin/resync_user", input = PostUrl)]
pub async fn resync_user(user_id: i64) -> Result<String, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let said = ctx.backend.resync_user(&ctx.superadmin()?, &ctx.meta, user_id).await.map_err(|e| ctx.fail(e))?;
    // What the re-sync did, shown on the page the form post returns to
    // (a JSON caller gets it as the answer).
    if ctx.plain_form {
        ctx.session.set_flash(said.clone()).await?;
    }
    Ok(said)
}

#[server(prefix = "/api", endpoint = "admin/audit", input = PostUrl)]
pub async fn audit_log(user: String, customer: String, event: String, from: String, to: String, page: u32) -> Result<Page<AuditItem>, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let filter = crate::console::AuditFilter { user, customer, event, from, to };
    ctx.backend.audit(&ctx.superadmin()?, filter, page).await.map_err(|e| ctx.fail(e))
}

/// Logins per day and refusals by reason, last 30 days, with their charts.
#[server(prefix = "/api", endpoint = "admin/activity", input = PostUrl)]
pub async fn login_activity() -> Result<crate::console::LoginActivity, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.login_activity(&ctx.superadmin()?).await.map_err(|e| ctx.fail(e))
}

/// Outgoing mail: the settings, the queue and the last mails sent.
#[server(prefix = "/api", endpoint = "admin/mail", input = PostUrl)]
pub async fn mail_status() -> Result<crate::console::MailStatus, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.mail_status(&ctx.superadmin()?).await.map_err(|e| ctx.fail(e))
}

/// Every queued mail is tried now, instead of after its backoff (the
/// mail server is back); how many.
#[server(prefix = "/api", endpoint = "admin/mail/retry", input = PostUrl)]
pub async fn retry_mail() -> Result<u64, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.retry_mail(&ctx.superadmin()?, &ctx.meta).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "admin/peeringdb", input = PostUrl)]
pub async fn peeringdb_status() -> Result<PeeringDbStatus, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.peeringdb_status(&ctx.superadmin()?).await.map_err(|e| ctx.fail(e))
}
