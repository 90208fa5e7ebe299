//! Stored-record decoding of arbitrary bytes (a corrupt or hostile
//! database row): never panics, and whatever decodes is exactly what
//! encoding its payload produces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail2fa::record::{decode, encode};

fuzz_target!(|data: &[u8]| {
    let kind = data.get(5).copied().unwrap_or(0);
    if let Ok(payload) = decode(data, kind) {
        assert_eq!(encode(kind, payload).as_slice(), data);
    }
});
