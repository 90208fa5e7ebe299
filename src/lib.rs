//! # mail2fa
//!
//! A two-factor-authentication core for mail servers, usable from Rust and,
//! through `libmail2fa` and `include/mail2fa.h`, from C.
//!
//! The stateless foundation:
//!
//! * [`Hotp`] (RFC 4226) and [`Totp`] (RFC 6238) with SHA-1/256/512, 6–10
//!   digits, periods of 1 to 300 s ([`MAX_PERIOD`]), any T0, 64-bit counters; verification in a window
//!   that returns the matched step so the caller can make codes one-time;
//! * [`Secret`]: generated from the OS CSPRNG, base32 in and out
//!   ([`base32`]), wiped on drop, redacted in `Debug`;
//! * [`KeyUri`]: `otpauth://` provisioning URIs, built and strictly parsed;
//! * [`qr`] (feature `qr`, on by default): the URI as an SVG or terminal QR code.
//!
//! And the state on top of it: [`engine`] (accounts, enrollment, one-time
//! verification, e-mail/SMS and recovery codes, lockout, decisions) over a
//! [`store::Store`] whose records use the [`record`] format.
//!
//! Nothing in the crate reads a clock or does I/O behind the caller's back:
//! time is a parameter (Unix seconds).
//!
//! Story numbers in the documentation (S1, S12–S14, …) refer to the
//! behaviour the crate implements, written down in `docs/behaviour.md` of
//! the repository.
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

pub mod base32;
pub mod engine;
mod enum_table;
mod error;
pub mod otp;
#[cfg(feature = "qr")]
pub mod qr;
pub mod record;
/// cbindgen:ignore
mod secret;
pub mod store;
pub mod uri;

#[cfg(feature = "capi")]
pub mod ffi;

pub use error::{Base32Error, Error, KeyFileError, NameError, Result, UriError};
pub use otp::{Algorithm, Code, Digits, Hotp, MAX_PERIOD, MAX_WINDOW, Totp, TotpConfig};
pub use secret::Secret;
pub use uri::{KeyUri, OtpKind};
