//! Errors, one type per concern, and the crate's [`Error`] that wraps them.
//!
//! The foundation's concerns (base32 text, `otpauth://` URIs, names, key
//! files) have their own error types, which know nothing of storage; the
//! store's [`StoreError`](crate::store::StoreError) and the record format's
//! [`RecordError`](crate::RecordError) live with their code. [`Error`]
//! wraps them all, and is what every public function returns.

mod base32;
mod crate_error;
mod key_file;
mod name;
mod uri;

pub use base32::Base32Error;
pub use crate_error::{Error, Result};
pub use key_file::KeyFileError;
pub use name::NameError;
pub use uri::UriError;
