//! Pieces shared by the console pages: tabs, pager, result notices.

use leptos::prelude::*;

use crate::components::signed_in::SignedIn;
use crate::{AppError, Me};

const TABS: [(&str, &str); 6] = [
    ("/admin", "Overview"),
    ("/admin/customers", "Customers"),
    ("/admin/users", "Users"),
    ("/admin/audit", "Audit log"),
    ("/admin/peeringdb", "PeeringDB"),
    ("/admin/mail", "Mail"),
];

/// A superadmin page: the console's tabs above `view`. Others get a refusal
/// (the server functions refuse them too; this only spares a useless page).
#[component]
pub fn AdminPage<V, F>(tab: &'static str, view: F) -> impl IntoView
where
    F: Fn(Me) -> V + Send + Sync + Copy + 'static,
    V: IntoView + 'static,
{
    view! {
        <SignedIn view=move |me| {
            if me.is_superadmin {
                let tabs = TABS
                    .iter()
                    .map(|(href, label)| view! { <a href=*href aria-current=(*href == tab).then_some("page")>{*label}</a> })
                    .collect_view();
                view! { <nav class="tabs" aria-label="Admin console">{tabs}</nav> {view(me)} }.into_any()
            } else {
                view! { <div class="alert error" role="alert">"This page is for the exchange's administrators."</div> }.into_any()
            }
        }/>
    }
}

/// "Page 2 of 200" with previous/next links; `base` ends in `?` or `&`.
#[component]
pub fn Pager(base: String, page: u32, pages: u32, total: i64) -> impl IntoView {
    let prev = (page > 0).then(|| format!("{base}page={}", page - 1));
    let next = (page + 1 < pages).then(|| format!("{base}page={}", page + 1));
    view! {
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
            <span class="muted">{format!("Page {} of {pages} · {total} in all", page + 1)}</span>
            {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
        </nav>
    }
}

/// The search box of a list page: a GET form, so the query lives in the
/// URL (bookmarkable, and it needs no JavaScript).
#[component]
pub fn SearchForm(action: &'static str, label: &'static str, value: Signal<String>, #[prop(optional)] placeholder: &'static str) -> impl IntoView {
    view! {
        <form method="get" action=action class="search" role="search">
            <label for="q">{label}</label>
            <span class="search-row">
                <input id="q" name="q" type="search" value=value placeholder=placeholder/>
                <button type="submit">"Search"</button>
            </span>
        </form>
    }
}

/// The pager's base link of a searchable list: `/path?` or `/path?q=…&`.
pub fn list_base(path: &str, q: &str) -> String {
    if q.is_empty() {
        format!("{path}?")
    } else {
        format!("{path}?q={}&", crate::encode_query_component(q))
    }
}

/// The outcome of a form: a short confirmation or the error, read aloud.
///
/// The forms are plain posts (the pages are not hydrated): the server
/// function answers with a redirect back to the page, carrying its error
/// (`__err`, read by `ServerAction`) or, when it succeeded, its own path in
/// `__ok` (added by the server's form layer).
pub fn outcome<S>(action: ServerAction<S>, ok: &'static str) -> Option<AnyView>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    let result = action.value().with(|v| v.as_ref().map(|r| r.as_ref().map(|_| ()).map_err(Clone::clone))).or_else(|| {
        let query = leptos_router::hooks::use_query_map();
        let succeeded = query.read_untracked().get_str(crate::FORM_OK).is_some_and(|path| path == S::PATH);
        succeeded.then_some(Ok(()))
    });
    result.map(|r| match r {
        Ok(()) => view! { <div class="alert ok" role="status">{ok}</div> }.into_any(),
        Err(e) => view! { <div class="alert error" role="alert">{e.to_string()}</div> }.into_any(),
    })
}

/// An error box for a failed load.
pub fn load_error(e: AppError) -> AnyView {
    view! { <div class="alert error" role="alert">{e.to_string()}</div> }.into_any()
}

/// A query parameter, or empty.
pub fn param(q: &leptos_router::params::ParamsMap, key: &str) -> String {
    q.get(key).unwrap_or_default()
}

/// The zero-based page number of `?page=`.
pub fn page_param(q: &leptos_router::params::ParamsMap) -> u32 {
    q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0)
}
