//! The contract between `libmail2fa-postgres.so` and the object that loads
//! it: the table the plugin's one entry point returns, and the plain C
//! values its functions trade in. Nothing Rust-specific crosses (no `Vec`,
//! no `String`, no `Result`, no unwinding): the two sides are separate
//! Rust programs, each with its own standard library and allocator.
//! Records and messages come back through sinks, functions of the loader
//! that copy what they are given before they return.

use core::ffi::{c_char, c_void};

use crate::store::StoreError;

/// The layout of [`Table`]. A plugin of another ABI is refused before any
/// other field of its table is read.
pub(crate) const ABI_VERSION: u32 = 1;

/// The function the plugin exports (`m2fa_` prefix, as every C symbol of
/// the project): `const m2fa_postgres_plugin *m2fa_postgres_plugin_v1(void)`.
pub(crate) const ENTRY_POINT: &core::ffi::CStr = c"m2fa_postgres_plugin_v1";

/// The plugin's file name, in the directories the loader searches.
pub(crate) const FILE_NAME: &str = "libmail2fa-postgres.so";

/// The Debian package that ships it (scripts/build-debs.sh).
pub(crate) const PACKAGE: &str = "mail2fa-postgres";

/// This crate's version, NUL-terminated: the plugin's and the loader's
/// must be the same (the table's layout, the store's behaviour and its
/// schema version are those of one release).
pub(crate) const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// `PostgresOptions::default().max_connections`, for the C library's copy
/// of the options where the crate has no `PostgresStore` (the plugin's
/// tests check that the two agree).
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 4;

/// `PostgresOptions::default().timeout`, in seconds (as above).
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 5;

/// A call succeeded.
pub(crate) const STATUS_OK: u32 = 0;
/// [`StoreError::Backend`], its text in the failure.
pub(crate) const STATUS_BACKEND: u32 = 1;
/// [`StoreError::Contention`], its attempts in the failure.
pub(crate) const STATUS_CONTENTION: u32 = 2;
/// [`StoreError::TooLarge`].
pub(crate) const STATUS_TOO_LARGE: u32 = 3;
/// [`StoreError::Unsupported`].
pub(crate) const STATUS_UNSUPPORTED: u32 = 4;
/// The plugin panicked (caught there; the call did nothing it reports).
pub(crate) const STATUS_PANIC: u32 = 5;

/// Borrowed bytes: `ptr` is valid for `len` bytes during the call (NULL
/// only with `len` 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bytes {
    pub(crate) ptr: *const u8,
    pub(crate) len: usize,
}

impl Bytes {
    /// Borrows `slice` for a call.
    pub(crate) fn of(slice: &[u8]) -> Self {
        Self {
            ptr: slice.as_ptr(),
            len: slice.len(),
        }
    }

    /// The bytes, or `None` if they cannot be: NULL with a length that is
    /// not 0, or a length no slice can have (over `isize::MAX`).
    ///
    /// # Safety
    /// A non-NULL `ptr` is valid for `len` bytes for `'a`.
    pub(crate) unsafe fn as_slice<'a>(self) -> Option<&'a [u8]> {
        if self.len == 0 {
            Some(&[])
        } else if self.ptr.is_null() || self.len > isize::MAX as usize {
            None
        } else {
            // SAFETY: valid for len bytes per the caller's contract.
            Some(unsafe { core::slice::from_raw_parts(self.ptr, self.len) })
        }
    }
}

/// A record handed to a [`RecordSink`]: `found` 0 for a key without one
/// (then `version` and `value` mean nothing).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    pub(crate) key: Bytes,
    pub(crate) found: u8,
    pub(crate) version: u64,
    pub(crate) value: Bytes,
}

/// Receives one record (`load`, `load_many`: one call per key, in the
/// order of the keys; `scan`: one per record listed, keys ascending). The
/// record is borrowed for the call only.
pub(crate) type RecordSink = unsafe extern "C" fn(context: *mut c_void, record: *const Record);

/// Receives text (UTF-8), borrowed for the call only.
pub(crate) type TextSink = unsafe extern "C" fn(context: *mut c_void, text: Bytes);

/// Where a failing call says why: its text (no password: the store's
/// messages never carry one) through `text`, the attempts of a
/// contention in `attempts`.
#[repr(C)]
pub(crate) struct Failure {
    pub(crate) context: *mut c_void,
    pub(crate) text: TextSink,
    pub(crate) attempts: u32,
}

/// The `PostgresOptions` a C host or a configuration file can set.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) max_connections: usize,
    pub(crate) timeout_ms: u64,
    pub(crate) create: u8,
}

/// `PostgresStore::open_with`; on success `*store` is the handle.
pub(crate) type OpenFn = unsafe extern "C" fn(
    conninfo: Bytes,
    options: *const Options,
    store: *mut *mut c_void,
    failure: *mut Failure,
) -> u32;

/// Closes the store's connections and frees the handle.
pub(crate) type CloseFn = unsafe extern "C" fn(store: *mut c_void);

/// `Store::load`: one record to `sink`.
pub(crate) type LoadFn = unsafe extern "C" fn(
    store: *const c_void,
    key: Bytes,
    sink: RecordSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32;

/// `Store::load_many`: one statement; `count` records to `sink`.
pub(crate) type LoadManyFn = unsafe extern "C" fn(
    store: *const c_void,
    keys: *const Bytes,
    count: usize,
    sink: RecordSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32;

/// `Store::compare_and_swap` (`relaxed` 0) or `compare_and_swap_relaxed`
/// (1): `expected` NULL for "no record", `new` NULL to delete. On success
/// `*stored` is 1 and `*version` the new version, or `*stored` is 0 for a
/// conflict.
pub(crate) type CompareAndSwapFn = unsafe extern "C" fn(
    store: *const c_void,
    key: Bytes,
    expected: *const u64,
    new: *const Bytes,
    relaxed: u8,
    stored: *mut u8,
    version: *mut u64,
    failure: *mut Failure,
) -> u32;

/// `Store::scan`: `after` NULL for the first records; at most `limit`.
pub(crate) type ScanFn = unsafe extern "C" fn(
    store: *const c_void,
    after: *const Bytes,
    limit: usize,
    sink: RecordSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32;

/// `Store::scrub`.
pub(crate) type ScrubFn = unsafe extern "C" fn(store: *const c_void, failure: *mut Failure) -> u32;

/// `PostgresStore::plan` (the string's checks, no connection), then
/// `redact_connection_string` of the string to `redacted` (called exactly
/// once on success): what the configuration file's checks need.
pub(crate) type PlanFn = unsafe extern "C" fn(
    conninfo: Bytes,
    redacted: TextSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32;

/// What the entry point returns: a static table, valid as long as the
/// plugin is loaded (the loader never unloads a plugin it accepted).
/// `abi_version` and `version` come first in every ABI. The functions are
/// `Option`s because a table comes from another object: a NULL one is
/// refused by the loader, never called. `store` is the handle `open` made;
/// it may be used by many threads at once until `close`.
#[repr(C)]
pub(crate) struct Table {
    /// [`ABI_VERSION`].
    pub(crate) abi_version: u32,
    /// The plugin's [`VERSION`], NUL-terminated.
    pub(crate) version: *const c_char,
    /// [`OpenFn`].
    pub(crate) open: Option<OpenFn>,
    /// [`CloseFn`].
    pub(crate) close: Option<CloseFn>,
    /// [`LoadFn`].
    pub(crate) load: Option<LoadFn>,
    /// [`LoadManyFn`].
    pub(crate) load_many: Option<LoadManyFn>,
    /// [`CompareAndSwapFn`].
    pub(crate) compare_and_swap: Option<CompareAndSwapFn>,
    /// [`ScanFn`].
    pub(crate) scan: Option<ScanFn>,
    /// [`ScrubFn`].
    pub(crate) scrub: Option<ScrubFn>,
    /// [`PlanFn`].
    pub(crate) plan: Option<PlanFn>,
}

/// A checked table's functions, none missing: what the loader hands to
/// the store.
#[cfg(feature = "postgres-plugin")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Functions {
    pub(crate) open: OpenFn,
    pub(crate) close: CloseFn,
    pub(crate) load: LoadFn,
    pub(crate) load_many: LoadManyFn,
    pub(crate) compare_and_swap: CompareAndSwapFn,
    pub(crate) scan: ScanFn,
    pub(crate) scrub: ScrubFn,
    pub(crate) plan: PlanFn,
}

#[cfg(feature = "postgres-plugin")]
impl Functions {
    /// The table's functions, or the name of the first one missing.
    pub(crate) fn of(table: &Table) -> Result<Self, &'static str> {
        Ok(Self {
            open: table.open.ok_or("open")?,
            close: table.close.ok_or("close")?,
            load: table.load.ok_or("load")?,
            load_many: table.load_many.ok_or("load_many")?,
            compare_and_swap: table.compare_and_swap.ok_or("compare_and_swap")?,
            scan: table.scan.ok_or("scan")?,
            scrub: table.scrub.ok_or("scrub")?,
            plan: table.plan.ok_or("plan")?,
        })
    }
}

// SAFETY: the table is immutable; its one pointer is to a static string.
unsafe impl Sync for Table {}

impl core::fmt::Debug for Table {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Table")
            .field("abi_version", &self.abi_version)
            .finish_non_exhaustive()
    }
}

/// The status of a store error.
#[cfg(any(test, feature = "postgres-plugin-export"))]
pub(crate) fn status_of(error: &StoreError) -> u32 {
    match error {
        StoreError::Backend(_) => STATUS_BACKEND,
        StoreError::Contention { .. } => STATUS_CONTENTION,
        StoreError::TooLarge => STATUS_TOO_LARGE,
        StoreError::Unsupported => STATUS_UNSUPPORTED,
    }
}

/// The store error of a status that is not [`STATUS_OK`], with the text
/// and attempts the failure carried.
pub(crate) fn error_of(status: u32, text: String, attempts: u32) -> StoreError {
    match status {
        STATUS_CONTENTION => StoreError::Contention { attempts },
        STATUS_TOO_LARGE => StoreError::TooLarge,
        STATUS_UNSUPPORTED => StoreError::Unsupported,
        STATUS_PANIC => StoreError::Backend("the PostgreSQL plugin failed (a panic)".into()),
        STATUS_BACKEND => StoreError::Backend(text),
        other => StoreError::Backend(format!(
            "the PostgreSQL plugin answered an unknown status ({other})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_store_error_crosses_and_comes_back() {
        for error in [
            StoreError::Backend("connection refused".into()),
            StoreError::Contention { attempts: 7 },
            StoreError::TooLarge,
            StoreError::Unsupported,
        ] {
            let (text, attempts) = match &error {
                StoreError::Backend(text) => (text.clone(), 0),
                StoreError::Contention { attempts } => (String::new(), *attempts),
                _ => (String::new(), 0),
            };
            assert_eq!(error_of(status_of(&error), text, attempts), error);
        }
        assert!(matches!(
            error_of(99, String::new(), 0),
            StoreError::Backend(text) if text.contains("unknown status (99)")
        ));
    }
}
