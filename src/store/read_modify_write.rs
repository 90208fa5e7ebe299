//! The one way records change: read, decide, compare-and-swap, retry.

use zeroize::Zeroizing;

use super::backend::{CasOutcome, Loaded, Sealed, Store};
use super::error::StoreError;
use crate::record::Encoded;

/// What a read-modify-write step decided.
#[derive(Debug)]
pub(crate) enum Change<T> {
    /// Write these bytes (or delete, with `None`) and return the value.
    Write(Option<Zeroizing<Vec<u8>>>, T),
    /// As `Write`, through [`Store::compare_and_swap_relaxed`]: a count of
    /// wrong codes that starts no lock, which need not reach the disk
    /// synchronously.
    WriteRelaxed(Zeroizing<Vec<u8>>, T),
    /// As `Write` (or, `relaxed`, `WriteRelaxed`), of a record this crate
    /// has just encoded ([`Store::compare_and_swap_encoded`]).
    WriteEncoded {
        /// The record.
        record: Encoded,
        /// Whether the write may wait for the disk (as `WriteRelaxed`).
        relaxed: bool,
        /// The value to return.
        value: T,
    },
    /// Change nothing and return the value.
    Keep(T),
}

/// Runs `decide` on the current record and stores its decision atomically,
/// retrying from a fresh read when another writer got there first, at most
/// `max_attempts` times. `decide` must be a pure function of the record (it
/// may run several times); its value is returned only once the write (if
/// any) has been stored.
///
/// # Errors
/// `decide`'s own errors; [`StoreError::Contention`] after `max_attempts`
/// conflicts; backend errors.
pub(crate) fn read_modify_write<T, E>(
    store: &dyn Store,
    key: &[u8],
    max_attempts: u32,
    decide: impl FnMut(Option<&[u8]>) -> Result<Change<T>, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    let current = store.load(key)?.map(Loaded::from);
    read_modify_write_from(store, key, current, max_attempts, decide)
}

/// [`read_modify_write`] starting from `current`, the record as the caller
/// has just loaded it (`None`: absent), so that a login which already read
/// it does not read it again; only a lost race reads it afresh.
pub(crate) fn read_modify_write_from<T, E>(
    store: &dyn Store,
    key: &[u8],
    mut current: Option<Loaded>,
    max_attempts: u32,
    mut decide: impl FnMut(Option<&[u8]>) -> Result<Change<T>, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    for attempt in 0..max_attempts {
        if attempt > 0 {
            current = store.load(key)?.map(Loaded::from);
        }
        let change = decide(current.as_ref().map(Loaded::bytes))?;
        match change {
            Change::Keep(value) => return Ok(value),
            Change::Write(bytes, value) => {
                let expected = current.as_ref().map(|r| r.version);
                match store.compare_and_swap(key, expected, bytes.as_deref().map(Vec::as_slice))? {
                    CasOutcome::Stored { .. } => return Ok(value),
                    CasOutcome::Conflict => continue,
                }
            }
            Change::WriteRelaxed(bytes, value) => {
                let expected = current.as_ref().map(|r| r.version);
                match store.compare_and_swap_relaxed(key, expected, Some(&bytes))? {
                    CasOutcome::Stored { .. } => return Ok(value),
                    CasOutcome::Conflict => continue,
                }
            }
            Change::WriteEncoded {
                record,
                relaxed,
                value,
            } => {
                let expected = current.as_ref().map(|r| r.version);
                let sealed = Sealed(());
                match store.compare_and_swap_encoded(key, expected, &record, relaxed, sealed)? {
                    CasOutcome::Stored { .. } => return Ok(value),
                    CasOutcome::Conflict => continue,
                }
            }
        }
    }
    Err(StoreError::Contention {
        attempts: max_attempts,
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use std::sync::Arc;

    #[test]
    fn racing_increments_are_never_lost() {
        // 16 threads each add 1 to a counter 200 times through
        // read_modify_write: every increment survives.
        let store = Arc::new(MemoryStore::new());
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        read_modify_write::<(), StoreError>(&*store, b"n", 1_000_000, |current| {
                            let n = current
                                .map_or(0, |b| u64::from_be_bytes(b.try_into().expect("8 bytes")));
                            Ok(Change::Write(
                                Some(Zeroizing::new((n + 1).to_be_bytes().to_vec())),
                                (),
                            ))
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let bytes = store.load(b"n").unwrap().unwrap().bytes;
        assert_eq!(
            u64::from_be_bytes(bytes.as_slice().try_into().unwrap()),
            16 * 200
        );
    }

    #[test]
    fn contention_gives_up_with_an_error() {
        // A decide step that always sees someone else write first.
        let store = MemoryStore::new();
        let mut attempts = 0;
        let result = read_modify_write::<(), StoreError>(&store, b"k", 3, |_| {
            attempts += 1;
            store.compare_and_swap(b"k", store.load(b"k")?.map(|r| r.version), Some(b"theirs"))?;
            Ok(Change::Write(Some(Zeroizing::new(b"mine".to_vec())), ()))
        });
        assert_eq!(result, Err(StoreError::Contention { attempts: 3 }));
        assert_eq!(attempts, 3);
        assert_eq!(
            store.load(b"k").unwrap().unwrap().bytes.as_slice(),
            b"theirs"
        );
    }
}
