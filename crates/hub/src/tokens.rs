//! The hub's credentials ([`Credentials`]): `--token` values, which carry
//! every right, and the tokens file (`--tokens-file`, TOML), which stores
//! only SHA-256 hashes of tokens, each with its [`Rights`].
//!
//! ```toml
//! [[token]]
//! name = "backups"                 # shown in logs, never the token
//! sha256 = "9f86d0…"               # hex SHA-256 of the token
//! read = ["alerts-*"]              # channel patterns it may subscribe to
//! write = ["backups"]              # channel patterns it may publish to
//! text = false                     # whether it may change the shared text
//! channel = "backups"              # where a Gotify-style publish goes
//! ```
//!
//! The file is read again when its modification time changes, so
//! `pushdesk token add` takes effect without a restart; a file that no
//! longer parses keeps the last good table (with a warning).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use pushdesk_hub_model::{DEFAULT_CHANNEL, is_channel_name};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tracing::warn;

use crate::access::{Pattern, Rights};

/// What a presented credential may do, and under which name it is logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The token's name (`--token` ones are `token`, no token at all `anonymous`).
    pub name: String,
    /// Its rights.
    pub rights: Rights,
    /// The channel a publish that names none goes to (Gotify's model: the
    /// token is the application).
    pub channel: String,
    /// A token of the tokens file: rate-limited as one sender wherever it
    /// connects from (an open hub's clients and `--token` ones are limited
    /// per connection and per address instead).
    pub scoped: bool,
}

impl Grant {
    /// Every right, as a hub without tokens gives everyone.
    pub fn all(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            rights: Rights::all(),
            channel: DEFAULT_CHANNEL.to_owned(),
            scoped: false,
        }
    }
}

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The hub needs a token and none came.
    #[error("authentication required: this hub needs a token")]
    Missing,
    /// A token came that the hub does not know.
    #[error("invalid token")]
    Invalid,
}

/// Why a tokens file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    /// It could not be read or written.
    #[error("tokens file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// It is not valid.
    #[error("tokens file {path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the TOML parser's position when it has one.
        reason: String,
    },
}

/// One `[[token]]` of the tokens file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// A name for logs and for `pushdesk token remove`.
    pub name: String,
    /// Hex SHA-256 of the token.
    pub sha256: String,
    /// Channel patterns it may read.
    #[serde(default)]
    pub read: Vec<Pattern>,
    /// Channel patterns it may write.
    #[serde(default)]
    pub write: Vec<Pattern>,
    /// Whether it may change the shared text.
    #[serde(default)]
    pub text: bool,
    /// Where a publish that names no channel goes (default: its only
    /// writable channel name when it has exactly one without `*`, else `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

impl TokenEntry {
    fn grant(&self) -> Grant {
        let channel = self.channel.clone().unwrap_or_else(|| {
            let exact: Vec<&str> = self
                .write
                .iter()
                .map(Pattern::as_str)
                .filter(|p| !p.contains('*'))
                .collect();
            match exact.as_slice() {
                [one] => (*one).to_owned(),
                _ => DEFAULT_CHANNEL.to_owned(),
            }
        });
        Grant {
            name: self.name.clone(),
            rights: Rights {
                read: self.read.clone(),
                write: self.write.clone(),
                text: self.text,
            },
            channel,
            scoped: true,
        }
    }
}

/// The tokens file's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensFile {
    /// Its tokens.
    #[serde(default, rename = "token")]
    pub tokens: Vec<TokenEntry>,
}

impl TokensFile {
    /// Reads `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self, TokensError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(TokensError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Self::parse(&text).map_err(|reason| TokensError::Invalid {
            path: path.to_owned(),
            reason,
        })
    }

    /// Parses and checks a tokens file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        for (i, t) in file.tokens.iter().enumerate() {
            if t.name.is_empty() {
                return Err(format!("token #{}: `name` is empty", i + 1));
            }
            if decode_hash(&t.sha256).is_none() {
                return Err(format!(
                    "token {:?}: `sha256` must be 64 hex digits",
                    t.name
                ));
            }
            if let Some(c) = &t.channel
                && !is_channel_name(c)
            {
                return Err(format!(
                    "token {:?}: `channel` {c:?} is not a channel name",
                    t.name
                ));
            }
            if file.tokens[..i].iter().any(|o| o.name == t.name) {
                return Err(format!("two tokens are named {:?}", t.name));
            }
        }
        Ok(file)
    }

    /// Writes the file readable by its owner only, replacing it whole.
    pub fn save(&self, path: &Path) -> Result<(), TokensError> {
        let io = |source| TokensError::Io {
            path: path.to_owned(),
            source,
        };
        let text = toml::to_string(self).map_err(|e| TokensError::Invalid {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let header =
            "# Pushdesk access tokens (pushdesk token add/list/remove). Only hashes are stored.\n";
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        std::io::Write::write_all(&mut tmp, format!("{header}{text}").as_bytes()).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }
}

/// A new random token (256 bits): `tk_` and 64 hex digits. ntfy's access
/// tokens start with `tk_` too, which is how ntfy clients such as Apprise
/// tell a token (`ntfy://TOKEN@host/topic`, sent as Bearer) from a user name.
pub fn generate_token() -> String {
    let words: [u64; 4] = std::array::from_fn(|_| rand::random::<u64>());
    let hex: String = words.iter().map(|w| format!("{w:016x}")).collect();
    format!("tk_{hex}")
}

/// The hex SHA-256 of a token, as the tokens file stores it.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_hash(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

type Table = Vec<([u8; 32], Arc<Grant>)>;

/// Every credential the hub accepts. Cheap to share (`Arc` it).
#[derive(Debug)]
pub struct Credentials {
    /// `--token` values, hashed.
    plain: Table,
    file: Option<PathBuf>,
    /// The tokens file's table and the modification time it was read at.
    loaded: RwLock<(Option<SystemTime>, Table)>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn table(file: &TokensFile) -> Table {
    file.tokens
        .iter()
        .filter_map(|t| Some((decode_hash(&t.sha256)?, Arc::new(t.grant()))))
        .collect()
}

impl Credentials {
    /// `--token` values (each with every right) and an optional tokens file,
    /// which must parse now. Neither: anyone may do anything.
    pub fn new(tokens: &[String], file: Option<PathBuf>) -> Result<Self, TokensError> {
        let plain = tokens
            .iter()
            .filter(|t| !t.is_empty())
            .filter_map(|t| decode_hash(&hash_token(t)).map(|h| (h, Arc::new(Grant::all("token")))))
            .collect();
        let loaded = match &file {
            Some(path) => (modified(path), table(&TokensFile::load(path)?)),
            None => (None, Vec::new()),
        };
        Ok(Self {
            plain,
            file,
            loaded: RwLock::new(loaded),
        })
    }

    /// No credentials at all: every right for everyone.
    pub fn open() -> Self {
        Self {
            plain: Vec::new(),
            file: None,
            loaded: RwLock::new((None, Vec::new())),
        }
    }

    /// Whether a token is required (some are configured, or a tokens file is).
    pub fn required(&self) -> bool {
        !self.plain.is_empty() || self.file.is_some()
    }

    /// Re-reads the tokens file if it changed since it was read.
    fn refresh(&self) {
        let Some(path) = &self.file else { return };
        let now = modified(path);
        let current = self
            .loaded
            .read()
            .map(|l| l.0)
            .unwrap_or_else(|p| p.into_inner().0);
        if now == current {
            return;
        }
        match TokensFile::load(path) {
            Ok(file) => {
                let mut l = self.loaded.write().unwrap_or_else(|p| p.into_inner());
                *l = (now, table(&file));
                tracing::info!(tokens = l.1.len(), file = %path.display(), "tokens file read");
            }
            Err(e) => warn!(error = %e, "keeping the previous tokens"),
        }
    }

    /// What `token` may do. Compares hashes in constant time, against every
    /// known one.
    pub fn check(&self, token: Option<&str>) -> Result<Arc<Grant>, AuthError> {
        if !self.required() {
            return Ok(Arc::new(Grant::all("anonymous")));
        }
        let token = token.filter(|t| !t.is_empty()).ok_or(AuthError::Missing)?;
        self.refresh();
        let Some(given) = decode_hash(&hash_token(token)) else {
            return Err(AuthError::Invalid);
        };
        let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
        let mut found = None;
        for (hash, grant) in self.plain.iter().chain(loaded.1.iter()) {
            if bool::from(hash.ct_eq(&given)) && found.is_none() {
                found = Some(grant.clone());
            }
        }
        found.ok_or(AuthError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, token: &str, read: &[&str], write: &[&str]) -> TokenEntry {
        let pats = |ps: &[&str]| ps.iter().filter_map(|p| Pattern::parse(p)).collect();
        TokenEntry {
            name: name.into(),
            sha256: hash_token(token),
            read: pats(read),
            write: pats(write),
            text: false,
            channel: None,
        }
    }

    #[test]
    fn open_hub_gives_everything() {
        let c = Credentials::open();
        assert!(!c.required());
        let g = c.check(None).expect("anyone");
        assert!(g.rights.can_write("x") && g.rights.text);
    }

    #[test]
    fn plain_tokens_carry_every_right() {
        let c = Credentials::new(&["s3cret".into()], None).expect("no file");
        assert_eq!(c.check(None), Err(AuthError::Missing));
        assert_eq!(c.check(Some("")), Err(AuthError::Missing));
        assert_eq!(c.check(Some("s3cre")), Err(AuthError::Invalid));
        assert!(c.check(Some("s3cret")).expect("known").rights.can_read("*"));
    }

    #[test]
    fn file_round_trip_scopes_and_reload() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("tokens.toml");
        let mut file = TokensFile::default();
        file.tokens
            .push(entry("backups", "tok-b", &["alerts-*"], &["backups"]));
        file.save(&path).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains("tok-b"), "only the hash is stored");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner only: {mode:o}");
        }
        let c = Credentials::new(&[], Some(path.clone())).expect("parses");
        assert!(c.required(), "a tokens file, even one token, requires one");
        let g = c.check(Some("tok-b")).expect("known");
        assert_eq!(g.name, "backups");
        assert_eq!(g.channel, "backups", "its one writable channel");
        assert!(g.rights.can_read("alerts-db") && !g.rights.can_read("backups"));
        assert!(g.rights.can_write("backups") && !g.rights.text);
        assert_eq!(c.check(Some("tok-c")), Err(AuthError::Invalid));

        // A new token is picked up without a restart.
        file.tokens.push(entry("ci", "tok-c", &[], &["ci-*"]));
        std::thread::sleep(std::time::Duration::from_millis(20));
        file.save(&path).expect("save");
        let g = c.check(Some("tok-c")).expect("reloaded");
        assert_eq!(g.channel, "default", "only a pattern: the default channel");

        // A broken file keeps the last good table.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, "[[token]]\nname = 1\n").expect("write");
        assert!(c.check(Some("tok-c")).is_ok());
    }

    #[test]
    fn bad_files_are_clear_errors() {
        for (text, want) in [
            (
                "[[token]]\nname = \"a\"\nsha256 = \"xyz\"\n",
                "64 hex digits",
            ),
            ("[[token]]\nname = \"\"\nsha256 = \"\"\n", "empty"),
            (
                "[[token]]\nname = \"a\"\nsha256 = \"00\"\nwrte = []\n",
                "unknown field",
            ),
            (
                "[[token]]\nname = \"a\"\nsha256 = \"00\"\nread = [\"a b\"]\n",
                "",
            ),
        ] {
            let err = TokensFile::parse(text).err().unwrap_or_default();
            assert!(!err.is_empty() && err.contains(want), "{text:?}: {err}");
        }
        let h = hash_token("x");
        let dup = format!(
            "[[token]]\nname = \"a\"\nsha256 = \"{h}\"\n[[token]]\nname = \"a\"\nsha256 = \"{h}\"\n"
        );
        assert!(TokensFile::parse(&dup).is_err());
    }

    #[test]
    fn generated_tokens_are_long_and_distinct() {
        let (a, b) = (generate_token(), generate_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 67);
        assert!(a.starts_with("tk_"));
    }
}
