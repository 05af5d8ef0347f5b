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
//!
//! Until the hub has acknowledged that rebase (it sends the rebased edit
//! first), the window keeps its old document: its writes merge into it,
//! and the new document takes the hub's updates unseen. On the ack the new
//! document, which by then holds all the rebase carried, is shown, and what
//! the window wrote meanwhile is made again on it ([`Splice::carry`]), so a
//! keystroke never lands on a text that lacks the window's own last ones.
//! A window write based on a text the core no longer knows (one from
//! before the switch, still on its way) is carried the same way.

use std::time::{Duration, Instant};

use pushdesk_hub_model::limits;
use pushdesk_text::{
    Epoch, FIRST_EPOCH, Rebase, Reset, Shadow, SharedText, Splice, SyncMessage, TextError, answer,
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
    /// Moving to a new epoch's document (see the module documentation).
    switch: Option<Switch>,
}

/// A move to a new epoch's document, under way until its rebase is acked.
#[derive(Debug)]
struct Switch {
    /// The new epoch's document: the hub's updates go here, unseen.
    next: SharedText,
    /// The epoch of the old document (`doc`), and the state vector the
    /// hub's cut had of it.
    from: Epoch,
    base: Vec<u8>,
    /// The rebase that carries all of `doc` the hub lacks, as last sent.
    sent: Vec<u8>,
    /// `doc`'s text when `sent` was made.
    sent_text: String,
    /// The window wrote since `sent` was made.
    dirty: bool,
}

/// What taking a `text_reset` did.
#[derive(Debug, PartialEq, Eq)]
pub struct ResetTaken {
    /// The `text_rebase` to send (kept until [`LocalText::rebase_done`]).
    pub rebase: Vec<u8>,
    /// The text to show the window now (`None`: it keeps its text until
    /// the rebase is acknowledged).
    pub show: Option<String>,
}

/// A move to a new epoch's document ended ([`LocalText::rebase_done`]).
#[derive(Debug, PartialEq, Eq)]
pub struct SwitchEnded {
    /// The text to show the window.
    pub text: String,
    /// A `text_sync` update to send: what the window wrote during the
    /// rebase's round trip, made again on the new document.
    pub message: Option<Vec<u8>>,
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
            switch: None,
        }
    }

    /// What to save: the epoch, the document and the unacknowledged rebases.
    pub fn saved(&self) -> Vec<u8> {
        // Mid-switch: the new document, and the old one's edits in a rebase
        // (made again if the window wrote since the last one).
        let mut rebases = self.rebases.clone();
        let doc = match &self.switch {
            Some(switch) => {
                if switch.dirty
                    && let Ok(fresh) = self.switch_rebase(switch)
                {
                    rebases.retain(|r| r != &switch.sent);
                    rebases.push(fresh);
                }
                &switch.next
            }
            None => &self.doc,
        };
        let mut out = SAVED.to_vec();
        match self.epoch {
            Some(epoch) => {
                out.write_var(1u32);
                out.write_var(epoch);
            }
            None => out.write_var(0u32),
        }
        out.write_buf(doc.snapshot());
        out.write_var(rebases.len());
        for rebase in &rebases {
            out.write_buf(rebase);
        }
        out
    }

    /// A rebase with all of the old document the hub lacks, now.
    fn switch_rebase(&self, switch: &Switch) -> Result<Vec<u8>, TextError> {
        Ok(Rebase {
            from: switch.from,
            to: self.epoch.unwrap_or(FIRST_EPOCH),
            update: self.doc.diff(&switch.base)?,
        }
        .encode())
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
    /// first, before the step 1. Mid-switch, what the window wrote since
    /// the last rebase goes in a new one (offline typing merges exactly).
    pub fn rebases(&mut self) -> Vec<Vec<u8>> {
        if let Some(switch) = &self.switch
            && switch.dirty
            && let Ok(fresh) = self.switch_rebase(switch)
        {
            let text = self.doc.text();
            if let Some(switch) = &mut self.switch {
                self.rebases.retain(|r| r != &switch.sent);
                self.rebases.push(fresh.clone());
                switch.sent = fresh;
                switch.sent_text = text;
                switch.dirty = false;
            }
        }
        self.rebases.clone()
    }

    /// The hub acknowledged (or refused for good) this `text_rebase`. When
    /// it was the one a switch waits for, the switch ends: the new
    /// document, which holds all it carried, replaces the old one.
    pub fn rebase_done(&mut self, message: &[u8]) -> Option<SwitchEnded> {
        self.rebases.retain(|r| r != message);
        if self.switch.as_ref()?.sent != message {
            return None;
        }
        let switch = self.switch.take()?;
        let ours = self.doc.text();
        let mut next = switch.next;
        let mut update = Vec::new();
        if switch.dirty
            && let Some(carried) = Splice::carry(&switch.sent_text, &ours, &next.text())
        {
            update = next.splice(&carried);
        }
        self.doc = next;
        self.view = Shadow::with_settle(&self.doc, VIEW_SETTLE);
        let message = if update.is_empty() {
            None
        } else {
            SyncMessage::Update(update).encode().ok()
        };
        Some(SwitchEnded {
            text: self.doc.text(),
            message,
        })
    }

    /// Takes a `text_reset`. When the hub can merge this replica's edits,
    /// a switch starts (see the module documentation); otherwise the
    /// document becomes the hub's new one at once.
    pub fn from_reset(&mut self, message: &[u8]) -> Result<ResetTaken, TextError> {
        let reset = Reset::decode(message)?;
        let from = self.epoch.unwrap_or(FIRST_EPOCH);
        if let Some(switch) = &mut self.switch {
            if reset.base.is_some() {
                // Cut again mid-switch: the new document (the hub's updates
                // only) moves on too; the old one's rebase goes on.
                let (next, rebase) = reset.take(&switch.next, from)?;
                switch.next = next;
                self.epoch = Some(reset.epoch);
                let rebase = rebase.encode();
                self.rebases.push(rebase.clone());
                return Ok(ResetTaken { rebase, show: None });
            }
            self.switch = None;
        }
        let (doc, rebase) = reset.take(&self.doc, from)?;
        let rebase = rebase.encode();
        self.rebases.push(rebase.clone());
        self.epoch = Some(reset.epoch);
        if let Some(base) = reset.base {
            self.switch = Some(Switch {
                next: doc,
                from,
                base,
                sent: rebase.clone(),
                sent_text: self.doc.text(),
                dirty: false,
            });
            return Ok(ResetTaken { rebase, show: None });
        }
        if self.doc.text() != doc.text() {
            tracing::warn!("the hub could not merge this replica's edits: its epoch is too old");
        }
        self.doc = doc;
        self.view = Shadow::with_settle(&self.doc, VIEW_SETTLE);
        Ok(ResetTaken {
            rebase,
            show: Some(self.doc.text()),
        })
    }

    /// The text as it stands here.
    pub fn text(&self) -> String {
        self.doc.text()
    }

    /// The step 1 to send the hub on each (re)connect.
    pub fn step1(&self) -> Result<Vec<u8>, TextError> {
        let doc = self.switch.as_ref().map_or(&self.doc, |s| &s.next);
        SyncMessage::Step1(doc.state_vector()).encode()
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
        if let Some(switch) = &mut self.switch {
            switch.dirty = true;
        }
        // Written on a text the view no longer knows (one from before a
        // switch, still on its way): its change is made again on ours.
        let stale = based_on.filter(|b| !self.view.knows(b));
        let merged = match stale {
            Some(base) => {
                let update = match Splice::carry(base, text, &self.doc.text()) {
                    Some(carried) => {
                        let len = carried.apply_to(&self.doc.text()).map_or(0, |t| t.len());
                        if len > limits::MAX_TEXT_BYTES {
                            return Err(TextError::TooLong {
                                len,
                                max: limits::MAX_TEXT_BYTES,
                            });
                        }
                        self.doc.splice(&carried)
                    }
                    None => Vec::new(),
                };
                let merged = self.doc.text();
                pushdesk_text::SeedMerge {
                    echo: merged != text,
                    update,
                    text: merged,
                }
            }
            None => self.view.write_on(
                &mut self.doc,
                based_on,
                text,
                Instant::now(),
                limits::MAX_TEXT_BYTES,
            )?,
        };
        if merged.echo {
            self.shown();
        }
        // Mid-switch the old document's edits go in the next rebase.
        let message = if merged.update.is_empty() || self.switch.is_some() {
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
        let doc = match &mut self.switch {
            Some(switch) => &mut switch.next,
            None => &mut self.doc,
        };
        let answer = answer(doc, &message, true, usize::MAX).map_err(|e| match e {
            pushdesk_text::Refused::Bad(e) => e,
            pushdesk_text::Refused::NoRight => TextError::Malformed {
                what: "sync message",
                reason: e.to_string(),
            },
        })?;
        // Mid-switch the new document's changes are shown when it ends.
        let text = (answer.changed && self.switch.is_none()).then(|| self.doc.text());
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

    /// The hub cuts its first epoch's document: the new epoch and the reset.
    fn cut(hub: &mut pushdesk_text::Epochs) -> (Epoch, Reset) {
        let to = hub.next_epoch();
        let snapshot = hub.doc().snapshot();
        hub.cut(0, to, &snapshot).expect("cuts");
        let reset = Reset {
            epoch: to,
            base: hub.base_for(0),
            doc: hub.doc().snapshot(),
        };
        (to, reset)
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
        hub_answers(hub.doc_mut(), &write.message.expect("an update"));
        // Offline: the app writes; meanwhile the hub cuts.
        core.from_view("shared text", None).expect("merges");
        let (to, reset) = cut(&mut hub);
        let taken = core.from_reset(&reset.encode()).expect("takes it");
        // The window keeps its text until the hub has the rebase.
        assert_eq!(taken.show, None);
        assert_eq!(core.text(), "shared text");
        assert_eq!(core.epoch(), Some(to));
        // Restarted before the hub answered: the new document and the rebase.
        let mut restarted = LocalText::restore(Some(&core.saved()));
        assert_eq!(restarted.epoch(), Some(to));
        assert_eq!(restarted.text(), "shared");
        assert_eq!(restarted.rebases(), vec![taken.rebase.clone()]);
        // The hub rebases it and sends the result (unseen mid-switch), then acks.
        let rebase = pushdesk_text::Rebase::decode(&taken.rebase).expect("decodes");
        let pushdesk_text::Applied::Update { update, .. } =
            hub.apply(rebase.from, &rebase.update).expect("rebases")
        else {
            panic!("nothing rebased");
        };
        let m = SyncMessage::Update(update).encode().expect("encodes");
        assert_eq!(core.from_hub(&m).expect("ok").text, None);
        // Meanwhile the window wrote on: carried onto the new document.
        let write = core
            .from_view("shared text!", Some("shared text"))
            .expect("merges");
        assert_eq!(write.message, None, "an old document's edit is not sent");
        let ended = core.rebase_done(&taken.rebase).expect("the switch ends");
        assert_eq!(ended.text, "shared text!");
        assert!(core.rebases().is_empty());
        hub_answers(hub.doc_mut(), &ended.message.expect("the carried edit"));
        assert_eq!(hub.doc().text(), "shared text!");
        // And the window writes on the new document as usual.
        let write = core
            .from_view("shared text!?", Some("shared text!"))
            .expect("merges");
        assert!(write.message.is_some());
    }

    /// A window write on a text from before the switch ended, still on its
    /// way when it did: its change is made again on the new document, and
    /// what others did meanwhile stays.
    #[test]
    fn a_late_window_write_on_the_old_text_is_carried_over() {
        let mut hub = pushdesk_text::Epochs::new();
        let mut core = LocalText::restore(None);
        core.welcomed(Some(hub.epoch()));
        let write = core.from_view("[x]", None).expect("merges");
        hub_answers(hub.doc_mut(), &write.message.expect("an update"));
        let (to, reset) = cut(&mut hub);
        let taken = core.from_reset(&reset.encode()).expect("takes it");
        // Someone types at the front in the new epoch.
        let before = hub.doc().state_vector();
        let mut other = SharedText::new();
        other.apply(&hub.doc().snapshot()).expect("applies");
        other.set("ant [x]");
        let update = other.diff(&before).expect("diffs");
        hub.apply(to, &update).expect("applies");
        let m = SyncMessage::Update(update).encode().expect("encodes");
        core.from_hub(&m).expect("ok");
        let ended = core.rebase_done(&taken.rebase).expect("the switch ends");
        assert_eq!(ended.text, "ant [x]");
        // The window, not yet shown that, writes on "[x]".
        let write = core.from_view("[x] one", Some("[x]")).expect("merges");
        assert_eq!(write.merged.as_deref(), Some("ant [x] one"));
        hub_answers(hub.doc_mut(), &write.message.expect("an update"));
        assert_eq!(hub.doc().text(), "ant [x] one");
    }

    #[test]
    fn garbage_from_the_hub_is_an_error_not_a_panic() {
        let mut core = LocalText::restore(Some(b"not a document"));
        assert_eq!(core.text(), "");
        assert!(core.from_hub(&[0xff, 0x00]).is_err());
    }
}
