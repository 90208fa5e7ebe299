//! What the SQL backends share: they keep versions in SQL's signed 64-bit
//! integers, and hand them back as the store's `u64`.

use super::error::StoreError;

/// A version as an SQL backend (`"sqlite"`, `"postgres"`) keeps it, as the
/// store's version. Versions start at 1: a negative one is a damaged row,
/// refused like any backend failure.
///
/// # Errors
/// [`StoreError::Backend`] for a negative version.
pub(crate) fn to_version(backend: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value)
        .map_err(|_| StoreError::Backend(format!("{backend}: record: negative version")))
}
