//! The messages between the core (`pushdesk-tray`) and the window
//! (`pushdesk-desktop`): one JSON object per line over a loopback TCP
//! connection. The core writes its port and a random secret to the address
//! file (readable only by the user). Pure: the types, their encoding, the
//! address file's format and the handshake's proofs.
//!
//! The handshake proves the secret both ways without sending it, so
//! neither a local impostor window nor whatever answers on a stale
//! address file's port (the core crashed, another process took its port)
//! learns it or gets in:
//!
//! 1. window → core: [`ToCore::Hello`] with a fresh nonce `w`;
//! 2. core → window: [`ToView::Challenge`] with a fresh nonce `c` and
//!    [`proof`]`(secret, Core, w, c)`; the window checks it and hangs up
//!    on a core that cannot make it;
//! 3. window → core: [`ToCore::Proof`] with `proof(secret, Window, c, w)`;
//!    the core checks it and answers [`ToView::Welcome`], or hangs up.
//!
//! Until then each side reads lines of at most [`MAX_HANDSHAKE_LINE`]
//! bytes.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::draft::Draft;
use crate::settings::Settings;

/// Longest line either side accepts once the handshake is done (a full
/// history page fits many times).
pub const MAX_LINE: usize = 8 * 1024 * 1024;

/// Longest line either side accepts during the handshake.
pub const MAX_HANDSHAKE_LINE: usize = 4 * 1024;

/// Hex digits of a handshake nonce (256 bits).
const NONCE_HEX: usize = 64;

/// The address file: where the core listens, the secret, its process id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Loopback TCP port.
    pub port: u16,
    /// What a window must say first.
    pub secret: String,
    /// The core's process id.
    pub pid: u32,
}

/// A command from the webview, forwarded by the window.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum Request {
    /// Everything the webview needs to draw itself; takes a pending focus.
    HubState,
    /// Sets the shared text.
    SendText {
        /// The new text.
        text: String,
        /// The text it was made on (what the window last drew or wrote).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base: Option<String>,
    },
    /// Broadcasts a notification.
    SendNotification {
        /// The send form.
        draft: Draft,
    },
    /// The newest notifications, newest first.
    History {
        /// At most this many.
        limit: usize,
    },
    /// The saved settings.
    GetSettings,
    /// Saves and applies settings.
    SaveSettings {
        /// The new settings.
        settings: Settings,
    },
    /// Do Not Disturb on or off.
    SetDnd {
        /// On.
        on: bool,
    },
    /// Connects again now.
    Reconnect,
}

/// Window → core.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToCore {
    /// The first line: the window's nonce (handshake step 1).
    Hello {
        /// 64 hex digits, fresh for this connection.
        nonce: String,
        /// `false`: only making sure the core runs (`--hidden`): do not
        /// attach, and do not bring an open window forward.
        #[serde(default = "yes")]
        window: bool,
    },
    /// The window's proof that it knows the secret (handshake step 3).
    Proof {
        /// [`proof`]`(secret, Window, core's nonce, window's nonce)`.
        proof: String,
    },
    /// A command; answered by a [`ToView::Reply`] with the same id.
    Call {
        /// Chosen by the window, echoed in the reply.
        id: u64,
        /// What to do.
        request: Request,
    },
    /// The window gained or lost the keyboard focus.
    Focused {
        /// Whether it has it now.
        focused: bool,
    },
}

/// Core → window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToView {
    /// The answer to [`ToCore::Hello`] (handshake step 2).
    Challenge {
        /// 64 hex digits, fresh for this connection.
        nonce: String,
        /// [`proof`]`(secret, Core, window's nonce, core's nonce)`.
        proof: String,
    },
    /// The answer to a good [`ToCore::Proof`]. `attached: false`: another window
    /// is open (and was asked to show itself), so this one should exit.
    Welcome {
        /// Whether this window is now the core's view.
        attached: bool,
    },
    /// The answer to a [`ToCore::Call`].
    Reply {
        /// The call's id.
        id: u64,
        /// The command's result, or why it failed.
        result: Result<Value, String>,
    },
    /// An event for the webview (`ui_events` names).
    Event {
        /// Event name.
        name: String,
        /// Its payload.
        payload: Value,
    },
    /// Bring the window to the front (tray click, second launch, a click on
    /// a notification).
    Show,
    /// The app is quitting: close the window and exit.
    Quit,
}

fn yes() -> bool {
    true
}

/// Who makes a handshake proof: part of what is signed, so one side's
/// proof is never the other's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The core (`pushdesk-tray`).
    Core,
    /// The window (`pushdesk-desktop`).
    Window,
}

impl Role {
    fn label(self) -> &'static str {
        match self {
            Self::Core => "pushdesk-ipc-v1 core",
            Self::Window => "pushdesk-ipc-v1 window",
        }
    }
}

/// A fresh handshake nonce: 256 random bits as 64 hex digits.
pub fn new_nonce() -> String {
    (0..4)
        .map(|_| format!("{:016x}", rand::random::<u64>()))
        .collect()
}

/// Whether `nonce` has a nonce's shape (64 lowercase hex digits).
pub fn is_nonce(nonce: &str) -> bool {
    nonce.len() == NONCE_HEX
        && nonce
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn proof_message(role: Role, theirs: &str, ours: &str) -> String {
    format!("{}\n{theirs}\n{ours}", role.label())
}

/// `role`'s proof that it knows `secret`, over the other side's nonce
/// `theirs` and its own `ours`: HMAC-SHA256 (ring), hex.
pub fn proof(secret: &str, role: Role, theirs: &str, ours: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, proof_message(role, theirs, ours).as_bytes());
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks `role`'s [`proof`] in constant time (ring's HMAC verify).
pub fn verify(secret: &str, role: Role, theirs: &str, ours: &str, proof: &str) -> bool {
    let Some(tag) = from_hex(proof) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::verify(&key, proof_message(role, theirs, ours).as_bytes(), &tag).is_ok()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 128 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A line that is not a message of the expected kind.
#[derive(Debug, thiserror::Error)]
#[error("bad message from the other process: {0}")]
pub struct BadMessage(#[from] serde_json::Error);

/// One message as one line (without the newline).
pub fn encode<T: Serialize>(message: &T) -> String {
    // Our message types hold only strings, numbers and JSON values, which
    // always serialize; an empty object would be refused by the other end.
    serde_json::to_string(message).unwrap_or_else(|_| "{}".to_owned())
}

/// Parses one line.
pub fn decode<T: DeserializeOwned>(line: &str) -> Result<T, BadMessage> {
    Ok(serde_json::from_str(line)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn calls_round_trip_with_their_arguments() {
        let call = ToCore::Call {
            id: 7,
            request: Request::SendText {
                text: "日本語".into(),
                base: None,
            },
        };
        let line = encode(&call);
        assert_eq!(
            serde_json::from_str::<Value>(&line).ok(),
            Some(
                json!({"type": "call", "id": 7, "request": {"method": "send_text", "args": {"text": "日本語"}}})
            )
        );
        match decode::<ToCore>(&line) {
            Ok(ToCore::Call {
                id: 7,
                request: Request::SendText { text, .. },
            }) => assert_eq!(text, "日本語"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_hello_is_from_a_window_unless_it_says_otherwise() {
        assert!(matches!(
            decode::<ToCore>(r#"{"type":"hello","nonce":"n"}"#),
            Ok(ToCore::Hello { window: true, .. })
        ));
        assert!(matches!(
            decode::<ToCore>(r#"{"type":"hello","nonce":"n","window":false}"#),
            Ok(ToCore::Hello { window: false, .. })
        ));
    }

    #[test]
    fn argument_free_requests_need_no_args() {
        let line = r#"{"type":"call","id":1,"request":{"method":"hub_state"}}"#;
        assert!(matches!(
            decode::<ToCore>(line),
            Ok(ToCore::Call {
                id: 1,
                request: Request::HubState
            })
        ));
    }

    #[test]
    fn replies_carry_a_value_or_a_reason() {
        for result in [Ok(json!({"a": 1})), Err("refused".to_owned())] {
            let reply = ToView::Reply { id: 3, result };
            assert_eq!(decode::<ToView>(&encode(&reply)).ok(), Some(reply));
        }
    }

    #[test]
    fn unknown_methods_wrong_types_and_garbage_are_errors() {
        for line in [
            r#"{"type":"call","id":1,"request":{"method":"rm_rf"}}"#,
            r#"{"type":"call","id":1,"request":{"method":"set_dnd","args":{"on":"yes"}}}"#,
            r#"{"type":"hello"}"#,
            "not json",
            "",
        ] {
            assert!(decode::<ToCore>(line).is_err(), "{line}");
        }
    }

    #[test]
    fn proofs_bind_the_secret_the_role_and_both_nonces() {
        let (w, c) = (new_nonce(), new_nonce());
        assert!(is_nonce(&w) && is_nonce(&c) && w != c);
        let core = proof("secret", Role::Core, &w, &c);
        assert!(verify("secret", Role::Core, &w, &c, &core));
        assert!(
            !verify("other", Role::Core, &w, &c, &core),
            "another secret"
        );
        assert!(
            !verify("secret", Role::Window, &w, &c, &core),
            "the other role"
        );
        assert!(
            !verify("secret", Role::Core, &c, &w, &core),
            "nonces swapped"
        );
        assert!(
            !verify("secret", Role::Core, &w, &new_nonce(), &core),
            "another session"
        );
        for garbage in ["", "zz", "abc", &"0".repeat(64)] {
            assert!(
                !verify("secret", Role::Core, &w, &c, garbage),
                "{garbage:?}"
            );
        }
        assert!(!is_nonce("short") && !is_nonce(&"G".repeat(64)));
    }
}
