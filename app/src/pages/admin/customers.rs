//! `/admin/customers…`: list, search, create, edit, delete and CSV import.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::console::{admin_customer, admin_customers, import_customers, DeleteCustomer, ImportCustomers, SaveCustomer};
use crate::components::console::{list_base, load_error, outcome, page_param, param, AdminPage, Pager, SearchForm};
use crate::console::{CustomerItem, ImportPreview, Page, PostedImport};
use crate::{format_asns, AppError, CustomerKind, CustomerStatus, Role};

// Each page makes its resources and actions itself, outside `AdminPage`:
// what is made inside a `Suspense` is made again every time Leptos walks the
// page on the server, and each new resource asks the server again.

/// The list: 50 a page, searchable by name, shortname or ASN.
#[component]
pub fn CustomersPage() -> impl IntoView {
    let query = use_query_map();
    let list = Resource::new(move || (param(&query.read(), "q"), page_param(&query.read())), |(q, page)| admin_customers(q, page));
    view! {
        <Title text="Customers"/>
        <AdminPage tab="/admin/customers" view=move |_| customer_list(list)/>
    }
}

fn customer_list(list: Resource<Result<Page<CustomerItem>, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let q = move || param(&query.read(), "q");
    view! {
        <section class="card" aria-labelledby="customers-title">
            <div class="heading-row">
                <h1 id="customers-title">"Customers"</h1>
                <span class="actions">
                    <a class="button primary" href="/admin/customers/new">"New customer"</a>
                    <a class="button" href="/admin/customers/import">"Import CSV"</a>
                </span>
            </div>
            <SearchForm action="/admin/customers" label="Search by name, shortname or ASN" value=Signal::derive(q) placeholder="e.g. Alpha or AS64500"/>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => load_error(e),
                        Ok(page) => {
                            let base = list_base("/admin/customers", &q());
                            let pages = page.pages();
                            let rows = page.items.into_iter().map(|c| view! {
                                <tr>
                                    <td><a href=format!("/admin/customers/{}", c.id)>{c.name}</a></td>
                                    <td>{c.shortname}</td>
                                    <td>{format_asns(&c.asns)}</td>
                                    <td>{c.kind.as_str()}</td>
                                    <td><span class=format!("badge status-{}", c.status)>{c.status.as_str()}</span></td>
                                    <td>{if c.peeringdb_login { "on" } else { "off" }}{c.peeringdb_max_role.map(|r| format!(" (max {})", r.as_str()))}{c.peeringdb_require_mfa.then_some(", MFA")}</td>
                                    <td class="num">{c.users}</td>
                                </tr>
                            }).collect_view();
                            view! {
                                <div class="table-wrap">
                                    <table>
                                        <thead><tr>
                                            <th scope="col">"Name"</th><th scope="col">"Shortname"</th><th scope="col">"ASNs"</th>
                                            <th scope="col">"Type"</th><th scope="col">"Status"</th><th scope="col">"PeeringDB login"</th><th scope="col">"Users"</th>
                                        </tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </div>
                                <Pager base page=page.page pages total=page.total/>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `/admin/customers/new` and `/admin/customers/:id`.
#[component]
pub fn CustomerPage() -> impl IntoView {
    let params = use_params_map();
    let save = ServerAction::<SaveCustomer>::new();
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok());
    let customer = Resource::new(id, |id| async move {
        match id {
            Some(id) => admin_customer(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Title text="Customer"/>
        <AdminPage tab="/admin/customers" view=move |_| customer_editor(customer, save)/>
    }
}

fn customer_editor(customer: Resource<Result<Option<CustomerItem>, AppError>>, save: ServerAction<SaveCustomer>) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match customer.await {
                    Err(e) => load_error(e),
                    Ok(c) => view! { <CustomerForm customer=c save/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CustomerForm(customer: Option<CustomerItem>, save: ServerAction<SaveCustomer>) -> impl IntoView {
    let c = customer.clone().unwrap_or(CustomerItem {
        id: 0,
        name: String::new(),
        shortname: String::new(),
        asns: Vec::new(),
        kind: CustomerKind::Full,
        status: CustomerStatus::Active,
        peeringdb_login: true,
        peeringdb_max_role: None,
        peeringdb_require_mfa: false,
        peeringdb_locked: false,
        users: 0,
    });
    let existing = customer.is_some();
    let asns = c.asns.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
    let option = |value: &'static str, label: &'static str, current: &str| {
        let selected = value == current;
        view! { <option value=value selected=selected>{label}</option> }
    };
    let kinds = CustomerKind::ALL.iter().map(|k| option(k.as_str(), k.as_str(), c.kind.as_str())).collect_view();
    let statuses = CustomerStatus::ALL.iter().map(|s| option(s.as_str(), s.as_str(), c.status.as_str())).collect_view();
    let cap = c.peeringdb_max_role.map(Role::as_str).unwrap_or("");
    view! {
        <section class="card" aria-labelledby="customer-title">
            <h1 id="customer-title">{if existing { c.name.clone() } else { "New customer".to_string() }}</h1>
            {move || outcome(save, "Saved.")}
            <ActionForm action=save attr:class="stack" attr:id="customer-form">
                {existing.then(|| view! { <input type="hidden" name="id" value=c.id.to_string()/> })}
                <label for="name">"Name"</label>
                <input id="name" name="name" type="text" required=true value=c.name.clone()/>
                <label for="shortname">"Shortname"</label>
                <input id="shortname" name="shortname" type="text" required=true value=c.shortname.clone() pattern="[a-z0-9._\\-]{1,64}" aria-describedby="shortname-help"/>
                <small id="shortname-help" class="muted">"Unique; lowercase letters, digits, '.', '_' and '-'."</small>
                <label for="asns">"ASNs"</label>
                <input id="asns" name="asns" type="text" required=true value=asns aria-describedby="asns-help"/>
                <small id="asns-help" class="muted">"One or more, separated by spaces or commas, e.g. \"64500 AS64501\"."</small>
                <label class="check"><input type="checkbox" name="allow_reserved" value="on"/>" Allow reserved ASNs (AS_TRANS, documentation, private use)"</label>
                <label for="kind">"Type"</label>
                <select id="kind" name="kind">{kinds}</select>
                <label for="status">"Status"</label>
                <select id="status" name="status">{statuses}</select>
                <label class="check"><input type="checkbox" name="peeringdb_login" value="on" checked=c.peeringdb_login aria-describedby="pdb-help"/>" Allow login with PeeringDB"</label>
                <small id="pdb-help" class="muted">"Switch it off when the customer asks that its staff not get access through PeeringDB. Existing PeeringDB access ends at each person's next login; manual grants stay."</small>
                <label for="max_role">"Highest role through PeeringDB"</label>
                <select id="max_role" name="max_role">
                    {option("", "no cap (as PeeringDB says)", cap)}{option("member", "member", cap)}{option("admin", "admin", cap)}
                </select>
                <label class="check"><input type="checkbox" name="require_mfa" value="on" checked=c.peeringdb_require_mfa aria-describedby="mfa-help"/>" Require a second factor at PeeringDB"</label>
                <small id="mfa-help" class="muted">"Only PeeringDB logins made with an authenticator app or a security key get access to this customer. People whose last login had none lose their PeeringDB access here at once; manual grants stay."</small>
                <label class="check"><input type="checkbox" name="peeringdb_locked" value="on" checked=c.peeringdb_locked aria-describedby="locked-help"/>" Only the exchange changes these PeeringDB settings"</label>
                <small id="locked-help" class="muted">"Otherwise the customer's admins can switch login with PeeringDB off or on and cap its role on their dashboard."</small>
                <button type="submit" class="button primary">{if existing { "Save changes" } else { "Create customer" }}</button>
            </ActionForm>
        </section>
        {existing.then(|| view! { <DeleteCustomerCard id=c.id users=c.users/> })}
    }
}

#[component]
fn DeleteCustomerCard(id: i64, users: i64) -> impl IntoView {
    let delete = ServerAction::<DeleteCustomer>::new();
    view! {
        <section class="card danger" aria-labelledby="delete-title">
            <h2 id="delete-title">"Delete this customer"</h2>
            <p>{format!("Deleting removes its ASNs and the access of {users} person(s). It cannot be undone; setting the status to \"left\" keeps the history.")}</p>
            {move || outcome(delete, "Deleted.")}
            <ActionForm action=delete attr:class="stack">
                <input type="hidden" name="id" value=id.to_string()/>
                <label class="check"><input type="checkbox" name="confirm" value="on" required=true/>" Yes, delete it"</label>
                <button type="submit" class="button danger">"Delete customer"</button>
            </ActionForm>
        </section>
    }
}

/// `/admin/customers/import`: paste CSV, preview every row, then import.
///
/// The preview is the page itself, answering the form's POST (the server
/// routes a POST here with the form as a [`PostedImport`]): it works the same
/// with and without JavaScript, and puts no CSV code in the bundle. The
/// Import button posts to the server function, which comes back here with
/// what it wrote.
#[component]
pub fn ImportPage() -> impl IntoView {
    // Made here, outside the console's `Suspense` (see the dashboard).
    let preview = use_context::<PostedImport>()
        .map(|p| Resource::new(|| (), move |_| import_customers(p.csv.clone(), p.allow_reserved.then(|| "on".to_string()), None)));
    view! {
        <Title text="Import customers"/>
        <AdminPage tab="/admin/customers" view=move |_| view! { <Importer preview/> }/>
    }
}

#[component]
fn Importer(preview: Option<Resource<Result<ImportPreview, AppError>>>) -> impl IntoView {
    // A refused import comes back with its error.
    let import = ServerAction::<ImportCustomers>::new();
    let PostedImport { csv, allow_reserved } = use_context::<PostedImport>().unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="import-title">
            <h1 id="import-title">"Import customers"</h1>
            <p class="muted">"Columns: name,shortname,asns,type,status,peeringdb_login. Existing shortnames are updated. Nothing is written until the preview shows no bad row and you press Import."</p>
            <form method="post" action="/admin/customers/import" class="stack" id="import-form">
                <label for="csv">"CSV"</label>
                <textarea id="csv" name="csv" rows="10" required=true spellcheck="false">{csv.clone()}</textarea>
                <label class="check"><input type="checkbox" name="allow_reserved" value="on" checked=allow_reserved/>" Allow reserved ASNs"</label>
                <button type="submit" class="button">"Preview"</button>
            </form>
            {move || import.value().get().and_then(Result::err).map(load_error)}
            {preview.map(|preview| view! {
                <Suspense>
                    {move || {
                        let csv = csv.clone();
                        Suspend::new(async move {
                            match preview.await {
                                Err(e) => load_error(e),
                                Ok(p) => view! { <Preview preview=p csv allow=allow_reserved import/> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            })}
        </section>
    }
}

#[component]
fn Preview(preview: ImportPreview, csv: String, allow: bool, import: ServerAction<ImportCustomers>) -> impl IntoView {
    if !preview.errors.is_empty() {
        let errors = preview.errors.into_iter().map(|(line, e)| view! { <li>{format!("Line {line}: {e}")}</li> }).collect_view();
        return view! {
            <div class="alert error" role="alert">
                <p>"Nothing was imported. Fix these rows and preview again:"</p>
                <ul class="errors">{errors}</ul>
            </div>
        }
        .into_any();
    }
    let (new, updated) = preview.counts();
    let rows = preview
        .rows
        .into_iter()
        .map(|r| view! {
            <tr>
                <td>{if r.new { "create" } else { "update" }}</td>
                <td>{r.shortname}</td><td>{r.name}</td><td>{format_asns(&r.asns)}</td>
                <td>{r.kind.as_str()}</td><td>{r.status.as_str()}</td><td>{if r.peeringdb_login { "on" } else { "off" }}</td>
            </tr>
        })
        .collect_view();
    view! {
        <div class="alert ok" role="status">{format!("Every row is valid: {new} to create, {updated} to update.")}</div>
        <ActionForm action=import attr:id="import-commit">
            <input type="hidden" name="csv" value=csv/>
            {allow.then(|| view! { <input type="hidden" name="allow_reserved" value="on"/> })}
            <input type="hidden" name="commit" value="on"/>
            <button type="submit" class="button primary">{match new + updated { 1 => "Import 1 customer".to_string(), n => format!("Import {n} customers") }}</button>
        </ActionForm>
        <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Action"</th><th scope="col">"Shortname"</th><th scope="col">"Name"</th><th scope="col">"ASNs"</th>
                    <th scope="col">"Type"</th><th scope="col">"Status"</th><th scope="col">"PeeringDB"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
