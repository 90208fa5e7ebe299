//! How the SQLite store words its failures.

use crate::store::error::StoreError;

pub(super) fn backend(context: &str, error: impl core::fmt::Display) -> StoreError {
    StoreError::Backend(format!("sqlite: {context}: {error}"))
}
