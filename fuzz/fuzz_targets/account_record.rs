//! The engine reading an arbitrary stored record (a corrupt or hostile
//! database row) for a login: never panics, and an unreadable record never
//! lets anyone in.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail2fa::engine::{AccountId, Decision, Engine, EngineConfig};
use mail2fa::store::{MemoryStore, Store};

fuzz_target!(|data: &[u8]| {
    let engine = Engine::new(MemoryStore::new(), EngineConfig::default()).expect("default config");
    engine
        .enable_platform("example.com", true)
        .expect("memory store");
    let id = AccountId::new("example.com", "alice").expect("valid names");
    engine
        .store()
        .compare_and_swap(&id.store_key(), None, Some(data))
        .expect("memory store");
    let now = 1_800_000_000;
    for code in [None, Some("123456"), Some("12345678")] {
        if let Ok(decision @ Decision::Allow { .. }) = engine.login(&id, code, now) {
            // Only a record that decodes can allow; re-encoding it is the
            // engine's business, but it must still be readable afterwards.
            assert!(engine.login(&id, None, now).is_ok(), "{decision:?}");
        }
    }
    let _ = engine.split_login(&id, "password123456", now);
});
