//! An account record that is damaged, truncated or of an unknown version
//! fails closed: every engine call about the account refuses with an error,
//! whether the platform has 2FA on or off (through the public API).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use mail2fa::engine::{AccountId, Credential, Engine, EngineConfig, LoginRequest, Protocol};
use mail2fa::record;
use mail2fa::store::{CasOutcome, MemoryStore, Store, StoreError, Versioned};
use mail2fa::{Error, Totp};
use support::engine::*;
use support::logins::*;
use support::{TestStore, code};

// -------------------------------------------------- fail closed on bad records

fn overwrite(engine: &Engine<TestStore>, id: &AccountId, bytes: &[u8]) {
    let key = id.store_key();
    let current = engine.store().load(&key).unwrap().map(|r| r.version);
    assert!(matches!(
        engine
            .store()
            .compare_and_swap(&key, current, Some(bytes))
            .unwrap(),
        CasOutcome::Stored { .. }
    ));
}

/// Every way of asking about the account refuses with an error.
fn assert_fails_closed(engine: &Engine<TestStore>, id: &AccountId, totp: &Totp, what: &str) {
    let t = NOW + 40 * PERIOD;
    let c = code(totp, step(t));
    for platform_on in [true, false] {
        engine.enable_platform(PLATFORM, platform_on).unwrap();
        assert!(
            matches!(engine.login(id, None, t), Err(Error::Record(_))),
            "{what}: login without code, platform on: {platform_on}"
        );
        assert!(
            matches!(engine.login(id, Some(&c), t), Err(Error::Record(_))),
            "{what}: login with code, platform on: {platform_on}"
        );
        assert!(
            engine.split_login(id, &format!("pw{c}"), t).is_err(),
            "{what}: split"
        );
    }
    engine.enable_platform(PLATFORM, true).unwrap();
    assert!(engine.disable_with_code(id, &c, t).is_err(), "{what}");
    assert!(engine.suspend(id, 3600, t).is_err(), "{what}");
    assert!(engine.unlock(id).is_err(), "{what}");
    assert!(engine.reset(id, t).is_err(), "{what}");
    assert!(engine.remove(id).is_err(), "{what}");
}

#[test]
fn corrupt_record_fails_closed() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let framed_wrong_kind = record::encode(1, &[1]);
    let framed_garbage = record::encode(2, b"not an account");
    let cases: [(&str, &[u8]); 6] = [
        ("garbage", b"garbage"),
        ("empty", b""),
        ("all ones", &[0xff; 96]),
        ("platform record", &framed_wrong_kind),
        ("bad payload", &framed_garbage),
        ("zeros", &[0; 96]),
    ];
    for (what, bytes) in cases {
        overwrite(&engine, &alice, bytes);
        assert_fails_closed(&engine, &alice, &totp, what);
    }
}

#[test]
fn truncated_or_flipped_record_fails_closed() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let valid = engine
        .store()
        .load(&alice.store_key())
        .unwrap()
        .unwrap()
        .bytes
        .to_vec();
    let len = valid.len();
    for cut in [0, 1, 4, 9, 10, len / 2, len - 16, len - 1] {
        overwrite(&engine, &alice, &valid[..cut]);
        assert_fails_closed(&engine, &alice, &totp, &format!("cut at {cut}"));
    }
    // One flipped bit anywhere: caught by the record check, also on the
    // path where the in-memory store vouches for records it checked when
    // they were written (`Store::load_login_vouched`): it never vouches for
    // these.
    let t = NOW + 40 * PERIOD;
    let imap = LoginRequest::new(Protocol::Imap, Credential::Password { correct: true });
    for i in 0..len {
        let mut flipped = valid.clone();
        flipped[i] ^= 0x10;
        overwrite(&engine, &alice, &flipped);
        assert!(
            engine.login(&alice, None, t).is_err(),
            "bit flipped in byte {i}"
        );
        assert!(
            engine.authenticate(&alice, &imap, t).is_err(),
            "bit flipped in byte {i}, authenticate"
        );
    }
    // The intact record reads again.
    overwrite(&engine, &alice, &valid);
    assert_code_required(&engine.login(&alice, None, t).unwrap());
}

/// A flipped bit in the clients record of an authorized device refuses its
/// next login, also where the login takes its shortcut (the record decoded
/// without texts, nothing written): the checksum is still computed there
/// (on the memory store: the store does not vouch for what fails it).
#[test]
fn a_flipped_clients_record_refuses_an_authorized_device() {
    let engine = engine();
    let alice = account("alice@example.com");
    enroll(&engine, &alice, NOW);
    let pending = support::clients::outlook_login(&engine, &alice, NOW + 1);
    let (device, _) = support::clients::pending(pending);
    engine.activate_device(&alice, &device, NOW + 2).unwrap();
    assert!(
        support::clients::outlook_login(&engine, &alice, NOW + 3).is_allowed(),
        "the shortcut's login"
    );
    support::records::corrupt(engine.store(), &support::records::clients_key(&alice));
    let request = LoginRequest::new(Protocol::Outlook, Credential::Password { correct: true })
        .with_client(support::clients::outlook());
    assert!(matches!(
        engine.authenticate(&alice, &request, NOW + 4),
        Err(Error::Record(_))
    ));
}

/// A store whose `load_many` answers one record fewer than it was asked
/// for (a broken host store).
struct ShortAnswers(Arc<MemoryStore>);

impl Store for ShortAnswers {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.0.load(key)
    }

    fn load_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Versioned>>, StoreError> {
        let mut loaded = self.0.load_many(keys)?;
        loaded.pop();
        Ok(loaded)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.0.compare_and_swap(key, expected, new)
    }
}

/// A store that answers another number of records than keys refuses every
/// login with a storage error, with or without 2FA: never a decision made
/// on records it did not give.
#[test]
fn a_store_answering_too_few_records_refuses_the_login() {
    // Enrolled through a sound store, then asked through the broken one.
    let store = Arc::new(MemoryStore::new());
    let sound: TestStore = Box::new(Arc::clone(&store));
    let alice = account("alice@example.com");
    let sound = Engine::new(sound, EngineConfig::default()).unwrap();
    sound.enable_platform(PLATFORM, true).unwrap();
    let totp = enroll(&sound, &alice, NOW);
    let engine = Engine::new(ShortAnswers(store), EngineConfig::default()).unwrap();
    let t = NOW + 40 * PERIOD;
    let c = code(&totp, step(t));
    let imap = LoginRequest::new(Protocol::Imap, Credential::Password { correct: true });
    let wrong_count = |result: Result<(), Error>, what: &str| match result {
        Err(Error::Store(StoreError::Backend(message))) => {
            assert!(
                message.contains("different number of records"),
                "{what}: {message}"
            );
        }
        other => panic!("{what}: {other:?}"),
    };
    for id in [&alice, &account("dave@example.com")] {
        wrong_count(engine.authenticate(id, &imap, t).map(drop), "authenticate");
        wrong_count(
            engine.split_login(id, &format!("pw{c}"), t).map(drop),
            "split",
        );
        let attempt = mail2fa::engine::LoginAttempt::new(Protocol::Imap, &c);
        wrong_count(
            engine.check_login(id, &attempt, t, |_| true).map(drop),
            "check_login",
        );
    }
}
