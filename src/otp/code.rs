//! Codes: their digit count, rendering, constant-time comparison, and the
//! window search every verification shares.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::keyed;
use crate::error::{Error, Result};

/// Number of digits in a code: 6 to 10.
///
/// RFC 4226 requires at least 6; 10 is the most a 31-bit value can fill.
/// Authenticator apps support **6 and 8** only (Google Authenticator: 6 and
/// 8), so use 9 or 10 only with hardware tokens or your own apps.
///
/// ```
/// use mail2fa::Digits;
/// assert_eq!(Digits::new(8)?.get(), 8);
/// assert!(Digits::new(5).is_err());
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digits(u8);

impl Digits {
    /// Six digits: the default everywhere.
    pub const SIX: Self = Self(6);
    /// Eight digits: the other length apps support.
    pub const EIGHT: Self = Self(8);

    /// Validates a digit count.
    ///
    /// # Errors
    /// [`Error::InvalidDigits`] outside 6..=10.
    pub fn new(digits: u32) -> Result<Self> {
        match u8::try_from(digits) {
            Ok(d @ 6..=10) => Ok(Self(d)),
            _ => Err(Error::InvalidDigits(digits)),
        }
    }

    /// The count.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// `value mod 10^digits`, with the divisor a constant in each arm so
    /// that it compiles to a multiplication instead of a division.
    #[inline(always)]
    fn reduce(self, value: u32) -> u64 {
        let value = u64::from(value);
        match self.0 {
            6 => value % 1_000_000,
            7 => value % 10_000_000,
            8 => value % 100_000_000,
            9 => value % 1_000_000_000,
            _ => value % 10_000_000_000,
        }
    }

    /// Parses a presented code: exactly `self` ASCII digits, nothing else —
    /// no spaces, signs or other Unicode digits, no normalisation.
    pub(super) fn parse_code(self, code: &str) -> Result<u64> {
        let bytes = code.as_bytes();
        if bytes.len() != usize::from(self.0) || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(Error::MalformedCode {
                expected_digits: self.0,
            });
        }
        Ok(bytes
            .iter()
            .fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0')))
    }
}

impl Default for Digits {
    fn default() -> Self {
        Self::SIX
    }
}

/// A generated code: `digits` ASCII digits, with leading zeros.
///
/// Lives on the stack (no allocation) and is wiped when dropped; `Debug`
/// redacts it. Equality with another code or a string is constant-time.
///
/// ```
/// use mail2fa::{Hotp, Secret, Algorithm, Digits};
/// let hotp = Hotp::new(&Secret::from_bytes(b"12345678901234567890")?, Algorithm::Sha1, Digits::SIX);
/// let code = hotp.generate(0);
/// assert_eq!(code.as_str(), "755224");
/// assert_eq!(format!("{code:?}"), "Code(\"<redacted>\")");
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Code {
    digits: [u8; 10],
    len: u8,
}

impl Code {
    /// Renders a truncated HMAC value (RFC 4226 §5.3 step 3).
    pub(super) fn new(truncated: u32, digits: Digits) -> Self {
        let value = digits.reduce(truncated);
        Self {
            digits: match digits.get() {
                6 => render::<6>(value),
                7 => render::<7>(value),
                8 => render::<8>(value),
                9 => render::<9>(value),
                _ => render::<10>(value),
            },
            len: digits.get(),
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        core::str::from_utf8(&self.digits[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// `value` as `D` decimal digits with leading zeros. Each digit is computed
/// on its own from constant divisors, so they do not wait on each other.
#[inline(always)]
fn render<const D: u32>(value: u64) -> [u8; 10] {
    let mut out = [b'0'; 10];
    for (i, slot) in out[..D as usize].iter_mut().enumerate() {
        let place = 10u64.pow(D - 1 - i as u32);
        *slot = b'0' + ((value / place) % 10) as u8;
    }
    out
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Code").field(&"<redacted>").finish()
    }
}

impl PartialEq for Code {
    fn eq(&self, other: &Self) -> bool {
        self.as_str()
            .as_bytes()
            .ct_eq(other.as_str().as_bytes())
            .into()
    }
}

impl Eq for Code {}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str().as_bytes().ct_eq(other.as_bytes()).into()
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

/// Checks `presented` against the codes of counters `first..=last` and
/// returns the highest counter whose code equals it.
///
/// Every counter in the range is computed and compared in constant time, so
/// the time taken does not depend on where (or whether) the code matched.
/// The *highest* match is returned because the caller consumes it: if two
/// counters in the window happen to share a code, consuming the older one
/// would leave the same digits valid for the newer one — a replay.
pub(super) fn highest_match(
    keyed: &keyed::KeyedHmac,
    digits: Digits,
    presented: u64,
    first: u64,
    last: u64,
) -> Option<u64> {
    use subtle::{Choice, ConditionallySelectable};

    let mut found = Choice::from(0);
    let mut matched = 0u64;
    let mut check = |counter: u64, value: u32| {
        let hit = digits.reduce(value).ct_eq(&presented);
        matched.conditional_assign(&counter, hit);
        found |= hit;
    };
    // Whole batches while they fit before `last`, then single counters.
    let mut counter = first;
    loop {
        if last - counter >= keyed::BATCH as u64 - 1 {
            let mut values = [0u32; keyed::BATCH];
            keyed.truncated_n(counter, &mut values);
            // `counter + i <= last`: no overflow (a `counter..` range would
            // compute one step past the end and overflow at u64::MAX).
            for (i, value) in values.into_iter().enumerate() {
                check(counter + i as u64, value);
            }
            counter += keyed::BATCH as u64 - 1;
        } else {
            check(counter, keyed.truncated(counter));
        }
        if counter >= last {
            break;
        }
        counter += 1;
    }
    bool::from(found).then_some(matched)
}
