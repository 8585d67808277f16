use leptos::prelude::*;

use crate::console::AuditItem;

/// Audit rows as a table of sentences; the recorded JSON is in the CSV
/// export, which is what an operator greps.
#[component]
pub fn AuditTable(items: Vec<AuditItem>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|a| {
            let who = a.username.clone().or_else(|| a.user_id.map(|id| format!("#{id}")));
            view! {
                <tr>
                    <td class="nowrap">{a.at}</td>
                    <td>{a.summary}<br/><span class="muted small"><code>{a.event.as_str()}</code></span></td>
                    <td>{a.actor_name.unwrap_or_else(|| a.actor.label().to_string())}</td>
                    <td>{who}</td>
                    <td>{a.customer.or_else(|| a.customer_id.map(|id| format!("#{id}")))}</td>
                    <td>{a.ip}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="audit">
                <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"By"</th><th scope="col">"Account"</th>
                    <th scope="col">"Customer"</th><th scope="col">"Address"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
