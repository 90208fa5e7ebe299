//! The in-memory store: for tests and single-process hosts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use zeroize::Zeroizing;

use super::backend::{CasOutcome, Loaded, ScannedRecord, Sealed, Store, Versioned};
use super::error::StoreError;
use super::limits::{WithinLimits, compare_and_swap_within_limits};

/// Shards: independent locks, so logins of different accounts rarely wait
/// for each other.
const SHARDS: usize = 16;
// `shard_of` takes the high bits of a hash.
const _: () = assert!(SHARDS.is_power_of_two());

/// Each key's record.
type Shard = HashMap<Vec<u8>, Entry>;

/// A stored record. `Debug` leaves its bytes out (they may hold secrets).
struct Entry {
    version: u64,
    /// Shared with the logins reading it ([`Loaded`]); wiped when the last
    /// of them, or the store, lets go of it.
    bytes: Arc<Zeroizing<Vec<u8>>>,
    /// Whether `bytes` passed mail2fa's record check when they were
    /// written ([`Store::load_login_vouched`]).
    intact: bool,
}

impl core::fmt::Debug for Entry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Entry")
            .field("version", &self.version)
            .field("len", &self.bytes.len())
            .field("intact", &self.intact)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// An owned copy, as [`Store::load`] answers.
    fn versioned(&self) -> Versioned {
        Versioned {
            version: self.version,
            bytes: Zeroizing::new(self.bytes.to_vec()),
        }
    }
}

/// A thread-safe [`Store`] in process memory. State is lost when the
/// process exits. A record's bytes are wiped from memory when it is replaced
/// or dropped and no login still holds them (a login reads them shared, not
/// copied, and lets go when it has decided).
///
/// ```
/// use mail2fa::store::{CasOutcome, MemoryStore, Store};
///
/// let store = MemoryStore::new();
/// assert_eq!(store.load(b"alice")?, None);
/// let CasOutcome::Stored { version } = store.compare_and_swap(b"alice", None, Some(b"v1"))? else {
///     unreachable!("the key was absent");
/// };
/// // A writer that still believes the key is absent loses.
/// assert_eq!(store.compare_and_swap(b"alice", None, Some(b"other"))?, CasOutcome::Conflict);
/// assert_eq!(store.load(b"alice")?.unwrap().version, version);
/// # Ok::<(), mail2fa::store::StoreError>(())
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    shards: Vec<Mutex<Shard>>,
    next_version: AtomicU64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            next_version: AtomicU64::new(1),
        }
    }

    fn shard(&self, key: &[u8]) -> Result<MutexGuard<'_, Shard>, StoreError> {
        self.lock(shard_of(key))
    }

    fn lock(&self, index: usize) -> Result<MutexGuard<'_, Shard>, StoreError> {
        self.shards[index]
            .lock()
            // A thread panicked while holding the lock: refuse rather than
            // trust a half-made change.
            .map_err(|_| StoreError::Backend("memory store lock poisoned".into()))
    }
}

/// The shard of `key`: a multiply-rotate hash eight bytes at a time (a
/// byte at a time cost a multiplication per byte, on every load) of the
/// key after its first four bytes, which in mail2fa's keys say the kind of
/// record: an account's record and its clients record share a shard, so a
/// login that reads both locks it once. It only spreads keys over shards;
/// not a security boundary (each shard's map hashes keys with std's keyed
/// hasher).
fn shard_of(key: &[u8]) -> usize {
    let key = key.get(4..).unwrap_or(key);
    const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |hash: u64, word: u64| (hash ^ word).wrapping_mul(MULTIPLIER).rotate_left(31);
    let mut words = key.chunks_exact(8);
    let mut hash = mix(0, key.len() as u64);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        hash = mix(hash, u64::from_le_bytes(bytes));
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    hash = mix(hash, u64::from_le_bytes(tail));
    // The high bits have seen every input bit.
    (hash.wrapping_mul(MULTIPLIER) >> (64 - SHARDS.trailing_zeros())) as usize
}

impl MemoryStore {
    /// The compare-and-swap, under the lock of the key's shard (the key and
    /// record are within the limits: [`compare_and_swap_within_limits!`]).
    fn swap(&self, write: WithinLimits<'_>) -> Result<CasOutcome, StoreError> {
        self.swap_checked(write, None)
    }

    /// [`MemoryStore::swap`]; `intact`: whether the new record is known to
    /// pass the record check (`None`: check it here).
    fn swap_checked(
        &self,
        WithinLimits { key, expected, new }: WithinLimits<'_>,
        intact: Option<bool>,
    ) -> Result<CasOutcome, StoreError> {
        let mut shard = self.shard(key)?;
        let current = shard.get(key).map(|entry| entry.version);
        if current != expected {
            return Ok(CasOutcome::Conflict);
        }
        // Store-wide counter: a version is never reused, even across deletes.
        let version = self.next_version.fetch_add(1, Ordering::Relaxed);
        match new {
            Some(bytes) => {
                // Checked here, by the writer: a login that reads it need
                // not compute the check again (the bytes cannot change
                // until replaced), and no read pays for it — a login
                // costs the same whether or not the account was written
                // since.
                // A writer's claim is checked in debug builds (every suite).
                debug_assert!(
                    intact.is_none_or(|claimed| claimed == crate::record::is_intact(bytes))
                );
                let intact = intact.unwrap_or_else(|| crate::record::is_intact(bytes));
                let bytes = Arc::new(Zeroizing::new(bytes.to_vec()));
                let entry = Entry {
                    version,
                    bytes,
                    intact,
                };
                shard.insert(key.to_vec(), entry);
            }
            None => {
                shard.remove(key);
            }
        }
        Ok(CasOutcome::Stored { version })
    }
}

impl Store for MemoryStore {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        let shard = self.shard(key)?;
        Ok(shard.get(key).map(Entry::versioned))
    }

    /// The records, each with whether it passed mail2fa's record check
    /// when it was written: its bytes have been in this process's memory,
    /// unchanged, since. A record that would be written here would be
    /// vouched for: an absent key answers `true`. The bytes are shared, not
    /// copied.
    fn load_login_vouched(
        &self,
        keys: [&[u8]; 3],
        _: Sealed,
    ) -> Result<[(Option<Loaded>, bool); 3], StoreError> {
        let shards = keys.map(shard_of);
        let mut loaded: [(Option<Loaded>, bool); 3] = Default::default();
        // Each shard locked once, and one at a time: no lock order to keep.
        for (first, &index) in shards.iter().enumerate() {
            if shards[..first].contains(&index) {
                continue; // read under an earlier key's lock
            }
            let shard = self.lock(index)?;
            for ((slot, key), _) in loaded
                .iter_mut()
                .zip(keys)
                .zip(shards)
                .filter(|(_, of)| *of == index)
            {
                *slot = match shard.get(key) {
                    Some(entry) => {
                        let record = Loaded {
                            version: entry.version,
                            bytes: Arc::clone(&entry.bytes),
                        };
                        (Some(record), entry.intact)
                    }
                    None => (None, true),
                };
            }
        }
        Ok(loaded)
    }

    compare_and_swap_within_limits!();

    /// A record the engine has just encoded is stored as vouched for
    /// without hashing it again: its checksum was computed over these
    /// bytes. (Debug builds check that claim on every such write.)
    fn compare_and_swap_encoded(
        &self,
        key: &[u8],
        expected: Option<u64>,
        record: &[u8],
        _relaxed: bool,
        _: Sealed,
    ) -> Result<CasOutcome, StoreError> {
        let write = WithinLimits::check(key, expected, Some(record))?;
        self.swap_checked(write, Some(true))
    }

    fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
        let mut found = Vec::new();
        for index in 0..SHARDS {
            let shard = self.lock(index)?;
            for (key, entry) in shard.iter() {
                if after.is_none_or(|after| key.as_slice() > after) {
                    found.push((key.clone(), entry.versioned()));
                }
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found.truncate(limit);
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::limits::{MAX_KEY_LEN, MAX_RECORD_LEN};

    #[test]
    fn compare_and_swap_follows_versions() {
        let store = MemoryStore::new();
        let CasOutcome::Stored { version: v1 } =
            store.compare_and_swap(b"k", None, Some(b"one")).unwrap()
        else {
            panic!("first write must succeed")
        };
        assert_eq!(
            store.compare_and_swap(b"k", None, Some(b"x")).unwrap(),
            CasOutcome::Conflict
        );
        assert_eq!(
            store
                .compare_and_swap(b"k", Some(v1 + 100), Some(b"x"))
                .unwrap(),
            CasOutcome::Conflict
        );
        let CasOutcome::Stored { version: v2 } = store
            .compare_and_swap(b"k", Some(v1), Some(b"two"))
            .unwrap()
        else {
            panic!("expected version matches")
        };
        assert!(v2 > v1);
        let loaded = store.load(b"k").unwrap().unwrap();
        assert_eq!((loaded.version, loaded.bytes.as_slice()), (v2, &b"two"[..]));
        // Delete, then re-create: the new version is not the old one (no ABA).
        assert!(matches!(
            store.compare_and_swap(b"k", Some(v2), None).unwrap(),
            CasOutcome::Stored { .. }
        ));
        assert_eq!(store.load(b"k").unwrap(), None);
        let CasOutcome::Stored { version: v4 } =
            store.compare_and_swap(b"k", None, Some(b"again")).unwrap()
        else {
            panic!("re-create must succeed")
        };
        assert!(v4 > v2);
        assert_eq!(
            store
                .compare_and_swap(b"k", Some(v1), Some(b"stale"))
                .unwrap(),
            CasOutcome::Conflict
        );
    }

    /// Keys that differ only in their last bytes, as account keys do,
    /// still spread over every shard.
    #[test]
    fn account_keys_spread_over_every_shard() {
        let mut counts = [0usize; SHARDS];
        for n in 0..1600 {
            counts[shard_of(format!("acct\0\x0bexample.comuser{n}@example.com").as_bytes())] += 1;
        }
        assert!(
            counts.iter().all(|&c| (50..=150).contains(&c)),
            "{counts:?}"
        );
    }

    /// The store vouches for a record only when the bytes it was given
    /// passed the record check: never for other bytes, nor for a record
    /// with any one byte changed. A key without a record answers that a
    /// record there would be vouched for (the decoys' cost).
    #[test]
    fn vouches_only_for_intact_records() {
        let store = MemoryStore::new();
        let record = crate::record::encode(2, b"payload");
        let vouched = |bytes: &[u8]| {
            let current = store.load(b"k").unwrap().map(|r| r.version);
            store.compare_and_swap(b"k", current, Some(bytes)).unwrap();
            let loaded = store
                .load_login_vouched([b"k", b"absent", b"k"], Sealed(()))
                .unwrap();
            assert!(matches!(loaded[1], (None, true)));
            assert_eq!(loaded[0], loaded[2]);
            let (read, vouched) = loaded[0].clone();
            assert_eq!(read.unwrap().bytes(), bytes);
            vouched
        };
        assert!(vouched(&record));
        assert!(!vouched(b"not a record"));
        assert!(!vouched(b""));
        for i in 0..record.len() {
            let mut changed = record.to_vec();
            changed[i] ^= 0x01;
            assert!(!vouched(&changed), "byte {i} changed");
        }
        for cut in 0..record.len() {
            assert!(!vouched(&record[..cut]), "cut at {cut}");
        }
        // Through a pointer, as the C library holds it.
        let boxed: Box<dyn Store> = Box::new(store);
        let vouched =
            |store: &dyn Store| store.load_login_vouched([b"k"; 3], Sealed(())).unwrap()[0].1;
        assert!(!vouched(&boxed));
        let current = boxed.load(b"k").unwrap().map(|r| r.version);
        boxed
            .compare_and_swap(b"k", current, Some(&record))
            .unwrap();
        assert!(vouched(&boxed));
    }

    /// A login's three records are those `load` answers, whether their
    /// keys share shards or not (each shard is locked once). An account's
    /// record and its clients record share one.
    #[test]
    fn a_login_reads_each_key_as_load_does() {
        let store = MemoryStore::new();
        let keys: Vec<Vec<u8>> = (0..40)
            .map(|n| format!("acct\0\x0bexample.comuser{n}@example.com").into_bytes())
            .collect();
        for key in keys.iter().step_by(2) {
            store.compare_and_swap(key, None, Some(&key[4..])).unwrap();
        }
        let mut shared = 0;
        for (a, b, c) in (0..40).map(|n| (n, (n * 7 + 3) % 40, (n * 13 + 5) % 40)) {
            let triple = [&keys[a][..], &keys[b][..], &keys[c][..]];
            let shards = triple.map(shard_of);
            shared += usize::from(
                shards[0] == shards[1] || shards[1] == shards[2] || shards[0] == shards[2],
            );
            let loaded = store.load_login_vouched(triple, Sealed(())).unwrap();
            for (key, (record, vouched)) in triple.iter().zip(loaded) {
                let expected = store.load(key).unwrap();
                assert_eq!(
                    record.map(|r| (r.version, r.bytes().to_vec())),
                    expected.map(|r| (r.version, r.bytes.to_vec()))
                );
                // Not records, so not vouched for; absent keys are.
                assert_eq!(vouched, store.load(key).unwrap().is_none());
            }
        }
        assert!(shared > 0, "no triple shared a shard");
        let id = crate::engine::AccountId::new("example.com", "alice@example.com").unwrap();
        assert_eq!(shard_of(&id.store_key()), shard_of(&id.clients_key()));
    }

    /// A login shares the stored bytes instead of copying them, and what
    /// it holds is a snapshot: a write after its read replaces the store's
    /// record, not the bytes the login is deciding on.
    #[test]
    fn a_login_shares_a_snapshot_of_the_record() {
        let store = MemoryStore::new();
        store.compare_and_swap(b"k", None, Some(b"one")).unwrap();
        let read = || {
            let [(loaded, _), ..] = store.load_login_vouched([b"k"; 3], Sealed(())).unwrap();
            loaded.unwrap()
        };
        let (first, second) = (read(), read());
        assert!(
            Arc::ptr_eq(&first.bytes, &second.bytes),
            "copied, not shared"
        );
        drop(second);
        store
            .compare_and_swap(b"k", Some(first.version), Some(b"two"))
            .unwrap();
        assert_eq!(first.bytes(), b"one");
        // The store let go of the old bytes; the login holds the only
        // reference, and they are wiped when it drops it.
        assert_eq!(Arc::strong_count(&first.bytes), 1);
        assert_eq!(read().bytes(), b"two");
        assert!(read().version > first.version);
        // `Debug` shows no record bytes, neither the store's nor a login's.
        assert!(!format!("{first:?}").contains("111, 110, 101"), "{first:?}");
        let shown = format!("{store:?}");
        assert!(
            shown.contains("Entry") && !shown.contains("116, 119, 111"),
            "{shown}"
        );
        // `load` answers an owned copy, as before.
        assert_eq!(store.load(b"k").unwrap().unwrap().bytes.as_slice(), b"two");
    }

    /// A record the engine has just encoded is stored as vouched for, as
    /// the check at the write would have found (debug builds assert it);
    /// the write is a compare-and-swap like any other, within the limits.
    #[test]
    fn an_encoded_record_is_vouched_for_as_written() {
        let store = MemoryStore::new();
        let record = crate::record::encode_record(2, b"payload");
        let encoded =
            |expected| store.compare_and_swap_encoded(b"k", expected, &record, false, Sealed(()));
        let CasOutcome::Stored { version } = encoded(None).unwrap() else {
            panic!("the key was absent");
        };
        assert_eq!(encoded(None).unwrap(), CasOutcome::Conflict);
        let [(loaded, vouched), ..] = store.load_login_vouched([b"k"; 3], Sealed(())).unwrap();
        assert!(vouched);
        let loaded = loaded.unwrap();
        assert_eq!((loaded.version, loaded.bytes()), (version, &record[..]));
        let big_key = vec![b'k'; MAX_KEY_LEN + 1];
        assert_eq!(
            store.compare_and_swap_encoded(&big_key, None, &record, true, Sealed(())),
            Err(StoreError::TooLarge)
        );
    }

    #[test]
    fn refuses_oversized_keys_and_records() {
        let store = MemoryStore::new();
        let big_key = vec![b'k'; MAX_KEY_LEN + 1];
        assert_eq!(
            store.compare_and_swap(&big_key, None, Some(b"x")),
            Err(StoreError::TooLarge)
        );
        let big_record = vec![0u8; MAX_RECORD_LEN + 1];
        assert_eq!(
            store.compare_and_swap(b"k", None, Some(&big_record)),
            Err(StoreError::TooLarge)
        );
        assert_eq!(store.load(b"k").unwrap(), None);
    }
}
