//! One-time codes the engine hands out: e-mail/SMS codes and recovery
//! codes. Both are stored only as salted HMAC-SHA-256 tags and compared in
//! constant time.
//!
//! A 6-digit code has only ~20 bits: whoever reads the store while it is
//! live can brute-force its tag. The tag keeps codes out of backups and
//! logs; the short life (180 s) and the attempt limit (3) do the rest. An
//! e-mail code is not an out-of-band authenticator in the sense of NIST SP
//! 800-63B (whoever has the mailbox has the code): prefer TOTP.

use hmac::{KeyInit, Mac};
use rand::TryRng;
use rand::rngs::SysRng;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

pub(crate) const SALT_LEN: usize = 16;
pub(crate) const TAG_LEN: usize = 32;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| Error::Random)?;
    Ok(bytes)
}

pub(crate) fn tag(salt: &[u8; SALT_LEN], code: &str) -> [u8; TAG_LEN] {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = match <HmacSha256 as KeyInit>::new_from_slice(salt) {
        Ok(mac) => mac,
        Err(_) => return [0; TAG_LEN],
    };
    mac.update(code.as_bytes());
    mac.finalize().into_bytes().into()
}

pub(crate) fn tag_matches(expected: &[u8; TAG_LEN], salt: &[u8; SALT_LEN], code: &str) -> bool {
    tags_equal(expected, &tag(salt, code))
}

/// Constant-time equality of two tags.
pub(crate) fn tags_equal(a: &[u8; TAG_LEN], b: &[u8; TAG_LEN]) -> bool {
    a.ct_eq(b).into()
}

/// `digits` uniform random decimal digits: each digit from a random byte
/// below 250 (rejection sampling), so no digit is likelier than another.
pub(crate) fn random_digits(digits: usize) -> Result<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::with_capacity(digits));
    while out.len() < digits {
        let batch: Zeroizing<[u8; 32]> = Zeroizing::new(random_bytes()?);
        for &byte in batch.iter().filter(|&&b| b < 250) {
            if out.len() == digits {
                break;
            }
            out.push(char::from(b'0' + byte % 10));
        }
    }
    Ok(out)
}

/// Readable alphabet for recovery codes: Crockford's base32 in lower case
/// (no i, l, o, u) — 32 symbols, 5 bits each.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A recovery code: two groups of five symbols, `xxxxx-xxxxx`, 50 bits.
pub(crate) fn random_recovery_code() -> Result<Zeroizing<String>> {
    let bytes: Zeroizing<[u8; 10]> = Zeroizing::new(random_bytes()?);
    let mut out = Zeroizing::new(String::with_capacity(11));
    for (i, &byte) in bytes.iter().enumerate() {
        if i == 5 {
            out.push('-');
        }
        // 256 is a multiple of 32: `byte % 32` is uniform.
        out.push(char::from(RECOVERY_ALPHABET[usize::from(byte % 32)]));
    }
    Ok(out)
}

/// The canonical form of something typed as a recovery code, if it has
/// the shape of one — `xxxxx-xxxxx`; the hyphen is required, so that no
/// 10-digit OTP code is ever taken for one — with case ignored and the
/// look-alikes Crockford's base32 folds (`o` is `0`, `i` and `l` are `1`),
/// so that a user copying from paper is not counted wrong for them.
pub(crate) fn canonical_recovery_code(input: &str) -> Option<Zeroizing<String>> {
    let bytes = input.as_bytes();
    if bytes.len() != 11 || bytes[5] != b'-' {
        return None;
    }
    let mut out = Zeroizing::new(String::with_capacity(11));
    for (i, &byte) in bytes[..5].iter().chain(&bytes[6..]).enumerate() {
        if i == 5 {
            out.push('-');
        }
        let symbol = match byte.to_ascii_lowercase() {
            b'o' => b'0',
            b'i' | b'l' => b'1',
            other => other,
        };
        if !RECOVERY_ALPHABET.contains(&symbol) {
            return None;
        }
        out.push(char::from(symbol));
    }
    Some(out)
}

/// Symbols in an application password: 20 × 5 bits = 100 bits.
const APP_PASSWORD_SYMBOLS: usize = 20;

/// An application password: four groups of five symbols of the recovery
/// alphabet, `xxxxx-xxxxx-xxxxx-xxxxx` — 100 bits, easy to type on a phone.
pub(crate) fn random_app_password() -> Result<Zeroizing<String>> {
    let bytes: Zeroizing<[u8; APP_PASSWORD_SYMBOLS]> = Zeroizing::new(random_bytes()?);
    let mut out = Zeroizing::new(String::with_capacity(APP_PASSWORD_SYMBOLS + 3));
    for (i, &byte) in bytes.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(char::from(RECOVERY_ALPHABET[usize::from(byte % 32)]));
    }
    Ok(out)
}

/// The canonical form (20 symbols, no separators) of something typed as an
/// application password, if it has the shape of one: 20 symbols of the
/// alphabet once hyphens and spaces are dropped, case and Crockford
/// look-alikes folded. Anything else is not an application password (and
/// a wrong one is then not counted as a guess).
pub(crate) fn canonical_app_password(input: &str) -> Option<Zeroizing<String>> {
    if input.len() > 64 {
        return None;
    }
    let mut out = Zeroizing::new(String::with_capacity(APP_PASSWORD_SYMBOLS));
    for byte in input.bytes().filter(|&b| b != b'-' && b != b' ') {
        let symbol = match byte.to_ascii_lowercase() {
            b'o' => b'0',
            b'i' | b'l' => b'1',
            other => other,
        };
        if !RECOVERY_ALPHABET.contains(&symbol) || out.len() == APP_PASSWORD_SYMBOLS {
            return None;
        }
        out.push(char::from(symbol));
    }
    (out.len() == APP_PASSWORD_SYMBOLS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_uniform_enough_and_well_formed() {
        let mut counts = [0u32; 10];
        for _ in 0..2_000 {
            let code = random_digits(6).unwrap();
            assert_eq!(code.len(), 6);
            for b in code.bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        // 12,000 digits, 1,200 expected each; a biased generator (say
        // `% 10` over bytes without rejection, +20 % on 0..5) would leave this band.
        for (digit, &count) in counts.iter().enumerate() {
            assert!((1_000..=1_400).contains(&count), "digit {digit}: {count}");
        }
    }

    #[test]
    fn recovery_codes_have_their_shape_and_differ() {
        let a = random_recovery_code().unwrap();
        let b = random_recovery_code().unwrap();
        assert_eq!(canonical_recovery_code(&a).as_deref(), Some(&*a));
        assert_ne!(a, b);
        assert_eq!(canonical_recovery_code("123456"), None);
        assert_eq!(canonical_recovery_code("abcde_fghjk"), None);
        assert_eq!(canonical_recovery_code("abcde-fghju"), None);
        // Case, missing hyphen and Crockford look-alikes fold to one form.
        assert_eq!(canonical_recovery_code("abcdefgh1k"), None);
        assert_eq!(canonical_recovery_code("1234567890"), None);
        for typed in ["ABCDE-FGH1K", "abcde-fghik", "abcde-fghlk", "AbCdE-FgHiK"] {
            assert_eq!(
                canonical_recovery_code(typed)
                    .as_deref()
                    .map(String::as_str),
                Some("abcde-fgh1k"),
                "{typed}"
            );
        }
        assert_eq!(
            canonical_recovery_code("oOoOo-00000")
                .as_deref()
                .map(String::as_str),
            Some("00000-00000")
        );
    }

    #[test]
    fn app_passwords_have_their_shape_and_forgive_typing() {
        let a = random_app_password().unwrap();
        assert_eq!(a.len(), 23);
        assert_eq!(a.matches('-').count(), 3);
        let canonical = canonical_app_password(&a).unwrap();
        assert_eq!(*canonical, a.replace('-', ""));
        assert_ne!(a, random_app_password().unwrap());
        for typed in [
            "abcde-fgh1k-mnpqr-stvwx",
            "ABCDE FGHIK MNPQR STVWX",
            "abcdefghlkmnpqrstvwx",
        ] {
            assert_eq!(
                canonical_app_password(typed).as_deref().map(String::as_str),
                Some("abcdefgh1kmnpqrstvwx"),
                "{typed}"
            );
        }
        for not_one in [
            "hunter2",
            "abcde-fghjk-mnpqr-stvwxy",
            "abcde-fghjk-mnpqr-stvwu",
            "",
        ] {
            assert_eq!(canonical_app_password(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn tags_depend_on_salt_and_code() {
        let salt = [1u8; SALT_LEN];
        let t = tag(&salt, "123456");
        assert!(tag_matches(&t, &salt, "123456"));
        assert!(!tag_matches(&t, &salt, "123457"));
        assert!(!tag_matches(&t, &[2u8; SALT_LEN], "123456"));
    }
}
