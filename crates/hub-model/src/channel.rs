//! Channels: every notification belongs to one, named by [`check_channel`]'s
//! rule. A request or notification without one is in [`DEFAULT_CHANNEL`],
//! which is all the seed's clients know.

use crate::validate::ValidationError;

/// The channel of the seed's notifications and of any request that names none.
pub const DEFAULT_CHANNEL: &str = "default";

/// A subscription to every channel the subscriber may read.
pub const ALL_CHANNELS: &str = "*";

/// Longest channel name.
pub const MAX_CHANNEL_CHARS: usize = 64;

/// Whether `name` is a channel name: 1 to 64 of `A-Z a-z 0-9 _ -`.
pub fn is_channel_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_CHANNEL_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks a channel name (see [`is_channel_name`]).
pub fn check_channel(name: &str) -> Result<(), ValidationError> {
    if is_channel_name(name) {
        Ok(())
    } else {
        Err(ValidationError::BadChannel {
            name: name.chars().take(MAX_CHANNEL_CHARS + 1).collect(),
        })
    }
}

/// Checks a channel to subscribe to: a name, or [`ALL_CHANNELS`].
pub fn check_subscription(name: &str) -> Result<(), ValidationError> {
    if name == ALL_CHANNELS {
        Ok(())
    } else {
        check_channel(name)
    }
}

/// `serde` helper: whether a channel is the default one (omitted on the wire).
pub(crate) fn is_default(channel: &String) -> bool {
    channel == DEFAULT_CHANNEL
}

/// `serde` helper: the default channel, for a missing field.
pub(crate) fn default_channel() -> String {
    DEFAULT_CHANNEL.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["default", "a", "alerts-db_1", &"x".repeat(64), "ABC"] {
            assert!(is_channel_name(ok), "{ok}");
            assert!(check_channel(ok).is_ok());
        }
        for bad in ["", "a b", "a/b", "a.b", "ü", &"x".repeat(65), "*", "../x"] {
            assert!(!is_channel_name(bad), "{bad}");
            assert!(check_channel(bad).is_err(), "{bad}");
        }
        assert!(check_subscription("*").is_ok());
        assert!(check_subscription("a*").is_err());
        let long = "y".repeat(500);
        let msg = check_channel(&long).map_err(|e| e.to_string()).err();
        assert!(
            msg.is_some_and(|m| m.len() < 200),
            "the error quotes a bounded name"
        );
    }
}
