//! The encryption key-file parser (`EncryptionKeys::parse_key_file_text`,
//! the text half of `EncryptionKeys::from_key_file`) against a plain
//! reference reading of the documented format: blank lines and `#`
//! comments skipped, every other line `ID:KEY` (a decimal id that fits in
//! 32 bits, a colon, 64 hex digits, ASCII white space around each part
//! ignored), ids unique, at least one key; the first key seals, the others
//! only open. Both must agree on the keys, or on the error and the line
//! that causes it. No input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail2fa::KeyFileError;
use mail2fa::engine::EncryptionKeys;

/// One `ID:KEY` line, read the plain way.
fn reference_line(line: &[u8]) -> Option<(u32, [u8; 32])> {
    let text = std::str::from_utf8(line).ok()?;
    let (id, hex) = text.split_once(':')?;
    let (id, hex) = (id.trim_ascii(), hex.trim_ascii());
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || hex.len() != 64 {
        return None;
    }
    let id: u32 = id.parse().ok()?;
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2)?;
        if !pair.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some((id, key))
}

fn reference(text: &[u8]) -> Result<EncryptionKeys, KeyFileError> {
    let mut keys: Option<EncryptionKeys> = None;
    let mut ids = Vec::new();
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        let line_number = index + 1;
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let (id, key) =
            reference_line(line).ok_or(KeyFileError::MalformedLine { line: line_number })?;
        if ids.contains(&id) {
            return Err(KeyFileError::DuplicateId {
                line: line_number,
                id,
            });
        }
        ids.push(id);
        keys = Some(match keys {
            None => EncryptionKeys::new(id, key),
            Some(keys) => keys
                .with_previous(id, key)
                .expect("ids checked unique above"),
        });
    }
    keys.ok_or(KeyFileError::NoKey)
}

fuzz_target!(|data: &[u8]| {
    let parsed = EncryptionKeys::parse_key_file_text(data);
    let expected = reference(data);
    match (&parsed, &expected) {
        (Ok(keys), Ok(want)) => {
            assert!(keys == want, "the parser and the reference read other keys");
            // Whatever parsed prints without its keys.
            assert_eq!(format!("{keys:?}"), "EncryptionKeys(<redacted>)");
        }
        (Err(got), Err(want)) => {
            assert_eq!(got, want);
            // Messages name lines and ids, never key material.
            let message = got.to_string();
            assert!(message.len() < 200, "{message}");
        }
        _ => panic!(
            "parser {:?} but reference {:?}",
            parsed.as_ref().map(EncryptionKeys::current_id),
            expected.as_ref().map(EncryptionKeys::current_id)
        ),
    }
});
