//! Percent-encoding: `%XX` escapes read (and `+` as a space in a query)
//! and written.

use zeroize::Zeroizing;

use crate::error::UriError;

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
pub(super) fn percent_decode(
    text: &str,
    plus_is_space: bool,
) -> Result<Zeroizing<String>, UriError> {
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
