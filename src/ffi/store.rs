//! Host-provided storage: a C mail server keeps 2FA state in its own
//! database (SQL, LDAP…) through two callbacks — load, and compare-and-swap
//! by version — on opaque records.

use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use zeroize::Zeroizing;

use super::boundary::{ffi_boundary, handle, out_ptr, write_handle, write_out};
use super::config::m2fa_engine_config;
use super::engine::{HostEngine, m2fa_engine};
use super::status::m2fa_status;
use crate::engine::{Engine, EngineConfig};
use crate::store::{CasOutcome, MAX_RECORD_LEN, Store, StoreError, Versioned};

/// Loads the record under `(key, key_len)`: if there is one, copy it into
/// `(buf, buf_len)` (`buf_len` is always enough for any record mail2fa
/// writes), and set `*len` to its size, `*version` to its version and
/// `*found` to 1; if there is none, set `*found` to 0. Return 0, or any
/// other number if the backend failed (the login is then refused).
pub type m2fa_store_load_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        key: *const u8,
        key_len: usize,
        buf: *mut u8,
        buf_len: usize,
        len: *mut usize,
        version: *mut u64,
        found: *mut u32,
    ) -> u32,
>;

/// Replaces the record under `(key, key_len)` with `(value, value_len)`
/// (`value` NULL: delete it), but only if its current version is
/// `expected` (`has_expected` = 0: only if there is no record), atomically.
/// On success set `*stored` to 1 and `*version` to the record's new version
/// (for a delete, the version the deletion used); if the version did not
/// match, change nothing and set `*stored` to 0. Versions must never be
/// reused for a key, not even after a delete (a store-wide counter does
/// it). Return 0, or any other number if the backend failed — then nothing
/// may have been written.
pub type m2fa_store_cas_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        key: *const u8,
        key_len: usize,
        has_expected: u32,
        expected: u64,
        value: *const u8,
        value_len: usize,
        version: *mut u64,
        stored: *mut u32,
    ) -> u32,
>;

/// Releases `userdata` when the engine is freed (may be NULL).
pub type m2fa_store_free_fn = Option<unsafe extern "C" fn(userdata: *mut c_void)>;

/// A [`Store`] made of the host's callbacks.
struct CallbackStore {
    load: unsafe extern "C" fn(
        *mut c_void,
        *const u8,
        usize,
        *mut u8,
        usize,
        *mut usize,
        *mut u64,
        *mut u32,
    ) -> u32,
    cas: unsafe extern "C" fn(
        *mut c_void,
        *const u8,
        usize,
        u32,
        u64,
        *const u8,
        usize,
        *mut u64,
        *mut u32,
    ) -> u32,
    free: m2fa_store_free_fn,
    /// Set once the engine exists: only then is `userdata` ours to free.
    owned: Arc<AtomicBool>,
    userdata: *mut c_void,
}

// SAFETY: the host promises (in the header) that its callbacks may be
// called from any thread at once, with this userdata.
unsafe impl Send for CallbackStore {}
// SAFETY: as above.
unsafe impl Sync for CallbackStore {}

impl Drop for CallbackStore {
    fn drop(&mut self) {
        if let (Some(free), true) = (self.free, self.owned.load(Ordering::Acquire)) {
            // SAFETY: the host's release function, called once, last.
            unsafe { free(self.userdata) };
        }
    }
}

fn failed(what: &str, code: u32) -> StoreError {
    StoreError::Backend(format!("host store: {what} callback failed ({code})"))
}

impl Store for CallbackStore {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        let mut buf = Zeroizing::new(vec![0u8; MAX_RECORD_LEN]);
        let (mut len, mut version, mut found) = (usize::MAX, 0u64, u32::MAX);
        // SAFETY: every pointer is valid for the call; buf for its length.
        let code = unsafe {
            (self.load)(
                self.userdata,
                key.as_ptr(),
                key.len(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut len,
                &mut version,
                &mut found,
            )
        };
        match (code, found) {
            (0, 0) => Ok(None),
            (0, 1) if len <= MAX_RECORD_LEN => {
                buf.truncate(len);
                Ok(Some(Versioned {
                    version,
                    bytes: buf,
                }))
            }
            (0, _) => Err(StoreError::Backend(
                "host store: load returned an invalid length or found flag".into(),
            )),
            (code, _) => Err(failed("load", code)),
        }
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        crate::store::limits::check_sizes(key, new)?;
        let (value, value_len) = new.map_or((core::ptr::null(), 0), |b| (b.as_ptr(), b.len()));
        let (mut version, mut stored) = (0u64, u32::MAX);
        // SAFETY: every pointer is valid for the call.
        let code = unsafe {
            (self.cas)(
                self.userdata,
                key.as_ptr(),
                key.len(),
                u32::from(expected.is_some()),
                expected.unwrap_or(0),
                value,
                value_len,
                &mut version,
                &mut stored,
            )
        };
        match (code, stored) {
            (0, 1) => Ok(CasOutcome::Stored { version }),
            (0, 0) => Ok(CasOutcome::Conflict),
            (0, _) => Err(StoreError::Backend(
                "host store: compare-and-swap returned an invalid stored flag".into(),
            )),
            (code, _) => Err(failed("compare-and-swap", code)),
        }
    }
}

/// Creates an engine over storage the host provides (NULL config:
/// defaults): `load` and `cas` keep mail2fa's opaque records in the host's
/// own database; `free` (may be NULL) releases `userdata` when the engine is
/// freed — by `m2fa_engine_free` or, if pending logins begun on it
/// (`m2fa_engine_begin_login`) outlive the handle, by the last
/// `m2fa_pending_login_free`: until then `load` and `cas` may still be
/// called, so a host that passes NULL keeps `userdata` alive as long. The
/// callbacks are called from any thread that uses the engine or its pending
/// logins, possibly at once, and must be safe for that; each
/// compare-and-swap must be atomic (a transaction, a conditional UPDATE).
/// On an error `userdata` stays the caller's and `free` is not called.
///
/// Errors: `M2FA_NULL_ARGUMENT` (out, load or cas), `M2FA_INVALID_CONFIG`,
/// and the storage errors of reading the device key when none is
/// configured.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_with_store(
    config: *const m2fa_engine_config,
    load: m2fa_store_load_fn,
    cas: m2fa_store_cas_fn,
    free: m2fa_store_free_fn,
    userdata: *mut c_void,
    out: *mut *mut m2fa_engine,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        let (Some(load), Some(cas)) = (load, cas) else {
            return Err(m2fa_status::M2FA_NULL_ARGUMENT);
        };
        // SAFETY: config is NULL or a live handle.
        let config =
            unsafe { config.as_ref() }.map_or_else(EngineConfig::default, |c| c.config.clone());
        // `userdata` becomes ours only once the engine exists: on an error
        // below, dropping the store must not release it.
        let owned = Arc::new(AtomicBool::new(false));
        let store: Box<dyn Store> = Box::new(CallbackStore {
            load,
            cas,
            free,
            owned: Arc::clone(&owned),
            userdata,
        });
        let engine: HostEngine = Engine::new(store, config)?;
        owned.store(true, Ordering::Release);
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_engine::new(engine)) };
        Ok(())
    })
}

/// Runs one maintenance batch (see the crate's `Engine::maintain`): looks
/// at the next `batch` records (1..=10000) and expires what is dead at
/// `now` — expired e-mail/SMS codes, expired pending device tokens, ended
/// device bindings, the device records of accounts whose 2FA was removed.
/// Writes how many records it looked at and changed, and `*finished` = 1
/// when the walk reached the end (the next call starts over). Schedule it
/// (a timer, an idle moment); logins may run meanwhile.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_CONFIG` (batch),
/// `M2FA_UNSUPPORTED` (a host store, which cannot list its records),
/// storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_maintain(
    engine: *const m2fa_engine,
    now: u64,
    batch: u32,
    examined: *mut u64,
    changed: *mut u64,
    finished: *mut u32,
) -> m2fa_status {
    ffi_boundary!({
        let (examined, changed, finished) =
            (out_ptr(examined)?, out_ptr(changed)?, out_ptr(finished)?);
        // SAFETY: a live handle per the contract.
        let engine = unsafe { handle(engine) }?;
        let batch = usize::try_from(batch).map_err(|_| m2fa_status::M2FA_INVALID_CONFIG)?;
        let report = engine.engine.maintain(now, batch)?;
        // SAFETY: all checked non-NULL.
        unsafe {
            write_out(examined, report.examined as u64);
            write_out(changed, report.changed as u64);
            write_out(finished, u32::from(report.finished));
        }
        Ok(())
    })
}
