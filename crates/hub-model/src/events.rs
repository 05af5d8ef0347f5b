//! Socket.IO event names of the hub.
//!
//! The first five are the seed's events, with the seed's names; the last two
//! are our extensions (reports from a desktop back to the hub).

/// Server to all: `{"user_count": int}` on every connect and disconnect
/// ([`CountUpdate`](crate::CountUpdate)).
pub const COUNT_UPDATE: &str = "count_update";

/// Server to clients: `{"text": str}`, the shared text, sent right after
/// connect and to everyone but the sender after a change
/// ([`TextUpdate`](crate::TextUpdate)).
pub const TEXT_UPDATE: &str = "text_update";

/// Client to server: `{"text": str}`, a new shared text
/// ([`TextUpdate`](crate::TextUpdate)).
pub const TEXT_UPDATE_REQUEST: &str = "text_update_request";

/// Client to server: `{"text": str, "num": any}` plus extensions, asking the
/// hub to broadcast a notification ([`NotificationRequest`](crate::NotificationRequest)).
pub const SEND_NOTIFICATION_REQUEST: &str = "send_notification_request";

/// Server to all: the notification to show, seed shape
/// `{"title", "body", "icon", "tag", "data1"}` plus extensions
/// ([`Notification`](crate::Notification)).
pub const SEND_NOTIFICATION: &str = "send_notification";

/// Extension, client to server: the user clicked a notification
/// ([`NotificationClicked`](crate::NotificationClicked)).
pub const NOTIFICATION_CLICKED: &str = "notification_clicked";

/// Extension, client to server: a notification was closed
/// ([`NotificationClosed`](crate::NotificationClosed)).
pub const NOTIFICATION_CLOSED: &str = "notification_closed";

/// Extension, client to server: `{channels: [..], last_id?}`, follow more
/// channels (acked with `{ok, channels}`).
pub const SUBSCRIBE: &str = "subscribe";

/// Extension, client to server: `{channels: [..]}`, stop following channels
/// (acked with `{ok, channels}`).
pub const UNSUBSCRIBE: &str = "unsubscribe";

/// Extension, both ways: one binary argument, a Yjs sync protocol message
/// (`y-protocols/sync` framing) of the shared text's CRDT document. Only
/// sockets whose handshake says [`TEXT_MODE_YJS`] in `auth.text` get it;
/// they get no `text_update`. Acked `{ok}` / `{ok:false, error}` when asked.
pub const TEXT_SYNC: &str = "text_sync";

/// Extension, server to a Yjs peer: one binary argument, the document of
/// a new epoch (`pushdesk_text::Reset`): sent when the hub cuts the
/// document, and on connect to a peer whose `auth.text_epoch` is older.
pub const TEXT_RESET: &str = "text_reset";

/// Extension, a Yjs peer to the server: one binary argument
/// (`pushdesk_text::Rebase`), what the hub lacked of the peer's document of
/// the old epoch, sent once as it takes a [`TEXT_RESET`] (and again after a
/// reconnect until acked). Acked `{ok}` / `{ok:false, error}`.
pub const TEXT_REBASE: &str = "text_rebase";

/// `auth.text_epoch` of a Yjs peer and `welcome.text_epoch` of the hub:
/// the epoch of the peer's document, and of the hub's.
pub const TEXT_EPOCH: &str = "text_epoch";

/// `auth.text` of a client that syncs the text as a Yjs document over
/// [`TEXT_SYNC`]; `welcome.text` of a hub that can.
pub const TEXT_MODE_YJS: &str = "yjs";

/// The seed's events, in the order of the design's wire table.
pub const SEED_EVENTS: [&str; 5] = [
    COUNT_UPDATE,
    TEXT_UPDATE,
    TEXT_UPDATE_REQUEST,
    SEND_NOTIFICATION_REQUEST,
    SEND_NOTIFICATION,
];

/// Our extension events.
pub const EXTENSION_EVENTS: [&str; 2] = [NOTIFICATION_CLICKED, NOTIFICATION_CLOSED];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_seed() {
        assert_eq!(
            SEED_EVENTS,
            [
                "count_update",
                "text_update",
                "text_update_request",
                "send_notification_request",
                "send_notification",
            ]
        );
        assert_eq!(
            EXTENSION_EVENTS,
            ["notification_clicked", "notification_closed"]
        );
    }

    #[test]
    fn names_are_distinct() {
        let all: Vec<&str> = SEED_EVENTS
            .iter()
            .chain(&EXTENSION_EVENTS)
            .copied()
            .collect();
        for (i, a) in all.iter().enumerate() {
            assert!(!all[i + 1..].contains(a), "{a} appears twice");
        }
    }
}
