//! Shared secrets: generation, base32 text form, and their handling in memory.

use core::fmt;

use rand::TryRng;
use rand::rngs::SysRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::base32;
use crate::error::{Error, Result};

/// The key an authenticator app and the server share.
///
/// * Created from the operating system's CSPRNG ([`Secret::generate`]) or
///   from existing bytes or base32 text when importing.
/// * Between [`Secret::MIN_LEN`] (128 bits, the floor of RFC 4226 §4) and
///   [`Secret::MAX_LEN`] bytes.
/// * Wiped from memory when dropped; `Debug` shows only the length; equality
///   is constant-time.
///
/// ```
/// use mail2fa::Secret;
///
/// let secret = Secret::generate()?;
/// assert_eq!(secret.len(), 20);
/// let text = secret.to_base32();          // what the user types or the QR code carries
/// assert_eq!(Secret::from_base32(&text)?, secret);
/// assert_eq!(format!("{secret:?}"), "Secret { len: 20, bytes: \"<redacted>\" }");
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret {
    bytes: Box<[u8]>,
}

impl Secret {
    /// Length [`Secret::generate`] uses: 160 bits, as RFC 4226 §4 recommends.
    pub const DEFAULT_LEN: usize = 20;
    /// Shortest secret accepted anywhere: 128 bits (RFC 4226 §4 "MUST").
    pub const MIN_LEN: usize = 16;
    /// Longest secret accepted: one SHA-512 block.
    pub const MAX_LEN: usize = 128;

    /// A fresh [`Secret::DEFAULT_LEN`]-byte secret from the OS CSPRNG.
    ///
    /// # Errors
    /// [`Error::Random`] if the operating system cannot supply randomness.
    pub fn generate() -> Result<Self> {
        Self::generate_with_len(Self::DEFAULT_LEN)
    }

    /// A fresh secret of `len` bytes from the OS CSPRNG.
    ///
    /// # Errors
    /// [`Error::SecretTooShort`] / [`Error::SecretTooLong`] outside
    /// `MIN_LEN..=MAX_LEN`; [`Error::Random`] if the OS RNG fails.
    pub fn generate_with_len(len: usize) -> Result<Self> {
        check_len(len)?;
        let mut bytes = vec![0u8; len].into_boxed_slice();
        if SysRng.try_fill_bytes(&mut bytes).is_err() {
            bytes.zeroize();
            return Err(Error::Random);
        }
        Ok(Self { bytes })
    }

    /// Copies existing key bytes (e.g. from the host's database).
    ///
    /// # Errors
    /// [`Error::SecretTooShort`] / [`Error::SecretTooLong`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        check_len(bytes.len())?;
        Ok(Self {
            bytes: Box::from(bytes),
        })
    }

    /// Decodes base32 text (see [`crate::base32::decode`] for what is accepted).
    ///
    /// # Errors
    /// [`Error::Base32`] for malformed text, then the length errors of
    /// [`Secret::from_bytes`].
    pub fn from_base32(text: &str) -> Result<Self> {
        let bytes = base32::decode(text)?;
        Self::from_bytes(&bytes)
    }

    /// The unpadded, upper-case base32 form, as authenticator apps expect it.
    pub fn to_base32(&self) -> Zeroizing<String> {
        base32::encode(&self.bytes)
    }

    /// The raw key bytes. Named so that reading a secret stands out in review.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    #[allow(clippy::len_without_is_empty)] // a secret is never empty
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

fn check_len(len: usize) -> Result<()> {
    if len < Secret::MIN_LEN {
        return Err(Error::SecretTooShort {
            len,
            min: Secret::MIN_LEN,
        });
    }
    if len > Secret::MAX_LEN {
        return Err(Error::SecretTooLong {
            len,
            max: Secret::MAX_LEN,
        });
    }
    Ok(())
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("len", &self.bytes.len())
            .field("bytes", &"<redacted>")
            .finish()
    }
}

impl ConstantTimeEq for Secret {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.bytes.ct_eq(&other.bytes)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_have_the_asked_length_and_differ() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_eq!(a.len(), Secret::DEFAULT_LEN);
        assert_ne!(a, b, "two 160-bit secrets from the CSPRNG collided");
        assert_eq!(Secret::generate_with_len(32).unwrap().len(), 32);
    }

    #[test]
    fn refuses_short_and_long_secrets() {
        assert_eq!(
            Secret::generate_with_len(15).unwrap_err(),
            Error::SecretTooShort { len: 15, min: 16 }
        );
        assert_eq!(
            Secret::from_bytes(&[7; 10]).unwrap_err(),
            Error::SecretTooShort { len: 10, min: 16 }
        );
        assert_eq!(
            Secret::from_bytes(&[7; 129]).unwrap_err(),
            Error::SecretTooLong { len: 129, max: 128 }
        );
        // A classic 80-bit Google Authenticator secret is refused on import.
        assert!(matches!(
            Secret::from_base32("JBSWY3DPEHPK3PXP"),
            Err(Error::SecretTooShort { len: 10, .. })
        ));
        assert!(Secret::from_bytes(&[7; 16]).is_ok());
        assert!(Secret::from_bytes(&[7; 128]).is_ok());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains("49"), "{shown}"); // b'1' as a number
        assert!(!shown.contains("GEZDGNBV"), "{shown}"); // its base32 form
        assert!(!shown.contains("1234"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn zeroize_wipes_the_bytes() {
        let mut secret = Secret::from_bytes(&[0xAB; 20]).unwrap();
        secret.zeroize();
        assert!(secret.expose_bytes().iter().all(|&b| b == 0));
    }

    #[test]
    fn base32_round_trip() {
        let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
        assert_eq!(
            secret.to_base32().as_str(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        assert_eq!(
            Secret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(),
            secret
        );
    }
}
