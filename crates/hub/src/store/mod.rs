//! The hub's state: the live user count, the shared text and the
//! notification history (for replay), behind one type, [`Store`].
//!
//! Two backends, chosen at runtime:
//!
//! * **local** ([`Store::open_local`]), one hub node: the user count in
//!   memory; the shared text in memory and in SQLite; the history in SQLite
//!   at `<data_dir>/pushdesk.sqlite3` (WAL mode, schema versioned with
//!   `PRAGMA user_version`). SQLite calls run on tokio's blocking pool,
//!   never on the async workers.
//! * **Redis** ([`Store::open_redis`]), several hub nodes behind one name:
//!   everything in Redis under a key prefix, so every node sees the same
//!   count, text and history. Each node keeps its own user count in a key
//!   with a TTL that a background task refreshes, so a crashed node stops
//!   counting after the TTL. The key layout is documented on
//!   [`RedisOptions`].
//!
//! Both give every published notification the next id (unique, increasing,
//! never reused, even after restarts or pruning) and make it visible to
//! [`Store::since`] atomically with its id, so a reader that has seen id `n`
//! never later finds an unseen id below `n`: replay with the last id seen
//! delivers what was missed, in order, each exactly once.
//!
//! Notifications are stored whole, as JSON ([`serde_json`]), so every field
//! of [`Notification`] round-trips.

mod error;
mod redis;
mod sqlite;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pushdesk_hub_model::Notification;

pub use self::error::StoreError;
pub use self::redis::RedisOptions;

/// How much history the store keeps.
///
/// Applied by [`Store::prune`] (both rules) and by [`Store::publish`] (the
/// count); [`Store::since`] and [`Store::recent`] never return a
/// notification older than `max_age`, pruned or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Keep at most this many notifications (the newest). `0` keeps none.
    pub max_count: u64,
    /// Drop notifications whose timestamp is more than this before now.
    pub max_age: Duration,
}

impl Retention {
    /// The default count: 10 000 notifications.
    pub const DEFAULT_MAX_COUNT: u64 = 10_000;
    /// The default age: 30 days.
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

    /// The oldest timestamp (Unix ms) still kept at `now_ms`: notifications
    /// with a smaller timestamp have expired.
    pub fn cutoff(&self, now_ms: u64) -> u64 {
        let age_ms = u64::try_from(self.max_age.as_millis()).unwrap_or(u64::MAX);
        now_ms.saturating_sub(age_ms)
    }
}

impl Default for Retention {
    /// 10 000 notifications, 30 days.
    fn default() -> Self {
        Self {
            max_count: Self::DEFAULT_MAX_COUNT,
            max_age: Self::DEFAULT_MAX_AGE,
        }
    }
}

/// Where a stored text update sits: compaction replaces everything up to
/// a mark with a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMark {
    /// A row of the local store (0: none).
    Seq(i64),
    /// A Redis stream entry id (`0-0`: none).
    Stream(String),
}

impl TextMark {
    /// Whether this mark is `other` or a later entry of the same log
    /// (`false` when they cannot be compared).
    pub fn reached(&self, other: &TextMark) -> bool {
        fn stream_id(id: &str) -> Option<(u64, u64)> {
            let (ms, seq) = id.split_once('-')?;
            Some((ms.parse().ok()?, seq.parse().ok()?))
        }
        match (self, other) {
            (Self::Seq(a), Self::Seq(b)) => a >= b,
            (Self::Stream(a), Self::Stream(b)) => match (stream_id(a), stream_id(b)) {
                (Some(a), Some(b)) => a >= b,
                _ => false,
            },
            _ => false,
        }
    }
}

/// The hub's store: user count, shared text, notification history.
///
/// Cheap to clone (an [`Arc`] inside); clones share everything. See the
/// [module documentation](self) for the two backends.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Local(Arc<sqlite::LocalStore>),
    Redis(Arc<redis::RedisStore>),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            Backend::Local(local) => f.debug_tuple("Store::Local").field(local).finish(),
            Backend::Redis(redis) => f.debug_tuple("Store::Redis").field(redis).finish(),
        }
    }
}

/// Now, in milliseconds since the Unix epoch (0 if the clock is before it).
fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Store {
    /// Opens (creating it and the directory if needed) the local store in
    /// `data_dir`: history and text in `data_dir/pushdesk.sqlite3`.
    ///
    /// Re-opening the same directory continues where the last run stopped:
    /// same history and text, ids after the last one handed out.
    pub async fn open_local(data_dir: &Path, retention: Retention) -> Result<Store, StoreError> {
        let local = sqlite::LocalStore::open(data_dir, retention).await?;
        Ok(Store {
            backend: Backend::Local(Arc::new(local)),
        })
    }

    /// Connects to Redis at `url` (`redis://[user:password@]host:port[/db]`,
    /// or `rediss://` for TLS) and keeps every key under `prefix` (the
    /// default is `pushdesk:`). Every hub node that opens the same server
    /// with the same prefix shares the count, the text and the history.
    ///
    /// [`RedisOptions`] documents the keys; [`Store::open_redis_with`] sets
    /// the node TTL too.
    pub async fn open_redis(
        url: &str,
        prefix: &str,
        retention: Retention,
    ) -> Result<Store, StoreError> {
        Self::open_redis_with(
            url,
            RedisOptions {
                prefix: prefix.to_owned(),
                retention,
                ..RedisOptions::default()
            },
        )
        .await
    }

    /// [`Store::open_redis`] with every option.
    pub async fn open_redis_with(url: &str, options: RedisOptions) -> Result<Store, StoreError> {
        let redis = redis::RedisStore::open(url, options).await?;
        Ok(Store {
            backend: Backend::Redis(redis),
        })
    }

    /// Assigns the next id (unique, increasing, never reused even after
    /// restarts or pruning) and the timestamp `now_ms` (Unix ms), stores
    /// the notification and returns it as stored.
    ///
    /// Whatever `id` and `timestamp` `n` carries is replaced. Also drops the
    /// oldest notifications beyond [`Retention::max_count`].
    pub async fn publish(&self, n: Notification, now_ms: u64) -> Result<Notification, StoreError> {
        match &self.backend {
            Backend::Local(s) => s.publish(n, now_ms).await,
            Backend::Redis(s) => s.publish(n, now_ms).await,
        }
    }

    /// Notifications with id > `after_id`, ascending by id, at most `limit`,
    /// those older than [`Retention::max_age`] excluded.
    ///
    /// Notifications whose own `ttl` has passed are included; the caller
    /// decides ([`Notification::is_expired`]).
    pub async fn since(
        &self,
        after_id: u64,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        self.since_in(after_id, limit, None).await
    }

    /// [`Store::since`] for the notifications of `channels` only (`None`:
    /// every channel).
    pub async fn since_in(
        &self,
        after_id: u64,
        limit: usize,
        channels: Option<&[String]>,
    ) -> Result<Vec<Notification>, StoreError> {
        self.since_at(after_id, limit, channels, unix_now_ms())
            .await
    }

    /// [`Store::since_in`] with the current time given (Unix ms).
    pub async fn since_at(
        &self,
        after_id: u64,
        limit: usize,
        channels: Option<&[String]>,
        now_ms: u64,
    ) -> Result<Vec<Notification>, StoreError> {
        if limit == 0 || channels.is_some_and(<[String]>::is_empty) {
            return Ok(Vec::new());
        }
        match &self.backend {
            Backend::Local(s) => s.since(after_id, limit, channels, now_ms).await,
            Backend::Redis(s) => s.since(after_id, limit, channels, now_ms).await,
        }
    }

    /// The newest `limit` notifications, ascending by id (for a UI's
    /// history on connect), those older than [`Retention::max_age`]
    /// excluded.
    pub async fn recent(&self, limit: usize) -> Result<Vec<Notification>, StoreError> {
        self.recent_in(limit, None).await
    }

    /// [`Store::recent`] for the notifications of `channels` only (`None`:
    /// every channel).
    pub async fn recent_in(
        &self,
        limit: usize,
        channels: Option<&[String]>,
    ) -> Result<Vec<Notification>, StoreError> {
        self.recent_at(limit, channels, unix_now_ms()).await
    }

    /// [`Store::recent_in`] with the current time given (Unix ms).
    pub async fn recent_at(
        &self,
        limit: usize,
        channels: Option<&[String]>,
        now_ms: u64,
    ) -> Result<Vec<Notification>, StoreError> {
        if limit == 0 || channels.is_some_and(<[String]>::is_empty) {
            return Ok(Vec::new());
        }
        match &self.backend {
            Backend::Local(s) => s.recent(limit, channels, now_ms).await,
            Backend::Redis(s) => s.recent(limit, channels, now_ms).await,
        }
    }

    /// The history's epoch: random per database (per Redis data set), sent
    /// in `welcome`, so a client can tell that ids started over.
    pub async fn epoch(&self) -> Result<String, StoreError> {
        match &self.backend {
            Backend::Local(s) => Ok(s.epoch()),
            Backend::Redis(s) => s.epoch().await,
        }
    }

    /// The last id handed out (0 before the first publish), whether or not
    /// that notification is still kept.
    pub async fn last_id(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Local(s) => s.last_id().await,
            Backend::Redis(s) => s.last_id().await,
        }
    }

    /// The shared text (`""` until someone sets it).
    pub async fn text(&self) -> Result<String, StoreError> {
        match &self.backend {
            Backend::Local(s) => Ok(s.text()),
            Backend::Redis(s) => s.text().await,
        }
    }

    /// Replaces the shared text.
    pub async fn set_text(&self, text: &str) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Local(s) => s.set_text(text).await,
            Backend::Redis(s) => s.set_text(text).await,
        }
    }

    /// The shared text's document as stored: a snapshot, then the updates
    /// after it (empty before the first edit), and the mark of the last.
    pub async fn text_log(&self) -> Result<(Vec<Vec<u8>>, TextMark), StoreError> {
        match &self.backend {
            Backend::Local(s) => s.text_log().await,
            Backend::Redis(s) => s.text_log().await,
        }
    }

    /// Stores one entry of the shared text's log only if the newest one is
    /// still `last` (what this node has applied): `None` when another
    /// entry came first.
    pub async fn append_text_after(
        &self,
        last: TextMark,
        record: Vec<u8>,
    ) -> Result<Option<TextMark>, StoreError> {
        match &self.backend {
            Backend::Local(s) => s.append_text_after(last, record).await,
            Backend::Redis(s) => s.append_text_after(last, record).await,
        }
    }

    /// Stores one update of the shared text's document; with Redis, every
    /// node hears of it (see [`Store::watch_text`]).
    pub async fn append_text(&self, update: Vec<u8>) -> Result<TextMark, StoreError> {
        match &self.backend {
            Backend::Local(s) => s.append_text(update).await,
            Backend::Redis(s) => s.append_text(update).await,
        }
    }

    /// Replaces the stored updates up to `upto` with `snapshot`, a document
    /// that holds all of them, so the store stays proportional to the text.
    pub async fn compact_text(&self, upto: TextMark, snapshot: Vec<u8>) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Local(s) => s.compact_text(upto, snapshot).await,
            Backend::Redis(s) => s.compact_text(upto, snapshot).await,
        }
    }

    /// With Redis: wakes whenever any node stores a notification (and
    /// after a reconnect to Redis), so that each node delivers to its own
    /// clients from the history, in id order, and misses nothing that was
    /// stored. `None` with the local store (one process publishes and
    /// delivers).
    pub fn watch_history(&self) -> Option<tokio::sync::mpsc::Receiver<()>> {
        match &self.backend {
            Backend::Local(_) => None,
            Backend::Redis(s) => Some(s.watch_history()),
        }
    }

    /// With Redis: the updates other nodes (and this one) store after
    /// `after`, as they come, with their marks; `None` for the local store,
    /// where this process is the only writer.
    pub fn watch_text(
        &self,
        after: TextMark,
    ) -> Option<tokio::sync::mpsc::Receiver<(Vec<u8>, TextMark)>> {
        match &self.backend {
            Backend::Local(_) => None,
            Backend::Redis(s) => Some(s.watch_text(after)),
        }
    }

    /// A socket connected to this node; returns the new total across nodes.
    pub async fn user_connected(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Local(s) => Ok(s.user_connected()),
            Backend::Redis(s) => s.user_connected().await,
        }
    }

    /// A socket disconnected from this node; returns the new total across
    /// nodes. Never goes below zero.
    pub async fn user_disconnected(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Local(s) => Ok(s.user_disconnected()),
            Backend::Redis(s) => s.user_disconnected().await,
        }
    }

    /// The users connected across all live nodes.
    pub async fn user_count(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Local(s) => Ok(s.user_count()),
            Backend::Redis(s) => s.user_count().await,
        }
    }

    /// Applies [`Retention`] (count and age at `now_ms`, Unix ms); returns
    /// how many notifications it removed. Call it periodically (every few
    /// minutes): [`Store::publish`] keeps the count bounded but only this
    /// drops old notifications.
    pub async fn prune(&self, now_ms: u64) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Local(s) => s.prune(now_ms).await,
            Backend::Redis(s) => s.prune(now_ms).await,
        }
    }

    /// Stops counting this node's users (a graceful stop): the Redis
    /// backend removes this node's count at once instead of after its TTL
    /// and stops refreshing it. Nothing to do for the local backend. The
    /// other methods keep working.
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Local(_) => Ok(()),
            Backend::Redis(s) => s.shutdown().await,
        }
    }

    /// The Redis client of the Redis backend (it speaks RESP3, as the
    /// socketioxide Redis adapter needs), for the server to reuse; `None`
    /// for the local backend.
    pub fn redis_client(&self) -> Option<&::redis::Client> {
        match &self.backend {
            Backend::Local(_) => None,
            Backend::Redis(s) => Some(s.client()),
        }
    }
}

/// A new random history epoch (16 hex digits).
fn new_epoch() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server awaits these inside socketioxide handlers and spawned
    /// tasks: they must be `Send`, and `Store` shareable.
    #[test]
    fn store_is_shareable_and_its_futures_are_send() {
        fn send<T: Send>(_: T) {}
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        fn error<T: std::error::Error + Send + Sync + 'static>() {}
        fn futures(store: &Store, n: Notification) {
            send(store.publish(n, 0));
            send(store.since(0, 1));
            send(store.recent(1));
            send(store.last_id());
            send(store.text());
            send(store.set_text(""));
            send(store.user_connected());
            send(store.user_disconnected());
            send(store.user_count());
            send(store.prune(0));
            send(store.shutdown());
            send(Store::open_local(Path::new("."), Retention::default()));
            send(Store::open_redis(
                "redis://127.0.0.1",
                "p:",
                Retention::default(),
            ));
        }
        shareable::<Store>();
        error::<StoreError>();
        let _ = futures as fn(&Store, Notification);
    }

    #[test]
    fn retention_defaults_and_cutoff() {
        let r = Retention::default();
        assert_eq!(r.max_count, 10_000);
        assert_eq!(r.max_age, Duration::from_secs(2_592_000));
        let r = Retention {
            max_count: 1,
            max_age: Duration::from_millis(100),
        };
        assert_eq!(r.cutoff(1_000), 900);
        assert_eq!(r.cutoff(50), 0);
        let forever = Retention {
            max_count: 1,
            max_age: Duration::MAX,
        };
        assert_eq!(forever.cutoff(u64::MAX), 0);
    }
}
