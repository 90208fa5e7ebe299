//! [`KeyUri::parse`]: reading `otpauth://` text under the strict rules of
//! the module documentation.

use zeroize::Zeroizing;

use super::key_uri::{KeyUri, OtpKind};
use super::label::check_label_part;
use super::percent::percent_decode;
use crate::error::{Error, Result, UriError};
use crate::otp::{Algorithm, Digits};
use crate::secret::Secret;

/// Longest URI [`KeyUri::parse`] reads.
pub const MAX_URI_LEN: usize = 4096;

impl KeyUri {
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

/// A plain decimal number: ASCII digits only, no sign, fits in u64.
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::TotpConfig;

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
