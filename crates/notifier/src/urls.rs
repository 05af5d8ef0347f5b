//! The URL rules: which click URLs may be opened ([`openable_url`]) and
//! where an icon path from the hub points ([`resolve_icon`]). Pure.
//!
//! Whatever the hub sends, a click opens only an http(s) page in the
//! browser, and an icon is only ever fetched over http(s): a path from the
//! network never becomes a local file read.

use pushdesk_hub_model::limits::{MAX_ICON_CHARS, MAX_URL_CHARS};
use pushdesk_hub_model::validate::check_http_url;
use url::Url;

use crate::error::Refused;

/// The URL a click may open: absolute `http://` or `https://` with a host,
/// no user name or password (`https://bank.example@evil.example/` shows one
/// host and opens another), no control characters or surrounding spaces,
/// at most 2048 characters. Anything else (`file:`, `javascript:`, `data:`,
/// custom schemes that launch other apps, relative paths) is refused; log
/// the refusal.
pub fn openable_url(raw: &str) -> Result<Url, Refused> {
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(Refused::new(
            raw,
            format!("longer than {MAX_URL_CHARS} characters"),
        ));
    }
    if raw.trim() != raw || raw.chars().any(char::is_control) {
        return Err(Refused::new(
            raw,
            "spaces around it or control characters in it",
        ));
    }
    check_http_url("url", raw).map_err(|e| Refused::new(raw, e.to_string()))?;
    let url = Url::parse(raw).map_err(|e| Refused::new(raw, e.to_string()))?;
    check_parsed(&url).map_err(|reason| Refused::new(raw, reason))?;
    Ok(url)
}

/// Where an icon from the hub is fetched from, or `None` (no icon).
///
/// `icon` is what the hub sent: a path such as the seed's `images/icon.png`
/// (resolved against `hub_base`, the URL the app connects to, as a browser
/// resolves it against the page) or an absolute URL. Only an http(s) result
/// without credentials is kept; a `ws(s)://` hub URL counts as http(s).
/// `file:`, `data:`, other schemes, empty or oversized values give `None`.
pub fn resolve_icon(hub_base: &Url, icon: &str) -> Option<Url> {
    let icon = icon.trim();
    if icon.is_empty()
        || icon.chars().count() > MAX_ICON_CHARS
        || icon.chars().any(char::is_control)
    {
        return None;
    }
    let mut base = hub_base.clone();
    let http_scheme = match base.scheme() {
        "http" | "ws" => "http",
        "https" | "wss" => "https",
        _ => return None,
    };
    if base.scheme() != http_scheme {
        base.set_scheme(http_scheme).ok()?;
    }
    let url = base.join(icon).ok()?;
    check_parsed(&url).ok()?;
    Some(url)
}

/// http(s), a host, no credentials.
fn check_parsed(url: &Url) -> Result<(), &'static str> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https URLs are opened");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("user name or password in the URL");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a panic is the failure report

    use super::*;

    #[test]
    fn http_and_https_open() {
        for ok in [
            "http://example.com",
            "https://example.com/a/b?c=d#e",
            "HTTPS://Example.COM:8443/x",
            "http://127.0.0.1:5000/",
            "https://[::1]/",
            "https://例え.jp/パス",
        ] {
            let url = openable_url(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(matches!(url.scheme(), "http" | "https"));
        }
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            "",
            "example.com",
            "/relative/path",
            "//example.com/x",
            "file:///etc/passwd",
            "FILE:///C:/Windows/system32/calc.exe",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java\nscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "ms-settings:privacy",
            "steam://run/1",
            "ftp://example.com/",
            "http:example.com",
            "http:/example.com",
            "https://user:pass@example.com/",
            "https://bank.example@evil.example/",
            "https://bank.example\\@evil.example/",
            " https://example.com",
            "https://example.com/\n",
            "https://exa\u{0}mple.com/",
            "http://",
        ] {
            let err = openable_url(bad).expect_err(bad);
            assert!(!err.reason.is_empty());
        }
        let long = format!("https://example.com/{}", "a".repeat(3000));
        assert!(openable_url(&long).is_err());
    }

    #[test]
    fn refusals_are_short_enough_to_log() {
        let long = format!("javascript:{}", "a".repeat(10_000));
        let err = openable_url(&long).unwrap_err();
        assert_eq!(err.shown.chars().count(), 100);
    }

    fn base(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn seed_paths_resolve_against_the_hub() {
        let hub = base("http://127.0.0.1:5000");
        assert_eq!(
            resolve_icon(&hub, "images/icon.png").unwrap().as_str(),
            "http://127.0.0.1:5000/images/icon.png"
        );
        assert_eq!(
            resolve_icon(&hub, "/images/icon.png").unwrap().as_str(),
            "http://127.0.0.1:5000/images/icon.png"
        );
        // As a browser resolves it against the page.
        assert_eq!(
            resolve_icon(&base("https://hub.example/app/"), "images/i.png")
                .unwrap()
                .as_str(),
            "https://hub.example/app/images/i.png"
        );
        assert_eq!(
            resolve_icon(&base("wss://hub.example/"), "i.png")
                .unwrap()
                .as_str(),
            "https://hub.example/i.png"
        );
        assert_eq!(
            resolve_icon(&base("ws://hub.example:81/"), "i.png")
                .unwrap()
                .as_str(),
            "http://hub.example:81/i.png"
        );
        // Stays on the hub: `..` cannot climb out of the URL into the disk.
        assert_eq!(
            resolve_icon(&hub, "../../../../etc/passwd")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:5000/etc/passwd"
        );
    }

    #[test]
    fn absolute_http_icons_are_kept() {
        let hub = base("http://127.0.0.1:5000/");
        assert_eq!(
            resolve_icon(&hub, "https://cdn.example/i.png")
                .unwrap()
                .as_str(),
            "https://cdn.example/i.png"
        );
        assert_eq!(
            resolve_icon(&hub, "//cdn.example/i.png").unwrap().as_str(),
            "http://cdn.example/i.png"
        );
    }

    #[test]
    fn no_icon_becomes_a_local_file_or_another_scheme() {
        let hub = base("http://127.0.0.1:5000/");
        for bad in [
            "",
            "   ",
            "file:///etc/passwd",
            "FILE:/etc/passwd",
            "file://localhost/home/u/.ssh/id_rsa",
            "C:\\Windows\\win.ini",
            "c:/Windows/win.ini",
            "data:image/png;base64,AAAA",
            "javascript:alert(1)",
            "smb://server/share/i.png",
            "https://user:pw@cdn.example/i.png",
            "icon\u{0}.png",
        ] {
            assert_eq!(resolve_icon(&hub, bad), None, "{bad:?}");
        }
        assert_eq!(resolve_icon(&hub, &"a".repeat(3000)), None);
        // A hub URL that is not http(s) resolves nothing.
        assert_eq!(resolve_icon(&base("file:///srv/hub/"), "i.png"), None);
    }
}
