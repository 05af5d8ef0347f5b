//! Who may connect and what they may do: the browser-origin allow-list and
//! [`Rights`] on channel patterns (the tokens that carry them are in
//! [`crate::tokens`]). Pure.

use pushdesk_hub_model::ALL_CHANNELS;
use serde::{Deserialize, Serialize};

/// A channel pattern: a channel name in which `*` stands for any run of
/// characters (`alerts-*`, `*`, `*-prod`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pattern(String);

impl TryFrom<String> for Pattern {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text).ok_or_else(|| {
            format!("{text:?} is not a channel pattern (A-Z, a-z, 0-9, `_`, `-` and `*`)")
        })
    }
}

impl From<Pattern> for String {
    fn from(p: Pattern) -> String {
        p.0
    }
}

impl Pattern {
    /// A pattern, if `text` is one: channel-name characters and `*`, 1 to 64.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = !text.is_empty()
            && text.len() <= pushdesk_hub_model::channel::MAX_CHANNEL_CHARS
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'*'));
        valid.then(|| Self(text.to_owned()))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `channel` matches. The subscription to every channel,
    /// [`ALL_CHANNELS`], matches only the pattern `*`.
    pub fn matches(&self, channel: &str) -> bool {
        if channel == ALL_CHANNELS {
            return self.0 == ALL_CHANNELS;
        }
        glob(self.0.as_bytes(), channel.as_bytes())
    }
}

/// `*`-only glob matching, iterative (no backtracking blow-up: the last
/// star is the only one retried).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// What a credential allows: reading (subscribing to) and writing
/// (publishing to) channels matching its patterns, and changing the shared text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rights {
    /// Channels it may subscribe to and read the history of.
    #[serde(default)]
    pub read: Vec<Pattern>,
    /// Channels it may publish to.
    #[serde(default)]
    pub write: Vec<Pattern>,
    /// Whether it may change the shared text.
    #[serde(default)]
    pub text: bool,
}

impl Rights {
    /// Everything: a hub without tokens, or a `--token`.
    pub fn all() -> Self {
        let star = || vec![Pattern(ALL_CHANNELS.to_owned())];
        Self {
            read: star(),
            write: star(),
            text: true,
        }
    }

    /// Whether it may subscribe to `channel` (or to [`ALL_CHANNELS`]).
    pub fn can_read(&self, channel: &str) -> bool {
        self.read.iter().any(|p| p.matches(channel))
    }

    /// Whether it may publish to `channel`.
    pub fn can_write(&self, channel: &str) -> bool {
        self.write.iter().any(|p| p.matches(channel))
    }
}

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

/// Whether a request's `Host` may reach the hub: the guard against DNS
/// rebinding, where a page at `evil.example` has its name re-pointed at
/// this hub and then talks to it as its own origin (`Origin` equals `Host`,
/// so the origin check alone lets it in).
///
/// Always allowed: IP literals (a rebinding needs a name), `localhost` and
/// `*.localhost`, a missing `Host`, and the names in `allow`
/// (`--allow-host`, host names without a port; `*` allows any). Any other
/// name is allowed only when the hub listens beyond loopback and `allow` is
/// empty: there it has no way to know the names clients use (the server
/// warns at start).
pub fn host_allowed(host: Option<&str>, loopback_only: bool, allow: &[String]) -> bool {
    let Some(authority) = host else { return true };
    let name = host_name(authority);
    if name.is_empty() {
        return false;
    }
    if name.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = name.trim_end_matches('.');
    if name.eq_ignore_ascii_case("localhost") || name.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    if allow
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('.').eq_ignore_ascii_case(name))
    {
        return true;
    }
    !loopback_only && allow.is_empty()
}

/// The host of an authority (`name:port`, `[v6]:port`, `name`), brackets
/// taken off an IPv6 literal.
fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split_once(']').map_or("", |(h, _)| h);
    }
    match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
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
    fn hosts_guard_against_dns_rebinding() {
        let none: &[String] = &[];
        for ok in [
            "127.0.0.1:5000",
            "localhost:5000",
            "LOCALHOST",
            "app.localhost:1",
            "[::1]:5000",
            "192.168.1.20:5000",
            "[fe80::1]",
        ] {
            assert!(host_allowed(Some(ok), true, none), "{ok}");
        }
        assert!(host_allowed(None, true, none));
        for bad in [
            "evil.example:5000",
            "evil.example",
            "localhost.evil.example",
            "[",
            ":5000",
        ] {
            assert!(!host_allowed(Some(bad), true, none), "{bad}");
        }
        let listed = vec!["hub.lan".to_owned()];
        assert!(host_allowed(Some("HUB.lan:5000"), true, &listed));
        assert!(host_allowed(Some("hub.lan."), true, &listed));
        assert!(!host_allowed(Some("evil.example"), true, &listed));
        // Beyond loopback: any name until names are listed.
        assert!(host_allowed(Some("desk.lan:5000"), false, none));
        assert!(!host_allowed(Some("desk.lan:5000"), false, &listed));
        assert!(host_allowed(Some("anything"), true, &["*".to_owned()]));
    }

    fn pat(p: &str) -> Pattern {
        Pattern::parse(p).unwrap_or_else(|| panic!("{p} is a pattern"))
    }

    #[test]
    fn patterns() {
        assert!(pat("alerts-*").matches("alerts-db"));
        assert!(pat("alerts-*").matches("alerts-"));
        assert!(!pat("alerts-*").matches("alert"));
        assert!(!pat("alerts-*").matches("x-alerts-db"));
        assert!(pat("*").matches("anything"));
        assert!(pat("*").matches("*"), "`*` may subscribe to every channel");
        assert!(!pat("a*").matches("*"), "a narrower pattern may not");
        assert!(pat("*-prod").matches("db-prod"));
        assert!(pat("a*b*c").matches("aXbYbZc"));
        assert!(!pat("a*b*c").matches("aXbYbZ"));
        assert!(pat("backups").matches("backups"));
        assert!(!pat("backups").matches("backups2"));
        assert!(pat("**").matches("x"));
        // No exponential backtracking on a hostile channel name.
        assert!(!pat(&"*a".repeat(30)).matches(&"a".repeat(64).replace("aa", "ab")));
        for bad in ["", "a b", "a/b", "é", &"x".repeat(65)] {
            assert!(Pattern::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn rights() {
        let r = Rights {
            read: vec![pat("alerts-*")],
            write: vec![pat("backups")],
            text: false,
        };
        assert!(r.can_read("alerts-x"));
        assert!(!r.can_read("backups"));
        assert!(!r.can_read("*"));
        assert!(r.can_write("backups"));
        assert!(!r.can_write("alerts-x"));
        let all = Rights::all();
        assert!(all.can_read("*") && all.can_write("x") && all.text);
        assert!(!Rights::default().can_read("default"));
    }
}
