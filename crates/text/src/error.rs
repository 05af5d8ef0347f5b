//! [`TextError`]: why an update or a sync message was refused.

use thiserror::Error;

/// Why the document refused an update or a message.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TextError {
    /// The bytes are not a Yjs update, state vector or sync message.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was expected ("update", "state vector", "sync message").
        what: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// Applying the update would make the text longer than allowed.
    #[error("text is over {max} bytes ({len} after this edit)")]
    TooLong {
        /// UTF-8 bytes the text would have.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The edit was made on a document from before the cuts the hub keeps
    /// ([`crate::epoch::MAX_CUTS`]), so it cannot be merged.
    #[error("the edit was made on a text from before epoch {epoch} ended too long ago to merge")]
    UnknownEpoch {
        /// The edit's epoch.
        epoch: u32,
    },
}

impl TextError {
    pub(crate) fn malformed(what: &'static str, reason: impl ToString) -> Self {
        Self::Malformed {
            what,
            reason: reason.to_string(),
        }
    }
}
