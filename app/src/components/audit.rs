use leptos::prelude::*;

use crate::console::AuditItem;

/// Audit rows as a table; the details column keeps the recorded JSON,
/// which is what an operator greps for.
#[component]
pub fn AuditTable(items: Vec<AuditItem>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|a| {
            let who = a.username.clone().or_else(|| a.user_id.map(|id| format!("#{id}")));
            view! {
                <tr>
                    <td class="nowrap">{a.at}</td>
                    <td><code>{a.event.as_str()}</code></td>
                    <td>{a.actor_name.unwrap_or_else(|| a.actor.to_string())}</td>
                    <td>{who}</td>
                    <td>{a.customer.or_else(|| a.customer_id.map(|id| format!("#{id}")))}</td>
                    <td class="details"><code>{a.details}</code></td>
                    <td>{a.ip}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="audit">
                <thead><tr><th scope="col">"When"</th><th scope="col">"Event"</th><th scope="col">"By"</th><th scope="col">"User"</th>
                    <th scope="col">"Customer"</th><th scope="col">"Details"</th><th scope="col">"Address"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
