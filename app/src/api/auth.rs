use leptos::prelude::*;
use leptos::server_fn::codec::PostUrl;

use crate::{AppError, Me, SiteInfo};

/// Operator settings the login page shows (PeeringDB button, demo banner).
#[server(prefix = "/api", endpoint = "site_info")]
pub async fn get_site_info() -> Result<SiteInfo, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    Ok(ctx.backend.site_info())
}

/// The signed-in person, or `None`.
#[server(prefix = "/api", endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let Some(caller) = ctx.signed_in() else {
        return Ok(None);
    };
    let chosen = ctx.session.chosen_customer().await?;
    let flash = ctx.session.take_flash().await?;
    Ok(Some(caller.me(chosen, flash)))
}

/// Username/password login: a plain form post, answered with a 302 (errors
/// travel as `/login?error=code`); a JSON caller gets the error itself.
#[server(prefix = "/api", endpoint = "login", input = PostUrl)]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let password = secrecy::SecretString::from(password);
    let username = username.trim();
    let result = if username.is_empty() {
        Err(AppError::Validation("Please fill in both your username and your password.".into()))
    } else {
        ctx.backend.password_login(&ctx.meta, username, password).await
    };
    let next = next.as_deref().and_then(crate::safe_next);
    match result {
        Ok(crate::backend::PasswordLogin::SignedIn(signed_in)) => {
            ctx.session.sign_in(signed_in, &ctx.meta).await?;
            ctx.redirect(next.unwrap_or("/"));
            Ok(())
        }
        Ok(crate::backend::PasswordLogin::SecondFactor(pending)) => {
            ctx.session.await_second_factor(pending, next).await?;
            ctx.redirect("/login/2fa");
            Ok(())
        }
        Err(e) => {
            if ctx.plain_form {
                let mut to = format!("/login?error={}", e.login_error());
                if let Some(n) = next {
                    to.push_str("&next=");
                    to.push_str(&crate::encode_query_component(n));
                }
                ctx.redirect(&to);
            }
            Err(ctx.fail(e))
        }
    }
}

/// The second step of a password login: the code from the authenticator
/// app, or a recovery code. Like `login`, it works as a plain form post.
#[server(prefix = "/api", endpoint = "login/second_factor", input = PostUrl)]
pub async fn second_factor(code: String) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    let Some((pending, next)) = ctx.session.second_factor().await? else {
        // No password waiting here (never given, or over five minutes ago).
        if ctx.plain_form {
            ctx.redirect("/login?error=session_ended");
        }
        return Err(ctx.fail(AppError::Unauthenticated));
    };
    match ctx.backend.second_factor(&ctx.meta, pending, &code).await {
        Ok(signed_in) => {
            ctx.session.sign_in(signed_in, &ctx.meta).await?;
            ctx.redirect(next.as_deref().and_then(crate::safe_next).unwrap_or("/"));
            Ok(())
        }
        Err(e) => {
            if ctx.plain_form {
                ctx.redirect(&format!("/login/2fa?error={}", e.login_error()));
            }
            Err(ctx.fail(e))
        }
    }
}

/// Picks the customer to act for (from `/choose` or the header switcher).
#[server(prefix = "/api", endpoint = "choose_customer", input = PostUrl)]
pub async fn choose_customer(customer_id: i64) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    // Only a customer the person really has: never trust the form.
    if ctx.caller()?.membership(customer_id).is_none() {
        return Err(ctx.fail(AppError::Forbidden));
    }
    ctx.session.choose(customer_id).await?;
    ctx.redirect("/");
    Ok(())
}

/// "Forgot your password?" (anonymous). Always the same answer, so it
/// does not tell which accounts exist.
#[server(prefix = "/api", endpoint = "login/forgot", input = PostUrl)]
pub async fn forgot_password(who: String) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.forgot_password(&ctx.meta, &who).await.map_err(|e| ctx.fail(e))?;
    if ctx.plain_form {
        ctx.redirect("/login/forgot?sent=1");
    }
    Ok(())
}

/// The username a reset link is for, or `None` when it no longer works.
/// Looking does not spend the link (mail scanners open links too).
#[server(prefix = "/api", endpoint = "login/reset_link", input = PostUrl)]
pub async fn reset_link(token: String) -> Result<Option<String>, AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    ctx.backend.reset_link(&token).await.map_err(|e| ctx.fail(e))
}

/// Sets a new password with a reset link; then the person logs in with it.
#[server(prefix = "/api", endpoint = "login/reset", input = PostUrl)]
pub async fn reset_password(token: String, new: String, again: String) -> Result<(), AppError> {
    let ctx = crate::backend::Ctx::get().await?;
    if new != again {
        return Err(ctx.fail(AppError::Validation("The two passwords differ.".into())));
    }
    ctx.backend
        .reset_password(&ctx.meta, &token, secrecy::SecretString::from(new))
        .await
        .map_err(|e| ctx.fail(e))?;
    ctx.redirect("/login?reset=done");
    Ok(())
}
