//! A PostgreSQL store through the plugin: [`PluginStore`], a [`Store`]
//! whose every call is one call of the plugin's table (which runs the
//! linked `PostgresStore`'s method of the same name), and the two things
//! the C library asks of it: opening a store, and checking a connection
//! string for the configuration file.

use core::ffi::c_void;
use core::ptr::NonNull;
use std::panic::{AssertUnwindSafe, catch_unwind};

use zeroize::Zeroizing;

use super::abi::{Bytes, Failure, Functions, Options, Record, STATUS_OK, error_of};
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
            max_connections: super::abi::DEFAULT_MAX_CONNECTIONS,
            timeout: std::time::Duration::from_secs(super::abi::DEFAULT_TIMEOUT_SECS),
            create: false,
        }
    }
}

/// A store opened by the plugin: its handle and table. Closed on drop.
pub(crate) struct PluginStore {
    functions: &'static Functions,
    handle: NonNull<c_void>,
}

// SAFETY: the handle is a `PostgresStore` of the plugin, which is Send and
// Sync (a pool shared by threads); the functions are static and immutable.
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
        unsafe { (self.functions.close)(self.handle.as_ptr()) };
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
    let functions = plugin().map_err(OpenError::Plugin)?;
    open_with(functions, conninfo, options)
}

/// [`open_postgres`] with the plugin's functions.
fn open_with(
    functions: &'static Functions,
    conninfo: &str,
    options: &PostgresOptions,
) -> Result<PluginStore, OpenError> {
    let options = Options {
        max_connections: options.max_connections,
        timeout_ms: u64::try_from(options.timeout.as_millis()).unwrap_or(u64::MAX),
        create: u8::from(options.create),
    };
    let mut handle = core::ptr::null_mut();
    let mut failure = FailureText::default();
    // SAFETY: every pointer is live for the call; the table is checked.
    let status = unsafe {
        (functions.open)(
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
    Ok(PluginStore { functions, handle })
}

/// The connection string checked as `PostgresStore::plan` does (without
/// connecting), and its redacted form (`redact_connection_string`).
///
/// # Errors
/// [`StoreError::Backend`]: the plugin is missing or refused (its message
/// says which and what to install), or the string does not parse.
pub(crate) fn plan_and_redact(conninfo: &str) -> Result<String, StoreError> {
    plan_with(plugin()?, conninfo)
}

/// [`plan_and_redact`] with the plugin's functions.
fn plan_with(functions: &Functions, conninfo: &str) -> Result<String, StoreError> {
    let mut redacted = Text::default();
    let mut failure = FailureText::default();
    // SAFETY: every pointer is live for the call; the sink copies.
    let status = unsafe {
        (functions.plan)(
            Bytes::of(conninfo.as_bytes()),
            receive_text,
            (&raw mut redacted).cast(),
            failure.as_failure(),
        )
    };
    failure.result(status)?;
    // No redacted string is not an empty one: "" would let a password in
    // the string pass the configuration's check.
    match redacted {
        Text {
            text,
            received: 1,
            broken: false,
        } => Ok(text),
        _ => Err(StoreError::Backend(
            "the PostgreSQL plugin checked the connection string but did not hand back its \
             redacted form once"
                .into(),
        )),
    }
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

/// What a [`TextSink`](super::abi::TextSink) collects.
#[derive(Default)]
struct Text {
    text: String,
    /// How many times the sink was called.
    received: u32,
    /// Bytes that could not be read (NULL with a length), or a panic.
    broken: bool,
}

/// A call's failure: the text the plugin sends, and the [`Failure`] that
/// points to it.
#[derive(Default)]
struct FailureText {
    text: Text,
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
        Err(error_of(status, self.text.text, attempts))
    }
}

/// The [`TextSink`](super::abi::TextSink): appends to the [`Text`] behind
/// `context`.
///
/// # Safety
/// `context` is a live [`Text`]; `text` is valid for the call.
unsafe extern "C" fn receive_text(context: *mut c_void, text: Bytes) {
    // SAFETY: per the contract.
    let target = unsafe { &mut *context.cast::<Text>() };
    target.received = target.received.saturating_add(1);
    // A panic must not unwind into the plugin.
    let copied = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract.
        let text = unsafe { text.as_slice() }?;
        target.text.push_str(&String::from_utf8_lossy(text));
        Some(())
    }));
    if !matches!(copied, Ok(Some(()))) {
        target.broken = true;
    }
}

/// A record as the plugin answered it: its key, and the record if found.
type Answered = (Vec<u8>, Option<Versioned>);

/// What a [`RecordSink`](super::abi::RecordSink) collects.
#[derive(Default)]
struct Records {
    records: Vec<Answered>,
    /// A record that could not be read (NULL with a length), or a panic
    /// while copying one: the answer is incomplete.
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
        // SAFETY: per the contract (NULL is no record).
        let record = unsafe { record.as_ref() }?;
        // SAFETY: borrowed for this call, copied now.
        let key = unsafe { record.key.as_slice() }?;
        #[cfg(test)]
        super::fake::panic_on(key);
        let versioned = match record.found {
            0 => None,
            1 => Some(Versioned {
                version: record.version,
                // SAFETY: as the key.
                bytes: Zeroizing::new(unsafe { record.value.as_slice() }?.to_vec()),
            }),
            _ => return None,
        };
        records.records.push((key.to_vec(), versioned));
        Some(())
    }));
    if !matches!(copied, Ok(Some(()))) {
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
                "the PostgreSQL plugin handed over a record that could not be read".into(),
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
            (self.functions.compare_and_swap)(
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
        match stored {
            1 => Ok(CasOutcome::Stored { version }),
            0 => Ok(CasOutcome::Conflict),
            other => Err(StoreError::Backend(format!(
                "the PostgreSQL plugin answered a compare-and-swap with an unknown outcome \
                 ({other})"
            ))),
        }
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

/// The records of a scan, if they are what was asked: at most `limit`,
/// each found, keys strictly ascending and after `after`.
fn scanned(
    after: Option<&[u8]>,
    limit: usize,
    records: Vec<Answered>,
) -> Result<Vec<ScannedRecord>, StoreError> {
    let wrong = |what: &str| {
        StoreError::Backend(format!("the PostgreSQL plugin answered a scan with {what}"))
    };
    if records.len() > limit {
        return Err(wrong(&format!(
            "{} records for at most {limit}",
            records.len()
        )));
    }
    let mut scanned: Vec<ScannedRecord> = Vec::with_capacity(records.len());
    for (key, record) in records {
        let previous = scanned.last().map(|(key, _)| key.as_slice()).or(after);
        if previous.is_some_and(|previous| key.as_slice() <= previous) {
            return Err(wrong("keys not in ascending order after the one asked"));
        }
        let record = record.ok_or_else(|| wrong("an empty record"))?;
        scanned.push((key, record));
    }
    Ok(scanned)
}

impl Store for PluginStore {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        let records = self.collect(|context, failure| {
            // SAFETY: every pointer is live for the call.
            unsafe {
                (self.functions.load)(
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
                (self.functions.load_many)(
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
        let after_key = after;
        let after = after.map(Bytes::of);
        let records = self.collect(|context, failure| {
            // SAFETY: every pointer is live for the call.
            unsafe {
                (self.functions.scan)(
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
        scanned(after_key, limit, records)
    }

    fn scrub(&self) -> Result<(), StoreError> {
        let mut failure = FailureText::default();
        // SAFETY: every pointer is live for the call.
        let status = unsafe { (self.functions.scrub)(self.handle.as_ptr(), failure.as_failure()) };
        failure.result(status)
    }
}

#[cfg(test)]
mod tests {
    use super::super::abi::{
        STATUS_BACKEND, STATUS_CONTENTION, STATUS_PANIC, STATUS_TOO_LARGE, STATUS_UNSUPPORTED,
    };
    use super::super::fake::{self, Fake, PANIC_KEY, Wrong};
    use super::*;

    /// A store over the fake plugin holding `records`, answering `wrong`.
    fn fake_store(records: &[(&[u8], &[u8])], wrong: Wrong) -> PluginStore {
        let handle = NonNull::new(fake::handle(Fake::new(records, wrong))).unwrap();
        PluginStore {
            functions: fake::functions(),
            handle,
        }
    }

    /// The backend error's text.
    fn backend(result: Result<impl core::fmt::Debug, StoreError>) -> String {
        match result {
            Err(StoreError::Backend(text)) => text,
            other => panic!("not a backend error: {other:?}"),
        }
    }

    #[test]
    fn honest_answers_come_through() {
        let store = fake_store(&[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")], Wrong::Nothing);
        let loaded = store.load(b"b").unwrap().unwrap();
        assert_eq!((loaded.version, loaded.bytes.as_slice()), (1, &b"2"[..]));
        assert!(store.load(b"zz").unwrap().is_none());
        let many = store.load_many(&[b"c", b"none", b"a"]).unwrap();
        let versions: Vec<Option<u64>> =
            many.iter().map(|r| r.as_ref().map(|r| r.version)).collect();
        assert_eq!(versions, [Some(1), None, Some(1)]);
        assert!(store.load_many(&[]).unwrap().is_empty());
        let keys: Vec<Vec<u8>> = store
            .scan(Some(b"a"), 5)
            .unwrap()
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        assert_eq!(keys, [b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(store.scan(None, 1).unwrap().len(), 1);
        store.scrub().unwrap();
    }

    #[test]
    fn load_many_answering_other_records_is_an_error_never_no_record() {
        let keys: [&[u8]; 2] = [b"a", b"b"];
        for wrong in [Wrong::Fewer, Wrong::More, Wrong::Reordered] {
            let store = fake_store(&[(b"a", b"1"), (b"b", b"2")], wrong);
            let text = backend(store.load_many(&keys));
            assert!(text.contains("records for 2 keys"), "{wrong:?}: {text}");
            // `load` too: one key, no record or two.
            if wrong != Wrong::Reordered {
                let text = backend(store.load(b"a"));
                assert!(text.contains("for 1 keys"), "{wrong:?}: {text}");
            }
        }
    }

    #[test]
    fn a_record_that_cannot_be_read_is_an_error() {
        for wrong in [Wrong::NullKey, Wrong::FoundTwo] {
            let store = fake_store(&[(b"a", b"1")], wrong);
            let text = backend(store.load_many(&[b"a"]));
            assert!(text.contains("could not be read"), "{wrong:?}: {text}");
        }
    }

    #[test]
    fn a_panic_in_the_record_sink_is_an_error() {
        let store = fake_store(&[(PANIC_KEY, b"1")], Wrong::Nothing);
        let text = backend(store.load(PANIC_KEY));
        assert!(text.contains("could not be read"), "{text}");
    }

    #[test]
    fn statuses_are_mapped_exactly_and_an_unknown_one_is_a_backend_error() {
        let cases: [(u32, StoreError); 6] = [
            (
                STATUS_BACKEND,
                StoreError::Backend("scripted failure".into()),
            ),
            (STATUS_CONTENTION, StoreError::Contention { attempts: 3 }),
            (STATUS_TOO_LARGE, StoreError::TooLarge),
            (STATUS_UNSUPPORTED, StoreError::Unsupported),
            (
                STATUS_PANIC,
                StoreError::Backend("the PostgreSQL plugin failed (a panic)".into()),
            ),
            (
                77,
                StoreError::Backend("the PostgreSQL plugin answered an unknown status (77)".into()),
            ),
        ];
        for (status, error) in cases {
            let store = fake_store(&[(b"a", b"1")], Wrong::Status(status));
            assert_eq!(store.load(b"a").unwrap_err(), error);
            assert_eq!(store.load_many(&[b"a"]).unwrap_err(), error);
            assert_eq!(
                store.compare_and_swap(b"a", Some(1), None).unwrap_err(),
                error
            );
            assert_eq!(store.scan(None, 10).unwrap_err(), error);
            assert_eq!(store.scrub().unwrap_err(), error);
        }
    }

    #[test]
    fn compare_and_swap_outcomes_are_mapped_exactly() {
        let store = fake_store(&[(b"a", b"1")], Wrong::Nothing);
        assert_eq!(
            store.compare_and_swap(b"a", Some(1), Some(b"2")).unwrap(),
            CasOutcome::Stored { version: 2 }
        );
        assert_eq!(
            store.compare_and_swap(b"a", Some(1), Some(b"3")).unwrap(),
            CasOutcome::Conflict
        );
        assert_eq!(
            store
                .compare_and_swap_relaxed(b"new", None, Some(b"x"))
                .unwrap(),
            CasOutcome::Stored { version: 1 }
        );
        assert_eq!(
            store.compare_and_swap(b"new", Some(1), None).unwrap(),
            CasOutcome::Stored { version: 2 }
        );
        assert!(store.load(b"new").unwrap().is_none());

        let answers = [(0, Ok(CasOutcome::Conflict)), (2, Err(())), (255, Err(()))];
        for (stored, expected) in answers {
            let lying = fake_store(&[], Wrong::CasStored(stored));
            let outcome = lying.compare_and_swap(b"a", None, Some(b"1"));
            match expected {
                Ok(expected) => assert_eq!(outcome.unwrap(), expected),
                Err(()) => assert!(
                    backend(outcome).contains(&format!("unknown outcome ({stored})")),
                    "{stored}"
                ),
            }
        }
    }

    #[test]
    fn a_scan_answering_other_records_is_an_error() {
        let records: [(&[u8], &[u8]); 3] = [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")];
        let cases = [
            (Wrong::ScanTooMany, 2, "3 records for at most 2"),
            (Wrong::ScanDescending, 3, "not in ascending order"),
            (Wrong::ScanEmpty, 3, "an empty record"),
        ];
        for (wrong, limit, wanted) in cases {
            let text = backend(fake_store(&records, wrong).scan(None, limit));
            assert!(text.contains(wanted), "{wrong:?}: {text}");
        }
        let text = backend(fake_store(&records, Wrong::ScanIncludingAfter).scan(Some(b"a"), 3));
        assert!(text.contains("after the one asked"), "{text}");
        // Honest, the same scans pass.
        assert_eq!(
            fake_store(&records, Wrong::Nothing)
                .scan(Some(b"a"), 3)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn plan_must_hand_back_the_redacted_string_exactly_once() {
        let functions = fake::functions();
        assert_eq!(plan_with(functions, "host=db").unwrap(), "host=db");
        for conninfo in ["silent", "twice"] {
            let text = backend(plan_with(functions, conninfo));
            assert!(text.contains("did not hand back"), "{conninfo}: {text}");
        }
        assert_eq!(
            plan_with(functions, "refuse").unwrap_err(),
            StoreError::Backend("scripted failure".into())
        );
    }

    #[test]
    fn open_gives_a_store_or_the_plugins_error() {
        let functions = fake::functions();
        let options = PostgresOptions::default();
        let store = open_with(functions, "host=db", &options).unwrap();
        assert!(store.load(b"a").unwrap().is_none());
        match open_with(functions, "refuse", &options) {
            Err(OpenError::Store(error)) => {
                assert_eq!(error, StoreError::Backend("scripted failure".into()));
            }
            other => panic!("{other:?}"),
        }
    }
}
