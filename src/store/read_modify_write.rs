//! The one way records change: read, decide, compare-and-swap, retry.

use zeroize::Zeroizing;

use super::backend::{CasOutcome, Store};
use super::error::StoreError;

/// What a read-modify-write step decided.
#[derive(Debug)]
pub enum Change<T> {
    /// Write these bytes (or delete, with `None`) and return the value.
    Write(Option<Zeroizing<Vec<u8>>>, T),
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
pub fn read_modify_write<T, E>(
    store: &dyn Store,
    key: &[u8],
    max_attempts: u32,
    mut decide: impl FnMut(Option<&[u8]>) -> Result<Change<T>, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    for _ in 0..max_attempts {
        let current = store.load(key)?;
        let change = decide(current.as_ref().map(|r| r.bytes.as_slice()))?;
        match change {
            Change::Keep(value) => return Ok(value),
            Change::Write(bytes, value) => {
                let expected = current.as_ref().map(|r| r.version);
                match store.compare_and_swap(key, expected, bytes.as_deref().map(Vec::as_slice))? {
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
