use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::{Me, MeResource};

fn on_two_factor_page() -> bool {
    leptos_router::hooks::use_location().pathname.get_untracked() == "/account/2fa"
}

/// Renders `view` for the signed-in person; anonymous visitors go to
/// `/login`, and a person who must still set up two-factor to its page (a
/// redirect the server answers before the page).
#[component]
pub fn SignedIn<V, F>(view: F) -> impl IntoView
where
    F: Fn(Me) -> V + Send + Sync + Copy + 'static,
    V: IntoView + 'static,
{
    let me = expect_context::<MeResource>().0;
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) if me.must_set_up_2fa && !on_two_factor_page() => view! { <Redirect path="/account/2fa"/> }.into_any(),
                    Ok(Some(me)) => view(me).into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <div class="alert error" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}
