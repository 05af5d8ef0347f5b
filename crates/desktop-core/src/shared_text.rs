//! [`LocalText`]: the core's replica of the shared text, so the app edits
//! it while the hub is away and merges on return, instead of overwriting.
//!
//! Towards the hub the core is a Yjs peer (`text_sync`, when the hub's
//! `welcome` says `text: "yjs"`). Towards the window it is a hub: the
//! webview writes the whole text (`send_text`) and the core merges each
//! write through a [`Shadow`], as the hub does for seed clients, then tells
//! the webview the merged text. The document is saved per hub in the
//! history database after each change, so edits survive a restart of the
//! app while offline. Pure: the core does the I/O.
//!
//! The hub cuts its document into a new epoch now and then (see
//! `pushdesk_text::epoch`): the replica keeps the epoch of its document
//! (sent as `auth.text_epoch`), takes a `text_reset` by moving to the new
//! document and keeping the `text_rebase` that carries its unsent edits
//! until the hub acknowledges it (sent again on every connect, and saved
//! with the document, so neither a dropped connection nor a restart loses
//! them; the hub takes the same rebase twice as once).

use std::time::{Duration, Instant};

use pushdesk_hub_model::limits;
use pushdesk_text::{
    Epoch, FIRST_EPOCH, Reset, Shadow, SharedText, SyncMessage, TextError, answer,
};
use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;

/// A text the core sends the window is drawn within this (a local socket
/// and a redraw), so a later write builds on it.
const VIEW_SETTLE: Duration = Duration::from_millis(300);

/// Starts a saved replica (its epoch, document and unacknowledged
/// rebases); a bare document was saved before epochs, in the first one.
const SAVED: &[u8] = b"\0PDL\x01";

/// The core's replica of one hub's shared text.
#[derive(Debug)]
pub struct LocalText {
    doc: SharedText,
    view: Shadow,
    /// The epoch of `doc` (`None`: never synced, it takes the hub's).
    epoch: Option<Epoch>,
    /// `text_rebase` messages sent and not yet acknowledged.
    rebases: Vec<Vec<u8>>,
}

/// What a window's write did.
#[derive(Debug, PartialEq, Eq)]
pub struct ViewWrite {
    /// The `text_sync` message to send the hub (`None`: nothing changed).
    pub message: Option<Vec<u8>>,
    /// The merged text, when it is not what the window wrote (send it back).
    pub merged: Option<String>,
}

/// What a message from the hub did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FromHub {
    /// Messages to send back, in order.
    pub replies: Vec<Vec<u8>>,
    /// The new text, when it changed (tell the window).
    pub text: Option<String>,
}

impl LocalText {
    /// A replica restored from what [`LocalText::saved`] gave (`None` or
    /// unreadable: empty).
    pub fn restore(saved: Option<&[u8]>) -> Self {
        let (doc, epoch, rebases) = saved
            .and_then(|bytes| decode_saved(bytes).ok())
            .unwrap_or_default();
        let view = Shadow::with_settle(&doc, VIEW_SETTLE);
        Self {
            doc,
            view,
            epoch,
            rebases,
        }
    }

    /// What to save: the epoch, the document and the unacknowledged rebases.
    pub fn saved(&self) -> Vec<u8> {
        let mut out = SAVED.to_vec();
        match self.epoch {
            Some(epoch) => {
                out.write_var(1u32);
                out.write_var(epoch);
            }
            None => out.write_var(0u32),
        }
        out.write_buf(self.doc.snapshot());
        out.write_var(self.rebases.len());
        for rebase in &self.rebases {
            out.write_buf(rebase);
        }
        out
    }

    /// The epoch of this replica's document, to name in `auth.text_epoch`.
    pub fn epoch(&self) -> Option<Epoch> {
        self.epoch
    }

    /// The hub's `welcome` named the epoch of its document: a replica that
    /// has none yet (never synced) is of that one.
    pub fn welcomed(&mut self, epoch: Option<Epoch>) {
        if self.epoch.is_none() {
            self.epoch = epoch;
        }
    }

    /// The `text_rebase` messages to send (again) on connecting, oldest
    /// first, before the step 1.
    pub fn rebases(&self) -> Vec<Vec<u8>> {
        self.rebases.clone()
    }

    /// The hub acknowledged (or refused for good) this `text_rebase`.
    pub fn rebase_done(&mut self, message: &[u8]) {
        self.rebases.retain(|r| r != message);
    }

    /// Takes a `text_reset`: the document becomes the hub's new one; returns
    /// the `text_rebase` to send (also kept until [`LocalText::rebase_done`])
    /// and the text now.
    pub fn from_reset(&mut self, message: &[u8]) -> Result<(Vec<u8>, String), TextError> {
        let reset = Reset::decode(message)?;
        let (doc, rebase) = reset.take(&self.doc, self.epoch.unwrap_or(FIRST_EPOCH))?;
        if reset.base.is_none() && self.doc.text() != doc.text() {
            tracing::warn!("the hub could not merge this replica's edits: its epoch is too old");
        }
        self.doc = doc;
        self.epoch = Some(reset.epoch);
        self.view = Shadow::with_settle(&self.doc, VIEW_SETTLE);
        let rebase = rebase.encode();
        self.rebases.push(rebase.clone());
        Ok((rebase, self.doc.text()))
    }

    /// The text as it stands here.
    pub fn text(&self) -> String {
        self.doc.text()
    }

    /// The step 1 to send the hub on each (re)connect.
    pub fn step1(&self) -> Result<Vec<u8>, TextError> {
        SyncMessage::Step1(self.doc.state_vector()).encode()
    }

    /// The window was sent the text (a snapshot, or after a change).
    pub fn shown(&mut self) {
        self.view.sent(&self.doc, Instant::now());
    }

    /// Merges the window's write of the whole text, made on `based_on`
    /// (the text it last drew or wrote, if it says).
    pub fn from_view(
        &mut self,
        text: &str,
        based_on: Option<&str>,
    ) -> Result<ViewWrite, TextError> {
        let merged = self.view.write_on(
            &mut self.doc,
            based_on,
            text,
            Instant::now(),
            limits::MAX_TEXT_BYTES,
        )?;
        if merged.echo {
            self.shown();
        }
        let message = if merged.update.is_empty() {
            None
        } else {
            Some(SyncMessage::Update(merged.update).encode()?)
        };
        Ok(ViewWrite {
            message,
            merged: merged.echo.then_some(merged.text),
        })
    }

    /// Handles a `text_sync` message from the hub.
    pub fn from_hub(&mut self, message: &[u8]) -> Result<FromHub, TextError> {
        let message = SyncMessage::decode(message)?;
        let answer = answer(&mut self.doc, &message, true, usize::MAX).map_err(|e| match e {
            pushdesk_text::Refused::Bad(e) => e,
            pushdesk_text::Refused::NoRight => TextError::Malformed {
                what: "sync message",
                reason: e.to_string(),
            },
        })?;
        let text = answer.changed.then(|| self.doc.text());
        if text.is_some() {
            self.shown();
        }
        Ok(FromHub {
            replies: answer.replies,
            text,
        })
    }
}

type Saved = (SharedText, Option<Epoch>, Vec<Vec<u8>>);

fn decode_saved(bytes: &[u8]) -> Result<Saved, TextError> {
    let Some(body) = bytes.strip_prefix(SAVED) else {
        let doc = SharedText::from_updates([bytes])?;
        return Ok((doc, Some(FIRST_EPOCH), Vec::new()));
    };
    let bad = |e: yrs::encoding::read::Error| TextError::Malformed {
        what: "saved shared text",
        reason: e.to_string(),
    };
    let mut r = Cursor::new(body);
    let epoch = match r.read_var::<u32>().map_err(bad)? {
        0 => None,
        _ => Some(r.read_var().map_err(bad)?),
    };
    let doc = r.read_buf().map_err(bad)?;
    let doc = if doc.is_empty() {
        SharedText::new()
    } else {
        SharedText::from_updates([doc])?
    };
    let count: usize = r.read_var().map_err(bad)?;
    let mut rebases = Vec::new();
    for _ in 0..count.min(64) {
        rebases.push(r.read_buf().map_err(bad)?.to_vec());
    }
    Ok((doc, epoch, rebases))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hub's side of the exchange, for the tests.
    fn hub_answers(hub: &mut SharedText, message: &[u8]) -> Vec<Vec<u8>> {
        let m = SyncMessage::decode(message).expect("decodes");
        answer(hub, &m, true, usize::MAX).expect("accepted").replies
    }

    #[test]
    fn edits_made_offline_merge_with_the_hubs_on_reconnect() {
        let mut hub = SharedText::new();
        hub.set("shared");
        let mut core = LocalText::restore(None);
        // Connected: the handshake.
        for reply in hub_answers(&mut hub, &core.step1().expect("step 1")) {
            assert_eq!(
                core.from_hub(&reply).expect("ok").text.as_deref(),
                Some("shared")
            );
        }
        // Offline: the window writes; the hub changes meanwhile.
        let write = core
            .from_view("shared, from the app", None)
            .expect("merges");
        assert!(write.message.is_some() && write.merged.is_none());
        let mut browser = hub.fork();
        hub.apply(&browser.set("browser: shared")).expect("applies");
        // Saved and restored (the app restarted while offline).
        let mut core = LocalText::restore(Some(&core.saved()));
        // Back: both step 1s.
        for reply in hub_answers(&mut hub, &core.step1().expect("step 1")) {
            core.from_hub(&reply).expect("ok");
        }
        let hub_step1 = SyncMessage::Step1(hub.state_vector())
            .encode()
            .expect("encodes");
        for reply in core.from_hub(&hub_step1).expect("ok").replies {
            hub_answers(&mut hub, &reply);
        }
        assert_eq!(hub.text(), "browser: shared, from the app");
        assert_eq!(core.text(), hub.text());
    }

    #[test]
    fn a_stale_window_write_does_not_undo_a_remote_edit() {
        let mut hub = SharedText::new();
        hub.set("one two");
        let mut core = LocalText::restore(Some(&hub.snapshot()));
        core.shown();
        // A remote edit reaches the core; the window, not yet redrawn, writes.
        let mut other = hub.fork();
        let remote = SyncMessage::Update(other.set("zero one two"))
            .encode()
            .expect("encodes");
        assert!(core.from_hub(&remote).expect("ok").text.is_some());
        let write = core.from_view("one two three", None).expect("merges");
        assert_eq!(write.merged.as_deref(), Some("zero one two three"));
    }

    #[test]
    fn clearing_a_text_shown_a_moment_ago_deletes_it() {
        let mut hub = SharedText::new();
        let mut core = LocalText::restore(None);
        let remote = SyncMessage::Update(hub.set("remote text"))
            .encode()
            .expect("encodes");
        core.from_hub(&remote).expect("ok");
        // The window has drawn it by now.
        std::thread::sleep(VIEW_SETTLE);
        let write = core.from_view("", None).expect("merges");
        assert!(write.message.is_some());
        assert_eq!(core.text(), "");
        // Or at once, when the window says what it cleared.
        let mut core = LocalText::restore(None);
        core.from_hub(&remote).expect("ok");
        let write = core.from_view("", Some("remote text")).expect("merges");
        assert!(write.message.is_some());
        assert_eq!(core.text(), "");
    }

    /// The hub cuts its document while the core has an edit it has not
    /// sent: the core takes the new document, and the rebase that carries
    /// the edit survives a restart until acknowledged; the hub merges it.
    #[test]
    fn a_reset_keeps_unsent_edits_in_a_rebase_until_acknowledged() {
        let mut hub = pushdesk_text::Epochs::new();
        let mut core = LocalText::restore(None);
        core.welcomed(Some(hub.epoch()));
        let write = core.from_view("shared", None).expect("merges");
        let m = SyncMessage::decode(&write.message.expect("an update")).expect("decodes");
        answer(hub.doc_mut(), &m, true, usize::MAX).expect("accepted");
        // Offline: the app writes; meanwhile the hub cuts.
        core.from_view("shared text", None).expect("merges");
        let to = hub.next_epoch();
        let snapshot = hub.doc().snapshot();
        hub.cut(0, to, &snapshot).expect("cuts");
        let reset = Reset {
            epoch: to,
            base: hub.base_for(0),
            doc: hub.doc().snapshot(),
        };
        let (rebase, text) = core.from_reset(&reset.encode()).expect("takes it");
        assert_eq!(text, "shared");
        assert_eq!(core.epoch(), Some(to));
        // Restarted before the hub answered: still there.
        let mut core = LocalText::restore(Some(&core.saved()));
        assert_eq!(core.epoch(), Some(to));
        assert_eq!(core.rebases(), vec![rebase.clone()]);
        let rebase = pushdesk_text::Rebase::decode(&rebase).expect("decodes");
        let pushdesk_text::Applied::Update { update, .. } =
            hub.apply(rebase.from, &rebase.update).expect("rebases")
        else {
            panic!("nothing rebased");
        };
        let m = SyncMessage::Update(update).encode().expect("encodes");
        assert_eq!(
            core.from_hub(&m).expect("ok").text.as_deref(),
            Some("shared text")
        );
        core.rebase_done(&rebase.encode());
        assert!(core.rebases().is_empty());
        assert_eq!(hub.doc().text(), "shared text");
    }

    #[test]
    fn garbage_from_the_hub_is_an_error_not_a_panic() {
        let mut core = LocalText::restore(Some(b"not a document"));
        assert_eq!(core.text(), "");
        assert!(core.from_hub(&[0xff, 0x00]).is_err());
    }
}
