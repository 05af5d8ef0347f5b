//! Size limits on what the hub accepts, as constants.
//!
//! Lengths named `_CHARS` count Unicode scalar values (`str::chars`), so
//! "日本語" is 3, not 9; lengths named `_BYTES` count UTF-8 bytes (of the
//! compact JSON encoding, for JSON values).

/// Longest notification title (the seed's `text`).
pub const MAX_TITLE_CHARS: usize = 256;

/// Longest notification body.
pub const MAX_BODY_CHARS: usize = 4096;

/// Longest notification tag.
pub const MAX_TAG_CHARS: usize = 128;

/// Longest click URL; it must also be `http` or `https`.
pub const MAX_URL_CHARS: usize = 2048;

/// Longest icon reference (relative path or `http`/`https` URL).
pub const MAX_ICON_CHARS: usize = 2048;

/// Largest shared text (`text_update_request`), 64 KiB.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Most action buttons on one notification.
pub const MAX_ACTIONS: usize = 4;

/// Longest action id.
pub const MAX_ACTION_ID_CHARS: usize = 64;

/// Longest action button label.
pub const MAX_ACTION_TITLE_CHARS: usize = 64;

/// Largest free-form JSON (`num`/`data1` and `data`), 16 KiB each.
pub const MAX_DATA_BYTES: usize = 16 * 1024;
