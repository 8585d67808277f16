use leptos::prelude::*;
use leptos_meta::Title;
use crate::components::signed_in::SignedIn;

use crate::api::auth::ChooseCustomer;
use crate::{format_asns, Me};

/// `/choose`: pick the customer to act for. A filter box keeps sixty
/// networks usable; every row is a real form button, so it works without
/// JavaScript and with the keyboard.
#[component]
pub fn ChoosePage() -> impl IntoView {
    view! {
        <Title text="Choose a customer"/>
        <SignedIn view=|me| view! { <Picker me/> }/>
    }
}

#[component]
fn Picker(me: Me) -> impl IntoView {
    let choose = expect_context::<ServerAction<ChooseCustomer>>();
    let filter = RwSignal::new(String::new());
    let flash = me.flash.clone();
    let current = me.current_customer;
    let rows = me
        .memberships
        .into_iter()
        .map(|m| {
            let haystack = format!("{} {} {}", m.name, m.shortname, format_asns(&m.asns)).to_lowercase();
            let visible = move || {
                let f = filter.get().trim().to_lowercase();
                f.is_empty() || haystack.contains(&f) || haystack.replace("as", "").contains(&f)
            };
            let is_current = current == Some(m.customer_id);
            view! {
                <li class="pick" class:hidden=move || !visible()>
                    <ActionForm action=choose attr:class="pick-form">
                        <input type="hidden" name="customer_id" value=m.customer_id.to_string()/>
                        <button type="submit" class="pick-button" aria-current=is_current.then_some("true")>
                            <span class="pick-name">{m.name.clone()}</span>
                            <span class="pick-asns">{format_asns(&m.asns)}</span>
                            <span class=format!("badge role-{}", m.role.as_str())>{m.role.as_str()}</span>
                        </button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    view! {
        {flash.map(|f| view! { <div class="alert ok" role="status">{f}</div> })}
        <section class="card" aria-labelledby="choose-title">
            <h1 id="choose-title">"Choose a customer"</h1>
            <p class="muted">"You have access to several customers. Pick the one you want to work on; you can switch at any time."</p>
            <label for="filter">"Filter by name or ASN"</label>
            <input id="filter" type="search" autocomplete="off" placeholder="e.g. Alpha or 64500"
                prop:value=move || filter.get() on:input=move |ev| filter.set(event_target_value(&ev))/>
            {move || choose.value().get().and_then(|r| r.err()).map(|e| view! { <div class="alert error" role="alert">{e.to_string()}</div> })}
            <ul class="picker">{rows}</ul>
        </section>
    }
}
