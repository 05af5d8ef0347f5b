//! The notifier's data: what to show ([`NotificationSpec`]) and what
//! happened to it ([`NotifierEvent`], [`CloseReason`]).

use std::path::PathBuf;

pub use pushdesk_hub_model::{Action, Urgency};

/// The action id of a click on the notification itself.
pub const DEFAULT_ACTION: &str = "default";

/// One notification to show.
///
/// `key` is the caller's name for it (the hub's notification id, or a local
/// counter for notifications without one); every [`NotifierEvent`] about it
/// carries the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSpec {
    /// The caller's identifier: the hub id, or a local counter.
    pub key: u64,
    /// Title (summary).
    pub title: String,
    /// Body text (plain text).
    pub body: String,
    /// Replacement tag: a notification whose non-empty tag matches one on
    /// screen replaces it; `None` or `""` never replaces anything.
    pub tag: Option<String>,
    /// An icon already fetched to a local file (see [`IconCache`](crate::IconCache)).
    /// Never a path that came from the network.
    pub icon: Option<PathBuf>,
    /// How urgent it is.
    pub urgency: Urgency,
    /// Whether clicking the notification body means something (the caller
    /// opens a window or a URL): on Linux this adds the `default` action,
    /// without which many daemons ignore clicks.
    pub has_default_action: bool,
    /// Buttons (the hub's `actions`); a press is reported as
    /// [`NotifierEvent::Clicked`] with the button's id. Only
    /// [`NotificationSpec::buttons`] of them are shown.
    pub actions: Vec<Action>,
    /// How long it stays relevant (the rest of the hub's `ttl`): on Linux
    /// the daemon's `expire_timeout`; `None`: the daemon's default.
    /// (Windows and macOS keep their own timing.)
    pub expires_in: Option<std::time::Duration>,
}

impl NotificationSpec {
    /// A notification `key` with `title`, no body, tag or icon, normal
    /// urgency and a default action.
    pub fn new(key: u64, title: impl Into<String>) -> Self {
        Self {
            key,
            title: title.into(),
            body: String::new(),
            tag: None,
            icon: None,
            urgency: Urgency::Normal,
            has_default_action: true,
            actions: Vec::new(),
            expires_in: None,
        }
    }

    /// The buttons to show: at most [`MAX_ACTIONS`](pushdesk_hub_model::limits::MAX_ACTIONS),
    /// in order, leaving out an empty id, the id `"default"` (a press must not
    /// read as a click on the body) and a repeated id.
    pub fn buttons(&self) -> impl Iterator<Item = &Action> {
        let mut seen: Vec<&str> = Vec::new();
        self.actions
            .iter()
            .filter(move |a| {
                let fresh =
                    !a.id.is_empty() && a.id != DEFAULT_ACTION && !seen.contains(&a.id.as_str());
                if fresh {
                    seen.push(&a.id);
                }
                fresh
            })
            .take(pushdesk_hub_model::limits::MAX_ACTIONS)
    }

    /// The replacement tag, `None` when absent or empty (an empty tag never
    /// de-duplicates).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref().filter(|t| !t.is_empty())
    }
}

/// What happened to a notification, like the browser's `show`, `click`,
/// `close` and `error` events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifierEvent {
    /// It is on screen (the platform accepted it).
    Shown {
        /// [`NotificationSpec::key`].
        key: u64,
    },
    /// The user clicked it: `action` is `"default"` for the body.
    Clicked {
        /// [`NotificationSpec::key`].
        key: u64,
        /// The action's id (`"default"` for a click on the notification itself).
        action: String,
    },
    /// It left the screen.
    Closed {
        /// [`NotificationSpec::key`].
        key: u64,
        /// Why.
        reason: CloseReason,
    },
    /// Showing it failed (the same error [`Notifier::show`](crate::Notifier::show) returned).
    Error {
        /// [`NotificationSpec::key`].
        key: u64,
        /// What went wrong, for the user.
        message: String,
    },
}

impl NotifierEvent {
    /// The key of the notification this event is about.
    pub fn key(&self) -> u64 {
        match self {
            Self::Shown { key }
            | Self::Clicked { key, .. }
            | Self::Closed { key, .. }
            | Self::Error { key, .. } => *key,
        }
    }
}

/// Why a notification left the screen. The first four are the XDG
/// `NotificationClosed` reasons (1 to 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// It timed out.
    Expired,
    /// The user dismissed it.
    Dismissed,
    /// The app closed it ([`Notifier::close`](crate::Notifier::close)).
    ClosedByCall,
    /// The platform did not say (or the notification service went away).
    Undefined,
    /// A newer notification with the same tag took its place (the Web
    /// Notifications API fires `close` on the old one; no platform reports
    /// it, the notifier does).
    Replaced,
}

impl CloseReason {
    /// The reason for an XDG `NotificationClosed` code: 1 expired,
    /// 2 dismissed, 3 closed by a call, anything else undefined.
    pub const fn from_xdg(code: u32) -> Self {
        match code {
            1 => Self::Expired,
            2 => Self::Dismissed,
            3 => Self::ClosedByCall,
            _ => Self::Undefined,
        }
    }
}

impl From<CloseReason> for pushdesk_hub_model::CloseReason {
    /// The reason as reported back to the hub in `notification_closed`.
    fn from(reason: CloseReason) -> Self {
        match reason {
            CloseReason::Expired => Self::Expired,
            CloseReason::Dismissed => Self::Dismissed,
            CloseReason::ClosedByCall => Self::Closed,
            CloseReason::Replaced => Self::Replaced,
            CloseReason::Undefined => Self::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tag_is_no_tag() {
        let mut spec = NotificationSpec::new(1, "t");
        assert_eq!(spec.tag(), None);
        spec.tag = Some(String::new());
        assert_eq!(spec.tag(), None);
        spec.tag = Some("chat".into());
        assert_eq!(spec.tag(), Some("chat"));
    }

    #[test]
    fn buttons_are_unique_bounded_and_never_the_default() {
        let mut spec = NotificationSpec::new(1, "t");
        assert_eq!(spec.buttons().count(), 0);
        spec.actions = ["ok", "", "default", "ok", "no", "a", "b", "c"]
            .iter()
            .map(|id| Action::new(*id, id.to_uppercase()))
            .collect();
        let ids: Vec<&str> = spec.buttons().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["ok", "no", "a", "b"]);
    }

    #[test]
    fn xdg_reasons_and_hub_reasons() {
        assert_eq!(CloseReason::from_xdg(1), CloseReason::Expired);
        assert_eq!(CloseReason::from_xdg(2), CloseReason::Dismissed);
        assert_eq!(CloseReason::from_xdg(3), CloseReason::ClosedByCall);
        assert_eq!(CloseReason::from_xdg(4), CloseReason::Undefined);
        assert_eq!(CloseReason::from_xdg(77), CloseReason::Undefined);
        let hub: pushdesk_hub_model::CloseReason = CloseReason::ClosedByCall.into();
        assert_eq!(hub.as_str(), "closed");
        let hub: pushdesk_hub_model::CloseReason = CloseReason::Replaced.into();
        assert_eq!(hub.as_str(), "replaced");
    }

    #[test]
    fn every_event_has_its_key() {
        for event in [
            NotifierEvent::Shown { key: 7 },
            NotifierEvent::Clicked {
                key: 7,
                action: "default".into(),
            },
            NotifierEvent::Closed {
                key: 7,
                reason: CloseReason::Expired,
            },
            NotifierEvent::Error {
                key: 7,
                message: "x".into(),
            },
        ] {
            assert_eq!(event.key(), 7);
        }
    }
}
