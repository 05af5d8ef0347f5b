//! `pushdesk`: the command line of the Pushdesk notification hub.
//!
//! * `serve`: run the hub (`serve.rs`, on the `pushdesk-hub` crate).
//! * `send`: broadcast one notification and wait for the hub to take it (`send.rs`).
//! * `listen`: stay connected to a hub and print every event (`listen.rs`).
//! * `text`: print or set the shared text (`text.rs`).
//! * `token`: add, list and remove scoped tokens in a tokens file (`token.rs`).
//! * `output.rs`: how an event is printed (one JSON object per line, or text). Pure.
//! * `connect.rs`: the connection flags shared by every command.

mod connect;
mod listen;
mod notify;
mod output;
mod send;
mod serve;
mod text;
mod token;

use std::io::IsTerminal as _;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// `0.1.0 (commit 0123456789ab)`: the Cargo version and the commit it was
/// built from (`-modified` if the tree had changes; `unknown` outside git).
const VERSION: &str = git_version::git_version!(
    prefix = concat!(env!("CARGO_PKG_VERSION"), " (commit "),
    args = [
        "--always",
        "--abbrev=12",
        "--dirty=-modified",
        "--exclude=*"
    ],
    suffix = ")",
    fallback = concat!(env!("CARGO_PKG_VERSION"), " (commit unknown)")
);

/// Pushdesk: a desktop notification hub over Socket.IO.
#[derive(Debug, Parser)]
#[command(name = "pushdesk", version = VERSION, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the hub: Socket.IO for apps and scripts, the web UI at /, history for replay.
    Serve(serve::Args),
    /// Broadcast a notification; exits 0 once the hub has taken it.
    Send(send::Args),
    /// Stay connected to a hub (reconnecting as needed) and print every event it sends.
    Listen(listen::Args),
    /// Print the shared text, or set it with --set.
    Text(text::Args),
    /// Manage the hub's scoped tokens (the file `pushdesk serve --tokens-file` reads).
    #[command(subcommand)]
    Token(token::Command),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("warn,pushdesk=info,pushdesk_socketio=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Send(args) => send::run(args).await,
            Command::Listen(args) => listen::run(args).await,
            Command::Text(args) => text::run(args).await,
            Command::Token(cmd) => token::run(cmd),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
