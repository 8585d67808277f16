//! `/admin/audit`: the audit log, filtered, paged, exported as CSV.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::console::audit_log;
use crate::components::audit::AuditTable;
use crate::components::console::{load_error, page_param, param, AdminPage, Pager};
use crate::console::{AuditFilter, AuditItem, Page};
use crate::AppError;

/// The filter as the URL's query says it.
fn filter_of(q: &leptos_router::params::ParamsMap) -> AuditFilter {
    AuditFilter { user: param(q, "user"), customer: param(q, "customer"), event: param(q, "event"), from: param(q, "from"), to: param(q, "to") }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    // Made here, outside `AdminPage`: see the note in `customers.rs`.
    let query = use_query_map();
    let log = Resource::new(
        move || (filter_of(&query.read()), page_param(&query.read())),
        |(f, page)| audit_log(f.user, f.customer, f.event, f.from, f.to, page),
    );
    view! {
        <Title text="Audit log"/>
        <AdminPage tab="/admin/audit" view=move |_| audit_view(log)/>
    }
}

fn audit_view(log: Resource<Result<Page<AuditItem>, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let filter = move || filter_of(&query.read());
    let f = filter();
    let events = domain::audit::filter_choices()
        .into_iter()
        .map(|e| {
            let label = if e.ends_with('.') { format!("{e}* (all)") } else { e.to_string() };
            view! { <option value=e selected=e == f.event>{label}</option> }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="audit-title">
            <h1 id="audit-title">"Audit log"</h1>
            <Form action="/admin/audit" attr:class="filters" attr:role="search">
                <span><label for="f-user">"User"</label><input id="f-user" name="user" type="text" value=f.user.clone() placeholder="username"/></span>
                <span><label for="f-customer">"Customer"</label><input id="f-customer" name="customer" type="text" value=f.customer.clone() placeholder="shortname"/></span>
                <span><label for="f-event">"Event"</label><select id="f-event" name="event"><option value="">"any"</option>{events}</select></span>
                <span><label for="f-from">"From"</label><input id="f-from" name="from" type="date" value=f.from.clone()/></span>
                <span><label for="f-to">"To"</label><input id="f-to" name="to" type="date" value=f.to.clone()/></span>
                <button type="submit" class="button primary">"Filter"</button>
            </Form>
            <p><a href=move || { let q = filter().query(); if q.is_empty() { "/admin/audit.csv".to_string() } else { format!("/admin/audit.csv?{q}") } } download="">"Export these rows as CSV"</a></p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Err(e) => load_error(e),
                        Ok(page) => {
                            let q = filter().query();
                            let base = if q.is_empty() { "/admin/audit?".to_string() } else { format!("/admin/audit?{q}&") };
                            let pages = page.pages();
                            view! {
                                <AuditTable items=page.items/>
                                <Pager base page=page.page pages total=page.total/>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
