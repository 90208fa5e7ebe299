//! What a storage backend is: the [`Store`] trait and the values it trades
//! in (versioned records, the outcome of a compare-and-swap).

use zeroize::Zeroizing;

use super::error::StoreError;
pub(crate) use sealed::{Loaded, Sealed};

mod sealed {
    use std::sync::Arc;

    use zeroize::Zeroizing;

    use super::Versioned;

    /// The argument of [`Store::load_login_vouched`]: public, so that the
    /// trait can name it, but in a private module, so that only this crate
    /// can name it — no other store can claim to vouch for its records.
    ///
    /// [`Store::load_login_vouched`]: super::Store::load_login_vouched
    #[allow(unreachable_pub)] // on purpose: nameable by the trait, not outside
    #[derive(Debug, Clone, Copy)]
    pub struct Sealed(pub(crate) ());

    /// A record as [`Store::load_login_vouched`] answers it: as
    /// [`Versioned`], but its bytes may be shared with the store that
    /// holds them (the in-memory store's: a login takes a reference
    /// instead of allocating, copying and wiping a copy of each record).
    /// The bytes are wiped when the last holder drops them.
    ///
    /// [`Store::load_login_vouched`]: super::Store::load_login_vouched
    ///
    /// `Debug` shows the version and length, never the bytes (an account
    /// record holds its TOTP secret).
    #[allow(unreachable_pub)] // on purpose: nameable by the trait, not outside
    #[derive(Clone, PartialEq, Eq)]
    pub struct Loaded {
        pub(crate) version: u64,
        pub(crate) bytes: Arc<Zeroizing<Vec<u8>>>,
    }

    impl Loaded {
        /// The record's bytes.
        pub(crate) fn bytes(&self) -> &[u8] {
            &self.bytes
        }
    }

    impl core::fmt::Debug for Loaded {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("Loaded")
                .field("version", &self.version)
                .field("len", &self.bytes.len())
                .finish_non_exhaustive()
        }
    }

    impl From<Versioned> for Loaded {
        fn from(Versioned { version, bytes }: Versioned) -> Self {
            Self {
                version,
                bytes: Arc::new(bytes),
            }
        }
    }
}

/// A record as loaded: its bytes and the version to compare against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The store's version of the record.
    pub version: u64,
    /// The record's encoding; it may contain secrets, hence wiped on drop.
    pub bytes: Zeroizing<Vec<u8>>,
}

/// Result of a compare-and-swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasOutcome {
    /// The write happened; the record now has this version (for a delete,
    /// the version the deletion consumed).
    Stored {
        /// New version.
        version: u64,
    },
    /// The record was not at the expected version: someone else wrote it
    /// first. Nothing was changed; load again and redo the decision.
    Conflict,
}

/// A record as listed by [`Store::scan`]: its key and its versioned bytes.
pub type ScannedRecord = (Vec<u8>, Versioned);

/// A place to keep records, with atomic compare-and-swap per key.
///
/// Implementations must be linearizable per key: a `compare_and_swap` that
/// returns [`CasOutcome::Stored`] happened after every write it observed and
/// before every load that sees it. They must never reuse a version for a
/// key, not even after the record is deleted and created again (a
/// store-wide counter does it): the engine compares against versions it
/// read earlier — in [`Engine::check_login`], before the host's password
/// check — and a reused version would let such a stale write replace a
/// newer record (an account removed and enrolled again would get its old
/// secret back). They must be safe to call from many threads at once.
///
/// [`Engine::check_login`]: crate::engine::Engine::check_login
///
/// A host with its own database implements these methods over it. The shape
/// of one, as a wrapper that counts the writes of a [`MemoryStore`] it
/// delegates to:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// use mail2fa::engine::{AccountId, Engine, EngineConfig};
/// use mail2fa::store::{CasOutcome, MemoryStore, ScannedRecord, Store, StoreError, Versioned};
/// use mail2fa::Totp;
///
/// #[derive(Default)]
/// struct CountingStore {
///     inner: MemoryStore,
///     writes: AtomicU64,
/// }
///
/// impl Store for CountingStore {
///     fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
///         self.inner.load(key)
///     }
///
///     fn compare_and_swap(
///         &self,
///         key: &[u8],
///         expected: Option<u64>,
///         new: Option<&[u8]>,
///     ) -> Result<CasOutcome, StoreError> {
///         let outcome = self.inner.compare_and_swap(key, expected, new)?;
///         if let CasOutcome::Stored { .. } = outcome {
///             self.writes.fetch_add(1, Ordering::Relaxed);
///         }
///         Ok(outcome)
///     }
///
///     // `scan` (maintenance) and `scrub` (after a removal) have defaults; a
///     // wrapper passes them on. (`load_many` and `load_login_vouched` keep
///     // theirs here: correct, only slower than the memory store's own.)
///     fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
///         self.inner.scan(after, limit)
///     }
///
///     fn scrub(&self) -> Result<(), StoreError> {
///         self.inner.scrub()
///     }
/// }
///
/// let engine = Engine::new(CountingStore::default(), EngineConfig::default())?;
/// let alice = AccountId::new("example.com", "alice@example.com")?;
/// let now = 1_800_000_000;
/// engine.enable_platform("example.com", true)?;
/// let phone = Totp::from_uri(&engine.enable_account(&alice, now)?)?;
/// engine.confirm_enrollment(&alice, phone.generate(now)?.as_str(), now)?;
///
/// // A code login is one write (the code is spent); its replay writes nothing.
/// let writes = || engine.store().writes.load(Ordering::Relaxed);
/// let before = writes();
/// let code = phone.generate(now + 60)?;
/// assert!(engine.login(&alice, Some(code.as_str()), now + 60)?.is_allowed());
/// assert_eq!(writes(), before + 1);
/// assert!(!engine.login(&alice, Some(code.as_str()), now + 65)?.is_allowed());
/// assert_eq!(writes(), before + 1);
/// # Ok::<(), mail2fa::Error>(())
/// ```
///
/// [`MemoryStore`]: crate::store::MemoryStore
pub trait Store: Send + Sync {
    /// The record under `key`, or `None` if there is none.
    ///
    /// # Errors
    /// [`StoreError`] if the backend cannot answer; callers refuse the login.
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError>;

    /// The records under `keys`, in the order of `keys` (`None` where
    /// there is none): what one login reads — the account's record, its
    /// platform's and its clients record — asked for at once, so that a
    /// backend can answer in one round trip (one statement) instead of one
    /// per key. The default loads them one by one.
    ///
    /// # Errors
    /// [`StoreError`] if the backend cannot answer; callers refuse the login.
    fn load_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Versioned>>, StoreError> {
        keys.iter().map(|key| self.load(key)).collect()
    }

    /// [`Store::load_many`] of a login's three records (the account's, its
    /// platform's, its clients record), each answer with whether the store vouches
    /// for the record's integrity check: `true` only for bytes that passed
    /// mail2fa's record check (magic, format version, length, checksum)
    /// when they were written and that nothing could change since — the
    /// in-memory store's. The engine then does not compute the checksum
    /// again on a login (it still checks the rest). For a key without a
    /// record: whether one there would be vouched for, so that the decoys
    /// of an account without 2FA cost what its records would.
    ///
    /// Only this crate's stores can vouch: the argument's type cannot be
    /// named elsewhere, so other stores keep the default (no vouching: a
    /// file's or a database's bytes are checked on every read, which is
    /// what catches a torn write or a flipped bit).
    ///
    /// # Errors
    /// As [`Store::load_many`].
    #[doc(hidden)]
    fn load_login_vouched(
        &self,
        keys: [&[u8]; 3],
        _: Sealed,
    ) -> Result<[(Option<Loaded>, bool); 3], StoreError> {
        let loaded =
            <[_; 3]>::try_from(self.load_many(&keys)?).map_err(|_| StoreError::wrong_count())?;
        Ok(loaded.map(|record| (record.map(Loaded::from), false)))
    }

    /// Replaces the record under `key` with `new` (`None` deletes it), but
    /// only if its current version is `expected` (`None`: only if there is no
    /// record).
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails; then nothing may have been written.
    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError>;

    /// [`Store::compare_and_swap`] for a write that a power failure or an
    /// operating system crash may lose, though a crash of the process may
    /// not: the engine's count of wrong codes when it starts no lock, which
    /// a refused guess must not pay a synchronous disk write for. Never a
    /// consumed code, a lock or any other change of 2FA's state. Atomic and
    /// linearizable as `compare_and_swap`; a later durable write makes it
    /// durable too. The default is `compare_and_swap` (durable).
    ///
    /// # Errors
    /// As [`Store::compare_and_swap`].
    fn compare_and_swap_relaxed(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.compare_and_swap(key, expected, new)
    }

    /// [`Store::compare_and_swap`] (or, `relaxed`,
    /// [`Store::compare_and_swap_relaxed`]) of a record this crate has
    /// just encoded: intact by construction, so a store that checks what
    /// it is written, for [`Store::load_login_vouched`] (the in-memory
    /// store), need not hash it again. Only this crate can call it (the
    /// argument's type cannot be named elsewhere), and only with such a
    /// record; other stores keep the default, the plain write.
    ///
    /// # Errors
    /// As [`Store::compare_and_swap`].
    #[doc(hidden)]
    fn compare_and_swap_encoded(
        &self,
        key: &[u8],
        expected: Option<u64>,
        record: &[u8],
        relaxed: bool,
        _: Sealed,
    ) -> Result<CasOutcome, StoreError> {
        if relaxed {
            self.compare_and_swap_relaxed(key, expected, Some(record))
        } else {
            self.compare_and_swap(key, expected, Some(record))
        }
    }

    /// At most `limit` records whose key is after `after` (all when `None`),
    /// in key order — for maintenance, which walks the store in bounded
    /// batches. Stores that cannot list keep the default.
    ///
    /// # Errors
    /// [`StoreError::Unsupported`] by default; backend errors.
    fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
        let _ = (after, limit);
        Err(StoreError::Unsupported)
    }

    /// Makes what deleted and overwritten records held (old secrets) leave
    /// the backend's files now rather than at some later maintenance: the
    /// engine calls it after removing or resetting an account. A store that
    /// keeps nothing behind keeps the default (nothing to do).
    ///
    /// # Errors
    /// Backend errors (the records themselves are already gone or replaced).
    fn scrub(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A store behind a pointer is a store: a box, so that hosts choose the
/// backend at run time (`Engine<Box<dyn Store>>`, as the C library does); an
/// `Arc` or a reference, so that several engines (other configurations,
/// other keys) share one store, as processes share a database file.
macro_rules! forward_store {
    ($($pointer:ty),+) => {$(
        impl<T: Store + ?Sized> Store for $pointer {
            fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
                (**self).load(key)
            }

            fn load_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Versioned>>, StoreError> {
                (**self).load_many(keys)
            }

            fn load_login_vouched(
                &self,
                keys: [&[u8]; 3],
                sealed: Sealed,
            ) -> Result<[(Option<Loaded>, bool); 3], StoreError> {
                (**self).load_login_vouched(keys, sealed)
            }

            fn compare_and_swap(
                &self,
                key: &[u8],
                expected: Option<u64>,
                new: Option<&[u8]>,
            ) -> Result<CasOutcome, StoreError> {
                (**self).compare_and_swap(key, expected, new)
            }

            fn compare_and_swap_relaxed(
                &self,
                key: &[u8],
                expected: Option<u64>,
                new: Option<&[u8]>,
            ) -> Result<CasOutcome, StoreError> {
                (**self).compare_and_swap_relaxed(key, expected, new)
            }

            fn compare_and_swap_encoded(
                &self,
                key: &[u8],
                expected: Option<u64>,
                record: &[u8],
                relaxed: bool,
                sealed: Sealed,
            ) -> Result<CasOutcome, StoreError> {
                (**self).compare_and_swap_encoded(key, expected, record, relaxed, sealed)
            }

            fn scan(
                &self,
                after: Option<&[u8]>,
                limit: usize,
            ) -> Result<Vec<ScannedRecord>, StoreError> {
                (**self).scan(after, limit)
            }

            fn scrub(&self) -> Result<(), StoreError> {
                (**self).scrub()
            }
        }
    )+};
}

forward_store!(Box<T>, std::sync::Arc<T>, &T);
