//! Server functions every signed-in person may call about their own
//! account, and those a customer's admins call about their customer.

use leptos::prelude::*;
use leptos::server_fn::codec::PostUrl;

use crate::console::{Account, CustomerAccess};
use crate::AppError;

#[server(prefix = "/api", endpoint = "account", input = PostUrl)]
pub async fn my_account() -> Result<Account, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.account(ctx.caller()?, ctx.session.id().as_deref()).await.map_err(|e| ctx.fail(e))
}

/// Ends one of the caller's other sessions (a browser left signed in elsewhere).
#[server(prefix = "/api", endpoint = "account/end_session", input = PostUrl)]
pub async fn end_session(handle: String) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.end_session(ctx.caller()?, &ctx.meta, &handle, ctx.session.id().as_deref()).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "account/peeringdb_login", input = PostUrl)]
pub async fn set_peeringdb_login(allowed: bool) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.set_own_peeringdb_login(ctx.caller()?, &ctx.meta, allowed).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "account/password", input = PostUrl)]
pub async fn change_password(current: String, new: String, again: String) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let me = ctx.caller()?;
    if new != again {
        return Err(ctx.fail(AppError::Validation("The two new passwords differ.".into())));
    }
    let (current, new) = (secrecy::SecretString::from(current), secrecy::SecretString::from(new));
    let signed_in = ctx.backend.change_password(me, &ctx.meta, current, new).await.map_err(|e| ctx.fail(e))?;
    // This session goes on, under a new id, with the customer it had chosen.
    let chosen = ctx.session.chosen_customer().await?;
    ctx.session.sign_in(signed_in, &ctx.meta).await?;
    if let Some(c) = chosen {
        ctx.session.choose(c).await?;
    }
    Ok(())
}

/// Ends every session of the caller, this one too, and goes to `/login`.
#[server(prefix = "/api", endpoint = "account/logout_everywhere", input = PostUrl)]
pub async fn logout_everywhere() -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.logout_everywhere(ctx.caller()?, &ctx.meta).await.map_err(|e| ctx.fail(e))?;
    ctx.session.end().await?;
    ctx.redirect("/login");
    Ok(())
}

#[server(prefix = "/api", endpoint = "customer/access", input = PostUrl)]
pub async fn get_customer_access(customer_id: i64) -> Result<CustomerAccess, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.customer_access(ctx.caller()?, customer_id).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "customer/revoke", input = PostUrl)]
pub async fn revoke_access(customer_id: i64, user_id: i64) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.revoke_access(ctx.caller()?, &ctx.meta, customer_id, user_id).await.map_err(|e| ctx.fail(e))
}

/// A customer's admin requires (or stops requiring) a second factor at
/// PeeringDB of the customer's people.
#[server(prefix = "/api", endpoint = "customer/require_mfa", input = PostUrl)]
pub async fn require_mfa(customer_id: i64, require: Option<String>) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let require = crate::console::checkbox(&require);
    ctx.backend.require_mfa(ctx.caller()?, &ctx.meta, customer_id, require).await.map_err(|e| ctx.fail(e))
}

/// A customer's admin invites a person by email, with a role.
#[server(prefix = "/api", endpoint = "customer/invite", input = PostUrl)]
pub async fn invite(customer_id: i64, email: String, role: String) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let role = crate::Role::parse(&role).map_err(|_| ctx.fail(AppError::Validation("The role must be member or admin.".into())))?;
    ctx.backend.invite(ctx.caller()?, &ctx.meta, customer_id, &email, role).await.map_err(|e| ctx.fail(e))
}

#[server(prefix = "/api", endpoint = "customer/withdraw_invitation", input = PostUrl)]
pub async fn withdraw_invitation(customer_id: i64, invitation_id: i64) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.withdraw_invitation(ctx.caller()?, &ctx.meta, customer_id, invitation_id).await.map_err(|e| ctx.fail(e))
}

/// A customer's admins switch login with PeeringDB on or off for their
/// customer and cap its role (unless the exchange locked that choice).
#[server(prefix = "/api", endpoint = "customer/peeringdb", input = PostUrl)]
pub async fn set_customer_peeringdb(customer_id: i64, peeringdb_login: Option<String>, max_role: Option<String>) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let max_role = max_role
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(crate::Role::parse)
        .transpose()
        .map_err(|_| ctx.fail(AppError::Validation("The highest role must be member or admin.".into())))?;
    let login = crate::console::checkbox(&peeringdb_login);
    ctx.backend.set_customer_peeringdb(ctx.caller()?, &ctx.meta, customer_id, login, max_role).await.map_err(|e| ctx.fail(e))
}

/// What an invitation link offers (anyone with the link may look).
#[server(prefix = "/api", endpoint = "invitation", input = PostUrl)]
pub async fn get_invitation(token: String) -> Result<crate::console::InvitationView, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let me = ctx.signed_in();
    ctx.backend.invitation(&token, me).await.map_err(|e| ctx.fail(e))
}

/// Accepts an invitation into the signed-in account; on to the customer.
#[server(prefix = "/api", endpoint = "invitation/accept", input = PostUrl)]
pub async fn accept_invitation(token: String) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let customer_id = ctx.backend.accept_invitation(ctx.caller()?, &ctx.meta, &token).await.map_err(|e| ctx.fail(e))?;
    ctx.session.choose(customer_id).await?;
    ctx.redirect("/");
    Ok(())
}

/// Accepts an invitation with a new password account; signed in, on to
/// the customer.
#[server(prefix = "/api", endpoint = "invitation/join", input = PostUrl)]
pub async fn join_by_invitation(token: String, username: String, name: String, password: String, again: String) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    if password != again {
        return Err(ctx.fail(AppError::Validation("The two passwords differ.".into())));
    }
    let password = secrecy::SecretString::from(password);
    let signed_in = ctx.backend.join_by_invitation(&ctx.meta, &token, &username, &name, password).await.map_err(|e| ctx.fail(e))?;
    ctx.session.sign_in(signed_in, &ctx.meta).await?;
    ctx.redirect("/");
    Ok(())
}

/// The caller's two-factor state, with the recovery codes just made (once).
#[server(prefix = "/api", endpoint = "account/2fa", input = PostUrl)]
pub async fn get_two_factor() -> Result<crate::console::TwoFactor, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let mut state = ctx.backend.two_factor(ctx.setting_up_two_factor()?).await.map_err(|e| ctx.fail(e))?;
    state.new_recovery_codes = ctx.session.take_recovery_codes().await?;
    Ok(state)
}

/// Starts setting up two-factor authentication: a new secret to scan.
#[server(prefix = "/api", endpoint = "account/2fa/start", input = PostUrl)]
pub async fn start_two_factor() -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.start_two_factor(ctx.setting_up_two_factor()?).await.map_err(|e| ctx.fail(e))?;
    // A plain form post comes back to the page, which shows the new state
    // (the recovery codes once); a JSON caller gets the answer alone.
    if ctx.plain_form {
        ctx.redirect("/account/2fa");
    }
    Ok(())
}

/// Confirms the setup with a first code; the recovery codes wait in the
/// session for the page to show them once.
#[server(prefix = "/api", endpoint = "account/2fa/confirm", input = PostUrl)]
pub async fn confirm_two_factor(code: String) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let codes = ctx.backend.confirm_two_factor(ctx.setting_up_two_factor()?, &ctx.meta, &code).await.map_err(|e| ctx.fail(e))?;
    ctx.session.stash_recovery_codes(codes).await?;
    // A plain form post comes back to the page, which shows the new state
    // (the recovery codes once); a JSON caller gets the answer alone.
    if ctx.plain_form {
        ctx.redirect("/account/2fa");
    }
    Ok(())
}

/// Switches two-factor off (the password and a code).
#[server(prefix = "/api", endpoint = "account/2fa/disable", input = PostUrl)]
pub async fn disable_two_factor(password: String, code: String) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let password = secrecy::SecretString::from(password);
    ctx.backend.disable_two_factor(ctx.caller()?, &ctx.meta, password, &code).await.map_err(|e| ctx.fail(e))?;
    // A plain form post comes back to the page, which shows the new state
    // (the recovery codes once); a JSON caller gets the answer alone.
    if ctx.plain_form {
        ctx.redirect("/account/2fa");
    }
    Ok(())
}
