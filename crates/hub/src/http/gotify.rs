//! Gotify's publish format (`POST /message`), so Gotify's clients and the
//! integrations that target Gotify can send to Pushdesk. Pure.
//!
//! A Gotify token is an application; here it is a token whose `channel`
//! (tokens file) names where its messages go. Fields: `title` (the
//! channel's name when missing), `message` (required), `priority` 0–10
//! (0–3 → low urgency, 4–7 → normal, 8–10 → critical; kept in `data`),
//! `extras` (kept in `data.extras`; `client::notification.click.url` is the
//! click URL). JSON or a urlencoded form.

use pushdesk_hub_model::{Notification, NotificationRequest, Urgency};
use serde_json::{Map, Value, json};

use super::ApiError;

/// The urgency of a Gotify priority.
pub fn urgency(priority: u64) -> Urgency {
    match priority {
        0..=3 => Urgency::Low,
        4..=7 => Urgency::Normal,
        _ => Urgency::Critical,
    }
}

/// A body's fields: a urlencoded form (`form` true) or a JSON object.
pub fn fields(body: &[u8], form: bool) -> Result<Map<String, Value>, ApiError> {
    if form {
        return Ok(form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("not a JSON object: {e}")))
}

/// A Gotify message, from a JSON body or a form (`form` true).
pub fn parse(body: &[u8], form: bool, channel: &str) -> Result<NotificationRequest, ApiError> {
    request(fields(body, form)?, channel)
}

/// The request a Gotify message's fields ask for, in `channel`.
pub fn request(fields: Map<String, Value>, channel: &str) -> Result<NotificationRequest, ApiError> {
    let text = |key: &str| -> Result<Option<String>, ApiError> {
        match fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::bad_request(format!("`{key}` must be a string"))),
        }
    };
    let message = text("message")?
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ApiError::bad_request("`message` is required"))?;
    let priority = match fields.get("priority") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    if fields.get("priority").is_some_and(|p| !p.is_null()) && priority.is_none_or(|p| p > 10) {
        return Err(ApiError::bad_request(
            "`priority` must be a number from 0 to 10",
        ));
    }
    let extras = match fields.get("extras") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => Some(o.clone()),
        Some(_) => return Err(ApiError::bad_request("`extras` must be an object")),
    };
    let mut req = NotificationRequest::new(
        text("title")?
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| channel.to_owned()),
    );
    req.channel = Some(channel.to_owned());
    req.body = Some(message);
    req.icon = Some(String::new());
    req.url = extras
        .as_ref()
        .and_then(|e| e.get("client::notification"))
        .and_then(|n| n.get("click"))
        .and_then(|c| c.get("url"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut data = Map::new();
    if let Some(p) = priority {
        req.urgency = urgency(p);
        data.insert("priority".into(), Value::from(p));
    }
    if let Some(e) = extras {
        data.insert("extras".into(), Value::Object(e));
    }
    if !data.is_empty() {
        req.data = Some(data);
    }
    Ok(req)
}

/// RFC 3339 (UTC) for a Unix time in ms.
fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// The answer Gotify gives to a publish: the message as stored.
pub fn message(n: &Notification) -> Value {
    let data = n.data.as_ref();
    json!({
        "id": n.id.unwrap_or_default(),
        "appid": 0,
        "title": n.title,
        "message": n.body,
        "priority": data.and_then(|d| d.get("priority")).cloned().unwrap_or(Value::from(5)),
        "date": rfc3339(n.timestamp.unwrap_or_default()),
        "extras": data.and_then(|d| d.get("extras")).cloned().unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_form() {
        let body = br#"{"title":"Backup","message":"done","priority":8,
            "extras":{"client::notification":{"click":{"url":"https://nas.example"}}}}"#;
        let req = parse(body, false, "backups").expect("valid");
        assert_eq!(req.text, "Backup");
        assert_eq!(req.body.as_deref(), Some("done"));
        assert_eq!(req.channel.as_deref(), Some("backups"));
        assert_eq!(req.urgency, Urgency::Critical);
        assert_eq!(req.url.as_deref(), Some("https://nas.example"));
        assert!(req.validate().is_ok());

        let form = parse(b"title=Hi+there&message=caf%C3%A9&priority=2", true, "c").expect("form");
        assert_eq!(form.text, "Hi there");
        assert_eq!(form.body.as_deref(), Some("café"));
        assert_eq!(form.urgency, Urgency::Low);
        let untitled = parse(br#"{"message":"m"}"#, false, "nas").expect("valid");
        assert_eq!(untitled.text, "nas");
        assert_eq!(untitled.urgency, Urgency::Normal);
    }

    #[test]
    fn bad_messages() {
        for (body, form) in [
            (&br#"{"title":"no message"}"#[..], false),
            (br#"{"message":"m","priority":11}"#, false),
            (br#"{"message":"m","priority":"high"}"#, false),
            (br#"{"message":5}"#, false),
            (b"{", false),
            (b"title=x", true),
        ] {
            let e = parse(body, form, "c").expect_err("refused");
            assert_eq!(e.status.as_u16(), 400, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
