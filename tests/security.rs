//! One test per requirement of `docs/security.md` that applies to the
//! stateless layer (codes, secrets, URIs, base32). Storage, throttling,
//! fail-closed persistence and the C boundary belong to other layers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use mail2fa::base32;
use mail2fa::{
    Algorithm, Base32Error, Digits, Error, Hotp, KeyUri, MAX_WINDOW, Secret, Totp, TotpConfig,
    UriError,
};

const RFC_SEED: &[u8] = b"12345678901234567890";
const RFC_SEED_BASE32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn rfc_secret() -> Secret {
    Secret::from_bytes(RFC_SEED).unwrap()
}

fn default_totp() -> Totp {
    Totp::new(&rfc_secret(), TotpConfig::default())
}

/// True if `code` is the code of some step in `steps` (explicit collision check).
fn any_step_has(totp: &Totp, code: &str, steps: impl IntoIterator<Item = u64>) -> bool {
    steps
        .into_iter()
        .any(|s| totp.generate_at_step(s).as_str() == code)
}

// ------------------------------------------------- One-time means one time

#[test]
fn one_time_verify_after_refuses_the_same_step() {
    let totp = default_totp();
    let now = 1_800_000_000;
    let code = totp.generate(now).unwrap();
    let step = totp.verify(code.as_str(), now).unwrap().unwrap();
    assert_eq!(step, now / 30);
    assert_eq!(totp.verify_after(code.as_str(), now, step).unwrap(), None);
    // Still refused for the rest of the window in which it would be valid.
    for later in [now + 1, now + 29, now + 30, now + 59] {
        assert_eq!(
            totp.verify_after(code.as_str(), later, step).unwrap(),
            None,
            "{later}"
        );
    }
    // HOTP: the caller stores matched + 1 as the next counter; the same code is then refused.
    let hotp = Hotp::new(&rfc_secret(), Algorithm::Sha1, Digits::SIX);
    assert_eq!(hotp.verify("359152", 0, 5).unwrap(), Some(2));
    assert_eq!(hotp.verify("359152", 3, 5).unwrap(), None);
}

#[test]
fn one_time_verify_after_refuses_older_steps() {
    let totp = default_totp();
    let now = 1_800_000_000;
    let step = now / 30;
    let previous = totp.generate_at_step(step - 1);
    assert!(!any_step_has(&totp, previous.as_str(), [step, step + 1]));
    // Valid in the window while nothing newer was accepted …
    assert_eq!(
        totp.verify_after(previous.as_str(), now, step - 2).unwrap(),
        Some(step - 1)
    );
    // … refused once step (or step - 1 itself) has been used.
    assert_eq!(
        totp.verify_after(previous.as_str(), now, step).unwrap(),
        None
    );
    assert_eq!(
        totp.verify_after(previous.as_str(), now, step - 1).unwrap(),
        None
    );
    // A last step at the end of the range leaves nothing to accept.
    let current = totp.generate_at_step(step);
    assert_eq!(
        totp.verify_after(current.as_str(), now, u64::MAX).unwrap(),
        None
    );
}

// Two steps within one ±1 window that share a 6-digit code, RFC 4226 seed, SHA-1.
// Found independently with:
//
// python3 -c "import hmac,hashlib,struct;f=lambda c:(lambda d:(int.from_bytes(d[(d[-1]&15):(d[-1]&15)+4],'big')&0x7fffffff)%10**6)(hmac.new(b'12345678901234567890',struct.pack('>Q',c),hashlib.sha1).digest());print([(c,c+d,str(f(c)).zfill(6)) for c in range(1000000) for d in (1,2) if f(c)==f(c+d)])"
//
// → [(153567, 153569, '468457'), (679858, 679860, '038755'), (863070, 863072, '241341'), (910737, 910738, '911617')]
#[test]
fn one_time_highest_matching_step_is_returned_so_a_collision_cannot_be_replayed() {
    let totp = default_totp();
    for (older, newer, code) in [
        (153567u64, 153569u64, "468457"),
        (679858, 679860, "038755"),
        (910737, 910738, "911617"),
    ] {
        assert_eq!(totp.generate_at_step(older).as_str(), code);
        assert_eq!(totp.generate_at_step(newer).as_str(), code);
        // At a time whose ±1 window holds both steps, the newer one is reported …
        let now = (older + 1) * 30;
        let matched = totp.verify(code, now).unwrap();
        assert_eq!(matched, Some(newer), "{code}");
        // … so storing it refuses the digits for both steps.
        assert_eq!(totp.verify_after(code, now, newer).unwrap(), None);
        // Had the older one been stored, the same digits would pass again.
        assert_eq!(totp.verify_after(code, now, older).unwrap(), Some(newer));
        // HOTP look-ahead likewise reports the highest counter.
        let hotp = Hotp::new(&rfc_secret(), Algorithm::Sha1, Digits::SIX);
        assert_eq!(hotp.verify(code, older, 2).unwrap(), Some(newer));
    }
}

#[test]
fn one_time_verification_is_stateless_so_a_failed_login_consumes_nothing() {
    // Consuming a code is the caller's decision (store the step only when the
    // password was right too): verifying never changes what verifies next.
    let totp = default_totp();
    let now = 2_000_000_000;
    let code = totp.generate(now).unwrap();
    let first = totp.verify(code.as_str(), now).unwrap();
    assert!(first.is_some());
    for _ in 0..3 {
        assert_eq!(totp.verify(code.as_str(), now).unwrap(), first);
        assert_eq!(totp.verify_after(code.as_str(), now, 0).unwrap(), first);
    }
}

// --------------------------------------------------------------- Window ±1

#[test]
fn window_is_one_step_each_side_by_default() {
    assert_eq!(TotpConfig::default().window(), 1);
    let totp = default_totp();
    let now: u64 = 1_800_000_015; // mid-step
    let step = now / 30;
    for (offset, accepted) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
        let target = step.checked_add_signed(offset).unwrap();
        let code = totp.generate_at_step(target);
        let others = (step - 1..=step + 1).filter(|&s| s != target);
        assert!(
            !any_step_has(&totp, code.as_str(), others),
            "collision at offset {offset}: pick another time"
        );
        let want = accepted.then_some(target);
        assert_eq!(
            totp.verify(code.as_str(), now).unwrap(),
            want,
            "offset {offset}"
        );
    }
    // Window 0: the current step only.
    let strict = Totp::new(&rfc_secret(), TotpConfig::default().with_window(0).unwrap());
    let previous = strict.generate_at_step(step - 1);
    assert_ne!(previous.as_str(), strict.generate_at_step(step).as_str());
    assert_eq!(strict.verify(previous.as_str(), now).unwrap(), None);
}

#[test]
fn window_of_two_steps_is_refused_by_default() {
    let totp = default_totp();
    for now in [59u64, 1_111_111_109, 1_800_000_000, 20_000_000_000] {
        let step = now / 30;
        for target in [step + 2, step.saturating_sub(2)] {
            if target.abs_diff(step) != 2 {
                continue;
            }
            let code = totp.generate_at_step(target);
            assert!(!any_step_has(&totp, code.as_str(), step - 1..=step + 1));
            assert_eq!(
                totp.verify(code.as_str(), now).unwrap(),
                None,
                "{now} {target}"
            );
        }
    }
}

#[test]
fn window_above_the_maximum_is_refused() {
    let over = MAX_WINDOW + 1;
    let want = Error::InvalidWindow {
        requested: over,
        max: MAX_WINDOW,
    };
    assert_eq!(MAX_WINDOW, 50);
    assert_eq!(
        TotpConfig::default().with_window(over).unwrap_err(),
        want.clone()
    );
    assert_eq!(
        TotpConfig::default().with_window(u32::MAX).unwrap_err(),
        Error::InvalidWindow {
            requested: u32::MAX,
            max: MAX_WINDOW
        }
    );
    assert!(TotpConfig::default().with_window(MAX_WINDOW).is_ok());
    let totp = default_totp();
    let code = totp.generate(1_000).unwrap();
    assert_eq!(
        totp.verify_with_window(code.as_str(), 1_000, over, None),
        Err(want.clone())
    );
    let hotp = Hotp::new(&rfc_secret(), Algorithm::Sha1, Digits::SIX);
    assert_eq!(hotp.verify("755224", 0, over), Err(want));
}

// ------------------------------------------------------- 64-bit time steps

#[test]
fn time_steps_are_64_bit_beyond_2038_and_2106() {
    let totp = Totp::new(
        &rfc_secret(),
        TotpConfig::default().with_digits(Digits::EIGHT),
    );
    // 2038 (2^31 s) and 2106 (2^32 s) are ordinary times.
    assert_eq!(totp.step_at(1 << 31).unwrap(), (1u64 << 31) / 30);
    assert_eq!(totp.step_at(1 << 32).unwrap(), (1u64 << 32) / 30);
    // Step 2^32 is not step 0 (values from RFC 4226/6238 and tests/rfc_vectors.rs).
    assert_eq!(totp.generate_at_step(0).as_str(), "84755224");
    assert_eq!(totp.generate_at_step(1 << 32).as_str(), "55999456");
    let t = (1u64 << 32) * 30 + 15;
    let step = totp.verify("55999456", t).unwrap().unwrap();
    assert_eq!(step, 1 << 32);
    assert!(step > u64::from(u32::MAX));
    assert_eq!(totp.verify("84755224", t).unwrap(), None);
    // Step arithmetic is checked, not wrapping.
    assert_eq!(totp.step_start(u64::MAX), Err(Error::CounterOutOfRange));
    assert_eq!(totp.step_start(1 << 32).unwrap(), (1u64 << 32) * 30);
}

// ------------------------------------------------------------------ Digits

#[test]
fn digits_outside_6_to_10_are_rejected() {
    for bad in [0u32, 1, 5, 11, 12, 100, 256 + 6, 256 + 8, u32::MAX] {
        assert_eq!(Digits::new(bad), Err(Error::InvalidDigits(bad)), "{bad}");
        let uri = format!("otpauth://totp/a?secret={RFC_SEED_BASE32}&digits={bad}");
        assert!(
            matches!(
                KeyUri::parse(&uri),
                Err(Error::InvalidDigits(_) | Error::Uri(UriError::InvalidParameter("digits")))
            ),
            "{uri}"
        );
    }
    for good in 6..=10u32 {
        assert_eq!(u32::from(Digits::new(good).unwrap().get()), good);
    }
    // Default is 6; 8 is the other length apps support.
    assert_eq!(Digits::default(), Digits::SIX);
    assert_eq!(Digits::EIGHT.get(), 8);
}

// ------------------------------------------------------------------ Period

#[test]
fn period_zero_is_rejected() {
    assert_eq!(
        TotpConfig::default().with_period(0),
        Err(Error::InvalidPeriod)
    );
    assert_eq!(TotpConfig::default().period(), 30);
    assert_eq!(
        KeyUri::parse(&format!(
            "otpauth://totp/a?secret={RFC_SEED_BASE32}&period=0"
        )),
        Err(Error::Uri(UriError::InvalidParameter("period")))
    );
    assert_eq!(TotpConfig::default().with_period(1).unwrap().period(), 1);
}

// --------------------------------------------------------------------- T0

#[test]
fn time_before_t0_is_rejected() {
    let t0 = 1_700_000_000;
    let totp = Totp::new(&rfc_secret(), TotpConfig::default().with_t0(t0));
    let before = Error::TimeBeforeT0 { time: t0 - 1, t0 };
    assert_eq!(totp.step_at(t0 - 1), Err(before.clone()));
    assert!(matches!(
        totp.generate(t0 - 1),
        Err(Error::TimeBeforeT0 { .. })
    ));
    let code = totp.generate(t0).unwrap();
    assert_eq!(totp.verify(code.as_str(), t0).unwrap(), Some(0));
    // Not silently clamped to step 0.
    assert_eq!(totp.verify(code.as_str(), t0 - 1), Err(before.clone()));
    assert_eq!(
        totp.verify_after(code.as_str(), 0, 0).unwrap_err(),
        Error::TimeBeforeT0 { time: 0, t0 }
    );
}

// ----------------------------------------------------------------- Secrets

#[test]
fn secrets_shorter_than_128_bits_are_rejected() {
    assert_eq!(Secret::MIN_LEN, 16);
    for len in 0..Secret::MIN_LEN {
        assert_eq!(
            Secret::from_bytes(&vec![0x5a; len]).unwrap_err(),
            Error::SecretTooShort { len, min: 16 },
            "{len}"
        );
        assert_eq!(
            Secret::generate_with_len(len).unwrap_err(),
            Error::SecretTooShort { len, min: 16 }
        );
        if len > 0 {
            let text = base32::encode(&vec![0x5a; len]);
            assert_eq!(
                Secret::from_base32(&text).unwrap_err(),
                Error::SecretTooShort { len, min: 16 }
            );
        }
    }
    // An 80-bit secret in a provisioning URI is refused too.
    assert_eq!(
        KeyUri::parse("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP").unwrap_err(),
        Error::SecretTooShort { len: 10, min: 16 }
    );
    assert_eq!(Secret::from_bytes(&[0x5a; 16]).unwrap().len(), 16);
    assert_eq!(Secret::generate_with_len(16).unwrap().len(), 16);
}

#[test]
fn generated_secrets_are_160_bits_by_default() {
    assert_eq!(Secret::DEFAULT_LEN, 20);
    let secret = Secret::generate().unwrap();
    assert_eq!(secret.len(), 20);
    assert_eq!(secret.expose_bytes().len(), 20);
    assert_eq!(secret.to_base32().len(), 32);
}

#[test]
fn generated_secrets_differ() {
    let secrets: Vec<Secret> = (0..64).map(|_| Secret::generate().unwrap()).collect();
    let distinct: HashSet<Vec<u8>> = secrets.iter().map(|s| s.expose_bytes().to_vec()).collect();
    assert_eq!(distinct.len(), secrets.len());
    for (i, a) in secrets.iter().enumerate() {
        for b in &secrets[i + 1..] {
            assert!(a != b);
        }
    }
    // Not a constant or mostly-zero fill: 1280 random bytes use most byte values.
    let bytes: HashSet<u8> = secrets
        .iter()
        .flat_map(|s| s.expose_bytes().iter().copied())
        .collect();
    assert!(
        bytes.len() > 200,
        "only {} distinct byte values",
        bytes.len()
    );
    let long: Vec<Secret> = (0..8)
        .map(|_| Secret::generate_with_len(Secret::MAX_LEN).unwrap())
        .collect();
    let distinct: HashSet<Vec<u8>> = long.iter().map(|s| s.expose_bytes().to_vec()).collect();
    assert_eq!(distinct.len(), long.len());
}

/// Distinctive key bytes: 0xA7 = 167, so "167", "a7" or "A7" in output would
/// betray it. Its base32 form is "U6T2PJ5H…".
const MARKED: [u8; 20] = [0xA7; 20];

fn assert_no_secret(shown: &str, secret: &Secret) {
    let text = secret.to_base32();
    assert!(!shown.contains(&text[..8]), "{shown}");
    assert!(!shown.contains("167"), "{shown}");
    assert!(!shown.to_ascii_lowercase().contains("a7"), "{shown}");
}

#[test]
fn secret_never_in_debug() {
    let secret = Secret::from_bytes(&MARKED).unwrap();
    let shown = format!("{secret:?} {secret:#?}");
    assert_no_secret(&shown, &secret);
    assert!(shown.contains("<redacted>"));

    let config = TotpConfig::default();
    let totp = Totp::new(&secret, config);
    assert_no_secret(&format!("{totp:?} {totp:#?}"), &secret);
    let hotp = Hotp::new(&secret, Algorithm::Sha1, Digits::SIX);
    assert_no_secret(&format!("{hotp:?} {hotp:#?}"), &secret);
    let uri = KeyUri::totp(Some("Mail"), "bob", secret.clone(), config).unwrap();
    let shown = format!("{uri:?} {uri:#?}");
    assert_no_secret(&shown, &secret);
    assert!(shown.contains("bob"), "{shown}");
}

#[test]
fn secret_never_in_error_messages() {
    // Every way of feeding this secret in wrongly.
    let secret = Secret::from_bytes(&MARKED).unwrap();
    let text = secret.to_base32().to_string();
    let bad_b32 = format!("{}1{}", &text[..16], &text[16..]);
    let short = &text[..24]; // 15 bytes
    let errors = vec![
        Secret::from_base32(&bad_b32).unwrap_err(),
        Secret::from_base32(&format!("{text}=")).unwrap_err(),
        Secret::from_base32(&format!("{text}  ")).unwrap_err(),
        Secret::from_base32(&text[..13]).unwrap_err(),
        Secret::from_base32(&text[..24]).unwrap_err(),
        KeyUri::parse(&format!("otpauth://totp/a?secret={bad_b32}")).unwrap_err(),
        KeyUri::parse(&format!("otpauth://totp/a?secret={short}")).unwrap_err(),
        KeyUri::parse(&format!("otpauth://totp/a?secret={text}&digits=5")).unwrap_err(),
        KeyUri::parse(&format!("otpauth://totp/a?secret={text}&secret={text}")).unwrap_err(),
        KeyUri::parse(&format!("otpauth://totp/a?secret={text}%ZZ")).unwrap_err(),
        KeyUri::parse(&format!("otpauth://totp/a?secret={text}%FF")).unwrap_err(),
        KeyUri::parse(&format!("otpauth://totp/a?secret={text}%00")).unwrap_err(),
        KeyUri::parse(&format!("otpauth://totp/a?secret={text}#frag")).unwrap_err(),
        KeyUri::parse(&format!("otpauth://totp/a?secret={text}&counter=1")).unwrap_err(),
        KeyUri::parse(&format!("otpauth://motp/a?secret={text}")).unwrap_err(),
        KeyUri::parse(&format!("otpauth://totp/x:a?secret={text}&issuer=y")).unwrap_err(),
    ];
    for err in errors {
        let shown = format!("{err} {err:?}");
        assert_no_secret(&shown, &secret);
        for window in text.as_bytes().windows(6) {
            let window = std::str::from_utf8(window).unwrap();
            assert!(!shown.contains(window), "{shown} contains {window}");
        }
    }
}

#[test]
fn code_never_in_error_messages() {
    let totp = default_totp();
    let now = 1_800_000_000;
    let real = totp.generate(now).unwrap();
    let real_text = real.as_str().to_string();
    // Wrong lengths, signs, spaces: each message names the expected shape only.
    for presented in [
        format!("{real_text}9"),
        real_text[..5].to_string(),
        format!(" {real_text}"),
        format!("+{}", &real_text[1..]),
        "98765x".to_string(),
        "987654321".to_string(),
    ] {
        let err = totp.verify(&presented, now).unwrap_err();
        assert_eq!(err, Error::MalformedCode { expected_digits: 6 });
        let shown = format!("{err} {err:?}");
        assert_eq!(err.to_string(), "a code must be exactly 6 ASCII digits");
        assert!(!shown.contains(presented.trim()), "{shown}");
    }
    // A well-formed code with a bad time: the error names the time, not the code.
    let late = Totp::new(&rfc_secret(), TotpConfig::default().with_t0(now + 1));
    let err = late.verify("987654", now).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("987654"), "{err}");
    let err = late
        .verify_with_window("987654", now + 1, 51, None)
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("987654"), "{err}");
}

#[test]
fn code_debug_is_redacted() {
    let hotp = Hotp::new(&rfc_secret(), Algorithm::Sha1, Digits::SIX);
    let code = hotp.generate(0);
    assert_eq!(code.as_str(), "755224");
    assert_eq!(format!("{code:?}"), "Code(\"<redacted>\")");
    let pretty = format!("{code:#?}");
    assert!(
        !pretty.contains("755224") && pretty.contains("<redacted>"),
        "{pretty}"
    );
    let ten = Hotp::new(&rfc_secret(), Algorithm::Sha1, Digits::new(10).unwrap()).generate(0);
    assert_eq!(format!("{ten:?}"), "Code(\"<redacted>\")");
    let in_option = format!("{:?}", Some(code.clone()));
    assert!(!in_option.contains("755224"), "{in_option}");
}

#[test]
fn base32_error_messages_do_not_quote_the_input() {
    for (text, want, message) in [
        (
            "JBSWY3D!",
            Base32Error::InvalidCharacter { position: 7 },
            "character at position 7 is not in the base32 alphabet",
        ),
        (
            "JBSWY3DP1JBSWY3DP",
            Base32Error::InvalidCharacter { position: 8 },
            "character at position 8 is not in the base32 alphabet",
        ),
        (
            "JBSWY3DÉ",
            Base32Error::InvalidCharacter { position: 7 },
            "character at position 7 is not in the base32 alphabet",
        ),
        (
            "QQQQ\tQQQ",
            Base32Error::InvalidCharacter { position: 4 },
            "character at position 4 is not in the base32 alphabet",
        ),
        (
            "QQQQ  QQQ",
            Base32Error::MisplacedSeparator { position: 4 },
            "misplaced group separator at position 4",
        ),
        (
            "QQQ",
            Base32Error::InvalidLength { symbols: 3 },
            "3 symbols cannot encode whole bytes",
        ),
        ("QQ=", Base32Error::InvalidPadding, "invalid padding"),
        ("", Base32Error::Empty, "the text is empty"),
    ] {
        let err = base32::decode(text).unwrap_err();
        assert_eq!(err, want, "{text:?}");
        assert_eq!(err.to_string(), message, "{text:?}");
        let wrapped = Error::from(err).to_string();
        assert_eq!(wrapped, format!("invalid base32: {message}"));
        if !text.is_empty() {
            assert!(!wrapped.contains(text), "{wrapped}");
        }
    }
}

// ------------------------------------------------------ Bad input in general

#[test]
fn parsers_refuse_oversized_input() {
    // URIs are bounded before any work is done.
    let huge = format!(
        "otpauth://totp/a?secret={RFC_SEED_BASE32}&image={}",
        "x".repeat(mail2fa::uri::MAX_URI_LEN)
    );
    assert_eq!(KeyUri::parse(&huge), Err(Error::Uri(UriError::TooLong)));
    let long_name = "n".repeat(mail2fa::uri::MAX_LABEL_PART_LEN + 1);
    assert_eq!(
        KeyUri::parse(&format!(
            "otpauth://totp/{long_name}?secret={RFC_SEED_BASE32}"
        )),
        Err(Error::Uri(UriError::LabelTooLong))
    );
    assert_eq!(
        KeyUri::totp(None, &long_name, rfc_secret(), TotpConfig::default()),
        Err(Error::Uri(UriError::LabelTooLong))
    );
    // Secrets are bounded above too.
    assert_eq!(
        Secret::from_bytes(&[1; Secret::MAX_LEN + 1]).unwrap_err(),
        Error::SecretTooLong {
            len: Secret::MAX_LEN + 1,
            max: Secret::MAX_LEN
        }
    );
    let big = base32::encode(&[1; 4096]);
    assert_eq!(
        Secret::from_base32(&big).unwrap_err(),
        Error::SecretTooLong {
            len: 4096,
            max: Secret::MAX_LEN
        }
    );
    // A megabyte of garbage is a plain error at its first bad byte.
    let garbage = "!".repeat(1 << 20);
    assert_eq!(
        base32::decode(&garbage),
        Err(Base32Error::InvalidCharacter { position: 0 })
    );
    let padding = format!("MY{}", "=".repeat(1 << 20));
    assert_eq!(base32::decode(&padding), Err(Base32Error::InvalidPadding));
}
