//! Errors: [`Error`] from the notifier, [`IconError`] from the icon cache,
//! [`Refused`] for URLs that must not be opened.

use std::path::PathBuf;
use std::time::Duration;

/// What [`Notifier`](crate::Notifier) calls can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Nothing serves notifications (on Linux: no owner of
    /// `org.freedesktop.Notifications` on the session bus).
    #[error(
        "no notification service: {0} (on Linux, start a notification daemon such as dunst, or your desktop's)"
    )]
    NoDaemon(String),
    /// The session bus (Linux) cannot be reached.
    #[error("cannot reach the D-Bus session bus: {0}")]
    Bus(String),
    /// The platform refused or failed the request.
    #[error("the notification service failed: {0}")]
    Platform(String),
}

/// Result of the notifier's calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why [`IconCache::fetch`](crate::IconCache::fetch) failed. The caller
/// logs it and shows the notification without an icon.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IconError {
    /// Not an http(s) URL.
    #[error("icon URL {0} refused: only http and https are fetched")]
    Refused(String),
    /// The URL points at a local or private address that is not the hub's.
    #[error("icon {url} refused: it points at a local or private address")]
    Private {
        /// The icon's URL (shortened).
        url: String,
    },
    /// The request failed (connection, TLS, redirect, body).
    #[error("fetching icon {url}: {message}")]
    Fetch {
        /// The icon's URL.
        url: String,
        /// What failed.
        message: String,
    },
    /// The server answered with an error status.
    #[error("icon {url}: HTTP {status}")]
    Status {
        /// The icon's URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The body is larger than the limit.
    #[error("icon {url} is larger than {max} bytes")]
    TooLarge {
        /// The icon's URL.
        url: String,
        /// The limit in bytes.
        max: usize,
    },
    /// The whole fetch took longer than the limit.
    #[error("icon {url}: no complete answer within {timeout:?}")]
    Timeout {
        /// The icon's URL.
        url: String,
        /// The limit.
        timeout: Duration,
    },
    /// The body is not an image format the notifier passes on.
    #[error("icon {url} is not a PNG, JPEG, GIF, WebP, BMP or ICO image")]
    NotAnImage {
        /// The icon's URL.
        url: String,
    },
    /// The URL failed a moment ago; it is not fetched again yet.
    #[error("icon {url} failed recently ({reason}); not fetched again yet")]
    RecentlyFailed {
        /// The icon's URL.
        url: String,
        /// The earlier failure.
        reason: String,
    },
    /// The cache directory could not be read or written.
    #[error("icon cache {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A URL that must not be opened (see [`openable_url`](crate::openable_url)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused to open {shown:?}: {reason}")]
pub struct Refused {
    /// The start of the URL, for logs (at most 100 characters).
    pub shown: String,
    /// Why.
    pub reason: String,
}

impl Refused {
    pub(crate) fn new(raw: &str, reason: impl Into<String>) -> Self {
        Self {
            shown: raw.chars().take(100).collect(),
            reason: reason.into(),
        }
    }
}
