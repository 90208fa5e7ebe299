//! The sizes every built-in store accepts, checked in one place: every
//! built-in store's compare-and-swap is written by
//! [`compare_and_swap_within_limits!`], which checks them before the store's
//! own `swap` runs.

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

/// A compare-and-swap whose key and record are within the limits: what a
/// built-in store's own `swap` works on. Outside the stores it is made only
/// by [`WithinLimits::check`], so no backend sees an oversized request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WithinLimits<'a> {
    /// The record's key, at most [`MAX_KEY_LEN`] bytes.
    pub(super) key: &'a [u8],
    /// The version the record must have (`None`: no record).
    pub(super) expected: Option<u64>,
    /// The new record, at most [`MAX_RECORD_LEN`] bytes (`None`: delete).
    pub(super) new: Option<&'a [u8]>,
}

impl<'a> WithinLimits<'a> {
    /// The request, if its key and record are within the limits.
    ///
    /// # Errors
    /// [`StoreError::TooLarge`], as [`check_sizes`].
    pub(crate) fn check(
        key: &'a [u8],
        expected: Option<u64>,
        new: Option<&'a [u8]>,
    ) -> Result<Self, StoreError> {
        check_sizes(key, new)?;
        Ok(Self { key, expected, new })
    }
}

/// Writes a built-in store's
/// [`Store::compare_and_swap`](crate::store::Store::compare_and_swap) (inside
/// its `impl Store`): the request is checked against the limits
/// ([`WithinLimits::check`]), then the store's own `swap` does the
/// backend's work on it.
macro_rules! compare_and_swap_within_limits {
    () => {
        fn compare_and_swap(
            &self,
            key: &[u8],
            expected: Option<u64>,
            new: Option<&[u8]>,
        ) -> Result<$crate::store::CasOutcome, $crate::store::StoreError> {
            self.swap($crate::store::limits::WithinLimits::check(
                key, expected, new,
            )?)
        }
    };
}
pub(crate) use compare_and_swap_within_limits;
