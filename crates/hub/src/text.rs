//! The shared text on this node: one replica of the CRDT document
//! ([`SharedText`]), the local sockets that share it, and its storage.
//!
//! Two kinds of peers:
//! * Yjs peers (`auth.text = "yjs"`) speak the Yjs sync protocol over
//!   `text_sync` and get every update but their own.
//! * Seed peers (the seed's page, Flask-style clients, anything without it)
//!   write the whole text with `text_update_request`; each has a
//!   [`Shadow`], so its write is merged rather than replacing the text,
//!   and gets `text_update {text}` with the merged text after every change
//!   (after its own only when the merge differs from what it wrote).
//!
//! Every change is applied and sent to the local peers under one lock, so
//! each peer sees the changes in the order the document took them. Then it
//! is stored (a row in SQLite, or an entry of a Redis stream that every
//! node follows and applies, sending it to its own peers). The stored log
//! is compacted into a snapshot every [`COMPACT_EVERY`] updates.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use pushdesk_text::sync::Refused;
use pushdesk_text::{Shadow, SharedText, SyncMessage, TextError, answer};
use tracing::{debug, warn};

use crate::store::{Store, StoreError, TextMark};

/// The log is folded into a snapshot after this many stored updates.
pub const COMPACT_EVERY: usize = 500;

/// What the hub sends one peer.
pub enum Out<'a> {
    /// A sync message (`text_sync`), to a Yjs peer.
    Sync(Bytes),
    /// The whole text (`text_update`), to a seed peer.
    Text(&'a str),
}

/// Sends to one socket (socketioxide's emit: it queues, never blocks).
pub type Sink = Box<dyn Fn(Out<'_>) + Send + Sync>;

enum Kind {
    Yjs,
    Seed(Box<Shadow>),
}

struct Peer {
    kind: Kind,
    sink: Sink,
}

struct Inner {
    doc: SharedText,
    peers: HashMap<String, Peer>,
}

/// The shared text of this node (see the [module documentation](self)).
pub struct TextHub {
    inner: Mutex<Inner>,
    store: Store,
    max_bytes: usize,
    stored_since_compaction: AtomicUsize,
    /// The newest stored update this replica is known to hold (everything
    /// up to it can be folded into a snapshot of it).
    folded: Mutex<Option<TextMark>>,
    /// Whether another process also writes the log (Redis): then only
    /// what the watch has delivered counts as folded.
    watched: bool,
}

impl std::fmt::Debug for TextHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextHub")
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// What [`TextHub::sync`] did.
pub struct Synced {
    /// Messages for the sender, in order.
    pub replies: Vec<Bytes>,
    /// The update to store ([`TextHub::store_update`]), if it brought anything.
    pub update: Option<Vec<u8>>,
}

impl TextHub {
    /// Loads the document from `store` (a text stored by a build before
    /// the CRDT becomes its first edit) and, with Redis, starts following
    /// the other nodes' edits.
    pub async fn load(store: Store, max_bytes: usize) -> Result<Arc<Self>, StoreError> {
        let (updates, mark) = store.text_log().await?;
        let mut doc = SharedText::new();
        for (i, update) in updates.iter().enumerate() {
            if let Err(e) = doc.apply(update) {
                warn!(index = i, error = %e, "skipping an undecodable stored text update");
            }
        }
        let watch = store.watch_text(mark.clone());
        let hub = Arc::new(Self {
            inner: Mutex::new(Inner {
                doc,
                peers: HashMap::new(),
            }),
            watched: watch.is_some(),
            folded: Mutex::new(Some(mark)),
            stored_since_compaction: AtomicUsize::new(updates.len()),
            store,
            max_bytes,
        });
        if updates.is_empty() {
            let legacy = hub.store.text().await?;
            if !legacy.is_empty() {
                let update = hub.lock().doc.set(&legacy);
                hub.store_update(update).await?;
            }
        }
        if let Some(mut watch) = watch {
            let weak = Arc::downgrade(&hub);
            tokio::spawn(async move {
                while let Some((update, mark)) = watch.recv().await {
                    let Some(hub) = weak.upgrade() else { return };
                    hub.remote(&update, mark);
                }
            });
        }
        Ok(hub)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The text as it stands.
    pub fn text(&self) -> String {
        self.lock().doc.text()
    }

    /// The document, compacted (tests, benchmarks).
    pub fn snapshot(&self) -> Vec<u8> {
        self.lock().doc.snapshot()
    }

    /// Adds a peer and sends it its first message: a Yjs peer the hub's
    /// step 1, a seed peer the text (which its shadow starts from).
    pub fn join(&self, sid: &str, yjs: bool, sink: Sink) {
        let mut inner = self.lock();
        let kind = if yjs {
            match SyncMessage::Step1(inner.doc.state_vector()).encode() {
                Ok(step1) => sink(Out::Sync(Bytes::from(step1))),
                Err(e) => warn!(error = %e, "encoding the hub's step 1 failed"),
            }
            Kind::Yjs
        } else {
            let text = inner.doc.text();
            sink(Out::Text(&text));
            Kind::Seed(Box::new(Shadow::new(&inner.doc)))
        };
        inner.peers.insert(sid.to_owned(), Peer { kind, sink });
    }

    /// Removes a peer.
    pub fn leave(&self, sid: &str) {
        self.lock().peers.remove(sid);
    }

    /// Handles one `text_sync` message from `sid`. Store the update it
    /// returns before acknowledging.
    pub fn sync(&self, sid: &str, message: &[u8], may_edit: bool) -> Result<Synced, Refused> {
        let message = SyncMessage::decode(message).map_err(Refused::Bad)?;
        let mut inner = self.lock();
        let answer = answer(&mut inner.doc, &message, may_edit, self.max_bytes)?;
        if let Some(update) = &answer.update {
            fan_out(&mut inner, Some(sid), update, answer.changed, false);
        }
        Ok(Synced {
            replies: answer.replies.into_iter().map(Bytes::from).collect(),
            update: answer.update,
        })
    }

    /// Merges seed peer `sid`'s write of the whole text. Returns the update
    /// to store (`None`: nothing changed). On a refusal the peer is sent
    /// the text as it stands.
    pub fn seed_write(&self, sid: &str, text: &str) -> Result<Option<Vec<u8>>, TextError> {
        let mut inner = self.lock();
        let Inner { doc, peers } = &mut *inner;
        let now = Instant::now();
        let shadow = match peers.get_mut(sid) {
            Some(Peer {
                kind: Kind::Seed(shadow),
                ..
            }) => shadow,
            // A write before the greeting: its base is the document now.
            _ => {
                peers.insert(
                    sid.to_owned(),
                    Peer {
                        kind: Kind::Seed(Box::new(Shadow::new(doc))),
                        sink: Box::new(|_| {}),
                    },
                );
                match peers.get_mut(sid) {
                    Some(Peer {
                        kind: Kind::Seed(shadow),
                        ..
                    }) => shadow,
                    _ => return Ok(None),
                }
            }
        };
        let result = shadow.write(doc, text, now, self.max_bytes);
        if let Ok(merged) = &result {
            debug!(sid, wrote = ?text, merged = ?merged.text, echo = merged.echo, update = merged.update.len(), "seed write");
        }
        match result {
            Ok(merged) if merged.update.is_empty() => {
                // Nothing new, but the writer may be out of step (it wrote
                // on a text older than one on its way to it).
                if merged.echo
                    && let Some(Peer {
                        kind: Kind::Seed(shadow),
                        sink,
                    }) = peers.get_mut(sid)
                {
                    shadow.sent(doc, now);
                    sink(Out::Text(&merged.text));
                }
                Ok(None)
            }
            Ok(merged) => {
                fan_out(&mut inner, Some(sid), &merged.update, true, merged.echo);
                Ok(Some(merged.update))
            }
            Err(e) => {
                let current = doc.text();
                if let Some(peer) = peers.get(sid) {
                    (peer.sink)(Out::Text(&current));
                }
                Err(e)
            }
        }
    }

    /// Stores an update this node applied (after [`TextHub::sync`] or
    /// [`TextHub::seed_write`]), compacting the log now and then.
    pub async fn store_update(&self, update: Vec<u8>) -> Result<(), StoreError> {
        let mark = self.store.append_text(update).await?;
        if !self.watched {
            *self.folded.lock().unwrap_or_else(PoisonError::into_inner) = Some(mark);
        }
        if self.stored_since_compaction.fetch_add(1, Ordering::Relaxed) + 1 >= COMPACT_EVERY {
            self.compact().await;
        }
        Ok(())
    }

    /// Folds the stored log into one snapshot, and stores the plain text
    /// beside it (for `sqlite3` and older builds; not on every keystroke).
    pub async fn compact(&self) {
        let Some(upto) = self
            .folded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        else {
            return;
        };
        // Taken after `upto` was applied: it holds everything up to it.
        let (snapshot, text) = {
            let inner = self.lock();
            (inner.doc.snapshot(), inner.doc.text())
        };
        match self.store.compact_text(upto, snapshot).await {
            Ok(()) => self.stored_since_compaction.store(0, Ordering::Relaxed),
            Err(e) => warn!(error = %e, "compacting the stored text failed; will retry"),
        }
        if let Err(e) = self.store.set_text(&text).await {
            warn!(error = %e, "storing the plain text failed");
        }
    }

    /// An update stored by a node (with Redis: any node, this one included).
    fn remote(&self, update: &[u8], mark: TextMark) {
        {
            let mut inner = self.lock();
            let before = inner.doc.state_vector();
            match inner.doc.apply(update) {
                Ok(changed) if changed || inner.doc.state_vector() != before => {
                    fan_out(&mut inner, None, update, changed, false);
                }
                Ok(_) => {}
                Err(e) => debug!(error = %e, "skipping an undecodable text update from the store"),
            }
        }
        *self.folded.lock().unwrap_or_else(PoisonError::into_inner) = Some(mark);
        self.stored_since_compaction.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sends `update` to every Yjs peer but `origin`, and the text (when it
/// `changed`) to every seed peer but `origin` (unless `echo`).
fn fan_out(inner: &mut Inner, origin: Option<&str>, update: &[u8], changed: bool, echo: bool) {
    let Inner { doc, peers } = inner;
    let message = match SyncMessage::Update(update.to_vec()).encode() {
        Ok(m) => Bytes::from(m),
        Err(e) => {
            warn!(error = %e, "encoding a text update failed");
            return;
        }
    };
    let text = if changed { Some(doc.text()) } else { None };
    let now = Instant::now();
    for (sid, peer) in peers.iter_mut() {
        let own = origin == Some(sid.as_str());
        match &mut peer.kind {
            Kind::Yjs if !own => (peer.sink)(Out::Sync(message.clone())),
            Kind::Seed(shadow) if !own || echo => {
                if let Some(text) = &text {
                    shadow.sent(doc, now);
                    (peer.sink)(Out::Text(text));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::Retention;

    fn collect() -> (Sink, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let sink: Sink = Box::new(move |out| {
            let line = match out {
                Out::Sync(_) => "sync".to_owned(),
                Out::Text(t) => format!("text:{t}"),
            };
            s.lock().unwrap().push(line);
        });
        (sink, seen)
    }

    /// Edits from a Yjs peer, stored one by one, past several compactions;
    /// a restart loads the same text from a log that stayed short.
    #[tokio::test]
    async fn the_stored_log_is_compacted_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_local(dir.path(), Retention::default())
            .await
            .unwrap();
        let hub = TextHub::load(store.clone(), 64 * 1024).await.unwrap();
        let (sink, seen) = collect();
        hub.join("seed", false, sink);
        let mut client = SharedText::new();
        let edits = 2 * COMPACT_EVERY + 7;
        for i in 0..edits {
            let update = client.set(&format!("line {i}\n{}", "x".repeat(i % 7)));
            let message = SyncMessage::Update(update).encode().unwrap();
            let synced = hub.sync("yjs", &message, true).unwrap();
            hub.store_update(synced.update.unwrap()).await.unwrap();
        }
        let want = client.text();
        assert_eq!(hub.text(), want);
        // The seed peer got its first text and then every change.
        assert_eq!(seen.lock().unwrap().len(), edits + 1);
        hub.compact().await;
        let (log, _) = store.text_log().await.unwrap();
        assert_eq!(log.len(), 1, "one snapshot after compacting");
        drop(hub);
        let again = TextHub::load(store, 64 * 1024).await.unwrap();
        assert_eq!(again.text(), want);
        // What is stored is no bigger than the document itself.
        let stored: usize = log.iter().map(Vec::len).sum();
        assert!(
            stored <= again.snapshot().len() + 64,
            "{stored} bytes stored"
        );
    }

    /// A text stored before the CRDT becomes the document.
    #[tokio::test]
    async fn a_plain_text_from_an_older_build_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_local(dir.path(), Retention::default())
            .await
            .unwrap();
        store.set_text("from before 日本").await.unwrap();
        let hub = TextHub::load(store.clone(), 64 * 1024).await.unwrap();
        assert_eq!(hub.text(), "from before 日本");
        drop(hub);
        let hub = TextHub::load(store, 64 * 1024).await.unwrap();
        assert_eq!(hub.text(), "from before 日本");
    }

    /// A seed write that would make the text too long is refused, and the
    /// writer is sent the text as it stands.
    #[tokio::test]
    async fn an_over_long_seed_write_is_refused_and_the_writer_resynced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_local(dir.path(), Retention::default())
            .await
            .unwrap();
        let hub = TextHub::load(store, 16).await.unwrap();
        let (sink, seen) = collect();
        hub.join("w", false, sink);
        assert!(hub.seed_write("w", "short").unwrap().is_some());
        assert!(hub.seed_write("w", "far too long for sixteen").is_err());
        assert_eq!(hub.text(), "short");
        assert_eq!(seen.lock().unwrap().last().unwrap(), "text:short");
    }
}
