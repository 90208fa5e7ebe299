//! How the PostgreSQL store words its failures: every one a
//! [`StoreError::Backend`] that names what was being done, with the server's
//! own message where there is one.

use crate::store::error::StoreError;

pub(super) fn backend(context: &str, error: impl core::fmt::Display) -> StoreError {
    StoreError::Backend(format!("postgres: {context}: {error}"))
}

/// A tokio-postgres error with the server's message when there is one
/// (`Display` of the error alone says only "db error"), else the error
/// and its causes ("error connecting to server: Connection refused").
pub(super) fn describe_error(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{}: {}", db.code().code(), db.message());
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text
}

/// A store error for a failed statement.
pub(super) struct Failed(pub(super) StoreError);

impl From<StoreError> for Failed {
    fn from(error: StoreError) -> Self {
        Failed(error)
    }
}

impl From<tokio_postgres::Error> for Failed {
    fn from(error: tokio_postgres::Error) -> Self {
        Failed(backend("statement", describe_error(&error)))
    }
}
