use leptos::prelude::*;
use leptos::server_fn::ServerFn;
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
    // Read for the refusal a plain post comes back with (`__err`); the rows
    // are plain forms: an `ActionForm` would make two signals per row for a
    // submit handler that never runs outside an island (a tenth of the
    // page's CPU for sixty rows).
    let choose = ServerAction::<ChooseCustomer>::new();
    let current = me.current_customer;
    let rows = me
        .memberships
        .into_iter()
        .map(|m| {
            let haystack = format!("{} {} {}", m.name, m.shortname, format_asns(&m.asns)).to_lowercase();
            let is_current = current == Some(m.customer_id);
            view! {
                <li class="pick" data-filter=haystack>
                    <form method="post" action=ChooseCustomer::url() class="pick-form">
                        <input type="hidden" name="customer_id" value=m.customer_id.to_string()/>
                        <button type="submit" class="pick-button" aria-current=is_current.then_some("true")>
                            <span class="pick-name">{m.name.clone()}</span>
                            <span class="pick-asns">{format_asns(&m.asns)}</span>
                            <span class=format!("badge role-{}", m.role.as_str())>{m.role.as_str()}</span>
                        </button>
                    </form>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="choose-title">
            <h1 id="choose-title">"Choose a customer"</h1>
            <p class="muted">"You have access to several customers. Pick the one you want to work on; you can switch at any time."</p>
            <PickerFilter/>
            {move || choose.value().get().and_then(|r| r.err()).map(|e| view! { <div class="alert error" role="alert">{e.to_string()}</div> })}
            <ul class="picker">{rows}</ul>
        </section>
    }
}

/// The filter box above the picker: the only part of the page that runs in
/// the browser. It hides the server-rendered rows (`li.pick`) whose
/// `data-filter` text does not match, so the rows themselves stay plain
/// forms that need no JavaScript.
#[island]
fn PickerFilter() -> impl IntoView {
    let on_input = move |ev| {
        let filter = event_target_value(&ev).trim().to_lowercase();
        let rows = document().get_elements_by_class_name("pick");
        for i in 0..rows.length() {
            if let Some(row) = rows.item(i) {
                let shown = matches(&row.get_attribute("data-filter").unwrap_or_default(), &filter);
                // Toggling a class cannot fail.
                let _ = row.class_list().toggle_with_force("hidden", !shown);
            }
        }
    };
    view! {
        <label for="filter">"Filter by name or ASN"</label>
        <input id="filter" type="search" autocomplete="off" placeholder="e.g. Alpha or 64500" on:input=on_input/>
    }
}

/// Whether a row's text matches the filter; "64500" finds "AS64500".
fn matches(haystack: &str, filter: &str) -> bool {
    filter.is_empty() || haystack.contains(filter) || haystack.replace("as", "").contains(filter)
}
