//! `/admin/peeringdb`: is the integration set up, and is it working?

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::console::peeringdb_status;
use crate::components::console::{load_error, AdminPage};
use crate::console::{AuditItem, PeeringDbStatus};
use crate::AppError;

#[component]
pub fn PeeringDbPage() -> impl IntoView {
    // Made here, outside `AdminPage`: see the note in `customers.rs`.
    let status = Resource::new(|| (), |_| peeringdb_status());
    view! {
        <Title text="PeeringDB integration"/>
        <AdminPage tab="/admin/peeringdb" view=move |_| status_view(status)/>
    }
}

fn status_view(status: Resource<Result<PeeringDbStatus, AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Err(e) => load_error(e),
                    Ok(s) => view! { <StatusCard s/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A string member of the compact JSON the server wrote (no JSON parser in
/// the browser bundle for one field).
fn string_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let pattern = format!("\"{key}\":\"");
    let start = json.find(&pattern)? + pattern.len();
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

fn login_line(item: Option<AuditItem>, failure: bool) -> String {
    match item {
        None => "none yet".into(),
        Some(a) => {
            let who = a.username.map(|u| format!(" by {u}")).unwrap_or_default();
            let reason = if failure {
                string_field(&a.details, "reason").map(|r| format!(": {r}")).unwrap_or_default()
            } else {
                String::new()
            };
            format!("{}{who}{reason}", a.at)
        }
    }
}

#[component]
fn StatusCard(s: PeeringDbStatus) -> impl IntoView {
    let dash = || "—".to_string();
    view! {
        <section class="card" aria-labelledby="pdb-title">
            <h1 id="pdb-title">"Login with PeeringDB"</h1>
            <p>
                <span class=if s.enabled { "badge ok" } else { "badge disabled" }>{if s.enabled { "enabled" } else { "disabled" }}</span>
                {(!s.enabled).then_some(" To enable it, register PeerPortal at PeeringDB and set AUTH_PEERINGDB_ENABLED with the client id and secret (README, \"Login with PeeringDB\").")}
            </p>
            <dl class="facts">
                <dt>"Client id"</dt><dd><code>{s.client_id.unwrap_or_else(dash)}</code></dd>
                <dt>"Client secret"</dt><dd>{if s.enabled { "set (never shown)" } else { "—" }}</dd>
                <dt>"Redirect URI to register at PeeringDB"</dt><dd><code>{s.redirect_uri.unwrap_or_else(dash)}</code></dd>
                <dt>"PeeringDB OAuth server"</dt><dd><code>{s.oauth_url.unwrap_or_else(dash)}</code></dd>
                <dt>"Role policy"</dt><dd>{s.role_policy.unwrap_or_else(dash)}</dd>
                <dt>"Link by verified email"</dt><dd>{if s.link_by_email { "on" } else { "off" }}</dd>
                <dt>"Last successful login"</dt><dd>{login_line(s.last_success, false)}</dd>
                <dt>"Last failed login"</dt><dd>{login_line(s.last_failure, true)}</dd>
                <dt>"Users linked to PeeringDB"</dt><dd>{s.linked_users}</dd>
                <dt>"Access granted through PeeringDB"</dt><dd>{s.peeringdb_grants}</dd>
                <dt>"Customers opted out"</dt><dd>{s.customers_opted_out}</dd>
            </dl>
            <p><a href="/admin/audit?event=login.refused">"All refused logins"</a></p>
        </section>
    }
}
