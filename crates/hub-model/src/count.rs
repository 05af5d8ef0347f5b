//! [`CountUpdate`], the payload of `count_update`.

use serde::{Deserialize, Serialize};

/// The live number of connected users, broadcast on every connect and
/// disconnect: `{"user_count": 3}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct CountUpdate {
    /// Number of connected clients.
    pub user_count: u64,
}

impl CountUpdate {
    /// A count update for `user_count` users.
    pub const fn new(user_count: u64) -> Self {
        Self { user_count }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_the_seed_shape() {
        let c: CountUpdate = serde_json::from_str(r#"{"user_count": 3}"#).unwrap();
        assert_eq!(c, CountUpdate::new(3));
    }

    #[test]
    fn encodes_the_seed_shape() {
        assert_eq!(
            serde_json::to_value(CountUpdate::new(0)).unwrap(),
            json!({"user_count": 0})
        );
    }

    #[test]
    fn ignores_unknown_fields() {
        let c: CountUpdate = serde_json::from_str(r#"{"user_count": 7, "node": "a"}"#).unwrap();
        assert_eq!(c.user_count, 7);
    }

    #[test]
    fn wrong_types_are_errors() {
        for bad in [
            r#"{}"#,
            r#"{"user_count": "3"}"#,
            r#"{"user_count": -1}"#,
            r#"{"user_count": 1.5}"#,
            r#"{"user_count": null}"#,
            r#"3"#,
        ] {
            assert!(serde_json::from_str::<CountUpdate>(bad).is_err(), "{bad}");
        }
    }
}
