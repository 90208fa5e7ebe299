//! One spelling per account (issue 14, point 4): platform and account names
//! outside mail2fa's alphabet are refused with a clear error, never read as
//! "an account without 2FA". A directory behind the host's password check
//! (LDAP, SSSD) may match `ａlice@example.com` (full-width), `Kate@…` with
//! the Kelvin sign, `alice@example.com.` or `example\alice@example.com` to
//! the real account; before this, mail2fa answered "no second factor" for
//! each of them and the password alone got in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::{
    AccountId, ClientInfo, Credential, Decision, Engine, EngineConfig, LoginRequest,
    MAX_ACCOUNT_NAME_LEN, MAX_LOCAL_PART_LEN, MAX_PLATFORM_NAME_LEN, Protocol,
};
use mail2fa::store::MemoryStore;
use mail2fa::{Error, NameError};
use support::enroll;

const PLATFORM: &str = "example.com";
const NOW: u64 = 1_800_000_000;

/// The platform a PAM or Lua integration derives from a user name: the text
/// after its last `@` (else the default platform).
fn platform_of(user: &str) -> &str {
    user.rsplit_once('@').map_or(PLATFORM, |(_, domain)| domain)
}

/// An engine on which alice and kate have 2FA.
fn engine() -> Engine<MemoryStore> {
    let engine = Engine::new(MemoryStore::new(), EngineConfig::default()).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    for name in ["alice@example.com", "kate@example.com", "alice"] {
        enroll(&engine, &AccountId::new(PLATFORM, name).unwrap(), NOW);
    }
    engine
}

/// What the engine answers a login with the right password and no code,
/// over `protocol`.
fn password_only<S: mail2fa::store::Store>(
    engine: &Engine<S>,
    id: &AccountId,
    protocol: Protocol,
) -> mail2fa::Result<Decision> {
    let request = LoginRequest::new(protocol, Credential::Password { correct: true })
        .with_client(ClientInfo::default());
    engine.authenticate(id, &request, NOW)
}

/// The spellings of the issue, each with the error it must get.
const OTHER_SPELLINGS: &[(&str, &str, NameError)] = &[
    // full-width small a (U+FF41)
    (
        "\u{ff41}lice@example.com",
        "account name",
        NameError::NonAscii { position: 0 },
    ),
    // KELVIN SIGN (U+212A), which NFKC and case folding map to 'k'
    (
        "\u{212a}ate@example.com",
        "account name",
        NameError::NonAscii { position: 0 },
    ),
    (
        "Alice@example.com",
        "account name",
        NameError::UpperCase { position: 0 },
    ),
    (
        "alice@EXAMPLE.com",
        "platform name",
        NameError::UpperCase { position: 0 },
    ),
    // a trailing dot: the platform derived from it is refused first
    (
        "alice@example.com.",
        "platform name",
        NameError::Misplaced { position: 11 },
    ),
    (
        "example\\alice@example.com",
        "account name",
        NameError::Character { position: 7 },
    ),
    (
        "alice @example.com",
        "account name",
        NameError::Character { position: 5 },
    ),
    (
        "alice\u{a0}",
        "account name",
        NameError::NonAscii { position: 5 },
    ),
    (
        "alice.",
        "account name",
        NameError::Misplaced { position: 5 },
    ),
    (
        "al..ice",
        "account name",
        NameError::Misplaced { position: 3 },
    ),
    (
        "alice@@example.com",
        "account name",
        NameError::MisplacedAt { position: 6 },
    ),
];

#[test]
fn other_spellings_of_an_account_with_2fa_are_refused_not_read_as_no_2fa() {
    let engine = engine();
    for &(spelling, what, problem) in OTHER_SPELLINGS {
        match AccountId::new(platform_of(spelling), spelling) {
            Err(error) => assert_eq!(error, Error::InvalidName { what, problem }, "{spelling:?}"),
            Ok(id) => panic!(
                "{spelling:?} accepted as a name; a password-only login gets {:?}",
                password_only(&engine, &id, Protocol::Webmail)
            ),
        }
    }
    // The enrolled spelling still needs its code.
    let alice = AccountId::new(PLATFORM, "alice@example.com").unwrap();
    let decision = password_only(&engine, &alice, Protocol::Webmail).unwrap();
    assert!(!decision.is_allowed(), "{decision:?}");
}

#[test]
fn names_of_real_mail_deployments_are_accepted() {
    let longest_local = "l".repeat(MAX_LOCAL_PART_LEN);
    let label = "d".repeat(63);
    // 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 bytes
    let longest = format!("{longest_local}@{label}.{label}.{}", "e".repeat(61));
    assert_eq!(longest.len(), MAX_ACCOUNT_NAME_LEN);
    let longest_platform = format!("{label}.{label}.{label}.{}", "p".repeat(61));
    assert_eq!(longest_platform.len(), MAX_PLATFORM_NAME_LEN);
    for (platform, account) in [
        ("example.com", "alice"),
        ("example.com", "alice@example.com"),
        ("example.com", "alice+tag@example.com"),
        ("example.co.uk", "a.b-c_d@sub.example.co.uk"),
        ("mail", "bob"),
        ("example.com", "0@example.com"),
        // an internationalized domain as its Punycode A-label
        ("xn--bcher-kva.example", "jurgen@xn--bcher-kva.example"),
        ("example.com", longest.as_str()),
        (longest_platform.as_str(), "alice"),
    ] {
        let id = AccountId::new(platform, account)
            .unwrap_or_else(|e| panic!("{platform:?} {account:?}: {e}"));
        assert_eq!((id.platform(), id.account()), (platform, account));
    }
    // One byte more is too long.
    assert_eq!(
        AccountId::new(PLATFORM, &format!("x{longest}")),
        Err(Error::InvalidName {
            what: "account name",
            problem: NameError::TooLong {
                max: MAX_ACCOUNT_NAME_LEN
            }
        })
    );
    assert_eq!(
        AccountId::new(PLATFORM, &format!("x{longest_local}")),
        Err(Error::InvalidName {
            what: "account name",
            problem: NameError::LocalPartTooLong {
                max: MAX_LOCAL_PART_LEN
            }
        })
    );
    assert_eq!(
        AccountId::new(&format!("x{longest_platform}"), "alice"),
        Err(Error::InvalidName {
            what: "platform name",
            problem: NameError::TooLong {
                max: MAX_PLATFORM_NAME_LEN
            }
        })
    );
}

#[test]
fn names_outside_the_alphabet_each_get_a_clear_error() {
    let cases: &[(&str, &str, NameError)] = &[
        ("example.com", "", NameError::Empty),
        ("", "alice", NameError::Empty),
        (
            "example.com",
            "@example.com",
            NameError::MisplacedAt { position: 0 },
        ),
        (
            "example.com",
            "alice@",
            NameError::MisplacedAt { position: 5 },
        ),
        (
            "example.com",
            "alice@example..com",
            NameError::Misplaced { position: 14 },
        ),
        (
            "example.com",
            "-alice",
            NameError::Misplaced { position: 0 },
        ),
        (
            "example.com",
            "alice_",
            NameError::Misplaced { position: 5 },
        ),
        (
            "example.com",
            "alice@ex_ample.com",
            NameError::Character { position: 8 },
        ),
        (
            "example.com",
            "alice@-example.com",
            NameError::Misplaced { position: 6 },
        ),
        ("example.com", "a:b", NameError::Character { position: 1 }),
        ("example.com", "a%b", NameError::Character { position: 1 }),
        ("example.com", "a/b", NameError::Character { position: 1 }),
        (
            "example.com",
            "tab\there",
            NameError::Character { position: 3 },
        ),
        (
            "example.com",
            "j\u{fc}rgen",
            NameError::NonAscii { position: 1 },
        ),
        (
            "example.com",
            "alice@b\u{fc}cher.example",
            NameError::NonAscii { position: 7 },
        ),
        (
            ".example.com",
            "alice",
            NameError::Misplaced { position: 0 },
        ),
        (
            "example.com.",
            "alice",
            NameError::Misplaced { position: 11 },
        ),
        ("Example.com", "alice", NameError::UpperCase { position: 0 }),
        (
            "example_mail",
            "alice",
            NameError::Character { position: 7 },
        ),
        (
            "example.com:1",
            "alice",
            NameError::Character { position: 11 },
        ),
    ];
    for &(platform, account, problem) in cases {
        // The platform is checked first.
        let what = if platform_ok(platform) {
            "account name"
        } else {
            "platform name"
        };
        let error = AccountId::new(platform, account).unwrap_err();
        assert_eq!(
            error,
            Error::InvalidName { what, problem },
            "{platform:?} {account:?}"
        );
    }
    // The messages say what to do, and never quote the name.
    let message = AccountId::new(PLATFORM, "Alice@example.com")
        .unwrap_err()
        .to_string();
    assert!(message.contains("lower case"), "{message}");
    assert!(!message.contains("Alice"), "{message}");
    let message = AccountId::new(PLATFORM, "j\u{fc}rgen@example.com")
        .unwrap_err()
        .to_string();
    assert!(message.contains("Punycode"), "{message}");
    assert!(!message.contains("rgen"), "{message}");
}

fn platform_ok(platform: &str) -> bool {
    AccountId::new(platform, "x").is_ok()
}

#[test]
fn platform_names_follow_the_same_alphabet_everywhere() {
    let engine = engine();
    for platform in [
        "Example.com",
        "example.com.",
        "ex ample",
        "\u{ff45}xample.com",
    ] {
        let refused = |result: mail2fa::Result<()>| {
            assert!(
                matches!(
                    result,
                    Err(Error::InvalidName {
                        what: "platform name",
                        ..
                    })
                ),
                "{platform:?}: {result:?}"
            );
        };
        refused(engine.enable_platform(platform, true));
        refused(engine.enable_platform(platform, false));
        refused(engine.platform_enabled(platform).map(drop));
        refused(engine.platform_status(platform).map(drop));
        refused(
            engine
                .set_platform_policy(platform, &Protocol::Imap, None)
                .map(drop),
        );
    }
    // Nothing was written under another spelling: the platform stays on.
    assert!(engine.platform_enabled(PLATFORM).unwrap());
}

/// The refusal is an error, which every integration turns into a refused
/// login; it is not an answer a host could take for "allowed".
#[test]
fn a_refused_name_is_an_error_on_every_login_path() {
    let error = AccountId::new(PLATFORM, "\u{ff41}lice@example.com").unwrap_err();
    assert!(matches!(error, Error::InvalidName { .. }));
    // Through the C ABI's status (built with the `capi` feature): a
    // distinct status, not "invalid configuration" and not OK.
    #[cfg(feature = "capi")]
    {
        let status = mail2fa::ffi::m2fa_status::from(error);
        assert_eq!(status, mail2fa::ffi::m2fa_status::M2FA_INVALID_NAME);
        assert_eq!(status as u32, 709);
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Whether `name` is only lower-case ASCII letters, digits and the
    /// punctuation of the alphabet.
    fn in_alphabet(name: &str) -> bool {
        name.bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'+' | b'@'))
    }

    proptest! {
        /// Whatever the input, an accepted name is already in its one
        /// spelling: ASCII, lower case, unchanged by case folding and by
        /// trimming dots — so no loosely matching directory can reach one
        /// account through two accepted names.
        #[test]
        fn accepted_names_have_one_spelling(
            account in prop_oneof![
                "[a-z0-9._+@-]{1,40}",
                "[a-zA-Z0-9._+@ \\\\-]{1,40}",
                "\\PC{0,40}",
            ],
            platform in prop_oneof!["[a-z0-9.-]{1,30}", "[a-zA-Z0-9._-]{1,30}", "\\PC{0,30}"],
        ) {
            if let Ok(id) = AccountId::new(&platform, &account) {
                for name in [id.account(), id.platform()] {
                    prop_assert!(in_alphabet(name), "{name:?}");
                    prop_assert_eq!(name.to_lowercase(), name);
                    prop_assert_eq!(name.trim_matches('.'), name);
                    prop_assert!(!name.contains(".."), "{name:?}");
                }
                prop_assert!(id.account().matches('@').count() <= 1);
            }
        }

        /// Every upper-case or non-ASCII character is refused, wherever it
        /// sits in an otherwise valid name.
        #[test]
        fn a_foreign_character_anywhere_is_refused(
            at in 0usize..17,
            c in prop::char::any().prop_filter("outside the alphabet", |c| {
                !c.is_ascii() || c.is_ascii_uppercase()
            })
        ) {
            let mut name = String::from("alice@example.com");
            name.insert(at, c);
            let refused = matches!(
                AccountId::new(PLATFORM, &name),
                Err(Error::InvalidName { what: "account name", .. })
            );
            prop_assert!(refused, "{name:?}");
        }
    }
}
