//! `/invitation/:token`: a person invited by a customer's admin accepts,
//! by logging in with PeeringDB, with the account they are signed in to,
//! or by making a password account. Plain forms: it works without
//! JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::account::{get_invitation, AcceptInvitation, JoinByInvitation};
use crate::components::console::{load_error, outcome};
use crate::console::InvitationView;
use crate::AppError;

#[component]
pub fn InvitationPage() -> impl IntoView {
    // The app's own: who is signed in is loaded again after either.
    let accept = ServerAction::<AcceptInvitation>::new();
    let join = ServerAction::<JoinByInvitation>::new();
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let invitation = Resource::new(token, get_invitation);
    view! {
        <Title text="Invitation"/>
        <section class="card login" aria-labelledby="invitation-title">
            <h1 id="invitation-title">"Invitation"</h1>
            {move || outcome(accept, "Accepted.")}
            {move || outcome(join, "Welcome!")}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match invitation.await {
                        Err(AppError::NotFound) => view! {
                            <div class="alert error" role="alert">"This invitation link is not valid. Check that the whole link from the mail was opened."</div>
                        }
                        .into_any(),
                        Err(e) => load_error(e),
                        Ok(i) => view! { <Offer i token=token() accept join/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Offer(i: InvitationView, token: String, accept: ServerAction<AcceptInvitation>, join: ServerAction<JoinByInvitation>) -> impl IntoView {
    let by = i.invited_by.clone().map(|n| format!("{n} invites you")).unwrap_or_else(|| "You are invited".to_string());
    let intro = view! {
        <p id="invitation-offer">{format!("{by} to {}, as {}. The invitation was sent to ", i.customer, i.role)}<strong>{i.email.clone()}</strong>"."</p>
    };
    if let Some(refusal) = i.refusal.clone() {
        let hint = i.signed_in_as.clone().map(|u| {
            view! { <p>{format!("You are signed in as {u}. ")}<a href="/account">"Log out"</a>" and open the link again to accept with another account."</p> }
        });
        return view! { {intro}<div class="alert error" role="alert" id="invitation-refused">{refusal}</div>{hint} }.into_any();
    }
    if let Some(username) = i.signed_in_as.clone() {
        return view! {
            {intro}
            <ActionForm action=accept attr:id="invitation-accept">
                <input type="hidden" name="token" value=token/>
                <button type="submit" class="button primary">{format!("Accept as {username}")}</button>
            </ActionForm>
        }
        .into_any();
    }
    let next = format!("/invitation/{token}");
    let login_next = format!("/login?next={}", crate::encode_query_component(&next));
    let peeringdb = i.peeringdb_login.then(|| {
        view! {
            <form method="post" action="/auth/peeringdb/login" class="peeringdb-start" id="invitation-peeringdb">
                <input type="hidden" name="next" value=next.clone()/>
                <button type="submit" class="button peeringdb">"Accept with PeeringDB"</button>
            </form>
            <p class="muted">{format!("PeeringDB must know {} as your verified email address.", i.email)}</p>
            <p class="or"><span>"or make an account with a password"</span></p>
        }
    });
    view! {
        {intro}
        {peeringdb}
        <ActionForm action=join attr:class="stack" attr:id="invitation-join">
            <input type="hidden" name="token" value=token/>
            <label for="join-username">"Username"</label>
            <input id="join-username" name="username" type="text" autocomplete="username" required=true pattern="[A-Za-z0-9._\\-]{1,64}"/>
            <label for="join-name">"Your name"</label>
            <input id="join-name" name="name" type="text" autocomplete="name" required=true/>
            <label for="join-password">"Password (at least 10 characters)"</label>
            <input id="join-password" name="password" type="password" autocomplete="new-password" required=true/>
            <label for="join-again">"The password again"</label>
            <input id="join-again" name="again" type="password" autocomplete="new-password" required=true/>
            <button type="submit" class="button primary">"Make my account and accept"</button>
        </ActionForm>
        <p>"Have an account here already? "<a href=login_next>"Log in"</a>" first, then accept."</p>
    }
    .into_any()
}
