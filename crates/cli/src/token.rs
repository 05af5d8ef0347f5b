//! `pushdesk token add|list|remove`: the tokens file that `pushdesk serve
//! --tokens-file` reads (hashes only; a new token is printed once).

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use pushdesk_hub::access::Pattern;
use pushdesk_hub::tokens::{TokenEntry, TokensFile, generate_token, hash_token};

/// The tokens file's flag.
#[derive(Debug, clap::Args)]
pub struct FileArg {
    /// The tokens file (created if missing).
    #[arg(long, env = "PUSHDESK_TOKENS_FILE", value_name = "FILE")]
    tokens_file: PathBuf,
}

/// `pushdesk token …`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a token and print it (once: only its hash is stored).
    Add {
        #[command(flatten)]
        file: FileArg,
        /// A name for logs and for `remove`.
        #[arg(long)]
        name: String,
        /// Channel pattern it may subscribe to (`alerts-*`, `*`); repeat for more.
        #[arg(long = "read", value_name = "PATTERN", value_parser = parse_pattern)]
        read: Vec<Pattern>,
        /// Channel pattern it may publish to; repeat for more.
        #[arg(long = "write", value_name = "PATTERN", value_parser = parse_pattern)]
        write: Vec<Pattern>,
        /// It may change the shared text.
        #[arg(long)]
        text: bool,
        /// Where its publishes go when they name no channel (Gotify's
        /// `POST /message`). Default: its one writable channel, else `default`.
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
    },
    /// List the tokens' names and rights.
    List {
        #[command(flatten)]
        file: FileArg,
    },
    /// Remove a token by name.
    Remove {
        #[command(flatten)]
        file: FileArg,
        /// Its name.
        name: String,
    },
}

fn parse_pattern(text: &str) -> Result<Pattern, String> {
    Pattern::parse(text).ok_or_else(|| {
        format!("{text:?} is not a channel pattern (A-Z, a-z, 0-9, `_`, `-` and `*`)")
    })
}

fn patterns(p: &[Pattern]) -> String {
    if p.is_empty() {
        "-".to_owned()
    } else {
        p.iter().map(Pattern::as_str).collect::<Vec<_>>().join(",")
    }
}

/// Runs one token command.
pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Add {
            file,
            name,
            read,
            write,
            text,
            channel,
        } => {
            let path = file.tokens_file;
            let mut tokens = TokensFile::load(&path)?;
            if tokens.tokens.iter().any(|t| t.name == name) {
                bail!(
                    "a token named {name:?} exists already in {}",
                    path.display()
                );
            }
            if read.is_empty() && write.is_empty() && !text {
                bail!("give the token at least one right: --read, --write or --text");
            }
            if let Some(c) = &channel {
                pushdesk_hub_model::check_channel(c).context("--channel")?;
            }
            let token = generate_token();
            tokens.tokens.push(TokenEntry {
                name,
                sha256: hash_token(&token),
                read,
                write,
                text,
                channel,
            });
            tokens.save(&path)?;
            println!("{token}");
            eprintln!(
                "Stored its hash in {}; this is the only time the token is shown.",
                path.display()
            );
        }
        Command::List { file } => {
            let tokens = TokensFile::load(&file.tokens_file)?;
            if tokens.tokens.is_empty() {
                eprintln!("no tokens in {}", file.tokens_file.display());
            }
            for t in &tokens.tokens {
                println!(
                    "{}\tread={}\twrite={}\ttext={}{}",
                    t.name,
                    patterns(&t.read),
                    patterns(&t.write),
                    t.text,
                    t.channel
                        .as_deref()
                        .map(|c| format!("\tchannel={c}"))
                        .unwrap_or_default()
                );
            }
        }
        Command::Remove { file, name } => {
            let path = file.tokens_file;
            let mut tokens = TokensFile::load(&path)?;
            let before = tokens.tokens.len();
            tokens.tokens.retain(|t| t.name != name);
            if tokens.tokens.len() == before {
                bail!("no token named {name:?} in {}", path.display());
            }
            tokens.save(&path)?;
            eprintln!("removed {name:?}");
        }
    }
    Ok(())
}
