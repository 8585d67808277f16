use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::Login;
use crate::{login_error_next_step, login_error_text, safe_next};
use crate::SiteResource;

/// `/login`: the password form and, where the IXP enabled it, the
/// "Login with PeeringDB" button. Both are plain forms.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let site = expect_context::<SiteResource>().0;
    let query = use_query_map();

    let next = move || query.read().get("next").filter(|n| safe_next(n).is_some()).unwrap_or_default();
    // The refusal and what to do about it: a form post comes back as
    // `?error=code` (the action's value covers any other refusal).
    let error = move || match action.value().get() {
        Some(Err(e)) => Some((e.to_string(), e.login_error().next_step())),
        Some(Ok(())) => None,
        None => {
            let q = query.read();
            q.get("error").map(|code| {
                (login_error_text(&code, q.get("asns").as_deref(), q.get("retry").as_deref()), login_error_next_step(&code))
            })
        }
    };

    view! {
        <Title text="Log in"/>
        <section class="card login" aria-labelledby="login-title">
            <h1 id="login-title">"Log in"</h1>
            {move || error().map(|(e, next)| view! {
                <div class="alert error" role="alert" id="login-error">
                    <p>{e}</p>
                    {next.map(|n| view! { <p>{n}</p> })}
                    <Suspense>
                        {move || Suspend::new(async move {
                            site.await.ok().and_then(|s| s.support_email).map(|s| view! {
                                <p>"The exchange's support team: "<a href=format!("mailto:{s}")>{s.clone()}</a></p>
                            })
                        })}
                    </Suspense>
                </div>
            })}
            {move || query.read().get("reset").is_some().then(|| view! {
                <div class="alert ok" role="status">"Your new password is set, and every session of the account has ended. Log in with it."</div>
            })}
            <Suspense>
                {move || Suspend::new(async move {
                    site.await.ok().filter(|s| s.peeringdb_login).map(|_| view! {
                        // A plain form posted to an axum route (a POST, so no
                        // link on another site can start a login): the flow
                        // is 302s, never a URL handed to JavaScript.
                        <form method="post" action="/auth/peeringdb/login" class="peeringdb-start">
                            <input type="hidden" name="next" value=next/>
                            <button type="submit" class="button peeringdb">"Login with PeeringDB"</button>
                        </form>
                        <p class="or"><span>"or with your PeerPortal password"</span></p>
                    })
                })}
            </Suspense>
            <ActionForm action=action attr:class="stack" attr:id="password-login">
                <label for="username">"Username"</label>
                <input id="username" name="username" type="text" autocomplete="username" required=true/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required=true/>
                // An attribute, not a property: it must be in the server's
                // HTML for a form posted without JavaScript.
                <input type="hidden" name="next" value=next/>
                <button type="submit" class="button primary">"Log in"</button>
            </ActionForm>
            <Suspense>
                {move || Suspend::new(async move {
                    site.await.ok().filter(|s| s.mail).map(|_| view! {
                        <p class="forgot"><a href="/login/forgot">"Forgot your password?"</a></p>
                    })
                })}
            </Suspense>
        </section>
    }
}
