//! TOTP/HOTP verification with arbitrary secrets, parameters, times and
//! presented codes: never panics, and a reported match is real.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail2fa::{Algorithm, Digits, Hotp, Secret, Totp, TotpConfig};

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = data.get(at + i).copied().unwrap_or(0);
    }
    u64::from_le_bytes(bytes)
}

fuzz_target!(|data: &[u8]| {
    // Layout: 4 parameter bytes, 3 u64 (time, T0, period), 16 secret bytes,
    // then the presented code.
    if data.len() < 44 {
        return;
    }
    let algorithm =
        [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512][usize::from(data[0] % 3)];
    let Ok(digits) = Digits::new(u32::from(data[1] % 12)) else {
        return;
    };
    let window = u32::from(data[2] % 60);
    let (time, t0, period) = (u64_at(data, 4), u64_at(data, 12), u64_at(data, 20));
    let secret = Secret::from_bytes(&data[28..44]).expect("16 bytes is a valid secret");
    let code = String::from_utf8_lossy(&data[44..]);

    let config = TotpConfig::default()
        .with_algorithm(algorithm)
        .with_digits(digits)
        .with_t0(t0);
    let Ok(config) = config.with_period(period) else {
        // Refused: 0, and periods above the maximum (issue 14: a long period
        // makes a code a static password).
        assert!(period == 0 || period > mail2fa::MAX_PERIOD, "{period}");
        return;
    };
    let totp = Totp::new(&secret, config);
    let after = (data[3] & 1 == 1).then_some(time / 7);
    match totp.verify_with_window(&code, time, window, after) {
        Ok(Some(step)) => {
            assert_eq!(totp.generate_at_step(step).as_str(), code);
            if let Some(after) = after {
                assert!(step > after);
            }
        }
        Ok(None) | Err(_) => {}
    }

    let hotp = Hotp::new(&secret, algorithm, digits);
    if let Ok(Some(counter)) = hotp.verify(&code, time, window) {
        assert_eq!(hotp.generate(counter).as_str(), code);
        assert!(counter >= time);
    }
});
