//! [`History`]: the local notification history (SQLite in the data
//! directory). Each notification gets a local `key`; a hub id is stored once
//! per hub, so a replay of an id already seen is recognised and not shown
//! again. It also remembers, per hub, the newest id seen: what the app asks
//! the hub to replay after on reconnect.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension as _, params};
use serde::Serialize;
use serde_json::Value;

/// How many notifications are kept (oldest dropped first).
pub const KEEP: i64 = 2000;

/// What happened to a notification on this desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Being shown (icon fetch, notifier call under way).
    Pending,
    /// Shown by the OS.
    Shown,
    /// Kept out of sight (Do Not Disturb, below the minimum urgency).
    Suppressed(String),
    /// Showing it failed (no notification daemon, say).
    Failed(String),
}

impl Outcome {
    fn encode(&self) -> String {
        match self {
            Self::Pending => "pending".into(),
            Self::Shown => "shown".into(),
            Self::Suppressed(why) => format!("suppressed: {why}"),
            Self::Failed(why) => format!("error: {why}"),
        }
    }
}

/// One stored notification, as the UI gets it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Local key (also the notifier's key).
    pub key: u64,
    /// The notification as received (the `send_notification` payload).
    pub payload: Value,
    /// When it arrived here, Unix ms.
    pub received_at: u64,
    /// `pending`, `shown`, `suppressed: …` or `error: …`.
    pub outcome: String,
    /// When it was clicked, Unix ms.
    pub clicked_at: Option<u64>,
    /// Why it was closed (`expired`, `dismissed`, …).
    pub closed: Option<String>,
}

/// Errors of the history database.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// SQLite refused.
    #[error("local history: {0}")]
    Db(#[from] rusqlite::Error),
    /// Moving a damaged history aside failed.
    #[error("local history: moving the damaged file aside: {0}")]
    Io(#[from] std::io::Error),
}

/// Whether `e` says the database file itself is damaged (not a full disk,
/// a permission or a lock, which moving the file aside would not cure).
fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// The history database.
#[derive(Debug)]
pub struct History {
    db: Connection,
}

impl History {
    /// Opens (creating) `history.sqlite3` in `dir`.
    pub fn open(dir: &Path) -> Result<Self, HistoryError> {
        Self::with_connection(Connection::open(dir.join("history.sqlite3"))?)
    }

    /// Opens `history.sqlite3` in `dir`; if it is damaged (not a database,
    /// or failing SQLite's quick check), moves it aside as
    /// `history.sqlite3.damaged-<unix time>` (its `-wal`/`-shm` too, so
    /// nothing is deleted) and starts a new one. The message says what
    /// happened, to tell the user once.
    pub fn open_or_recover(dir: &Path) -> Result<(Self, Option<String>), HistoryError> {
        let path = dir.join("history.sqlite3");
        let damage = match Self::open_checked(&path) {
            Ok(history) => return Ok((history, None)),
            Err(HistoryError::Db(e)) if is_damage(&e) => e,
            Err(e) => return Err(e),
        };
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let aside = dir.join(format!("history.sqlite3.damaged-{stamp}"));
        for suffix in ["", "-wal", "-shm"] {
            let from = dir.join(format!("history.sqlite3{suffix}"));
            if from.exists() {
                let to = PathBuf::from(format!("{}{suffix}", aside.display()));
                std::fs::rename(&from, &to)?;
            }
        }
        let history = Self::open(dir)?;
        let message = format!(
            "The local history was damaged ({damage}); it was moved to {} and a new one started.",
            aside.display()
        );
        Ok((history, Some(message)))
    }

    fn open_checked(path: &Path) -> Result<Self, HistoryError> {
        let history = Self::with_connection(Connection::open(path)?)?;
        let verdict: String = history
            .db
            .query_row("PRAGMA quick_check", [], |row| row.get(0))?;
        if verdict != "ok" {
            return Err(HistoryError::Db(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some(verdict),
            )));
        }
        Ok(history)
    }

    /// An in-memory history, for tests.
    pub fn in_memory() -> Result<Self, HistoryError> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(db: Connection) -> Result<Self, HistoryError> {
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS notifications (
                 key INTEGER PRIMARY KEY AUTOINCREMENT,
                 hub TEXT NOT NULL,
                 hub_id INTEGER,
                 payload TEXT NOT NULL,
                 received_at INTEGER NOT NULL,
                 outcome TEXT NOT NULL,
                 clicked_at INTEGER,
                 closed TEXT,
                 UNIQUE (hub, hub_id)
             );
             CREATE TABLE IF NOT EXISTS hubs (
                 hub TEXT PRIMARY KEY,
                 last_id INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS shared_text (
                 hub TEXT PRIMARY KEY,
                 doc BLOB NOT NULL
             );",
        )?;
        // Added later: the hub's history epoch its ids belong to.
        let has_epoch = db
            .prepare("SELECT 1 FROM pragma_table_info('hubs') WHERE name = 'epoch'")?
            .exists([])?;
        if !has_epoch {
            db.execute_batch("ALTER TABLE hubs ADD COLUMN epoch TEXT")?;
        }
        Ok(Self { db })
    }

    /// Stores a notification from `hub`. `None` when its id was already
    /// stored for that hub (a replay): it must not be shown again.
    pub fn record(
        &mut self,
        hub: &str,
        hub_id: Option<u64>,
        payload: &Value,
        received_at: u64,
    ) -> Result<Option<u64>, HistoryError> {
        let tx = self.db.transaction()?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO notifications (hub, hub_id, payload, received_at, outcome)
             VALUES (?1, ?2, ?3, ?4, 'pending')",
            params![
                hub,
                hub_id.map(sql_int),
                payload.to_string(),
                sql_int(received_at)
            ],
        )?;
        if inserted == 0 {
            return Ok(None);
        }
        let key = tx.last_insert_rowid();
        if let Some(id) = hub_id {
            tx.execute(
                "INSERT INTO hubs (hub, last_id) VALUES (?1, ?2)
                 ON CONFLICT (hub) DO UPDATE SET last_id = max(last_id, excluded.last_id)",
                params![hub, sql_int(id)],
            )?;
        }
        // Keep the table bounded; cheap with the primary key.
        if key % 100 == 0 {
            tx.execute(
                "DELETE FROM notifications WHERE key <= ?1",
                params![key - KEEP],
            )?;
        }
        tx.commit()?;
        Ok(Some(u64::try_from(key).unwrap_or_default()))
    }

    /// The newest hub id seen from `hub` (what to replay after).
    pub fn last_id(&self, hub: &str) -> Result<Option<u64>, HistoryError> {
        let id: Option<i64> = self
            .db
            .query_row("SELECT last_id FROM hubs WHERE hub = ?1", [hub], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(id.and_then(|i| u64::try_from(i).ok()))
    }

    /// The history epoch `hub`'s ids are from, if it said one.
    pub fn epoch(&self, hub: &str) -> Result<Option<String>, HistoryError> {
        let epoch: Option<Option<String>> = self
            .db
            .query_row("SELECT epoch FROM hubs WHERE hub = ?1", [hub], |r| r.get(0))
            .optional()?;
        Ok(epoch.flatten())
    }

    /// What `hub`'s `welcome {last_id, epoch}` means for the ids seen:
    /// * first contact: its older history is not ours to pop up (the
    ///   baseline is its `last_id`);
    /// * another epoch than ours (its data was reset: ids start at 1
    ///   again, and it replays them all to us, as we sent our epoch): our
    ///   ids of it no longer count, so new ones are not taken for replays;
    /// * its `last_id` below what we saw, and no epoch to tell (an older
    ///   hub reset): the same, from its `last_id` on;
    /// * else the epoch is noted if we had none.
    ///
    /// Returns whether the history of that hub started over.
    pub fn welcomed(
        &mut self,
        hub: &str,
        last_id: u64,
        epoch: Option<&str>,
    ) -> Result<bool, HistoryError> {
        let Some(seen) = self.last_id(hub)? else {
            self.start_over(hub, last_id, epoch)?;
            return Ok(false);
        };
        let ours = self.epoch(hub)?;
        let reset = match (ours.as_deref(), epoch) {
            (Some(ours), Some(theirs)) if ours != theirs => Some(0),
            _ if last_id < seen => Some(last_id),
            _ => None,
        };
        match reset {
            Some(from) => {
                self.start_over(hub, from, epoch)?;
                Ok(true)
            }
            None => {
                if ours.is_none() && epoch.is_some() {
                    self.db.execute(
                        "UPDATE hubs SET epoch = ?2 WHERE hub = ?1",
                        params![hub, epoch],
                    )?;
                }
                Ok(false)
            }
        }
    }

    /// Forgets which ids of `hub` were seen (the entries stay, without
    /// their id) and counts from `last_id` in `epoch`.
    fn start_over(
        &mut self,
        hub: &str,
        last_id: u64,
        epoch: Option<&str>,
    ) -> Result<(), HistoryError> {
        let tx = self.db.transaction()?;
        tx.execute(
            "UPDATE notifications SET hub_id = NULL WHERE hub = ?1",
            [hub],
        )?;
        tx.execute(
            "INSERT INTO hubs (hub, last_id, epoch) VALUES (?1, ?2, ?3)
             ON CONFLICT (hub) DO UPDATE SET last_id = excluded.last_id, epoch = excluded.epoch",
            params![hub, sql_int(last_id), epoch],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The saved shared-text document of `hub`.
    pub fn text_doc(&self, hub: &str) -> Result<Option<Vec<u8>>, HistoryError> {
        Ok(self
            .db
            .query_row("SELECT doc FROM shared_text WHERE hub = ?1", [hub], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Saves `hub`'s shared-text document.
    pub fn save_text_doc(&self, hub: &str, doc: &[u8]) -> Result<(), HistoryError> {
        self.db.execute(
            "INSERT INTO shared_text (hub, doc) VALUES (?1, ?2)
             ON CONFLICT (hub) DO UPDATE SET doc = excluded.doc",
            params![hub, doc],
        )?;
        Ok(())
    }

    /// Remembers the hub's newest id without a notification (first contact:
    /// older history is the hub's, not ours to show).
    pub fn set_baseline(&mut self, hub: &str, id: u64) -> Result<(), HistoryError> {
        self.db.execute(
            "INSERT INTO hubs (hub, last_id) VALUES (?1, ?2)
             ON CONFLICT (hub) DO UPDATE SET last_id = max(last_id, excluded.last_id)",
            params![hub, sql_int(id)],
        )?;
        Ok(())
    }

    /// Sets what happened to notification `key`.
    pub fn set_outcome(&self, key: u64, outcome: &Outcome) -> Result<(), HistoryError> {
        self.db.execute(
            "UPDATE notifications SET outcome = ?2 WHERE key = ?1",
            params![sql_int(key), outcome.encode()],
        )?;
        Ok(())
    }

    /// Records a click on `key`.
    pub fn clicked(&self, key: u64, at: u64) -> Result<(), HistoryError> {
        self.db.execute(
            "UPDATE notifications SET clicked_at = ?2 WHERE key = ?1",
            params![sql_int(key), sql_int(at)],
        )?;
        Ok(())
    }

    /// Records why `key` was closed.
    pub fn closed(&self, key: u64, reason: &str) -> Result<(), HistoryError> {
        self.db.execute(
            "UPDATE notifications SET closed = ?2 WHERE key = ?1",
            params![sql_int(key), reason],
        )?;
        Ok(())
    }

    /// One entry.
    pub fn get(&self, key: u64) -> Result<Option<Entry>, HistoryError> {
        Ok(self
            .db
            .query_row(
                "SELECT key, payload, received_at, outcome, clicked_at, closed
                 FROM notifications WHERE key = ?1",
                [sql_int(key)],
                row_entry,
            )
            .optional()?)
    }

    /// The newest `limit` entries, newest first.
    pub fn recent(&self, limit: usize) -> Result<Vec<Entry>, HistoryError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT key, payload, received_at, outcome, clicked_at, closed
             FROM notifications ORDER BY key DESC LIMIT ?1",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map([limit], row_entry)?;
        rows.collect::<Result<_, _>>().map_err(HistoryError::from)
    }
}

fn row_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let payload: String = r.get(1)?;
    Ok(Entry {
        key: from_sql(r.get(0)?),
        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
        received_at: from_sql(r.get(2)?),
        outcome: r.get(3)?,
        clicked_at: r.get::<_, Option<i64>>(4)?.map(from_sql),
        closed: r.get(5)?,
    })
}

/// SQLite integers are i64; our ids and times fit (saturating otherwise).
fn sql_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn from_sql(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_hub_whose_history_was_reset_has_its_new_ids_taken_as_new() {
        let mut h = History::in_memory().expect("db");
        let n = json!({"title": "a"});
        // First contact: the baseline is the hub's last id, the epoch noted.
        assert!(!h.welcomed("hub", 2, Some("e1")).expect("welcome"));
        assert_eq!(h.last_id("hub").expect("id"), Some(2));
        for id in 3..=5 {
            assert!(h.record("hub", Some(id), &n, id).expect("record").is_some());
        }
        // Same epoch, a reconnect: nothing changes; a replay is still one.
        assert!(!h.welcomed("hub", 5, Some("e1")).expect("welcome"));
        assert_eq!(h.record("hub", Some(4), &n, 9).expect("record"), None);

        // Reset: another epoch; ids 1.. are new again.
        assert!(h.welcomed("hub", 2, Some("e2")).expect("welcome"));
        assert_eq!(h.last_id("hub").expect("id"), Some(0));
        assert_eq!(h.epoch("hub").expect("epoch").as_deref(), Some("e2"));
        for id in 1..=4 {
            assert!(
                h.record("hub", Some(id), &n, 10 + id)
                    .expect("record")
                    .is_some(),
                "id {id}"
            );
        }
        assert_eq!(h.record("hub", Some(4), &n, 20).expect("record"), None);

        // An older hub says no epoch, but its ids went back: also a reset.
        assert!(!h.welcomed("old", 10, None).expect("welcome"));
        assert!(h.welcomed("old", 3, None).expect("welcome"));
        assert_eq!(h.last_id("old").expect("id"), Some(3));
        assert!(h.record("old", Some(4), &n, 30).expect("record").is_some());
        // Which it may later say; noted, not a reset.
        assert!(!h.welcomed("old", 4, Some("e9")).expect("welcome"));
        assert_eq!(h.epoch("old").expect("epoch").as_deref(), Some("e9"));
    }

    #[test]
    fn a_damaged_history_is_moved_aside_and_a_new_one_started() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.sqlite3");
        std::fs::write(&path, vec![0x5a; 8192]).expect("garbage");
        let (mut h, warning) = History::open_or_recover(dir.path()).expect("recovered");
        let warning = warning.expect("the user is told");
        assert!(warning.contains("damaged"), "{warning}");
        let n = json!({"title": "a"});
        assert!(h.record("hub", Some(1), &n, 1).expect("record").is_some());
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(
            std::fs::read(aside[0].path()).expect("kept"),
            vec![0x5a; 8192]
        );
        drop(h);

        // A healthy one is opened as it is, and says nothing.
        let (h, warning) = History::open_or_recover(dir.path()).expect("opens");
        assert_eq!(warning, None);
        assert_eq!(h.last_id("hub").expect("id"), Some(1));
    }

    #[test]
    fn an_id_is_stored_once_per_hub_and_last_id_follows() {
        let mut h = History::in_memory().expect("db");
        let n = json!({"title": "a", "id": 7});
        let k = h.record("hub-a", Some(7), &n, 1).expect("record");
        assert!(k.is_some());
        assert_eq!(h.record("hub-a", Some(7), &n, 2).expect("record"), None);
        // Another hub has its own ids.
        assert!(h.record("hub-b", Some(7), &n, 3).expect("record").is_some());
        // No id (seed servers): always new.
        assert!(h.record("hub-a", None, &n, 4).expect("r").is_some());
        assert!(h.record("hub-a", None, &n, 5).expect("r").is_some());
        assert_eq!(h.last_id("hub-a").expect("id"), Some(7));
        h.record("hub-a", Some(3), &n, 6).expect("record");
        assert_eq!(h.last_id("hub-a").expect("id"), Some(7), "never goes back");
        h.set_baseline("hub-c", 40).expect("baseline");
        assert_eq!(h.last_id("hub-c").expect("id"), Some(40));
        assert_eq!(h.last_id("nope").expect("id"), None);
    }

    #[test]
    fn outcomes_clicks_and_closes_are_kept_newest_first() {
        let mut h = History::in_memory().expect("db");
        let a = h
            .record("h", Some(1), &json!({"title": "a"}), 1)
            .expect("r")
            .expect("new");
        let b = h
            .record("h", Some(2), &json!({"title": "b"}), 2)
            .expect("r")
            .expect("new");
        h.set_outcome(a, &Outcome::Failed("no daemon".into()))
            .expect("outcome");
        h.set_outcome(b, &Outcome::Shown).expect("outcome");
        h.clicked(b, 10).expect("click");
        h.closed(b, "dismissed").expect("close");
        let recent = h.recent(10).expect("recent");
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].key, b);
        assert_eq!(recent[0].outcome, "shown");
        assert_eq!(recent[0].clicked_at, Some(10));
        assert_eq!(recent[0].closed.as_deref(), Some("dismissed"));
        assert_eq!(recent[1].outcome, "error: no daemon");
        assert_eq!(recent[1].payload, json!({"title": "a"}));
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut h = History::in_memory().expect("db");
        for i in 0..(KEEP as u64 + 300) {
            h.record("h", Some(i), &json!({}), i).expect("record");
        }
        let n: i64 =
            h.db.query_row("SELECT count(*) FROM notifications", [], |r| r.get(0))
                .expect("count");
        assert!(n <= KEEP + 100, "{n}");
        assert_eq!(h.last_id("h").expect("id"), Some(KEEP as u64 + 299));
    }
}
