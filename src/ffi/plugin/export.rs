//! The plugin's side: [`PostgresStore`] behind the table of
//! [`abi`](super::abi), returned by the one entry point
//! `m2fa_postgres_plugin_v1`. Every function runs its body under
//! `catch_unwind`: a panic becomes [`STATUS_PANIC`], never an unwind into
//! the loader.

use core::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use super::abi::{
    ABI_VERSION, Bytes, Failure, Options, Record, RecordSink, STATUS_OK, STATUS_PANIC, Table,
    TextSink, VERSION, status_of,
};
use crate::store::{
    CasOutcome, PostgresOptions, PostgresStore, Store, StoreError, Versioned,
    redact_connection_string,
};

static TABLE: Table = Table {
    abi_version: ABI_VERSION,
    version: VERSION.as_ptr().cast(),
    open: Some(open),
    close: Some(close),
    load: Some(load),
    load_many: Some(load_many),
    compare_and_swap: Some(compare_and_swap),
    scan: Some(scan),
    scrub: Some(scrub),
    plan: Some(plan),
};

/// The plugin's entry point: its table, static, for as long as the plugin
/// is loaded.
#[unsafe(no_mangle)]
pub(crate) extern "C" fn m2fa_postgres_plugin_v1() -> *const Table {
    &TABLE
}

/// Runs `body`; its error, or a panic, is reported through `failure`.
///
/// # Safety
/// `failure` points to a live [`Failure`] of the loader.
unsafe fn run(failure: *mut Failure, body: impl FnOnce() -> Result<(), StoreError>) -> u32 {
    let error = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return STATUS_OK,
        Ok(Err(error)) => error,
        Err(_) => return STATUS_PANIC,
    };
    // SAFETY: a live Failure per the caller's contract.
    let failure = unsafe { &mut *failure };
    match &error {
        StoreError::Backend(text) => {
            // SAFETY: the loader's sink copies the text during the call.
            unsafe { (failure.text)(failure.context, Bytes::of(text.as_bytes())) };
        }
        StoreError::Contention { attempts } => failure.attempts = *attempts,
        _ => {}
    }
    status_of(&error)
}

/// The bytes the loader passed.
///
/// # Safety
/// As [`Bytes::as_slice`].
unsafe fn slice<'a>(bytes: Bytes) -> Result<&'a [u8], StoreError> {
    // SAFETY: per the caller's contract.
    unsafe { bytes.as_slice() }.ok_or_else(|| {
        StoreError::Backend("the C library passed a NULL pointer with a length".into())
    })
}

/// The store behind a handle.
///
/// # Safety
/// `store` came from [`open`] and is not closed.
unsafe fn store<'a>(store: *const c_void) -> &'a PostgresStore {
    // SAFETY: a live Box<PostgresStore> per the caller's contract.
    unsafe { &*store.cast::<PostgresStore>() }
}

/// Hands one record to the loader's sink.
///
/// # Safety
/// `sink` and `context` are the loader's, live for the call.
unsafe fn send(sink: RecordSink, context: *mut c_void, key: &[u8], record: Option<&Versioned>) {
    let record = Record {
        key: Bytes::of(key),
        found: u8::from(record.is_some()),
        version: record.map_or(0, |r| r.version),
        value: Bytes::of(record.map_or(&[][..], |r| &r.bytes[..])),
    };
    // SAFETY: the sink copies the borrowed record during the call.
    unsafe { sink(context, &record) };
}

unsafe extern "C" fn open(
    conninfo: Bytes,
    options: *const Options,
    out: *mut *mut c_void,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: the loader's contract on each argument (abi.rs).
    unsafe {
        run(failure, || {
            let conninfo = std::str::from_utf8(slice(conninfo)?)
                .map_err(|_| StoreError::Backend("the connection string is not UTF-8".into()))?;
            let options = &*options;
            let options = PostgresOptions::default()
                .with_max_connections(options.max_connections)
                .with_timeout(Duration::from_millis(options.timeout_ms))
                .with_create(options.create != 0);
            let opened = PostgresStore::open_with(conninfo, &options)?;
            out.write(Box::into_raw(Box::new(opened)).cast());
            Ok(())
        })
    }
}

unsafe extern "C" fn close(store: *mut c_void) {
    if !store.is_null() {
        // A panic while closing connections is swallowed: there is nobody
        // left to tell, and it must not unwind into the loader.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: made by Box::into_raw in `open`, closed once.
            drop(unsafe { Box::from_raw(store.cast::<PostgresStore>()) });
        }));
    }
}

unsafe extern "C" fn load(
    handle: *const c_void,
    key: Bytes,
    sink: RecordSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: the loader's contract on each argument (abi.rs).
    unsafe {
        run(failure, || {
            let key = slice(key)?;
            let record = store(handle).load(key)?;
            send(sink, context, key, record.as_ref());
            Ok(())
        })
    }
}

unsafe extern "C" fn load_many(
    handle: *const c_void,
    keys: *const Bytes,
    count: usize,
    sink: RecordSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: the loader's contract on each argument (abi.rs).
    unsafe {
        run(failure, || {
            let keys: Vec<&[u8]> = if count == 0 {
                Vec::new()
            } else if keys.is_null() {
                return Err(StoreError::Backend(
                    "the C library passed no keys with a count".into(),
                ));
            } else {
                core::slice::from_raw_parts(keys, count)
                    .iter()
                    .map(|key| slice(*key))
                    .collect::<Result<_, _>>()?
            };
            let records = store(handle).load_many(&keys)?;
            for (key, record) in keys.iter().zip(&records) {
                send(sink, context, key, record.as_ref());
            }
            Ok(())
        })
    }
}

unsafe extern "C" fn compare_and_swap(
    handle: *const c_void,
    key: Bytes,
    expected: *const u64,
    new: *const Bytes,
    relaxed: u8,
    stored: *mut u8,
    version: *mut u64,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: the loader's contract on each argument (abi.rs).
    unsafe {
        run(failure, || {
            let store = store(handle);
            let (key, expected) = (slice(key)?, expected.as_ref().copied());
            let new = match new.as_ref() {
                Some(new) => Some(slice(*new)?),
                None => None,
            };
            let outcome = if relaxed != 0 {
                store.compare_and_swap_relaxed(key, expected, new)?
            } else {
                store.compare_and_swap(key, expected, new)?
            };
            match outcome {
                CasOutcome::Stored { version: new } => {
                    stored.write(1);
                    version.write(new);
                }
                CasOutcome::Conflict => stored.write(0),
            }
            Ok(())
        })
    }
}

unsafe extern "C" fn scan(
    handle: *const c_void,
    after: *const Bytes,
    limit: usize,
    sink: RecordSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: the loader's contract on each argument (abi.rs).
    unsafe {
        run(failure, || {
            let after = match after.as_ref() {
                Some(after) => Some(slice(*after)?),
                None => None,
            };
            for (key, record) in store(handle).scan(after, limit)? {
                send(sink, context, &key, Some(&record));
            }
            Ok(())
        })
    }
}

unsafe extern "C" fn scrub(handle: *const c_void, failure: *mut Failure) -> u32 {
    // SAFETY: the loader's contract on each argument (abi.rs).
    unsafe { run(failure, || store(handle).scrub()) }
}

unsafe extern "C" fn plan(
    conninfo: Bytes,
    redacted: TextSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: the loader's contract on each argument (abi.rs).
    unsafe {
        run(failure, || {
            let conninfo = std::str::from_utf8(slice(conninfo)?)
                .map_err(|_| StoreError::Backend("the connection string is not UTF-8".into()))?;
            PostgresStore::plan(conninfo)?;
            let text = redact_connection_string(conninfo);
            redacted(context, Bytes::of(text.as_bytes()));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::abi::{DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT_SECS};
    use super::*;

    #[test]
    fn the_c_librarys_default_options_are_the_stores() {
        let defaults = PostgresOptions::default();
        assert_eq!(defaults.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(defaults.timeout, Duration::from_secs(DEFAULT_TIMEOUT_SECS));
        assert!(!defaults.create);
    }
}
