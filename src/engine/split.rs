//! Password and code typed as one string (S5): `T9D3K!px` + `189145` =
//! `T9D3K!px189145`, as mail clients that know only "password" need.

use crate::error::{Error, Result};
use crate::otp::Digits;

/// Longest password+code input accepted, in bytes.
pub const MAX_LOGIN_INPUT: usize = 4096;

/// Splits the trailing `digits` ASCII digits off `input`.
///
/// Returns `(password, Some(code))` when `input` is longer than `digits`
/// bytes and ends in that many ASCII digits, else `(input, None)` — the
/// whole input is the password and the code is missing. Call it only for
/// accounts with an active second factor ([`super::Engine::split_login`]
/// does that check): a password ending in digits must stay whole for
/// everyone else.
///
/// A split never falls inside a UTF-8 character, since ASCII digits are
/// single bytes that never occur inside a multi-byte character.
///
/// ```
/// use mail2fa::Digits;
/// use mail2fa::engine::split_password_and_code;
///
/// assert_eq!(split_password_and_code("T9D3K!px189145", Digits::SIX)?, ("T9D3K!px", Some("189145")));
/// assert_eq!(split_password_and_code("short1", Digits::SIX)?, ("short1", None));
/// assert!(split_password_and_code("pw\x00123456", Digits::SIX).is_err());
/// # Ok::<(), mail2fa::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] for a NUL byte or more than [`MAX_LOGIN_INPUT`] bytes.
pub fn split_password_and_code(input: &str, digits: Digits) -> Result<(&str, Option<&str>)> {
    check_login_input(input)?;
    let n = usize::from(digits.get());
    if input.len() <= n {
        return Ok((input, None));
    }
    let split = input.len() - n;
    match (input.get(..split), input.get(split..)) {
        (Some(password), Some(code)) if code.bytes().all(|b| b.is_ascii_digit()) => {
            Ok((password, Some(code)))
        }
        _ => Ok((input, None)),
    }
}

/// Refuses input no login may carry: a NUL byte (C strings would end
/// there) or more than [`MAX_LOGIN_INPUT`] bytes.
pub(crate) fn check_login_input(input: &str) -> Result<()> {
    if input.len() > MAX_LOGIN_INPUT {
        return Err(Error::InvalidInput("login input too long"));
    }
    if input.contains('\0') {
        return Err(Error::InvalidInput("NUL in login input"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_only_trailing_ascii_digits() {
        let six = Digits::SIX;
        assert_eq!(
            split_password_and_code("T9D3K!px189145", six).unwrap(),
            ("T9D3K!px", Some("189145"))
        );
        // Password that itself ends in digits: the last six are the code.
        assert_eq!(
            split_password_and_code("hunter2189145", six).unwrap(),
            ("hunter2", Some("189145"))
        );
        // Exactly six digits: nothing would be left of the password.
        assert_eq!(
            split_password_and_code("189145", six).unwrap(),
            ("189145", None)
        );
        assert_eq!(split_password_and_code("", six).unwrap(), ("", None));
        // Fewer trailing digits, other digits, full-width digits.
        assert_eq!(
            split_password_and_code("pass12345", six).unwrap(),
            ("pass12345", None)
        );
        assert_eq!(
            split_password_and_code("pass12345٣", six).unwrap(),
            ("pass12345٣", None)
        );
        assert_eq!(
            split_password_and_code("pässwörd１２３４５６", six).unwrap(),
            ("pässwörd１２３４５６", None)
        );
        // Multi-byte characters right before the code are kept whole.
        assert_eq!(
            split_password_and_code("mot-de-passé123456", six).unwrap(),
            ("mot-de-passé", Some("123456"))
        );
        assert_eq!(
            split_password_and_code("pw12345678", Digits::EIGHT).unwrap(),
            ("pw", Some("12345678"))
        );
    }

    #[test]
    fn refuses_nul_and_over_long_input() {
        assert!(matches!(
            split_password_and_code("pw\x00189145", Digits::SIX),
            Err(Error::InvalidInput(_))
        ));
        let long = "a".repeat(MAX_LOGIN_INPUT + 1);
        assert!(matches!(
            split_password_and_code(&long, Digits::SIX),
            Err(Error::InvalidInput(_))
        ));
        let longest = "a".repeat(MAX_LOGIN_INPUT - 6) + "123456";
        assert!(
            split_password_and_code(&longest, Digits::SIX)
                .unwrap()
                .1
                .is_some()
        );
    }
}
