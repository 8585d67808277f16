//! `/account/2fa` (set up, see, switch off two-factor authentication) and
//! `/login/2fa` (the second step of a password login). Both work as plain
//! forms without JavaScript: the QR code is an SVG made on the server.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::account::{get_two_factor, ConfirmTwoFactor, DisableTwoFactor, StartTwoFactor};
use crate::api::auth::SecondFactor;
use crate::components::console::{load_error, outcome};
use crate::components::signed_in::SignedIn;
use crate::console::{Enrolment, TwoFactor};
use crate::{login_error_text, AppError};

#[derive(Clone, Copy)]
struct Actions {
    start: ServerAction<StartTwoFactor>,
    confirm: ServerAction<ConfirmTwoFactor>,
    disable: ServerAction<DisableTwoFactor>,
}

#[component]
pub fn TwoFactorPage() -> impl IntoView {
    let start = ServerAction::<StartTwoFactor>::new();
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let disable = ServerAction::<DisableTwoFactor>::new();
    let state = Resource::new(|| (), |_| get_two_factor());
    let actions = Actions { start, confirm, disable };
    view! {
        <Title text="Two-factor authentication"/>
        <SignedIn view=move |_| two_factor_view(state, actions)/>
    }
}

fn two_factor_view(state: Resource<Result<TwoFactor, AppError>>, actions: Actions) -> impl IntoView {
    let Actions { start, confirm, disable } = actions;
    view! {
        <section class="card" aria-labelledby="tfa-title">
            <h1 id="tfa-title">"Two-factor authentication"</h1>
            {move || outcome(start, "Scan the code below with your authenticator app.")}
            {move || outcome(confirm, "Two-factor authentication is on.")}
            {move || outcome(disable, "Two-factor authentication is off.")}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match state.await {
                        Err(e) => load_error(e),
                        Ok(t) => view! { <TwoFactorCard t actions/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TwoFactorCard(t: TwoFactor, actions: Actions) -> impl IntoView {
    let Actions { start, confirm, disable } = actions;
    let required = (t.required && !t.enabled).then(|| {
        view! {
            <div class="alert error" role="alert" id="tfa-required">
                "The exchange requires two-factor authentication for your account. Set it up to continue."
            </div>
        }
    });
    let codes = (!t.new_recovery_codes.is_empty()).then(|| {
        let items = t.new_recovery_codes.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view();
        view! {
            <div class="alert ok" role="status">
                <p><strong>"Your recovery codes."</strong>" Each works once, instead of a code from your app (a lost phone). \
                    Keep them somewhere safe: they are shown only now."</p>
                <ul id="recovery-codes" class="codes">{items}</ul>
            </div>
        }
    });
    let body = if t.enabled {
        view! {
            <p id="tfa-status">{format!("On. {} recovery code(s) left.", t.recovery_left)}</p>
            <h2>"Switch it off"</h2>
            <ActionForm action=disable attr:class="stack" attr:id="tfa-disable">
                <label for="tfa-password">"Your password"</label>
                <input id="tfa-password" name="password" type="password" autocomplete="current-password" required=true/>
                <label for="tfa-off-code">"A code from your app, or a recovery code"</label>
                <input id="tfa-off-code" name="code" type="text" autocomplete="one-time-code" required=true/>
                <button type="submit" class="button danger">"Switch two-factor off"</button>
            </ActionForm>
        }
        .into_any()
    } else if let Some(e) = t.enrolment {
        view! { <EnrolmentSteps e confirm/> }.into_any()
    } else {
        view! {
            <p>"With two-factor on, logging in with your password also asks for a code from an authenticator app on your phone \
                (any app that reads TOTP QR codes)."</p>
            <ActionForm action=start attr:id="tfa-start">
                <button type="submit" class="button primary">"Set up two-factor authentication"</button>
            </ActionForm>
        }
        .into_any()
    };
    view! { {required}{codes}{body} }
}

#[component]
fn EnrolmentSteps(e: Enrolment, confirm: ServerAction<ConfirmTwoFactor>) -> impl IntoView {
    // The renderer's XML declaration has no place inside HTML.
    let svg = e.qr_svg.find("<svg").map_or(String::new(), |at| e.qr_svg[at..].to_string());
    view! {
        <ol class="steps">
            <li>
                <p>"Scan this code with your authenticator app:"</p>
                <div class="qr" role="img" aria-label="QR code of your two-factor secret" inner_html=svg></div>
                <p>"Or type this key into the app: "<code id="totp-secret">{e.secret}</code></p>
            </li>
            <li>
                <ActionForm action=confirm attr:class="stack" attr:id="tfa-confirm">
                    <label for="tfa-code">"The 6-digit code the app shows now"</label>
                    <input id="tfa-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required=true/>
                    <button type="submit" class="button primary">"Switch two-factor on"</button>
                </ActionForm>
            </li>
        </ol>
    }
}

/// `/login/2fa`: the password was right; the code comes next.
#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let action = ServerAction::<SecondFactor>::new();
    let query = use_query_map();
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        Some(Ok(())) => None,
        None => query.read().get("error").map(|code| login_error_text(&code, None, None)),
    };
    view! {
        <Title text="Two-factor authentication"/>
        <section class="card login" aria-labelledby="second-title">
            <h1 id="second-title">"Two-factor authentication"</h1>
            {move || error().map(|e| view! { <div class="alert error" role="alert">{e}</div> })}
            <ActionForm action=action attr:class="stack" attr:id="second-factor">
                <label for="code">"The code from your authenticator app, or a recovery code"</label>
                <input id="code" name="code" type="text" autocomplete="one-time-code" required=true autofocus=true/>
                <button type="submit" class="button primary">"Log in"</button>
            </ActionForm>
            <p class="muted">"Lost your phone and your recovery codes? The exchange's support team can reset your two-factor authentication."</p>
        </section>
    }
}
