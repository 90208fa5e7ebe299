//! `otpauth://` Key URIs, the provisioning format authenticator apps scan.
//!
//! ```text
//! otpauth://totp/Example%20Mail:alice@example.com?secret=GEZDGNBV...&issuer=Example%20Mail&algorithm=SHA1&digits=6&period=30
//! ```
//!
//! [`KeyUri::to_uri`] writes every parameter explicitly, percent-encodes
//! everything outside RFC 3986's unreserved set (and `@`), and names the
//! issuer both in the label and in `issuer=`, as the format recommends.
//!
//! [`KeyUri::parse`] is strict, because a URI may come from anywhere:
//!
//! * scheme `otpauth` and type `totp`/`hotp` (ASCII case ignored); no fragment;
//! * label `account` or `issuer:account` (the colon literal or `%3A`, spaces
//!   after it ignored), both parts non-empty, no second colon;
//! * `%XX` escapes must be well-formed and decode to UTF-8 without control
//!   characters (NUL included); in the query, `+` means a space;
//! * `secret` exactly once and a valid [`Secret`]; `issuer`, `algorithm`,
//!   `digits`, `period`, `counter` at most once each; `counter` required for
//!   HOTP and refused for TOTP, `period` refused for HOTP and for TOTP
//!   outside 1..=[`crate::MAX_PERIOD`] seconds (as [`TotpConfig`]); unknown parameters
//!   (such as `image`) are ignored;
//! * an issuer in both label and parameter must be the same.
//!
//! `T0` and the verification window are server-side settings and are not
//! part of the format: a parsed TOTP URI yields T0 = 0 and window ±1.
//!
//! [`Secret`]: crate::secret::Secret
//! [`TotpConfig`]: crate::otp::TotpConfig

mod credential;
mod key_uri;
mod label;
mod parse;
mod percent;

pub use key_uri::{KeyUri, OtpKind};
pub use label::MAX_LABEL_PART_LEN;
pub use parse::MAX_URI_LEN;

pub(crate) use label::check_label_part;
pub(crate) use percent::percent_encode;
