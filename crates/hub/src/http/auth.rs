//! Which token an HTTP request presents, in every way ntfy's and Gotify's
//! clients send one. Pure.
//!
//! In order: `Authorization: Bearer T`; `Authorization: Basic` with the
//! token as the password (or as the user when the password is empty);
//! ntfy's `?auth=` (the base64 of a whole `Authorization` value); Gotify's
//! `X-Gotify-Key: T` and `?token=T`.

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// The token of an `Authorization` header value, if it carries one.
fn from_authorization(value: &str) -> Option<String> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_owned()).filter(|t| !t.is_empty());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':').unwrap_or((&text, ""));
        let token = if password.is_empty() { user } else { password };
        return Some(token.to_owned()).filter(|t| !t.is_empty());
    }
    None
}

/// ntfy's `auth` query parameter: an `Authorization` value, base64
/// (URL-safe, padding optional).
fn from_auth_param(param: &str) -> Option<String> {
    let trimmed = param.trim_end_matches('=');
    let decoded = URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| STANDARD.decode(param))
        .ok()?;
    from_authorization(&String::from_utf8(decoded).ok()?)
}

/// The token a request presents, if any. `query` is the raw query string.
pub fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(t) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(from_authorization)
    {
        return Some(t);
    }
    let params = super::query_pairs(query);
    if let Some(t) = params
        .iter()
        .find(|(k, _)| k == "auth")
        .and_then(|(_, v)| from_auth_param(v))
    {
        return Some(t);
    }
    if let Some(t) = headers
        .get("x-gotify-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Some(t.to_owned());
    }
    params
        .into_iter()
        .find(|(k, v)| k == "token" && !v.is_empty())
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).expect("header"));
        h
    }

    #[test]
    fn every_way_of_presenting_a_token() {
        let none = HeaderMap::new();
        assert_eq!(presented_token(&none, None), None);
        assert_eq!(
            presented_token(&with("authorization", "Bearer tk_1"), None).as_deref(),
            Some("tk_1")
        );
        // Basic: ntfy's `-u :token`, and `user:token`.
        let basic = |s: &str| format!("Basic {}", STANDARD.encode(s));
        assert_eq!(
            presented_token(&with("authorization", &basic(":tk_2")), None).as_deref(),
            Some("tk_2")
        );
        assert_eq!(
            presented_token(&with("authorization", &basic("me:tk_3")), None).as_deref(),
            Some("tk_3")
        );
        assert_eq!(
            presented_token(&with("authorization", &basic("tk_4")), None).as_deref(),
            Some("tk_4")
        );
        // ntfy's ?auth= is base64 of the header value, without padding.
        let auth = URL_SAFE_NO_PAD.encode("Bearer tk_5");
        assert_eq!(
            presented_token(&none, Some(&format!("auth={auth}&poll=1"))).as_deref(),
            Some("tk_5")
        );
        assert_eq!(
            presented_token(&with("x-gotify-key", "tk_6"), None).as_deref(),
            Some("tk_6")
        );
        assert_eq!(
            presented_token(&none, Some("token=tk_7")).as_deref(),
            Some("tk_7")
        );
        assert_eq!(
            presented_token(&with("authorization", "Digest x"), None),
            None
        );
        assert_eq!(
            presented_token(&with("authorization", "Basic !!!"), None),
            None
        );
        assert_eq!(presented_token(&none, Some("auth=%%%")), None);
    }
}
