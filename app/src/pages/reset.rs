//! `/login/forgot` (ask for a reset link) and `/reset/:token` (set a new
//! password with it). Plain forms: both work without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::auth::{reset_link, ForgotPassword, ResetPassword};
use crate::components::console::{load_error, outcome};
use crate::SiteResource;

const SENT: &str = "If an account matches, a mail with a link is on its way. It works for 30 minutes. \
                    No mail? Check the spam folder, or ask the exchange's support team.";

#[component]
pub fn ForgotPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let site = expect_context::<SiteResource>().0;
    let query = use_query_map();
    let sent_plain = move || query.read().get("sent").is_some() && action.value().get().is_none();
    view! {
        <Title text="Forgot your password?"/>
        <section class="card login" aria-labelledby="forgot-title">
            <h1 id="forgot-title">"Forgot your password?"</h1>
            {move || outcome(action, SENT)}
            {move || sent_plain().then(|| view! { <div class="alert ok" role="status">{SENT}</div> })}
            <Suspense>
                {move || Suspend::new(async move {
                    let site = site.await.ok().unwrap_or_default();
                    let support = site.support_email.map(|s| view! { <p>"Or write to "<a href=format!("mailto:{s}")>{s.clone()}</a>"."</p> });
                    if site.mail {
                        view! {
                            <p>"Give your username or your email address: we mail a link to set a new password. \
                                Accounts that log in with PeeringDB have no password here: use PeeringDB's own reset."</p>
                            <ActionForm action=action attr:class="stack" attr:id="forgot">
                                <label for="who">"Username or email address"</label>
                                <input id="who" name="who" type="text" autocomplete="username" required=true/>
                                <button type="submit" class="button primary">"Mail me a link"</button>
                            </ActionForm>
                            {support}
                        }
                        .into_any()
                    } else {
                        view! {
                            <p>"This exchange's portal sends no mail: please ask its support team to reset your password."</p>
                            {support}
                        }
                        .into_any()
                    }
                })}
            </Suspense>
            <p><a href="/login">"Back to the login"</a></p>
        </section>
    }
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let link = Resource::new(token, reset_link);
    view! {
        <Title text="Set a new password"/>
        <section class="card login" aria-labelledby="reset-title">
            <h1 id="reset-title">"Set a new password"</h1>
            {move || outcome(action, "Your password is set.")}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match link.await {
                        Err(e) => load_error(e),
                        Ok(None) => view! {
                            <div class="alert error" role="alert" id="reset-dead">
                                "This link has expired or was used already. "<a href="/login/forgot">"Ask for a new one"</a>"."
                            </div>
                        }
                        .into_any(),
                        Ok(Some(username)) => view! {
                            <p>"For the account "<strong id="reset-username">{username}</strong>". Setting it signs the account out everywhere; then log in with the new password."</p>
                            <ActionForm action=action attr:class="stack" attr:id="reset">
                                <input type="hidden" name="token" value=token()/>
                                <label for="new">"New password (at least 10 characters)"</label>
                                <input id="new" name="new" type="password" autocomplete="new-password" required=true/>
                                <label for="again">"The new password again"</label>
                                <input id="again" name="again" type="password" autocomplete="new-password" required=true/>
                                <button type="submit" class="button primary">"Set the password"</button>
                            </ActionForm>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
