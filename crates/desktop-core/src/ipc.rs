//! The messages between the core (`pushdesk-tray`) and the window
//! (`pushdesk-desktop`): one JSON object per line over a loopback TCP
//! connection. The core writes its port and a random secret to the address
//! file (readable only by the user); a window's first line must carry that
//! secret. Pure: the types, their encoding and the address file's format.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::draft::Draft;
use crate::settings::Settings;

/// Longest line either side accepts (a full history page fits many times).
pub const MAX_LINE: usize = 8 * 1024 * 1024;

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
    /// The first line: the secret from the address file.
    Hello {
        /// [`Address::secret`].
        secret: String,
        /// `false`: only making sure the core runs (`--hidden`): do not
        /// attach, and do not bring an open window forward.
        #[serde(default = "yes")]
        window: bool,
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
    /// The answer to [`ToCore::Hello`]. `attached: false`: another window
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
            decode::<ToCore>(r#"{"type":"hello","secret":"s"}"#),
            Ok(ToCore::Hello { window: true, .. })
        ));
        assert!(matches!(
            decode::<ToCore>(r#"{"type":"hello","secret":"s","window":false}"#),
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
}
