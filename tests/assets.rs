//! The app's static files over real HTTP: content-named files are immutable, precompressed
//! copies go to browsers that accept them, conditional requests are answered without a
//! body, and unhashed names are revalidated.
#![cfg(feature = "ssr")]

use std::io::{Read, Write};

use latchkey::server::assets;
use leptos::config::LeptosOptions;

const HASH: &str = "Xr2MqIxN7Zz0hH8K4d9QpA";

/// A site root like a release build's: `pkg/latchkey.<hash>.wasm` with its `.br` and `.gz`,
/// and an unhashed file. Served on loopback by the asset router alone.
async fn serve_site() -> (String, tempfile::TempDir, Vec<u8>) {
    let site = tempfile::tempdir().expect("temp dir");
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg dir");
    // Compressible, like a wasm module's data sections.
    let wasm: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8 / 4).collect();
    let name = format!("latchkey.{HASH}.wasm");
    std::fs::write(pkg.join(&name), &wasm).expect("write wasm");
    let mut brotli = Vec::new();
    brotli::BrotliCompress(
        &mut wasm.as_slice(),
        &mut brotli,
        &brotli::enc::BrotliEncoderParams::default(),
    )
    .expect("brotli");
    std::fs::write(pkg.join(format!("{name}.br")), &brotli).expect("write br");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&wasm).expect("gzip");
    std::fs::write(pkg.join(format!("{name}.gz")), gzip.finish().expect("gzip")).expect("write gz");
    std::fs::write(pkg.join("latchkey.css"), "body{}").expect("write css");

    let options = LeptosOptions::builder()
        .output_name("latchkey")
        .site_root(site.path().to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .build();
    let router: axum::Router = assets::router(&options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (base, site, wasm)
}

fn client() -> reqwest::Client {
    // No automatic decompression: the test reads what went over the wire.
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .expect("client")
}

#[tokio::test]
async fn hashed_files_are_immutable_precompressed_and_conditional() {
    let (base, _site, wasm) = serve_site().await;
    let url = format!("{base}/pkg/latchkey.{HASH}.wasm");

    let br = client()
        .get(&url)
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .expect("get br");
    assert_eq!(br.status(), 200);
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["cache-control"], assets::IMMUTABLE);
    assert_eq!(br.headers()["etag"], format!("W/\"{HASH}\"").as_str());
    assert!(br.headers()["vary"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("accept-encoding"));
    let body = br.bytes().await.expect("body");
    assert!(body.len() < wasm.len() / 4, "brotli sent: {} B", body.len());
    let mut decoded = Vec::new();
    brotli::Decompressor::new(body.as_ref(), 4096)
        .read_to_end(&mut decoded)
        .expect("valid brotli");
    assert_eq!(decoded, wasm);

    let gz = client()
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("get gz");
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(gz.bytes().await.expect("body").as_ref())
        .read_to_end(&mut decoded)
        .expect("valid gzip");
    assert_eq!(decoded, wasm);

    let plain = client().get(&url).send().await.expect("get plain");
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.expect("body").as_ref(), wasm.as_slice());

    // A browser that has it asks by its validator: 304, no body, still immutable.
    for validator in [format!("W/\"{HASH}\""), format!("\"{HASH}\"")] {
        let again = client()
            .get(&url)
            .header("if-none-match", &validator)
            .send()
            .await
            .expect("conditional");
        assert_eq!(again.status(), 304, "{validator}");
        assert_eq!(again.headers()["cache-control"], assets::IMMUTABLE);
        assert!(again.bytes().await.expect("body").is_empty());
    }
    let other = client()
        .get(&url)
        .header("if-none-match", "W/\"somethingelse\"")
        .send()
        .await
        .expect("other validator");
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn unhashed_and_missing_files_are_not_cached_for_good() {
    let (base, _site, _) = serve_site().await;
    let css = client()
        .get(format!("{base}/pkg/latchkey.css"))
        .send()
        .await
        .expect("css");
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["cache-control"], assets::REVALIDATE);
    // Revalidated by date: tower-http's Last-Modified / If-Modified-Since.
    let modified = css.headers()["last-modified"].clone();
    let again = client()
        .get(format!("{base}/pkg/latchkey.css"))
        .header("if-modified-since", modified)
        .send()
        .await
        .expect("css again");
    assert_eq!(again.status(), 304);

    let missing = client()
        .get(format!("{base}/pkg/latchkey.{}.wasm", "A".repeat(22)))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().get("cache-control").is_none());
}
