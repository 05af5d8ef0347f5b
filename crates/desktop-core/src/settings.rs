//! [`Settings`]: what the user chose, saved as JSON in the data directory.
//! Loading never loses a file: one that can't be read is kept aside as
//! `settings.json.bad` and the defaults are used.

use std::path::{Path, PathBuf};

use pushdesk_hub_model::Urgency;
use serde::{Deserialize, Serialize};

/// Longest token accepted (the hub's own limit is lower).
pub const MAX_TOKEN_CHARS: usize = 4096;

/// The user's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Settings {
    /// The hub (http, https, ws or wss URL); `None` runs the embedded hub.
    pub server: Option<String>,
    /// Access token for the hub.
    pub token: Option<String>,
    /// Extra CA certificate (PEM file) to trust for the hub's TLS.
    pub ca_cert: Option<PathBuf>,
    /// Accept any certificate, self-signed included (explicit opt-in).
    pub accept_invalid_certs: bool,
    /// Do Not Disturb: notifications go to the history only.
    pub do_not_disturb: bool,
    /// Notifications below this urgency go to the history only.
    pub min_urgency: Urgency,
    /// Start (hidden, in the tray) when the user logs in.
    pub start_at_login: bool,
    /// The channels to follow (`*`: every channel the token may read);
    /// `default` is the seed's only channel.
    pub channels: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: None,
            token: None,
            ca_cert: None,
            accept_invalid_certs: false,
            do_not_disturb: false,
            // Everything is shown until the user asks for less.
            min_urgency: Urgency::Low,
            start_at_login: false,
            channels: vec![pushdesk_hub_model::DEFAULT_CHANNEL.to_owned()],
        }
    }
}

/// Why settings were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// The server URL is not a usable hub URL.
    #[error("server URL {0:?} is not an http, https, ws or wss URL")]
    BadServer(String),
    /// A channel to follow is not a channel name.
    #[error("{0}")]
    BadChannel(String),
    /// The token is too long or has control characters.
    #[error("the token must be at most {MAX_TOKEN_CHARS} characters, without control characters")]
    BadToken,
}

impl Settings {
    /// Normalises (trims, drops empty strings) and checks what a user typed.
    pub fn validated(mut self) -> Result<Self, SettingsError> {
        self.server = non_empty(self.server);
        self.token = non_empty(self.token);
        if self
            .ca_cert
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            self.ca_cert = None;
        }
        if let Some(server) = &self.server {
            check_server(server)?;
        }
        let mut channels: Vec<String> = Vec::new();
        for c in self
            .channels
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
        {
            pushdesk_hub_model::channel::check_subscription(c)
                .map_err(|e| SettingsError::BadChannel(e.to_string()))?;
            if !channels.iter().any(|k| k == c) {
                channels.push(c.to_owned());
            }
        }
        if channels.is_empty() {
            // Following nothing is never what an empty field means.
            channels.push(pushdesk_hub_model::DEFAULT_CHANNEL.to_owned());
        }
        self.channels = channels;
        if let Some(token) = &self.token
            && (token.chars().count() > MAX_TOKEN_CHARS || token.chars().any(char::is_control))
        {
            return Err(SettingsError::BadToken);
        }
        Ok(self)
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A hub URL must be absolute http(s)/ws(s) with a host.
pub fn check_server(server: &str) -> Result<url::Url, SettingsError> {
    let bad = || SettingsError::BadServer(server.to_owned());
    let url = url::Url::parse(server).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https" | "ws" | "wss") || url.host_str().is_none() {
        return Err(bad());
    }
    Ok(url)
}

/// Where [`Settings`] are kept.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    /// `settings.json` in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            path: dir.join("settings.json"),
        }
    }

    /// The saved settings; defaults when there are none. A file that can't
    /// be used is renamed to `settings.json.bad` (so nothing is lost) and
    /// reported in the error alongside the defaults.
    pub fn load(&self) -> (Settings, Option<String>) {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return (Settings::default(), None);
            }
            Err(e) => {
                return (
                    Settings::default(),
                    Some(format!("{}: {e}", self.path.display())),
                );
            }
        };
        match serde_json::from_str::<Settings>(&text)
            .map_err(|e| e.to_string())
            .and_then(|s| s.validated().map_err(|e| e.to_string()))
        {
            Ok(settings) => (settings, None),
            Err(e) => {
                let aside = self.path.with_extension("json.bad");
                let _ = std::fs::rename(&self.path, &aside);
                let msg = format!(
                    "{} could not be used ({e}); defaults in use, the file is kept as {}",
                    self.path.display(),
                    aside.display()
                );
                (Settings::default(), Some(msg))
            }
        }
    }

    /// Saves atomically, readable by the user only (it holds the token):
    /// see [`crate::private_file::write_private`].
    pub fn save(&self, settings: &Settings) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(settings).map_err(std::io::Error::other)?;
        crate::private_file::write_private(&self.path, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_strings_mean_unset_and_urls_are_checked() {
        let s = Settings {
            server: Some("  ".into()),
            token: Some(String::new()),
            ..Default::default()
        };
        let s = s.validated().expect("valid");
        assert_eq!(s.server, None);
        assert_eq!(s.token, None);
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "127.0.0.1:5000",
            "http://",
        ] {
            let s = Settings {
                server: Some(bad.into()),
                ..Default::default()
            };
            assert!(
                matches!(s.validated(), Err(SettingsError::BadServer(_))),
                "{bad}"
            );
        }
        for good in [
            "http://127.0.0.1:5000",
            "https://hub.example/ns",
            "wss://h:1",
        ] {
            assert!(check_server(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn channels_are_checked_deduplicated_and_never_empty() {
        let s = Settings {
            channels: vec![
                " ops ".into(),
                "ops".into(),
                "alerts-db".into(),
                String::new(),
            ],
            ..Default::default()
        };
        assert_eq!(s.validated().expect("valid").channels, ["ops", "alerts-db"]);
        let none = Settings {
            channels: vec![],
            ..Default::default()
        };
        assert_eq!(none.validated().expect("valid").channels, ["default"]);
        let bad = Settings {
            channels: vec!["a/b".into()],
            ..Default::default()
        };
        assert!(matches!(bad.validated(), Err(SettingsError::BadChannel(_))));
        // A settings file from before channels follows the default channel.
        let old: Settings = serde_json::from_str(r#"{"server":null}"#).expect("decodes");
        assert_eq!(old.channels, ["default"]);
    }

    #[test]
    fn tokens_with_control_characters_are_refused() {
        let s = Settings {
            token: Some("a\nb".into()),
            ..Default::default()
        };
        assert_eq!(s.validated(), Err(SettingsError::BadToken));
    }

    #[test]
    fn round_trip_and_a_broken_file_is_kept_aside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = SettingsFile::in_dir(dir.path());
        assert_eq!(file.load(), (Settings::default(), None));
        let s = Settings {
            server: Some("http://127.0.0.1:5000".into()),
            do_not_disturb: true,
            min_urgency: Urgency::Critical,
            ..Default::default()
        };
        file.save(&s).expect("save");
        assert_eq!(file.load(), (s, None));

        std::fs::write(dir.path().join("settings.json"), b"{not json").expect("write");
        let (loaded, err) = file.load();
        assert_eq!(loaded, Settings::default());
        assert!(err.expect("error").contains("settings.json.bad"));
        let kept = std::fs::read(dir.path().join("settings.json.bad")).expect("kept");
        assert_eq!(kept, b"{not json");
    }
}
