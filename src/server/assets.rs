//! The app's static files under `/pkg/`: its WebAssembly, JavaScript and stylesheet.
//!
//! cargo-leptos names them after their content (`latchkey.<hash>.wasm`, `hash-files`) and,
//! in a release build with `--precompress`, writes `.br` and `.gz` beside each. So a file
//! never changes under its name: browsers may keep it for a year without asking
//! (`immutable`), a conditional request is answered from its name alone (`ETag` = the hash),
//! and the precompressed copy is sent to whoever accepts it (tower-http's `ServeDir`). A
//! name without a hash (hashing turned off) is revalidated on every use (`no-cache`, with
//! `Last-Modified`).
//!
//! Pages stay `no-store` (`super::headers`).

use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use leptos::config::LeptosOptions;
use tower_http::services::ServeDir;

/// How long a hashed file may be kept: a year, the longest `max-age` caches honour.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// A file whose name does not change with its content: ask every time.
pub const REVALIDATE: &str = "no-cache";

/// The router for `/pkg/…` (merged into the app's, outside the session and guard layers).
pub fn router<S: Clone + Send + Sync + 'static>(options: &LeptosOptions) -> Router<S> {
    let dir = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    Router::new().nest_service(
        &format!("/{}", options.site_pkg_dir.trim_matches('/')),
        tower::ServiceBuilder::new()
            .layer(axum::middleware::from_fn(caching))
            .service(ServeDir::new(dir).precompressed_br().precompressed_gzip()),
    )
}

/// `Cache-Control` and `ETag` by the file's name, and `304` for a matching `If-None-Match`
/// without opening the file.
async fn caching(req: Request, next: Next) -> Response {
    let hash = content_hash(req.uri().path()).map(str::to_string);
    let Some(hash) = hash else {
        let mut response = next.run(req).await;
        if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
        }
        return response;
    };
    // Weak: the brotli, gzip and plain bodies of one file share it.
    let etag = HeaderValue::from_str(&format!("W/\"{hash}\"")).ok();
    let matches = etag.as_ref().is_some_and(|etag| {
        req.headers()
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .any(|value| if_none_match_hits(value, etag))
    });
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        next.run(req).await
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        if let Some(etag) = etag {
            headers.insert(header::ETAG, etag);
        }
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, `*`, or a list).
fn if_none_match_hits(value: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(value) = value.to_str() else {
        return false;
    };
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    value.trim() == "*" || value.split(',').any(|tag| opaque(tag) == opaque(etag))
}

/// The content hash in a cargo-leptos file name (`latchkey.<hash>.wasm`): 22 characters of
/// unpadded base64url (an MD5). `None` for any other name.
pub fn content_hash(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next()?;
    let mut parts = name.split('.');
    let (_stem, hash) = (parts.next()?, parts.next()?);
    parts.next()?; // an extension follows
    let is_hash = hash.len() == 22
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    is_hash.then_some(hash)
}

/// Where cargo-leptos left the hashes of this build: `hash.txt` beside the executable.
fn hash_file(options: &LeptosOptions) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(options.hash_file.as_ref()))
}

/// Turns file hashing on when this build was made with it (its hash file lies beside the
/// executable), unless `LEPTOS_HASH_FILES` says otherwise: the server then names the hashed
/// files in its pages however it was started (cargo-leptos, a test runner, a service
/// manager).
pub fn detect_hashing(options: &mut LeptosOptions) {
    if std::env::var_os("LEPTOS_HASH_FILES").is_some() {
        return;
    }
    options.hash_files = hash_file(options).is_some_and(|file| file.is_file());
}

/// The stylesheet's address, hashed name included (read once at start-up).
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    let hash = options
        .hash_files
        .then(|| hash_file(options))
        .flatten()
        .and_then(|file| std::fs::read_to_string(file).ok())
        .and_then(|hashes| {
            hashes.lines().find_map(|line| {
                let (kind, hash) = line.split_once(':')?;
                (kind.trim() == "css").then(|| hash.trim().to_string())
            })
        });
    let name = match hash {
        Some(hash) => format!("{}.{hash}.css", options.output_name),
        None => format!("{}.css", options.output_name),
    };
    format!("/{}/{name}", options.site_pkg_dir.trim_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cargo_leptos_hashes_count_as_content_names() {
        assert_eq!(
            content_hash("/pkg/latchkey.Xr2MqIxN7Zz0hH8K4d9QpA.wasm"),
            Some("Xr2MqIxN7Zz0hH8K4d9QpA")
        );
        assert_eq!(
            content_hash("/pkg/latchkey.Xr2MqIxN7Zz0hH8K4d9QpA.wasm.br"),
            Some("Xr2MqIxN7Zz0hH8K4d9QpA")
        );
        for unhashed in [
            "/pkg/latchkey.wasm",
            "/pkg/latchkey.css",
            "/pkg/latchkey_bg.wasm",
            "/pkg/latchkey.short.js",
            "/pkg/latchkey.Xr2MqIxN7Zz0hH8K4d9Qp!.js",
            "/pkg/latchkey.Xr2MqIxN7Zz0hH8K4d9QpA",
        ] {
            assert_eq!(content_hash(unhashed), None, "{unhashed}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly_and_reads_lists() {
        let etag = HeaderValue::from_static("W/\"abc\"");
        for hit in ["W/\"abc\"", "\"abc\"", "\"x\", W/\"abc\"", "*"] {
            assert!(
                if_none_match_hits(&HeaderValue::from_static(hit), &etag),
                "{hit}"
            );
        }
        for miss in ["\"abd\"", "W/\"ab\"", ""] {
            assert!(
                !if_none_match_hits(&HeaderValue::from_static(miss), &etag),
                "{miss}"
            );
        }
    }
}
