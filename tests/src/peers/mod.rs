//! The peers: external processes ([`node`], [`flask`], [`flask_text`]) and in-process servers
//! ([`siox`], [`silent`], [`hostile`]), and a notification daemon ([`dunst`]).

pub mod desktop;
pub mod dunst;
pub mod flask;
pub mod flask_text;
pub mod hostile;
pub mod hub;
pub mod node;
pub mod redis;
pub mod silent;
pub mod siox;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};

/// The last lines a child wrote to one of its pipes, kept for error messages.
#[derive(Clone, Default)]
pub(crate) struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    const KEEP: usize = 30;

    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() == Self::KEEP {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// The kept lines, one per line, for an error message.
    pub(crate) fn render(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        lines.iter().map(|l| format!("\n  {l}")).collect()
    }

    /// Whether any kept line contains `needle`.
    pub(crate) fn contains(&self, needle: &str) -> bool {
        let lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        lines.iter().any(|l| l.contains(needle))
    }
}

/// Copies `reader` line by line to the test's stderr as `[prefix] line`,
/// keeping the last lines in `tail`. Ends at EOF (when the child exits).
pub(crate) fn forward_lines<R>(reader: R, prefix: String, tail: Tail)
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("[{prefix}] {line}");
            tail.push(line);
        }
    });
}
