//! [`TextUpdate`], the payload of `text_update` and `text_update_request`.

use serde::{Deserialize, Serialize};

use crate::limits::MAX_TEXT_BYTES;
use crate::validate::{ValidationError, check_bytes};

/// The hub's one shared text: `{"text": "..."}`.
///
/// The same shape travels both ways: a client sends it as
/// `text_update_request`, the hub stores it and sends it as `text_update` to
/// everyone except the sender (and to each new client right after connect).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TextUpdate {
    /// The whole shared text (not a diff).
    pub text: String,
}

impl TextUpdate {
    /// A text update carrying `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }

    /// Checks the text against [`MAX_TEXT_BYTES`] (UTF-8 bytes).
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_bytes("text", &self.text, MAX_TEXT_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_what_the_seed_page_sends() {
        let t: TextUpdate = serde_json::from_str(r#"{"text":"こんにちは"}"#).unwrap();
        assert_eq!(t.text, "こんにちは");
        let t: TextUpdate = serde_json::from_str(r#"{"text":""}"#).unwrap();
        assert_eq!(t, TextUpdate::default());
    }

    #[test]
    fn encodes_the_seed_shape() {
        assert_eq!(
            serde_json::to_value(TextUpdate::new("a\nb")).unwrap(),
            json!({"text": "a\nb"})
        );
    }

    #[test]
    fn round_trips_and_ignores_unknown_fields() {
        let t = TextUpdate::new("日本語 \u{1F600} \"quoted\"");
        let back: TextUpdate = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        let t: TextUpdate = serde_json::from_str(r#"{"text":"x","cursor":3}"#).unwrap();
        assert_eq!(t.text, "x");
    }

    #[test]
    fn wrong_types_are_errors() {
        for bad in [
            r#"{}"#,
            r#"{"text": null}"#,
            r#"{"text": 3}"#,
            r#"{"text": ["a"]}"#,
            r#""text""#,
        ] {
            assert!(serde_json::from_str::<TextUpdate>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_limit_counts_bytes() {
        assert!(
            TextUpdate::new("a".repeat(MAX_TEXT_BYTES))
                .validate()
                .is_ok()
        );
        assert_eq!(
            TextUpdate::new("a".repeat(MAX_TEXT_BYTES + 1)).validate(),
            Err(ValidationError::TooManyBytes {
                field: "text",
                len: MAX_TEXT_BYTES + 1,
                max: MAX_TEXT_BYTES
            })
        );
        // 3 bytes per character: 21845 * 3 = 65535 fits, one more does not.
        let fits = "日".repeat(MAX_TEXT_BYTES / 3);
        assert!(TextUpdate::new(fits.clone()).validate().is_ok());
        assert!(TextUpdate::new(fits + "日").validate().is_err());
    }
}
