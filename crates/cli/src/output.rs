//! How `listen` prints an event: with `--json`, exactly one JSON object per
//! line, `{"event": NAME, "data": PAYLOAD}`; otherwise `NAME PAYLOAD`.

use pushdesk_socketio::{Payload, Value};
use serde_json::Map;

/// The `data` of an event: its only argument, an array of several, or null.
pub fn data(payload: &Payload) -> Value {
    match payload.args.as_slice() {
        [] => Value::Null,
        [one] => one.clone(),
        many => Value::Array(many.to_vec()),
    }
}

/// One output line (without the newline) for an event.
pub fn line(name: &str, payload: &Payload, as_json: bool) -> String {
    let data = data(payload);
    if as_json {
        let mut obj = Map::with_capacity(2);
        obj.insert("event".into(), Value::String(name.to_owned()));
        obj.insert("data".into(), data);
        Value::Object(obj).to_string()
    } else {
        format!("{name} {data}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_json_object_per_line() {
        let p = Payload::new(vec![json!({"title": "a\nb", "body": "日本語"})]);
        let l = line("send_notification", &p, true);
        assert!(!l.contains('\n'));
        let v: Value = serde_json::from_str(&l).unwrap();
        assert_eq!(
            v,
            json!({"event": "send_notification", "data": {"title": "a\nb", "body": "日本語"}})
        );
    }

    #[test]
    fn data_shapes() {
        assert_eq!(data(&Payload::default()), Value::Null);
        assert_eq!(
            data(&Payload::new(vec![json!(1), json!("x")])),
            json!([1, "x"])
        );
        assert_eq!(
            line(
                "count_update",
                &Payload::new(vec![json!({"user_count": 2})]),
                false
            ),
            "count_update {\"user_count\":2}"
        );
    }
}
