//! Who may connect: the browser-origin allow-list and access tokens. Pure.

/// Whether a browser `Origin` may open a Socket.IO connection.
///
/// Allowed by default: the hub's own origin (the Origin's host:port equals
/// the request's `Host`) and loopback origins (`localhost`, `127.0.0.0/8`,
/// `[::1]`, any port), which covers the bundled UI and the desktop app's
/// webview. `allow` adds exact origins (`https://app.example:8443`); `*`
/// allows every origin (the seed's `cors_allowed_origins='*'`, not advised).
/// Requests without an Origin (native clients, scripts) are not browser
/// requests and are left to the token check.
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allow: &[String]) -> bool {
    let Some(origin) = origin else { return true };
    let origin = origin.trim_end_matches('/');
    if allow
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    if !matches!(scheme, "http" | "https" | "tauri")
        || authority.contains('/')
        || authority.contains('@')
    {
        return false;
    }
    if host.is_some_and(|h| h.eq_ignore_ascii_case(authority)) {
        return true;
    }
    is_loopback(authority)
}

fn is_loopback(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split_once(']').map_or("", |(h, _)| h)
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                authority
            }
        })
    };
    if host.eq_ignore_ascii_case("localhost") || host == "::1" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `given` is one of the accepted tokens (no tokens configured: anyone).
/// Compares in time independent of where the strings differ.
pub fn token_accepted(given: Option<&str>, tokens: &[String]) -> bool {
    if tokens.is_empty() {
        return true;
    }
    let Some(given) = given else { return false };
    tokens.iter().fold(false, |ok, t| {
        ok | constant_time_eq(given.as_bytes(), t.as_bytes())
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let none: Vec<String> = vec![];
        assert!(
            origin_allowed(None, None, &none),
            "native clients send no Origin"
        );
        assert!(origin_allowed(
            Some("http://127.0.0.1:5000"),
            Some("127.0.0.1:5000"),
            &none
        ));
        assert!(origin_allowed(
            Some("http://localhost:1420"),
            Some("hub:5000"),
            &none
        ));
        assert!(origin_allowed(
            Some("http://127.8.9.1"),
            Some("hub:5000"),
            &none
        ));
        assert!(origin_allowed(
            Some("http://[::1]:3000"),
            Some("hub:5000"),
            &none
        ));
        assert!(
            origin_allowed(Some("https://hub.example"), Some("hub.example"), &none),
            "same origin"
        );
        assert!(!origin_allowed(
            Some("https://evil.example"),
            Some("hub.example"),
            &none
        ));
        assert!(!origin_allowed(
            Some("http://localhost.evil.example"),
            Some("hub:5000"),
            &none
        ));
        assert!(!origin_allowed(
            Some("http://127.0.0.1@evil.example"),
            Some("hub:5000"),
            &none
        ));
        assert!(!origin_allowed(Some("null"), Some("hub:5000"), &none));
        assert!(!origin_allowed(Some("file://"), Some("hub:5000"), &none));
        let allow = vec!["https://app.example/".to_owned()];
        assert!(origin_allowed(
            Some("https://app.example"),
            Some("hub:5000"),
            &allow
        ));
        assert!(!origin_allowed(
            Some("https://app.example.evil"),
            Some("hub:5000"),
            &allow
        ));
        assert!(origin_allowed(
            Some("https://anything"),
            None,
            &["*".to_owned()]
        ));
    }

    #[test]
    fn tokens() {
        let t = vec!["s3cret".to_owned(), "other".to_owned()];
        assert!(token_accepted(Some("s3cret"), &t));
        assert!(token_accepted(Some("other"), &t));
        assert!(!token_accepted(Some("s3cre"), &t));
        assert!(!token_accepted(Some(""), &t));
        assert!(!token_accepted(None, &t));
        assert!(token_accepted(None, &[]));
    }
}
