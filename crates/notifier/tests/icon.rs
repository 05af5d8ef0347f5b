//! The icon cache against a real HTTP server (axum on 127.0.0.1): fetch,
//! reuse, size and time limits, 404, non-images, redirects off http(s),
//! pruning.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pushdesk_e2e::TempDir;
use pushdesk_notifier::{IconCache, IconError, IconOptions, resolve_icon};
use url::Url;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";

fn big_png(len: usize) -> Vec<u8> {
    let mut body = PNG.to_vec();
    body.resize(len, 0);
    body
}

struct Server {
    base: Url,
    hits: Arc<AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

async fn server() -> Server {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new()
        .route("/images/icon.png", get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { ([(header::CONTENT_TYPE, "image/png")], PNG) }
        }))
        .route("/other/{n}", get(|| async { PNG }))
        .route("/big.png", get(|| async { big_png(600 * 1024) }))
        .route("/big-chunked.png", get(|| async {
            // No Content-Length: the limit must hold while streaming.
            let chunks = (0..100).map(|i| {
                Ok::<_, std::io::Error>(if i == 0 { big_png(8 * 1024) } else { vec![0; 8 * 1024] })
            });
            Body::from_stream(futures_util::stream::iter(chunks))
        }))
        .route("/page.html", get(|| async {
            ([(header::CONTENT_TYPE, "image/png")], "<html>not an image</html>")
        }))
        .route("/drawing.svg", get(|| async {
            ([(header::CONTENT_TYPE, "image/svg+xml")], r#"<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>"#)
        }))
        .route("/slow.png", get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            PNG
        }))
        .route("/elsewhere", get(|| async {
            Response::builder()
                .status(StatusCode::FOUND)
                .header(header::LOCATION, "http://10.0.0.1/icon.png")
                .body(Body::empty())
                .unwrap()
                .into_response()
        }))
        .route("/to-file", get(|| async {
            Response::builder()
                .status(StatusCode::FOUND)
                .header(header::LOCATION, "file:///etc/passwd")
                .body(Body::empty())
                .unwrap()
                .into_response()
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        base: Url::parse(&format!("http://{addr}/")).unwrap(),
        hits,
        _task: task,
    }
}

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test within 60 s");
}

#[tokio::test]
async fn fetches_once_then_reuses_the_cached_file() {
    bounded(async {
        let srv = server().await;
        let dir = TempDir::new("icons").unwrap();
        let cache = IconCache::new(dir.path().join("icons")).unwrap();
        let url = resolve_icon(&srv.base, "images/icon.png").unwrap();
        let path = cache.fetch_for(&url, Some(&srv.base)).await.unwrap();
        assert!(path.starts_with(cache.dir()));
        assert_eq!(path.extension().unwrap(), "png");
        assert_eq!(std::fs::read(&path).unwrap(), PNG);
        assert_eq!(cache.fetch_for(&url, Some(&srv.base)).await.unwrap(), path);
        assert_eq!(
            srv.hits.load(Ordering::SeqCst),
            1,
            "second fetch from the cache"
        );
        // A new cache on the same directory (an app restart) reuses it too.
        let again = IconCache::new(cache.dir()).unwrap();
        assert_eq!(again.fetch_for(&url, Some(&srv.base)).await.unwrap(), path);
        assert_eq!(srv.hits.load(Ordering::SeqCst), 1);
        // Nothing but the icon in the directory (no temporary files left).
        assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 1);
    })
    .await;
}

#[tokio::test]
async fn refuses_what_is_too_big_not_an_image_missing_or_slow() {
    bounded(async {
        let srv = server().await;
        let dir = TempDir::new("icons").unwrap();
        let options = IconOptions {
            timeout: Duration::from_millis(500),
            ..IconOptions::default()
        };
        let cache = IconCache::with_options(dir.path(), options).unwrap();
        let url = |p: &str| srv.base.join(p).unwrap();

        let err = cache
            .fetch_for(&url("big.png"), Some(&srv.base))
            .await
            .unwrap_err();
        assert!(
            matches!(err, IconError::TooLarge { max: 524_288, .. }),
            "{err}"
        );
        let err = cache
            .fetch_for(&url("big-chunked.png"), Some(&srv.base))
            .await
            .unwrap_err();
        assert!(matches!(err, IconError::TooLarge { .. }), "{err}");
        let err = cache
            .fetch_for(&url("page.html"), Some(&srv.base))
            .await
            .unwrap_err();
        assert!(matches!(err, IconError::NotAnImage { .. }), "{err}");
        let err = cache
            .fetch_for(&url("drawing.svg"), Some(&srv.base))
            .await
            .unwrap_err();
        assert!(matches!(err, IconError::NotAnImage { .. }), "{err}");
        let err = cache
            .fetch_for(&url("missing.png"), Some(&srv.base))
            .await
            .unwrap_err();
        assert!(
            matches!(err, IconError::Status { status: 404, .. }),
            "{err}"
        );
        // Asked again at once, it is not fetched: the earlier failure comes back.
        let err = cache
            .fetch_for(&url("missing.png"), Some(&srv.base))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, IconError::RecentlyFailed { reason, .. } if reason.contains("404")),
            "{err}"
        );
        let started = std::time::Instant::now();
        let err = cache
            .fetch_for(&url("slow.png"), Some(&srv.base))
            .await
            .unwrap_err();
        assert!(matches!(err, IconError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
        // A redirect off http(s) is not followed.
        let err = cache
            .fetch_for(&url("to-file"), Some(&srv.base))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                IconError::Fetch { .. } | IconError::Status { status: 302, .. }
            ),
            "{err}"
        );
        let err = cache
            .fetch(&Url::parse("file:///etc/passwd").unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, IconError::Refused(_)), "{err}");
        // Nothing was written for any of them.
        assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 0);
        // A closed port fails as a fetch error, quickly.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let err = cache
            .fetch_for(
                &Url::parse(&format!("http://127.0.0.1:{closed}/i.png")).unwrap(),
                Some(&srv.base),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, IconError::Fetch { .. }), "{err}");

        // With no grace period, a failed URL is fetched again each time.
        let eager = IconCache::with_options(
            dir.path(),
            IconOptions {
                retry_failed_after: Duration::ZERO,
                ..IconOptions::default()
            },
        )
        .unwrap();
        for _ in 0..2 {
            let err = eager
                .fetch_for(&url("missing.png"), Some(&srv.base))
                .await
                .unwrap_err();
            assert!(
                matches!(err, IconError::Status { status: 404, .. }),
                "{err}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn keeps_at_most_max_files() {
    bounded(async {
        let srv = server().await;
        let dir = TempDir::new("icons").unwrap();
        let options = IconOptions {
            max_files: 3,
            ..IconOptions::default()
        };
        let cache = IconCache::with_options(dir.path(), options).unwrap();
        let mut last = None;
        for n in 0..6 {
            last = Some(
                cache
                    .fetch_for(
                        &srv.base.join(&format!("other/{n}")).unwrap(),
                        Some(&srv.base),
                    )
                    .await
                    .unwrap(),
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 3);
        assert!(last.unwrap().exists(), "the newest is kept");
    })
    .await;
}

#[tokio::test]
async fn icons_at_local_or_private_addresses_are_refused_unless_the_hub_is_there() {
    bounded(async {
        let srv = server().await;
        let dir = TempDir::new("icons").unwrap();
        let cache = IconCache::new(dir.path()).unwrap();
        let icon = srv.base.join("images/icon.png").unwrap();
        let port = srv.base.port().unwrap();

        // From a hub elsewhere (or none), an icon on 127.0.0.1 is never asked for.
        let elsewhere = Url::parse("https://hub.example/").unwrap();
        for hub in [None, Some(&elsewhere)] {
            let err = cache.fetch_for(&icon, hub).await.unwrap_err();
            assert!(matches!(err, IconError::Private { .. }), "{err}");
        }
        for literal in [
            format!("http://[::ffff:127.0.0.1]:{port}/images/icon.png"),
            format!("http://[::1]:{port}/images/icon.png"),
            "http://169.254.169.254/latest/meta-data".to_owned(),
            "http://10.0.0.1/icon.png".to_owned(),
        ] {
            let err = cache
                .fetch_for(&Url::parse(&literal).unwrap(), Some(&elsewhere))
                .await
                .unwrap_err();
            assert!(matches!(err, IconError::Private { .. }), "{literal}: {err}");
        }
        // A name is checked on the address it resolves to.
        let by_name = Url::parse(&format!("http://localhost:{port}/images/icon.png")).unwrap();
        let err = cache
            .fetch_for(&by_name, Some(&srv.base))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("local or private"), "{err}");
        assert_eq!(srv.hits.load(Ordering::SeqCst), 0, "the server was reached");

        // The hub's own icons are fetched; its redirects stay on its host.
        cache.fetch_for(&icon, Some(&srv.base)).await.unwrap();
        assert_eq!(srv.hits.load(Ordering::SeqCst), 1);
        let err = cache
            .fetch_for(&srv.base.join("elsewhere").unwrap(), Some(&srv.base))
            .await
            .unwrap_err();
        assert!(matches!(err, IconError::Fetch { .. }), "{err}");
    })
    .await;
}
