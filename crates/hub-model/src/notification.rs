//! [`Notification`], the payload of `send_notification`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::action::Action;
use crate::channel::{self, check_channel};
use crate::limits::{MAX_BODY_CHARS, MAX_DATA_BYTES, MAX_TAG_CHARS, MAX_TITLE_CHARS};
use crate::request::NotificationRequest;
use crate::serde_util::null_as_default;
use crate::urgency::Urgency;
use crate::validate::{
    ValidationError, check_actions, check_chars, check_http_url, check_icon, check_json_bytes,
};

/// The body the seed server gives every notification.
pub const DEFAULT_BODY: &str = "this is push notification.";

/// The icon path the seed server gives every notification (relative to the
/// hub's URL).
pub const DEFAULT_ICON: &str = "images/icon.png";

/// A notification as the hub broadcasts it in `send_notification`.
///
/// Seed shape: `{"title", "body", "icon", "tag", "data1"}`; these five keys
/// are always encoded so the seed's page can show it. Our extensions (`id`,
/// `timestamp`, `url`, `urgency`, `data`, `actions`, `ttl`) are encoded only
/// when set.
///
/// Decoding: `title` must be a string; `body`, `icon` and `tag` may be
/// missing or `null` (read as `""`); `data1` may be any JSON or missing
/// (read as `null`); unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Title (the seed request's `text`).
    pub title: String,
    /// Body text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub body: String,
    /// Icon: a path relative to the hub's URL or an http(s) URL; `""` for none.
    #[serde(default, deserialize_with = "null_as_default")]
    pub icon: String,
    /// Replacement tag; `""` means none (see [`Notification::tag`]).
    #[serde(default, deserialize_with = "null_as_default")]
    pub tag: String,
    /// Free-form payload from the request's `num`; any JSON.
    #[serde(default)]
    pub data1: Value,
    /// Unique id, monotonic per hub (extension), for exactly-once display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// When the hub accepted it, in milliseconds since the Unix epoch (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// URL to open on click (extension); see [`Notification::click_url`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Urgency (extension); omitted on the wire when [`Urgency::Normal`].
    #[serde(default, skip_serializing_if = "Urgency::is_normal")]
    pub urgency: Urgency,
    /// Free-form JSON object (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Map<String, Value>>,
    /// Action buttons (extension); omitted on the wire when empty.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub actions: Vec<Action>,
    /// Time to live in milliseconds after `timestamp` (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// The channel (extension); [`DEFAULT_CHANNEL`](crate::DEFAULT_CHANNEL) when missing, and
    /// omitted on the wire then, so the seed's clients see what they always saw.
    #[serde(
        default = "channel::default_channel",
        skip_serializing_if = "channel::is_default"
    )]
    pub channel: String,
}

impl Default for Notification {
    /// An empty title in [`DEFAULT_CHANNEL`](crate::DEFAULT_CHANNEL), everything else empty or absent.
    fn default() -> Self {
        Self {
            title: String::new(),
            body: String::new(),
            icon: String::new(),
            tag: String::new(),
            data1: Value::Null,
            id: None,
            timestamp: None,
            url: None,
            urgency: Urgency::default(),
            data: None,
            actions: Vec::new(),
            ttl: None,
            channel: channel::default_channel(),
        }
    }
}

impl Notification {
    /// A notification with `title` and everything else empty or absent.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Builds the broadcast for `request` the way the seed server does
    /// (title = `text`, body [`DEFAULT_BODY`], icon [`DEFAULT_ICON`], tag
    /// `""`, data1 = `num`), except that extension fields present in the
    /// request win, and with the hub's `id` and `timestamp` (Unix ms).
    ///
    /// Validate the request first; this does not.
    pub fn from_request(request: NotificationRequest, id: u64, timestamp: u64) -> Self {
        let NotificationRequest {
            text,
            num,
            body,
            tag,
            icon,
            url,
            urgency,
            data,
            actions,
            ttl,
            channel,
        } = request;
        Self {
            title: text,
            body: body.unwrap_or_else(|| DEFAULT_BODY.to_owned()),
            icon: icon.unwrap_or_else(|| DEFAULT_ICON.to_owned()),
            tag: tag.unwrap_or_default(),
            data1: num,
            id: Some(id),
            timestamp: Some(timestamp),
            url,
            urgency,
            data,
            actions,
            ttl,
            channel: channel.unwrap_or_else(channel::default_channel),
        }
    }

    /// The replacement tag, `None` when empty (an empty tag never
    /// de-duplicates).
    pub fn tag(&self) -> Option<&str> {
        (!self.tag.is_empty()).then_some(self.tag.as_str())
    }

    /// `true` if showing `self` replaces `other` on screen: both carry the
    /// same non-empty tag, in the same channel (two channels' `backup` tags
    /// are two notifications).
    pub fn replaces(&self, other: &Self) -> bool {
        self.channel == other.channel && self.tag().is_some_and(|tag| other.tag() == Some(tag))
    }

    /// What a native notifier replaces by: the tag, qualified by the
    /// channel outside [`DEFAULT_CHANNEL`](crate::DEFAULT_CHANNEL) (so the
    /// seed's tags stay as they are); `None` without a tag.
    pub fn replace_key(&self) -> Option<String> {
        let tag = self.tag()?;
        Some(if channel::is_default(&self.channel) {
            tag.to_owned()
        } else {
            format!("{}/{tag}", self.channel)
        })
    }

    /// The click URL, only if it passes [`check_http_url`] (so a URL from
    /// a foreign hub is never `javascript:` or `file:`).
    pub fn click_url(&self) -> Option<&str> {
        self.url
            .as_deref()
            .filter(|url| check_http_url("url", url).is_ok())
    }

    /// When it expires, in Unix ms: `timestamp + ttl` when both are set.
    pub fn expires_at(&self) -> Option<u64> {
        Some(self.timestamp?.saturating_add(self.ttl?))
    }

    /// `true` if it has expired at `now` (Unix ms); never without a ttl.
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at().is_some_and(|at| now >= at)
    }

    /// Checks the notification against the same [`limits`](crate::limits)
    /// as [`NotificationRequest::validate`] (for what arrives from a hub we
    /// do not control).
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_chars("title", &self.title, MAX_TITLE_CHARS)?;
        check_channel(&self.channel)?;
        check_chars("body", &self.body, MAX_BODY_CHARS)?;
        check_chars("tag", &self.tag, MAX_TAG_CHARS)?;
        check_icon("icon", &self.icon)?;
        if let Some(url) = &self.url {
            check_http_url("url", url)?;
        }
        check_actions(&self.actions)?;
        check_json_bytes("data1", &self.data1, MAX_DATA_BYTES)?;
        if let Some(data) = &self.data {
            check_json_bytes("data", data, MAX_DATA_BYTES)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(s: &str) -> Result<Notification, serde_json::Error> {
        serde_json::from_str(s)
    }

    fn seed(title: &str, data1: Value) -> Notification {
        Notification {
            title: title.into(),
            body: DEFAULT_BODY.into(),
            icon: DEFAULT_ICON.into(),
            tag: String::new(),
            data1,
            ..Notification::default()
        }
    }

    #[test]
    fn decodes_what_the_seed_server_sends() {
        let n = decode(
            r#"{"title":"hi","body":"this is push notification.","icon":"images/icon.png","tag":"","data1":"3"}"#,
        )
        .unwrap();
        assert_eq!(n, seed("hi", json!("3")));
        assert_eq!(n.tag(), None);
        assert_eq!(n.id, None);
        assert_eq!(n.urgency, Urgency::Normal);
        assert!(n.validate().is_ok());
    }

    #[test]
    fn data1_may_be_any_json_or_absent() {
        for (data1, want) in [
            ("null", json!(null)),
            ("3", json!(3)),
            (r#""""#, json!("")),
            (r#""3""#, json!("3")),
            ("[1,{}]", json!([1, {}])),
        ] {
            let n = decode(&format!(r#"{{"title":"t","tag":"","data1":{data1}}}"#)).unwrap();
            assert_eq!(n.data1, want);
        }
        assert_eq!(decode(r#"{"title":"t"}"#).unwrap().data1, Value::Null);
    }

    #[test]
    fn missing_or_null_seed_fields_are_empty() {
        assert_eq!(decode(r#"{"title":"t"}"#).unwrap(), Notification::new("t"));
        assert_eq!(
            decode(r#"{"title":"t","body":null,"icon":null,"tag":null,"data1":null}"#).unwrap(),
            Notification::new("t")
        );
    }

    #[test]
    fn decodes_the_extended_shape() {
        let n = decode(
            r#"{"title":"Deploy","body":"v1.2","icon":"images/icon.png","tag":"deploy","data1":null,
                "id":42,"timestamp":1700000000000,"url":"https://ci.example/7","urgency":"low",
                "data":{"run":7},"actions":[{"id":"open","title":"Open"}],"ttl":5000}"#,
        )
        .unwrap();
        assert_eq!(n.id, Some(42));
        assert_eq!(n.timestamp, Some(1_700_000_000_000));
        assert_eq!(n.tag(), Some("deploy"));
        assert_eq!(n.click_url(), Some("https://ci.example/7"));
        assert_eq!(n.urgency, Urgency::Low);
        assert_eq!(n.data, json!({"run": 7}).as_object().cloned());
        assert_eq!(n.actions, [Action::new("open", "Open")]);
        assert_eq!(n.expires_at(), Some(1_700_000_005_000));
        assert!(n.validate().is_ok());
    }

    #[test]
    fn unknown_fields_and_urgencies_are_tolerated() {
        let n =
            decode(r#"{"title":"t","urgency":"emergency","silent":true,"badge":"b.png"}"#).unwrap();
        assert_eq!(n.urgency, Urgency::Normal);
        assert_eq!(n.title, "t");
    }

    #[test]
    fn wrong_types_are_errors() {
        for bad in [
            r#"{}"#,
            r#"{"title":null}"#,
            r#"{"title":1}"#,
            r#"{"title":"t","body":2}"#,
            r#"{"title":"t","icon":[]}"#,
            r#"{"title":"t","tag":0}"#,
            r#"{"title":"t","id":-1}"#,
            r#"{"title":"t","id":"42"}"#,
            r#"{"title":"t","timestamp":1.5}"#,
            r#"{"title":"t","url":1}"#,
            r#"{"title":"t","urgency":1}"#,
            r#"{"title":"t","data":[]}"#,
            r#"{"title":"t","actions":[1]}"#,
            r#"{"title":"t","ttl":"1"}"#,
            r#"[]"#,
            r#"true"#,
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encodes_the_seed_shape_exactly() {
        let n = seed("hi", json!("3"));
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"title":"hi","body":"this is push notification.","icon":"images/icon.png","tag":"","data1":"3"}"#
        );
        // Seed keys stay even when empty.
        assert_eq!(
            serde_json::to_value(Notification::new("t")).unwrap(),
            json!({"title": "t", "body": "", "icon": "", "tag": "", "data1": null})
        );
    }

    #[test]
    fn encodes_extensions_only_when_set() {
        let n = Notification {
            id: Some(1),
            urgency: Urgency::Critical,
            ttl: Some(10),
            ..seed("x", json!(0))
        };
        assert_eq!(
            serde_json::to_value(&n).unwrap(),
            json!({"title": "x", "body": DEFAULT_BODY, "icon": DEFAULT_ICON, "tag": "",
                   "data1": 0, "id": 1, "urgency": "critical", "ttl": 10})
        );
    }

    #[test]
    fn the_channel_is_default_when_missing_and_omitted_then() {
        let n = decode(r#"{"title":"t"}"#).unwrap();
        assert_eq!(n.channel, "default");
        assert!(serde_json::to_value(&n).unwrap().get("channel").is_none());
        let ops = decode(r#"{"title":"t","channel":"ops"}"#).unwrap();
        assert_eq!(ops.channel, "ops");
        let mut req = NotificationRequest::new("t");
        assert_eq!(req.channel(), "default");
        req.channel = Some("ops".into());
        assert_eq!(Notification::from_request(req, 1, 1).channel, "ops");
        let bad = Notification {
            channel: "no spaces".into(),
            ..Notification::new("t")
        };
        assert!(matches!(
            bad.validate(),
            Err(ValidationError::BadChannel { .. })
        ));
    }

    #[test]
    fn tags_replace_within_their_channel() {
        let n = |channel: &str, tag: &str| Notification {
            channel: channel.into(),
            tag: tag.into(),
            ..Notification::new("t")
        };
        assert!(n("ops", "disk").replaces(&n("ops", "disk")));
        assert!(!n("ops", "disk").replaces(&n("ci", "disk")));
        assert_eq!(n("default", "disk").replace_key().as_deref(), Some("disk"));
        assert_eq!(n("ops", "disk").replace_key().as_deref(), Some("ops/disk"));
        assert_eq!(n("ops", "").replace_key(), None);
    }

    #[test]
    fn round_trips() {
        let n = Notification {
            title: "日本語".into(),
            body: "本文".into(),
            icon: "https://e.x/i.png".into(),
            tag: "t".into(),
            data1: json!({"deep": [null, 1, "s"]}),
            id: Some(u64::MAX),
            timestamp: Some(0),
            url: Some("http://e.x/".into()),
            urgency: Urgency::Low,
            data: Some(Map::new()),
            actions: vec![Action::new("a", "A")],
            ttl: Some(1),
            channel: "alerts-db".into(),
        };
        assert_eq!(decode(&serde_json::to_string(&n).unwrap()).unwrap(), n);
        assert_eq!(serde_json::to_value(&n).unwrap()["channel"], "alerts-db");
    }

    #[test]
    fn from_request_matches_the_seed_server() {
        let req: NotificationRequest =
            serde_json::from_str(r#"{"text":"hello","num":""}"#).unwrap();
        let n = Notification::from_request(req, 7, 1_700_000_000_000);
        assert_eq!(
            n,
            Notification {
                id: Some(7),
                timestamp: Some(1_700_000_000_000),
                ..seed("hello", json!(""))
            }
        );
        // What the seed's page reads is exactly what the seed server sends.
        let v = serde_json::to_value(&n).unwrap();
        let want = serde_json::to_value(seed("hello", json!(""))).unwrap();
        for key in ["title", "body", "icon", "tag", "data1"] {
            assert_eq!(v[key], want[key]);
        }
    }

    #[test]
    fn from_request_honours_extensions() {
        let req = NotificationRequest {
            num: json!(3),
            body: Some(String::new()),
            tag: Some("build".into()),
            icon: Some(String::new()),
            url: Some("https://ci.example/".into()),
            urgency: Urgency::Critical,
            data: json!({"k": 1}).as_object().cloned(),
            actions: vec![Action::new("open", "Open")],
            ttl: Some(1000),
            ..NotificationRequest::new("Build")
        };
        let n = Notification::from_request(req.clone(), 1, 2);
        assert_eq!(
            n,
            Notification {
                title: "Build".into(),
                body: String::new(),
                icon: String::new(),
                tag: "build".into(),
                data1: json!(3),
                id: Some(1),
                timestamp: Some(2),
                url: req.url,
                urgency: Urgency::Critical,
                data: req.data,
                actions: req.actions,
                ttl: Some(1000),
                channel: "default".into(),
            }
        );
        assert_eq!(n.expires_at(), Some(1002));
    }

    #[test]
    fn tag_and_replacement() {
        let tagged = |tag: &str| Notification {
            tag: tag.into(),
            ..Notification::new("t")
        };
        assert_eq!(tagged("").tag(), None);
        assert_eq!(tagged("a").tag(), Some("a"));
        assert!(tagged("a").replaces(&tagged("a")));
        assert!(!tagged("a").replaces(&tagged("b")));
        assert!(!tagged("").replaces(&tagged("")));
        assert!(!tagged("a").replaces(&tagged("")));
    }

    #[test]
    fn expiry() {
        let n = |timestamp, ttl| Notification {
            timestamp,
            ttl,
            ..Notification::new("t")
        };
        assert_eq!(n(Some(100), None).expires_at(), None);
        assert_eq!(n(None, Some(5)).expires_at(), None);
        assert!(!n(Some(100), Some(5)).is_expired(104));
        assert!(n(Some(100), Some(5)).is_expired(105));
        assert!(!n(Some(100), None).is_expired(u64::MAX));
        assert_eq!(n(Some(u64::MAX), Some(5)).expires_at(), Some(u64::MAX));
    }

    #[test]
    fn click_url_refuses_unsafe_schemes() {
        let with_url = |url: &str| Notification {
            url: Some(url.into()),
            ..Notification::new("t")
        };
        assert_eq!(with_url("https://e.x/").click_url(), Some("https://e.x/"));
        assert_eq!(with_url("javascript:alert(1)").click_url(), None);
        assert_eq!(with_url("file:///etc/passwd").click_url(), None);
        assert_eq!(Notification::new("t").click_url(), None);
        assert!(with_url("javascript:alert(1)").validate().is_err());
    }

    #[test]
    fn validate_applies_limits() {
        let over_title = Notification::new("題".repeat(MAX_TITLE_CHARS + 1));
        assert!(matches!(
            over_title.validate(),
            Err(ValidationError::TooManyChars { field: "title", .. })
        ));
        assert!(
            Notification::new("題".repeat(MAX_TITLE_CHARS))
                .validate()
                .is_ok()
        );
        let bad_icon = Notification {
            icon: "file:///etc/shadow".into(),
            ..Notification::new("t")
        };
        assert!(bad_icon.validate().is_err());
    }
}
