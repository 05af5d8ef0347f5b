//! Pushdesk's shared text as a CRDT document, so concurrent edits merge
//! instead of the last writer winning.
//!
//! Pure code: no I/O, no async. The hub, the desktop core and the CLI hold a
//! [`SharedText`]; the web UI holds the same document in Yjs, which `yrs`
//! (the Rust Yjs) speaks byte for byte. Positions count UTF-16 code units,
//! as a textarea and Yjs do, so CJK and emoji line up everywhere.
//!
//! # Modules
//!
//! * [`splice`]: [`Splice`], the one contiguous change between two texts
//!   (what a textarea edit or a seed client's full-text write amounts to).
//! * [`document`]: [`SharedText`], the document: its text, state vector,
//!   updates in and out, snapshot and size limit.
//! * [`sync`]: [`SyncMessage`], the Yjs sync protocol messages carried in
//!   the `text_sync` event, and [`answer`], a peer's reply to one.
//! * [`shadow`]: [`Shadow`], what the hub knows a seed client's text was
//!   based on, so its full-text writes merge (differential synchronization).
//! * [`epoch`]: [`Epochs`], the document across the cuts that start it
//!   afresh when it has outgrown its text, and the rebasing of edits made
//!   on an older epoch, so the stored size follows the text.
//! * [`reset`]: [`Reset`] and [`Rebase`], how a peer moves to a new epoch.
//! * [`record`]: [`Record`], one entry of the stored log.
//! * [`error`]: [`TextError`], why an update or message was refused.
//!
//! # Example
//!
//! Two replicas edit concurrently and exchange their updates:
//!
//! ```
//! use pushdesk_text::SharedText;
//!
//! let mut a = SharedText::new();
//! let first = a.set("hello world");
//! let mut b = SharedText::new();
//! b.apply(&first)?;
//!
//! let from_a = a.set("hello big world");
//! let from_b = b.set("hello world!");
//! a.apply(&from_b)?;
//! b.apply(&from_a)?;
//! assert_eq!(a.text(), "hello big world!");
//! assert_eq!(b.text(), "hello big world!");
//! # Ok::<(), pushdesk_text::TextError>(())
//! ```

pub mod document;
pub mod epoch;
pub mod error;
pub mod record;
pub mod reset;
pub mod shadow;
pub mod splice;
pub mod sync;

pub use document::SharedText;
pub use epoch::{Applied, CutPolicy, Epoch, Epochs, FIRST_EPOCH, StoredCut};
pub use error::TextError;
pub use record::Record;
pub use reset::{Rebase, Reset};
pub use shadow::{SETTLE, SeedMerge, Shadow};
pub use splice::Splice;
pub use sync::{Answer, Refused, SyncMessage, answer};
