//! What the engine accepts as a destination for e-mail and SMS codes.
//!
//! A contact is where a second factor is delivered, so anything that is not
//! plainly an address is refused rather than handed to a mailer or an SMS
//! gateway to interpret:
//!
//! * **e-mail address**: `local@domain`, ASCII only, at most
//!   [`MAX_EMAIL_LEN`] bytes, exactly one `@`. The local part (1..=64 bytes)
//!   is a dot-atom of RFC 5322 `atext` (letters, digits and
//!   ``!#$%&'*+-/=?^_`{|}~``; dots between them, never first, last or
//!   doubled); quoted local parts are refused. The domain is at least two
//!   DNS labels of letters, digits and hyphens (each 1..=63 bytes, no hyphen
//!   first or last); address literals (`[192.0.2.1]`) are refused.
//! * **phone number**: E.164, `+` then 8 to 15 digits, the first not `0`;
//!   single spaces between digit groups are allowed as typed
//!   (`+33 6 12 34 56 78`) and kept; nothing else (no hyphens, brackets,
//!   leading or doubled spaces).

use crate::error::{Error, Result};

/// Longest e-mail address accepted, in bytes (RFC 5321's 256-byte path
/// minus its angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// Fewest and most digits of a phone number (E.164 allows up to 15).
const PHONE_DIGITS: core::ops::RangeInclusive<usize> = 8..=15;

/// Refuses anything that is not an e-mail address under the module rules.
pub(super) fn check_email(address: &str) -> Result<()> {
    const WHAT: &str = "contact e-mail address: local@domain.tld in ASCII, at most 254 bytes, \
                        one @, no spaces or quotes";
    let bad = || Error::InvalidConfig(WHAT);
    if address.len() > MAX_EMAIL_LEN || !address.is_ascii() {
        return Err(bad());
    }
    let (local, domain) = address.split_once('@').ok_or_else(bad)?;
    if !(1..=64).contains(&local.len()) || !dot_separated(local, is_atext) {
        return Err(bad());
    }
    let labels_ok = domain.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    if domain.len() > 253 || !labels_ok || !domain.contains('.') {
        return Err(bad());
    }
    Ok(())
}

/// Refuses anything that is not an E.164 phone number under the module rules.
pub(super) fn check_phone(number: &str) -> Result<()> {
    const WHAT: &str = "contact phone number: E.164, + then 8 to 15 digits (the first not 0), \
                        single spaces between groups allowed";
    let bad = || Error::InvalidConfig(WHAT);
    let digits = number.strip_prefix('+').ok_or_else(bad)?;
    let groups_ok = digits
        .split(' ')
        .all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_digit()));
    let count = digits.bytes().filter(u8::is_ascii_digit).count();
    if !groups_ok || !PHONE_DIGITS.contains(&count) || digits.starts_with('0') {
        return Err(bad());
    }
    Ok(())
}

/// Non-empty runs of `allowed` bytes separated by single dots.
fn dot_separated(text: &str, allowed: fn(u8) -> bool) -> bool {
    text.split('.')
        .all(|atom| !atom.is_empty() && atom.bytes().all(allowed))
}

/// RFC 5322 `atext`.
fn is_atext(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&byte)
}

/// A delivery channel with its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Channel {
    /// This e-mail address.
    Email(String),
    /// This phone number.
    Sms(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_addresses_pass() {
        for address in [
            "alice@example.com",
            "a@b.co",
            "first.last+tag@mail.example.org",
            "o'brien@xn--bcher-kva.example",
            "x_y-z@a-b.example",
        ] {
            assert_eq!(check_email(address), Ok(()), "{address}");
        }
        let longest = format!("{}@{}.example", "a".repeat(64), "b".repeat(63));
        assert_eq!(check_email(&longest), Ok(()));
    }

    #[test]
    fn anything_else_is_not_an_address() {
        let too_long = format!("{}@{}.example", "a".repeat(64), "b".repeat(200));
        let long_local = format!("{}@example.com", "a".repeat(65));
        for address in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@@example.com",
            "a@b@example.com",
            "alice@localhost",
            "alice@example.com.",
            "alice@.example.com",
            "alice@exa mple.com",
            "alice @example.com",
            " alice@example.com",
            "alice@example.com ",
            "a\nb@example.com",
            "alice@example.com\r\nBcc: eve@example.net",
            "\"alice\"@example.com",
            "alice.@example.com",
            ".alice@example.com",
            "al..ice@example.com",
            "alice@[192.0.2.1]",
            "alice@-example.com",
            "alice@example-.com",
            "alice@exa_mple.com",
            "ａlice@example.com",
            "alice@exämple.com",
            "alice,bob@example.com",
            "alice@example.com;bob@example.com",
            "alice<x>@example.com",
            too_long.as_str(),
            long_local.as_str(),
        ] {
            assert!(
                matches!(check_email(address), Err(Error::InvalidConfig(_))),
                "{address:?}"
            );
        }
    }

    #[test]
    fn e164_numbers_pass() {
        for number in [
            "+33612345678",
            "+33 6 12 34 56 78",
            "+1 202 555 0143",
            "+12345678",
            "+123456789012345",
        ] {
            assert_eq!(check_phone(number), Ok(()), "{number}");
        }
    }

    #[test]
    fn anything_else_is_not_a_phone_number() {
        for number in [
            "",
            "+",
            "33612345678",
            "0612345678",
            "+0612345678",
            "+1234567",
            "+1234567890123456",
            "+33-6-12-34-56-78",
            "+33  612345678",
            "+ 33612345678",
            "+33612345678 ",
            " +33612345678",
            "+33\n612345678",
            "+33 (6) 12345678",
            "+336123456７8",
            "+33612345678;ext=1",
            "tel:+33612345678",
            "++33612345678",
        ] {
            assert!(
                matches!(check_phone(number), Err(Error::InvalidConfig(_))),
                "{number:?}"
            );
        }
    }

    #[test]
    fn messages_never_quote_the_value() {
        let Err(err) = check_email("secret-name@localhost") else {
            panic!("refused");
        };
        assert!(!err.to_string().contains("secret-name"), "{err}");
        let Err(err) = check_phone("+0999") else {
            panic!("refused");
        };
        assert!(!err.to_string().contains("0999"), "{err}");
    }
}
