//! `m2fa_engine_config`: every engine setting a C host can make, with its
//! setters — TOTP and lockout, e-mail/SMS codes, suspension, mandatory
//! platforms, devices and notifications, encryption keys, and how SQLite and
//! PostgreSQL databases are opened. Not synchronised: build it on one
//! thread, then hand it to an opener (`engine.rs`).

use core::ffi::c_char;

use zeroize::Zeroizing;

use super::boundary::{
    ffi_boundary, free_handle, handle, handle_mut, optional_str_arg, out_ptr, str_arg, write_handle,
};
use super::otp::m2fa_otp_config;
use super::status::m2fa_status;
use crate::engine::{
    AccountId, DeviceKey, DevicePolicy, EncryptionKeys, EngineConfig, LockoutPolicy,
};
#[cfg(feature = "sqlite")]
use crate::enum_table::c_enum_table;

/// Engine settings (opaque, with setters; validated by `m2fa_engine_new`
/// and `m2fa_engine_open`). Not synchronised: do not modify it while another
/// thread reads it.
pub struct m2fa_engine_config {
    pub(super) config: EngineConfig,
    /// How `m2fa_engine_open` opens its database.
    #[cfg(feature = "sqlite")]
    pub(super) sqlite: crate::store::SqliteOptions,
    /// How `m2fa_engine_open_postgres` connects (linked, or through the
    /// plugin).
    #[cfg(feature = "postgres")]
    pub(super) postgres: crate::store::PostgresOptions,
    #[cfg(all(feature = "postgres-plugin", not(feature = "postgres")))]
    pub(super) postgres: super::plugin::PostgresOptions,
}

/// Durability of SQLite commits, passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_synchronous {
    /// Every commit reaches the disk before it returns (the default).
    M2FA_SYNCHRONOUS_FULL = 1,
    /// Commits reach the disk at checkpoints: faster, but a power failure
    /// may lose the last ones (a consumed code could work again).
    M2FA_SYNCHRONOUS_NORMAL = 2,
}

#[cfg(feature = "sqlite")]
c_enum_table! {
    impl m2fa_synchronous {
        /// The SQLite setting.
        fn synchronous(self) -> crate::store::Synchronous;
        M2FA_SYNCHRONOUS_FULL => crate::store::Synchronous::Full,
        M2FA_SYNCHRONOUS_NORMAL => crate::store::Synchronous::Normal,
    }
}

/// Creates a configuration with the defaults: TOTP SHA-1/6 digits/30 s/±1,
/// issuer = platform name, enrollment valid 24 h, lock after 5 wrong codes
/// for 60 s doubling up to 3600 s, diagnostic window ±10, e-mail/SMS codes of
/// 6 digits valid 180 s, dead after 3 wrong entries, one per 30 s; a SQLite
/// database is opened, never created (`m2fa_engine_config_set_sqlite`),
/// and so is a PostgreSQL schema (`m2fa_engine_config_set_postgres`);
/// with encryption keys, records in clear are refused
/// (`m2fa_engine_config_set_require_sealed`).
/// Release with `m2fa_engine_config_free`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_new(out: *mut *mut m2fa_engine_config) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        let config = EngineConfig::default();
        let handle = m2fa_engine_config {
            config,
            #[cfg(feature = "sqlite")]
            sqlite: crate::store::SqliteOptions::default(),
            #[cfg(any(feature = "postgres", feature = "postgres-plugin"))]
            postgres: Default::default(),
        };
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, handle) };
        Ok(())
    })
}

/// Applies `change` to a configuration.
///
/// # Safety
/// `config` is NULL or a live configuration used by no other thread.
pub(super) unsafe fn update_engine_config(
    config: *mut m2fa_engine_config,
    change: impl FnOnce(&mut EngineConfig) -> Result<(), m2fa_status>,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded contract.
        let target = unsafe { handle_mut(config) }?;
        change(&mut target.config)
    })
}

/// Sets the issuer shown in authenticator apps (NULL: the platform name).
///
/// Errors: `M2FA_NULL_ARGUMENT` (config), `M2FA_INVALID_UTF8`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_issuer(
    config: *mut m2fa_engine_config,
    issuer: *const c_char,
) -> m2fa_status {
    // SAFETY: forwarded contract; issuer is NULL or NUL-terminated.
    unsafe {
        update_engine_config(config, |c| {
            c.issuer = optional_str_arg(issuer)?.map(str::to_owned);
            Ok(())
        })
    }
}

/// Sets the TOTP parameters of new enrollments (copied from `otp`). Its T0
/// must be 0 (provisioning URIs cannot carry another), else
/// `m2fa_engine_new` answers `M2FA_INVALID_CONFIG`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_totp(
    config: *mut m2fa_engine_config,
    otp: *const m2fa_otp_config,
) -> m2fa_status {
    // SAFETY: forwarded contract; otp is NULL or a live config.
    unsafe {
        update_engine_config(config, |c| {
            c.totp = handle(otp)?.config;
            Ok(())
        })
    }
}

/// Sets how long a pending enrollment stays valid, in seconds (1 to 30 days,
/// else `m2fa_engine_new` answers `M2FA_INVALID_CONFIG`).
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_enrollment_ttl(
    config: *mut m2fa_engine_config,
    seconds: u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_engine_config(config, |c| {
            c.enrollment_ttl = seconds;
            Ok(())
        })
    }
}

/// Sets the lockout: `max_failures` (1..=100) wrong codes lock for
/// `first_lock` seconds, doubling per lock up to `max_lock` (at most
/// `M2FA_MAX_LOCK`, one day).
///
/// Errors: `M2FA_NULL_ARGUMENT` (out-of-range values are refused by
/// `m2fa_engine_new` with `M2FA_INVALID_CONFIG`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_lockout(
    config: *mut m2fa_engine_config,
    max_failures: u32,
    first_lock: u64,
    max_lock: u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_engine_config(config, |c| {
            c.lockout = LockoutPolicy {
                max_failures,
                first_lock,
                max_lock,
            };
            Ok(())
        })
    }
}

/// Sets the e-mail/SMS code policy: `digits` (6..=10), `lifetime` seconds
/// (1..=86400), `max_wrong` entries (> 0) before a code dies,
/// `resend_interval` seconds (at most 86400).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_CONFIG` for digits above 255
/// (the rest is checked by `m2fa_engine_new`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_delivered_codes(
    config: *mut m2fa_engine_config,
    digits: u32,
    lifetime: u64,
    max_wrong: u32,
    resend_interval: u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_engine_config(config, |c| {
            c.delivered_codes = crate::engine::DeliveredCodePolicy {
                digits: u8::try_from(digits).map_err(|_| m2fa_status::M2FA_INVALID_CONFIG)?,
                lifetime,
                max_wrong,
                resend_interval,
            };
            Ok(())
        })
    }
}

/// Whether, with encryption keys configured, an account or devices record
/// written in clear is refused (`require` ≠ 0, the default) or read (0). On, a plain
/// record copied over a sealed one — by someone who can write the database
/// but has no key — refuses the login (`M2FA_ENCRYPTION_FAILURE`) instead
/// of replacing the account's secret or turning 2FA off. Without keys it has
/// no effect. Turning encryption on for a database with plain records:
/// seal them first (`mail2fa db seal --key-file FILE`), or set 0 for the
/// migration only.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_require_sealed(
    config: *mut m2fa_engine_config,
    require: u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_engine_config(config, |c| {
            c.require_sealed = require != 0;
            Ok(())
        })
    }
}

/// Longest lock accepted by `m2fa_engine_config_set_lockout` (one day).
/// (A literal, so that cbindgen can write it; a test ties it to the crate's.)
pub const M2FA_MAX_LOCK: u64 = 86_400;

/// Longest suspension `m2fa_engine_config_set_max_suspension` accepts (30
/// days). (A literal, so that cbindgen can write it; a test ties it to the
/// crate's.)
pub const M2FA_MAX_SUSPENSION: u64 = 30 * 86_400;

/// Sets the longest suspension `m2fa_engine_suspend` accepts, in seconds
/// (1..=`M2FA_MAX_SUSPENSION`, default `M2FA_MAX_SUSPENSION`). A longer
/// request is refused, never shortened; a stored suspension reaching
/// further than this from the login's time is not honoured (2FA applies).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_CONFIG` for 0 or above
/// `M2FA_MAX_SUSPENSION`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_max_suspension(
    config: *mut m2fa_engine_config,
    seconds: u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_engine_config(config, |c| {
            if !(1..=crate::engine::MAX_SUSPENSION).contains(&seconds) {
                return Err(m2fa_status::M2FA_INVALID_CONFIG);
            }
            c.max_suspension = seconds;
            Ok(())
        })
    }
}

/// Declares 2FA mandatory on `platform` (copied; adding one twice is
/// harmless). There, an account without 2FA is refused (reason
/// `M2FA_REASON_NOT_ENROLLED`) even with the right password, a missing or
/// switched-off platform record reads as "2FA on", and
/// `m2fa_engine_enable_platform(..., 0)` is refused. `m2fa_engine_new`
/// refuses (`M2FA_INVALID_CONFIG`) more than 1024 of them.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`,
/// `M2FA_INVALID_CONFIG` for an invalid platform name.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_add_mandatory_platform(
    config: *mut m2fa_engine_config,
    platform: *const c_char,
) -> m2fa_status {
    // SAFETY: forwarded contract; platform is NULL or NUL-terminated.
    unsafe {
        update_engine_config(config, |c| {
            // SAFETY: forwarded contract.
            let platform = str_arg(platform)?;
            // The rules of platform names are those of account ids.
            AccountId::new(platform, "x").map_err(|_| m2fa_status::M2FA_INVALID_CONFIG)?;
            if !c.mandatory_platforms.iter().any(|p| p == platform) {
                c.mandatory_platforms.push(platform.to_owned());
            }
            Ok(())
        })
    }
}

/// Sets the device policy: at most `max_pending` (1..=32) pending tokens
/// per mailbox, which expire `pending_ttl` seconds after last seen; one
/// notification per device per `notify_interval` seconds; last-seen times
/// written at most once per `seen_interval` seconds; a device bound for
/// `binding_period` seconds after a code login (0: never) — the same client
/// from the same network with the same password+code string gets in, the
/// password alone never does; `reset_revokes_clients`
/// ≠ 0: a 2FA reset also revokes device tokens and application passwords.
/// Defaults: 10, 30 days, 1 day, 300 s, 12 h, 0. `m2fa_engine_new` refuses
/// (`M2FA_INVALID_CONFIG`) a `max_pending` outside 1..=32, a zero
/// `pending_ttl` or `notify_interval`, a `seen_interval` not below
/// `pending_ttl`, and a `binding_period` above 30 days.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_devices(
    config: *mut m2fa_engine_config,
    max_pending: u32,
    pending_ttl: u64,
    notify_interval: u64,
    seen_interval: u64,
    binding_period: u64,
    reset_revokes_clients: u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_engine_config(config, |c| {
            c.devices = DevicePolicy {
                max_pending: usize::try_from(max_pending)
                    .map_err(|_| m2fa_status::M2FA_INVALID_CONFIG)?,
                pending_ttl,
                notify_interval,
                seen_interval,
                binding_period,
                reset_revokes_clients: reset_revokes_clients != 0,
            };
            Ok(())
        })
    }
}

/// Sets the 32-byte key of device fingerprints (copied). Without one, each
/// engine makes a random key: fine for one process on the in-memory store.
/// Every process sharing a store must use the same key.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_CONFIG` unless `len` is 32.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_device_key(
    config: *mut m2fa_engine_config,
    key: *const u8,
    len: usize,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_engine_config(config, |c| {
            let bytes = key_arg(key, len)?;
            c.device_key = Some(DeviceKey::from_bytes(*bytes));
            Ok(())
        })
    }
}

/// Adds a 32-byte key for encryption at rest of account records under
/// `key_id` (copied, wiped when the configuration is freed). `current` ≠ 0
/// makes it the key that seals every write (the previous current key still
/// opens what it sealed); `current` = 0 adds an older key, after a current
/// one was given. Without any key, records are stored in clear
/// (integrity-checked only).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_CONFIG` (length not 32, an
/// id given twice, an older key before any current one).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_add_encryption_key(
    config: *mut m2fa_engine_config,
    key_id: u32,
    key: *const u8,
    len: usize,
    current: u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_engine_config(config, |c| {
            let bytes = key_arg(key, len)?;
            // On an error the configuration keeps its keys.
            let keys = match (c.encryption.clone(), current != 0) {
                (None, true) => Ok(EncryptionKeys::new(key_id, *bytes)),
                (None, false) => Err(crate::Error::InvalidConfig(
                    "an older encryption key before the current one",
                )),
                (Some(keys), false) => keys.with_previous(key_id, *bytes),
                (Some(keys), true) => keys.with_current(key_id, *bytes),
            };
            match keys {
                Ok(keys) => {
                    c.encryption = Some(keys);
                    Ok(())
                }
                Err(error) => Err(error.into()),
            }
        })
    }
}

/// Sets the encryption keys of account records from the key file at
/// `path`, the format of the `mail2fa` tool's `--key-file`: one `ID:KEY`
/// per line — a decimal key id (`uint32_t`), a colon, then the key as 64
/// hex digits — the current key first, then older keys that still open
/// what they sealed; blank lines and lines starting with `#` are skipped.
/// The file must be a regular file (a symbolic link to one is followed)
/// of at most 64 KiB that neither group nor others may read or write
/// (mode 0600 or 0400). Its contents are wiped from memory once read; the
/// keys are wiped when the configuration is freed.
///
/// The file's keys replace every key the configuration had (from an
/// earlier load or from `m2fa_engine_config_add_encryption_key`). Keys
/// added afterwards with `m2fa_engine_config_add_encryption_key` compose
/// with them: `current` ≠ 0 makes the added key current (the file's keys
/// become older keys), `current` = 0 adds one more older key. On an error
/// the configuration keeps the keys it had.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`,
/// `M2FA_INVALID_KEY_FILE` (missing or unreadable, not a regular file,
/// open to group or others, too large, a line that is not `ID:KEY`, a key
/// id given twice, no key). The status does not say which line is wrong:
/// the `mail2fa` tool's `--key-file` names it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_load_key_file(
    config: *mut m2fa_engine_config,
    path: *const c_char,
) -> m2fa_status {
    // SAFETY: forwarded contract; path is NULL or NUL-terminated.
    unsafe {
        update_engine_config(config, |c| {
            let keys = EncryptionKeys::from_key_file(str_arg(path)?)?;
            c.encryption = Some(keys);
            Ok(())
        })
    }
}

/// A 32-byte key from C, copied into memory wiped on drop.
///
/// # Safety
/// `key` is NULL or readable for `len` bytes.
unsafe fn key_arg(key: *const u8, len: usize) -> Result<Zeroizing<[u8; 32]>, m2fa_status> {
    if key.is_null() {
        return Err(m2fa_status::M2FA_NULL_ARGUMENT);
    }
    if len != 32 {
        return Err(m2fa_status::M2FA_INVALID_CONFIG);
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    // SAFETY: non-NULL and readable for len = 32 bytes per the contract.
    bytes.copy_from_slice(unsafe { core::slice::from_raw_parts(key, 32) });
    Ok(bytes)
}

/// Sets the portal link of notifications (NULL: none), with the
/// placeholders `{platform}`, `{account}` and `{device}`.
///
/// Errors: `M2FA_NULL_ARGUMENT` (config), `M2FA_INVALID_UTF8`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_portal_link(
    config: *mut m2fa_engine_config,
    link: *const c_char,
) -> m2fa_status {
    // SAFETY: forwarded contract; link is NULL or NUL-terminated.
    unsafe {
        update_engine_config(config, |c| {
            c.portal_link = optional_str_arg(link)?.map(str::to_owned);
            Ok(())
        })
    }
}

/// How `m2fa_engine_open` opens its database: `synchronous` (an
/// `m2fa_synchronous`; FULL by default), how long a writer waits for
/// another process's lock, in milliseconds (default 5000), and whether the
/// database may be created (`create` ≠ 0) or must already exist (0, the
/// default). Creating is the administrator's act (the operator tool's
/// `mail2fa platform enable` does it): a login path must keep 0, so that a
/// deleted, emptied or schema-less file refuses every login instead of
/// becoming an empty database that answers "no 2FA". With `create` ≠ 0 a
/// missing file is created (mode 0600) and an existing empty file gets
/// the schema.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_UNKNOWN_ENUM_VALUE`,
/// `M2FA_UNSUPPORTED` (built without SQLite).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_sqlite(
    config: *mut m2fa_engine_config,
    synchronous: u32,
    busy_timeout_ms: u64,
    create: u32,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded contract.
        let target = unsafe { handle_mut(config) }?;
        #[cfg(feature = "sqlite")]
        {
            target.sqlite.synchronous = m2fa_synchronous::from_u32(synchronous)
                .map(m2fa_synchronous::synchronous)
                .ok_or(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE)?;
            target.sqlite.busy_timeout = core::time::Duration::from_millis(busy_timeout_ms);
            target.sqlite.create = create != 0;
            Ok(())
        }
        #[cfg(not(feature = "sqlite"))]
        {
            let _ = (target, synchronous, busy_timeout_ms, create);
            Err(m2fa_status::M2FA_UNSUPPORTED)
        }
    })
}

/// How `m2fa_engine_open_postgres` connects: at most `max_connections`
/// connections per engine (default 4), `timeout_ms` bounding connecting,
/// waiting for a free connection and every statement (default 5000; a call
/// that runs out of time fails and the login is refused), and whether the
/// mail2fa schema may be created (`create` ≠ 0) or must already exist (0,
/// the default). Creating is the administrator's act (the operator tool's
/// `mail2fa platform enable` does it, once per database): a login path
/// must keep 0, so that a fresh database, dropped tables or a `search_path`
/// naming the wrong schema refuse every login instead of becoming an empty
/// store that answers "no 2FA" (a role without `CREATE` suffices). With
/// `create` ≠ 0 a database without the schema gets it, and an older schema
/// is migrated.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_CONFIG` (0 connections or a
/// zero timeout), `M2FA_UNSUPPORTED` (built without PostgreSQL; a library
/// that loads PostgreSQL as a plugin takes the settings whether the plugin
/// is installed or not).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_postgres(
    config: *mut m2fa_engine_config,
    max_connections: u32,
    timeout_ms: u64,
    create: u32,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded contract.
        let target = unsafe { handle_mut(config) }?;
        if max_connections == 0 || timeout_ms == 0 {
            return Err(m2fa_status::M2FA_INVALID_CONFIG);
        }
        #[cfg(any(feature = "postgres", feature = "postgres-plugin"))]
        {
            target.postgres.max_connections =
                usize::try_from(max_connections).map_err(|_| m2fa_status::M2FA_INVALID_CONFIG)?;
            target.postgres.timeout = core::time::Duration::from_millis(timeout_ms);
            target.postgres.create = create != 0;
            Ok(())
        }
        #[cfg(not(any(feature = "postgres", feature = "postgres-plugin")))]
        {
            let _ = (target, create);
            Err(m2fa_status::M2FA_UNSUPPORTED)
        }
    })
}

/// Frees a configuration. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_free(config: *mut m2fa_engine_config) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(config) };
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_match_the_crate() {
        assert_eq!(M2FA_MAX_LOCK, crate::engine::MAX_LOCK);
        assert_eq!(M2FA_MAX_SUSPENSION, crate::engine::MAX_SUSPENSION);
    }
}
