use leptos::prelude::*;
use leptos_meta::Title;
use crate::components::signed_in::SignedIn;

use crate::{format_asns, Me};

/// `/`: who you are and the customers you can act for.
#[component]
pub fn Dashboard() -> impl IntoView {
    view! {
        <Title text="Dashboard"/>
        <SignedIn view=|me| view! { <DashboardFor me/> }/>
    }
}

#[component]
fn DashboardFor(me: Me) -> impl IntoView {
    let rows = me
        .memberships
        .iter()
        .map(|m| {
            view! {
                <tr>
                    <td>{m.name.clone()}</td>
                    <td>{format_asns(&m.asns)}</td>
                    <td><span class=format!("badge role-{}", m.role.as_str())>{m.role.as_str()}</span></td>
                    <td>{m.source.label()}</td>
                </tr>
            }
        })
        .collect_view();
    let has_customers = !me.memberships.is_empty();
    let current = me.current().cloned();
    view! {
        {me.flash.clone().map(|f| view! { <div class="alert ok" role="status">{f}</div> })}
        {current.map(|c| view! {
            <section class="card" aria-labelledby="current">
                <h2 id="current">{c.name.clone()}</h2>
                <dl class="facts">
                    <dt>"ASNs"</dt><dd>{format_asns(&c.asns)}</dd>
                    <dt>"Your role"</dt><dd><span class=format!("badge role-{}", c.role.as_str())>{c.role.as_str()}</span></dd>
                    <dt>"Access via"</dt><dd>{c.source.label()}</dd>
                </dl>
            </section>
        })}
        <section class="card" aria-labelledby="who">
            <h1 id="who">{format!("Welcome, {}", me.name)}</h1>
            <dl class="facts">
                <dt>"Username"</dt><dd>{me.username.clone()}</dd>
                <dt>"Email"</dt><dd>{me.email.clone()}</dd>
                {me.is_superadmin.then(|| view! { <dt>"Role"</dt><dd><span class="badge role-superadmin">"superadmin"</span></dd> })}
            </dl>
        </section>
        <section class="card" aria-labelledby="customers">
            <h2 id="customers">"Your customers"</h2>
            {if has_customers {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th scope="col">"Customer"</th><th scope="col">"ASNs"</th><th scope="col">"Role"</th><th scope="col">"Access via"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }.into_any()
            } else {
                view! { <p>"You do not have access to any customer yet."</p> }.into_any()
            }}
        </section>
    }
}
