//! [`Draft`]: what the send form collects, turned into the hub's request. Pure.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the send form collects (`ui/src/core/ack.ts` `NotificationDraft`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Draft {
    /// Title (sent as `text`, as the seed's servers read it).
    pub title: String,
    /// Body.
    pub body: String,
    /// Replacement tag.
    pub tag: String,
    /// URL to open on click.
    pub url: String,
    /// Channel to publish to (empty or `default`: the default channel).
    pub channel: String,
}

impl Draft {
    /// The `send_notification_request` payload: `text` = title, `num`, and
    /// only the optional fields that are set.
    pub fn request(&self) -> Value {
        let mut req = serde_json::Map::new();
        req.insert("text".into(), Value::String(self.title.clone()));
        req.insert("num".into(), Value::Null);
        if !self.body.is_empty() {
            req.insert("body".into(), Value::String(self.body.clone()));
        }
        for (key, value) in [
            ("tag", &self.tag),
            ("url", &self.url),
            ("channel", &self.channel),
        ] {
            let v = value.trim();
            // The default channel is not named: seed servers get what they always got.
            let default_channel = key == "channel" && v == pushdesk_hub_model::DEFAULT_CHANNEL;
            if !v.is_empty() && !default_channel {
                req.insert(key.into(), Value::String(v.to_owned()));
            }
        }
        Value::Object(req)
    }
}
#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_draft_becomes_the_seed_compatible_request() {
        let d = Draft {
            title: "Hi".into(),
            body: String::new(),
            tag: "  build ".into(),
            url: String::new(),
            channel: "default".into(),
        };
        assert_eq!(
            d.request(),
            json!({"text": "Hi", "num": null, "tag": "build"}),
            "the default channel is not named, so seed servers get what they always got"
        );
        let ops = Draft {
            channel: "ops".into(),
            ..d
        };
        assert_eq!(ops.request()["channel"], "ops");
    }
}
