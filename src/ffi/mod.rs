//! The C ABI: every `m2fa_*` export, and the only module with `unsafe`.
//! (Built with `capi`; with only `postgres-plugin-export`, just the
//! PostgreSQL plugin's entry point, `plugin`.)
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
#[cfg(feature = "capi")]
mod boundary;
#[cfg(all(test, feature = "capi"))]
mod families;

// The PostgreSQL plugin: its entry point and table (the plugin's side,
// `postgres-plugin-export`) and the loader that opens it (the C library's,
// `postgres-plugin`). Not part of the C API: no header declares it.
/// cbindgen:ignore
#[cfg(any(feature = "postgres-plugin", feature = "postgres-plugin-export"))]
pub(crate) mod plugin;

// The modules below are declared in the order of the header (cbindgen
// follows it): a C reader meets statuses first, then one-time passwords
// without an engine, then the engine — its configuration and handles,
// administration, logins and their decisions, codes, mail clients.

// Statuses and the version.
#[cfg(feature = "capi")]
mod status;
#[cfg(feature = "capi")]
mod status_message;
#[cfg(feature = "capi")]
mod version;

// Secrets, OTP parameters, TOTP/HOTP credentials, key URIs, QR codes, names.
#[cfg(feature = "capi")]
mod secret;

#[cfg(feature = "capi")]
mod otp;

#[cfg(feature = "capi")]
mod hotp;
#[cfg(feature = "capi")]
mod totp;

#[cfg(feature = "capi")]
mod qr;
#[cfg(feature = "capi")]
mod uri;

#[cfg(feature = "capi")]
mod names;

// The engine: configuration, handles and openers, a host's own store.
#[cfg(feature = "capi")]
mod config;
#[cfg(feature = "capi")]
mod engine;
#[cfg(feature = "capi")]
mod store;

// Platform and account administration; logins and their decisions.
#[cfg(feature = "capi")]
mod account;

#[cfg(feature = "capi")]
mod login;

#[cfg(feature = "capi")]
mod check_login;

#[cfg(feature = "capi")]
mod decision;

// Codes handed to the host; mail clients (devices, notifications,
// application passwords, per-protocol policy); verification modes.
#[cfg(feature = "capi")]
mod codes;

#[cfg(feature = "capi")]
mod device;
#[cfg(feature = "capi")]
mod notification;

#[cfg(feature = "capi")]
mod app_password;
#[cfg(feature = "capi")]
mod policy;
#[cfg(feature = "capi")]
mod protocol;

#[cfg(feature = "capi")]
mod mode;

#[cfg(feature = "capi")]
pub use account::*;
#[cfg(feature = "capi")]
pub use app_password::*;
#[cfg(feature = "capi")]
pub use check_login::*;
#[cfg(feature = "capi")]
pub use codes::*;
#[cfg(feature = "capi")]
pub use config::*;
#[cfg(feature = "capi")]
pub use decision::*;
#[cfg(feature = "capi")]
pub use device::*;
#[cfg(feature = "capi")]
pub use engine::*;
#[cfg(feature = "capi")]
pub use hotp::*;
#[cfg(feature = "capi")]
pub use login::*;
#[cfg(feature = "capi")]
pub use mode::*;
#[cfg(feature = "capi")]
pub use names::*;
#[cfg(feature = "capi")]
pub use notification::*;
#[cfg(feature = "capi")]
pub use otp::*;
#[cfg(feature = "capi")]
pub use policy::*;
#[cfg(feature = "capi")]
pub use protocol::*;
#[cfg(feature = "capi")]
pub use qr::*;
#[cfg(feature = "capi")]
pub use secret::*;
#[cfg(feature = "capi")]
pub use status::*;
#[cfg(feature = "capi")]
pub use status_message::*;
#[cfg(feature = "capi")]
pub use store::*;
#[cfg(feature = "capi")]
pub use totp::*;
#[cfg(feature = "capi")]
pub use uri::*;
#[cfg(feature = "capi")]
pub use version::*;
