//! The outcome of a plain form post to a server function.
//!
//! The pages are server-rendered and their forms are plain posts (only the
//! islands run in the browser). Leptos answers such a post with a redirect
//! back to the page (`Referer`), carrying a failure as `__path`/`__err`,
//! which the page's `ServerAction` shows. A success carries nothing, so the
//! page could not say "Saved." This layer adds `__ok=<the function's path>`
//! to a redirect back to the same page that carries no error, and drops a
//! stale `__ok` from every other, so the page shows the confirmation once
//! (`app`'s `outcome`).

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use url::Url;

/// The parameter, shared with the pages.
const OK: &str = app::FORM_OK;
/// Leptos' own parameters of a failed form post.
const ERR_PARAMS: [&str; 2] = ["__path", "__err"];

pub async fn layer(req: Request, next: Next) -> Response {
    let accepts_html = req.headers().get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if req.method() != Method::POST || !req.uri().path().starts_with("/api/") || !accepts_html {
        return next.run(req).await;
    }
    let function = req.uri().path().to_owned();
    let referer = req.headers().get(header::REFERER).and_then(|r| r.to_str().ok()).map(str::to_owned);
    let mut res = next.run(req).await;
    if !res.status().is_redirection() {
        return res;
    }
    let location = res.headers().get(header::LOCATION).and_then(|l| l.to_str().ok());
    if let Some(new) = location.and_then(|l| with_outcome(l, referer.as_deref(), &function)) {
        if let Ok(value) = HeaderValue::from_str(&new) {
            res.headers_mut().insert(header::LOCATION, value);
        }
    }
    res
}

/// The redirect's new `Location`, or `None` to leave it as it is.
fn with_outcome(location: &str, referer: Option<&str>, function: &str) -> Option<String> {
    // Relative redirects (`/login`) are resolved against a stand-in origin
    // and written back relative.
    let base = Url::parse("http://portal.invalid/").ok()?;
    let mut url = base.join(location).ok()?;
    let failed = url.query_pairs().any(|(k, _)| ERR_PARAMS.contains(&k.as_ref()));
    let back = referer.and_then(|r| base.join(r).ok()).is_some_and(|r| same_page(&r, &url));
    // A redirect elsewhere is the function's own (`Ctx::redirect_done` says
    // "done" there itself); only the page it came from can hold a stale `__ok`.
    if !back || (failed && !url.query_pairs().any(|(k, _)| k == OK)) {
        return None;
    }
    let kept: Vec<(String, String)> = url.query_pairs().filter(|(k, _)| k != OK).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    url.set_query(None);
    if !kept.is_empty() || !failed {
        let mut pairs = url.query_pairs_mut();
        pairs.extend_pairs(kept);
        if !failed {
            pairs.append_pair(OK, function);
        }
    }
    Some(if url.origin() == base.origin() { url[url::Position::BeforePath..].to_owned() } else { url.to_string() })
}

/// The same page, ignoring the outcome parameters. Origins are not compared:
/// a redirect may be relative, and a cross-site post never gets this far
/// (`refuse_cross_site`).
fn same_page(a: &Url, b: &Url) -> bool {
    let params = |u: &Url| -> Vec<(String, String)> {
        u.query_pairs().filter(|(k, _)| k != OK && !ERR_PARAMS.contains(&k.as_ref())).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    };
    a.path() == b.path() && params(a) == params(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "/api/customer/invite";

    #[test]
    fn success_back_to_the_page_names_the_function() {
        let page = "http://127.0.0.1:3000/admin/users/7?tab=x";
        assert_eq!(with_outcome(page, Some(page), F).as_deref(), Some("http://127.0.0.1:3000/admin/users/7?tab=x&__ok=%2Fapi%2Fcustomer%2Finvite"));
    }

    #[test]
    fn a_second_success_replaces_the_first() {
        let page = "http://h/admin?__ok=%2Fapi%2Fold";
        assert_eq!(with_outcome(page, Some(page), F).as_deref(), Some("http://h/admin?__ok=%2Fapi%2Fcustomer%2Finvite"));
    }

    #[test]
    fn a_failure_drops_an_earlier_success() {
        let location = "http://h/admin?__ok=%2Fapi%2Fold&__path=%2Fapi%2Fx&__err=abc";
        assert_eq!(with_outcome(location, Some("http://h/admin?__ok=%2Fapi%2Fold"), F).as_deref(), Some("http://h/admin?__path=%2Fapi%2Fx&__err=abc"));
    }

    #[test]
    fn a_failure_without_an_earlier_success_is_left_alone() {
        assert_eq!(with_outcome("http://h/admin?__path=%2Fapi%2Fx&__err=abc", Some("http://h/admin"), F), None);
    }

    #[test]
    fn a_redirect_elsewhere_is_left_alone() {
        assert_eq!(with_outcome("/", Some("http://h/login"), F), None);
        assert_eq!(with_outcome("/admin/customers/7?__ok=%2Fapi%2Fnew", Some("http://h/admin/customers/new?__path=x&__err=y"), F), None);
        assert_eq!(with_outcome("/login/2fa", Some("http://h/login?next=%2Fadmin"), F), None);
    }

    #[test]
    fn a_relative_redirect_to_the_same_page_stays_relative() {
        assert_eq!(with_outcome("/account", Some("http://127.0.0.1:3000/account"), F).as_deref(), Some("/account?__ok=%2Fapi%2Fcustomer%2Finvite"));
    }
}
