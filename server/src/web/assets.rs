//! The WASM, JS and CSS bundle. `make build` writes brotli and gzip copies
//! beside each file (`scripts/bundle.mjs compress`) and the best one the
//! browser accepts is sent, so no request pays for compressing 1.6 MB. A
//! copy older than its file (a rebuild without `compress`, as in `make dev`)
//! is never sent: that file goes out as it is. File names are not hashed,
//! so browsers revalidate (`no-cache`) and get a 304 while it is unchanged.

use std::convert::Infallible;
use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use leptos::prelude::LeptosOptions;
use tower::{Layer, Service, ServiceExt};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

pub fn bundle(
    options: &LeptosOptions,
) -> impl Service<Request, Response = axum::response::Response<tower_http::services::fs::ServeFileSystemResponseBody>, Error = Infallible, Future = impl Send>
       + Clone
       + Send
       + 'static {
    let dir = Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let precompressed = ServeDir::new(&dir).precompressed_br().precompressed_gzip();
    let plain = ServeDir::new(&dir);
    let serve = tower::service_fn(move |req: Request| {
        let (precompressed, plain, dir) = (precompressed.clone(), plain.clone(), dir.clone());
        async move {
            if has_stale_copy(&dir, req.uri().path()).await {
                plain.oneshot(req).await
            } else {
                precompressed.oneshot(req).await
            }
        }
    });
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")).layer(serve)
}

/// True when a `.br` or `.gz` copy of the file is older than the file.
async fn has_stale_copy(dir: &Path, path: &str) -> bool {
    let relative = path.trim_start_matches('/');
    if relative.split('/').any(|segment| segment == "..") {
        return false; // ServeDir refuses it anyway.
    }
    let file = dir.join(relative);
    let Ok(built) = tokio::fs::metadata(&file).await.and_then(|m| m.modified()) else {
        return false;
    };
    for suffix in ["br", "gz"] {
        let copy = PathBuf::from(format!("{}.{suffix}", file.display()));
        if let Ok(compressed) = tokio::fs::metadata(&copy).await.and_then(|m| m.modified()) {
            if compressed < built {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn touch(path: &Path, at: SystemTime) {
        std::fs::write(path, b"x").unwrap();
        std::fs::File::options().write(true).open(path).unwrap().set_modified(at).unwrap();
    }

    #[tokio::test]
    async fn a_compressed_copy_older_than_its_file_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let then = SystemTime::now() - Duration::from_secs(60);
        touch(&dir.path().join("app.wasm"), SystemTime::now());
        touch(&dir.path().join("app.wasm.br"), then);
        assert!(has_stale_copy(dir.path(), "/app.wasm").await);

        touch(&dir.path().join("app.js"), then);
        touch(&dir.path().join("app.js.br"), SystemTime::now());
        touch(&dir.path().join("app.js.gz"), SystemTime::now());
        assert!(!has_stale_copy(dir.path(), "/app.js").await, "fresh copies are served");
        assert!(!has_stale_copy(dir.path(), "/missing.css").await);
        assert!(!has_stale_copy(dir.path(), "/../etc/passwd").await);
    }
}
