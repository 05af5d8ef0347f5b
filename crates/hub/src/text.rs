//! The shared text on this node: one replica of the CRDT document with
//! its epochs ([`Epochs`]), the local sockets that share it, and its storage.
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
//! is stored as a [`Record`] of the log (a row in SQLite, or an entry of a
//! Redis stream that every node follows and applies, sending it to its own
//! peers). Every [`TextConfig::compact_every`] entries the log is folded
//! into a snapshot; when the document has outgrown its text
//! ([`CutPolicy`]) it is first *cut* into a new epoch (see
//! [`pushdesk_text::epoch`]): the cut is an entry of the log, stored only
//! if no other entry came first, and each node that applies it sends its
//! Yjs peers `text_reset`; they answer with `text_rebase`, and what
//! reaches the hub in an old epoch is rebased, in log order, so that every
//! node (and a restarted one) makes the same updates.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use pushdesk_text::sync::Refused;
use pushdesk_text::{
    Applied, CutPolicy, Epoch, Epochs, Rebase, Record, Reset, Shadow, SyncMessage, TextError,
    answer,
};
use tracing::{debug, info, warn};

use crate::store::{Store, StoreError, TextMark};

/// How long a rebased edit stored in Redis may take to come back through
/// the watch before the sender is acked anyway.
const REBASE_APPLIED: std::time::Duration = std::time::Duration::from_secs(5);

/// A cut waits until every peer of this node has moved to the current
/// epoch (sent its rebase) and no edit of an older epoch waits to be
/// stored, or this long after the last cut: so that cuts never outrun the
/// peers that are online (each one's edits reach the hub at most one cut
/// late, well within [`pushdesk_text::MAX_CUTS`]), and a peer that never
/// answers does not stop them for good.
const CUT_WAITS_FOR_PEERS: std::time::Duration = std::time::Duration::from_secs(30);

/// How the shared text is kept.
#[derive(Debug, Clone, Copy)]
pub struct TextConfig {
    /// The longest text, in UTF-8 bytes.
    pub max_bytes: usize,
    /// The log is folded into a snapshot after this many stored entries.
    pub compact_every: usize,
    /// When a compaction first cuts the document into a new epoch.
    pub cut: CutPolicy,
}

impl Default for TextConfig {
    fn default() -> Self {
        Self {
            max_bytes: pushdesk_hub_model::limits::MAX_TEXT_BYTES,
            compact_every: 500,
            cut: CutPolicy::default(),
        }
    }
}

/// What the hub sends one peer.
pub enum Out<'a> {
    /// A sync message (`text_sync`), to a Yjs peer.
    Sync(Bytes),
    /// The whole text (`text_update`), to a seed peer.
    Text(&'a str),
    /// A new epoch's document ([`Reset`], `text_reset`), to a Yjs peer.
    Reset(Bytes),
}

/// Sends to one socket (socketioxide's emit: it queues, never blocks).
pub type Sink = Box<dyn Fn(Out<'_>) + Send + Sync>;

enum Kind {
    /// The epoch its messages are of (the one it moves from until its
    /// `text_rebase` says it moved).
    Yjs(Epoch),
    Seed(Box<Shadow>),
}

struct Peer {
    kind: Kind,
    sink: Sink,
}

struct Inner {
    epochs: Epochs,
    peers: HashMap<String, Peer>,
    /// The newest stored entry this replica has applied (everything up to
    /// it can be folded into a snapshot of this state).
    folded: Option<TextMark>,
    /// When the document was last cut (here or, with Redis, by any node).
    last_cut: Option<Instant>,
    /// Updates handed out to be stored ([`TextHub::store_update`]) and not
    /// stored yet, by epoch.
    pending: HashMap<Epoch, usize>,
}

impl Inner {
    /// An update of `epoch` is on its way to the store.
    fn hand_out(&mut self, epoch: Epoch) {
        *self.pending.entry(epoch).or_default() += 1;
    }

    /// Whether a cut now keeps every edit within reach: every peer has
    /// moved to the current epoch and nothing of an older one waits to be
    /// stored, so whatever is on its way is at most one cut late.
    fn ready_to_cut(&self) -> bool {
        let current = self.epochs.epoch();
        self.peers
            .values()
            .all(|p| !matches!(p.kind, Kind::Yjs(e) if e != current))
            && self.pending.keys().all(|e| *e == current)
    }
}

/// The shared text of this node (see the [module documentation](self)).
pub struct TextHub {
    inner: Mutex<Inner>,
    store: Store,
    config: TextConfig,
    stored_since_compaction: AtomicUsize,
    /// With the local store: appends, and the rebases and cuts that follow
    /// them, one at a time, so they are applied in the log's order.
    order: tokio::sync::Mutex<()>,
    /// Whether another process also writes the log (Redis): then entries
    /// are applied as the watch delivers them, in the stream's order.
    watched: bool,
    /// With Redis: the newest entry the watch has applied.
    applied: tokio::sync::watch::Sender<Option<TextMark>>,
}

impl std::fmt::Debug for TextHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextHub")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What [`TextHub::sync`] did.
#[derive(Default)]
pub struct Synced {
    /// Messages for the sender, in order.
    pub replies: Vec<Bytes>,
    /// The update to store ([`TextHub::store_update`]) and its epoch, if it
    /// brought anything.
    pub update: Option<(Epoch, Vec<u8>)>,
}

/// Applies one stored entry to `epochs`.
fn replay(epochs: &mut Epochs, bytes: &[u8]) -> Result<(), TextError> {
    match Record::decode(bytes)? {
        Record::Snapshot { epoch, doc, cuts } => *epochs = Epochs::restore(epoch, &doc, &cuts)?,
        Record::Update { epoch, update } => {
            epochs.apply(epoch, &update)?;
        }
        Record::Cut { from, to, doc } => {
            epochs.cut(from, to, &doc)?;
        }
    }
    Ok(())
}

impl TextHub {
    /// Loads the document from `store` (a text stored by a build before
    /// the CRDT becomes its first edit) and, with Redis, starts following
    /// the other nodes' edits.
    pub async fn load(store: Store, config: TextConfig) -> Result<Arc<Self>, StoreError> {
        let (entries, mark) = store.text_log().await?;
        let mut epochs = Epochs::new();
        for (i, entry) in entries.iter().enumerate() {
            if let Err(e) = replay(&mut epochs, entry) {
                warn!(index = i, error = %e, "skipping a stored text entry that does not apply");
            }
        }
        let watch = store.watch_text(mark.clone());
        let hub = Arc::new(Self {
            inner: Mutex::new(Inner {
                epochs,
                peers: HashMap::new(),
                folded: Some(mark),
                last_cut: None,
                pending: HashMap::new(),
            }),
            watched: watch.is_some(),
            applied: tokio::sync::watch::Sender::new(None),
            stored_since_compaction: AtomicUsize::new(entries.len()),
            order: tokio::sync::Mutex::new(()),
            store,
            config,
        });
        if entries.is_empty() {
            let legacy = hub.store.text().await?;
            if !legacy.is_empty() {
                let (epoch, update) = {
                    let mut inner = hub.lock();
                    (inner.epochs.epoch(), inner.epochs.doc_mut().set(&legacy))
                };
                hub.store_update(epoch, update).await?;
            }
        }
        if let Some(mut watch) = watch {
            let weak = Arc::downgrade(&hub);
            tokio::spawn(async move {
                while let Some((entry, mark)) = watch.recv().await {
                    let Some(hub) = weak.upgrade() else { return };
                    hub.remote(&entry, mark);
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
        self.lock().epochs.doc().text()
    }

    /// The document's current epoch (`welcome.text_epoch`).
    pub fn epoch(&self) -> Epoch {
        self.lock().epochs.epoch()
    }

    /// The document, compacted (tests, benchmarks).
    pub fn snapshot(&self) -> Vec<u8> {
        self.lock().epochs.doc().snapshot()
    }

    /// Adds a peer and sends it its first message: a Yjs peer the hub's
    /// step 1, or, when its document is of an older `epoch`, the reset to
    /// the current one; a seed peer the text (which its shadow starts from).
    pub fn join(&self, sid: &str, yjs: bool, epoch: Option<Epoch>, sink: Sink) {
        let mut inner = self.lock();
        let kind = if yjs {
            let current = inner.epochs.epoch();
            let theirs = epoch.unwrap_or(current);
            if theirs == current {
                match SyncMessage::Step1(inner.epochs.doc().state_vector()).encode() {
                    Ok(step1) => sink(Out::Sync(Bytes::from(step1))),
                    Err(e) => warn!(error = %e, "encoding the hub's step 1 failed"),
                }
            } else {
                let reset = Reset {
                    epoch: current,
                    base: inner.epochs.base_for(theirs),
                    doc: inner.epochs.doc().snapshot(),
                };
                sink(Out::Reset(Bytes::from(reset.encode())));
            }
            Kind::Yjs(theirs)
        } else {
            let text = inner.epochs.doc().text();
            sink(Out::Text(&text));
            Kind::Seed(Box::new(Shadow::new(inner.epochs.doc())))
        };
        inner.peers.insert(sid.to_owned(), Peer { kind, sink });
    }

    /// Removes a peer.
    pub fn leave(&self, sid: &str) {
        self.lock().peers.remove(sid);
    }

    /// Handles one `text_sync` message from `sid`. Store the update it
    /// returns before acknowledging. A message of an older epoch than the
    /// document's is not applied here: its update is rebased once stored.
    pub fn sync(&self, sid: &str, message: &[u8], may_edit: bool) -> Result<Synced, Refused> {
        let message = SyncMessage::decode(message).map_err(Refused::Bad)?;
        let mut inner = self.lock();
        let current = inner.epochs.epoch();
        let theirs = match inner.peers.get(sid) {
            Some(Peer {
                kind: Kind::Yjs(epoch),
                ..
            }) => *epoch,
            _ => current,
        };
        if theirs != current {
            return match message {
                SyncMessage::Update(update) | SyncMessage::Step2(update) if may_edit => {
                    if !inner.epochs.epochs().contains(&theirs) {
                        return Err(Refused::Bad(TextError::UnknownEpoch { epoch: theirs }));
                    }
                    inner.hand_out(theirs);
                    Ok(Synced {
                        replies: Vec::new(),
                        update: Some((theirs, update)),
                    })
                }
                SyncMessage::Update(_) => Err(Refused::NoRight),
                // Its step 1 waits for the reset on its way; a reader's
                // step 2 brings nothing to take.
                _ => Ok(Synced::default()),
            };
        }
        let answer = answer(
            inner.epochs.doc_mut(),
            &message,
            may_edit,
            self.config.max_bytes,
        )?;
        if let Some(update) = &answer.update {
            fan_out(&mut inner, Some(sid), update, answer.changed, false);
        }
        Ok(Synced {
            replies: answer.replies.into_iter().map(Bytes::from).collect(),
            update: answer.update.map(|u| {
                inner.hand_out(current);
                (current, u)
            }),
        })
    }

    /// Handles a `text_rebase` from `sid`: from now on its messages are of
    /// the epoch it moved to. Returns what to store (its old edits, to be
    /// rebased), if anything.
    pub fn rebase(
        &self,
        sid: &str,
        message: &[u8],
        may_edit: bool,
    ) -> Result<Option<(Epoch, Vec<u8>)>, Refused> {
        let rebase = Rebase::decode(message).map_err(Refused::Bad)?;
        let mut inner = self.lock();
        // Only forward: a rebase sent again after a reconnect may arrive
        // after the one the peer made since.
        let order = inner.epochs.epochs();
        let rank = |e: Epoch| order.iter().position(|x| *x == e);
        if let Some(Peer {
            kind: Kind::Yjs(epoch),
            ..
        }) = inner.peers.get_mut(sid)
            && rank(rebase.to).is_some()
            && rank(rebase.to) >= rank(*epoch)
        {
            *epoch = rebase.to;
        }
        if !may_edit || rebase.update.is_empty() || rebase.from == inner.epochs.epoch() {
            return Ok(None);
        }
        if !inner.epochs.epochs().contains(&rebase.from) {
            return Err(Refused::Bad(TextError::UnknownEpoch { epoch: rebase.from }));
        }
        inner.hand_out(rebase.from);
        Ok(Some((rebase.from, rebase.update)))
    }

    /// Merges seed peer `sid`'s write of the whole text. Returns the update
    /// to store and its epoch (`None`: nothing changed). On a refusal the
    /// peer is sent the text as it stands.
    pub fn seed_write(&self, sid: &str, text: &str) -> Result<Option<(Epoch, Vec<u8>)>, TextError> {
        let mut inner = self.lock();
        let epoch = inner.epochs.epoch();
        let Inner { epochs, peers, .. } = &mut *inner;
        let doc = epochs.doc_mut();
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
        let result = shadow.write(doc, text, now, self.config.max_bytes);
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
                inner.hand_out(epoch);
                Ok(Some((epoch, merged.update)))
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

    /// Stores an update made on `epoch` (after [`TextHub::sync`],
    /// [`TextHub::rebase`] or [`TextHub::seed_write`]); one of an older
    /// epoch is rebased and sent to every peer, its sender too, before
    /// this returns (so before the sender's ack: a peer that moved to a
    /// new epoch shows it once its rebase is acked, and it must hold its
    /// own edits by then). Compacts the log now and then.
    pub async fn store_update(&self, epoch: Epoch, update: Vec<u8>) -> Result<(), StoreError> {
        let result = self.append_update(epoch, update).await;
        self.stored(epoch);
        result?;
        if self.stored_since_compaction.fetch_add(1, Ordering::Relaxed) + 1
            >= self.config.compact_every
        {
            self.compact().await;
        }
        Ok(())
    }

    async fn append_update(&self, epoch: Epoch, update: Vec<u8>) -> Result<(), StoreError> {
        let record = Record::Update {
            epoch,
            update: update.clone(),
        }
        .encode();
        if self.watched {
            // Applied when the watch delivers it, in the stream's order.
            let rebased = epoch != self.epoch();
            let mut applied = self.applied.subscribe();
            let mark = self.store.append_text(record).await?;
            if rebased {
                let reached = applied.wait_for(|m| m.as_ref().is_some_and(|m| m.reached(&mark)));
                if tokio::time::timeout(REBASE_APPLIED, reached).await.is_err() {
                    warn!("a rebased text edit was not applied from Redis in time");
                }
            }
        } else {
            let _order = self.order.lock().await;
            let mark = self.store.append_text(record).await?;
            let mut inner = self.lock();
            if epoch != inner.epochs.epoch() {
                apply_stored(&mut inner, epoch, &update);
            }
            inner.folded = Some(mark);
        }
        Ok(())
    }

    /// An update handed out (or one the hub made itself) was stored, or
    /// failed to be.
    fn stored(&self, epoch: Epoch) {
        let mut inner = self.lock();
        if let Some(n) = inner.pending.get_mut(&epoch) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                inner.pending.remove(&epoch);
            }
        }
    }

    /// Folds the stored log into one snapshot, after cutting the document
    /// into a new epoch when it has outgrown its text, and stores the
    /// plain text beside it (for `sqlite3` and older builds; not on every
    /// keystroke).
    pub async fn compact(&self) {
        let _order = if self.watched {
            None
        } else {
            Some(self.order.lock().await)
        };
        let cut = {
            let inner = self.lock();
            let Some(upto) = inner.folded.clone() else {
                return;
            };
            let doc = inner.epochs.doc();
            let snapshot = doc.snapshot();
            let waited = inner
                .last_cut
                .is_none_or(|at| at.elapsed() >= CUT_WAITS_FOR_PEERS);
            (self.config.cut.outgrown(snapshot.len(), doc.text().len())
                && (inner.ready_to_cut() || waited))
                .then(|| {
                    let (from, to) = (inner.epochs.epoch(), inner.epochs.next_epoch());
                    (upto, from, to, snapshot)
                })
        };
        if let Some((upto, from, to, snapshot)) = cut {
            let record = Record::Cut {
                from,
                to,
                doc: snapshot.clone(),
            }
            .encode();
            match self.store.append_text_after(upto, record).await {
                Ok(Some(mark)) => {
                    info!(
                        from,
                        to,
                        bytes = snapshot.len(),
                        "shared text: cut into a new epoch"
                    );
                    if self.watched {
                        // Every node, this one too, applies it from the
                        // stream; the snapshot waits for the next round.
                        return;
                    }
                    let mut inner = self.lock();
                    apply_cut(&mut inner, from, to, &snapshot);
                    inner.folded = Some(mark);
                }
                Ok(None) => {
                    debug!("shared text: an edit came before the cut; cutting later");
                    return;
                }
                Err(e) => {
                    warn!(error = %e, "cutting the stored text failed; will retry");
                    return;
                }
            }
        }
        let (upto, record, text) = {
            let inner = self.lock();
            let Some(upto) = inner.folded.clone() else {
                return;
            };
            let (epoch, doc, cuts) = inner.epochs.stored();
            let text = inner.epochs.doc().text();
            (upto, Record::Snapshot { epoch, doc, cuts }.encode(), text)
        };
        match self.store.compact_text(upto, record).await {
            Ok(()) => self.stored_since_compaction.store(0, Ordering::Relaxed),
            Err(e) => warn!(error = %e, "compacting the stored text failed; will retry"),
        }
        if let Err(e) = self.store.set_text(&text).await {
            warn!(error = %e, "storing the plain text failed");
        }
    }

    /// An entry stored by a node (with Redis: any node, this one included).
    fn remote(&self, entry: &[u8], mark: TextMark) {
        self.apply_remote(entry, mark.clone());
        self.applied.send_replace(Some(mark));
    }

    fn apply_remote(&self, entry: &[u8], mark: TextMark) {
        let mut inner = self.lock();
        match Record::decode(entry) {
            Ok(Record::Update { epoch, update }) => apply_stored(&mut inner, epoch, &update),
            Ok(Record::Cut { from, to, doc }) => apply_cut(&mut inner, from, to, &doc),
            Ok(Record::Snapshot { .. }) => debug!("a snapshot in the text log: skipped"),
            Err(e) => debug!(error = %e, "skipping an undecodable text log entry"),
        }
        inner.folded = Some(mark);
        drop(inner);
        self.stored_since_compaction.fetch_add(1, Ordering::Relaxed);
    }
}

/// Applies a stored update of `epoch` (rebased when older than the
/// document's) and sends what it brought to the peers.
fn apply_stored(inner: &mut Inner, epoch: Epoch, update: &[u8]) {
    match inner.epochs.apply(epoch, update) {
        Ok(Applied::Update { update, changed }) => fan_out(inner, None, &update, changed, false),
        Ok(Applied::Nothing) => {}
        Err(e) => debug!(epoch, error = %e, "a stored text update does not apply"),
    }
}

/// Cuts the document into epoch `to` and tells the peers: each Yjs peer
/// gets the reset (it answers with a rebase), each seed peer's shadow
/// starts over from the new document (its text is the same).
fn apply_cut(inner: &mut Inner, from: Epoch, to: Epoch, snapshot: &[u8]) {
    match inner.epochs.cut(from, to, snapshot) {
        Ok(true) => {}
        Ok(false) => {
            debug!(from, to, "a stale cut of the text: skipped");
            return;
        }
        Err(e) => {
            warn!(error = %e, "a cut of the text does not apply");
            return;
        }
    }
    inner.last_cut = Some(Instant::now());
    let reset = Bytes::from(
        Reset {
            epoch: to,
            base: inner.epochs.base_for(from),
            doc: inner.epochs.doc().snapshot(),
        }
        .encode(),
    );
    let Inner { epochs, peers, .. } = inner;
    for peer in peers.values_mut() {
        match &mut peer.kind {
            Kind::Yjs(_) => (peer.sink)(Out::Reset(reset.clone())),
            Kind::Seed(shadow) => **shadow = Shadow::new(epochs.doc()),
        }
    }
}

/// Sends `update` to every Yjs peer but `origin`, and the text (when it
/// `changed`) to every seed peer but `origin` (unless `echo`).
fn fan_out(inner: &mut Inner, origin: Option<&str>, update: &[u8], changed: bool, echo: bool) {
    let Inner { epochs, peers, .. } = inner;
    let doc = epochs.doc();
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
            Kind::Yjs(_) if !own => (peer.sink)(Out::Sync(message.clone())),
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
    use pushdesk_text::SharedText;

    fn collect() -> (Sink, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let sink: Sink = Box::new(move |out| {
            let line = match out {
                Out::Sync(_) => "sync".to_owned(),
                Out::Text(t) => format!("text:{t}"),
                Out::Reset(_) => "reset".to_owned(),
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
        let hub = TextHub::load(store.clone(), TextConfig::default())
            .await
            .unwrap();
        let (sink, seen) = collect();
        hub.join("seed", false, None, sink);
        let mut client = SharedText::new();
        let edits = 2 * TextConfig::default().compact_every + 7;
        for i in 0..edits {
            let update = client.set(&format!("line {i}\n{}", "x".repeat(i % 7)));
            let message = SyncMessage::Update(update).encode().unwrap();
            let synced = hub.sync("yjs", &message, true).unwrap();
            let (epoch, update) = synced.update.unwrap();
            hub.store_update(epoch, update).await.unwrap();
        }
        let want = client.text();
        assert_eq!(hub.text(), want);
        // The seed peer got its first text and then every change.
        assert_eq!(seen.lock().unwrap().len(), edits + 1);
        hub.compact().await;
        let (log, _) = store.text_log().await.unwrap();
        assert_eq!(log.len(), 1, "one snapshot after compacting");
        drop(hub);
        let again = TextHub::load(store, TextConfig::default()).await.unwrap();
        assert_eq!(again.text(), want);
        // What is stored is no bigger than the document itself.
        let stored: usize = log.iter().map(Vec::len).sum();
        assert!(
            stored <= again.snapshot().len() + 64,
            "{stored} bytes stored"
        );
    }

    /// Typing that deletes as much as it inserts: past the cut policy the
    /// document is cut into new epochs, so what is stored stays
    /// proportional to the text (the current document and the kept cuts),
    /// not to the number of edits. A Yjs peer is told of each cut, its edit
    /// sent on the old epoch is rebased once, and a restart loads the same
    /// text and epoch.
    #[tokio::test]
    async fn a_document_that_outgrows_its_text_is_cut_and_the_log_stays_small() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_local(dir.path(), Retention::default())
            .await
            .unwrap();
        let config = TextConfig {
            compact_every: 100,
            cut: CutPolicy {
                min_bytes: 4096,
                ratio: 4,
            },
            ..TextConfig::default()
        };
        let hub = TextHub::load(store.clone(), config).await.unwrap();
        let resets = Arc::new(Mutex::new(Vec::new()));
        let r = resets.clone();
        hub.join(
            "peer",
            true,
            None,
            Box::new(move |out| {
                if let Out::Reset(bytes) = out {
                    r.lock().unwrap().push(bytes.to_vec());
                }
            }),
        );
        let mut peer = SharedText::new();
        let mut peer_epoch = hub.epoch();
        let mut max_stored = 0;
        for i in 0..6000usize {
            // A line typed at the front, the oldest dropped at the back.
            let mut lines: Vec<String> = peer.text().lines().map(str::to_owned).collect();
            lines.insert(0, format!("line {i} {}", "x".repeat(i % 13)));
            lines.truncate(20);
            let update = peer.set(&lines.join("\n"));
            let message = SyncMessage::Update(update).encode().unwrap();
            if let Some((epoch, update)) = hub.sync("peer", &message, true).unwrap().update {
                hub.store_update(epoch, update).await.unwrap();
            }
            // The peer takes the resets it was sent, as a client does.
            let pending: Vec<Vec<u8>> = std::mem::take(&mut *resets.lock().unwrap());
            for bytes in pending {
                let reset = Reset::decode(&bytes).unwrap();
                let (doc, rebase) = reset.take(&peer, peer_epoch).unwrap();
                let rebase = rebase.encode();
                if let Some((epoch, update)) = hub.rebase("peer", &rebase, true).unwrap() {
                    hub.store_update(epoch, update).await.unwrap();
                }
                peer = doc;
                peer_epoch = reset.epoch;
            }
            if i % 500 == 0 {
                let (log, _) = store.text_log().await.unwrap();
                max_stored = max_stored.max(log.iter().map(Vec::len).sum::<usize>());
            }
        }
        assert_ne!(hub.epoch(), pushdesk_text::FIRST_EPOCH, "never cut");
        assert_eq!(peer_epoch, hub.epoch());
        let text = hub.text();
        assert_eq!(peer.text(), text);
        // The kept cuts and the current document, each at most about the
        // policy's bound, and the entries since the last compaction.
        let bound = (pushdesk_text::epoch::MAX_CUTS + 1) * 4 * 4096 + 100 * 1024;
        assert!(
            max_stored < bound,
            "{max_stored} bytes stored, bound {bound}"
        );
        // A single document of the same history, never cut, is far bigger.
        let mut uncut = SharedText::new();
        let mut lines: Vec<String> = Vec::new();
        for i in 0..6000usize {
            lines.insert(0, format!("line {i} {}", "x".repeat(i % 13)));
            lines.truncate(20);
            uncut.set(&lines.join("\n"));
        }
        assert!(
            uncut.snapshot().len() > 2 * max_stored,
            "{} uncut, {max_stored} stored",
            uncut.snapshot().len()
        );
        let epoch = hub.epoch();
        drop(hub);
        let again = TextHub::load(store, config).await.unwrap();
        assert_eq!(again.text(), text);
        assert_eq!(again.epoch(), epoch);
    }

    /// A peer naming an epoch the hub does not know (from before the kept
    /// cuts) is sent the document without a base: its old edits cannot be
    /// merged, and once its (empty) rebase says it moved, it edits as usual.
    /// A cut waits for the peers that are online: while one has not sent
    /// its rebase, compactions fold the log but do not cut again (the
    /// peer's edits would fall behind more cuts than are kept).
    #[tokio::test]
    async fn a_cut_waits_until_every_peer_has_moved_to_the_current_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_local(dir.path(), Retention::default())
            .await
            .unwrap();
        let config = TextConfig {
            compact_every: 2,
            cut: CutPolicy {
                min_bytes: 0,
                ratio: 1,
            },
            ..TextConfig::default()
        };
        let hub = TextHub::load(store, config).await.unwrap();
        let resets = Arc::new(Mutex::new(Vec::new()));
        let r = resets.clone();
        hub.join(
            "slow",
            true,
            Some(hub.epoch()),
            Box::new(move |out| {
                if let Out::Reset(bytes) = out {
                    r.lock().unwrap().push(bytes.to_vec());
                }
            }),
        );
        let mut writer = SharedText::new();
        let mut edit = async |hub: &TextHub, text: &str| {
            let message = SyncMessage::Update(writer.set(text)).encode().unwrap();
            if let Some((epoch, update)) = hub.sync("w", &message, true).unwrap().update {
                hub.store_update(epoch, update).await.unwrap();
            }
        };
        let first = hub.epoch();
        edit(&hub, "one").await;
        edit(&hub, "one two").await;
        let second = hub.epoch();
        assert_ne!(second, first, "the first compaction cuts");
        assert_eq!(resets.lock().unwrap().len(), 1);
        // The slow peer has not moved: more edits, more compactions, no cut.
        for i in 0..6 {
            edit(&hub, &format!("one two {i}")).await;
        }
        assert_eq!(hub.epoch(), second);
        assert_eq!(resets.lock().unwrap().len(), 1);
        // It moves (an empty rebase: nothing of its own); the next compaction cuts.
        let reset = Reset::decode(&resets.lock().unwrap()[0]).unwrap();
        let (_, rebase) = reset.take(&SharedText::new(), first).unwrap();
        let rebase = Rebase {
            update: Vec::new(),
            ..rebase
        };
        assert_eq!(hub.rebase("slow", &rebase.encode(), true).unwrap(), None);
        edit(&hub, "one two three").await;
        edit(&hub, "one two three four").await;
        assert_ne!(hub.epoch(), second);
        assert_eq!(resets.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_peer_on_an_unknown_epoch_starts_over_and_then_edits() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_local(dir.path(), Retention::default())
            .await
            .unwrap();
        let hub = TextHub::load(store, TextConfig::default()).await.unwrap();
        let mut writer = SharedText::new();
        let message = SyncMessage::Update(writer.set("kept")).encode().unwrap();
        let (epoch, update) = hub.sync("w", &message, true).unwrap().update.unwrap();
        hub.store_update(epoch, update).await.unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        hub.join(
            "stale",
            true,
            Some(12345),
            Box::new(move |out| {
                if let Out::Reset(bytes) = out {
                    g.lock().unwrap().push(bytes.to_vec());
                }
            }),
        );
        let reset = Reset::decode(&got.lock().unwrap()[0]).unwrap();
        assert_eq!(reset.base, None);
        let mut old = SharedText::new();
        old.set("lost");
        // Before its rebase, its edits are of the unknown epoch: refused.
        let early = SyncMessage::Update(old.set("lost!")).encode().unwrap();
        assert!(hub.sync("stale", &early, true).is_err());
        let (mut doc, rebase) = reset.take(&old, 12345).unwrap();
        assert!(rebase.update.is_empty());
        assert_eq!(doc.text(), "kept");
        assert_eq!(hub.rebase("stale", &rebase.encode(), true).unwrap(), None);
        let edit = SyncMessage::Update(doc.set("kept, then this"))
            .encode()
            .unwrap();
        let (epoch, update) = hub.sync("stale", &edit, true).unwrap().update.unwrap();
        hub.store_update(epoch, update).await.unwrap();
        assert_eq!(hub.text(), "kept, then this");
    }

    /// A text stored before the CRDT becomes the document.
    #[tokio::test]
    async fn a_plain_text_from_an_older_build_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_local(dir.path(), Retention::default())
            .await
            .unwrap();
        store.set_text("from before 日本").await.unwrap();
        let hub = TextHub::load(store.clone(), TextConfig::default())
            .await
            .unwrap();
        assert_eq!(hub.text(), "from before 日本");
        drop(hub);
        let hub = TextHub::load(store, TextConfig::default()).await.unwrap();
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
        let hub = TextHub::load(
            store,
            TextConfig {
                max_bytes: 16,
                ..TextConfig::default()
            },
        )
        .await
        .unwrap();
        let (sink, seen) = collect();
        hub.join("w", false, None, sink);
        assert!(hub.seed_write("w", "short").unwrap().is_some());
        assert!(hub.seed_write("w", "far too long for sixteen").is_err());
        assert_eq!(hub.text(), "short");
        assert_eq!(seen.lock().unwrap().last().unwrap(), "text:short");
    }
}
