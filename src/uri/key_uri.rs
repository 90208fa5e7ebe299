//! [`KeyUri`]: a provisioning URI's content, built from its parts and
//! written as `otpauth://` text.

use core::fmt::Write as _;

use zeroize::Zeroizing;

use super::label::check_label_part;
use super::percent::percent_encode;
use crate::error::Result;
use crate::otp::{Algorithm, Digits, TotpConfig};
use crate::secret::Secret;

/// TOTP or HOTP, with the parameter that belongs to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpKind {
    /// Time-based; `period` in seconds.
    Totp {
        /// Seconds per step.
        period: u64,
    },
    /// Counter-based; the next counter the token will use.
    Hotp {
        /// Initial counter.
        counter: u64,
    },
}

/// A provisioning URI's content. `Debug` redacts the secret.
///
/// ```
/// use mail2fa::{KeyUri, OtpKind, Secret, TotpConfig};
///
/// let secret = Secret::from_bytes(b"12345678901234567890")?;
/// let uri = KeyUri::totp(Some("Example Mail"), "alice@example.com", secret, TotpConfig::default())?;
/// let text = uri.to_uri();
/// assert_eq!(
///     text.as_str(),
///     "otpauth://totp/Example%20Mail:alice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
///      &issuer=Example%20Mail&algorithm=SHA1&digits=6&period=30"
/// );
/// let parsed = KeyUri::parse(&text)?;
/// assert_eq!(parsed, uri);
/// assert_eq!(parsed.kind(), OtpKind::Totp { period: 30 });
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUri {
    pub(super) kind: OtpKind,
    pub(super) issuer: Option<String>,
    pub(super) account: String,
    pub(super) secret: Secret,
    pub(super) algorithm: Algorithm,
    pub(super) digits: Digits,
}

impl KeyUri {
    /// A TOTP provisioning URI. The config's T0 and window are not part of
    /// the format (see the module docs).
    ///
    /// # Errors
    /// [`Error::Uri`] with [`UriError::Label`] for an empty account or issuer
    /// or one containing `:`, [`UriError::ControlCharacter`], or
    /// [`UriError::LabelTooLong`].
    ///
    /// [`Error::Uri`]: crate::error::Error::Uri
    /// [`UriError::Label`]: crate::error::UriError::Label
    /// [`UriError::ControlCharacter`]: crate::error::UriError::ControlCharacter
    /// [`UriError::LabelTooLong`]: crate::error::UriError::LabelTooLong
    pub fn totp(
        issuer: Option<&str>,
        account: &str,
        secret: Secret,
        config: TotpConfig,
    ) -> Result<Self> {
        Self::build(
            OtpKind::Totp {
                period: config.period(),
            },
            issuer,
            account,
            secret,
            config.algorithm(),
            config.digits(),
        )
    }

    /// An HOTP provisioning URI starting at `counter`.
    ///
    /// # Errors
    /// As [`KeyUri::totp`].
    pub fn hotp(
        issuer: Option<&str>,
        account: &str,
        secret: Secret,
        algorithm: Algorithm,
        digits: Digits,
        counter: u64,
    ) -> Result<Self> {
        Self::build(
            OtpKind::Hotp { counter },
            issuer,
            account,
            secret,
            algorithm,
            digits,
        )
    }

    fn build(
        kind: OtpKind,
        issuer: Option<&str>,
        account: &str,
        secret: Secret,
        algorithm: Algorithm,
        digits: Digits,
    ) -> Result<Self> {
        if let Some(issuer) = issuer {
            check_label_part(issuer)?;
        }
        check_label_part(account)?;
        Ok(Self {
            kind,
            issuer: issuer.map(str::to_owned),
            account: account.to_owned(),
            secret,
            algorithm,
            digits,
        })
    }

    /// TOTP or HOTP, with period or counter.
    pub fn kind(&self) -> OtpKind {
        self.kind
    }

    /// The issuer (service name shown in the app), if any.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The account name.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The shared secret.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The HMAC algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The digit count.
    pub fn digits(&self) -> Digits {
        self.digits
    }

    /// For a TOTP URI, the [`TotpConfig`] it describes (T0 = 0, window ±1).
    pub fn totp_config(&self) -> Option<TotpConfig> {
        match self.kind {
            OtpKind::Totp { period } => TotpConfig::default()
                .with_algorithm(self.algorithm)
                .with_digits(self.digits)
                .with_period(period)
                .ok(),
            OtpKind::Hotp { .. } => None,
        }
    }

    /// The URI text. It contains the secret, hence the wiping wrapper.
    pub fn to_uri(&self) -> Zeroizing<String> {
        // Sized so that it never grows: a reallocation would leave a copy of
        // the secret unwiped in freed memory. Each name byte takes at most 3
        // (percent-encoded), the issuer appears twice, the rest is < 160.
        let names = self.issuer.as_deref().map_or(0, str::len) * 2 + self.account.len();
        let secret_len = self.secret.len().div_ceil(5) * 8;
        let mut out = Zeroizing::new(String::with_capacity(160 + 3 * names + secret_len));
        out.push_str(match self.kind {
            OtpKind::Totp { .. } => "otpauth://totp/",
            OtpKind::Hotp { .. } => "otpauth://hotp/",
        });
        if let Some(issuer) = &self.issuer {
            percent_encode(issuer, &mut out);
            out.push(':');
        }
        percent_encode(&self.account, &mut out);
        out.push_str("?secret=");
        out.push_str(&self.secret.to_base32());
        if let Some(issuer) = &self.issuer {
            out.push_str("&issuer=");
            percent_encode(issuer, &mut out);
        }
        out.push_str("&algorithm=");
        out.push_str(self.algorithm.name());
        // Writing to a String cannot fail.
        let _ = write!(out, "&digits={}", self.digits.get());
        let _ = match self.kind {
            OtpKind::Totp { period } => write!(out, "&period={period}"),
            OtpKind::Hotp { counter } => write!(out, "&counter={counter}"),
        };
        out
    }
}

#[cfg(test)]
mod capacity_tests {
    use super::*;
    use crate::uri::label::MAX_LABEL_PART_LEN;

    #[test]
    fn the_uri_buffer_never_grows_so_no_copy_of_the_secret_is_left_behind() {
        let secret = Secret::from_bytes(&[0xA5; Secret::MAX_LEN]).unwrap();
        let worst = "&".repeat(MAX_LABEL_PART_LEN); // every byte percent-encoded
        let uri = KeyUri::hotp(
            Some(&worst),
            &worst,
            secret,
            Algorithm::Sha512,
            Digits::new(10).unwrap(),
            u64::MAX,
        )
        .unwrap();
        let text = uri.to_uri();
        let reserved = 160 + 3 * (3 * MAX_LABEL_PART_LEN) + Secret::MAX_LEN.div_ceil(5) * 8;
        assert!(text.len() <= reserved, "{} > {reserved}", text.len());
        // Still the buffer reserved at the start: it was never reallocated.
        assert_eq!(text.capacity(), reserved);
    }
}
