//! RFC 4648 base32, the text form of TOTP secrets.
//!
//! Encoding produces the canonical upper-case alphabet. Decoding accepts what
//! people actually type or paste from an enrollment page, and nothing else:
//!
//! * lower case letters (`jbswy3dp` = `JBSWY3DP`);
//! * single spaces or hyphens *between* groups (`JBSW Y3DP`, `jbsw-y3dp`), never
//!   leading, trailing or doubled;
//! * correct `=` padding, or none at all.
//!
//! Anything else — other whitespace, `0`/`1`/`8`/`9`, a wrong amount of
//! padding, a symbol count that cannot encode whole bytes, a last symbol
//! whose leftover bits are not zero — is an error that names the position
//! but never quotes the character (it may be part of a secret).
//!
//! The leftover bits are refused (RFC 4648 §3.5 allows it) so that each byte
//! string has exactly one spelling: `MZ` and `M3` would otherwise both be the
//! byte `f`, and two texts that differ would name the same secret. Our
//! encoder always writes them as zero; a service that hands out random
//! symbols instead of encoded bytes must use a symbol count that is a
//! multiple of 8 (or of the lengths that encode whole bytes with nothing
//! left over) for its secrets to be accepted.
//!
//! Output buffers are [`Zeroizing`], since what passes through here is
//! usually a secret.

use zeroize::{Zeroize, Zeroizing};

use crate::error::Base32Error;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes `data` without padding, the form authenticator apps expect in
/// `otpauth://` URIs.
///
/// ```
/// assert_eq!(mail2fa::base32::encode(b"foobar").as_str(), "MZXW6YTBOI");
/// ```
pub fn encode(data: &[u8]) -> Zeroizing<String> {
    encode_with_padding(data, false)
}

/// Encodes `data` with `=` padding to a multiple of eight symbols (RFC 4648 §6).
///
/// ```
/// assert_eq!(mail2fa::base32::encode_padded(b"foobar").as_str(), "MZXW6YTBOI======");
/// ```
pub fn encode_padded(data: &[u8]) -> Zeroizing<String> {
    encode_with_padding(data, true)
}

fn encode_with_padding(data: &[u8], pad: bool) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(data.len().div_ceil(5) * 8));
    for chunk in data.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let bits = u64::from_be_bytes([0, 0, 0, block[0], block[1], block[2], block[3], block[4]]);
        block.fill(0);
        let symbols = symbols_for_bytes(chunk.len());
        for i in 0..symbols {
            let index = (bits >> (35 - 5 * i)) & 0x1f;
            out.push(char::from(ALPHABET[index as usize]));
        }
        if pad {
            for _ in symbols..8 {
                out.push('=');
            }
        }
    }
    out
}

/// Symbols needed for the last 1..=5 bytes of a group.
const fn symbols_for_bytes(bytes: usize) -> usize {
    (bytes * 8).div_ceil(5)
}

fn symbol_value(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a'),
        b'2'..=b'7' => Some(byte - b'2' + 26),
        _ => None,
    }
}

/// Decodes base32 text under the rules in the module documentation.
///
/// ```
/// use mail2fa::base32::decode;
/// assert_eq!(decode("mzxw 6ytb oi").unwrap().as_slice(), b"foobar");
/// assert_eq!(decode("MZXW6YTBOI======").unwrap().as_slice(), b"foobar");
/// assert!(decode("MZXW6YTBOI=").is_err());
/// assert!(decode(" MZXW6YTBOI").is_err());
/// ```
pub fn decode(text: &str) -> Result<Zeroizing<Vec<u8>>, Base32Error> {
    let input = text.as_bytes();
    if input.is_empty() {
        return Err(Base32Error::Empty);
    }
    let mut out = Zeroizing::new(Vec::with_capacity(input.len() * 5 / 8 + 1));
    let mut acc: u64 = 0;
    let mut acc_bits: u32 = 0;
    let mut symbols = 0usize;
    let mut padding = 0usize;
    let mut previous_was_symbol = false;
    let mut last_symbol = 0usize;

    for (position, &byte) in input.iter().enumerate() {
        match byte {
            b' ' | b'-' => {
                let next_is_symbol = input
                    .get(position + 1)
                    .is_some_and(|&next| symbol_value(next).is_some());
                if !previous_was_symbol || !next_is_symbol || padding > 0 {
                    return Err(Base32Error::MisplacedSeparator { position });
                }
                previous_was_symbol = false;
            }
            b'=' => {
                padding += 1;
                previous_was_symbol = false;
            }
            _ => {
                let value = symbol_value(byte).ok_or(Base32Error::InvalidCharacter { position })?;
                if padding > 0 {
                    return Err(Base32Error::InvalidPadding);
                }
                acc = (acc << 5) | u64::from(value);
                acc_bits += 5;
                if acc_bits >= 8 {
                    acc_bits -= 8;
                    out.push((acc >> acc_bits) as u8);
                }
                symbols += 1;
                last_symbol = position;
                previous_was_symbol = true;
            }
        }
    }
    // The bits of the last symbol that did not fill a byte (0 to 4 of them).
    let leftover = acc & ((1u64 << acc_bits) - 1);
    acc.zeroize();

    if symbols == 0 {
        return Err(if padding > 0 {
            Base32Error::InvalidPadding
        } else {
            Base32Error::Empty
        });
    }
    // Symbols in the final group of eight: only 2, 4, 5, 7 or 8 encode whole bytes.
    let tail = symbols % 8;
    if matches!(tail, 1 | 3 | 6) {
        return Err(Base32Error::InvalidLength { symbols });
    }
    if padding > 0 && (tail == 0 || tail + padding != 8) {
        return Err(Base32Error::InvalidPadding);
    }
    if leftover != 0 {
        return Err(Base32Error::NonZeroTrailingBits {
            position: last_symbol,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10 test vectors.
    const RFC4648: &[(&str, &str)] = &[
        ("", ""),
        ("f", "MY======"),
        ("fo", "MZXQ===="),
        ("foo", "MZXW6==="),
        ("foob", "MZXW6YQ="),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI======"),
    ];

    #[test]
    fn rfc4648_vectors_encode_and_decode() {
        for (plain, encoded) in RFC4648 {
            assert_eq!(encode_padded(plain.as_bytes()).as_str(), *encoded);
            assert_eq!(
                encode(plain.as_bytes()).as_str(),
                encoded.trim_end_matches('=')
            );
            if !plain.is_empty() {
                assert_eq!(decode(encoded).unwrap().as_slice(), plain.as_bytes());
                let unpadded = encoded.trim_end_matches('=');
                assert_eq!(decode(unpadded).unwrap().as_slice(), plain.as_bytes());
                let lower = encoded.to_ascii_lowercase();
                assert_eq!(decode(&lower).unwrap().as_slice(), plain.as_bytes());
            }
        }
    }

    #[test]
    fn accepts_groups_separated_by_one_space_or_hyphen() {
        let want = decode("JBSWY3DPEHPK3PXP").unwrap();
        for text in [
            "JBSW Y3DP EHPK 3PXP",
            "jbsw-y3dp-ehpk-3pxp",
            "JBSWY3DP EHPK3PXP",
            "jbsw y3dp-ehpk 3pxp",
        ] {
            assert_eq!(decode(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn rejects_misplaced_separators() {
        for (text, position) in [
            (" JBSWY3DP", 0),
            ("JBSWY3DP ", 8),
            ("JBSW  Y3DP", 4),
            ("JBSW- Y3DP", 4),
            ("-JBSWY3DP", 0),
            ("MZXW6YQ= ", 8),
            ("MZXW6YQ =", 7),
        ] {
            assert_eq!(
                decode(text),
                Err(Base32Error::MisplacedSeparator { position }),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rejects_characters_outside_the_alphabet_by_position() {
        for (text, position) in [
            ("JBSWY3D0", 7),
            ("JBSWY3D1", 7),
            ("JBSW\tY3DP", 4),
            ("JBSWY3DP\n", 8),
            ("JBSWY3DÉ", 7),
            ("JB_WY3DP", 2),
            ("JBSWY3DP\0", 8),
        ] {
            assert_eq!(
                decode(text),
                Err(Base32Error::InvalidCharacter { position }),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_padding_and_lengths() {
        assert_eq!(decode(""), Err(Base32Error::Empty));
        assert_eq!(decode("========"), Err(Base32Error::InvalidPadding));
        assert_eq!(decode("MY="), Err(Base32Error::InvalidPadding));
        assert_eq!(decode("MY======="), Err(Base32Error::InvalidPadding));
        assert_eq!(decode("MZXW6YTB========"), Err(Base32Error::InvalidPadding));
        assert_eq!(decode("MY==MY=="), Err(Base32Error::InvalidPadding));
        assert_eq!(decode("M"), Err(Base32Error::InvalidLength { symbols: 1 }));
        assert_eq!(
            decode("MZX"),
            Err(Base32Error::InvalidLength { symbols: 3 })
        );
        assert_eq!(
            decode("MZXW6Y"),
            Err(Base32Error::InvalidLength { symbols: 6 })
        );
        assert_eq!(
            decode("M======="),
            Err(Base32Error::InvalidLength { symbols: 1 })
        );
    }

    #[test]
    fn rejects_non_zero_trailing_bits_by_position() {
        // `MY` is `f` with its last symbol's two spare bits zero; `MZ`..`M7`
        // set them and would be other spellings of the same byte.
        assert_eq!(decode("MY").unwrap().as_slice(), b"f");
        for (text, position) in [
            ("MZ", 1),
            ("M7", 1),
            ("MZ======", 1),
            ("mzxw6yr=", 6),
            ("MZXW6YR", 6),
            ("MZXW 6YTB OJ", 11),
        ] {
            assert_eq!(
                decode(text),
                Err(Base32Error::NonZeroTrailingBits { position }),
                "{text:?}"
            );
        }
        // Eight symbols are five whole bytes: every last symbol is valid.
        assert!(decode("JBSWY3DPEHPK3PXQ").is_ok());
        let err = decode("MZ").unwrap_err().to_string();
        assert!(err.contains("position 1"), "{err}");
        assert!(!err.contains("MZ"), "{err}");
    }

    #[test]
    fn our_encoding_never_has_trailing_bits() {
        for len in 1..=40usize {
            let data: Vec<u8> = (0..len)
                .map(|i| (i as u8).wrapping_mul(151) | 0x81)
                .collect();
            assert_eq!(decode(&encode(&data)).unwrap().as_slice(), data.as_slice());
            assert_eq!(
                decode(&encode_padded(&data)).unwrap().as_slice(),
                data.as_slice()
            );
        }
    }

    #[test]
    fn error_messages_never_quote_the_input() {
        let err = decode("JBSWY3D!").unwrap_err().to_string();
        assert!(!err.contains('!'), "{err}");
        assert!(err.contains("position 7"), "{err}");
    }
}
