//! HOTP, RFC 4226: codes from an event counter.

use core::fmt;

use super::algorithm::Algorithm;
use super::code::{Code, Digits, highest_match};
use super::keyed::KeyedHmac;
use super::limits::MAX_WINDOW;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// An HOTP credential: a keyed HMAC plus the digit count.
///
/// Keying costs four compressions and happens once in [`Hotp::new`]; each
/// code after that costs two. Immutable, `Send + Sync`: share one across
/// threads freely.
///
/// ```
/// use mail2fa::{Algorithm, Digits, Hotp, Secret};
///
/// let secret = Secret::from_bytes(b"12345678901234567890")?;
/// let hotp = Hotp::new(&secret, Algorithm::Sha1, Digits::SIX);
/// assert_eq!(hotp.generate(1).as_str(), "287082");
/// // The server expects counter 0; the token was pressed twice more: look ahead.
/// assert_eq!(hotp.verify("359152", 0, 5)?, Some(2)); // store 3 as the next counter
/// assert_eq!(hotp.verify("000000", 0, 5)?, None);
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Clone)]
pub struct Hotp {
    keyed: KeyedHmac,
    algorithm: Algorithm,
    digits: Digits,
}

impl Hotp {
    /// Keys an HOTP credential.
    pub fn new(secret: &Secret, algorithm: Algorithm, digits: Digits) -> Self {
        Self {
            keyed: KeyedHmac::new(algorithm, secret.expose_bytes()),
            algorithm,
            digits,
        }
    }

    /// The code for `counter`.
    pub fn generate(&self, counter: u64) -> Code {
        Code::new(self.keyed.truncated(counter), self.digits)
    }

    /// Looks for `code` among counters `counter ..= counter + look_ahead`
    /// (never past `u64::MAX`) and returns the highest matching counter. The
    /// caller must store *matched + 1* as the next expected counter before
    /// reporting success.
    ///
    /// # Errors
    /// [`Error::MalformedCode`] unless `code` is exactly the configured number
    /// of ASCII digits; [`Error::InvalidWindow`] if `look_ahead` exceeds
    /// [`MAX_WINDOW`].
    pub fn verify(&self, code: &str, counter: u64, look_ahead: u32) -> Result<Option<u64>> {
        let presented = self.digits.parse_code(code)?;
        if look_ahead > MAX_WINDOW {
            return Err(Error::InvalidWindow {
                requested: look_ahead,
                max: MAX_WINDOW,
            });
        }
        let last = counter.saturating_add(u64::from(look_ahead));
        Ok(highest_match(
            &self.keyed,
            self.digits,
            presented,
            counter,
            last,
        ))
    }

    /// The HMAC algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The digit count.
    pub fn digits(&self) -> Digits {
        self.digits
    }
}

impl fmt::Debug for Hotp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hotp")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}
