//! `/account`: every person's own page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{my_account, ChangePassword, LogoutEverywhere, SetPeeringdbLogin};
use crate::components::audit::AuditTable;
use crate::components::console::{load_error, outcome};
use crate::components::signed_in::SignedIn;
use crate::console::Account;
use crate::AppError;

#[component]
pub fn AccountPage() -> impl IntoView {
    // Made here, outside `SignedIn`: what is made inside a `Suspense` is made
    // again every time Leptos walks the page on the server.
    let toggle = ServerAction::<SetPeeringdbLogin>::new();
    let password = ServerAction::<ChangePassword>::new();
    let everywhere = ServerAction::<LogoutEverywhere>::new();
    let account = Resource::new(move || (toggle.version().get(), password.version().get()), |_| my_account());
    view! {
        <Title text="Your account"/>
        <SignedIn view=move |_| account_view(account, toggle, password, everywhere)/>
    }
}

fn account_view(
    account: Resource<Result<Account, AppError>>,
    toggle: ServerAction<SetPeeringdbLogin>,
    password: ServerAction<ChangePassword>,
    everywhere: ServerAction<LogoutEverywhere>,
) -> impl IntoView {
    view! {
        {move || outcome(toggle.value().get(), "Saved.")}
        {move || outcome(password.value().get(), "Password changed. Your other sessions were ended.")}
        {move || outcome(everywhere.value().get(), "Logged out everywhere.")}
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Err(e) => load_error(e),
                    Ok(a) => view! { <AccountCards a toggle password everywhere/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountCards(
    a: Account,
    toggle: ServerAction<SetPeeringdbLogin>,
    password: ServerAction<ChangePassword>,
    everywhere: ServerAction<LogoutEverywhere>,
) -> impl IntoView {
    let history = a.history;
    view! {
        <section class="card" aria-labelledby="account-title">
            <h1 id="account-title">"Your account"</h1>
            <dl class="facts">
                <dt>"Username"</dt><dd>{a.username}</dd>
                <dt>"Name"</dt><dd>{a.name}</dd>
                <dt>"Email"</dt><dd>{a.email}</dd>
                <dt>"Created"</dt><dd>{format!("{} via {}", a.created_at, a.created_via)}</dd>
                <dt>"PeeringDB identity"</dt><dd>{match a.peeringdb_id { Some(id) => format!("linked (PeeringDB user {id})"), None => "not linked".into() }}</dd>
                <dt>"Active sessions"</dt><dd>{a.sessions}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="pdb-login-title">
            <h2 id="pdb-login-title">"Login with PeeringDB"</h2>
            <p>{if a.peeringdb_login_allowed {
                "On: you can log in with PeeringDB, and your access follows your PeeringDB networks."
            } else {
                "Off: PeeringDB logins to this account are refused. Access you already have stays until an admin changes it."
            }}</p>
            <ActionForm action=toggle attr:id="pdb-toggle">
                <input type="hidden" name="allowed" value=(!a.peeringdb_login_allowed).to_string()/>
                <button type="submit" class="button">{if a.peeringdb_login_allowed { "Switch PeeringDB login off" } else { "Switch PeeringDB login on" }}</button>
            </ActionForm>
        </section>
        {a.has_password.then(|| view! {
            <section class="card" aria-labelledby="password-title">
                <h2 id="password-title">"Change password"</h2>
                <ActionForm action=password attr:class="stack" attr:id="password-form">
                    <label for="current">"Current password"</label>
                    <input id="current" name="current" type="password" required=true autocomplete="current-password"/>
                    <label for="new">"New password (at least 10 characters)"</label>
                    <input id="new" name="new" type="password" required=true minlength="10" autocomplete="new-password"/>
                    <label for="again">"New password again"</label>
                    <input id="again" name="again" type="password" required=true minlength="10" autocomplete="new-password"/>
                    <button type="submit" class="button primary">"Change password"</button>
                </ActionForm>
            </section>
        })}
        <section class="card" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Sessions"</h2>
            <p>"Lost a laptop, or logged in on a shared computer? This ends every session of your account, this one too."</p>
            <ActionForm action=everywhere>
                <button type="submit" class="button danger">"Log out everywhere"</button>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">"Your recent logins"</h2>
            {if history.is_empty() { view! { <p>"Nothing yet."</p> }.into_any() } else { view! { <AuditTable items=history/> }.into_any() }}
        </section>
    }
}
