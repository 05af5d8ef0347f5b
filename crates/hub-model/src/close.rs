//! [`NotificationClosed`] and [`CloseReason`], the payload of
//! `notification_closed`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Extension, client to hub: notification `id` left the screen.
///
/// `{"id": 42, "reason": "dismissed"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct NotificationClosed {
    /// The [`Notification::id`](crate::Notification::id) closed.
    pub id: u64,
    /// Why; missing, `null` or unknown reads as [`CloseReason::Other`].
    #[serde(default)]
    pub reason: CloseReason,
}

impl NotificationClosed {
    /// Notification `id` closed for `reason`.
    pub const fn new(id: u64, reason: CloseReason) -> Self {
        Self { id, reason }
    }
}

/// Why a notification was closed. Lowercase on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CloseReason {
    /// The user dismissed it.
    Dismissed,
    /// It timed out (the desktop's own timeout or its `ttl`).
    Expired,
    /// A newer notification with the same tag replaced it.
    Replaced,
    /// The app closed it (e.g. it was clicked, or closed programmatically).
    Closed,
    /// Anything else, including reasons this version does not know.
    #[default]
    Other,
}

impl CloseReason {
    /// All reasons.
    pub const ALL: [Self; 5] = [
        Self::Dismissed,
        Self::Expired,
        Self::Replaced,
        Self::Closed,
        Self::Other,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Dismissed => "dismissed",
            Self::Expired => "expired",
            Self::Replaced => "replaced",
            Self::Closed => "closed",
            Self::Other => "other",
        }
    }

    /// Lenient parse, as used on the wire: unknown names are `Other`.
    pub fn from_wire(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(name))
            .unwrap_or_default()
    }
}

impl Serialize for CloseReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CloseReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Option::<String>::deserialize(deserializer)?;
        Ok(name.as_deref().map(Self::from_wire).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shapes_round_trip() {
        for reason in CloseReason::ALL {
            let c = NotificationClosed::new(7, reason);
            let v = serde_json::to_value(c).unwrap();
            assert_eq!(v, json!({"id": 7, "reason": reason.as_str()}));
            assert_eq!(serde_json::from_value::<NotificationClosed>(v).unwrap(), c);
        }
    }

    #[test]
    fn tolerant_about_reasons_strict_about_types() {
        for (v, want) in [
            (json!({"id": 1}), CloseReason::Other),
            (json!({"id": 1, "reason": null}), CloseReason::Other),
            (json!({"id": 1, "reason": "swiped"}), CloseReason::Other),
            (json!({"id": 1, "reason": "Expired"}), CloseReason::Expired),
        ] {
            assert_eq!(
                serde_json::from_value::<NotificationClosed>(v)
                    .unwrap()
                    .reason,
                want
            );
        }
        for bad in [json!({"reason": "closed"}), json!({"id": 1, "reason": 2})] {
            assert!(serde_json::from_value::<NotificationClosed>(bad).is_err());
        }
    }
}
