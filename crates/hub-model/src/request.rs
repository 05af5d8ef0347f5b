//! [`NotificationRequest`], the payload of `send_notification_request`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::action::Action;
use crate::channel::check_channel;
use crate::limits::{MAX_BODY_CHARS, MAX_DATA_BYTES, MAX_TAG_CHARS, MAX_TITLE_CHARS};
use crate::serde_util::null_as_default;
use crate::urgency::Urgency;
use crate::validate::{
    ValidationError, check_actions, check_chars, check_http_url, check_icon, check_json_bytes,
};

/// A request to broadcast a notification.
///
/// The seed's page sends `{"text": "...", "num": ...}`: `text` becomes the
/// notification's title and `num` (any JSON, the page sends `""`) its
/// `data1`. Our extensions are optional; absent ones get the seed server's
/// values in [`Notification::from_request`](crate::Notification::from_request).
///
/// **`text` is the title.** On the wire, `title` is accepted as an alias of
/// `text`; sending both is a decode error (a duplicate field), so the meaning
/// is never ambiguous. Encoding always writes `text` and `num` (`null` when
/// unset), so the seed's Flask server, which reads both keys, accepts what we
/// send.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NotificationRequest {
    /// The notification title (seed field; `title` on the wire is an alias).
    #[serde(alias = "title")]
    pub text: String,
    /// Free-form payload passed through as `data1`; any JSON, `null` when absent.
    #[serde(default)]
    pub num: Value,
    /// Body text; `None` means the seed's default body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Tag for replacement; `None` or `""` means no tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Icon reference; `None` means the seed's default icon, `""` no icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// URL opened on click (http/https only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Urgency; omitted on the wire when [`Urgency::Normal`].
    #[serde(default, skip_serializing_if = "Urgency::is_normal")]
    pub urgency: Urgency,
    /// Free-form JSON object for applications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Map<String, Value>>,
    /// Action buttons; omitted on the wire when empty.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub actions: Vec<Action>,
    /// Time to live in milliseconds after the hub's timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// The channel to publish to; `None` means
    /// [`DEFAULT_CHANNEL`](crate::DEFAULT_CHANNEL) (and is what the seed's
    /// clients send).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

impl NotificationRequest {
    /// A seed-shaped request: title `text`, `num` null, no extensions.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// The channel it goes to: its own, or [`DEFAULT_CHANNEL`](crate::DEFAULT_CHANNEL).
    pub fn channel(&self) -> &str {
        self.channel.as_deref().unwrap_or(crate::DEFAULT_CHANNEL)
    }

    /// The title the notification will have (the `text` field).
    pub fn title(&self) -> &str {
        &self.text
    }

    /// Checks the request against the [`limits`](crate::limits): title, body
    /// and tag lengths (in characters), icon and URL rules, actions, and the
    /// encoded size of `num` and `data`.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_chars("title", &self.text, MAX_TITLE_CHARS)?;
        if let Some(channel) = &self.channel {
            check_channel(channel)?;
        }
        if let Some(body) = &self.body {
            check_chars("body", body, MAX_BODY_CHARS)?;
        }
        if let Some(tag) = &self.tag {
            check_chars("tag", tag, MAX_TAG_CHARS)?;
        }
        if let Some(icon) = &self.icon {
            check_icon("icon", icon)?;
        }
        if let Some(url) = &self.url {
            check_http_url("url", url)?;
        }
        check_actions(&self.actions)?;
        check_json_bytes("num", &self.num, MAX_DATA_BYTES)?;
        if let Some(data) = &self.data {
            check_json_bytes("data", data, MAX_DATA_BYTES)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{MAX_ACTIONS, MAX_ICON_CHARS, MAX_URL_CHARS};
    use serde_json::json;

    fn decode(s: &str) -> Result<NotificationRequest, serde_json::Error> {
        serde_json::from_str(s)
    }

    #[test]
    fn decodes_what_the_seed_page_sends() {
        // `$("#user_count").val()` on a <span> is "", so the page sends num "".
        let r = decode(r#"{"text":"hello","num":""}"#).unwrap();
        assert_eq!(r.text, "hello");
        assert_eq!(r.title(), "hello");
        assert_eq!(r.num, json!(""));
        assert_eq!(r.body, None);
        assert_eq!(r.tag, None);
        assert_eq!(r.icon, None);
        assert_eq!(r.urgency, Urgency::Normal);
        assert!(r.actions.is_empty());
        assert!(r.validate().is_ok());
    }

    #[test]
    fn num_may_be_any_json_or_absent() {
        for (input, num) in [
            (r#"{"text":"x","num":null}"#, json!(null)),
            (r#"{"text":"x","num":3}"#, json!(3)),
            (r#"{"text":"x","num":-2.5}"#, json!(-2.5)),
            (r#"{"text":"x","num":"3"}"#, json!("3")),
            (r#"{"text":"x","num":true}"#, json!(true)),
            (r#"{"text":"x","num":[1,"a"]}"#, json!([1, "a"])),
            (r#"{"text":"x","num":{"k":{}}}"#, json!({"k": {}})),
            (r#"{"text":"x"}"#, json!(null)),
        ] {
            assert_eq!(decode(input).unwrap().num, num, "{input}");
        }
    }

    #[test]
    fn text_may_be_empty_or_japanese() {
        assert_eq!(decode(r#"{"text":"","num":""}"#).unwrap().text, "");
        assert_eq!(
            decode(r#"{"text":"日本語のテキスト\n二行目","num":""}"#)
                .unwrap()
                .text,
            "日本語のテキスト\n二行目"
        );
    }

    #[test]
    fn title_is_an_alias_of_text() {
        let r = decode(r#"{"title":"Build failed","num":1}"#).unwrap();
        assert_eq!(r.text, "Build failed");
        // Both at once is ambiguous: an error, not a guess.
        assert!(decode(r#"{"text":"a","title":"b"}"#).is_err());
        assert!(decode(r#"{"text":"a","title":"a"}"#).is_err());
    }

    #[test]
    fn decodes_the_extended_shape() {
        let r = decode(
            r#"{"title":"Deploy","body":"v1.2 is live","tag":"deploy","icon":"https://ci.example/i.png",
                "url":"https://ci.example/run/7","urgency":"critical","data":{"run":7},
                "actions":[{"id":"open","title":"Open"}],"ttl":60000}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            NotificationRequest {
                text: "Deploy".into(),
                num: Value::Null,
                body: Some("v1.2 is live".into()),
                tag: Some("deploy".into()),
                icon: Some("https://ci.example/i.png".into()),
                url: Some("https://ci.example/run/7".into()),
                urgency: Urgency::Critical,
                data: json!({"run": 7}).as_object().cloned(),
                actions: vec![Action::new("open", "Open")],
                ttl: Some(60_000),
                channel: None,
            }
        );
        assert!(r.validate().is_ok());
    }

    #[test]
    fn nulls_mean_absent_for_extensions() {
        let r = decode(
            r#"{"text":"x","body":null,"tag":null,"icon":null,"url":null,"urgency":null,
                "data":null,"actions":null,"ttl":null}"#,
        )
        .unwrap();
        assert_eq!(r, NotificationRequest::new("x"));
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let r = decode(r#"{"text":"x","num":"","priority":9,"extra":{"a":[1]}}"#).unwrap();
        assert_eq!(r.text, "x");
    }

    #[test]
    fn wrong_types_are_errors() {
        for bad in [
            r#"{}"#,
            r#"{"num":""}"#,
            r#"{"text":null}"#,
            r#"{"text":3}"#,
            r#"{"text":["x"]}"#,
            r#"{"title":false}"#,
            r#"{"text":"x","body":1}"#,
            r#"{"text":"x","tag":{}}"#,
            r#"{"text":"x","url":true}"#,
            r#"{"text":"x","urgency":3}"#,
            r#"{"text":"x","data":[1]}"#,
            r#"{"text":"x","data":"s"}"#,
            r#"{"text":"x","actions":{}}"#,
            r#"{"text":"x","actions":[{"id":"a"}]}"#,
            r#"{"text":"x","ttl":-1}"#,
            r#"{"text":"x","ttl":"60"}"#,
            r#""x""#,
            r#"null"#,
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encodes_seed_keys_always_and_extensions_only_when_set() {
        assert_eq!(
            serde_json::to_value(NotificationRequest::new("hi")).unwrap(),
            json!({"text": "hi", "num": null})
        );
        let r = NotificationRequest {
            num: json!(""),
            tag: Some("t".into()),
            urgency: Urgency::Low,
            ..NotificationRequest::new("hi")
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"text": "hi", "num": "", "tag": "t", "urgency": "low"})
        );
    }

    #[test]
    fn round_trips() {
        let r = NotificationRequest {
            text: "日本語".into(),
            num: json!({"n": [1, 2.5, null]}),
            body: Some(String::new()),
            tag: Some(String::new()),
            icon: Some(String::new()),
            url: Some("http://h/".into()),
            urgency: Urgency::Critical,
            data: Some(Map::new()),
            actions: vec![Action::new("a", "A"), Action::new("b", "B")],
            ttl: Some(0),
            channel: Some("ci-7".into()),
        };
        let back = decode(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn a_bad_channel_is_refused() {
        let mut r = NotificationRequest::new("t");
        r.channel = Some("a/b".into());
        assert!(matches!(
            r.validate(),
            Err(ValidationError::BadChannel { .. })
        ));
        r.channel = Some("ops".into());
        assert!(r.validate().is_ok());
    }

    #[test]
    fn title_limit_counts_chars() {
        assert!(
            NotificationRequest::new("a".repeat(MAX_TITLE_CHARS))
                .validate()
                .is_ok()
        );
        assert_eq!(
            NotificationRequest::new("a".repeat(MAX_TITLE_CHARS + 1)).validate(),
            Err(ValidationError::TooManyChars {
                field: "title",
                len: MAX_TITLE_CHARS + 1,
                max: MAX_TITLE_CHARS
            })
        );
        // 256 CJK characters are 768 bytes and still fit.
        let cjk = "日本語".repeat(MAX_TITLE_CHARS / 3) + "日";
        assert_eq!(cjk.chars().count(), MAX_TITLE_CHARS);
        assert!(NotificationRequest::new(cjk.clone()).validate().is_ok());
        assert!(NotificationRequest::new(cjk + "語").validate().is_err());
    }

    #[test]
    fn body_and_tag_limits_are_inclusive() {
        let with = |body: String, tag: String| NotificationRequest {
            body: Some(body),
            tag: Some(tag),
            ..NotificationRequest::new("t")
        };
        assert!(
            with("本".repeat(MAX_BODY_CHARS), "札".repeat(MAX_TAG_CHARS))
                .validate()
                .is_ok()
        );
        assert!(matches!(
            with("本".repeat(MAX_BODY_CHARS + 1), String::new()).validate(),
            Err(ValidationError::TooManyChars { field: "body", .. })
        ));
        assert!(matches!(
            with(String::new(), "札".repeat(MAX_TAG_CHARS + 1)).validate(),
            Err(ValidationError::TooManyChars { field: "tag", .. })
        ));
    }

    #[test]
    fn url_and_icon_rules_apply() {
        let with_url = |url: &str| NotificationRequest {
            url: Some(url.into()),
            ..NotificationRequest::new("t")
        };
        assert!(with_url("https://example.com/a").validate().is_ok());
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/plain,x",
        ] {
            assert!(matches!(
                with_url(bad).validate(),
                Err(ValidationError::UrlScheme { field: "url", .. })
            ));
        }
        let long = format!("https://e.x/{}", "p".repeat(MAX_URL_CHARS));
        assert!(with_url(&long).validate().is_err());

        let with_icon = |icon: &str| NotificationRequest {
            icon: Some(icon.into()),
            ..NotificationRequest::new("t")
        };
        assert!(with_icon("images/icon.png").validate().is_ok());
        assert!(with_icon("file:///etc/passwd").validate().is_err());
        assert!(
            with_icon(&"i".repeat(MAX_ICON_CHARS + 1))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn actions_and_data_limits_apply() {
        let too_many = NotificationRequest {
            actions: (0..=MAX_ACTIONS)
                .map(|i| Action::new(i.to_string(), "x"))
                .collect(),
            ..NotificationRequest::new("t")
        };
        assert!(matches!(
            too_many.validate(),
            Err(ValidationError::TooManyActions { .. })
        ));

        // `"` + n + `"` is n + 2 bytes of JSON.
        let num_at = |n: usize| NotificationRequest {
            num: json!("x".repeat(n)),
            ..NotificationRequest::new("t")
        };
        assert!(num_at(MAX_DATA_BYTES - 2).validate().is_ok());
        assert!(num_at(MAX_DATA_BYTES - 1).validate().is_err());

        // `{"k":"` + n + `"}` is n + 8 bytes.
        let data_at = |n: usize| NotificationRequest {
            data: json!({"k": "x".repeat(n)}).as_object().cloned(),
            ..NotificationRequest::new("t")
        };
        assert!(data_at(MAX_DATA_BYTES - 8).validate().is_ok());
        assert_eq!(
            data_at(MAX_DATA_BYTES - 7).validate(),
            Err(ValidationError::TooManyBytes {
                field: "data",
                len: MAX_DATA_BYTES + 1,
                max: MAX_DATA_BYTES
            })
        );
    }
}
