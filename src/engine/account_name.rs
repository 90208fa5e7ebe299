//! What a platform name and an account name may be: one spelling per
//! account.
//!
//! mail2fa compares names byte for byte, while the directory behind the
//! host's password check (LDAP, SSSD, a database collation) often does not:
//! it may fold case (`Alice`), apply Unicode compatibility mappings
//! (full-width `ａlice`, the Kelvin sign U+212A for `k`), drop a trailing dot
//! of a domain, or read `EXAMPLE\alice` as a domain login. Each such
//! spelling would find no mail2fa record and be read as "no 2FA", while the
//! password module lets it into the real account. So names are checked
//! against an allow-list in which every account has exactly one spelling,
//! and anything else is refused with [`Error::InvalidName`], never
//! normalised here (normalising in one layer and matching loosely in
//! another is what opened the hole).
//!
//! The alphabet (ASCII only, lower case):
//!
//! - **Platform name**: a lower-case DNS name — labels of `a`–`z`, `0`–`9`
//!   and `-`, each 1 to 63 bytes, beginning and ending with a letter or
//!   digit, separated by single dots (no leading, trailing or double dot);
//!   at most 253 bytes. One label (`mail`) is a valid platform name.
//! - **Account name**: `local` or `local@domain`. The local part is 1 to 64
//!   bytes of `a`–`z`, `0`–`9`, `.`, `-`, `_` and `+`, beginning and ending
//!   with a letter or digit, without two dots in a row; the domain follows
//!   the platform rule. At most one `@`, at most 254 bytes in all.
//!
//! Internationalized names are refused: the host maps them to one ASCII
//! spelling before calling mail2fa (domains as their Punycode A-labels,
//! `xn--…`, which are ordinary DNS labels here), and enrolls accounts under
//! that spelling.
//!
//! Other names the engine keeps (the issuer, application-password names)
//! follow only the label rule of provisioning URIs ([`check_name`]).

use crate::error::{Error, NameError, Result};

/// Longest platform name (and domain part), in bytes: a DNS name's limit.
pub const MAX_PLATFORM_NAME_LEN: usize = 253;
/// Longest account name, in bytes (RFC 5321's limit on a mailbox).
pub const MAX_ACCOUNT_NAME_LEN: usize = 254;
/// Longest part of an account name before `@` (RFC 5321 §4.5.3.1.1).
pub const MAX_LOCAL_PART_LEN: usize = 64;
/// Longest label of a domain (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// Checks a platform name (see the module documentation).
///
/// # Errors
/// [`Error::InvalidName`] saying what is wrong and where.
pub(crate) fn check_platform_name(name: &str) -> Result<()> {
    if name.len() > MAX_PLATFORM_NAME_LEN {
        return Err(invalid(
            "platform name",
            NameError::TooLong {
                max: MAX_PLATFORM_NAME_LEN,
            },
        ));
    }
    check_domain(name, 0).map_err(|problem| invalid("platform name", problem))
}

/// Checks an account name (see the module documentation).
///
/// # Errors
/// [`Error::InvalidName`] saying what is wrong and where.
pub(crate) fn check_account_name(name: &str) -> Result<()> {
    check_account(name).map_err(|problem| invalid("account name", problem))
}

fn invalid(what: &'static str, problem: NameError) -> Error {
    Error::InvalidName { what, problem }
}

fn check_account(name: &str) -> Result<(), NameError> {
    if name.len() > MAX_ACCOUNT_NAME_LEN {
        return Err(NameError::TooLong {
            max: MAX_ACCOUNT_NAME_LEN,
        });
    }
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let (local, domain) = match name.find('@') {
        Some(at) => (&name[..at], Some((at, &name[at + 1..]))),
        None => (name, None),
    };
    check_local_part(local)?;
    if let Some((at, domain)) = domain {
        if domain.is_empty() {
            return Err(NameError::MisplacedAt { position: at });
        }
        check_domain(domain, at + 1)?;
    }
    Ok(())
}

/// The part before `@` (or the whole of a name without one).
fn check_local_part(local: &str) -> Result<(), NameError> {
    let bytes = local.as_bytes();
    if bytes.is_empty() {
        // "@example.com" (the empty name is refused before)
        return Err(NameError::MisplacedAt { position: 0 });
    }
    for (position, &byte) in bytes.iter().enumerate() {
        if !matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'+') {
            return Err(bad_character(byte, position));
        }
    }
    if bytes.len() > MAX_LOCAL_PART_LEN {
        return Err(NameError::LocalPartTooLong {
            max: MAX_LOCAL_PART_LEN,
        });
    }
    check_punctuation(bytes, 0)
}

/// A DNS name starting at byte `offset` of the whole name (for positions).
fn check_domain(domain: &str, offset: usize) -> Result<(), NameError> {
    let bytes = domain.as_bytes();
    if bytes.is_empty() {
        return Err(NameError::Empty);
    }
    for (index, &byte) in bytes.iter().enumerate() {
        if !matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-') {
            return Err(bad_character(byte, offset + index));
        }
    }
    let mut start = 0;
    for label in domain.split('.') {
        if label.len() > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong { max: MAX_LABEL_LEN });
        }
        if label.is_empty() {
            // A leading, doubled or trailing dot: point at the dot that
            // follows the empty label, or at the trailing one.
            let position = if start < bytes.len() {
                start
            } else {
                start - 1
            };
            return Err(NameError::Misplaced {
                position: offset + position,
            });
        }
        check_punctuation(label.as_bytes(), offset + start)?;
        start += label.len() + 1;
    }
    Ok(())
}

/// A part (local part or label) of allowed bytes: begins and ends with a
/// letter or digit, and has no two dots in a row.
fn check_punctuation(part: &[u8], offset: usize) -> Result<(), NameError> {
    let misplaced = |index: usize| NameError::Misplaced {
        position: offset + index,
    };
    let last = part.len() - 1;
    if !part[0].is_ascii_alphanumeric() {
        return Err(misplaced(0));
    }
    if !part[last].is_ascii_alphanumeric() {
        return Err(misplaced(last));
    }
    if let Some(index) = part.windows(2).position(|pair| pair == b"..") {
        return Err(misplaced(index + 1));
    }
    Ok(())
}

/// Why `byte` at `position` is outside the alphabet.
fn bad_character(byte: u8, position: usize) -> NameError {
    match byte {
        b'A'..=b'Z' => NameError::UpperCase { position },
        0x80..=0xff => NameError::NonAscii { position },
        b'@' => NameError::MisplacedAt { position },
        _ => NameError::Character { position },
    }
}

/// Names end up in provisioning URIs (the platform as the default issuer),
/// so they follow the label rules: non-empty, at most 256 bytes, no `:`, no
/// control characters, no surrounding white space.
pub(super) fn check_name(name: &str, what: &'static str) -> Result<()> {
    crate::uri::check_label_part(name).map_err(|_| Error::InvalidConfig(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str) -> Result<(), NameError> {
        check_account(name)
    }

    #[test]
    fn real_mail_names_pass() {
        for name in [
            "alice",
            "alice@example.com",
            "alice+tag@example.com",
            "a.b-c_d@sub.example.co.uk",
            "a",
            "7@x",
            "user@xn--bcher-kva.example",
            "bob@localhost",
        ] {
            assert_eq!(account(name), Ok(()), "{name}");
        }
        for name in ["example.com", "mail", "a-b.c0", "xn--bcher-kva.example"] {
            assert!(check_platform_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn each_problem_has_its_error() {
        use NameError::*;
        let cases: &[(&str, NameError)] = &[
            ("", Empty),
            ("Alice@example.com", UpperCase { position: 0 }),
            ("alice@Example.com", UpperCase { position: 6 }),
            ("\u{ff41}lice@example.com", NonAscii { position: 0 }),
            ("\u{212a}ate@example.com", NonAscii { position: 0 }),
            ("alice@example.com.", Misplaced { position: 17 }),
            ("alice.@example.com", Misplaced { position: 5 }),
            (".alice", Misplaced { position: 0 }),
            ("al..ice", Misplaced { position: 3 }),
            ("alice@example..com", Misplaced { position: 14 }),
            ("alice@-example.com", Misplaced { position: 6 }),
            ("example\\alice@example.com", Character { position: 7 }),
            ("al ice", Character { position: 2 }),
            ("alice\t", Character { position: 5 }),
            ("alice@ex_ample.com", Character { position: 8 }),
            ("alice@", MisplacedAt { position: 5 }),
            ("@example.com", MisplacedAt { position: 0 }),
            ("a@b@example.com", MisplacedAt { position: 3 }),
        ];
        for (name, expected) in cases {
            assert_eq!(account(name), Err(*expected), "{name:?}");
        }
        assert_eq!(account(&"a".repeat(65)), Err(LocalPartTooLong { max: 64 }));
        assert_eq!(account(&"a".repeat(255)), Err(TooLong { max: 254 }));
        assert_eq!(
            account(&format!("a@{}.com", "b".repeat(64))),
            Err(LabelTooLong { max: 63 })
        );
    }
}
