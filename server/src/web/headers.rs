//! The security headers of every answer, in one place.
//!
//! Pages get a Content-Security-Policy whose script source is the nonce
//! Leptos puts on its inline hydration script (the shell fills it in,
//! `app::backend::send_content_security_policy`); every other answer gets
//! the same policy without a nonce. The demo simulator, which stands in
//! for another site, is left as that site would serve itself.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The placeholder the shell replaces with the response's nonce.
const NONCE: &str = app::backend::ContentSecurityPolicy::NONCE;

/// The policy, with [`NONCE`] where a page's nonce goes. `form_action`
/// are the origins a form may be sent to (or redirected to after it is
/// sent) besides our own: PeeringDB's, where "Login with PeeringDB" goes.
pub fn content_security_policy(form_action: &[String]) -> String {
    let mut form = String::from("'self'");
    for origin in form_action {
        form.push(' ');
        form.push_str(origin);
    }
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{NONCE}' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; object-src 'none'; form-action {form}; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// What every answer carries.
pub struct Policy {
    /// [`content_security_policy`] without a nonce (no inline script runs).
    pub csp_without_nonce: HeaderValue,
    /// `Strict-Transport-Security`, when the public URL is https.
    pub hsts: Option<HeaderValue>,
}

impl Policy {
    pub fn new(csp: &str, https: bool) -> Policy {
        let without = csp.replace(&format!(" 'nonce-{NONCE}'"), "");
        Policy {
            csp_without_nonce: HeaderValue::from_str(&without).unwrap_or(HeaderValue::from_static("default-src 'none'")),
            hsts: https.then(|| HeaderValue::from_static("max-age=31536000")),
        }
    }
}

/// Adds the headers an answer does not set itself: `nosniff`,
/// `X-Frame-Options`, `Referrer-Policy` on everything; and, except on the
/// simulator's pages, the CSP, HSTS under https,
/// `Cross-Origin-Opener-Policy`, and `Cache-Control: no-store` on
/// everything that is not a static file (pages may be signed in, server
/// function answers carry people's data).
pub async fn security_headers(State(policy): State<Arc<Policy>>, req: Request, next: Next) -> Response {
    let simulator = req.uri().path().starts_with("/peeringdb-sim/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    if simulator {
        return resp;
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, policy.csp_without_nonce.clone());
    }
    if let Some(hsts) = &policy.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
    h.insert(header::HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_our_own_scripts_the_nonce_and_wasm_and_forms_to_peeringdb() {
        let csp = content_security_policy(&["https://auth.peeringdb.com".into()]);
        assert!(csp.contains("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval';"), "{csp}");
        assert!(csp.contains("form-action 'self' https://auth.peeringdb.com;"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("base-uri 'none'") && csp.starts_with("default-src 'self';"));
        assert!(!csp.contains("unsafe-inline"));
        let without = Policy::new(&csp, false).csp_without_nonce;
        assert!(!without.to_str().unwrap().contains("nonce"), "{without:?}");
    }
}
