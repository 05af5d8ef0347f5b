//! How `listen` prints an event: with `--json`, exactly one JSON object per
//! line, `{"event": NAME, "data": PAYLOAD}`; otherwise `NAME PAYLOAD`.

use std::io::Write as _;

use pushdesk_socketio::{Payload, Value};

/// Appends the line for an event, newline included, to `out`. The data
/// (the only argument, an array of several, or null) is serialised
/// straight from the payload: no copy of it, no intermediate object or
/// string; the bytes are those of the `Value` object printed whole.
pub fn write_line(out: &mut Vec<u8>, name: &str, payload: &Payload, as_json: bool) {
    // Serialising a `Value` or a `str` into a Vec cannot fail: map keys
    // are strings and writing to a Vec has no I/O error.
    let data = |out: &mut Vec<u8>| {
        let _ = match payload.args.as_slice() {
            [] => serde_json::to_writer(&mut *out, &Value::Null),
            [one] => serde_json::to_writer(&mut *out, one),
            many => serde_json::to_writer(&mut *out, many),
        };
    };
    if as_json {
        out.extend_from_slice(b"{\"event\":");
        let _ = serde_json::to_writer(&mut *out, name);
        out.extend_from_slice(b",\"data\":");
        data(out);
        out.extend_from_slice(b"}\n");
    } else {
        let _ = write!(out, "{name} ");
        data(out);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    /// The `data` of an event: its only argument, an array of several, or null.
    fn data(payload: &Payload) -> Value {
        match payload.args.as_slice() {
            [] => Value::Null,
            [one] => one.clone(),
            many => Value::Array(many.to_vec()),
        }
    }

    /// One output line (without the newline) for an event: what
    /// [`write_line`] writes, built the plain way (the reference).
    fn line(name: &str, payload: &Payload, as_json: bool) -> String {
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
    fn write_line_is_line_plus_a_newline() {
        let payloads = [
            Payload::default(),
            Payload::new(vec![
                json!({"title": "a\nb\u{1}\"", "body": "日本語", "data1": 1.5, "id": 7}),
            ]),
            Payload::new(vec![json!(1), json!("x"), json!(null)]),
        ];
        for p in &payloads {
            for (name, as_json) in [
                ("send_notification", true),
                ("we\"ird", true),
                ("count_update", false),
            ] {
                let mut out = b"before".to_vec();
                write_line(&mut out, name, p, as_json);
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    format!("before{}\n", line(name, p, as_json))
                );
            }
        }
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
