//! [`ValidationError`] and the pure validation rules.
//!
//! Each rule is a small function returning `Result<(), ValidationError>`;
//! [`NotificationRequest::validate`](crate::NotificationRequest::validate),
//! [`Notification::validate`](crate::Notification::validate) and
//! [`TextUpdate::validate`](crate::TextUpdate::validate) combine them with
//! the constants of [`limits`](crate::limits).

use serde::Serialize;

use crate::action::Action;
use crate::limits::{
    MAX_ACTION_ID_CHARS, MAX_ACTION_TITLE_CHARS, MAX_ACTIONS, MAX_ICON_CHARS, MAX_URL_CHARS,
};

/// Why a payload was refused. The `Display` text is meant for the sender
/// (it goes into a rejected [`Ack`](crate::Ack)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// A text field has more characters than allowed.
    #[error("`{field}` is too long: {len} characters, at most {max} allowed")]
    TooManyChars {
        /// Wire name of the field.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field is larger, in UTF-8 bytes, than allowed.
    #[error("`{field}` is too large: {len} bytes, at most {max} allowed")]
    TooManyBytes {
        /// Wire name of the field.
        field: &'static str,
        /// Its size in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A URL has a scheme other than `http` or `https`.
    #[error("`{field}` must be an http or https URL, not `{scheme}:`")]
    UrlScheme {
        /// Wire name of the field.
        field: &'static str,
        /// The refused scheme (lowercased, shortened if very long).
        scheme: String,
    },
    /// A URL is malformed.
    #[error("`{field}` is not a valid URL: {reason}")]
    BadUrl {
        /// Wire name of the field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More action buttons than allowed.
    #[error("too many actions: {len}, at most {max} allowed")]
    TooManyActions {
        /// Number of actions sent.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An action has an empty id.
    #[error("an action id must not be empty")]
    EmptyActionId,
    /// Two actions share an id.
    #[error("duplicate action id `{id}`")]
    DuplicateActionId {
        /// The repeated id.
        id: String,
    },
    /// A channel name outside `[A-Za-z0-9_-]{1,64}`.
    #[error("`{name}` is not a channel name: 1 to 64 of A-Z, a-z, 0-9, `_` and `-`")]
    BadChannel {
        /// The refused name (cut after 65 characters).
        name: String,
    },
}

/// Checks that `value` has at most `max` characters (Unicode scalar values,
/// not bytes).
pub fn check_chars(field: &'static str, value: &str, max: usize) -> Result<(), ValidationError> {
    // A string never has more characters than bytes: skip counting when short.
    if value.len() <= max {
        return Ok(());
    }
    let len = value.chars().count();
    if len > max {
        return Err(ValidationError::TooManyChars { field, len, max });
    }
    Ok(())
}

/// Checks that `value` has at most `max` UTF-8 bytes.
pub fn check_bytes(field: &'static str, value: &str, max: usize) -> Result<(), ValidationError> {
    let len = value.len();
    if len > max {
        return Err(ValidationError::TooManyBytes { field, len, max });
    }
    Ok(())
}

/// Checks that the compact JSON encoding of `value` has at most `max` bytes.
pub fn check_json_bytes<T: Serialize + ?Sized>(
    field: &'static str,
    value: &T,
    max: usize,
) -> Result<(), ValidationError> {
    let len = json_len(value);
    if len > max {
        return Err(ValidationError::TooManyBytes { field, len, max });
    }
    Ok(())
}

/// Length in bytes of the compact JSON encoding of `value`.
fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    /// A writer that only counts.
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing JSON values to a writer that never fails cannot fail; if it
    // ever did, count the value as too large rather than as small.
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// Checks a URL the user may be sent to: at most [`MAX_URL_CHARS`]
/// characters, absolute, `http` or `https` (any case), followed by `//` and a
/// non-empty host, without credentials, whitespace, control characters or
/// backslashes (which browsers silently strip or rewrite).
///
/// `javascript:`, `data:`, `file:` and every other scheme are refused.
pub fn check_http_url(field: &'static str, value: &str) -> Result<(), ValidationError> {
    check_chars(field, value, MAX_URL_CHARS)?;
    check_url_chars(field, value)?;
    let Some(scheme) = scheme_of(value) else {
        return Err(ValidationError::BadUrl {
            field,
            reason: "not an absolute URL (expected http:// or https://)",
        });
    };
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(ValidationError::UrlScheme {
            field,
            scheme: scheme
                .chars()
                .take(32)
                .collect::<String>()
                .to_ascii_lowercase(),
        });
    }
    let rest = value.get(scheme.len() + 1..).unwrap_or_default();
    let Some(after_slashes) = rest.strip_prefix("//") else {
        return Err(ValidationError::BadUrl {
            field,
            reason: "expected `//` after the scheme",
        });
    };
    let authority_end = after_slashes
        .find(['/', '?', '#'])
        .unwrap_or(after_slashes.len());
    let authority = after_slashes.get(..authority_end).unwrap_or_default();
    if authority.contains('@') {
        return Err(ValidationError::BadUrl {
            field,
            reason: "credentials in URLs are not allowed",
        });
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Err(ValidationError::BadUrl {
            field,
            reason: "missing host",
        });
    }
    Ok(())
}

/// Checks an icon reference: empty (no icon), a relative reference resolved
/// against the hub (the seed sends `images/icon.png`), or an absolute URL
/// accepted by [`check_http_url`]. At most [`MAX_ICON_CHARS`] characters.
pub fn check_icon(field: &'static str, value: &str) -> Result<(), ValidationError> {
    check_chars(field, value, MAX_ICON_CHARS)?;
    check_url_chars(field, value)?;
    match scheme_of(value) {
        None => Ok(()),
        Some(_) => check_http_url(field, value),
    }
}

/// Checks a list of action buttons: at most [`MAX_ACTIONS`], ids non-empty,
/// unique and at most [`MAX_ACTION_ID_CHARS`], labels at most
/// [`MAX_ACTION_TITLE_CHARS`].
pub fn check_actions(actions: &[Action]) -> Result<(), ValidationError> {
    if actions.len() > MAX_ACTIONS {
        return Err(ValidationError::TooManyActions {
            len: actions.len(),
            max: MAX_ACTIONS,
        });
    }
    for (i, action) in actions.iter().enumerate() {
        if action.id.is_empty() {
            return Err(ValidationError::EmptyActionId);
        }
        check_chars("actions.id", &action.id, MAX_ACTION_ID_CHARS)?;
        check_chars("actions.title", &action.title, MAX_ACTION_TITLE_CHARS)?;
        if actions.iter().take(i).any(|a| a.id == action.id) {
            return Err(ValidationError::DuplicateActionId {
                id: action.id.clone(),
            });
        }
    }
    Ok(())
}

/// Refuses whitespace, control characters and backslashes anywhere in a URL.
fn check_url_chars(field: &'static str, value: &str) -> Result<(), ValidationError> {
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return Err(ValidationError::BadUrl {
            field,
            reason: "whitespace, control characters and backslashes are not allowed",
        });
    }
    Ok(())
}

/// The scheme of `value` if it starts with one (RFC 3986:
/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`), else `None` (a relative
/// reference).
fn scheme_of(value: &str) -> Option<&str> {
    let (scheme, _) = value.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn chars_are_counted_not_bytes() {
        assert!(check_chars("title", "日本語", 3).is_ok());
        assert_eq!(
            check_chars("title", "日本語", 2),
            Err(ValidationError::TooManyChars {
                field: "title",
                len: 3,
                max: 2
            })
        );
        assert!(check_chars("title", "", 0).is_ok());
        assert!(check_chars("title", "a", 0).is_err());
    }

    #[test]
    fn bytes_are_counted() {
        assert!(check_bytes("text", "日本語", 9).is_ok());
        assert!(check_bytes("text", "日本語", 8).is_err());
    }

    #[test]
    fn json_bytes_are_the_compact_encoding() {
        // `{"a":[1,2]}` is 11 bytes.
        let v = json!({"a": [1, 2]});
        assert!(check_json_bytes("data", &v, 11).is_ok());
        assert_eq!(
            check_json_bytes("data", &v, 10),
            Err(ValidationError::TooManyBytes {
                field: "data",
                len: 11,
                max: 10
            })
        );
        assert!(check_json_bytes("num", &Value::Null, 4).is_ok());
        assert!(check_json_bytes("num", &Value::Null, 3).is_err());
    }

    #[test]
    fn http_and_https_urls_pass() {
        for ok in [
            "http://example.com",
            "https://example.com/",
            "HTTPS://Example.COM/path?q=1#frag",
            "https://localhost:8080/x",
            "http://127.0.0.1/",
            "https://[::1]:3000/",
            "https://例え.jp/日本語",
        ] {
            assert_eq!(check_http_url("url", ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn other_schemes_are_refused() {
        for (bad, scheme) in [
            ("javascript:alert(1)", "javascript"),
            ("JavaScript:alert(1)", "javascript"),
            ("file:///etc/passwd", "file"),
            ("data:text/html,<script>alert(1)</script>", "data"),
            ("ftp://example.com/", "ftp"),
            ("vbscript:msgbox", "vbscript"),
            ("c:/windows/system32", "c"),
            ("httpx://example.com", "httpx"),
        ] {
            assert_eq!(
                check_http_url("url", bad),
                Err(ValidationError::UrlScheme {
                    field: "url",
                    scheme: scheme.to_owned()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn tricky_urls_are_refused() {
        for bad in [
            "",
            "example.com",
            "/relative/path",
            "//example.com/",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "https:example.com",
            "https:/example.com",
            "https:\\\\example.com",
            "https://",
            "https:///path",
            "https://:80/",
            "https://user:pw@example.com/",
            "https://example.com@evil.example/",
            "https://exa mple.com/",
            "https://example.com/\u{0}",
            "https://example.com/\u{3000}",
        ] {
            assert!(
                matches!(
                    check_http_url("url", bad),
                    Err(ValidationError::BadUrl { field: "url", .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn url_length_limit_is_inclusive() {
        let prefix = "https://example.com/";
        let at_limit = format!("{prefix}{}", "a".repeat(MAX_URL_CHARS - prefix.len()));
        assert_eq!(at_limit.chars().count(), MAX_URL_CHARS);
        assert!(check_http_url("url", &at_limit).is_ok());
        let over = format!("{at_limit}a");
        assert_eq!(
            check_http_url("url", &over),
            Err(ValidationError::TooManyChars {
                field: "url",
                len: MAX_URL_CHARS + 1,
                max: MAX_URL_CHARS
            })
        );
        // Characters, not bytes.
        let cjk = format!("{prefix}{}", "日".repeat(MAX_URL_CHARS - prefix.len()));
        assert!(check_http_url("url", &cjk).is_ok());
    }

    #[test]
    fn long_scheme_is_shortened_in_the_error() {
        let bad = format!("{}:x", "a".repeat(1000));
        match check_http_url("url", &bad) {
            Err(ValidationError::UrlScheme { scheme, .. }) => assert_eq!(scheme.len(), 32),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn icons_may_be_relative_or_http() {
        for ok in [
            "",
            "images/icon.png",
            "/static/icon.png",
            "./a/b.png?v=2",
            "https://cdn.example/icon.png",
        ] {
            assert_eq!(check_icon("icon", ok), Ok(()), "{ok}");
        }
        for bad in [
            "file:///home/user/.ssh/id_rsa",
            "data:image/png;base64,AAAA",
            "javascript:alert(1)",
            "C:\\icon.png",
            "images\\icon.png",
            "images/ icon.png",
            "https://user@example.com/icon.png",
        ] {
            assert!(check_icon("icon", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn action_rules() {
        let a = |id: &str, title: &str| Action::new(id, title);
        assert!(check_actions(&[]).is_ok());
        assert!(check_actions(&[a("open", "開く"), a("dismiss", "閉じる")]).is_ok());
        let four: Vec<Action> = (0..MAX_ACTIONS).map(|i| a(&i.to_string(), "x")).collect();
        assert!(check_actions(&four).is_ok());
        let five: Vec<Action> = (0..=MAX_ACTIONS).map(|i| a(&i.to_string(), "x")).collect();
        assert_eq!(
            check_actions(&five),
            Err(ValidationError::TooManyActions {
                len: MAX_ACTIONS + 1,
                max: MAX_ACTIONS
            })
        );
        assert_eq!(
            check_actions(&[a("", "x")]),
            Err(ValidationError::EmptyActionId)
        );
        assert_eq!(
            check_actions(&[a("x", "1"), a("x", "2")]),
            Err(ValidationError::DuplicateActionId { id: "x".into() })
        );
        assert!(check_actions(&[a(&"i".repeat(MAX_ACTION_ID_CHARS), "")]).is_ok());
        assert!(check_actions(&[a(&"i".repeat(MAX_ACTION_ID_CHARS + 1), "")]).is_err());
        assert!(check_actions(&[a("i", &"語".repeat(MAX_ACTION_TITLE_CHARS))]).is_ok());
        assert!(check_actions(&[a("i", &"語".repeat(MAX_ACTION_TITLE_CHARS + 1))]).is_err());
    }

    #[test]
    fn errors_read_well() {
        assert_eq!(
            ValidationError::TooManyChars {
                field: "title",
                len: 257,
                max: 256
            }
            .to_string(),
            "`title` is too long: 257 characters, at most 256 allowed"
        );
        assert_eq!(
            check_http_url("url", "javascript:alert(1)")
                .unwrap_err()
                .to_string(),
            "`url` must be an http or https URL, not `javascript:`"
        );
    }
}
