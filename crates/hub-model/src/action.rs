//! [`Action`], one button on a notification.

use serde::{Deserialize, Serialize};

/// A button on a notification (extension): `{"id": "open", "title": "Open"}`.
///
/// When the user presses it, the desktop reports the `id` back in
/// [`NotificationClicked::action`](crate::NotificationClicked::action).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Action {
    /// Identifier reported back on click; non-empty and unique per notification.
    pub id: String,
    /// Button label shown to the user.
    pub title: String,
}

impl Action {
    /// A button labelled `title` reporting `id`.
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips() {
        let a = Action::new("open", "開く");
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v, json!({"id": "open", "title": "開く"}));
        assert_eq!(serde_json::from_value::<Action>(v).unwrap(), a);
    }

    #[test]
    fn both_fields_are_required_strings() {
        for bad in [
            json!({"id": "open"}),
            json!({"title": "Open"}),
            json!({"id": 1, "title": "Open"}),
            json!({"id": "open", "title": null}),
        ] {
            assert!(serde_json::from_value::<Action>(bad).is_err());
        }
        let a: Action =
            serde_json::from_value(json!({"id": "o", "title": "O", "icon": "x"})).unwrap();
        assert_eq!(a, Action::new("o", "O"));
    }
}
