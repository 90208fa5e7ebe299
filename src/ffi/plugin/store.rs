//! A PostgreSQL store through the plugin: [`PluginStore`], a [`Store`]
//! whose every call is one call of the plugin's table (which runs the
//! linked `PostgresStore`'s method of the same name), and the two things
//! the C library asks of it: opening a store, and checking a connection
//! string for the configuration file.

use core::ffi::c_void;
use core::ptr::NonNull;
use std::panic::{AssertUnwindSafe, catch_unwind};

use zeroize::Zeroizing;

use super::abi::{Bytes, Failure, Options, Record, STATUS_OK, Table, error_of};
use super::loader::{PluginError, plugin};
use crate::store::{CasOutcome, ScannedRecord, Store, StoreError, Versioned};

#[cfg(feature = "postgres")]
pub(crate) use crate::store::PostgresOptions;

/// How to open the store (the fields of `PostgresOptions` a C host or a
/// configuration file sets), where the crate has no `PostgresStore`.
#[cfg(not(feature = "postgres"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PostgresOptions {
    /// As `PostgresOptions::max_connections` (default 4).
    pub(crate) max_connections: usize,
    /// As `PostgresOptions::timeout` (default 5 s).
    pub(crate) timeout: std::time::Duration,
    /// As `PostgresOptions::create` (default `false`).
    pub(crate) create: bool,
}

#[cfg(not(feature = "postgres"))]
impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            max_connections: 4,
            timeout: std::time::Duration::from_secs(5),
            create: false,
        }
    }
}

/// A store opened by the plugin: its handle and table. Closed on drop.
pub(crate) struct PluginStore {
    table: &'static Table,
    handle: NonNull<c_void>,
}

// SAFETY: the handle is a `PostgresStore` of the plugin, which is Send and
// Sync (a pool shared by threads); the table is static and immutable.
unsafe impl Send for PluginStore {}
// SAFETY: as above.
unsafe impl Sync for PluginStore {}

impl core::fmt::Debug for PluginStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PluginStore").finish_non_exhaustive()
    }
}

impl Drop for PluginStore {
    fn drop(&mut self) {
        // SAFETY: the handle `open` made, closed once.
        unsafe { (self.table.close)(self.handle.as_ptr()) };
    }
}

/// Opens a PostgreSQL store through the plugin (loaded on the first call).
///
/// # Errors
/// The plugin missing or refused; the store's own errors, as
/// `PostgresStore::open_with` has them.
pub(crate) fn open_postgres(
    conninfo: &str,
    options: &PostgresOptions,
) -> Result<PluginStore, OpenError> {
    let table = plugin().map_err(OpenError::Plugin)?;
    let options = Options {
        max_connections: options.max_connections,
        timeout_ms: u64::try_from(options.timeout.as_millis()).unwrap_or(u64::MAX),
        create: u8::from(options.create),
    };
    let mut handle = core::ptr::null_mut();
    let mut failure = FailureText::default();
    // SAFETY: every pointer is live for the call; the table is checked.
    let status = unsafe {
        (table.open)(
            Bytes::of(conninfo.as_bytes()),
            &options,
            &mut handle,
            failure.as_failure(),
        )
    };
    failure.result(status).map_err(OpenError::Store)?;
    let handle = NonNull::new(handle).ok_or_else(|| {
        OpenError::Store(StoreError::Backend(
            "the PostgreSQL plugin opened no store".into(),
        ))
    })?;
    Ok(PluginStore { table, handle })
}

/// The connection string checked as `PostgresStore::plan` does (without
/// connecting), and its redacted form (`redact_connection_string`).
///
/// # Errors
/// [`StoreError::Backend`]: the plugin is missing or refused (its message
/// says which and what to install), or the string does not parse.
pub(crate) fn plan_and_redact(conninfo: &str) -> Result<String, StoreError> {
    let table = plugin()?;
    let mut redacted = String::new();
    let mut failure = FailureText::default();
    // SAFETY: every pointer is live for the call; the sink copies.
    let status = unsafe {
        (table.plan)(
            Bytes::of(conninfo.as_bytes()),
            receive_text,
            (&raw mut redacted).cast(),
            failure.as_failure(),
        )
    };
    failure.result(status)?;
    Ok(redacted)
}

/// Why a store could not be opened through the plugin.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// No plugin, or one refused.
    Plugin(PluginError),
    /// The plugin's store refused to open.
    Store(StoreError),
}

impl From<OpenError> for StoreError {
    fn from(error: OpenError) -> Self {
        match error {
            OpenError::Plugin(error) => error.into(),
            OpenError::Store(error) => error,
        }
    }
}

/// A call's failure: the text the plugin sends, and the [`Failure`] that
/// points to it.
#[derive(Default)]
struct FailureText {
    text: String,
    failure: Option<Failure>,
}

impl FailureText {
    /// The [`Failure`] to pass to a call, valid while `self` is not moved.
    fn as_failure(&mut self) -> *mut Failure {
        let context = (&raw mut self.text).cast();
        self.failure.insert(Failure {
            context,
            text: receive_text,
            attempts: 0,
        })
    }

    /// The call's result from its status.
    fn result(self, status: u32) -> Result<(), StoreError> {
        if status == STATUS_OK {
            return Ok(());
        }
        let attempts = self.failure.map_or(0, |failure| failure.attempts);
        Err(error_of(status, self.text, attempts))
    }
}

/// The [`TextSink`](super::abi::TextSink): appends to the `String` behind
/// `context`.
///
/// # Safety
/// `context` is a live `String`; `text` is valid for the call.
unsafe extern "C" fn receive_text(context: *mut c_void, text: Bytes) {
    // A panic must not unwind into the plugin: at worst the text is lost.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract.
        let (target, text) = unsafe { (&mut *context.cast::<String>(), text.as_slice()) };
        target.push_str(&String::from_utf8_lossy(text));
    }));
}

/// A record as the plugin answered it: its key, and the record if found.
type Answered = (Vec<u8>, Option<Versioned>);

/// What a [`RecordSink`](super::abi::RecordSink) collects.
#[derive(Default)]
struct Records {
    records: Vec<Answered>,
    /// A panic while copying one (no memory): the answer is incomplete.
    broken: bool,
}

/// The record sink: copies the record into the [`Records`] behind
/// `context`.
///
/// # Safety
/// `context` is a live `Records`; `record` is valid for the call.
unsafe extern "C" fn receive_record(context: *mut c_void, record: *const Record) {
    // SAFETY: per the contract.
    let records = unsafe { &mut *context.cast::<Records>() };
    let copied = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract.
        let record = unsafe { &*record };
        // SAFETY: borrowed for this call, copied now.
        let (key, value) = unsafe { (record.key.as_slice(), record.value.as_slice()) };
        let versioned = (record.found != 0).then(|| Versioned {
            version: record.version,
            bytes: Zeroizing::new(value.to_vec()),
        });
        records.records.push((key.to_vec(), versioned));
    }));
    if copied.is_err() {
        records.broken = true;
    }
}

impl PluginStore {
    /// Runs `call` with a fresh record collector and failure, and checks
    /// the answer.
    fn collect(
        &self,
        call: impl FnOnce(*mut c_void, *mut Failure) -> u32,
    ) -> Result<Vec<Answered>, StoreError> {
        let mut records = Records::default();
        let mut failure = FailureText::default();
        let status = call((&raw mut records).cast(), failure.as_failure());
        failure.result(status)?;
        if records.broken {
            return Err(StoreError::Backend(
                "a record from the PostgreSQL plugin could not be copied".into(),
            ));
        }
        Ok(records.records)
    }

    fn swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
        relaxed: bool,
    ) -> Result<CasOutcome, StoreError> {
        let new = new.map(Bytes::of);
        let (mut stored, mut version) = (0u8, 0u64);
        let mut failure = FailureText::default();
        // SAFETY: every pointer is live for the call.
        let status = unsafe {
            (self.table.compare_and_swap)(
                self.handle.as_ptr(),
                Bytes::of(key),
                expected
                    .as_ref()
                    .map_or(core::ptr::null(), core::ptr::from_ref),
                new.as_ref().map_or(core::ptr::null(), core::ptr::from_ref),
                u8::from(relaxed),
                &mut stored,
                &mut version,
                failure.as_failure(),
            )
        };
        failure.result(status)?;
        Ok(if stored != 0 {
            CasOutcome::Stored { version }
        } else {
            CasOutcome::Conflict
        })
    }
}

/// The records of a load, one per key in order, or an error if the plugin
/// answered for other keys.
fn in_order(keys: &[&[u8]], records: Vec<Answered>) -> Result<Vec<Option<Versioned>>, StoreError> {
    if records.len() != keys.len()
        || records
            .iter()
            .zip(keys)
            .any(|((key, _), asked)| key.as_slice() != *asked)
    {
        return Err(StoreError::Backend(format!(
            "the PostgreSQL plugin answered {} records for {} keys",
            records.len(),
            keys.len()
        )));
    }
    Ok(records.into_iter().map(|(_, record)| record).collect())
}

impl Store for PluginStore {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        let records = self.collect(|context, failure| {
            // SAFETY: every pointer is live for the call.
            unsafe {
                (self.table.load)(
                    self.handle.as_ptr(),
                    Bytes::of(key),
                    receive_record,
                    context,
                    failure,
                )
            }
        })?;
        Ok(in_order(&[key], records)?.pop().flatten())
    }

    fn load_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Versioned>>, StoreError> {
        let borrowed: Vec<Bytes> = keys.iter().map(|key| Bytes::of(key)).collect();
        let records = self.collect(|context, failure| {
            // SAFETY: every pointer is live for the call.
            unsafe {
                (self.table.load_many)(
                    self.handle.as_ptr(),
                    borrowed.as_ptr(),
                    borrowed.len(),
                    receive_record,
                    context,
                    failure,
                )
            }
        })?;
        in_order(keys, records)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.swap(key, expected, new, false)
    }

    fn compare_and_swap_relaxed(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.swap(key, expected, new, true)
    }

    fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
        let after = after.map(Bytes::of);
        let records = self.collect(|context, failure| {
            // SAFETY: every pointer is live for the call.
            unsafe {
                (self.table.scan)(
                    self.handle.as_ptr(),
                    after
                        .as_ref()
                        .map_or(core::ptr::null(), core::ptr::from_ref),
                    limit,
                    receive_record,
                    context,
                    failure,
                )
            }
        })?;
        records
            .into_iter()
            .map(|(key, record)| {
                record.map(|record| (key, record)).ok_or_else(|| {
                    StoreError::Backend("the PostgreSQL plugin listed an empty record".into())
                })
            })
            .collect()
    }

    fn scrub(&self) -> Result<(), StoreError> {
        let mut failure = FailureText::default();
        // SAFETY: every pointer is live for the call.
        let status = unsafe { (self.table.scrub)(self.handle.as_ptr(), failure.as_failure()) };
        failure.result(status)
    }
}
