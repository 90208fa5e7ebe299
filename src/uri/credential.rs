//! The credential a provisioning URI describes, in one call:
//! [`Totp::from_uri`], what an authenticator app makes of the QR code.
//! (Here rather than in `otp/`: the URI layer builds on the OTP one.)

use super::key_uri::KeyUri;
use crate::error::{Error, Result};
use crate::otp::Totp;

impl Totp {
    /// The TOTP credential an `otpauth://totp/` URI describes, as an
    /// authenticator app keys it when it scans the URI: its secret,
    /// algorithm, digits and period, with T0 = 0 and a window of ±1 step
    /// (not part of the format; see [`crate::uri`]). The parse is
    /// [`KeyUri::parse`]'s, as strict.
    ///
    /// With it, the code an app shows at a given time is one line — what a
    /// test, or a host checking its own enrollment page, needs:
    ///
    /// ```
    /// use mail2fa::Totp;
    ///
    /// let uri = "otpauth://totp/Example:alice@example.com\
    ///            ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example";
    /// let code = Totp::from_uri(uri)?.generate(1_111_111_109)?;
    /// assert_eq!(code.as_str(), "081804"); // RFC 6238, Appendix B
    ///
    /// // A counter-based (HOTP) URI describes no TOTP credential.
    /// let hotp = "otpauth://hotp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0";
    /// assert!(Totp::from_uri(hotp).is_err());
    /// # Ok::<(), mail2fa::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`KeyUri::parse`]; [`Error::InvalidInput`] for a well-formed
    /// HOTP URI.
    pub fn from_uri(uri: &str) -> Result<Self> {
        let key = KeyUri::parse(uri)?;
        let config = key.totp_config().ok_or(Error::InvalidInput(
            "an HOTP URI, where a TOTP one is needed",
        ))?;
        Ok(Self::new(key.secret(), config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UriError;
    use crate::otp::{Algorithm, Digits, TotpConfig};
    use crate::secret::Secret;

    const SEED_32: &[u8] = b"12345678901234567890123456789012";

    #[test]
    fn a_totp_uri_gives_the_codes_of_its_parameters() {
        // RFC 6238 Appendix B, SHA-256, 8 digits, at 1111111109: 68084774.
        let uri = KeyUri::totp(
            Some("Example"),
            "alice@example.com",
            Secret::from_bytes(SEED_32).unwrap(),
            TotpConfig::default()
                .with_algorithm(Algorithm::Sha256)
                .with_digits(Digits::EIGHT),
        )
        .unwrap()
        .to_uri();
        let totp = Totp::from_uri(&uri).unwrap();
        assert_eq!(totp.generate(1_111_111_109).unwrap().as_str(), "68084774");
        assert_eq!(totp.config().algorithm(), Algorithm::Sha256);
        assert_eq!(totp.config().digits(), Digits::EIGHT);
        assert_eq!((totp.config().t0(), totp.config().window()), (0, 1));
    }

    #[test]
    fn the_period_of_the_uri_sets_the_step() {
        let uri = KeyUri::totp(
            None,
            "alice",
            Secret::from_bytes(SEED_32).unwrap(),
            TotpConfig::default().with_period(60).unwrap(),
        )
        .unwrap()
        .to_uri();
        let totp = Totp::from_uri(&uri).unwrap();
        assert_eq!(totp.config().period(), 60);
        assert_eq!(totp.step_at(1_800_000_059).unwrap(), 30_000_000);
    }

    #[test]
    fn an_hotp_uri_is_refused() {
        let uri = KeyUri::hotp(
            None,
            "alice",
            Secret::from_bytes(SEED_32).unwrap(),
            Algorithm::Sha1,
            Digits::SIX,
            0,
        )
        .unwrap()
        .to_uri();
        assert_eq!(
            Totp::from_uri(&uri).unwrap_err(),
            Error::InvalidInput("an HOTP URI, where a TOTP one is needed")
        );
    }

    #[test]
    fn a_malformed_uri_is_refused_as_the_parser_refuses_it() {
        assert_eq!(
            Totp::from_uri("https://example.com/?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
                .unwrap_err(),
            Error::Uri(UriError::Scheme)
        );
    }
}
