//! [`NotificationClicked`], the payload of `notification_clicked`.

use serde::{Deserialize, Serialize};

use crate::serde_util::null_as_default;

/// Extension, client to hub: the user clicked notification `id`, on its
/// body (`action` absent) or on one of its [`Action`](crate::Action) buttons.
///
/// `{"id": 42}` or `{"id": 42, "action": "open"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct NotificationClicked {
    /// The [`Notification::id`](crate::Notification::id) clicked.
    pub id: u64,
    /// The [`Action::id`](crate::Action::id) pressed, `None` for the body.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub action: Option<String>,
}

impl NotificationClicked {
    /// A click on the body of notification `id`.
    pub const fn body(id: u64) -> Self {
        Self { id, action: None }
    }

    /// A press of button `action` on notification `id`.
    pub fn action(id: u64, action: impl Into<String>) -> Self {
        Self {
            id,
            action: Some(action.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shapes_round_trip() {
        for (click, v) in [
            (NotificationClicked::body(42), json!({"id": 42})),
            (
                NotificationClicked::action(42, "open"),
                json!({"id": 42, "action": "open"}),
            ),
        ] {
            assert_eq!(serde_json::to_value(&click).unwrap(), v);
            assert_eq!(
                serde_json::from_value::<NotificationClicked>(v).unwrap(),
                click
            );
        }
    }

    #[test]
    fn tolerant_but_typed() {
        let c: NotificationClicked =
            serde_json::from_value(json!({"id": 1, "action": null, "at": 5})).unwrap();
        assert_eq!(c, NotificationClicked::body(1));
        for bad in [json!({}), json!({"id": "1"}), json!({"id": 1, "action": 2})] {
            assert!(serde_json::from_value::<NotificationClicked>(bad).is_err());
        }
    }
}
