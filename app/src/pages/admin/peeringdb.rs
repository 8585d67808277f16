//! `/admin/peeringdb`: is the integration set up, and is it working?

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::console::{login_activity, peeringdb_status};
use crate::components::activity::activity_view;
use crate::components::console::{load_error, AdminPage};
use crate::console::{AuditItem, PeeringDbStatus};
use crate::AppError;

#[component]
pub fn PeeringDbPage() -> impl IntoView {
    // Made here, outside `AdminPage`: see the note in `customers.rs`.
    let status = Resource::new(|| (), |_| peeringdb_status());
    let activity = Resource::new(|| (), |_| login_activity());
    view! {
        <Title text="PeeringDB integration"/>
        <AdminPage tab="/admin/peeringdb" view=move |_| view! { {status_view(status)}{activity_view(activity)} }/>
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

/// A number member of the compact JSON the server wrote.
fn number_field(json: &str, key: &str) -> Option<u64> {
    let pattern = format!("\"{key}\":");
    let start = json.find(&pattern)? + pattern.len();
    let digits: String = json[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn sweep_line(item: Option<AuditItem>) -> String {
    match item {
        None => "none yet".into(),
        Some(a) => {
            let n = |k: &str| number_field(&a.details, k).unwrap_or(0);
            format!(
                "{}: {} synced, {} changed, {} errors, {} stale, {} past the grace",
                a.at,
                n("synced"),
                n("changed"),
                n("errors"),
                n("stale"),
                n("grace_expired")
            )
        }
    }
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
                <dt>"ID tokens"</dt><dd>{s.id_tokens.unwrap_or_else(dash)}</dd>
                <dt>"Second factor at PeeringDB"</dt><dd>{s.mfa_policy.unwrap_or_else(dash)}</dd>
                <dt>"Link by verified email"</dt><dd>{if s.link_by_email { "on" } else { "off" }}</dd>
                <dt>"Last successful login"</dt><dd>{login_line(s.last_success, false)}</dd>
                <dt>"Last failed login"</dt><dd>{login_line(s.last_failure, true)}</dd>
                <dt>"Users linked to PeeringDB"</dt><dd>{s.linked_users}</dd>
                <dt>"Access granted through PeeringDB"</dt><dd>{s.peeringdb_grants}</dd>
                <dt>"Customers opted out"</dt><dd>{s.customers_opted_out}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="resync-title">
            <h2 id="resync-title">"Re-sync between logins"</h2>
            <dl class="facts" id="resync">
                <dt>"Background re-sync"</dt><dd>{s.resync}</dd>
                <dt>"Requests to PeeringDB"</dt><dd>{format!("at most {} a minute, all replicas together; logins first", s.requests_per_minute)}</dd>
                <dt>"Last sweep"</dt><dd>{sweep_line(s.last_sweep)}</dd>
                <dt>"Next user due"</dt><dd>{s.next_due.unwrap_or_else(dash)}</dd>
                <dt>"Links synced"</dt><dd>{s.links_synced}</dd>
                <dt>"Links failing at PeeringDB"</dt><dd>{s.links_failing}</dd>
                <dt>"Stale links"</dt><dd>{s.links_stale}</dd>
            </dl>
            <p><a href="/admin/audit?event=peeringdb.">"Every sweep and stale link"</a></p>
            <p><a href="/admin/audit?event=login.refused">"All refused logins"</a></p>
        </section>
    }
}
