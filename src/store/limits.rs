//! The sizes every built-in store accepts, checked in one place.

use super::error::StoreError;

/// Longest key accepted by the built-in stores, in bytes.
pub const MAX_KEY_LEN: usize = 1024;
/// Largest record accepted by the built-in stores, in bytes.
pub const MAX_RECORD_LEN: usize = 64 * 1024;

/// The limits every built-in store enforces before a compare-and-swap.
///
/// # Errors
/// [`StoreError::TooLarge`] for a key over [`MAX_KEY_LEN`] or a record
/// over [`MAX_RECORD_LEN`].
pub(crate) fn check_sizes(key: &[u8], new: Option<&[u8]>) -> Result<(), StoreError> {
    if key.len() > MAX_KEY_LEN || new.is_some_and(|b| b.len() > MAX_RECORD_LEN) {
        return Err(StoreError::TooLarge);
    }
    Ok(())
}
