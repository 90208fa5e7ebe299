//! `otpauth://` parsing of arbitrary text: never panics, and whatever parses
//! is written back to a URI that parses to the same content.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail2fa::KeyUri;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(uri) = KeyUri::parse(text) {
        let written = uri.to_uri();
        let again = KeyUri::parse(&written).expect("a written URI parses");
        assert_eq!(again, uri);
        assert_eq!(again.to_uri(), written);
    }
});
