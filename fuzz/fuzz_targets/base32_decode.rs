//! base32 decoding of arbitrary text: never panics, and whatever decodes
//! re-encodes to text that decodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail2fa::{Secret, base32};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(bytes) = base32::decode(text) {
        let again = base32::decode(&base32::encode(&bytes)).expect("canonical encoding decodes");
        assert_eq!(again, bytes);
        let padded =
            base32::decode(&base32::encode_padded(&bytes)).expect("padded encoding decodes");
        assert_eq!(padded, bytes);
        assert!(bytes.len() <= text.len() * 5 / 8 + 1);
    }
    let _ = Secret::from_base32(text);
});
