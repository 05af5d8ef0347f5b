//! Binary attachments travel beside the JSON: the JSON holds
//! `{"_placeholder":true,"num":N}` where attachment `N` belongs. We keep the
//! placeholders in the JSON and the attachments beside it, losslessly.

use serde_json::{Map, Value};

use crate::error::DecodeError;

/// The placeholder object that stands for attachment `num` in a payload.
pub fn placeholder(num: usize) -> Value {
    let mut m = Map::with_capacity(2);
    m.insert("_placeholder".into(), Value::Bool(true));
    m.insert("num".into(), Value::from(num));
    Value::Object(m)
}

/// If `value` is a placeholder, the attachment index it names.
pub fn is_placeholder(value: &Value) -> Option<u64> {
    let obj = value.as_object()?;
    if obj.len() == 2 && obj.get("_placeholder")?.as_bool()? {
        obj.get("num")?.as_u64()
    } else {
        None
    }
}

/// Checks every placeholder in `value` names an attachment below `count`.
pub(crate) fn check_placeholders(value: &Value, count: usize) -> Result<(), DecodeError> {
    if let Some(num) = is_placeholder(value) {
        return if num < count as u64 {
            Ok(())
        } else {
            Err(DecodeError::BadPlaceholder(num))
        };
    }
    match value {
        Value::Array(items) => items.iter().try_for_each(|v| check_placeholders(v, count)),
        Value::Object(map) => map.values().try_for_each(|v| check_placeholders(v, count)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholder_shape() {
        assert_eq!(placeholder(2), json!({"_placeholder": true, "num": 2}));
        assert_eq!(is_placeholder(&placeholder(7)), Some(7));
        assert_eq!(
            is_placeholder(&json!({"_placeholder": false, "num": 1})),
            None
        );
        assert_eq!(
            is_placeholder(&json!({"_placeholder": true, "num": 1, "x": 0})),
            None
        );
    }

    #[test]
    fn checks_nested_placeholders() {
        let v = json!(["ev", {"a": [placeholder(0), {"b": placeholder(1)}]}]);
        assert!(check_placeholders(&v, 2).is_ok());
        assert_eq!(
            check_placeholders(&v, 1),
            Err(DecodeError::BadPlaceholder(1))
        );
    }
}
