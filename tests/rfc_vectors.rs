//! Known-answer tests: RFC 4226 Appendix D (HOTP), RFC 6238 Appendix B
//! (TOTP), RFC 4648 §10 (base32), plus vectors beyond 32-bit time steps that
//! were computed independently with Python's `hmac`/`hashlib`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mail2fa::base32::{decode, encode, encode_padded};
use mail2fa::{Algorithm, Base32Error, Digits, Error, Hotp, MAX_PERIOD, Secret, Totp, TotpConfig};

/// RFC 4226 / RFC 6238 SHA-1 seed (20 bytes).
const SEED_SHA1: &[u8] = b"12345678901234567890";
/// RFC 6238 SHA-256 seed (32 bytes).
const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
/// RFC 6238 SHA-512 seed (64 bytes).
const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

fn seed(algorithm: Algorithm) -> &'static [u8] {
    match algorithm {
        Algorithm::Sha1 => SEED_SHA1,
        Algorithm::Sha256 => SEED_SHA256,
        Algorithm::Sha512 => SEED_SHA512,
    }
}

fn digits(n: u32) -> Digits {
    Digits::new(n).unwrap()
}

fn hotp(algorithm: Algorithm, n: u32) -> Hotp {
    Hotp::new(
        &Secret::from_bytes(seed(algorithm)).unwrap(),
        algorithm,
        digits(n),
    )
}

/// The RFC 6238 Appendix B configuration: 8 digits, 30 s, T0 = 0.
fn rfc6238_totp(algorithm: Algorithm) -> Totp {
    let config = TotpConfig::default()
        .with_algorithm(algorithm)
        .with_digits(Digits::EIGHT);
    Totp::new(&Secret::from_bytes(seed(algorithm)).unwrap(), config)
}

// ---------------------------------------------------------------- RFC 4226

/// RFC 4226 Appendix D: HOTP values for counters 0..=9.
const RFC4226_HOTP: [&str; 10] = [
    "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
    "520489",
];

#[test]
fn rfc4226_appendix_d_generate() {
    let hotp = hotp(Algorithm::Sha1, 6);
    for (counter, want) in RFC4226_HOTP.iter().enumerate() {
        let code = hotp.generate(counter as u64);
        assert_eq!(code.as_str(), *want, "counter {counter}");
        assert!(code == *want, "Code == &str for counter {counter}");
    }
}

#[test]
fn rfc4226_appendix_d_verify_exact_counter() {
    let hotp = hotp(Algorithm::Sha1, 6);
    for (counter, code) in RFC4226_HOTP.iter().enumerate() {
        let counter = counter as u64;
        assert_eq!(hotp.verify(code, counter, 0).unwrap(), Some(counter));
    }
}

#[test]
fn rfc4226_appendix_d_verify_with_look_ahead_finds_the_counter() {
    let hotp = hotp(Algorithm::Sha1, 6);
    for (counter, code) in RFC4226_HOTP.iter().enumerate() {
        let counter = counter as u64;
        // Server expects 0, token is at `counter`: the look-ahead finds it.
        assert_eq!(hotp.verify(code, 0, 9).unwrap(), Some(counter), "{code}");
        // Starting anywhere at or before it within reach also finds it.
        for start in 0..=counter {
            assert_eq!(
                hotp.verify(code, start, 9).unwrap(),
                Some(counter),
                "{code} from {start}"
            );
        }
        // A window that ends just before it does not (the ten RFC codes are distinct).
        if counter > 0 {
            let look_ahead = u32::try_from(counter - 1).unwrap();
            assert_eq!(hotp.verify(code, 0, look_ahead).unwrap(), None, "{code}");
        }
    }
}

// ---------------------------------------------------------------- RFC 6238

/// RFC 6238 Appendix B: (Unix time, expected step, algorithm, 8-digit TOTP).
const RFC6238_TABLE: [(u64, u64, Algorithm, &str); 18] = [
    (59, 0x1, Algorithm::Sha1, "94287082"),
    (59, 0x1, Algorithm::Sha256, "46119246"),
    (59, 0x1, Algorithm::Sha512, "90693936"),
    (1111111109, 0x23523EC, Algorithm::Sha1, "07081804"),
    (1111111109, 0x23523EC, Algorithm::Sha256, "68084774"),
    (1111111109, 0x23523EC, Algorithm::Sha512, "25091201"),
    (1111111111, 0x23523ED, Algorithm::Sha1, "14050471"),
    (1111111111, 0x23523ED, Algorithm::Sha256, "67062674"),
    (1111111111, 0x23523ED, Algorithm::Sha512, "99943326"),
    (1234567890, 0x273EF07, Algorithm::Sha1, "89005924"),
    (1234567890, 0x273EF07, Algorithm::Sha256, "91819424"),
    (1234567890, 0x273EF07, Algorithm::Sha512, "93441116"),
    (2000000000, 0x3F940AA, Algorithm::Sha1, "69279037"),
    (2000000000, 0x3F940AA, Algorithm::Sha256, "90698825"),
    (2000000000, 0x3F940AA, Algorithm::Sha512, "38618901"),
    (20000000000, 0x27BC86AA, Algorithm::Sha1, "65353130"),
    (20000000000, 0x27BC86AA, Algorithm::Sha256, "77737706"),
    (20000000000, 0x27BC86AA, Algorithm::Sha512, "47863826"),
];

#[test]
fn rfc6238_seeds_have_the_rfc_lengths() {
    assert_eq!(SEED_SHA1.len(), 20);
    assert_eq!(SEED_SHA256.len(), 32);
    assert_eq!(SEED_SHA512.len(), 64);
}

#[test]
fn rfc6238_appendix_b_generate() {
    for (time, step, algorithm, want) in RFC6238_TABLE {
        let totp = rfc6238_totp(algorithm);
        assert_eq!(totp.step_at(time).unwrap(), step, "{time} {algorithm:?}");
        assert_eq!(step, time / 30);
        assert_eq!(
            totp.generate(time).unwrap().as_str(),
            want,
            "{time} {algorithm:?}"
        );
        assert_eq!(totp.generate_at_step(step).as_str(), want);
    }
}

#[test]
fn rfc6238_appendix_b_verify_returns_the_step() {
    for (time, step, algorithm, want) in RFC6238_TABLE {
        let totp = rfc6238_totp(algorithm);
        assert_eq!(
            totp.verify(want, time).unwrap(),
            Some(step),
            "{time} {algorithm:?}"
        );
        // One step of drift either way is still accepted and names the same step.
        assert_eq!(totp.verify(want, time + 30).unwrap(), Some(step));
        if time >= 30 {
            assert_eq!(totp.verify(want, time - 30).unwrap(), Some(step));
        }
        // Consumed: the same code is refused once its step is stored.
        assert_eq!(totp.verify_after(want, time, step).unwrap(), None);
    }
}

// ---------------------------------------------------------------- RFC 4648

/// RFC 4648 §10 base32 vectors.
const RFC4648_BASE32: [(&str, &str); 7] = [
    ("", ""),
    ("f", "MY======"),
    ("fo", "MZXQ===="),
    ("foo", "MZXW6==="),
    ("foob", "MZXW6YQ="),
    ("fooba", "MZXW6YTB"),
    ("foobar", "MZXW6YTBOI======"),
];

#[test]
fn rfc4648_section10_encode_padded() {
    for (plain, want) in RFC4648_BASE32 {
        assert_eq!(encode_padded(plain.as_bytes()).as_str(), want, "{plain:?}");
    }
}

#[test]
fn rfc4648_section10_encode_unpadded() {
    for (plain, want) in RFC4648_BASE32 {
        assert_eq!(
            encode(plain.as_bytes()).as_str(),
            want.trim_end_matches('='),
            "{plain:?}"
        );
    }
}

#[test]
fn rfc4648_section10_decode_padded_and_unpadded() {
    for (plain, encoded) in RFC4648_BASE32 {
        if plain.is_empty() {
            // Documented choice: an empty secret is an error, not zero bytes.
            assert_eq!(decode(encoded), Err(Base32Error::Empty));
            continue;
        }
        assert_eq!(decode(encoded).unwrap().as_slice(), plain.as_bytes());
        let unpadded = encoded.trim_end_matches('=');
        assert_eq!(decode(unpadded).unwrap().as_slice(), plain.as_bytes());
    }
}

// ------------------------------------------------------- beyond 32 bits

// Expected codes below were computed independently (not with this crate) by:
//
// python3 -c "import hmac,hashlib,struct;f=lambda k,c,a,n:(lambda d:str((int.from_bytes(d[(d[-1]&15):(d[-1]&15)+4],'big')&0x7fffffff)%10**n).zfill(n))(hmac.new(k,struct.pack('>Q',c),a).digest());K={'sha1':b'12345678901234567890','sha256':b'12345678901234567890123456789012','sha512':b'1234567890123456789012345678901234567890123456789012345678901234'};[print(t, t//30, a, f(K[a],t//30,a,8)) for t in (59,1111111109,1111111111,1234567890,2000000000,20000000000, 2**32*30, 2**32*30+15, 2**32*30+30, 2**32+1, 2**40*30, 2**64-1) for a in ('sha1','sha256','sha512')]"
//
// (The first 18 lines it prints reproduce RFC 6238 Appendix B, which checks the one-liner.)

/// (Unix time, step = time / 30, algorithm, 8-digit code), RFC 6238 seeds.
const BEYOND_32_BITS: [(u64, u64, Algorithm, &str); 18] = [
    // 2^32 * 30: the first second of step 2^32.
    (128849018880, 4294967296, Algorithm::Sha1, "55999456"),
    (128849018880, 4294967296, Algorithm::Sha256, "66351443"),
    (128849018880, 4294967296, Algorithm::Sha512, "82894678"),
    // 2^32 * 30 + 15: mid-step 2^32, far after 2106.
    (128849018895, 4294967296, Algorithm::Sha1, "55999456"),
    (128849018895, 4294967296, Algorithm::Sha256, "66351443"),
    (128849018895, 4294967296, Algorithm::Sha512, "82894678"),
    // 2^32 * 30 + 30: step 2^32 + 1.
    (128849018910, 4294967297, Algorithm::Sha1, "39108930"),
    (128849018910, 4294967297, Algorithm::Sha256, "99447045"),
    (128849018910, 4294967297, Algorithm::Sha512, "69375526"),
    // 2^32 + 1: one second past the unsigned 32-bit time_t rollover (2106-02-07).
    (4294967297, 143165576, Algorithm::Sha1, "59791428"),
    (4294967297, 143165576, Algorithm::Sha256, "77645532"),
    (4294967297, 143165576, Algorithm::Sha512, "92399846"),
    // 2^40 * 30: step 2^40.
    (32985348833280, 1099511627776, Algorithm::Sha1, "57445672"),
    (32985348833280, 1099511627776, Algorithm::Sha256, "75052956"),
    (32985348833280, 1099511627776, Algorithm::Sha512, "74235321"),
    // u64::MAX.
    (u64::MAX, 614891469123651720, Algorithm::Sha1, "28277486"),
    (u64::MAX, 614891469123651720, Algorithm::Sha256, "70353595"),
    (u64::MAX, 614891469123651720, Algorithm::Sha512, "25210167"),
];

#[test]
fn totp_beyond_32_bit_steps_generate() {
    for (time, step, algorithm, want) in BEYOND_32_BITS {
        let totp = rfc6238_totp(algorithm);
        assert_eq!(totp.step_at(time).unwrap(), step, "{time}");
        assert_eq!(
            totp.generate(time).unwrap().as_str(),
            want,
            "{time} {algorithm:?}"
        );
        assert_eq!(totp.generate_at_step(step).as_str(), want);
    }
}

#[test]
fn totp_beyond_32_bit_steps_verify() {
    for (time, step, algorithm, want) in BEYOND_32_BITS {
        let totp = rfc6238_totp(algorithm);
        assert_eq!(
            totp.verify(want, time).unwrap(),
            Some(step),
            "{time} {algorithm:?}"
        );
        assert_eq!(totp.verify_after(want, time, step - 1).unwrap(), Some(step));
        assert_eq!(totp.verify_after(want, time, step).unwrap(), None);
    }
}

#[test]
fn step_2_pow_32_is_not_step_0() {
    // A 32-bit truncation of the counter would make step 2^32 produce step 0's
    // code (and 2^32 + 1 step 1's). Step 0 SHA-1 8 digits is RFC 4226's
    // "84755224"; step 1 is RFC 6238's "94287082".
    let totp = rfc6238_totp(Algorithm::Sha1);
    assert_eq!(totp.generate_at_step(0).as_str(), "84755224");
    assert_eq!(totp.generate_at_step(1).as_str(), "94287082");
    assert_eq!(totp.generate_at_step(1 << 32).as_str(), "55999456");
    assert_eq!(totp.generate_at_step((1 << 32) + 1).as_str(), "39108930");
    assert_eq!(totp.verify("84755224", 128849018880).unwrap(), None);
}

// HOTP counters across the whole u64 range, SHA-1 RFC seed, digits 6..=10.
// Produced by:
//
// python3 -c "import hmac,hashlib,struct;f=lambda k,c,a,n:(lambda d:str((int.from_bytes(d[(d[-1]&15):(d[-1]&15)+4],'big')&0x7fffffff)%10**n).zfill(n))(hmac.new(k,struct.pack('>Q',c),a).digest());K=b'12345678901234567890';[print(c, [f(K,c,'sha1',n) for n in range(6,11)]) for c in (0,1,30,2**32-1,2**32,2**63,2**64-2,2**64-1)]"
const HOTP_ALL_DIGITS: [(u64, [&str; 5]); 8] = [
    (
        0,
        ["755224", "4755224", "84755224", "284755224", "1284755224"],
    ),
    (
        1,
        ["287082", "4287082", "94287082", "094287082", "1094287082"],
    ),
    (
        30,
        ["026920", "4026920", "04026920", "204026920", "1204026920"],
    ),
    (
        4294967295,
        ["117190", "7117190", "57117190", "257117190", "0257117190"],
    ),
    (
        4294967296,
        ["999456", "5999456", "55999456", "255999456", "0255999456"],
    ),
    (
        9223372036854775808,
        ["959616", "7959616", "17959616", "817959616", "0817959616"],
    ),
    (
        18446744073709551614,
        ["488204", "9488204", "89488204", "289488204", "1289488204"],
    ),
    (
        18446744073709551615,
        ["094451", "3094451", "63094451", "663094451", "1663094451"],
    ),
];

#[test]
fn hotp_64_bit_counters_all_digit_counts() {
    for (counter, codes) in HOTP_ALL_DIGITS {
        for (n, want) in (6..=10).zip(codes) {
            let hotp = hotp(Algorithm::Sha1, n);
            let code = hotp.generate(counter);
            assert_eq!(code.as_str(), want, "counter {counter}, {n} digits");
            assert_eq!(hotp.verify(want, counter, 0).unwrap(), Some(counter));
        }
    }
}

#[test]
fn digits_6_to_10_have_exact_length_and_keep_leading_zeros() {
    for n in 6..=10u32 {
        let hotp = hotp(Algorithm::Sha1, n);
        for counter in 0..200u64 {
            let code = hotp.generate(counter);
            let text = code.as_str();
            assert_eq!(text.len(), n as usize, "{counter} {n}");
            assert!(text.bytes().all(|b| b.is_ascii_digit()), "{counter} {n}");
        }
    }
    // Counter 30's 6-digit code starts with '0' (see HOTP_ALL_DIGITS).
    let six = hotp(Algorithm::Sha1, 6);
    let code = six.generate(30);
    assert_eq!(code.as_str(), "026920");
    assert!(code.as_str().starts_with('0'));
    assert_eq!(six.verify("026920", 30, 0).unwrap(), Some(30));
    // The code without its leading zero is malformed, not a match.
    assert_eq!(
        six.verify("26920", 30, 0),
        Err(Error::MalformedCode { expected_digits: 6 })
    );
    // 10 digits: the 31-bit value is below 10^10 / 4, so the code often starts
    // with '0'; it must still be 10 characters.
    let ten = hotp(Algorithm::Sha1, 10);
    assert_eq!(ten.generate(1 << 32).as_str(), "0255999456");
    // TOTP keeps leading zeros too (RFC 6238: "07081804").
    let totp = rfc6238_totp(Algorithm::Sha1);
    assert_eq!(totp.generate(1111111109).unwrap().as_str(), "07081804");
}

// --------------------------------------------- step arithmetic at the edges

fn sha1_totp(config: TotpConfig) -> Totp {
    Totp::new(&Secret::from_bytes(SEED_SHA1).unwrap(), config)
}

#[test]
fn step_at_near_u64_max_with_t0_and_large_periods() {
    // The longest period accepted; longer ones are refused (see
    // tests/input_bounds.rs).
    let max_period = sha1_totp(TotpConfig::default().with_period(MAX_PERIOD).unwrap());
    assert_eq!(max_period.step_at(u64::MAX).unwrap(), u64::MAX / MAX_PERIOD);
    assert_eq!(
        max_period
            .step_at(u64::MAX / MAX_PERIOD * MAX_PERIOD - 1)
            .unwrap(),
        u64::MAX / MAX_PERIOD - 1
    );
    assert_eq!(max_period.step_at(MAX_PERIOD - 1).unwrap(), 0);
    assert_eq!(max_period.step_at(0).unwrap(), 0);

    let late = sha1_totp(
        TotpConfig::default()
            .with_period(MAX_PERIOD)
            .unwrap()
            .with_t0(u64::MAX - (2 * MAX_PERIOD - 1)),
    );
    assert_eq!(late.step_at(u64::MAX).unwrap(), 1);
    assert_eq!(late.step_at(u64::MAX - (2 * MAX_PERIOD - 1)).unwrap(), 0);
    assert_eq!(late.step_at(u64::MAX - (MAX_PERIOD - 1)).unwrap(), 1);

    let late_t0 = sha1_totp(TotpConfig::default().with_t0(u64::MAX - 59));
    assert_eq!(late_t0.step_at(u64::MAX - 59).unwrap(), 0);
    assert_eq!(late_t0.step_at(u64::MAX - 30).unwrap(), 0);
    assert_eq!(late_t0.step_at(u64::MAX - 29).unwrap(), 1);
    assert_eq!(late_t0.step_at(u64::MAX).unwrap(), 1);

    let max_t0 = sha1_totp(TotpConfig::default().with_t0(u64::MAX));
    assert_eq!(max_t0.step_at(u64::MAX).unwrap(), 0);

    let one_second = sha1_totp(TotpConfig::default().with_period(1).unwrap());
    assert_eq!(one_second.step_at(u64::MAX).unwrap(), u64::MAX);
}

#[test]
fn step_start_overflow_is_counter_out_of_range() {
    let default = sha1_totp(TotpConfig::default());
    assert_eq!(
        default.step_start(614891469123651720).unwrap(),
        18446744073709551600
    );
    assert_eq!(
        default.step_start(614891469123651721),
        Err(Error::CounterOutOfRange)
    );
    assert_eq!(default.step_start(u64::MAX), Err(Error::CounterOutOfRange));

    // The multiplication fits but adding T0 does not.
    let with_t0 = sha1_totp(TotpConfig::default().with_t0(16));
    assert_eq!(
        with_t0.step_start(614891469123651720),
        Err(Error::CounterOutOfRange)
    );
    assert_eq!(
        with_t0.step_start(614891469123651719).unwrap(),
        18446744073709551570 + 16
    );

    let one_second = sha1_totp(TotpConfig::default().with_period(1).unwrap());
    assert_eq!(one_second.step_start(u64::MAX).unwrap(), u64::MAX);
    let one_second_t0 = sha1_totp(TotpConfig::default().with_period(1).unwrap().with_t0(1));
    assert_eq!(
        one_second_t0.step_start(u64::MAX),
        Err(Error::CounterOutOfRange)
    );

    let max_period = sha1_totp(TotpConfig::default().with_period(MAX_PERIOD).unwrap());
    assert_eq!(max_period.step_start(1).unwrap(), MAX_PERIOD);
    let last = u64::MAX / MAX_PERIOD;
    assert_eq!(max_period.step_start(last).unwrap(), last * MAX_PERIOD);
    assert_eq!(
        max_period.step_start(last + 1),
        Err(Error::CounterOutOfRange)
    );
}

#[test]
fn step_start_and_step_at_agree() {
    let totp = sha1_totp(
        TotpConfig::default()
            .with_period(45)
            .unwrap()
            .with_t0(1_000),
    );
    for step in [0u64, 1, 2, 1 << 32, (1 << 32) + 1, 1 << 40] {
        let start = totp.step_start(step).unwrap();
        assert_eq!(totp.step_at(start).unwrap(), step);
        assert_eq!(totp.step_at(start + 44).unwrap(), step);
        assert_eq!(totp.step_at(start + 45).unwrap(), step + 1);
    }
}

#[test]
fn time_before_t0_is_an_error() {
    let totp = sha1_totp(TotpConfig::default().with_t0(1_000));
    let want = Error::TimeBeforeT0 {
        time: 999,
        t0: 1_000,
    };
    assert_eq!(totp.step_at(999), Err(want.clone()));
    assert!(matches!(
        totp.generate(999),
        Err(Error::TimeBeforeT0 {
            time: 999,
            t0: 1_000
        })
    ));
    assert_eq!(totp.verify("123456", 999), Err(want.clone()));
    assert_eq!(totp.verify_after("123456", 999, 0), Err(want.clone()));
    assert_eq!(totp.verify_with_window("123456", 999, 0, None), Err(want));
    assert_eq!(totp.step_at(1_000).unwrap(), 0);

    let max_t0 = sha1_totp(TotpConfig::default().with_t0(u64::MAX));
    assert_eq!(
        max_t0.step_at(u64::MAX - 1),
        Err(Error::TimeBeforeT0 {
            time: u64::MAX - 1,
            t0: u64::MAX
        })
    );
    assert_eq!(
        max_t0.step_at(0),
        Err(Error::TimeBeforeT0 {
            time: 0,
            t0: u64::MAX
        })
    );
}

#[test]
fn verify_at_the_maximal_step_saturates_the_window() {
    // Period 1 s, T0 0: time u64::MAX is step u64::MAX, the last counter.
    let config = TotpConfig::default().with_period(1).unwrap();
    let totp = sha1_totp(config);
    let last = totp.generate(u64::MAX).unwrap();
    // HOTP_ALL_DIGITS: counter 2^64 - 1 is "094451", 2^64 - 2 is "488204".
    assert_eq!(last.as_str(), "094451");
    assert_eq!(totp.verify("094451", u64::MAX).unwrap(), Some(u64::MAX));
    assert_eq!(
        totp.verify_with_window("094451", u64::MAX, mail2fa::MAX_WINDOW, None)
            .unwrap(),
        Some(u64::MAX)
    );
    assert_eq!(totp.verify("488204", u64::MAX).unwrap(), Some(u64::MAX - 1));
    assert_eq!(totp.verify("094451", u64::MAX - 1).unwrap(), Some(u64::MAX));
    // Replay protection at the very end of the range.
    assert_eq!(
        totp.verify_after("094451", u64::MAX, u64::MAX).unwrap(),
        None
    );
    assert_eq!(
        totp.verify_after("094451", u64::MAX, u64::MAX - 1).unwrap(),
        Some(u64::MAX)
    );
    assert_eq!(
        totp.verify_after("488204", u64::MAX, u64::MAX - 1).unwrap(),
        None
    );
    assert_eq!(totp.verify("000000", u64::MAX).unwrap(), None);

    // The same at step 0 (window saturates downwards).
    assert_eq!(totp.verify("755224", 0).unwrap(), Some(0));
    assert_eq!(
        totp.verify_with_window("755224", 0, mail2fa::MAX_WINDOW, None)
            .unwrap(),
        Some(0)
    );

    // HOTP look-ahead past u64::MAX stops there.
    let hotp = hotp(Algorithm::Sha1, 6);
    assert_eq!(
        hotp.verify("094451", u64::MAX, mail2fa::MAX_WINDOW)
            .unwrap(),
        Some(u64::MAX)
    );
    assert_eq!(
        hotp.verify("094451", u64::MAX - 1, mail2fa::MAX_WINDOW)
            .unwrap(),
        Some(u64::MAX)
    );
    assert_eq!(
        hotp.verify("488204", u64::MAX, mail2fa::MAX_WINDOW)
            .unwrap(),
        None
    );
}
