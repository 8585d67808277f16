//! `/admin/customers…`: list, search, create, edit, delete and CSV import.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::console::{admin_customer, admin_customers, import_customers, import_ixf, DeleteCustomer, ImportCustomers, ImportIxf, SaveCustomer, IXF_PAGE};
use crate::components::console::{list_base, load_error, outcome, page_param, param, AdminPage, Pager, SearchForm};
use crate::console::{CustomerItem, ImportPreview, ImportRow, IxfPreview, Page, PostedImport, PostedIxf};
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
                    <a class="button" href=IXF_PAGE>"Import IX-F export"</a>
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
            {preview_slot(preview, move |p| view! { <Preview preview=p csv=csv.clone() allow=allow_reserved import/> }.into_any())}
        </section>
    }
}

/// Where an import page shows what the server made of its posted form.
fn preview_slot<T>(preview: Option<Resource<Result<T, AppError>>>, show: impl Fn(T) -> AnyView + Clone + Send + Sync + 'static) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    preview.map(|preview| {
        view! {
            <Suspense>
                {move || {
                    let show = show.clone();
                    Suspend::new(async move {
                        match preview.await {
                            Err(e) => load_error(e),
                            Ok(p) => show(p),
                        }
                    })
                }}
            </Suspense>
        }
    })
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
    view! {
        <div class="alert ok" role="status">{format!("Every row is valid: {new} to create, {updated} to update.")}</div>
        <ActionForm action=import attr:id="import-commit">
            <input type="hidden" name="csv" value=csv/>
            {allow.then(|| view! { <input type="hidden" name="allow_reserved" value="on"/> })}
            <input type="hidden" name="commit" value="on"/>
            <button type="submit" class="button primary">{import_label(new + updated)}</button>
        </ActionForm>
        {rows_table(preview.rows)}
    }
    .into_any()
}

fn import_label(n: usize) -> String {
    match n {
        1 => "Import 1 customer".to_string(),
        n => format!("Import {n} customers"),
    }
}

/// What an import writes, a row per customer.
fn rows_table(rows: Vec<ImportRow>) -> impl IntoView {
    let rows = rows
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
        <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Action"</th><th scope="col">"Shortname"</th><th scope="col">"Name"</th><th scope="col">"ASNs"</th>
                    <th scope="col">"Type"</th><th scope="col">"Status"</th><th scope="col">"PeeringDB"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// `/admin/customers/import-ixf`: the members of one exchange of an IX-F
/// Member Export, pasted or fetched from its URL; preview, then import.
///
/// Built as the CSV import is: the page answers its form's POST with the
/// preview (a [`PostedIxf`]), and the Import button posts to the server
/// function with the preview's digest, so what is written is exactly what
/// was shown even when the export is fetched again.
#[component]
pub fn IxfImportPage() -> impl IntoView {
    let preview = use_context::<PostedIxf>().map(|p| {
        Resource::new(
            || (),
            move |_| import_ixf(Some(p.json.clone()), Some(p.url.clone()), Some(p.ixp_id.clone()), p.allow_reserved.then(|| "on".to_string()), None, None),
        )
    });
    view! {
        <Title text="Import from an IX-F export"/>
        <AdminPage tab="/admin/customers" view=move |_| view! { <IxfImporter preview/> }/>
    }
}

#[component]
fn IxfImporter(preview: Option<Resource<Result<IxfPreview, AppError>>>) -> impl IntoView {
    let import = ServerAction::<ImportIxf>::new();
    let posted = use_context::<PostedIxf>().unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="ixf-title">
            <h1 id="ixf-title">"Import from an IX-F export"</h1>
            <p class="muted">"The IX-F Member Export (schema 0.6 to 1.0) that IXP Manager and most exchanges publish. Members become customers, matched to known ones by ASN; customers the export does not list are shown, never removed. Nothing is written until the preview shows no problem and you press Import."</p>
            <form method="post" action=IXF_PAGE class="stack" id="ixf-form">
                <label for="ixf-url">"Export URL"</label>
                <input id="ixf-url" name="url" type="url" value=posted.url.clone() placeholder="https://ixp.example.net/api/v4/member-export/ixf/1.0" aria-describedby="ixf-url-help"/>
                <small id="ixf-url-help" class="muted">"Fetched by the portal. An API key in its query is kept out of the logs and the audit log."</small>
                <label for="ixf-json">"Or the export itself (JSON)"</label>
                <textarea id="ixf-json" name="json" rows="8" spellcheck="false">{posted.json.clone()}</textarea>
                <label for="ixf-ixp">"Exchange (ixp_id)"</label>
                <input id="ixf-ixp" name="ixp_id" type="number" min="0" value=posted.ixp_id.clone() aria-describedby="ixf-ixp-help"/>
                <small id="ixf-ixp-help" class="muted">"Needed only when the export lists several exchanges."</small>
                <label class="check"><input type="checkbox" name="allow_reserved" value="on" checked=posted.allow_reserved/>" Allow reserved ASNs"</label>
                <button type="submit" class="button">"Preview"</button>
            </form>
            {move || import.value().get().and_then(Result::err).map(load_error)}
            {preview_slot(preview, move |p| view! { <IxfPreviewView preview=p posted=posted.clone() import/> }.into_any())}
        </section>
    }
}

#[component]
fn IxfPreviewView(preview: IxfPreview, posted: PostedIxf, import: ServerAction<ImportIxf>) -> impl IntoView {
    if !preview.errors.is_empty() {
        let errors = preview.errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view();
        return view! {
            <div class="alert error" role="alert">
                <p>"Nothing was imported. The export has these problems:"</p>
                <ul class="errors">{errors}</ul>
            </div>
        }
        .into_any();
    }
    let (new, updated) = preview.counts();
    let exchange = preview.ixp.as_ref().map_or_else(String::new, |(id, name)| format!("{name} (ixp_id {id})"));
    let missing = (!preview.missing.is_empty()).then(|| {
        let items = preview
            .missing
            .iter()
            .map(|shortname| view! { <li><a href=format!("/admin/customers?q={shortname}")>{shortname.clone()}</a></li> })
            .collect_view();
        view! {
            <div class="alert warn" role="note" id="ixf-missing">
                <p>{format!("{} customer(s) are not in the export at {exchange}. They are kept; look at each one:", preview.missing.len())}</p>
                <ul class="inline">{items}</ul>
            </div>
        }
    });
    // A fetched export is named again by its URL, a pasted one carried
    // whole; the digest holds the import to what this preview read.
    let source = if posted.url.trim().is_empty() {
        view! { <input type="hidden" name="json" value=posted.json/> }.into_any()
    } else {
        view! { <input type="hidden" name="url" value=posted.url/> }.into_any()
    };
    let ixp_id = preview.ixp.as_ref().map(|(id, _)| id.to_string()).unwrap_or_default();
    let commit = (new + updated > 0).then(|| view! {
        <ActionForm action=import attr:id="ixf-commit">
            {source}
            <input type="hidden" name="ixp_id" value=ixp_id/>
            {posted.allow_reserved.then(|| view! { <input type="hidden" name="allow_reserved" value="on"/> })}
            <input type="hidden" name="digest" value=preview.digest.clone()/>
            <input type="hidden" name="commit" value="on"/>
            <button type="submit" class="button primary">{import_label(new + updated)}</button>
        </ActionForm>
    });
    view! {
        <div class="alert ok" role="status">{format!("{exchange}: every member is valid: {new} to create, {updated} to update.")}</div>
        {missing}
        {commit}
        {rows_table(preview.rows)}
    }
    .into_any()
}
