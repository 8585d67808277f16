//! The import pages (CSV and IX-F) answer their own form's POST: the page,
//! rendered with the posted form, is the preview (`app`'s `ImportPage` and
//! `IxfImportPage`). So the preview works the same with and without
//! JavaScript and the bundle carries no import code; the Import button is
//! a server function like every other.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;

use app::console::{PostedImport, PostedIxf};

/// Renders the CSV import page for a posted form. The body is already
/// bounded by `limit_body` (`PEERPORTAL_IMPORT_MAX_BYTES` on this path).
pub async fn preview_csv(req: Request, context: impl Fn() + Clone + Send + Sync + 'static, options: LeptosOptions) -> Response {
    render_posted(req, context, options, |form| {
        let mut posted = PostedImport::default();
        for (key, value) in url::form_urlencoded::parse(form) {
            match key.as_ref() {
                "csv" => posted.csv = value.into_owned(),
                "allow_reserved" => posted.allow_reserved = value == "on",
                _ => {}
            }
        }
        posted
    })
    .await
}

/// Renders the IX-F import page for a posted form, bounded as the CSV one.
pub async fn preview_ixf(req: Request, context: impl Fn() + Clone + Send + Sync + 'static, options: LeptosOptions) -> Response {
    render_posted(req, context, options, |form| {
        let mut posted = PostedIxf::default();
        for (key, value) in url::form_urlencoded::parse(form) {
            match key.as_ref() {
                "json" => posted.json = value.into_owned(),
                "url" => posted.url = value.into_owned(),
                "ixp_id" => posted.ixp_id = value.into_owned(),
                "allow_reserved" => posted.allow_reserved = value == "on",
                _ => {}
            }
        }
        posted
    })
    .await
}

/// Renders the app for a posted form, with what `read` made of the form
/// in the page's context.
async fn render_posted<T: Clone + Send + Sync + 'static>(
    req: Request,
    context: impl Fn() + Clone + Send + Sync + 'static,
    options: LeptosOptions,
    read: impl FnOnce(&[u8]) -> T,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::BAD_REQUEST, "The form could not be read.").into_response();
    };
    let posted = read(&bytes);
    let render = leptos_axum::render_app_async_with_context(
        move || {
            context();
            provide_context(posted.clone());
        },
        move || app::shell(options.clone()),
    );
    render(Request::from_parts(parts, Body::empty())).await
}
