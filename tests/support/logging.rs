//! Stores that watch every call they get: to count what a login reads and
//! writes, on which thread, or to fail on demand.

use std::sync::{Arc, Mutex};

use mail2fa::store::{CasOutcome, MemoryStore, Store, StoreError, Versioned};

/// One store call: `load` or `swap`, and the kind of record (the key's
/// 4-byte prefix: `acct`, `plat`, `clnt`, ...).
pub type Call = (&'static str, String);

/// `inner`, with `watch` told of every call first (`"load"` or `"swap"`,
/// and the key).
#[derive(Default)]
pub struct Watched<S, W> {
    inner: S,
    watch: W,
}

impl<S, W> Watched<S, W> {
    pub fn new(inner: S, watch: W) -> Self {
        Self { inner, watch }
    }

    pub fn watcher(&self) -> &W {
        &self.watch
    }
}

/// What watches a store's calls.
pub trait Watch: Send + Sync {
    fn call(&self, op: &'static str, key: &[u8]);
}

impl<F: Fn(&'static str, &[u8]) + Send + Sync> Watch for F {
    fn call(&self, op: &'static str, key: &[u8]) {
        self(op, key);
    }
}

impl<S: Store, W: Watch> Store for Watched<S, W> {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.watch.call("load", key);
        self.inner.load(key)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.watch.call("swap", key);
        self.inner.compare_and_swap(key, expected, new)
    }
}

/// The log of a [`Logging`] store. Clones share it.
#[derive(Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<Call>>>);

impl Watch for CallLog {
    fn call(&self, op: &'static str, key: &[u8]) {
        let kind = String::from_utf8_lossy(&key[..key.len().min(4)]).into_owned();
        self.0.lock().unwrap().push((op, kind));
    }
}

/// A memory store that logs the kind of every call. Clones share the
/// records and the log.
pub type Logging = Arc<Watched<MemoryStore, CallLog>>;

impl<S> Watched<S, CallLog> {
    /// The calls logged since the last `take`.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.watch.0.lock().unwrap())
    }
}
