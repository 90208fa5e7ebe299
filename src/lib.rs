//! # mail2fa
//!
//! A two-factor-authentication core for mail servers, usable from Rust and,
//! through `libmail2fa` and `include/mail2fa.h`, from C.
//!
//! ## Start here: the engine on a store
//!
//! A mail server asks one question per login — *may this client, on this
//! protocol, with these credentials, from this device, get in now?* — and
//! the [`engine::Engine`] answers it with an [`engine::Decision`], keeping
//! the state behind the answer (enrollments, used codes, lockout, devices,
//! application passwords) in a [`store::Store`]. Each change is one atomic
//! compare-and-swap of the account's record, so concurrent logins on any
//! number of threads or hosts cannot both use a code or both skip a lockout.
//! Use [`SqliteStore`][sqlite-store] (feature `sqlite`, on by default) for a
//! server, [`PostgresStore`][postgres-store] (feature `postgres`) for a
//! cluster, [`store::MemoryStore`] in tests:
//!
//! ```
//! use mail2fa::engine::{AccountId, ClientAnswer, Engine, EngineConfig};
//! use mail2fa::store::MemoryStore;
//! use mail2fa::Totp;
//!
//! let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
//! let alice = AccountId::new("example.com", "alice@example.com")?;
//! let now = 1_800_000_000;
//!
//! // The administrator turns 2FA on for the domain, then for the account;
//! // the user scans the URI (as a QR code) and types the app's first code.
//! engine.enable_platform("example.com", true)?;
//! let uri = engine.enable_account(&alice, now)?;
//! let phone = Totp::from_uri(&uri)?;
//! let first = phone.generate(now)?;
//! assert!(engine.confirm_enrollment(&alice, first.as_str(), now)?.is_allowed());
//!
//! // A later login with the code of the moment: allowed, once.
//! let later = now + 60;
//! let code = phone.generate(later)?;
//! assert!(engine.login(&alice, Some(code.as_str()), later)?.is_allowed());
//! let replay = engine.login(&alice, Some(code.as_str()), later + 1)?;
//! assert_eq!(replay.client_answer(), ClientAnswer::Refused);
//! # Ok::<(), mail2fa::Error>(())
//! ```
//!
//! A mail server's login is one call, [`engine::Engine::check_login`]:
//! what the client typed (a password, a password+code string or an
//! application password), the host's own password check, the protocol and
//! the client in; the decision out — protocols and their policies, device
//! tokens, application passwords and device binding included, each record
//! read once. Nothing in the crate reads a clock or does I/O behind the caller's
//! back: time is a parameter (Unix seconds). The calls block (a store
//! write may wait for an fsync or a lock): hosts on Tokio use
//! [`AsyncEngine`][async-engine] (feature `tokio`), which keeps them off
//! the runtime. The behaviour the engine implements — each rule, its
//! defaults, and where the code and tests for it are — is written down in
//! `docs/behaviour.md` of the repository.
//!
//! ## The stateless foundation
//!
//! * [`Hotp`] (RFC 4226) and [`Totp`] (RFC 6238) with SHA-1/256/512, 6–10
//!   digits, periods of 1 to 300 s ([`MAX_PERIOD`]), any T0, 64-bit counters; verification in a window
//!   that returns the matched step so the caller can make codes one-time;
//! * [`Secret`]: generated from the OS CSPRNG, base32 in and out
//!   ([`base32`]), wiped on drop, redacted in `Debug`;
//! * [`KeyUri`]: `otpauth://` provisioning URIs, built and strictly parsed;
//! * [`qr`][qr-module] (feature `qr`, on by default): the URI as an SVG or terminal QR code.
//!
//! Used alone, the foundation leaves one-time use to the caller:
//!
//! ```
//! use mail2fa::{KeyUri, Secret, Totp, TotpConfig};
//!
//! // Enrollment: a fresh secret and the URI the user scans.
//! let secret = Secret::generate()?;
//! let config = TotpConfig::default();
//! let uri = KeyUri::totp(Some("Example Mail"), "alice@example.com", secret.clone(), config)?;
//! assert!(uri.to_uri().starts_with("otpauth://totp/Example%20Mail:alice@example.com?secret="));
//!
//! // Login: check the code the user typed, then store the matched step.
//! let totp = Totp::new(&secret, config);
//! let now = 1_800_000_000;
//! let typed = totp.generate(now)?;
//! let step = totp.verify(typed.as_str(), now)?.expect("the app's code is valid");
//! assert_eq!(totp.verify_after(typed.as_str(), now, step)?, None); // replay refused
//! # Ok::<(), mail2fa::Error>(())
//! ```
//!
//! # Features
// The list links an item only in a build that has it (else to this list).
#![cfg_attr(feature = "qr", doc = "[qr-module]: qr")]
#![cfg_attr(not(feature = "qr"), doc = "[qr-module]: #features")]
#![cfg_attr(feature = "sqlite", doc = "[sqlite-store]: store::SqliteStore")]
#![cfg_attr(not(feature = "sqlite"), doc = "[sqlite-store]: #features")]
#![cfg_attr(feature = "postgres", doc = "[postgres-store]: store::PostgresStore")]
#![cfg_attr(not(feature = "postgres"), doc = "[postgres-store]: #features")]
#![cfg_attr(feature = "tokio", doc = "[async-module]: asynchronous")]
#![cfg_attr(not(feature = "tokio"), doc = "[async-module]: #features")]
#![cfg_attr(feature = "tokio", doc = "[async-engine]: asynchronous::AsyncEngine")]
#![cfg_attr(not(feature = "tokio"), doc = "[async-engine]: #features")]
#![cfg_attr(feature = "config", doc = "[config-module]: config")]
#![cfg_attr(not(feature = "config"), doc = "[config-module]: #features")]
#![cfg_attr(feature = "capi", doc = "[ffi-module]: ffi")]
#![cfg_attr(not(feature = "capi"), doc = "[ffi-module]: #features")]
//!
//! * `qr` (default): [`qr`][qr-module], the provisioning URI as an SVG or terminal QR
//!   code.
//! * `sqlite` (default): [`SqliteStore`][sqlite-store], the embedded durable store,
//!   one database file on the bundled SQLite.
//! * `postgres`: [`PostgresStore`][postgres-store], the store shared by the hosts of a
//!   mail cluster (tokio-postgres, TLS by rustls, a small pool of its own).
//! * `tokio`: [`asynchronous`][async-module], the engine for hosts on Tokio: every
//!   call on the runtime's blocking threads, the login's password check awaited on
//!   the runtime.
//! * `config`: [`config`][config-module], the configuration file
//!   (`/etc/mail2fa/mail2fa.toml`: the store, the secrets by file name, the
//!   engine's policies) read into an engine; with the C library and the
//!   tool.
//! * `stores`: every durable store (`sqlite` and `postgres`).
//! * `capi`: the C ABI, [`ffi`][ffi-module] (the `m2fa_*` exports of
//!   `include/mail2fa.h`); built by the C library, off for Rust users.
//! * `postgres-plugin`: the C library's PostgreSQL store as a plugin,
//!   `libmail2fa-postgres.so`, loaded on first use (with `capi` and
//!   `config`); `postgres-plugin-export`: the plugin's side (with
//!   `postgres`), linked by `plugins/postgres`. See `scripts/build-capi.sh`.
//! * `cli`: the operator's command-line tool, the `mail2fa` binary (with
//!   `qr`, `stores` and `config`).
//!
//! Without default features the crate has the one-time-password layer, the
//! engine and the in-memory [`store::MemoryStore`].
//!
//! On docs.rs every feature is on, and each item a feature gates says which.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod asynchronous;
pub mod base32;
mod bounded_read;
#[cfg(feature = "config")]
#[cfg_attr(docsrs, doc(cfg(feature = "config")))]
pub mod config;
pub mod engine;
mod enum_table;
mod error;
pub mod otp;
#[cfg(feature = "qr")]
#[cfg_attr(docsrs, doc(cfg(feature = "qr")))]
pub mod qr;
// Not public API: the engine's record encoding, reachable only for the
// crate's own fuzz target and the tests that forge stored records. Its
// error is public, at the root, as the other errors.
#[doc(hidden)]
pub mod record;
/// cbindgen:ignore
mod secret;
mod sha256;
pub mod store;
pub mod uri;

// With `postgres-plugin-export` alone (the PostgreSQL plugin,
// plugins/postgres), only the plugin's entry point.
#[cfg(any(feature = "capi", feature = "postgres-plugin-export"))]
#[cfg_attr(docsrs, doc(cfg(feature = "capi")))]
pub mod ffi;

// What other crates cannot do with the public items (compile_fail doctests).
#[cfg(doctest)]
mod semver_checks;

// The README's Rust examples are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use error::{Base32Error, Error, KeyFileError, NameError, Result, UriError};
pub use otp::{Algorithm, Code, Digits, Hotp, MAX_PERIOD, MAX_WINDOW, Totp, TotpConfig};
pub use record::RecordError;
pub use secret::Secret;
pub use uri::{KeyUri, OtpKind};
