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

use std::time::{Duration, Instant};

use pushdesk_hub_model::limits;
use pushdesk_text::{Shadow, SharedText, SyncMessage, TextError, answer};

/// A text the core sends the window is drawn within this (a local socket
/// and a redraw), so a later write builds on it.
const VIEW_SETTLE: Duration = Duration::from_millis(300);

/// The core's replica of one hub's shared text.
#[derive(Debug)]
pub struct LocalText {
    doc: SharedText,
    view: Shadow,
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
    /// A replica restored from a saved document (`None` or unreadable: empty).
    pub fn restore(saved: Option<&[u8]>) -> Self {
        let doc = saved
            .and_then(|bytes| SharedText::from_updates([bytes]).ok())
            .unwrap_or_default();
        let view = Shadow::with_settle(&doc, VIEW_SETTLE);
        Self { doc, view }
    }

    /// The text as it stands here.
    pub fn text(&self) -> String {
        self.doc.text()
    }

    /// The document, to save.
    pub fn snapshot(&self) -> Vec<u8> {
        self.doc.snapshot()
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
        let mut core = LocalText::restore(Some(&core.snapshot()));
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

    #[test]
    fn garbage_from_the_hub_is_an_error_not_a_panic() {
        let mut core = LocalText::restore(Some(b"not a document"));
        assert_eq!(core.text(), "");
        assert!(core.from_hub(&[0xff, 0x00]).is_err());
    }
}
