//! A fake plugin, in-process, for the tests of the loader and the store:
//! a [`Table`] whose functions keep records in memory behind their handle
//! (a [`Fake`]) and answer honestly, or in the one wrong way the test
//! asked for.

use core::ffi::c_void;
use std::collections::BTreeMap;
use std::sync::Mutex;

use super::abi::{
    ABI_VERSION, Bytes, Failure, Functions, Options, Record, RecordSink, STATUS_BACKEND, STATUS_OK,
    Table, TextSink, VERSION,
};

/// A key whose record makes the loader's record sink panic (the only way
/// to test that a panic there is caught: copying a record cannot
/// otherwise panic).
pub(crate) const PANIC_KEY: &[u8] = b"panic in the record sink";

/// Called by the record sink under test: panics on [`PANIC_KEY`].
pub(crate) fn panic_on(key: &[u8]) {
    assert_ne!(key, PANIC_KEY, "a test's panic in the record sink");
}

/// The one wrong answer a [`Fake`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wrong {
    /// Honest answers.
    Nothing,
    /// Every call fails with this status (failure text "scripted failure",
    /// 3 attempts).
    Status(u32),
    /// `load`/`load_many`: one record fewer than keys.
    Fewer,
    /// `load`/`load_many`: one record more.
    More,
    /// `load_many`: the records in reverse order.
    Reordered,
    /// `load_many`: a key NULL with a length.
    NullKey,
    /// `load_many`: `found` 2.
    FoundTwo,
    /// `scan`: one record more than the limit.
    ScanTooMany,
    /// `scan`: keys descending.
    ScanDescending,
    /// `scan`: the `after` key listed too.
    ScanIncludingAfter,
    /// `scan`: a record not found.
    ScanEmpty,
    /// `compare_and_swap`: this `*stored`, status OK.
    CasStored(u8),
}

/// A record held: its version and value.
type Held = (u64, Vec<u8>);

/// A fake store: records (key -> version, value) and its wrong answer.
#[derive(Debug)]
pub(crate) struct Fake {
    records: Mutex<BTreeMap<Vec<u8>, Held>>,
    wrong: Wrong,
}

impl Fake {
    /// A fake holding `records` (each of version 1), answering `wrong`.
    pub(crate) fn new(records: &[(&[u8], &[u8])], wrong: Wrong) -> Self {
        let records = records
            .iter()
            .map(|(key, value)| (key.to_vec(), (1, value.to_vec())))
            .collect();
        Self {
            records: Mutex::new(records),
            wrong,
        }
    }
}

/// The fake's table: this ABI, this version, every function.
pub(crate) fn table() -> Table {
    Table {
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
    }
}

/// The fake's functions, as the loader hands them out.
pub(crate) fn functions() -> &'static Functions {
    static FUNCTIONS: Functions = Functions {
        open,
        close,
        load,
        load_many,
        compare_and_swap,
        scan,
        scrub,
        plan,
    };
    &FUNCTIONS
}

/// A handle as `open` makes it.
pub(crate) fn handle(fake: Fake) -> *mut c_void {
    Box::into_raw(Box::new(fake)).cast()
}

/// Reports `status` through `failure` as the plugin does.
///
/// # Safety
/// `failure` is the loader's, live.
unsafe fn fail(failure: *mut Failure, status: u32) -> u32 {
    // SAFETY: per the contract.
    unsafe {
        let failure = &mut *failure;
        let text = b"scripted failure";
        (failure.text)(failure.context, Bytes::of(text));
        failure.attempts = 3;
    }
    status
}

/// The fake behind a handle.
///
/// # Safety
/// `handle` came from [`handle`] and is not closed.
unsafe fn fake<'a>(handle: *const c_void) -> &'a Fake {
    // SAFETY: per the contract.
    unsafe { &*handle.cast::<Fake>() }
}

/// Sends one record.
///
/// # Safety
/// `sink` and `context` are the loader's.
unsafe fn send(
    sink: RecordSink,
    context: *mut c_void,
    key: Bytes,
    found: u8,
    record: Option<&Held>,
) {
    let record = Record {
        key,
        found,
        version: record.map_or(0, |(version, _)| *version),
        value: Bytes::of(record.map_or(&[][..], |(_, value)| value)),
    };
    // SAFETY: the record is live for the call.
    unsafe { sink(context, &record) };
}

unsafe extern "C" fn open(
    conninfo: Bytes,
    _: *const Options,
    out: *mut *mut c_void,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: the loader's arguments.
    unsafe {
        if conninfo.as_slice() == Some(b"refuse") {
            return fail(failure, STATUS_BACKEND);
        }
        out.write(handle(Fake::new(&[], Wrong::Nothing)));
    }
    STATUS_OK
}

unsafe extern "C" fn close(handle: *mut c_void) {
    // SAFETY: made by `handle`, closed once.
    drop(unsafe { Box::from_raw(handle.cast::<Fake>()) });
}

unsafe extern "C" fn load(
    handle: *const c_void,
    key: Bytes,
    sink: RecordSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: load is load_many of one key.
    unsafe { load_many(handle, &key, 1, sink, context, failure) }
}

unsafe extern "C" fn load_many(
    handle: *const c_void,
    keys: *const Bytes,
    count: usize,
    sink: RecordSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: the loader's arguments.
    unsafe {
        let fake = fake(handle);
        if let Wrong::Status(status) = fake.wrong {
            return fail(failure, status);
        }
        let keys = if count == 0 {
            &[][..]
        } else {
            core::slice::from_raw_parts(keys, count)
        };
        let records = fake
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut answers: Vec<(Bytes, u8, Option<&Held>)> = keys
            .iter()
            .map(|key| {
                let record = key.as_slice().and_then(|key| records.get(key));
                (*key, u8::from(record.is_some()), record)
            })
            .collect();
        match fake.wrong {
            Wrong::Fewer => {
                answers.pop();
            }
            Wrong::More => answers.push((Bytes::of(b"extra"), 0, None)),
            Wrong::Reordered => answers.reverse(),
            Wrong::NullKey => answers[0].0.ptr = core::ptr::null(),
            Wrong::FoundTwo => answers[0].1 = 2,
            _ => {}
        }
        for (key, found, record) in answers {
            send(sink, context, key, found, record);
        }
    }
    STATUS_OK
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn compare_and_swap(
    handle: *const c_void,
    key: Bytes,
    expected: *const u64,
    new: *const Bytes,
    _relaxed: u8,
    stored: *mut u8,
    version: *mut u64,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: the loader's arguments.
    unsafe {
        let fake = fake(handle);
        match fake.wrong {
            Wrong::Status(status) => return fail(failure, status),
            Wrong::CasStored(answer) => {
                stored.write(answer);
                return STATUS_OK;
            }
            _ => {}
        }
        let Some(key) = key.as_slice() else {
            return fail(failure, STATUS_BACKEND);
        };
        let mut records = fake
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = records.get(key).map(|(version, _)| *version);
        if current != expected.as_ref().copied() {
            stored.write(0);
            return STATUS_OK;
        }
        let next = current.map_or(1, |current| current + 1);
        match new.as_ref().and_then(|new| new.as_slice()) {
            Some(new) => {
                records.insert(key.to_vec(), (next, new.to_vec()));
            }
            None => {
                records.remove(key);
            }
        }
        stored.write(1);
        version.write(next);
    }
    STATUS_OK
}

unsafe extern "C" fn scan(
    handle: *const c_void,
    after: *const Bytes,
    limit: usize,
    sink: RecordSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: the loader's arguments.
    unsafe {
        let fake = fake(handle);
        if let Wrong::Status(status) = fake.wrong {
            return fail(failure, status);
        }
        let after = after.as_ref().and_then(|after| after.as_slice());
        let records = fake
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let listed = records.iter().filter(|(key, _)| match after {
            Some(after) if fake.wrong == Wrong::ScanIncludingAfter => key.as_slice() >= after,
            Some(after) => key.as_slice() > after,
            None => true,
        });
        let take = if fake.wrong == Wrong::ScanTooMany {
            limit + 1
        } else {
            limit
        };
        let mut listed: Vec<_> = listed.take(take).collect();
        if fake.wrong == Wrong::ScanDescending {
            listed.reverse();
        }
        for (key, record) in listed {
            let found = u8::from(fake.wrong != Wrong::ScanEmpty);
            send(sink, context, Bytes::of(key), found, Some(record));
        }
    }
    STATUS_OK
}

unsafe extern "C" fn scrub(handle: *const c_void, failure: *mut Failure) -> u32 {
    // SAFETY: the loader's arguments.
    unsafe {
        if let Wrong::Status(status) = fake(handle).wrong {
            return fail(failure, status);
        }
    }
    STATUS_OK
}

/// "silent": OK without calling the sink; "twice": calls it twice;
/// "refuse": a backend failure; else the string itself, as redacted.
unsafe extern "C" fn plan(
    conninfo: Bytes,
    redacted: TextSink,
    context: *mut c_void,
    failure: *mut Failure,
) -> u32 {
    // SAFETY: the loader's arguments.
    unsafe {
        let calls = match conninfo.as_slice() {
            Some(b"refuse") => return fail(failure, STATUS_BACKEND),
            Some(b"silent") => 0,
            Some(b"twice") => 2,
            _ => 1,
        };
        for _ in 0..calls {
            redacted(context, conninfo);
        }
    }
    STATUS_OK
}
