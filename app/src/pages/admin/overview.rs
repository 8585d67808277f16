//! `/admin`: the console's front page: how people log in, at a glance.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::console::login_activity;
use crate::components::activity::activity_view;
use crate::components::console::AdminPage;

#[component]
pub fn OverviewPage() -> impl IntoView {
    // Made here, outside `AdminPage`: see the note in `customers.rs`.
    let activity = Resource::new(|| (), |_| login_activity());
    view! {
        <Title text="Console"/>
        <AdminPage tab="/admin" view=move |_| view! {
            <h1 class="sr-only">"Console"</h1>
            {activity_view(activity)}
        }/>
    }
}
