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

use core::fmt::Write as _;

use zeroize::Zeroizing;

use crate::error::{Error, Result, UriError};
use crate::otp::{Algorithm, Digits, TotpConfig};
use crate::secret::Secret;

/// Longest URI [`KeyUri::parse`] reads.
pub const MAX_URI_LEN: usize = 4096;
/// Longest issuer or account name, in bytes.
pub const MAX_LABEL_PART_LEN: usize = 256;

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
    kind: OtpKind,
    issuer: Option<String>,
    account: String,
    secret: Secret,
    algorithm: Algorithm,
    digits: Digits,
}

impl KeyUri {
    /// A TOTP provisioning URI. The config's T0 and window are not part of
    /// the format (see the module docs).
    ///
    /// # Errors
    /// [`Error::Uri`] with [`UriError::Label`] for an empty account or issuer
    /// or one containing `:`, [`UriError::ControlCharacter`], or
    /// [`UriError::LabelTooLong`].
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

    /// Parses a URI under the rules in the module documentation.
    ///
    /// # Errors
    /// [`Error::Uri`] for anything malformed or inconsistent; the errors of
    /// [`Secret::from_base32`] for the secret, [`Error::InvalidDigits`].
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_URI_LEN {
            return Err(UriError::TooLong.into());
        }
        if text.contains('#') {
            return Err(UriError::Fragment.into());
        }
        const SCHEME: &str = "otpauth://";
        let rest = match text.get(..SCHEME.len()) {
            Some(scheme) if scheme.eq_ignore_ascii_case(SCHEME) => &text[SCHEME.len()..],
            _ => return Err(UriError::Scheme.into()),
        };
        let (kind_name, rest) = rest.split_once('/').ok_or(UriError::UnknownType)?;
        let is_totp = if kind_name.eq_ignore_ascii_case("totp") {
            true
        } else if kind_name.eq_ignore_ascii_case("hotp") {
            false
        } else {
            return Err(UriError::UnknownType.into());
        };
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (label_issuer, account) = parse_label(label)?;
        let params = Params::parse(query)?;

        let secret_text = params.secret.ok_or(UriError::MissingParameter("secret"))?;
        let secret = Secret::from_base32(&secret_text)?;
        let issuer = match (label_issuer, params.issuer) {
            (Some(a), Some(b)) if a != *b => return Err(UriError::IssuerMismatch.into()),
            (Some(a), _) => Some(a),
            (None, Some(b)) => {
                check_label_part(&b)?;
                Some(b.to_string())
            }
            (None, None) => None,
        };
        let algorithm = match params.algorithm {
            Some(name) => {
                Algorithm::from_name(&name).ok_or(UriError::InvalidParameter("algorithm"))?
            }
            None => Algorithm::Sha1,
        };
        let digits = match params.digits {
            Some(value) => Digits::new(
                parse_decimal(&value)
                    .and_then(|d| u32::try_from(d).ok())
                    .ok_or(UriError::InvalidParameter("digits"))?,
            )?,
            None => Digits::SIX,
        };
        let kind = if is_totp {
            if params.counter.is_some() {
                return Err(UriError::UnexpectedParameter("counter").into());
            }
            let period = match params.period {
                Some(value) => parse_decimal(&value)
                    .filter(|p| (1..=crate::MAX_PERIOD).contains(p))
                    .ok_or(UriError::InvalidParameter("period"))?,
                None => 30,
            };
            OtpKind::Totp { period }
        } else {
            if params.period.is_some() {
                return Err(UriError::UnexpectedParameter("period").into());
            }
            let value = params
                .counter
                .ok_or(UriError::MissingParameter("counter"))?;
            let counter = parse_decimal(&value).ok_or(UriError::InvalidParameter("counter"))?;
            OtpKind::Hotp { counter }
        };
        Ok(Self {
            kind,
            issuer,
            account,
            secret,
            algorithm,
            digits,
        })
    }
}

/// The known parameters of a query, each at most once, percent-decoded.
#[derive(Default)]
struct Params {
    secret: Option<Zeroizing<String>>,
    issuer: Option<Zeroizing<String>>,
    algorithm: Option<Zeroizing<String>>,
    digits: Option<Zeroizing<String>>,
    period: Option<Zeroizing<String>>,
    counter: Option<Zeroizing<String>>,
}

impl Params {
    fn parse(query: &str) -> Result<Self, UriError> {
        let mut params = Self::default();
        if query.is_empty() {
            return Ok(params);
        }
        for pair in query.split('&') {
            let (name, value) = pair
                .split_once('=')
                .filter(|(name, _)| !name.is_empty())
                .ok_or(UriError::MalformedParameter)?;
            let (slot, name) = match name {
                "secret" => (&mut params.secret, "secret"),
                "issuer" => (&mut params.issuer, "issuer"),
                "algorithm" => (&mut params.algorithm, "algorithm"),
                "digits" => (&mut params.digits, "digits"),
                "period" => (&mut params.period, "period"),
                "counter" => (&mut params.counter, "counter"),
                _ => {
                    // Unknown parameters are ignored, but must still be well-formed.
                    percent_decode(value, true)?;
                    continue;
                }
            };
            if slot.is_some() {
                return Err(UriError::DuplicateParameter(name));
            }
            *slot = Some(percent_decode(value, true)?);
        }
        Ok(params)
    }
}

/// Splits a label into issuer prefix and account name.
fn parse_label(label: &str) -> Result<(Option<String>, String), Error> {
    let decoded = percent_decode(label, false)?;
    let (issuer, account) = match decoded.split_once(':') {
        Some((issuer, account)) => (Some(issuer), account.trim_start_matches(' ')),
        None => (None, decoded.as_str()),
    };
    if let Some(issuer) = issuer {
        check_label_part(issuer)?;
    }
    check_label_part(account)?;
    Ok((issuer.map(str::to_owned), account.to_owned()))
}

pub(crate) fn check_label_part(part: &str) -> Result<(), UriError> {
    // Leading spaces cannot survive a round trip (the format drops spaces
    // after the issuer's colon), so neither leading nor trailing white space
    // is accepted.
    if part.is_empty() || part.contains(':') || part.trim() != part {
        return Err(UriError::Label);
    }
    if part.len() > MAX_LABEL_PART_LEN {
        return Err(UriError::LabelTooLong);
    }
    if part.chars().any(char::is_control) {
        return Err(UriError::ControlCharacter);
    }
    Ok(())
}

/// A plain decimal number: ASCII digits only, no sign, fits in u64.
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (and `+` as space in a query). The result must be
/// UTF-8 without control characters.
fn percent_decode(text: &str, plus_is_space: bool) -> Result<Zeroizing<String>, UriError> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(text.len()));
    let mut input = text.bytes();
    while let Some(byte) = input.next() {
        let decoded = match byte {
            b'%' => {
                let high = input.next().and_then(hex_value);
                let low = input.next().and_then(hex_value);
                match (high, low) {
                    (Some(h), Some(l)) => h << 4 | l,
                    _ => return Err(UriError::PercentEncoding),
                }
            }
            b'+' if plus_is_space => b' ',
            other => other,
        };
        bytes.push(decoded);
    }
    let text = String::from_utf8(core::mem::take(&mut *bytes)).map_err(|e| {
        // The rejected bytes may be a secret: wipe them before dropping.
        zeroize::Zeroize::zeroize(&mut e.into_bytes());
        UriError::Utf8
    })?;
    let text = Zeroizing::new(text);
    if text.chars().any(char::is_control) {
        return Err(UriError::ControlCharacter);
    }
    Ok(text)
}

/// Percent-encodes all but RFC 3986 unreserved characters and `@`.
pub(crate) fn percent_encode(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    fn parse_err(text: &str) -> Error {
        KeyUri::parse(text).expect_err(text)
    }

    #[test]
    fn parses_the_usual_forms() {
        let uri = KeyUri::parse(&format!(
            "otpauth://totp/ACME%20Co:john.doe@email.com?secret={SECRET}&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60&image=https%3A%2F%2Fexample.com%2Flogo.png"
        ))
        .unwrap();
        assert_eq!(uri.issuer(), Some("ACME Co"));
        assert_eq!(uri.account(), "john.doe@email.com");
        assert_eq!(uri.algorithm(), Algorithm::Sha256);
        assert_eq!(uri.digits().get(), 8);
        assert_eq!(uri.kind(), OtpKind::Totp { period: 60 });
        assert_eq!(uri.secret().expose_bytes(), b"12345678901234567890");

        // Defaults, issuer only as a parameter, `+` as space, encoded colon, lower-case scheme parts.
        let uri = KeyUri::parse(&format!(
            "OTPAUTH://TOTP/Big+Corp%3A%20alice?secret={}&issuer=Big+Corp",
            SECRET.to_lowercase()
        ));
        // `+` in the label is a literal plus, so the label issuer is "Big+Corp" and differs.
        assert_eq!(uri.unwrap_err(), Error::Uri(UriError::IssuerMismatch));
        let uri = KeyUri::parse(&format!(
            "OTPAUTH://TOTP/Big%20Corp%3A%20alice?secret={}&issuer=Big+Corp",
            SECRET.to_lowercase()
        ))
        .unwrap();
        assert_eq!(uri.issuer(), Some("Big Corp"));
        assert_eq!(uri.account(), "alice");
        assert_eq!(uri.kind(), OtpKind::Totp { period: 30 });
        assert_eq!(uri.digits(), Digits::SIX);

        let uri = KeyUri::parse(&format!("otpauth://hotp/bob?secret={SECRET}&counter=42")).unwrap();
        assert_eq!(uri.issuer(), None);
        assert_eq!(uri.kind(), OtpKind::Hotp { counter: 42 });
        assert_eq!(uri.totp_config(), None);
    }

    #[test]
    fn rejects_malformed_uris_with_the_right_reason() {
        let s = SECRET;
        let long = format!("otpauth://totp/a?secret={s}&x={}", "y".repeat(MAX_URI_LEN));
        let cases: Vec<(String, Error)> = vec![
            (long, UriError::TooLong.into()),
            (format!("http://totp/a?secret={s}"), UriError::Scheme.into()),
            (
                format!("otpauth:/totp/a?secret={s}"),
                UriError::Scheme.into(),
            ),
            (
                format!("otpauth://motp/a?secret={s}"),
                UriError::UnknownType.into(),
            ),
            ("otpauth://totp".into(), UriError::UnknownType.into()),
            (
                format!("otpauth://totp/a?secret={s}#x"),
                UriError::Fragment.into(),
            ),
            (
                format!("otpauth://totp/a%2?secret={s}"),
                UriError::PercentEncoding.into(),
            ),
            (
                format!("otpauth://totp/a%zz?secret={s}"),
                UriError::PercentEncoding.into(),
            ),
            (
                format!("otpauth://totp/a%FF?secret={s}"),
                UriError::Utf8.into(),
            ),
            (
                format!("otpauth://totp/a%00b?secret={s}"),
                UriError::ControlCharacter.into(),
            ),
            (
                format!("otpauth://totp/a?secret={s}&issuer=x%00"),
                UriError::ControlCharacter.into(),
            ),
            (
                format!("otpauth://totp/?secret={s}"),
                UriError::Label.into(),
            ),
            (
                format!("otpauth://totp/:a?secret={s}"),
                UriError::Label.into(),
            ),
            (
                format!("otpauth://totp/x:?secret={s}"),
                UriError::Label.into(),
            ),
            (
                format!("otpauth://totp/x:y:z?secret={s}"),
                UriError::Label.into(),
            ),
            (
                format!("otpauth://totp/x:y?secret={s}&issuer=z"),
                UriError::IssuerMismatch.into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&&digits=6"),
                UriError::MalformedParameter.into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&digits"),
                UriError::MalformedParameter.into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&=6"),
                UriError::MalformedParameter.into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&secret={s}"),
                UriError::DuplicateParameter("secret").into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&digits=6&digits=6"),
                UriError::DuplicateParameter("digits").into(),
            ),
            (
                "otpauth://totp/y?digits=6".into(),
                UriError::MissingParameter("secret").into(),
            ),
            (
                "otpauth://totp/y".into(),
                UriError::MissingParameter("secret").into(),
            ),
            (
                format!("otpauth://hotp/y?secret={s}"),
                UriError::MissingParameter("counter").into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&counter=1"),
                UriError::UnexpectedParameter("counter").into(),
            ),
            (
                format!("otpauth://hotp/y?secret={s}&counter=1&period=30"),
                UriError::UnexpectedParameter("period").into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&algorithm=MD5"),
                UriError::InvalidParameter("algorithm").into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&digits=six"),
                UriError::InvalidParameter("digits").into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&digits=+6"),
                UriError::InvalidParameter("digits").into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&digits=5"),
                Error::InvalidDigits(5),
            ),
            (
                format!("otpauth://totp/y?secret={s}&digits=11"),
                Error::InvalidDigits(11),
            ),
            (
                format!("otpauth://totp/y?secret={s}&period=0"),
                UriError::InvalidParameter("period").into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&period=-30"),
                UriError::InvalidParameter("period").into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&period=301"),
                UriError::InvalidParameter("period").into(),
            ),
            (
                format!("otpauth://totp/y?secret={s}&period=18446744073709551615"),
                UriError::InvalidParameter("period").into(),
            ),
            (
                format!("otpauth://hotp/y?secret={s}&counter=18446744073709551616"),
                UriError::InvalidParameter("counter").into(),
            ),
            (
                "otpauth://totp/y?secret=JBSWY3DPEHPK3PXP".into(),
                Error::SecretTooShort { len: 10, min: 16 },
            ),
            (
                "otpauth://totp/y?secret=GEZDGNBV1".into(),
                Error::Base32(crate::Base32Error::InvalidCharacter { position: 8 }),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_err(&text), want, "{text}");
        }
    }

    #[test]
    fn builder_refuses_ambiguous_labels() {
        let secret = || Secret::from_bytes(&[1; 20]).unwrap();
        let config = TotpConfig::default();
        assert_eq!(
            KeyUri::totp(Some("a:b"), "c", secret(), config).unwrap_err(),
            UriError::Label.into()
        );
        assert_eq!(
            KeyUri::totp(None, "", secret(), config).unwrap_err(),
            UriError::Label.into()
        );
        assert_eq!(
            KeyUri::totp(Some(""), "x", secret(), config).unwrap_err(),
            UriError::Label.into()
        );
        assert_eq!(
            KeyUri::totp(None, "a\nb", secret(), config).unwrap_err(),
            UriError::ControlCharacter.into()
        );
        assert_eq!(
            KeyUri::totp(None, &"x".repeat(257), secret(), config).unwrap_err(),
            UriError::LabelTooLong.into()
        );
    }

    #[test]
    fn debug_redacts_the_secret() {
        let uri = KeyUri::parse(&format!("otpauth://totp/a?secret={SECRET}")).unwrap();
        let shown = format!("{uri:?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn encodes_reserved_characters_and_round_trips_them() {
        let secret = Secret::from_bytes(&[9; 16]).unwrap();
        let uri = KeyUri::hotp(
            Some("A&B=C?D/E#F%G+H é"),
            "ü@x y",
            secret,
            Algorithm::Sha512,
            Digits::new(10).unwrap(),
            u64::MAX,
        )
        .unwrap();
        let text = uri.to_uri();
        assert!(
            text.starts_with("otpauth://hotp/A%26B%3DC%3FD%2FE%23F%25G%2BH%20%C3%A9:%C3%BC@x%20y?"),
            "{}",
            text.as_str()
        );
        assert!(text.ends_with("&algorithm=SHA512&digits=10&counter=18446744073709551615"));
        assert_eq!(KeyUri::parse(&text).unwrap(), uri);
    }

    #[test]
    fn names_with_surrounding_white_space_are_refused() {
        let s = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        for text in [
            format!("otpauth://totp/%20x?secret={s}"),
            format!("otpauth://totp/x%20:y?secret={s}"),
            format!("otpauth://totp/x:y%20?secret={s}"),
            format!("otpauth://totp/y?secret={s}&issuer=%20x"),
        ] {
            assert_eq!(KeyUri::parse(&text), Err(UriError::Label.into()), "{text}");
        }
        // Spaces after the issuer's colon are part of the format, not the name.
        let uri = KeyUri::parse(&format!("otpauth://totp/x:%20%20y?secret={s}")).unwrap();
        assert_eq!(uri.account(), "y");
        let secret = Secret::from_bytes(&[1; 20]).unwrap();
        assert_eq!(
            KeyUri::totp(Some("x"), " alice", secret, TotpConfig::default()).unwrap_err(),
            UriError::Label.into()
        );
    }
}

#[cfg(test)]
mod capacity_tests {
    use super::*;

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
