//! Tolerant decoding helpers shared by the payload types.

use serde::{Deserialize, Deserializer};

/// Decodes `null` as `T::default()`; any other value must be a `T`.
///
/// Use with `#[serde(default, deserialize_with = "null_as_default")]` so a
/// missing field also gets the default.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
