//! One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238).
//!
//! Both are stateless: they compute and check codes. Remembering which
//! counter or time step was last accepted — what makes a code *one-time* — is
//! the caller's job, and every verification returns the matched step so the
//! caller can store it ([`Totp::verify_after`] refuses anything at or before
//! it).

mod algorithm;
mod code;
mod hotp;
mod keyed;
mod limits;
mod totp;

pub use algorithm::Algorithm;
pub use code::{Code, Digits};
pub use hotp::Hotp;
pub use limits::{MAX_PERIOD, MAX_WINDOW};
pub use totp::{Totp, TotpConfig};
