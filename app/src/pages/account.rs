//! `/account`: every person's own page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{my_account, ChangePassword, EndSession, LogoutEverywhere, SetPeeringdbLogin};
use crate::components::audit::AuditTable;
use crate::components::console::{load_error, outcome};
use crate::components::signed_in::SignedIn;
use crate::console::{Account, SessionItem};
use crate::AppError;

#[component]
pub fn AccountPage() -> impl IntoView {
    // Made here, outside `SignedIn`: what is made inside a `Suspense` is made
    // again every time Leptos walks the page on the server.
    let toggle = ServerAction::<SetPeeringdbLogin>::new();
    let password = ServerAction::<ChangePassword>::new();
    let everywhere = ServerAction::<LogoutEverywhere>::new();
    let end = ServerAction::<EndSession>::new();
    let account = Resource::new(|| (), |_| my_account());
    let actions = Actions { toggle, password, everywhere, end };
    view! {
        <Title text="Your account"/>
        <SignedIn view=move |_| account_view(account, actions)/>
    }
}

/// The page's forms, made once outside `SignedIn`.
#[derive(Clone, Copy)]
struct Actions {
    toggle: ServerAction<SetPeeringdbLogin>,
    password: ServerAction<ChangePassword>,
    everywhere: ServerAction<LogoutEverywhere>,
    end: ServerAction<EndSession>,
}

fn account_view(account: Resource<Result<Account, AppError>>, actions: Actions) -> impl IntoView {
    let Actions { toggle, password, everywhere, end } = actions;
    view! {
        {move || outcome(toggle, "Saved.")}
        {move || outcome(password, "Password changed. Your other sessions were ended.")}
        {move || outcome(everywhere, "Logged out everywhere.")}
        {move || outcome(end, "That session was ended.")}
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Err(e) => load_error(e),
                    Ok(a) => view! { <AccountCards a actions/> }.into_any(),
                }
            })}
        </Suspense>
        <section class="card" aria-labelledby="tfa-link-title">
            <h2 id="tfa-link-title">"Two-factor authentication"</h2>
            <p>"A code from your phone besides your password. "<a href="/account/2fa">"Set up or manage two-factor authentication"</a></p>
        </section>
    }
}

fn session_rows(sessions: Vec<SessionItem>, end: ServerAction<EndSession>) -> impl IntoView {
    sessions
        .into_iter()
        .map(|s| {
            view! {
                <tr>
                    <td>{s.browser}{s.current.then_some(" (this browser)")}</td>
                    <td>{s.ip.unwrap_or_else(|| "—".into())}</td>
                    <td>{s.started}</td>
                    <td>{s.last_seen}</td>
                    <td>{(!s.current).then(|| view! {
                        <ActionForm action=end>
                            <input type="hidden" name="handle" value=s.handle/>
                            <button type="submit" class="link">"End"</button>
                        </ActionForm>
                    })}</td>
                </tr>
            }
        })
        .collect_view()
}

#[component]
fn AccountCards(a: Account, actions: Actions) -> impl IntoView {
    let Actions { toggle, password, everywhere, end } = actions;
    let history = a.history;
    let sessions = a.sessions.len();
    let rows = session_rows(a.sessions, end);
    view! {
        <section class="card" aria-labelledby="account-title">
            <h1 id="account-title">"Your account"</h1>
            <dl class="facts">
                <dt>"Username"</dt><dd>{a.username}</dd>
                <dt>"Name"</dt><dd>{a.name}</dd>
                <dt>"Email"</dt><dd>{a.email}</dd>
                <dt>"Created"</dt><dd>{format!("{} via {}", a.created_at, a.created_via)}</dd>
                <dt>"PeeringDB identity"</dt><dd>{match a.peeringdb_id { Some(id) => format!("linked (PeeringDB user {id})"), None => "not linked".into() }}</dd>
                <dt>"Active sessions"</dt><dd>{sessions}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="pdb-login-title">
            <h2 id="pdb-login-title">"Login with PeeringDB"</h2>
            <p>{if a.peeringdb_login_allowed {
                "On: you can log in with PeeringDB, and your access follows your PeeringDB networks."
            } else {
                "Off: PeeringDB logins to this account are refused, and the access PeeringDB gave you is gone. Access an admin granted stays."
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
            <div class="table-wrap">
                <table id="sessions">
                    <thead><tr><th scope="col">"Browser"</th><th scope="col">"Address"</th><th scope="col">"Started"</th>
                        <th scope="col">"Last seen"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
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
