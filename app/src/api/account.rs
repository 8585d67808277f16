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
