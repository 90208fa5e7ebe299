//! Records as the store holds them, reached behind the engine's back: the
//! keys the engine files an account's clients and a platform under, and a
//! record with a bit flipped.

use mail2fa::engine::AccountId;
use mail2fa::store::{CasOutcome, Store};

/// Flips a bit of the record under `key`, directly in the store.
pub fn corrupt(store: &dyn Store, key: &[u8]) {
    let record = store.load(key).unwrap().expect("a record to corrupt");
    let mut bytes = record.bytes.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let outcome = store
        .compare_and_swap(key, Some(record.version), Some(&bytes))
        .unwrap();
    assert!(matches!(outcome, CasOutcome::Stored { .. }), "{outcome:?}");
}

/// The store key of an account's devices and application passwords, as the
/// engine builds it (`clnt`, then the account's key after its prefix).
pub fn clients_key(id: &AccountId) -> Vec<u8> {
    let key = id.store_key();
    assert_eq!(&key[..4], b"acct");
    [b"clnt".as_slice(), &key[4..]].concat()
}

pub fn platform_key(platform: &str) -> Vec<u8> {
    [b"plat".as_slice(), platform.as_bytes()].concat()
}
