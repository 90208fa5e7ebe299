//! What the SQL backends share: they keep versions in SQL's signed 64-bit
//! integers, and hand them back as the store's `u64`; they answer
//! `load_many` from one statement's rows.

use super::backend::Versioned;
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

/// The answer of `load_many` from the rows a statement found (any order,
/// absent keys missing): one entry per key asked for, in that order.
pub(crate) fn in_key_order(
    keys: &[&[u8]],
    found: &[(Vec<u8>, Versioned)],
) -> Vec<Option<Versioned>> {
    keys.iter()
        .map(|key| {
            found
                .iter()
                .find(|(k, _)| k.as_slice() == *key)
                .map(|(_, record)| record.clone())
        })
        .collect()
}
