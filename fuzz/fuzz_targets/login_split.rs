//! Password+code splitting of arbitrary input: never panics, and a split
//! is always exactly the trailing digits, with nothing lost.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail2fa::Digits;
use mail2fa::engine::split_password_and_code;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(digits) = Digits::new(6 + u32::from(first % 5)) else {
        return;
    };
    let Ok(input) = std::str::from_utf8(rest) else {
        return;
    };
    match split_password_and_code(input, digits) {
        Ok((password, Some(code))) => {
            assert_eq!(code.len(), usize::from(digits.get()));
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
            assert!(!password.is_empty());
            assert_eq!(format!("{password}{code}"), input);
        }
        Ok((password, None)) => assert_eq!(password, input),
        Err(_) => assert!(input.contains('\0') || input.len() > mail2fa::engine::MAX_LOGIN_INPUT),
    }
});
