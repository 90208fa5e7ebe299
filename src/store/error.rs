//! What can go wrong in a store.

/// What can go wrong in a storage backend. Every one of these refuses the
/// login (fail closed); none is ever read as "2FA disabled".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (I/O, connection, lock poisoned by a crash...).
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// A read-modify-write kept losing the race and gave up.
    #[error("storage contention: the record kept changing, gave up after {attempts} attempts")]
    Contention {
        /// Attempts made.
        attempts: u32,
    },
    /// A key longer than [`MAX_KEY_LEN`](crate::store::MAX_KEY_LEN) or a
    /// record larger than [`MAX_RECORD_LEN`](crate::store::MAX_RECORD_LEN).
    #[error("key or record too large for the store")]
    TooLarge,
    /// The store cannot list its records (maintenance needs
    /// [`Store::scan`](crate::store::Store::scan)).
    #[error("this store cannot list its records")]
    Unsupported,
}

impl StoreError {
    /// For a store that answered [`Store::load_many`] with another number
    /// of records than keys.
    ///
    /// [`Store::load_many`]: crate::store::Store::load_many
    pub(crate) fn wrong_count() -> Self {
        Self::Backend("the store answered a different number of records than asked for".into())
    }
}
