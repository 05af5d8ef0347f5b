//! ntfy's publish and message formats, so ntfy's clients and everything
//! that targets ntfy (curl one-liners, Apprise, Uptime Kuma, Home
//! Assistant, Grafana…) can send to a Pushdesk channel. Pure.
//!
//! Publish: `PUT/POST /<channel>` with the message as the body and the
//! options as headers (`Title`/`X-Title`/`t`, …) or query parameters, or a
//! JSON object posted to `/` (`{"topic", "message", "title", …}`).
//! Subscribe: one [`message`] JSON object per notification.
//!
//! How ntfy's fields map to a notification: `title` → title (the channel's
//! name when missing, as ntfy's apps show it); the message → body
//! (`triggered` when empty, as ntfy does); priority 1–2 → low urgency, 3–4
//! → normal, 5 → critical; `click` → url; `icon` → icon; `tags` and the
//! priority are kept in `data` and given back as sent; each action becomes
//! a button (`view-1`, `http-2`, …) and is kept whole in `data.actions`.

use axum::http::HeaderMap;
use pushdesk_hub_model::{Action, Notification, NotificationRequest, Urgency, check_channel};
use serde_json::{Map, Value, json};

use super::ApiError;

/// The names an option goes by: its headers (case-insensitive) and query parameters.
const TITLE: &[&str] = &["x-title", "title", "ti", "t"];
const MESSAGE: &[&str] = &["x-message", "message", "m"];
const PRIORITY: &[&str] = &["x-priority", "priority", "prio", "p"];
const TAGS: &[&str] = &["x-tags", "tags", "tag", "ta"];
const CLICK: &[&str] = &["x-click", "click"];
const ICON: &[&str] = &["x-icon", "icon"];
const ACTIONS: &[&str] = &["x-actions", "actions", "action"];
const DELAY: &[&str] = &["x-delay", "delay", "x-at", "at", "x-in", "in"];

/// Most actions on one message (ntfy allows 3; a notification 4).
const MAX_NTFY_ACTIONS: usize = 3;

fn option(headers: &HeaderMap, query: &[(String, String)], names: &[&str]) -> Option<String> {
    for name in names {
        if let Some(v) = headers.get(*name).and_then(|v| v.to_str().ok()) {
            return Some(v.to_owned());
        }
    }
    query
        .iter()
        .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
        .map(|(_, v)| v.clone())
}

/// ntfy's priority: 1–5 or its names (`min`, `low`, `default`, `high`,
/// `max`/`urgent`).
pub fn parse_priority(text: &str) -> Result<u8, ApiError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "min" => Ok(1),
        "2" | "low" => Ok(2),
        "" | "3" | "default" => Ok(3),
        "4" | "high" => Ok(4),
        "5" | "max" | "urgent" => Ok(5),
        other => Err(ApiError::bad_request(format!(
            "priority {other:?} is not 1-5, min, low, default, high, max or urgent"
        ))),
    }
}

/// The urgency of an ntfy priority.
pub fn urgency(priority: u8) -> Urgency {
    match priority {
        0..=2 => Urgency::Low,
        3 | 4 => Urgency::Normal,
        _ => Urgency::Critical,
    }
}

/// Splits on `sep` outside single or double quotes; the quotes are kept
/// when `keep` (for a further split), removed otherwise.
fn split_quoted(text: &str, sep: char, keep: bool) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                if keep {
                    cur.push(c);
                }
            }
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                if keep {
                    cur.push(c);
                }
            }
            None if c == sep => parts.push(std::mem::take(&mut cur)),
            None => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// ntfy's actions header: its JSON array form, or the short form
/// (`view, Open, https://…, clear=true; http, Close, https://…, method=PUT`).
pub fn parse_actions(text: &str) -> Result<Vec<Map<String, Value>>, ApiError> {
    let text = text.trim();
    if text.starts_with('[') {
        let list: Vec<Map<String, Value>> = serde_json::from_str(text).map_err(|e| {
            ApiError::bad_request(format!("actions: not a JSON array of objects: {e}"))
        })?;
        return Ok(list);
    }
    let mut out = Vec::new();
    for def in split_quoted(text, ';', true) {
        if def.trim().is_empty() {
            continue;
        }
        let mut action = Map::new();
        let mut positional = 0;
        for part in split_quoted(&def, ',', false) {
            let part = part.trim();
            if let Some((key, value)) = part.split_once('=')
                && !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
            {
                let value = value.trim();
                let v = match value {
                    "true" | "yes" | "1" if key == "clear" => Value::Bool(true),
                    "false" | "no" | "0" if key == "clear" => Value::Bool(false),
                    _ => Value::String(value.to_owned()),
                };
                action.insert(key.to_owned(), v);
                continue;
            }
            let key = match positional {
                0 => "action",
                1 => "label",
                2 => "url",
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "actions: unexpected {part:?} in {def:?}"
                    )));
                }
            };
            positional += 1;
            action.insert(key.to_owned(), Value::String(part.to_owned()));
        }
        out.push(action);
    }
    Ok(out)
}

/// Checks ntfy actions and makes them buttons.
fn buttons(actions: &[Map<String, Value>]) -> Result<Vec<Action>, ApiError> {
    if actions.len() > MAX_NTFY_ACTIONS {
        return Err(ApiError::bad_request(format!(
            "too many actions: {}, at most {MAX_NTFY_ACTIONS}",
            actions.len()
        )));
    }
    let mut out = Vec::new();
    for (i, a) in actions.iter().enumerate() {
        let kind = a.get("action").and_then(Value::as_str).unwrap_or_default();
        if !matches!(kind, "view" | "http" | "broadcast" | "copy") {
            return Err(ApiError::bad_request(format!(
                "action {}: type {kind:?} is not view, http, broadcast or copy",
                i + 1
            )));
        }
        let label = a.get("label").and_then(Value::as_str).unwrap_or_default();
        if label.is_empty() {
            return Err(ApiError::bad_request(format!("action {}: no label", i + 1)));
        }
        if matches!(kind, "view" | "http") {
            let url = a.get("url").and_then(Value::as_str).unwrap_or_default();
            pushdesk_hub_model::validate::check_http_url("url", url)
                .map_err(|e| ApiError::bad_request(format!("action {}: {e}", i + 1)))?;
        }
        out.push(Action::new(format!("{kind}-{}", i + 1), label));
    }
    Ok(out)
}

/// ntfy's fields, wherever they came from.
#[derive(Debug, Default)]
pub struct Fields {
    /// `title`.
    pub title: Option<String>,
    /// The message.
    pub message: Option<String>,
    /// 1–5.
    pub priority: Option<u8>,
    /// Emoji tags.
    pub tags: Vec<String>,
    /// `click`.
    pub click: Option<String>,
    /// `icon`.
    pub icon: Option<String>,
    /// `actions`, in ntfy's JSON form.
    pub actions: Vec<Map<String, Value>>,
}

impl Fields {
    /// The options of a `PUT/POST /<channel>`: headers and query, and the
    /// body as the message (a `message` option wins over an empty body).
    pub fn from_request(
        headers: &HeaderMap,
        query: &[(String, String)],
        body: &[u8],
    ) -> Result<Self, ApiError> {
        let body = std::str::from_utf8(body).map_err(|_| {
            ApiError::bad_request("the message must be UTF-8 text (attachments are not supported)")
        })?;
        let mut fields = Self::from_options(headers, query)?;
        if !body.is_empty() {
            fields.message = Some(body.to_owned());
        }
        Ok(fields)
    }

    /// The options given as headers or query parameters.
    pub fn from_options(headers: &HeaderMap, query: &[(String, String)]) -> Result<Self, ApiError> {
        if option(headers, query, DELAY).is_some() {
            return Err(ApiError::bad_request(
                "delayed delivery (Delay/At/In) is not supported by this hub",
            ));
        }
        Ok(Self {
            title: option(headers, query, TITLE),
            message: option(headers, query, MESSAGE),
            priority: option(headers, query, PRIORITY)
                .map(|p| parse_priority(&p))
                .transpose()?,
            tags: option(headers, query, TAGS)
                .map(|t| {
                    t.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            click: option(headers, query, CLICK).filter(|c| !c.is_empty()),
            icon: option(headers, query, ICON).filter(|c| !c.is_empty()),
            actions: option(headers, query, ACTIONS)
                .map(|a| parse_actions(&a))
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// These fields, with what they lack taken from `other` (a JSON publish
    /// may carry some options as headers, as Apprise sends them).
    pub fn or(self, other: Self) -> Self {
        Self {
            title: self.title.or(other.title),
            message: self.message.or(other.message),
            priority: self.priority.or(other.priority),
            tags: if self.tags.is_empty() {
                other.tags
            } else {
                self.tags
            },
            click: self.click.or(other.click),
            icon: self.icon.or(other.icon),
            actions: if self.actions.is_empty() {
                other.actions
            } else {
                self.actions
            },
        }
    }

    /// A JSON publish to `/`: `{"topic", "message", "title", "priority",
    /// "tags", "click", "icon", "actions"}`. Returns the channel too.
    pub fn from_json(body: &[u8]) -> Result<(String, Self), ApiError> {
        let v: Map<String, Value> = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("not a JSON object: {e}")))?;
        let text = |key: &str| -> Result<Option<String>, ApiError> {
            match v.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ApiError::bad_request(format!("`{key}` must be a string"))),
            }
        };
        if v.contains_key("delay") {
            return Err(ApiError::bad_request(
                "delayed delivery is not supported by this hub",
            ));
        }
        let topic = text("topic")?.ok_or_else(|| ApiError::bad_request("`topic` is missing"))?;
        let priority = match v.get("priority") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(parse_priority(&n.to_string())?),
            Some(Value::String(s)) => Some(parse_priority(s)?),
            Some(_) => return Err(ApiError::bad_request("`priority` must be 1-5")),
        };
        let tags = match v.get("tags") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|t| t.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| ApiError::bad_request("`tags` must be strings"))?,
            Some(_) => return Err(ApiError::bad_request("`tags` must be an array")),
        };
        let actions = match v.get("actions") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|a| a.as_object().cloned())
                .collect::<Option<_>>()
                .ok_or_else(|| ApiError::bad_request("`actions` must be objects"))?,
            Some(_) => return Err(ApiError::bad_request("`actions` must be an array")),
        };
        Ok((
            topic,
            Self {
                title: text("title")?,
                message: text("message")?,
                priority,
                tags,
                click: text("click")?.filter(|c| !c.is_empty()),
                icon: text("icon")?.filter(|c| !c.is_empty()),
                actions,
            },
        ))
    }

    /// The request these fields ask for, in `channel`.
    pub fn into_request(self, channel: &str) -> Result<NotificationRequest, ApiError> {
        check_channel(channel).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let mut req = NotificationRequest::new(
            self.title
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| channel.to_owned()),
        );
        req.channel = Some(channel.to_owned());
        req.body = Some(
            self.message
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "triggered".to_owned()),
        );
        req.icon = Some(self.icon.unwrap_or_default());
        req.url = self.click;
        req.actions = buttons(&self.actions)?;
        let mut data = Map::new();
        if let Some(p) = self.priority {
            req.urgency = urgency(p);
            data.insert("priority".into(), Value::from(p));
        }
        if !self.tags.is_empty() {
            data.insert("tags".into(), Value::from(self.tags));
        }
        if !self.actions.is_empty() {
            data.insert("actions".into(), Value::from(self.actions));
        }
        if !data.is_empty() {
            req.data = Some(data);
        }
        Ok(req)
    }
}

/// A notification as ntfy's JSON message (what `/<channel>/json` streams
/// and what a publish answers).
pub fn message(n: &Notification) -> Value {
    let data = n.data.as_ref();
    let priority = data
        .and_then(|d| d.get("priority"))
        .and_then(Value::as_u64)
        .unwrap_or(match n.urgency {
            Urgency::Low => 2,
            Urgency::Normal => 3,
            Urgency::Critical => 5,
        });
    let mut m = Map::new();
    m.insert(
        "id".into(),
        Value::String(n.id.unwrap_or_default().to_string()),
    );
    m.insert(
        "time".into(),
        Value::from(n.timestamp.unwrap_or_default() / 1000),
    );
    if let Some(at) = n.expires_at() {
        m.insert("expires".into(), Value::from(at / 1000));
    }
    m.insert("event".into(), Value::from("message"));
    m.insert("topic".into(), Value::from(n.channel.as_str()));
    if !n.title.is_empty() {
        m.insert("title".into(), Value::from(n.title.as_str()));
    }
    m.insert("message".into(), Value::from(n.body.as_str()));
    m.insert("priority".into(), Value::from(priority));
    if let Some(tags) = data.and_then(|d| d.get("tags")) {
        m.insert("tags".into(), tags.clone());
    }
    if let Some(url) = &n.url {
        m.insert("click".into(), Value::from(url.as_str()));
    }
    if !n.icon.is_empty() {
        m.insert("icon".into(), Value::from(n.icon.as_str()));
    }
    if let Some(actions) = data.and_then(|d| d.get("actions")) {
        m.insert("actions".into(), actions.clone());
    } else if !n.actions.is_empty() {
        let list: Vec<Value> = n
            .actions
            .iter()
            .map(|a| json!({"id": a.id, "action": "broadcast", "label": a.title}))
            .collect();
        m.insert("actions".into(), Value::from(list));
    }
    Value::Object(m)
}

/// Where a subscription starts (`since=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// Only what is published from now on (no `since`).
    New,
    /// Everything kept (`all`).
    All,
    /// After this id (`since=<id>`, as a stream's `id` gives it).
    Id(u64),
    /// Published at or after this Unix time, in ms (`since=10m`, or a Unix
    /// time in seconds: any number from 1 000 000 000 up).
    Time(u64),
}

/// Parses `since=` at `now_ms`.
pub fn parse_since(text: Option<&str>, now_ms: u64) -> Result<Since, ApiError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Since::New);
    };
    if text == "all" {
        return Ok(Since::All);
    }
    if text == "latest" || text == "none" {
        return Ok(Since::New);
    }
    if let Ok(n) = text.parse::<u64>() {
        return Ok(if n >= 1_000_000_000 {
            Since::Time(n.saturating_mul(1000))
        } else {
            Since::Id(n)
        });
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match digits.parse::<u64>() {
        Ok(n) if secs > 0 => Ok(Since::Time(
            now_ms.saturating_sub(n.saturating_mul(secs).saturating_mul(1000)),
        )),
        _ => Err(ApiError::bad_request(format!(
            "since={text:?}: use all, a message id, a duration (30s, 10m, 2h, 1d) or a Unix time"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn headers_become_a_request() {
        let h = headers(&[
            ("title", "Backup done"),
            ("x-priority", "high"),
            ("tags", "floppy_disk, ok"),
            ("click", "https://ci.example/run/7"),
            (
                "actions",
                "view, Open run, https://ci.example/run/7; http, Retry, https://ci.example/retry, method=POST, clear=true",
            ),
        ]);
        let req = Fields::from_request(&h, &[], b"All 3 volumes saved")
            .and_then(|f| f.into_request("backups"))
            .expect("valid");
        assert_eq!(req.text, "Backup done");
        assert_eq!(req.body.as_deref(), Some("All 3 volumes saved"));
        assert_eq!(req.channel.as_deref(), Some("backups"));
        assert_eq!(
            req.urgency,
            Urgency::Normal,
            "ntfy's 4 is high, not critical"
        );
        assert_eq!(req.url.as_deref(), Some("https://ci.example/run/7"));
        assert_eq!(
            req.actions,
            [
                Action::new("view-1", "Open run"),
                Action::new("http-2", "Retry")
            ]
        );
        let data = req.data.clone().unwrap_or_default();
        assert_eq!(data["priority"], 4);
        assert_eq!(data["tags"], json!(["floppy_disk", "ok"]));
        assert_eq!(data["actions"][1]["method"], "POST");
        assert_eq!(data["actions"][1]["clear"], true);
        assert!(req.validate().is_ok());
    }

    #[test]
    fn query_parameters_and_defaults() {
        let q = vec![
            ("t".to_owned(), "From query".to_owned()),
            ("p".to_owned(), "5".to_owned()),
        ];
        let req = Fields::from_request(&HeaderMap::new(), &q, b"")
            .and_then(|f| f.into_request("ops"))
            .expect("valid");
        assert_eq!(req.text, "From query");
        assert_eq!(
            req.body.as_deref(),
            Some("triggered"),
            "ntfy's empty message"
        );
        assert_eq!(req.urgency, Urgency::Critical);
        let bare = Fields::from_request(&HeaderMap::new(), &[], b"hi")
            .and_then(|f| f.into_request("ops"))
            .expect("valid");
        assert_eq!(
            bare.text, "ops",
            "no title: the channel's name, as ntfy's apps show"
        );
        assert_eq!(
            bare.icon.as_deref(),
            Some(""),
            "no seed icon for HTTP messages"
        );
    }

    #[test]
    fn bad_input_is_a_clear_400() {
        let bad = [
            Fields::from_request(&headers(&[("priority", "9")]), &[], b"x").err(),
            Fields::from_request(&headers(&[("delay", "10m")]), &[], b"x").err(),
            Fields::from_request(&HeaderMap::new(), &[], &[0xff, 0xfe]).err(),
            Fields::from_request(&headers(&[("actions", "explode, Boom")]), &[], b"x")
                .and_then(|f| f.into_request("c"))
                .err(),
            Fields::from_request(
                &headers(&[("actions", "view, Open, javascript:alert(1)")]),
                &[],
                b"x",
            )
            .and_then(|f| f.into_request("c"))
            .err(),
            Fields::from_request(&HeaderMap::new(), &[], b"x")
                .and_then(|f| f.into_request("bad/name"))
                .err(),
        ];
        for (i, e) in bad.iter().enumerate() {
            let e = e
                .as_ref()
                .unwrap_or_else(|| panic!("case {i} was accepted"));
            assert_eq!(e.status.as_u16(), 400, "case {i}: {}", e.message);
            assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn a_json_publish_takes_what_it_lacks_from_the_headers() {
        // What Apprise 2.2 sends for ntfy://host/ops?priority=high&tags=warning.
        let (topic, f) = Fields::from_json(br#"{"topic": "ops", "title": "T", "message": "B"}"#)
            .expect("parses");
        let h = headers(&[
            ("x-priority", "high"),
            ("x-tags", "warning"),
            ("x-title", "ignored"),
        ]);
        let req = f
            .or(Fields::from_options(&h, &[]).expect("valid"))
            .into_request(&topic)
            .expect("valid");
        assert_eq!(req.text, "T", "the body's title wins");
        assert_eq!(req.data.unwrap_or_default()["tags"], json!(["warning"]));
    }

    #[test]
    fn json_publish() {
        let body = br#"{"topic":"alerts","message":"Disk 91%","title":"db1","tags":["warning"],"priority":5,
            "actions":[{"action":"view","label":"Grafana","url":"https://grafana.example/d/1"}]}"#;
        let (topic, f) = Fields::from_json(body).expect("parses");
        assert_eq!(topic, "alerts");
        let req = f.into_request(&topic).expect("valid");
        assert_eq!(req.urgency, Urgency::Critical);
        assert_eq!(req.actions, [Action::new("view-1", "Grafana")]);
        for bad in [
            &br#"{"message":"no topic"}"#[..],
            b"[1]",
            br#"{"topic":"a","tags":"x"}"#,
            b"{",
        ] {
            assert!(
                Fields::from_json(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn quoted_short_form_actions() {
        let a =
            parse_actions(r#"http, "Turn down, please", https://x.example/t, body='{"temp": 65}'"#)
                .expect("parses");
        assert_eq!(a[0]["label"], "Turn down, please");
        assert_eq!(a[0]["body"], r#"{"temp": 65}"#);
        let j = parse_actions(r#"[{"action":"view","label":"L","url":"https://x.example"}]"#)
            .expect("json");
        assert_eq!(j[0]["label"], "L");
    }

    #[test]
    fn the_message_format_gives_back_what_was_sent() {
        let req = Fields::from_request(
            &headers(&[("title", "T"), ("priority", "4"), ("tags", "a,b")]),
            &[],
            b"body",
        )
        .and_then(|f| f.into_request("ops"))
        .expect("valid");
        let mut n = Notification::from_request(req, 42, 1_700_000_000_123);
        n.ttl = Some(60_000);
        let m = message(&n);
        assert_eq!(m["id"], "42");
        assert_eq!(m["time"], 1_700_000_000);
        assert_eq!(m["expires"], 1_700_000_060);
        assert_eq!(m["event"], "message");
        assert_eq!(m["topic"], "ops");
        assert_eq!(m["title"], "T");
        assert_eq!(m["message"], "body");
        assert_eq!(m["priority"], 4);
        assert_eq!(m["tags"], json!(["a", "b"]));
        let plain = message(&Notification::new("x"));
        assert_eq!(plain["priority"], 3);
        assert_eq!(plain["topic"], "default");
    }

    #[test]
    fn since_forms() {
        let now = 10_000_000_000;
        assert_eq!(parse_since(None, now).ok(), Some(Since::New));
        assert_eq!(parse_since(Some("all"), now).ok(), Some(Since::All));
        assert_eq!(parse_since(Some("17"), now).ok(), Some(Since::Id(17)));
        assert_eq!(
            parse_since(Some("10m"), now).ok(),
            Some(Since::Time(now - 600_000))
        );
        assert_eq!(
            parse_since(Some("2d"), now).ok(),
            Some(Since::Time(now - 172_800_000))
        );
        assert_eq!(
            parse_since(Some("1700000000"), now).ok(),
            Some(Since::Time(1_700_000_000_000))
        );
        for bad in ["10y", "m", "-1", "abc"] {
            assert!(parse_since(Some(bad), now).is_err(), "{bad}");
        }
    }
}
