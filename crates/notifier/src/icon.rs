//! [`IconCache`]: fetches notification icons over http(s), with a size and
//! a time limit, into a cache directory, and hands back the local file.
//!
//! The file name is a SHA-256 of the URL, so nothing from the network picks
//! a path; the body must be a PNG, JPEG, GIF, WebP, BMP or ICO image (SVG is
//! refused: it can reference other files); at most `max_files` icons are
//! kept (the least recently written go first). A failure is an
//! [`IconError`] for the caller to log; the notification is shown without
//! an icon. A URL that failed is not asked for again for a while
//! (`retry_failed_after`), so a hub without the icon its notifications name
//! costs one request, not one per notification.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;

use sha2::{Digest as _, Sha256};
use tracing::{debug, warn};
use url::Url;

use crate::error::IconError;
use crate::guard::{PublicOnly, is_public};

/// Limits of an [`IconCache`].
#[derive(Debug, Clone)]
pub struct IconOptions {
    /// Largest icon accepted, in bytes (512 KiB by default).
    pub max_bytes: usize,
    /// Longest a whole fetch may take, connection included (5 s by default).
    pub timeout: Duration,
    /// Most icons kept on disk (256 by default).
    pub max_files: usize,
    /// TLS for https icons; `None`: the OS trust store and the webpki roots.
    /// Pass the hub connection's configuration for a self-hosted hub's CA.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// How long a URL that failed is answered with
    /// [`IconError::RecentlyFailed`] instead of being fetched again (60 s
    /// by default).
    pub retry_failed_after: Duration,
}

/// Most failed URLs remembered at once.
const MAX_FAILURES: usize = 256;

impl Default for IconOptions {
    fn default() -> Self {
        Self {
            max_bytes: 512 * 1024,
            timeout: Duration::from_secs(5),
            max_files: 256,
            tls: None,
            retry_failed_after: Duration::from_secs(60),
        }
    }
}

/// Fetches and caches icons; cheap to clone (one HTTP client inside).
#[derive(Debug, Clone)]
pub struct IconCache {
    dir: PathBuf,
    /// For icons anywhere: public addresses only.
    client: reqwest::Client,
    /// For icons on the hub's own host, which may be local.
    hub_client: reqwest::Client,
    options: IconOptions,
    /// URL → when it failed and why.
    failures: Arc<Mutex<HashMap<String, (Instant, String)>>>,
}

/// Image formats passed on, by their first bytes, with a file extension
/// (macOS picks the attachment type by extension).
const FORMATS: [(&[u8], &str); 7] = [
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"RIFF", "webp"),
];
const EXTENSIONS: [&str; 6] = ["png", "jpg", "gif", "bmp", "ico", "webp"];

impl IconCache {
    /// A cache in `dir` (created if missing) with the default limits.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, IconError> {
        Self::with_options(dir, IconOptions::default())
    }

    /// A cache in `dir` (created if missing) with these limits.
    pub fn with_options(dir: impl Into<PathBuf>, options: IconOptions) -> Result<Self, IconError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| IconError::Io {
            path: dir.clone(),
            source,
        })?;
        let tls = match &options.tls {
            Some(tls) => (**tls).clone(),
            None => default_tls().map_err(|message| IconError::Fetch {
                url: String::new(),
                message,
            })?,
        };
        let user_agent = concat!("pushdesk/", env!("CARGO_PKG_VERSION"));
        let build_err = |e: reqwest::Error| IconError::Fetch {
            url: String::new(),
            message: format!("HTTP client: {e}"),
        };
        // Any host: a few redirects, only to http(s), and only public
        // addresses (names through `PublicOnly`, literals checked here).
        let redirects = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 3 {
                attempt.error("more than 3 redirects")
            } else if !matches!(attempt.url().scheme(), "http" | "https") {
                attempt.error("redirect to a scheme other than http(s)")
            } else if literal_not_public(attempt.url()) {
                attempt.error("redirect to a local or private address")
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls.clone())
            .redirect(redirects)
            .dns_resolver(Arc::new(PublicOnly))
            .connect_timeout(options.timeout)
            .user_agent(user_agent)
            .build()
            .map_err(build_err)?;
        // The hub's own host, wherever it is: redirects stay on it.
        let same_host = reqwest::redirect::Policy::custom(|attempt| {
            let first = attempt.previous().first().and_then(Url::host_str);
            if attempt.previous().len() >= 3 {
                attempt.error("more than 3 redirects")
            } else if !matches!(attempt.url().scheme(), "http" | "https") {
                attempt.error("redirect to a scheme other than http(s)")
            } else if attempt.url().host_str() != first {
                attempt.error("redirect away from the hub's host")
            } else {
                attempt.follow()
            }
        });
        let hub_client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(same_host)
            .connect_timeout(options.timeout)
            .user_agent(user_agent)
            .build()
            .map_err(build_err)?;
        Ok(Self {
            dir,
            client,
            hub_client,
            options,
            failures: Arc::default(),
        })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The local file for `url`: the cached one if there is one, else
    /// fetched now (within the limits) and stored. Only from public
    /// addresses: see [`IconCache::fetch_for`] for icons a hub serves.
    pub async fn fetch(&self, url: &Url) -> Result<PathBuf, IconError> {
        self.fetch_for(url, None).await
    }

    /// [`IconCache::fetch`] for a notification from `hub`: an icon on the
    /// hub's own host is fetched wherever that is (loopback, the LAN); any
    /// other host only at a public address, so an icon URL cannot make the
    /// app probe the user's machine or network.
    pub async fn fetch_for(&self, url: &Url, hub: Option<&Url>) -> Result<PathBuf, IconError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(IconError::Refused(url.as_str().chars().take(100).collect()));
        }
        let on_hub =
            hub.is_some_and(|hub| hub.host_str().is_some() && hub.host_str() == url.host_str());
        if !on_hub && literal_not_public(url) {
            return Err(IconError::Private {
                url: url.as_str().chars().take(100).collect(),
            });
        }
        if let Some(reason) = self.recent_failure(url) {
            return Err(IconError::RecentlyFailed {
                url: url.to_string(),
                reason,
            });
        }
        let stem = file_stem(url);
        if let Some(path) = self.cached(&stem).await {
            debug!(%url, path = %path.display(), "icon from the cache");
            return Ok(path);
        }
        let timeout = self.options.timeout;
        let client = if on_hub {
            &self.hub_client
        } else {
            &self.client
        };
        let body = tokio::time::timeout(timeout, self.download(client, url))
            .await
            .map_err(|_| IconError::Timeout {
                url: url.to_string(),
                timeout,
            })
            .and_then(|r| r)
            .and_then(|body| match sniff(&body) {
                Some(ext) => Ok((body, ext)),
                None => Err(IconError::NotAnImage {
                    url: url.to_string(),
                }),
            });
        let (body, ext) = match body {
            Ok(found) => found,
            Err(e) => {
                self.failed(url, &e);
                return Err(e);
            }
        };
        let path = self.dir.join(format!("{stem}.{ext}"));
        self.store(&path, &body).await?;
        self.prune(&path).await;
        debug!(%url, path = %path.display(), bytes = body.len(), "icon fetched");
        Ok(path)
    }

    /// Why `url` failed, if it did within `retry_failed_after`.
    fn recent_failure(&self, url: &Url) -> Option<String> {
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        failures
            .get(url.as_str())
            .filter(|(at, _)| at.elapsed() < self.options.retry_failed_after)
            .map(|(_, reason)| reason.clone())
    }

    fn failed(&self, url: &Url, error: &IconError) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if failures.len() >= MAX_FAILURES {
            let retry = self.options.retry_failed_after;
            failures.retain(|_, (at, _)| at.elapsed() < retry);
            if failures.len() >= MAX_FAILURES {
                failures.clear();
            }
        }
        failures.insert(url.to_string(), (Instant::now(), error.to_string()));
    }

    async fn cached(&self, stem: &str) -> Option<PathBuf> {
        for ext in EXTENSIONS {
            let path = self.dir.join(format!("{stem}.{ext}"));
            if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file()) {
                return Some(path);
            }
        }
        None
    }

    async fn download(&self, client: &reqwest::Client, url: &Url) -> Result<Vec<u8>, IconError> {
        let fetch_err = |e: reqwest::Error| IconError::Fetch {
            url: url.to_string(),
            message: with_causes(&e),
        };
        let max = self.options.max_bytes;
        let too_large = || IconError::TooLarge {
            url: url.to_string(),
            max,
        };
        let mut resp = client.get(url.clone()).send().await.map_err(fetch_err)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(IconError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        if resp.content_length().is_some_and(|len| len > max as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(fetch_err)? {
            if body.len() + chunk.len() > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Writes to a temporary name and renames, so no reader sees half a file.
    async fn store(&self, path: &Path, body: &[u8]) -> Result<(), IconError> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| IconError::Io { path, source }
        };
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(io(&self.dir))?;
        let tmp = path.with_extension(format!(
            "tmp-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        if let Err(e) = tokio::fs::write(&tmp, body).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io(&tmp)(e));
        }
        if let Err(e) = tokio::fs::rename(&tmp, path).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io(path)(e));
        }
        Ok(())
    }

    /// Keeps at most `max_files` icons: removes the oldest others.
    async fn prune(&self, keep: &Path) {
        let Ok(mut dir) = tokio::fs::read_dir(&self.dir).await else {
            return;
        };
        let mut files = Vec::new();
        while let Ok(Some(entry)) = dir.next_entry().await {
            let path = entry.path();
            let is_icon = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e));
            if !is_icon || path == keep {
                continue;
            }
            if let Ok(meta) = entry.metadata().await {
                let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                files.push((modified, path));
            }
        }
        let keep_others = self.options.max_files.saturating_sub(1);
        if files.len() <= keep_others {
            return;
        }
        files.sort();
        let excess = files.len() - keep_others;
        for (_, path) in files.into_iter().take(excess) {
            if let Err(e) = tokio::fs::remove_file(&path).await {
                warn!(path = %path.display(), error = %e, "removing an old icon");
            }
        }
    }
}

/// Hex SHA-256 of the URL.
/// `e` and its causes, `: `-separated (reqwest's own message leaves out
/// why, such as a refused address).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Whether `url`'s host is an IP literal that is not public.
fn literal_not_public(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !is_public(ip.into()),
        Some(url::Host::Ipv6(ip)) => !is_public(ip.into()),
        _ => false,
    }
}

fn file_stem(url: &Url) -> String {
    let digest = Sha256::digest(url.as_str().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The extension for a supported image, by its first bytes.
fn sniff(body: &[u8]) -> Option<&'static str> {
    let (_, ext) = FORMATS.iter().find(|(magic, _)| body.starts_with(magic))?;
    if *ext == "webp" && body.get(8..12) != Some(b"WEBP") {
        return None;
    }
    Some(ext)
}

/// rustls with ring, trusting the webpki roots and the OS store.
fn default_tls() -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("png"));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0...."), Some("jpg"));
        assert_eq!(sniff(b"GIF89a..."), Some("gif"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(sniff(b"<html>not found</html>"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn file_names_come_from_a_hash_of_the_url() {
        let a =
            file_stem(&Url::parse("http://h/../../etc/passwd").unwrap_or_else(|_| unreachable!()));
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        let b = file_stem(&Url::parse("http://h/other.png").unwrap_or_else(|_| unreachable!()));
        assert_ne!(a, b);
    }
}
