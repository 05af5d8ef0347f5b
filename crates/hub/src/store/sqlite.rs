//! The local backend: one hub node, history and shared text in SQLite.
//!
//! The database is `<data_dir>/pushdesk.sqlite3`, in WAL mode, its schema
//! versioned with `PRAGMA user_version` (created when missing):
//!
//! * `state`: one row, `last_id` (the last id handed out, kept even when
//!   that notification is pruned, so ids are never reused) and `text` (the
//!   shared text);
//! * `notifications(id INTEGER PRIMARY KEY, timestamp, json, channel)`: the
//!   history, each notification as the JSON it was stored as, indexed by
//!   timestamp for pruning by age and by channel for replay per
//!   subscription (version 2 added `channel`; older rows are `default`);
//! * `text_updates(seq INTEGER PRIMARY KEY, data BLOB)` (version 3): the
//!   shared text as a Yjs document, a snapshot then the updates after it,
//!   in order. `state.text` keeps the plain text as of the last
//!   compaction, readable with `sqlite3` and by older builds;
//! * `meta(key, value)` (version 4): `epoch`, random, made with the
//!   database, so clients tell a wiped data directory (ids from 1 again)
//!   from the hub they knew.
//!
//! One [`rusqlite::Connection`] behind a [`std::sync::Mutex`]; every call
//! runs on tokio's blocking pool ([`tokio::task::spawn_blocking`]). Each
//! publish assigns its id and inserts the row in one transaction, so ids
//! appear in the table in increasing order. The user count lives in memory
//! only; the text is also cached in memory so reading it never touches the
//! disk.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use pushdesk_hub_model::Notification;
use rusqlite::{Connection, TransactionBehavior, params};

use super::{Retention, StoreError, TextMark};

/// The database's file name inside the data directory.
pub(crate) const DB_FILE: &str = "pushdesk.sqlite3";

/// The schema this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 4;

/// Version 1 of the schema.
const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL,
    text    TEXT    NOT NULL
);
INSERT OR IGNORE INTO state (id, last_id, text) VALUES (1, 0, '');
CREATE TABLE IF NOT EXISTS notifications (
    id        INTEGER PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    json      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_timestamp ON notifications (timestamp);
PRAGMA user_version = 1;
";

/// Version 2: every notification has a channel.
const SCHEMA_V2: &str = "
ALTER TABLE notifications ADD COLUMN channel TEXT NOT NULL DEFAULT 'default';
CREATE INDEX IF NOT EXISTS notifications_channel ON notifications (channel, id);
PRAGMA user_version = 2;
";

/// Version 3: the shared text as a CRDT document.
const SCHEMA_V3: &str = "
CREATE TABLE IF NOT EXISTS text_updates (
    seq  INTEGER PRIMARY KEY,
    data BLOB    NOT NULL
);
PRAGMA user_version = 3;
";

/// Version 4: the history's epoch (random per database), so clients can
/// tell a reset hub, whose ids start again at 1, from the one they knew.
const SCHEMA_V4: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
PRAGMA user_version = 4;
";

/// `channels` as the JSON array the queries take (`NULL`: every channel).
fn channels_param(channels: Option<&[String]>) -> Option<String> {
    channels.map(|c| serde_json::Value::from(c.to_vec()).to_string())
}

/// How long a statement waits for another connection's lock (another
/// process opening the same directory) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What the blocking calls share.
struct Shared {
    conn: Mutex<Connection>,
    /// The shared text, as last committed.
    text: RwLock<String>,
}

/// The local backend (see the [module documentation](self)).
pub(crate) struct LocalStore {
    path: PathBuf,
    /// This database's history epoch.
    epoch: String,
    shared: Arc<Shared>,
    users: AtomicU64,
    retention: Retention,
}

impl fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalStore")
            .field("path", &self.path)
            .field("users", &self.users)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

/// `v` as an SQLite integer, saturating.
fn to_sql_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// `v` as an SQLite integer for a `LIMIT`, saturating.
fn limit_to_sql(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Decodes the rows `(id, json)`, skipping (with a warning) any that is not
/// a notification, so one damaged row never blocks replay.
fn decode_rows(rows: Vec<(i64, String)>) -> Vec<Notification> {
    rows.into_iter()
        .filter_map(|(id, json)| match serde_json::from_str::<Notification>(&json) {
            Ok(mut n) => {
                n.id = u64::try_from(id).ok();
                Some(n)
            }
            Err(e) => {
                tracing::warn!(id, error = %e, "skipping an undecodable notification in the history database");
                None
            }
        })
        .collect()
}

/// Opens the database in `dir`, creating what is missing; returns it with
/// its path, the stored text and the epoch.
fn open_blocking(dir: &Path) -> Result<(Connection, PathBuf, String, String), StoreError> {
    if dir.exists() && !dir.is_dir() {
        return Err(StoreError::NotADirectory {
            path: dir.to_owned(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let path = dir.join(DB_FILE);
    let open_err = |source| StoreError::OpenDatabase {
        path: path.clone(),
        source,
    };
    let mut conn = Connection::open(&path).map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path.display(), mode, "SQLite refused WAL mode; using its journal mode");
    }
    // FULL, not NORMAL: the hub acks a notification once this commit
    // returns, and the ack promises it is in the history. In WAL mode
    // NORMAL survives the hub's own crash but a power cut or kernel panic
    // may roll back the last commits, so acked notifications would vanish
    // from replay. FULL syncs the WAL at each commit; what it costs per
    // publish is in the README (Performance).
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(open_err)?;
    migrate(&mut conn, &path)?;
    let text: String = conn
        .query_row("SELECT text FROM state WHERE id = 1", [], |r| r.get(0))
        .map_err(open_err)?;
    let epoch: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'epoch'", [], |r| {
            r.get(0)
        })
        .map_err(open_err)?;
    Ok((conn, path, text, epoch))
}

/// Creates the schema if missing; refuses a newer one.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let open_err = |source| StoreError::OpenDatabase {
        path: path.to_owned(),
        source,
    };
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(open_err)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: path.to_owned(),
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for (from, schema) in [
        (1, SCHEMA_V1),
        (2, SCHEMA_V2),
        (3, SCHEMA_V3),
        (4, SCHEMA_V4),
    ] {
        if version < from {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(open_err)?;
            tx.execute_batch(schema).map_err(open_err)?;
            tx.commit().map_err(open_err)?;
        }
    }
    // The epoch is made once, with the database.
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?1)",
        [super::new_epoch()],
    )
    .map_err(open_err)?;
    Ok(())
}

/// The last id handed out.
fn read_last_id(conn: &Connection) -> Result<u64, StoreError> {
    let last: i64 = conn.query_row("SELECT last_id FROM state WHERE id = 1", [], |r| r.get(0))?;
    u64::try_from(last).map_err(|_| StoreError::Corrupt {
        what: "state.last_id".into(),
        detail: format!("negative id {last}"),
    })
}

/// Deletes all but the newest `max_count` notifications; returns how many.
fn prune_count(conn: &Connection, max_count: u64) -> Result<u64, StoreError> {
    let removed = match max_count.checked_sub(1) {
        None => conn.execute("DELETE FROM notifications", [])?,
        Some(offset) => conn.execute(
            "DELETE FROM notifications WHERE id < \
             (SELECT id FROM notifications ORDER BY id DESC LIMIT 1 OFFSET ?1)",
            [to_sql_int(offset)],
        )?,
    };
    Ok(removed as u64)
}

impl LocalStore {
    /// Opens (or creates) the store in `data_dir`.
    pub(crate) async fn open(data_dir: &Path, retention: Retention) -> Result<Self, StoreError> {
        let dir = data_dir.to_owned();
        let (conn, path, text, epoch) =
            tokio::task::spawn_blocking(move || open_blocking(&dir)).await??;
        Ok(Self {
            path,
            epoch,
            shared: Arc::new(Shared {
                conn: Mutex::new(conn),
                text: RwLock::new(text),
            }),
            users: AtomicU64::new(0),
            retention,
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with_conn<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Shared) -> Result<T, StoreError> + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves no half-done work: an
            // open transaction rolls back when dropped.
            let mut conn = shared.conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn, &shared)
        })
        .await?
    }

    pub(crate) async fn publish(
        &self,
        mut n: Notification,
        now_ms: u64,
    ) -> Result<Notification, StoreError> {
        let max_count = self.retention.max_count;
        self.with_conn(move |conn, _| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let last = read_last_id(&tx)?;
            let id = last
                .checked_add(1)
                .filter(|id| i64::try_from(*id).is_ok())
                .ok_or(StoreError::IdsExhausted { last })?;
            n.id = Some(id);
            n.timestamp = Some(now_ms);
            let json = serde_json::to_string(&n).map_err(StoreError::Encode)?;
            let id_sql = to_sql_int(id);
            tx.execute(
                "INSERT INTO notifications (id, timestamp, json, channel) VALUES (?1, ?2, ?3, ?4)",
                params![id_sql, to_sql_int(now_ms), json, n.channel],
            )?;
            tx.execute("UPDATE state SET last_id = ?1 WHERE id = 1", [id_sql])?;
            // Ids are handed out without gaps, so the newest `max_count`
            // are those above `id - max_count`.
            if let Some(keep_above) = id.checked_sub(max_count).filter(|k| *k > 0) {
                tx.execute(
                    "DELETE FROM notifications WHERE id <= ?1",
                    [to_sql_int(keep_above)],
                )?;
            }
            tx.commit()?;
            Ok(n)
        })
        .await
    }

    pub(crate) async fn since(
        &self,
        after_id: u64,
        limit: usize,
        channels: Option<&[String]>,
        now_ms: u64,
    ) -> Result<Vec<Notification>, StoreError> {
        let cutoff = self.retention.cutoff(now_ms);
        let channels = channels_param(channels);
        let rows = self
            .with_conn(move |conn, _| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, json FROM notifications WHERE id > ?1 AND timestamp >= ?2 \
                     AND (?4 IS NULL OR channel IN (SELECT value FROM json_each(?4))) \
                     ORDER BY id LIMIT ?3",
                )?;
                let rows = stmt
                    .query_map(
                        params![
                            to_sql_int(after_id),
                            to_sql_int(cutoff),
                            limit_to_sql(limit),
                            channels
                        ],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )?
                    .collect::<Result<Vec<(i64, String)>, _>>()?;
                Ok(rows)
            })
            .await?;
        Ok(decode_rows(rows))
    }

    pub(crate) async fn recent(
        &self,
        limit: usize,
        channels: Option<&[String]>,
        now_ms: u64,
    ) -> Result<Vec<Notification>, StoreError> {
        let cutoff = self.retention.cutoff(now_ms);
        let channels = channels_param(channels);
        let mut rows = self
            .with_conn(move |conn, _| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, json FROM notifications WHERE timestamp >= ?1 \
                     AND (?3 IS NULL OR channel IN (SELECT value FROM json_each(?3))) \
                     ORDER BY id DESC LIMIT ?2",
                )?;
                let rows = stmt
                    .query_map(
                        params![to_sql_int(cutoff), limit_to_sql(limit), channels],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )?
                    .collect::<Result<Vec<(i64, String)>, _>>()?;
                Ok(rows)
            })
            .await?;
        rows.reverse();
        Ok(decode_rows(rows))
    }

    pub(crate) async fn last_id(&self) -> Result<u64, StoreError> {
        self.with_conn(|conn, _| read_last_id(conn)).await
    }

    pub(crate) fn epoch(&self) -> String {
        self.epoch.clone()
    }

    pub(crate) fn text(&self) -> String {
        self.shared
            .text
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) async fn set_text(&self, text: &str) -> Result<(), StoreError> {
        let text = text.to_owned();
        self.with_conn(move |conn, shared| {
            conn.execute("UPDATE state SET text = ?1 WHERE id = 1", [&text])?;
            // Still under the connection lock: memory and disk change in
            // the same order.
            *shared.text.write().unwrap_or_else(PoisonError::into_inner) = text;
            Ok(())
        })
        .await
    }

    /// The stored document: a snapshot, then the updates after it.
    pub(crate) async fn text_log(&self) -> Result<(Vec<Vec<u8>>, TextMark), StoreError> {
        self.with_conn(|conn, _| {
            let mut stmt =
                conn.prepare_cached("SELECT seq, data FROM text_updates ORDER BY seq")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            let mark = rows.last().map_or(0, |(seq, _)| *seq);
            Ok((
                rows.into_iter().map(|(_, data)| data).collect(),
                TextMark::Seq(mark),
            ))
        })
        .await
    }

    /// Stores one update of the document.
    pub(crate) async fn append_text(&self, update: Vec<u8>) -> Result<TextMark, StoreError> {
        self.with_conn(move |conn, _| {
            conn.execute("INSERT INTO text_updates (data) VALUES (?1)", [&update])?;
            Ok(TextMark::Seq(conn.last_insert_rowid()))
        })
        .await
    }

    /// Stores `record` only if the log's last entry is still `last`.
    pub(crate) async fn append_text_after(
        &self,
        last: TextMark,
        record: Vec<u8>,
    ) -> Result<Option<TextMark>, StoreError> {
        let TextMark::Seq(last) = last else {
            return Ok(None);
        };
        self.with_conn(move |conn, _| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let newest: i64 =
                tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM text_updates", [], |r| {
                    r.get(0)
                })?;
            if newest != last {
                return Ok(None);
            }
            tx.execute("INSERT INTO text_updates (data) VALUES (?1)", [&record])?;
            let seq = tx.last_insert_rowid();
            tx.commit()?;
            Ok(Some(TextMark::Seq(seq)))
        })
        .await
    }

    /// Replaces the updates up to `upto` with `snapshot`, which holds them all.
    pub(crate) async fn compact_text(
        &self,
        upto: TextMark,
        snapshot: Vec<u8>,
    ) -> Result<(), StoreError> {
        let TextMark::Seq(upto) = upto else {
            return Ok(());
        };
        self.with_conn(move |conn, _| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM text_updates WHERE seq <= ?1", [upto])?;
            tx.execute(
                "INSERT INTO text_updates (seq, data) VALUES (?1, ?2)",
                params![upto, snapshot],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(crate) fn user_connected(&self) -> u64 {
        self.users.fetch_add(1, Ordering::SeqCst).saturating_add(1)
    }

    pub(crate) fn user_disconnected(&self) -> u64 {
        let previous = self
            .users
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_sub(1))
            })
            .unwrap_or_else(|n| n);
        previous.saturating_sub(1)
    }

    pub(crate) fn user_count(&self) -> u64 {
        self.users.load(Ordering::SeqCst)
    }

    pub(crate) async fn prune(&self, now_ms: u64) -> Result<u64, StoreError> {
        let retention = self.retention.clone();
        self.with_conn(move |conn, _| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let by_age = tx.execute(
                "DELETE FROM notifications WHERE timestamp < ?1",
                [to_sql_int(retention.cutoff(now_ms))],
            )? as u64;
            let by_count = prune_count(&tx, retention.max_count)?;
            tx.commit()?;
            Ok(by_age + by_count)
        })
        .await
    }

    /// How many notifications the table holds (tests).
    #[cfg(test)]
    async fn stored(&self) -> Result<u64, StoreError> {
        self.with_conn(|conn, _| {
            let n: i64 = conn.query_row("SELECT COUNT(*) FROM notifications", [], |r| r.get(0))?;
            Ok(n.unsigned_abs())
        })
        .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashSet;
    use std::sync::atomic::AtomicUsize;

    use serde_json::json;

    use super::*;
    use crate::store::{Backend, Store};

    /// A fresh directory under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            static SEQ: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "pushdesk-store-{name}-{}-{}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const T0: u64 = 1_700_000_000_000;
    const DAY_MS: u64 = 24 * 60 * 60 * 1000;

    fn retention(max_count: u64, max_age_days: u64) -> Retention {
        Retention {
            max_count,
            max_age: Duration::from_millis(max_age_days * DAY_MS),
        }
    }

    fn ids(ns: &[Notification]) -> Vec<u64> {
        ns.iter().map(|n| n.id.unwrap()).collect()
    }

    fn local(store: &Store) -> &LocalStore {
        match &store.backend {
            Backend::Local(l) => l,
            Backend::Redis(_) => unreachable!(),
        }
    }

    async fn publish_titles(store: &Store, titles: std::ops::RangeInclusive<u64>, at: u64) {
        for i in titles {
            store
                .publish(Notification::new(format!("n{i}")), at + i)
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn publish_assigns_ids_and_timestamps() {
        let dir = TempDir::new("ids");
        let store = Store::open_local(&dir.0, Retention::default())
            .await
            .unwrap();
        assert!(dir.0.join(DB_FILE).is_file());
        let (mode, version) = local(&store)
            .with_conn(|conn, _| {
                let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                Ok((mode, version))
            })
            .await
            .unwrap();
        assert_eq!((mode.as_str(), version), ("wal", SCHEMA_VERSION));
        assert_eq!(store.last_id().await.unwrap(), 0);
        assert!(store.redis_client().is_none());
        for want in 1..=3 {
            let n = Notification {
                id: Some(999),
                timestamp: Some(1),
                ..Notification::new("hi")
            };
            let stored = store.publish(n, T0 + want).await.unwrap();
            assert_eq!(stored.id, Some(want));
            assert_eq!(stored.timestamp, Some(T0 + want));
            assert_eq!(stored.title, "hi");
        }
        assert_eq!(store.last_id().await.unwrap(), 3);
    }

    #[tokio::test]
    async fn every_field_round_trips() {
        let dir = TempDir::new("fields");
        let store = Store::open_local(&dir.0, Retention::default())
            .await
            .unwrap();
        let n: Notification = serde_json::from_value(json!({
            "title": "Deploy 日本語", "body": "v1.2", "icon": "images/icon.png", "tag": "deploy",
            "data1": {"deep": [1, null, "s", 1.5]}, "url": "https://ci.example/7",
            "urgency": "critical", "data": {"run": 7}, "actions": [{"id": "open", "title": "Open"}],
            "ttl": 5000
        }))
        .unwrap();
        let stored = store.publish(n.clone(), T0).await.unwrap();
        let want = Notification {
            id: Some(1),
            timestamp: Some(T0),
            ..n
        };
        assert_eq!(stored, want);
        assert_eq!(
            store.since_at(0, 10, None, T0).await.unwrap(),
            std::slice::from_ref(&want)
        );
        assert_eq!(store.recent_at(10, None, T0).await.unwrap(), [want]);
    }

    #[tokio::test]
    async fn since_and_recent_per_channel() {
        let dir = TempDir::new("channels");
        let store = Store::open_local(&dir.0, Retention::default())
            .await
            .unwrap();
        for (i, channel) in ["default", "ops", "default", "ci", "ops"]
            .iter()
            .enumerate()
        {
            let mut n = Notification::new(format!("n{i}"));
            n.channel = (*channel).to_owned();
            store.publish(n, T0).await.unwrap();
        }
        let now = T0 + 100;
        let ops = ["ops".to_owned()];
        let two = ["ops".to_owned(), "ci".to_owned()];
        assert_eq!(
            ids(&store.since_at(0, 100, Some(&ops), now).await.unwrap()),
            [2, 5]
        );
        assert_eq!(
            ids(&store.since_at(2, 100, Some(&two), now).await.unwrap()),
            [4, 5]
        );
        assert_eq!(
            ids(&store.since_at(0, 1, Some(&two), now).await.unwrap()),
            [2]
        );
        assert!(
            store
                .since_at(0, 100, Some(&[]), now)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            ids(&store.since_at(0, 100, None, now).await.unwrap()).len(),
            5
        );
        assert_eq!(
            ids(&store.recent_at(1, Some(&ops), now).await.unwrap()),
            [5]
        );
        let got = store.since_at(0, 100, Some(&ops), now).await.unwrap();
        assert!(
            got.iter().all(|n| n.channel == "ops"),
            "the channel round-trips"
        );
    }

    #[tokio::test]
    async fn a_version_1_database_is_migrated_to_channels() {
        let dir = TempDir::new("v1");
        std::fs::create_dir_all(&dir.0).unwrap();
        {
            let conn = Connection::open(dir.0.join(DB_FILE)).unwrap();
            conn.execute_batch(SCHEMA_V1).unwrap();
            conn.execute(
                "INSERT INTO notifications (id, timestamp, json) VALUES (1, ?1, '{\"title\":\"old\",\"id\":1}')",
                [to_sql_int(T0)],
            )
            .unwrap();
            conn.execute("UPDATE state SET last_id = 1", []).unwrap();
        }
        let store = Store::open_local(&dir.0, Retention::default())
            .await
            .unwrap();
        let default = ["default".to_owned()];
        let old = store.since_at(0, 10, Some(&default), T0).await.unwrap();
        assert_eq!(ids(&old), [1], "a version-1 row is in the default channel");
        let n = store.publish(Notification::new("new"), T0).await.unwrap();
        assert_eq!(n.id, Some(2));
    }

    #[tokio::test]
    async fn since_and_recent_order_and_limit() {
        let dir = TempDir::new("order");
        let store = Store::open_local(&dir.0, Retention::default())
            .await
            .unwrap();
        publish_titles(&store, 1..=10, T0).await;
        let now = T0 + 100;
        assert_eq!(
            ids(&store.since_at(0, 100, None, now).await.unwrap()),
            (1..=10).collect::<Vec<_>>()
        );
        assert_eq!(
            ids(&store.since_at(4, 3, None, now).await.unwrap()),
            [5, 6, 7]
        );
        assert_eq!(
            ids(&store.since_at(8, 100, None, now).await.unwrap()),
            [9, 10]
        );
        assert!(store.since_at(10, 100, None, now).await.unwrap().is_empty());
        assert!(
            store
                .since_at(u64::MAX, 100, None, now)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(store.since_at(0, 0, None, now).await.unwrap().is_empty());
        assert_eq!(
            ids(&store.recent_at(3, None, now).await.unwrap()),
            [8, 9, 10]
        );
        assert_eq!(
            ids(&store.recent_at(100, None, now).await.unwrap()).len(),
            10
        );
        assert!(store.recent_at(0, None, now).await.unwrap().is_empty());
        let titles: Vec<_> = store
            .since_at(0, 2, None, now)
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.title)
            .collect();
        assert_eq!(titles, ["n1", "n2"]);
        // The wall-clock variants: by the real clock T0 (2023) is older
        // than 30 days, so only one published now is seen.
        let now_ms = super::super::unix_now_ms();
        store
            .publish(Notification::new("now"), now_ms)
            .await
            .unwrap();
        assert_eq!(ids(&store.since(0, 100).await.unwrap()), [11]);
        assert_eq!(ids(&store.recent(5).await.unwrap()), [11]);
    }

    #[tokio::test]
    async fn retention_by_count() {
        let dir = TempDir::new("count");
        let store = Store::open_local(&dir.0, retention(5, 30)).await.unwrap();
        publish_titles(&store, 1..=12, T0).await;
        // Publish keeps the count bounded by itself.
        assert_eq!(local(&store).stored().await.unwrap(), 5);
        let now = T0 + 100;
        assert_eq!(
            ids(&store.since_at(0, 100, None, now).await.unwrap()),
            [8, 9, 10, 11, 12]
        );
        assert_eq!(ids(&store.recent_at(2, None, now).await.unwrap()), [11, 12]);
        assert_eq!(store.prune(now).await.unwrap(), 0);
        assert_eq!(store.last_id().await.unwrap(), 12);
    }

    #[tokio::test]
    async fn retention_by_age() {
        let dir = TempDir::new("age");
        let store = Store::open_local(&dir.0, retention(100, 2)).await.unwrap();
        // Days 0..=4.
        for day in 0..=4 {
            store
                .publish(Notification::new(format!("day {day}")), T0 + day * DAY_MS)
                .await
                .unwrap();
        }
        let now = T0 + 4 * DAY_MS;
        // Reads exclude what is older than two days even before pruning.
        assert_eq!(
            ids(&store.since_at(0, 100, None, now).await.unwrap()),
            [3, 4, 5]
        );
        assert_eq!(
            ids(&store.recent_at(100, None, now).await.unwrap()),
            [3, 4, 5]
        );
        assert_eq!(local(&store).stored().await.unwrap(), 5);
        assert_eq!(store.prune(now).await.unwrap(), 2);
        assert_eq!(local(&store).stored().await.unwrap(), 3);
        assert_eq!(store.prune(now).await.unwrap(), 0);
        // Exactly max_age old is kept; one ms more is not.
        assert_eq!(store.prune(now + 1).await.unwrap(), 1);
        assert_eq!(
            ids(&store.since_at(0, 100, None, now + 1).await.unwrap()),
            [4, 5]
        );
        // Far in the future everything goes; ids still continue.
        assert_eq!(store.prune(now + 100 * DAY_MS).await.unwrap(), 2);
        assert!(store.recent_at(10, None, now).await.unwrap().is_empty());
        let next = store
            .publish(Notification::new("after"), now)
            .await
            .unwrap();
        assert_eq!(next.id, Some(6));
    }

    #[tokio::test]
    async fn prune_applies_a_smaller_count() {
        let dir = TempDir::new("prune-count");
        {
            let store = Store::open_local(&dir.0, retention(100, 30)).await.unwrap();
            publish_titles(&store, 1..=10, T0).await;
        }
        let store = Store::open_local(&dir.0, retention(4, 30)).await.unwrap();
        assert_eq!(store.prune(T0).await.unwrap(), 6);
        assert_eq!(
            ids(&store.since_at(0, 100, None, T0).await.unwrap()),
            [7, 8, 9, 10]
        );
        let none = Store::open_local(&dir.0, retention(0, 30)).await.unwrap();
        assert_eq!(none.prune(T0).await.unwrap(), 4);
        assert!(none.since_at(0, 100, None, T0).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn reopening_continues_history_text_and_ids() {
        let dir = TempDir::new("reopen");
        {
            let store = Store::open_local(&dir.0, Retention::default())
                .await
                .unwrap();
            assert_eq!(store.text().await.unwrap(), "");
            publish_titles(&store, 1..=3, T0).await;
            store.set_text("shared 共有").await.unwrap();
            store.user_connected().await.unwrap();
        }
        {
            let store = Store::open_local(&dir.0, Retention::default())
                .await
                .unwrap();
            assert_eq!(store.text().await.unwrap(), "shared 共有");
            assert_eq!(store.last_id().await.unwrap(), 3);
            // The count is per process: nobody is connected to a new one.
            assert_eq!(store.user_count().await.unwrap(), 0);
            assert_eq!(ids(&store.since_at(1, 10, None, T0).await.unwrap()), [2, 3]);
            let n = store
                .publish(Notification::new("n4"), T0 + 4)
                .await
                .unwrap();
            assert_eq!(n.id, Some(4));
            // Prune everything: the ids still go on.
            assert_eq!(store.prune(T0 + 365 * DAY_MS).await.unwrap(), 4);
        }
        let store = Store::open_local(&dir.0, Retention::default())
            .await
            .unwrap();
        assert_eq!(store.last_id().await.unwrap(), 4);
        assert!(store.since_at(0, 10, None, T0).await.unwrap().is_empty());
        let n = store
            .publish(Notification::new("n5"), T0 + 5)
            .await
            .unwrap();
        assert_eq!(n.id, Some(5));
        assert_eq!(store.text().await.unwrap(), "shared 共有");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_publishes_get_unique_increasing_ids() {
        let dir = TempDir::new("concurrent");
        let store = Store::open_local(&dir.0, Retention::default())
            .await
            .unwrap();
        const TASKS: u64 = 16;
        const EACH: u64 = 25;
        let mut handles = Vec::new();
        for t in 0..TASKS {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in 0..EACH {
                    let n = store
                        .publish(Notification::new(format!("{t}/{i}")), T0)
                        .await
                        .unwrap();
                    mine.push(n.id.unwrap());
                }
                mine
            }));
        }
        let mut all = HashSet::new();
        for h in handles {
            let mine = h.await.unwrap();
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "{mine:?}");
            for id in mine {
                assert!(all.insert(id), "id {id} handed out twice");
            }
        }
        assert_eq!(all, (1..=TASKS * EACH).collect::<HashSet<_>>());
        let stored = store.since_at(0, 10_000, None, T0).await.unwrap();
        assert_eq!(ids(&stored), (1..=TASKS * EACH).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn text_and_user_count() {
        let dir = TempDir::new("text");
        let store = Store::open_local(&dir.0, Retention::default())
            .await
            .unwrap();
        let other = store.clone();
        store.set_text("a").await.unwrap();
        assert_eq!(other.text().await.unwrap(), "a");
        store.set_text("").await.unwrap();
        assert_eq!(other.text().await.unwrap(), "");
        assert_eq!(store.user_connected().await.unwrap(), 1);
        assert_eq!(other.user_connected().await.unwrap(), 2);
        assert_eq!(store.user_count().await.unwrap(), 2);
        assert_eq!(store.user_disconnected().await.unwrap(), 1);
        assert_eq!(store.user_disconnected().await.unwrap(), 0);
        // Never below zero.
        assert_eq!(store.user_disconnected().await.unwrap(), 0);
        assert_eq!(store.user_count().await.unwrap(), 0);
        store.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn a_file_instead_of_the_data_dir_is_a_clear_error() {
        let dir = TempDir::new("bad-dir");
        std::fs::create_dir_all(&dir.0).unwrap();
        let file = dir.0.join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let err = Store::open_local(&file, Retention::default())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotADirectory { .. }), "{err:?}");
        assert!(err.to_string().contains("not-a-dir"), "{err}");
        assert!(err.to_string().contains("not a directory"), "{err}");
        // Below a file: the directory cannot be created.
        let err = Store::open_local(&file.join("sub"), Retention::default())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
        assert!(
            err.to_string().contains("cannot create data directory"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_foreign_database_file_is_a_clear_error() {
        let dir = TempDir::new("garbage");
        std::fs::create_dir_all(&dir.0).unwrap();
        std::fs::write(dir.0.join(DB_FILE), vec![b'x'; 4096]).unwrap();
        let err = Store::open_local(&dir.0, Retention::default())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::OpenDatabase { .. }), "{err:?}");
        assert!(err.to_string().contains(DB_FILE), "{err}");
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused() {
        let dir = TempDir::new("newer");
        drop(
            Store::open_local(&dir.0, Retention::default())
                .await
                .unwrap(),
        );
        {
            let conn = Connection::open(dir.0.join(DB_FILE)).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        let err = Store::open_local(&dir.0, Retention::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::SchemaTooNew {
                    found: 5,
                    known: 4,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_damaged_row_is_skipped_not_fatal() {
        let dir = TempDir::new("damaged");
        let store = Store::open_local(&dir.0, Retention::default())
            .await
            .unwrap();
        publish_titles(&store, 1..=3, T0).await;
        local(&store)
            .with_conn(|conn, _| {
                conn.execute("UPDATE notifications SET json = '{' WHERE id = 2", [])?;
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(ids(&store.since_at(0, 10, None, T0).await.unwrap()), [1, 3]);
    }
}
