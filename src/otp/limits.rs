//! The bounds every OTP computation respects: the largest verification
//! window and the longest TOTP period.

/// Largest verification window (steps each side for TOTP, look-ahead for HOTP).
///
/// It bounds the work one presented code can cause: 2 × 50 + 1 codes, about
/// 200 compressions.
pub const MAX_WINDOW: u32 = 50;

/// Longest TOTP period accepted, in seconds (5 minutes).
///
/// A longer period makes a code live longer (with the default window of ±1,
/// three periods) until, at the limit, it is a static password: the second
/// factor gone. Authenticator apps use 30 s; a few tokens 60 s.
/// [`TotpConfig::with_period`](super::TotpConfig::with_period), `otpauth://` parsing ([`crate::KeyUri`]) and
/// stored enrollments all refuse more.
pub const MAX_PERIOD: u64 = 300;
