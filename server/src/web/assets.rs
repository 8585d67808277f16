//! The WASM, JS and CSS bundle and the favicon, carried inside the binary
//! so it serves from any working directory with nothing beside it.
//!
//! `make build` runs `cargo leptos build --release --precompress`, which
//! builds the bundle, writes brotli and gzip copies, and only then
//! compiles the server, whose release build embeds all of them (rust-embed):
//! a copy can never be older than its file, and the best one the browser
//! accepts goes out, so no request pays for compressing the bundle. A debug
//! build reads the same files from `target/site` as they are on disk, and
//! sends a copy only when it is not older than its file (a rebuild without
//! `--precompress` leaves old ones).
//! File names are not hashed, so browsers revalidate (`no-cache`) with the
//! ETag, and get a 304 while it is unchanged.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "$PEERPORTAL_SITE"]
#[include = "favicon.svg*"]
#[include = "pkg/*.wasm*"]
#[include = "pkg/*.js*"]
#[include = "pkg/*.css*"]
// A build of the server alone (`cargo test`, `cargo bench`) has no bundle
// to carry; [`bundled`] says so at start.
#[allow_missing = true]
struct Site;

/// The bundle's entry: whether this binary can serve its pages' scripts.
const ENTRY: &str = "pkg/peerportal.wasm";

/// True when the binary carries (or, in a debug build, finds) the bundle.
pub fn bundled() -> bool {
    Site::get(ENTRY).is_some()
}

/// The file at `path` (`/pkg/peerportal.js`, `/favicon.svg`), in the
/// encoding the request accepts; 404 for anything else.
pub async fn serve(req: Request) -> Response {
    serve_from::<Site>(&req, if cfg!(debug_assertions) { Copies::WhenFresh } else { Copies::Always })
}

/// When the `.br` and `.gz` copies may be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Copies {
    /// Embedded by the same build as their file: always current.
    Always,
    /// Read from disk (a debug build): only a copy at least as new as its
    /// file, since a rebuild without `--precompress` leaves old ones.
    WhenFresh,
}

/// [`serve`] from any embedded folder.
fn serve_from<F: rust_embed::RustEmbed>(req: &Request, copies: Copies) -> Response {
    let name = req.uri().path().trim_start_matches('/');
    // The copies are reached through `Accept-Encoding` only.
    let file = (!name.ends_with(".br") && !name.ends_with(".gz")).then(|| F::get(name)).flatten();
    let Some(file) = file else {
        return (StatusCode::NOT_FOUND, "no such file\n").into_response();
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(v) = HeaderValue::from_str(file.metadata.mimetype()) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    let accepted = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let copy = [("br", "br"), ("gzip", "gz")]
        .into_iter()
        .filter(|(coding, _)| accepts(accepted, coding))
        .filter_map(|(coding, suffix)| F::get(&format!("{name}.{suffix}")).map(|copy| (coding, copy)))
        .find(|(_, copy)| copies == Copies::Always || copy.metadata.last_modified() >= file.metadata.last_modified());
    let body = match copy {
        Some((coding, copy)) => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
            copy
        }
        None => file,
    };
    // Each representation its own tag (RFC 9110 §8.8.3): the bytes sent.
    let etag = etag(&body.metadata.sha256_hash());
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    if matches_etag(req.headers(), &etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.data.len()));
    if req.method() == Method::HEAD {
        return (headers, Body::empty()).into_response();
    }
    (headers, Body::from(body.data)).into_response()
}

/// A strong ETag from the content: the first 16 bytes of its SHA-256.
fn etag(sha256: &[u8; 32]) -> String {
    let hex: String = sha256[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// Whether `Accept-Encoding` allows `coding` (RFC 9110 §12.5.3): named,
/// or `*`, and not with `q=0`.
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    let mut named = None;
    let mut any = None;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let zero = parts
            .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .any(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0));
        if name.eq_ignore_ascii_case(coding) {
            named = Some(!zero);
        } else if name == "*" {
            any = Some(!zero);
        }
    }
    named.or(any).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A bundle of two files, one with brotli and gzip copies.
    #[derive(rust_embed::Embed)]
    #[folder = "$CARGO_MANIFEST_DIR/tests/fixtures/site"]
    struct Fixture;

    fn get(path: &str, headers: &[(header::HeaderName, &str)]) -> Request {
        let mut req = Request::builder().uri(path);
        for (name, value) in headers {
            req = req.header(name, *value);
        }
        req.body(Body::empty()).unwrap()
    }

    async fn body(res: Response) -> Vec<u8> {
        res.into_body().collect().await.unwrap().to_bytes().to_vec()
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/fixtures/site/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[tokio::test]
    async fn the_best_copy_the_browser_accepts_is_sent() {
        for (accept, coding, file) in [
            ("gzip, deflate, br", Some("br"), "pkg/app.js.br"),
            ("gzip", Some("gzip"), "pkg/app.js.gz"),
            ("gzip, br;q=0", Some("gzip"), "pkg/app.js.gz"),
            ("identity", None, "pkg/app.js"),
        ] {
            let res = serve_from::<Fixture>(&get("/pkg/app.js", &[(header::ACCEPT_ENCODING, accept)]), Copies::Always);
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap()), coding, "{accept}");
            assert_eq!(res.headers()[header::CONTENT_TYPE], "text/javascript");
            assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
            assert_eq!(body(res).await, fixture(file), "{accept}");
        }
    }

    /// A debug build reads the fixture from disk, so its files' times are
    /// the ones set here.
    #[tokio::test]
    async fn a_copy_older_than_its_file_is_not_sent_by_a_debug_build() {
        let dir = format!("{}/tests/fixtures/site/pkg", env!("CARGO_MANIFEST_DIR"));
        let touch = |name: &str, at: std::time::SystemTime| std::fs::File::options().write(true).open(format!("{dir}/{name}")).unwrap().set_modified(at).unwrap();
        let (then, now) = (std::time::SystemTime::now() - std::time::Duration::from_secs(60), std::time::SystemTime::now());
        let request = || get("/pkg/app.js", &[(header::ACCEPT_ENCODING, "br, gzip")]);
        touch("app.js", now);
        touch("app.js.br", then);
        touch("app.js.gz", then);
        let stale = serve_from::<Fixture>(&request(), Copies::WhenFresh);
        assert!(stale.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body(stale).await, fixture("pkg/app.js"));
        assert_eq!(serve_from::<Fixture>(&request(), Copies::Always).headers()[header::CONTENT_ENCODING], "br", "a release build's copies are its own");
        touch("app.js.br", now);
        assert_eq!(serve_from::<Fixture>(&request(), Copies::WhenFresh).headers()[header::CONTENT_ENCODING], "br");
        touch("app.js.gz", now);
    }

    #[tokio::test]
    async fn a_file_without_copies_goes_as_it_is() {
        let css = serve_from::<Fixture>(&get("/pkg/plain.css", &[(header::ACCEPT_ENCODING, "br")]), Copies::Always);
        assert!(css.headers().get(header::CONTENT_ENCODING).is_none(), "a file without copies is sent plain");
        assert_eq!(css.headers()[header::CONTENT_TYPE], "text/css");
    }

    #[tokio::test]
    async fn copies_are_not_files_of_their_own_and_nothing_else_is_served() {
        for path in ["/pkg/app.js.br", "/pkg/app.js.gz", "/pkg/missing.js", "/pkg/../Cargo.toml", "/"] {
            assert_eq!(serve_from::<Fixture>(&get(path, &[]), Copies::Always).status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[tokio::test]
    async fn an_unchanged_file_is_a_304_per_encoding_and_head_has_no_body() {
        let first = serve_from::<Fixture>(&get("/pkg/app.js", &[(header::ACCEPT_ENCODING, "br")]), Copies::Always);
        let tag = first.headers()[header::ETAG].to_str().unwrap().to_string();
        let again = serve_from::<Fixture>(&get("/pkg/app.js", &[(header::ACCEPT_ENCODING, "br"), (header::IF_NONE_MATCH, &tag)]), Copies::Always);
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(body(again).await.is_empty());
        let gzip = serve_from::<Fixture>(&get("/pkg/app.js", &[(header::ACCEPT_ENCODING, "gzip"), (header::IF_NONE_MATCH, &tag)]), Copies::Always);
        assert_eq!(gzip.status(), StatusCode::OK, "the gzip copy is another representation");

        let head = Request::builder().method(Method::HEAD).uri("/pkg/app.js").body(Body::empty()).unwrap();
        let res = serve_from::<Fixture>(&head, Copies::Always);
        assert_eq!(res.headers()[header::CONTENT_LENGTH], fixture("pkg/app.js").len().to_string());
        assert!(body(res).await.is_empty());
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip;q=1.0, br;q=0.5", "br"));
        assert!(!accepts("gzip, br;q=0", "br"));
        assert!(accepts("*", "gzip"));
        assert!(!accepts("*;q=0, identity", "br"));
        assert!(!accepts("br;q=0, *", "br"), "a coding refused by name stays refused");
        assert!(!accepts("", "gzip"));
        assert!(!accepts("brotli", "br"));
    }

    #[test]
    fn an_etag_in_if_none_match_is_recognised_in_a_list_or_weak() {
        let tag = etag(&[7; 32]);
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&format!("\"other\", W/{tag}")).unwrap());
        assert!(matches_etag(&headers, &tag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!matches_etag(&headers, &tag));
    }
}
