//! Property tests of the public API: base32 against the `base32` crate,
//! `otpauth://` round trips and robustness, TOTP window/replay semantics,
//! malformed codes, and `Secret`'s text form and `Debug`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mail2fa::{
    Algorithm, Digits, Error, Hotp, KeyUri, OtpKind, Secret, Totp, TotpConfig, UriError,
};
use proptest::prelude::*;
use proptest::sample::select;

use ::base32::Alphabet;
use mail2fa::base32 as b32;

// ------------------------------------------------------------------ helpers

fn algorithm() -> impl Strategy<Value = Algorithm> {
    select(vec![Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512])
}

fn secret_bytes(min: usize, max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), min..=max)
}

/// One character of an issuer or account name: weighted towards the
/// characters that need escaping, spaces and non-ASCII, never ':' or a
/// control character.
fn label_char() -> impl Strategy<Value = char> {
    prop_oneof![
        1 => Just(' '),
        4 => select(vec![
            '&', '=', '?', '/', '#', '%', '+', '@', '\'', '"', ' ', ' ', '.', '-', '_', '~', ';',
            ',', '[', ']', '\\', '<', '>', '!', '*', '(', ')', '$',
        ]),
        4 => prop::char::range('a', 'z'),
        2 => prop::char::range('0', '9'),
        2 => select(vec!['é', 'ü', 'ß', 'Ω', 'Ж', 'ع', '中', '文', '😀', '🔐', '\u{a0}', '\u{3000}', '\u{200b}', '\u{feff}']),
        1 => any::<char>(),
    ]
    .prop_filter("no ':' and no control characters", |c| {
        *c != ':' && !c.is_control()
    })
}

fn label_part() -> impl Strategy<Value = String> {
    prop::collection::vec(label_char(), 1..=64).prop_map(|chars| chars.into_iter().collect())
}

/// The highest step in `first..=last` strictly after `after` whose code is
/// `code`, computed one step at a time with `generate_at_step` — the
/// reference model for `verify*`.
fn model(totp: &Totp, code: &str, first: u64, last: u64, after: Option<u64>) -> Option<u64> {
    (first..=last)
        .rev()
        .filter(|&s| after.is_none_or(|a| s > a))
        .find(|&s| totp.generate_at_step(s).as_str() == code)
}

fn window_bounds(totp: &Totp, time: u64) -> (u64, u64) {
    let step = totp.step_at(time).unwrap();
    let w = u64::from(totp.config().window());
    (step.saturating_sub(w), step.saturating_add(w))
}

// ------------------------------------------------------------------- base32

proptest! {
    #[test]
    fn base32_encode_matches_the_base32_crate(data in prop::collection::vec(any::<u8>(), 0..200)) {
        let ours = b32::encode(&data);
        let theirs = ::base32::encode(Alphabet::Rfc4648 { padding: false }, &data);
        prop_assert_eq!(ours.as_str(), theirs.as_str());
        let ours = b32::encode_padded(&data);
        let theirs = ::base32::encode(Alphabet::Rfc4648 { padding: true }, &data);
        prop_assert_eq!(ours.as_str(), theirs.as_str());
        prop_assert_eq!(ours.len() % 8, 0);
    }

    #[test]
    fn base32_decode_inverts_both_encodings(data in prop::collection::vec(any::<u8>(), 1..200)) {
        let unpadded = b32::encode(&data);
        let padded = b32::encode_padded(&data);
        prop_assert_eq!(b32::decode(&unpadded).unwrap().to_vec(), data.clone());
        prop_assert_eq!(b32::decode(&padded).unwrap().to_vec(), data.clone());
        // And it agrees with the reference decoder.
        let theirs = ::base32::decode(Alphabet::Rfc4648 { padding: true }, &padded).unwrap();
        prop_assert_eq!(theirs.as_slice(), data.as_slice());
    }

    #[test]
    fn base32_decode_of_arbitrary_text_never_panics(text in any::<String>()) {
        if let Ok(bytes) = b32::decode(&text) {
            prop_assert!(!bytes.is_empty());
            prop_assert!(text.is_ascii());
        }
    }

    #[test]
    fn base32_decode_of_alphabet_soup_is_consistent(
        text in "[A-Za-z2-7018= \\-]{0,48}",
    ) {
        // No panic, and whatever decodes re-encodes to exactly the same
        // symbols: leftover bits of the last one must be zero (RFC 4648
        // §3.5), so a byte string has one spelling.
        if let Ok(bytes) = b32::decode(&text) {
            let symbols: String = text
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '='))
                .map(|c| c.to_ascii_uppercase())
                .collect();
            let again = b32::encode(&bytes);
            prop_assert_eq!(again.len(), symbols.len(), "{:?}", text);
            prop_assert_eq!(again.as_str(), symbols.as_str(), "{:?}", text);
            prop_assert!(!bytes.is_empty());
        }
    }

    #[test]
    fn base32_lowercase_and_grouped_forms_decode_the_same(
        data in prop::collection::vec(any::<u8>(), 1..100),
        separators in prop::collection::vec(select(vec![' ', '-']), 40),
        lower in any::<bool>(),
        pad in any::<bool>(),
    ) {
        let encoded = b32::encode(&data);
        let mut grouped = String::new();
        for (i, chunk) in encoded.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                grouped.push(separators[i % separators.len()]);
            }
            grouped.push_str(core::str::from_utf8(chunk).unwrap());
        }
        if pad {
            // Padding follows the last symbol directly (no separator next to `=`).
            let padding = b32::encode_padded(&data).len() - encoded.len();
            grouped.push_str(&"=".repeat(padding));
        }
        if lower {
            grouped = grouped.to_ascii_lowercase();
        }
        prop_assert_eq!(b32::decode(&grouped).unwrap().to_vec(), data.clone(), "{:?}", grouped);
        let lowercase = encoded.to_ascii_lowercase();
        prop_assert_eq!(b32::decode(&lowercase).unwrap().to_vec(), data);
    }
}

// ------------------------------------------------------------ otpauth URIs

#[derive(Debug, Clone)]
enum Kind {
    Totp(u64),
    Hotp(u64),
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        (1u64..=mail2fa::MAX_PERIOD).prop_map(Kind::Totp),
        any::<u64>().prop_map(Kind::Hotp),
    ]
}

fn build(
    issuer: Option<&str>,
    account: &str,
    secret: &[u8],
    algorithm: Algorithm,
    digits: u32,
    kind: &Kind,
) -> mail2fa::Result<KeyUri> {
    let secret = Secret::from_bytes(secret).unwrap();
    let digits = Digits::new(digits).unwrap();
    match *kind {
        Kind::Totp(period) => {
            let config = TotpConfig::default()
                .with_algorithm(algorithm)
                .with_digits(digits)
                .with_period(period)
                .unwrap();
            KeyUri::totp(issuer, account, secret, config)
        }
        Kind::Hotp(counter) => KeyUri::hotp(issuer, account, secret, algorithm, digits, counter),
    }
}

/// Leading or trailing white space cannot survive the label format (spaces
/// after the issuer's colon are dropped by parsers), so the builder may
/// refuse it; nothing else in the generated names is a reason to refuse.
fn has_outer_whitespace(part: &str) -> bool {
    part.trim() != part
}

fn valid_uri() -> impl Strategy<Value = String> {
    (
        prop::option::of("[A-Za-z0-9 &=?/#%+@]{1,12}"),
        "[A-Za-z0-9 &=?/#%+@é]{1,12}",
        secret_bytes(16, 40),
        algorithm(),
        6u32..=10,
        kind(),
    )
        .prop_filter_map("labels with outer white space", |(i, a, s, alg, d, k)| {
            build(i.as_deref(), &a, &s, alg, d, &k)
                .ok()
                .map(|uri| uri.to_uri().to_string())
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, char),
    Replace(usize, char),
    Duplicate(usize, usize),
    Truncate(usize),
    Swap(usize, usize),
}

fn uri_char() -> impl Strategy<Value = char> {
    prop_oneof![
        select(vec![
            '%', '&', '=', '?', '/', ':', '#', '+', ' ', '\0', '\n', 'é', '0', '1', '9', 'A', 'F',
            'g', 'z', '2', '7', '-', '\u{7f}', '\u{85}',
        ]),
        any::<char>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..8).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), uri_char()).prop_map(|(a, c)| Mutation::Insert(a, c)),
        (any::<usize>(), uri_char()).prop_map(|(a, c)| Mutation::Replace(a, c)),
        (any::<usize>(), 1usize..16).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for m in mutations {
        let len = chars.len();
        if len == 0 {
            break;
        }
        match *m {
            Mutation::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(len);
                chars.drain(at..end);
            }
            Mutation::Insert(at, c) => chars.insert(at % (len + 1), c),
            Mutation::Replace(at, c) => chars[at % len] = c,
            Mutation::Duplicate(at, n) => {
                let at = at % len;
                let end = (at + n).min(len);
                let copy: Vec<char> = chars[at..end].to_vec();
                let tail = chars.split_off(at);
                chars.extend(copy);
                chars.extend(tail);
            }
            Mutation::Truncate(at) => chars.truncate(at % len),
            Mutation::Swap(a, b) => chars.swap(a % len, b % len),
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #[test]
    fn key_uri_round_trips(
        issuer in prop::option::of(label_part()),
        account in label_part(),
        secret in secret_bytes(16, 64),
        algorithm in algorithm(),
        digits in 6u32..=10,
        kind in kind(),
    ) {
        match build(issuer.as_deref(), &account, &secret, algorithm, digits, &kind) {
            Ok(uri) => {
                let text = uri.to_uri();
                let parsed = KeyUri::parse(&text);
                prop_assert_eq!(parsed.as_ref(), Ok(&uri), "{}", text.as_str());
                let parsed = parsed.unwrap();
                prop_assert_eq!(parsed.issuer(), issuer.as_deref());
                prop_assert_eq!(parsed.account(), account.as_str());
                prop_assert_eq!(parsed.secret().expose_bytes(), secret.as_slice());
                prop_assert_eq!(parsed.algorithm(), algorithm);
                prop_assert_eq!(u32::from(parsed.digits().get()), digits);
                match kind {
                    Kind::Totp(period) => {
                        prop_assert_eq!(parsed.kind(), OtpKind::Totp { period });
                        prop_assert_eq!(parsed.totp_config().unwrap().period(), period);
                    }
                    Kind::Hotp(counter) => {
                        prop_assert_eq!(parsed.kind(), OtpKind::Hotp { counter });
                        prop_assert_eq!(parsed.totp_config(), None);
                    }
                }
                // The URI is plain ASCII with every name escaped.
                prop_assert!(text.is_ascii());
                prop_assert_eq!(text.matches('?').count(), 1);
                prop_assert!(!text.contains('#') && !text.contains(' '));
            }
            Err(err) => {
                // Only names with leading/trailing white space may be refused.
                prop_assert_eq!(&err, &Error::Uri(UriError::Label));
                prop_assert!(
                    has_outer_whitespace(&account)
                        || issuer.as_deref().is_some_and(has_outer_whitespace),
                    "refused {:?} / {:?}: {}", issuer, account, err
                );
            }
        }
    }

    #[test]
    fn key_uri_parse_of_arbitrary_text_never_panics(text in any::<String>()) {
        if let Err(err) = KeyUri::parse(&text) {
            prop_assert!(!err.to_string().is_empty());
        } else {
            prop_assert!(text.get(..10).is_some_and(|s| s.eq_ignore_ascii_case("otpauth://")));
        }
    }

    #[test]
    fn key_uri_parse_of_otpauth_prefixed_text_never_panics(
        kind in select(vec!["totp", "hotp", "TOTP", "x", ""]),
        rest in any::<String>(),
    ) {
        let _ = KeyUri::parse(&format!("otpauth://{kind}/{rest}"));
        let _ = KeyUri::parse(&format!("otpauth://{kind}/a?{rest}"));
        let _ = KeyUri::parse(&format!("otpauth://{kind}/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&{rest}"));
    }

    #[test]
    fn key_uri_parse_of_mutated_uris_never_panics_and_is_stable(
        uri in valid_uri(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let text = mutate(&uri, &mutations);
        if let Ok(parsed) = KeyUri::parse(&text) {
            // Whatever is accepted is re-emitted canonically and parses to the same value.
            let again = parsed.to_uri();
            let reparsed = KeyUri::parse(&again);
            prop_assert_eq!(reparsed.as_ref(), Ok(&parsed), "{:?}", text);
        }
    }
}

// ----------------------------------------------------------- TOTP semantics

fn totp_setup() -> impl Strategy<Value = (Totp, u64)> {
    (
        secret_bytes(16, 64),
        algorithm(),
        6u32..=8,
        1u64..=300,
        0u64..=2_000_000_000,
        0u64..(1 << 40),
    )
        .prop_map(|(secret, algorithm, digits, period, t0, offset)| {
            let config = TotpConfig::default()
                .with_algorithm(algorithm)
                .with_digits(Digits::new(digits).unwrap())
                .with_period(period)
                .unwrap()
                .with_t0(t0);
            let totp = Totp::new(&Secret::from_bytes(&secret).unwrap(), config);
            // At least two periods after T0 so that t - 2 * period is valid.
            (totp, t0 + 2 * period + offset)
        })
}

proptest! {
    #[test]
    fn totp_code_verifies_within_one_step_and_not_two(
        (totp, t) in totp_setup(),
    ) {
        prop_assert_eq!(totp.config().window(), 1);
        let period = totp.config().period();
        let code = totp.generate(t).unwrap();
        let step = totp.step_at(t).unwrap();
        let at_step = totp.generate_at_step(step);
        prop_assert_eq!(at_step.as_str(), code.as_str());

        for delta in [-2i64, -1, 0, 1, 2] {
            let at = if delta < 0 {
                t - delta.unsigned_abs() * period
            } else {
                t + delta.unsigned_abs() * period
            };
            let (first, last) = window_bounds(&totp, at);
            let got = totp.verify(code.as_str(), at).unwrap();
            let want = model(&totp, code.as_str(), first, last, None);
            prop_assert_eq!(got, want, "delta {}", delta);

            // Does any *other* step in the window share the code?
            let collision = (first..=last)
                .any(|s| s != step && totp.generate_at_step(s).as_str() == code.as_str());
            if delta.abs() <= 1 {
                prop_assert!(got.is_some_and(|s| s >= step), "delta {}: {:?}", delta, got);
                if !collision {
                    prop_assert_eq!(got, Some(step), "delta {}", delta);
                }
            } else if !collision {
                prop_assert_eq!(got, None, "delta {}", delta);
            }
        }
    }

    #[test]
    fn totp_verify_returns_the_highest_matching_step(
        (totp, t) in totp_setup(),
        window in 0u32..=mail2fa::MAX_WINDOW,
        pick in any::<prop::sample::Index>(),
    ) {
        let step = totp.step_at(t).unwrap();
        let w = u64::from(window);
        let (first, last) = (step.saturating_sub(w), step + w);
        let target = first + pick.index(usize::try_from(last - first + 1).unwrap()) as u64;
        let code = totp.generate_at_step(target);
        let got = totp.verify_with_window(code.as_str(), t, window, None).unwrap();
        prop_assert_eq!(got, model(&totp, code.as_str(), first, last, None));
        prop_assert!(got.is_some_and(|s| s >= target));
    }

    #[test]
    fn totp_verify_with_window_and_after_matches_the_model(
        (totp, t) in totp_setup(),
        window in 0u32..=mail2fa::MAX_WINDOW,
        pick in any::<prop::sample::Index>(),
        after in prop::option::of(0u64..=110),
    ) {
        let step = totp.step_at(t).unwrap();
        let w = u64::from(window);
        let (first, last) = (step.saturating_sub(w), step + w);
        let target = first + pick.index(usize::try_from(last - first + 1).unwrap()) as u64;
        let after = after.map(|offset| first.saturating_sub(5) + offset);
        let code = totp.generate_at_step(target);
        let got = totp.verify_with_window(code.as_str(), t, window, after).unwrap();
        prop_assert_eq!(got, model(&totp, code.as_str(), first, last, after));
        if after.is_none_or(|a| target > a) {
            prop_assert!(got.is_some_and(|s| s >= target));
        } else {
            prop_assert!(got.is_none_or(|s| s > after.unwrap()));
        }
    }

    #[test]
    fn verify_near_the_end_of_the_64_bit_range_never_panics(
        secret in secret_bytes(16, 32),
        algorithm in algorithm(),
        period in 1u64..=4,
        back in 0u64..=300,
        t0_back in prop::option::of(0u64..=300),
        window in 0u32..=mail2fa::MAX_WINDOW,
        pick in any::<prop::sample::Index>(),
    ) {
        let secret = Secret::from_bytes(&secret).unwrap();
        let t = u64::MAX - back;
        let t0 = t0_back.map_or(0, |b| t.saturating_sub(b));
        let config = TotpConfig::default()
            .with_algorithm(algorithm)
            .with_period(period)
            .unwrap()
            .with_t0(t0);
        let totp = Totp::new(&secret, config);
        let step = totp.step_at(t).unwrap();
        let w = u64::from(window);
        let (first, last) = (step.saturating_sub(w), step.saturating_add(w));
        let target = first + pick.index(usize::try_from(last - first + 1).unwrap()) as u64;
        let code = totp.generate_at_step(target);
        let got = totp.verify_with_window(code.as_str(), t, window, None).unwrap();
        prop_assert_eq!(got, model(&totp, code.as_str(), first, last, None));
        prop_assert!(got.is_some_and(|s| s >= target));

        // HOTP look-ahead from a counter near u64::MAX.
        let hotp = Hotp::new(&secret, algorithm, Digits::SIX);
        let counter = u64::MAX - back.min(120);
        let end = counter.saturating_add(w);
        let target = counter + pick.index(usize::try_from(end - counter + 1).unwrap()) as u64;
        let code = hotp.generate(target);
        let got = hotp.verify(code.as_str(), counter, window).unwrap();
        let want = (counter..=end).rev().find(|&c| hotp.generate(c).as_str() == code.as_str());
        prop_assert_eq!(got, want);
        prop_assert!(got.is_some_and(|c| c >= target));
    }

    #[test]
    fn totp_verify_after_refuses_the_matched_step_and_older(
        (totp, t) in totp_setup(),
    ) {
        let code = totp.generate(t).unwrap();
        let matched = totp.verify(code.as_str(), t).unwrap().unwrap();
        let (first, last) = window_bounds(&totp, t);
        for k in first..=matched {
            let older = totp.generate_at_step(k);
            let got = totp.verify_after(older.as_str(), t, matched).unwrap();
            // Only a later step that happens to share the digits may match.
            prop_assert_eq!(got, model(&totp, older.as_str(), first, last, Some(matched)));
            prop_assert!(got.is_none_or(|s| s > matched), "step {}: {:?}", k, got);
            if !((matched + 1)..=last).any(|s| totp.generate_at_step(s).as_str() == older.as_str()) {
                prop_assert_eq!(got, None, "step {}", k);
            }
        }
        // The matched code itself: refused with `matched` or any later last step.
        prop_assert_eq!(totp.verify_after(code.as_str(), t, matched).unwrap(), None);
        prop_assert_eq!(totp.verify_after(code.as_str(), t, u64::MAX).unwrap(), None);
        // …and accepted when the last step is older.
        if matched > 0 {
            prop_assert_eq!(totp.verify_after(code.as_str(), t, matched - 1).unwrap(), Some(matched));
        }
    }
}

// ---------------------------------------------------------- malformed codes

/// Characters that must never count as a digit.
const NOT_DIGITS: [char; 16] = [
    '０', '٣', '۳', '३', '߀', '𝟎', '¹', '½', ' ', '\t', '+', '-', '.', 'a', '\0', '\u{200b}',
];

fn malformed_code(digits: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        // ASCII digits, wrong length.
        "[0-9]{0,14}".prop_filter("wrong length", move |s| s.len() != digits),
        // Right number of characters, one or more of them not an ASCII digit.
        (
            prop::collection::vec(prop::char::range('0', '9'), digits),
            prop::collection::vec(
                (any::<prop::sample::Index>(), select(NOT_DIGITS.to_vec())),
                1..3
            ),
        )
            .prop_map(move |(mut chars, bad)| {
                for (i, c) in bad {
                    chars[i.index(digits)] = c;
                }
                chars.into_iter().collect()
            }),
        // A valid-looking code with a sign or white space around it.
        (
            "[0-9]{6,10}",
            select(vec!["+", "-", " ", "\t", "\n", "\u{a0}"]),
            any::<bool>(),
        )
            .prop_map(|(code, extra, front)| if front {
                format!("{extra}{code}")
            } else {
                format!("{code}{extra}")
            }),
        // Arbitrary text that is not all ASCII digits.
        any::<String>().prop_filter("not all ASCII digits", |s| !s
            .bytes()
            .all(|b| b.is_ascii_digit())),
    ]
}

proptest! {
    #[test]
    fn malformed_codes_are_errors_never_matches(
        (digits, code) in (6usize..=10).prop_flat_map(|d| (Just(d), malformed_code(d))),
        secret in secret_bytes(16, 32),
        t in 0u64..(1 << 40),
    ) {
        let d = Digits::new(u32::try_from(digits).unwrap()).unwrap();
        let want = Err(Error::MalformedCode { expected_digits: d.get() });
        let secret = Secret::from_bytes(&secret).unwrap();
        let totp = Totp::new(&secret, TotpConfig::default().with_digits(d));
        prop_assert_eq!(totp.verify(&code, t), want.clone(), "{:?}", code);
        prop_assert_eq!(totp.verify_after(&code, t, 0), want.clone(), "{:?}", code);
        prop_assert_eq!(
            totp.verify_with_window(&code, t, mail2fa::MAX_WINDOW, None),
            want.clone(),
            "{:?}", code
        );
        let hotp = Hotp::new(&secret, Algorithm::Sha1, d);
        prop_assert_eq!(hotp.verify(&code, t, mail2fa::MAX_WINDOW), want, "{:?}", code);
    }

    #[test]
    fn unicode_digit_lookalikes_of_the_real_code_are_refused(
        secret in secret_bytes(16, 32),
        t in 0u64..(1 << 40),
        replace in any::<prop::sample::Index>(),
        with in select(vec!['０', '٠', '۰', '०', '߀', '𝟎']),
    ) {
        // Swap one digit of the *right* code for the same digit in another script.
        let totp = Totp::new(&Secret::from_bytes(&secret).unwrap(), TotpConfig::default());
        let code = totp.generate(t).unwrap();
        let mut chars: Vec<char> = code.as_str().chars().collect();
        let i = replace.index(chars.len());
        let value = chars[i].to_digit(10).unwrap();
        chars[i] = char::from_u32(u32::from(with) + value).unwrap();
        let lookalike: String = chars.into_iter().collect();
        prop_assert_eq!(
            totp.verify(&lookalike, t),
            Err(Error::MalformedCode { expected_digits: 6 })
        );
    }
}

// ------------------------------------------------------------------- Secret

proptest! {
    #[test]
    fn secret_base32_round_trips(bytes in secret_bytes(Secret::MIN_LEN, Secret::MAX_LEN)) {
        let secret = Secret::from_bytes(&bytes).unwrap();
        let text = secret.to_base32();
        prop_assert_eq!(text.as_str(), ::base32::encode(Alphabet::Rfc4648 { padding: false }, &bytes));
        let back = Secret::from_base32(&text).unwrap();
        prop_assert_eq!(back.expose_bytes(), bytes.as_slice());
        prop_assert!(back == secret);
        // Lower case and padded forms name the same secret.
        prop_assert!(Secret::from_base32(&text.to_ascii_lowercase()).unwrap() == secret);
        prop_assert!(Secret::from_base32(&b32::encode_padded(&bytes)).unwrap() == secret);
    }

    #[test]
    fn secret_debug_is_only_the_length(bytes in secret_bytes(Secret::MIN_LEN, Secret::MAX_LEN)) {
        let secret = Secret::from_bytes(&bytes).unwrap();
        let len = bytes.len();
        prop_assert_eq!(
            format!("{secret:?}"),
            format!("Secret {{ len: {len}, bytes: \"<redacted>\" }}")
        );
        prop_assert_eq!(
            format!("{secret:#?}"),
            format!("Secret {{\n    len: {len},\n    bytes: \"<redacted>\",\n}}")
        );
        let shown = format!("{secret:?}");
        let text = secret.to_base32();
        prop_assert!(!shown.contains(text.as_str()));
        let as_list = format!("{bytes:?}");
        prop_assert!(!shown.contains(&as_list));
    }
}
