//! TOTP, RFC 6238: HOTP over the time step `(now - T0) / period`.

use core::fmt;

use super::algorithm::Algorithm;
use super::code::{Code, Digits, highest_match};
use super::keyed::KeyedHmac;
use super::limits::{MAX_PERIOD, MAX_WINDOW};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// TOTP parameters: algorithm, digits, period, epoch and verification window.
///
/// The defaults are what every authenticator app assumes: SHA-1, 6 digits,
/// 30 s, T0 = 0, and a window of ±1 step (RFC 6238 §5.2's recommended one
/// step of network delay and clock drift).
///
/// ```
/// use mail2fa::{Algorithm, Digits, TotpConfig};
///
/// let config = TotpConfig::default()
///     .with_algorithm(Algorithm::Sha256)
///     .with_digits(Digits::EIGHT)
///     .with_period(60)?
///     .with_window(2)?;
/// assert_eq!(config.period(), 60);
/// assert!(TotpConfig::default().with_period(0).is_err());
/// assert!(TotpConfig::default().with_period(mail2fa::MAX_PERIOD + 1).is_err());
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TotpConfig {
    algorithm: Algorithm,
    digits: Digits,
    period: u64,
    t0: u64,
    window: u32,
}

impl Default for TotpConfig {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
            period: 30,
            t0: 0,
            window: 1,
        }
    }
}

impl TotpConfig {
    /// Sets the HMAC algorithm.
    #[must_use]
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Sets the digit count.
    #[must_use]
    pub fn with_digits(mut self, digits: Digits) -> Self {
        self.digits = digits;
        self
    }

    /// Sets the period in seconds, 1..=[`MAX_PERIOD`].
    ///
    /// # Errors
    /// [`Error::InvalidPeriod`] for 0 or above [`MAX_PERIOD`].
    pub fn with_period(mut self, seconds: u64) -> Result<Self> {
        if !(1..=MAX_PERIOD).contains(&seconds) {
            return Err(Error::InvalidPeriod);
        }
        self.period = seconds;
        Ok(self)
    }

    /// Sets T0, the Unix time at which step 0 begins.
    #[must_use]
    pub fn with_t0(mut self, t0: u64) -> Self {
        self.t0 = t0;
        self
    }

    /// Sets how many steps before and after the current one
    /// [`Totp::verify`] accepts (0 = current step only).
    ///
    /// # Errors
    /// [`Error::InvalidWindow`] above [`MAX_WINDOW`].
    pub fn with_window(mut self, steps: u32) -> Result<Self> {
        self.window = check_window(steps)?;
        Ok(self)
    }

    /// The HMAC algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The digit count.
    pub fn digits(&self) -> Digits {
        self.digits
    }

    /// The period in seconds.
    pub fn period(&self) -> u64 {
        self.period
    }

    /// T0, Unix seconds.
    pub fn t0(&self) -> u64 {
        self.t0
    }

    /// The verification window in steps each side.
    pub fn window(&self) -> u32 {
        self.window
    }
}

fn check_window(steps: u32) -> Result<u32> {
    if steps > MAX_WINDOW {
        return Err(Error::InvalidWindow {
            requested: steps,
            max: MAX_WINDOW,
        });
    }
    Ok(steps)
}

/// A TOTP credential: the keyed HMAC and its [`TotpConfig`].
///
/// Time is always a parameter (Unix seconds); nothing here reads a clock.
/// Keying happens once in [`Totp::new`]; a code then costs two compression
/// calls, a ±1 verification six, and nothing allocates. Immutable,
/// `Send + Sync`.
///
/// Verification is stateless. To make codes one-time, store the step that
/// [`Totp::verify_after`] returns (atomically, before reporting success) and
/// pass it back next time: that step and every older one are then refused.
///
/// ```
/// use mail2fa::{Secret, Totp, TotpConfig};
///
/// let secret = Secret::from_bytes(b"12345678901234567890")?;
/// let totp = Totp::new(&secret, TotpConfig::default());
/// let now = 1_111_111_109;
/// assert_eq!(totp.generate(now)?.as_str(), "081804");
///
/// let step = totp.verify("081804", now)?.expect("valid code");
/// assert_eq!(step, 37_037_036);
/// // Replay: the same step is refused once it has been stored as used.
/// assert_eq!(totp.verify_after("081804", now, step)?, None);
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Clone)]
pub struct Totp {
    keyed: KeyedHmac,
    config: TotpConfig,
}

impl Totp {
    /// Keys a TOTP credential.
    pub fn new(secret: &Secret, config: TotpConfig) -> Self {
        Self {
            keyed: KeyedHmac::new(config.algorithm, secret.expose_bytes()),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TotpConfig {
        &self.config
    }

    /// The time step containing `unix_time`.
    ///
    /// # Errors
    /// [`Error::TimeBeforeT0`] if `unix_time < T0`.
    pub fn step_at(&self, unix_time: u64) -> Result<u64> {
        let since_t0 = unix_time
            .checked_sub(self.config.t0)
            .ok_or(Error::TimeBeforeT0 {
                time: unix_time,
                t0: self.config.t0,
            })?;
        Ok(since_t0 / self.config.period)
    }

    /// The Unix time at which `step` begins.
    ///
    /// # Errors
    /// [`Error::CounterOutOfRange`] if that time does not fit in 64 bits.
    pub fn step_start(&self, step: u64) -> Result<u64> {
        step.checked_mul(self.config.period)
            .and_then(|offset| offset.checked_add(self.config.t0))
            .ok_or(Error::CounterOutOfRange)
    }

    /// The code for the step containing `unix_time`.
    ///
    /// # Errors
    /// [`Error::TimeBeforeT0`].
    pub fn generate(&self, unix_time: u64) -> Result<Code> {
        Ok(self.generate_at_step(self.step_at(unix_time)?))
    }

    /// The code for a given time step.
    pub fn generate_at_step(&self, step: u64) -> Code {
        Code::new(self.keyed.truncated(step), self.config.digits)
    }

    /// Checks `code` within the configured window around `unix_time`.
    /// Returns the matched step (the highest, if several match), or `None`.
    ///
    /// # Errors
    /// [`Error::MalformedCode`] unless `code` is exactly the configured number
    /// of ASCII digits; [`Error::TimeBeforeT0`].
    pub fn verify(&self, code: &str, unix_time: u64) -> Result<Option<u64>> {
        self.verify_with_window(code, unix_time, self.config.window, None)
    }

    /// As [`Totp::verify`], but only steps strictly after `last_step` (the
    /// last one accepted for this credential) can match.
    ///
    /// # Errors
    /// As [`Totp::verify`].
    pub fn verify_after(&self, code: &str, unix_time: u64, last_step: u64) -> Result<Option<u64>> {
        self.verify_with_window(code, unix_time, self.config.window, Some(last_step))
    }

    /// The general form: an explicit `window` (steps each side, e.g. a wide
    /// one to diagnose a phone's clock drift) and an optional `after` step.
    ///
    /// # Errors
    /// As [`Totp::verify`], plus [`Error::InvalidWindow`] above [`MAX_WINDOW`].
    pub fn verify_with_window(
        &self,
        code: &str,
        unix_time: u64,
        window: u32,
        after: Option<u64>,
    ) -> Result<Option<u64>> {
        let presented = self.config.digits.parse_code(code)?;
        let window = u64::from(check_window(window)?);
        let step = self.step_at(unix_time)?;
        let mut first = step.saturating_sub(window);
        if let Some(after) = after {
            match after.checked_add(1) {
                Some(next) => first = first.max(next),
                None => return Ok(None),
            }
        }
        let last = step.saturating_add(window);
        if first > last {
            return Ok(None);
        }
        Ok(highest_match(
            &self.keyed,
            self.config.digits,
            presented,
            first,
            last,
        ))
    }
}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Totp")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
