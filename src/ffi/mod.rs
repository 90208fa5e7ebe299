//! The C ABI: every `m2fa_*` export, and the only module with `unsafe`.
//!
//! Conventions (after rustls-ffi), stated once here and in the header:
//!
//! * Every function returns an [`m2fa_status`]; `M2FA_OK` is 0.
//! * Every export runs inside the `ffi_boundary!` macro: a Rust panic becomes
//!   `M2FA_INTERNAL_PANIC`, never an unwind into the mail server.
//! * Every pointer argument is checked for NULL (`M2FA_NULL_ARGUMENT`);
//!   `*_free(NULL)` is a no-op.
//! * Out-parameters are written only on success — with one documented
//!   exception: a text output's `needed` is also written on
//!   `M2FA_BUFFER_TOO_SMALL`.
//! * Strings in are NUL-terminated UTF-8 (`M2FA_INVALID_UTF8` otherwise).
//!   Strings out go to a caller buffer `(buf, len)` and are NUL-terminated;
//!   `*needed` receives the size the buffer must have (NUL included). Pass
//!   `buf = NULL, len = 0` to ask for the size.
//! * Enumerations from C arrive as `uint32_t` and are validated
//!   (`M2FA_UNKNOWN_ENUM_VALUE`); no Rust enum is ever built from C memory.
//! * Handles are opaque, created by `*_new`/`*_parse`/`*_generate` and
//!   released by `*_free`. Immutable handles may be used from several threads
//!   at once; a config handle must not be modified while another thread uses it.
//!
//! One file per C object family: `m2fa_engine_config_*` in `config.rs`,
//! `m2fa_decision_*` in `decision.rs`, device calls in `device.rs`, and so
//! on; the `families` unit test holds the prefix → file table and checks
//! every export against it. Story numbers in code comments refer to
//! `docs/behaviour.md`.

#![allow(unsafe_code)]
#![allow(non_camel_case_types)]
// The `unsafe extern "C"` functions document their contract in the header text.
#![allow(clippy::missing_safety_doc)]

// The boundary machinery (no exports).
mod boundary;
#[cfg(test)]
mod families;

// The modules below are declared in the order of the header (cbindgen
// follows it): a C reader meets statuses first, then one-time passwords
// without an engine, then the engine — its configuration and handles,
// administration, logins and their decisions, codes, mail clients.

// Statuses and the version.
mod status;
mod status_message;
mod version;

// Secrets, OTP parameters, TOTP/HOTP credentials, key URIs, QR codes, names.
mod secret;

mod otp;

mod hotp;
mod totp;

mod qr;
mod uri;

mod names;

// The engine: configuration, handles and openers, a host's own store.
mod config;
mod engine;
mod store;

// Platform and account administration; logins and their decisions.
mod account;

mod login;

mod check_login;

mod decision;

// Codes handed to the host; mail clients (devices, notifications,
// application passwords, per-protocol policy); verification modes.
mod codes;

mod device;
mod notification;

mod app_password;
mod policy;
mod protocol;

mod mode;

pub use account::*;
pub use app_password::*;
pub use check_login::*;
pub use codes::*;
pub use config::*;
pub use decision::*;
pub use device::*;
pub use engine::*;
pub use hotp::*;
pub use login::*;
pub use mode::*;
pub use names::*;
pub use notification::*;
pub use otp::*;
pub use policy::*;
pub use protocol::*;
pub use qr::*;
pub use secret::*;
pub use status::*;
pub use status_message::*;
pub use store::*;
pub use totp::*;
pub use uri::*;
pub use version::*;
