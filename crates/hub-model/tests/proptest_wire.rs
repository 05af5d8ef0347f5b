//! Property tests: every payload round-trips through JSON, decoding arbitrary
//! JSON never panics, and the URL rule only ever lets http(s) through.

use proptest::prelude::*;
use pushdesk_hub_model::validate::check_http_url;
use pushdesk_hub_model::{
    Ack, Action, CountUpdate, Notification, NotificationRequest, TextUpdate, Urgency,
};
use serde_json::{Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Floats with few significant bits: serde_json (without its
        // `float_roundtrip` feature) parses those back bit for bit.
        (-1_000_000i32..1_000_000).prop_map(|i| Value::from(f64::from(i) / 8.0)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(any::<String>(), json_value(), 0..4)
        .prop_map(|m| m.into_iter().collect())
}

fn urgency() -> impl Strategy<Value = Urgency> {
    prop::sample::select(Urgency::ALL.to_vec())
}

fn actions() -> impl Strategy<Value = Vec<Action>> {
    prop::collection::vec(
        (any::<String>(), any::<String>()).prop_map(|(id, title)| Action::new(id, title)),
        0..3,
    )
}

fn notification() -> impl Strategy<Value = Notification> {
    (
        (
            any::<String>(),
            any::<String>(),
            any::<String>(),
            any::<String>(),
            json_value(),
        ),
        (
            any::<Option<u64>>(),
            any::<Option<u64>>(),
            any::<Option<String>>(),
            urgency(),
            prop::option::of(json_object()),
            actions(),
            any::<Option<u64>>(),
            "[A-Za-z0-9_-]{1,64}",
        ),
    )
        .prop_map(
            |(
                (title, body, icon, tag, data1),
                (id, timestamp, url, urgency, data, actions, ttl, channel),
            )| {
                Notification {
                    title,
                    body,
                    icon,
                    tag,
                    data1,
                    id,
                    timestamp,
                    url,
                    urgency,
                    data,
                    actions,
                    ttl,
                    channel,
                }
            },
        )
}

fn request() -> impl Strategy<Value = NotificationRequest> {
    (
        (
            any::<String>(),
            json_value(),
            any::<Option<String>>(),
            any::<Option<String>>(),
            any::<Option<String>>(),
        ),
        (
            any::<Option<String>>(),
            urgency(),
            prop::option::of(json_object()),
            actions(),
            any::<Option<u64>>(),
            prop::option::of("[A-Za-z0-9_-]{1,64}"),
        ),
    )
        .prop_map(
            |((text, num, body, tag, icon), (url, urgency, data, actions, ttl, channel))| {
                NotificationRequest {
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
                }
            },
        )
}

fn ack() -> impl Strategy<Value = Ack> {
    prop_oneof![
        any::<Option<u64>>().prop_map(|id| Ack::Accepted { id }),
        any::<String>().prop_map(Ack::rejected),
    ]
}

proptest! {
    #[test]
    fn notification_round_trips(n in notification()) {
        let s = serde_json::to_string(&n).unwrap();
        prop_assert_eq!(serde_json::from_str::<Notification>(&s).unwrap(), n);
    }

    #[test]
    fn notification_always_has_the_seed_keys(n in notification()) {
        let v = serde_json::to_value(&n).unwrap();
        for key in ["title", "body", "icon", "tag", "data1"] {
            prop_assert!(v.get(key).is_some(), "missing {}", key);
        }
    }

    #[test]
    fn request_round_trips(r in request()) {
        let s = serde_json::to_string(&r).unwrap();
        prop_assert_eq!(serde_json::from_str::<NotificationRequest>(&s).unwrap(), r);
    }

    #[test]
    fn from_request_keeps_title_and_num(r in request(), id: u64, ts: u64) {
        let n = Notification::from_request(r.clone(), id, ts);
        prop_assert_eq!(&n.title, &r.text);
        prop_assert_eq!(&n.data1, &r.num);
        prop_assert_eq!(n.id, Some(id));
        prop_assert_eq!(n.tag(), r.tag.as_deref().filter(|t| !t.is_empty()));
    }

    #[test]
    fn small_payloads_round_trip(count: u64, text: String, a in ack()) {
        let c = CountUpdate::new(count);
        prop_assert_eq!(serde_json::from_str::<CountUpdate>(&serde_json::to_string(&c).unwrap()).unwrap(), c);
        let t = TextUpdate::new(text);
        prop_assert_eq!(serde_json::from_str::<TextUpdate>(&serde_json::to_string(&t).unwrap()).unwrap(), t);
        prop_assert_eq!(serde_json::from_str::<Ack>(&serde_json::to_string(&a).unwrap()).unwrap(), a);
    }

    #[test]
    fn decoding_arbitrary_json_never_panics(v in json_value()) {
        let _ = serde_json::from_value::<Notification>(v.clone()).map(|n| n.validate());
        let _ = serde_json::from_value::<NotificationRequest>(v.clone()).map(|r| r.validate());
        let _ = serde_json::from_value::<CountUpdate>(v.clone());
        let _ = serde_json::from_value::<TextUpdate>(v.clone());
        let _ = serde_json::from_value::<Ack>(v);
    }

    #[test]
    fn validation_never_panics(r in request(), n in notification()) {
        let _ = r.validate();
        let _ = n.validate();
        let _ = n.click_url();
    }

    #[test]
    fn accepted_urls_are_http_or_https(s in "\\PC{0,40}", tail in "[a-z:/.@?#\\\\ \t]{0,20}") {
        for candidate in [s.clone(), format!("https://{s}"), format!("{s}:{tail}"), format!("http:{tail}{s}")] {
            if check_http_url("url", &candidate).is_ok() {
                let lower = candidate.to_ascii_lowercase();
                prop_assert!(lower.starts_with("http://") || lower.starts_with("https://"), "{}", candidate);
                prop_assert!(!candidate.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\'));
            }
        }
    }
}
