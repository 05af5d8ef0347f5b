//! [`StoreError`]: everything that can go wrong in the [`Store`](super::Store),
//! each with a message that says what and where.

use std::path::PathBuf;

/// An error from the hub's [`Store`](super::Store).
///
/// Messages name the file or the Redis server involved (never a Redis
/// password: URLs are shown with their credentials masked).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The data directory exists but is not a directory (a file, say).
    #[error("data directory {path} exists and is not a directory")]
    NotADirectory {
        /// The data directory given to [`Store::open_local`](super::Store::open_local).
        path: PathBuf,
    },
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    CreateDir {
        /// The data directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The SQLite database could not be opened or prepared (schema, pragmas).
    #[error("cannot open the history database {path}: {source}")]
    OpenDatabase {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer Pushdesk with a schema this one
    /// does not know.
    #[error(
        "the history database {path} has schema version {found}, newer than this Pushdesk knows \
         ({known}); upgrade Pushdesk or use another data directory"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A SQLite statement failed on an open database.
    #[error("history database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The Redis URL could not be parsed.
    #[error("invalid Redis URL {url}: {source}")]
    RedisUrl {
        /// The URL, credentials masked.
        url: String,
        /// Why.
        #[source]
        source: redis::RedisError,
    },
    /// The first connection to Redis failed.
    #[error("cannot connect to Redis at {url}: {source}")]
    RedisConnect {
        /// The URL, credentials masked.
        url: String,
        /// Why.
        #[source]
        source: redis::RedisError,
    },
    /// A Redis command failed (after the connection manager's retries).
    #[error("Redis error: {0}")]
    Redis(#[from] redis::RedisError),
    /// A notification could not be encoded as JSON.
    #[error("cannot encode the notification as JSON: {0}")]
    Encode(#[source] serde_json::Error),
    /// Every notification id has been used (the id would not fit the
    /// backend's integer type).
    #[error("notification ids are exhausted (last id {last})")]
    IdsExhausted {
        /// The last id handed out.
        last: u64,
    },
    /// A stored value is not what this store writes (hand-edited or written
    /// by another program).
    #[error("corrupt store value {what}: {detail}")]
    Corrupt {
        /// Which value.
        what: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The background task that runs a SQLite call panicked or was
    /// cancelled (the runtime shutting down).
    #[error("the store's background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// `url` with any `user:password@` masked, for error messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}://***@{}", &url[..scheme_end], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials() {
        assert_eq!(
            redact_url("redis://:secret@h:6379/0"),
            "redis://***@h:6379/0"
        );
        assert_eq!(
            redact_url("rediss://u:p@w@h/0?protocol=resp3"),
            "rediss://***@h/0?protocol=resp3"
        );
        assert_eq!(redact_url("redis://h:6379"), "redis://h:6379");
        assert_eq!(redact_url("redis://h/0?x=a@b"), "redis://h/0?x=a@b");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn messages_name_the_path() {
        let e = StoreError::NotADirectory {
            path: PathBuf::from("/tmp/x"),
        };
        assert_eq!(
            e.to_string(),
            "data directory /tmp/x exists and is not a directory"
        );
    }
}
