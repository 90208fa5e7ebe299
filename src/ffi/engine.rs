//! `m2fa_engine`: the 2FA engine for C hosts, on the in-memory store.
//!
//! Every engine call is thread-safe: one `m2fa_engine` serves all the auth
//! threads of a process. Accounts are named by `(platform, account)`
//! strings. Answers come back as `m2fa_decision` handles, read with getters,
//! so that new kinds of answers never change a struct layout.

use core::ffi::{CStr, c_char};

use zeroize::Zeroizing;

use super::{
    ffi_boundary, free_handle, handle, handle_mut, m2fa_otp_config, m2fa_status, optional_str_arg,
    out_ptr, static_name, str_arg, write_handle, write_out, write_text,
};
use crate::engine::{
    AccountId, AllowReason, Channel, Decision, DenyReason, Engine, EngineConfig, IssuedCode,
    LockoutPolicy, Mode,
};
use crate::store::{MemoryStore, Store};

/// The engine behind an `m2fa_engine`: the store is chosen when it is made.
pub(super) type HostEngine = Engine<Box<dyn Store>>;

/// What the client is told, passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_outcome {
    /// Let the client in.
    M2FA_OUTCOME_ALLOWED = 1,
    /// Show the provisioning URI (`m2fa_decision_uri`) and ask for a first code.
    M2FA_OUTCOME_ENROLLMENT_REQUIRED = 2,
    /// Ask for a code (`m2fa_decision_mode` says which kind).
    M2FA_OUTCOME_SECOND_FACTOR_REQUIRED = 3,
    /// Refused. Give the client the same answer whatever the reason.
    M2FA_OUTCOME_REFUSED = 4,
    /// The password is right but the device must first be authorized (S12):
    /// `m2fa_decision_device` names its INACTIVE token and
    /// `m2fa_decision_notification` may carry a message to deliver.
    M2FA_OUTCOME_DEVICE_PENDING = 5,
}

/// The real reason behind a decision (for the host and its audit log, never
/// for the client), passed as `uint32_t`. 1–99: why allowed; 100–199: why
/// refused; 0: none (enrollment or code required).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_reason {
    /// No reason applies.
    M2FA_REASON_NONE = 0,
    /// The account has no second factor (or its platform has 2FA off).
    M2FA_REASON_NO_SECOND_FACTOR = 1,
    /// A TOTP code was accepted and its step consumed (`m2fa_decision_step`).
    M2FA_REASON_CODE_ACCEPTED = 2,
    /// 2FA is suspended until `m2fa_decision_until`.
    M2FA_REASON_SUSPENDED = 3,
    /// The enrollment was confirmed (`m2fa_decision_step`).
    M2FA_REASON_ENROLLED = 4,
    /// An e-mail/SMS code was accepted and consumed.
    M2FA_REASON_DELIVERED_CODE_ACCEPTED = 5,
    /// A recovery code was used (`m2fa_decision_remaining` left).
    M2FA_REASON_RECOVERY_CODE_USED = 6,
    /// The password from an activated device (`m2fa_decision_device`).
    M2FA_REASON_DEVICE_AUTHORIZED = 7,
    /// A device trusted after a recent code login, from the same network,
    /// until `m2fa_decision_until` (device binding).
    M2FA_REASON_DEVICE_TRUSTED = 8,
    /// An application password (`m2fa_decision_app_password_id`).
    M2FA_REASON_APP_PASSWORD = 9,
    /// The code is not the expected number of ASCII digits.
    M2FA_REASON_MALFORMED_CODE = 100,
    /// A wrong code.
    M2FA_REASON_WRONG_CODE = 101,
    /// The code matched only a wide window: the device clock is off by
    /// `m2fa_decision_clock_skew` steps.
    M2FA_REASON_CLOCK_SKEW = 102,
    /// A code that was already used (not counted as a failure).
    M2FA_REASON_REPLAYED = 103,
    /// Too many wrong codes: locked until `m2fa_decision_until`.
    M2FA_REASON_LOCKED = 104,
    /// The pending enrollment expired unconfirmed.
    M2FA_REASON_ENROLLMENT_EXPIRED = 105,
    /// The e-mail/SMS code expired (reported once; it is then gone).
    M2FA_REASON_CODE_EXPIRED = 106,
    /// No e-mail/SMS code is live: none was issued, or it was used, expired
    /// or died after too many wrong entries.
    M2FA_REASON_NO_CODE_ISSUED = 107,
    /// The host's password check failed; nothing is recorded.
    M2FA_REASON_WRONG_PASSWORD = 108,
    /// The protocol is refused for this account (S15).
    M2FA_REASON_PROTOCOL_REFUSED = 109,
    /// The protocol only takes application passwords (S15, S16).
    M2FA_REASON_APP_PASSWORD_REQUIRED = 110,
    /// An application password on a protocol that does not take them.
    M2FA_REASON_APP_PASSWORD_NOT_ACCEPTED = 111,
    /// A valid application password limited to other protocols.
    M2FA_REASON_APP_PASSWORD_OUT_OF_SCOPE = 112,
    /// A wrong application password (not counted: it cannot be guessed).
    M2FA_REASON_WRONG_APP_PASSWORD = 113,
    /// Device authorization needs a device id, device type or user agent.
    M2FA_REASON_DEVICE_UNIDENTIFIED = 114,
    /// The mailbox already has the most pending device tokens allowed.
    M2FA_REASON_TOO_MANY_PENDING_DEVICES = 115,
    /// 2FA is mandatory on the platform and the account is not enrolled:
    /// refused even with the right password (send the user to enrollment).
    M2FA_REASON_NOT_ENROLLED = 116,
}

impl m2fa_outcome {
    const ALL: [Self; 5] = [
        Self::M2FA_OUTCOME_ALLOWED,
        Self::M2FA_OUTCOME_ENROLLMENT_REQUIRED,
        Self::M2FA_OUTCOME_SECOND_FACTOR_REQUIRED,
        Self::M2FA_OUTCOME_REFUSED,
        Self::M2FA_OUTCOME_DEVICE_PENDING,
    ];

    /// The outcome with this number, if there is one.
    fn from_u32(value: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|o| *o as u32 == value)
    }

    /// The constant's name without its prefix, in lower case.
    fn name(self) -> &'static CStr {
        match self {
            Self::M2FA_OUTCOME_ALLOWED => c"allowed",
            Self::M2FA_OUTCOME_ENROLLMENT_REQUIRED => c"enrollment_required",
            Self::M2FA_OUTCOME_SECOND_FACTOR_REQUIRED => c"second_factor_required",
            Self::M2FA_OUTCOME_REFUSED => c"refused",
            Self::M2FA_OUTCOME_DEVICE_PENDING => c"device_pending",
        }
    }
}

impl m2fa_reason {
    const ALL: [Self; 27] = [
        Self::M2FA_REASON_NONE,
        Self::M2FA_REASON_NO_SECOND_FACTOR,
        Self::M2FA_REASON_CODE_ACCEPTED,
        Self::M2FA_REASON_SUSPENDED,
        Self::M2FA_REASON_ENROLLED,
        Self::M2FA_REASON_DELIVERED_CODE_ACCEPTED,
        Self::M2FA_REASON_RECOVERY_CODE_USED,
        Self::M2FA_REASON_DEVICE_AUTHORIZED,
        Self::M2FA_REASON_DEVICE_TRUSTED,
        Self::M2FA_REASON_APP_PASSWORD,
        Self::M2FA_REASON_MALFORMED_CODE,
        Self::M2FA_REASON_WRONG_CODE,
        Self::M2FA_REASON_CLOCK_SKEW,
        Self::M2FA_REASON_REPLAYED,
        Self::M2FA_REASON_LOCKED,
        Self::M2FA_REASON_ENROLLMENT_EXPIRED,
        Self::M2FA_REASON_CODE_EXPIRED,
        Self::M2FA_REASON_NO_CODE_ISSUED,
        Self::M2FA_REASON_WRONG_PASSWORD,
        Self::M2FA_REASON_PROTOCOL_REFUSED,
        Self::M2FA_REASON_APP_PASSWORD_REQUIRED,
        Self::M2FA_REASON_APP_PASSWORD_NOT_ACCEPTED,
        Self::M2FA_REASON_APP_PASSWORD_OUT_OF_SCOPE,
        Self::M2FA_REASON_WRONG_APP_PASSWORD,
        Self::M2FA_REASON_DEVICE_UNIDENTIFIED,
        Self::M2FA_REASON_TOO_MANY_PENDING_DEVICES,
        Self::M2FA_REASON_NOT_ENROLLED,
    ];

    /// The reason with this number, if there is one.
    fn from_u32(value: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|r| *r as u32 == value)
    }

    /// The constant's name without its prefix, in lower case.
    fn name(self) -> &'static CStr {
        match self {
            Self::M2FA_REASON_NONE => c"none",
            Self::M2FA_REASON_NO_SECOND_FACTOR => c"no_second_factor",
            Self::M2FA_REASON_CODE_ACCEPTED => c"code_accepted",
            Self::M2FA_REASON_SUSPENDED => c"suspended",
            Self::M2FA_REASON_ENROLLED => c"enrolled",
            Self::M2FA_REASON_DELIVERED_CODE_ACCEPTED => c"delivered_code_accepted",
            Self::M2FA_REASON_RECOVERY_CODE_USED => c"recovery_code_used",
            Self::M2FA_REASON_DEVICE_AUTHORIZED => c"device_authorized",
            Self::M2FA_REASON_DEVICE_TRUSTED => c"device_trusted",
            Self::M2FA_REASON_APP_PASSWORD => c"app_password",
            Self::M2FA_REASON_MALFORMED_CODE => c"malformed_code",
            Self::M2FA_REASON_WRONG_CODE => c"wrong_code",
            Self::M2FA_REASON_CLOCK_SKEW => c"clock_skew",
            Self::M2FA_REASON_REPLAYED => c"replayed",
            Self::M2FA_REASON_LOCKED => c"locked",
            Self::M2FA_REASON_ENROLLMENT_EXPIRED => c"enrollment_expired",
            Self::M2FA_REASON_CODE_EXPIRED => c"code_expired",
            Self::M2FA_REASON_NO_CODE_ISSUED => c"no_code_issued",
            Self::M2FA_REASON_WRONG_PASSWORD => c"wrong_password",
            Self::M2FA_REASON_PROTOCOL_REFUSED => c"protocol_refused",
            Self::M2FA_REASON_APP_PASSWORD_REQUIRED => c"app_password_required",
            Self::M2FA_REASON_APP_PASSWORD_NOT_ACCEPTED => c"app_password_not_accepted",
            Self::M2FA_REASON_APP_PASSWORD_OUT_OF_SCOPE => c"app_password_out_of_scope",
            Self::M2FA_REASON_WRONG_APP_PASSWORD => c"wrong_app_password",
            Self::M2FA_REASON_DEVICE_UNIDENTIFIED => c"device_unidentified",
            Self::M2FA_REASON_TOO_MANY_PENDING_DEVICES => c"too_many_pending_devices",
            Self::M2FA_REASON_NOT_ENROLLED => c"not_enrolled",
        }
    }
}

/// The name of an outcome (an `m2fa_outcome` value): the constant without
/// its `M2FA_OUTCOME_` prefix, in lower case (`M2FA_OUTCOME_DEVICE_PENDING`
/// gives `"device_pending"`). A static NUL-terminated string that lives as
/// long as the library is loaded; NULL for a value this version does not
/// know. The names are stable — never changed, never reused — so logs and
/// scripts may rely on them. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn m2fa_outcome_name(outcome: u32) -> *const c_char {
    static_name(|| m2fa_outcome::from_u32(outcome).map(m2fa_outcome::name))
}

/// The name of a reason (an `m2fa_reason` value): the constant without its
/// `M2FA_REASON_` prefix, in lower case (`M2FA_REASON_CODE_ACCEPTED` gives
/// `"code_accepted"`). A static NUL-terminated string that lives as long as
/// the library is loaded; NULL for a value this version does not know. The
/// names are stable — never changed, never reused — so logs and scripts
/// may rely on them. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn m2fa_reason_name(reason: u32) -> *const c_char {
    static_name(|| m2fa_reason::from_u32(reason).map(m2fa_reason::name))
}

/// Verification modes, passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_mode {
    /// Authenticator app (TOTP), the recommended mode.
    M2FA_MODE_TOTP = 1,
    /// A code sent by e-mail.
    M2FA_MODE_EMAIL = 2,
    /// A code sent by SMS.
    M2FA_MODE_SMS = 3,
}

pub(super) fn mode_to_c(mode: Mode) -> u32 {
    (match mode {
        Mode::Totp => m2fa_mode::M2FA_MODE_TOTP,
        Mode::Email => m2fa_mode::M2FA_MODE_EMAIL,
        Mode::Sms => m2fa_mode::M2FA_MODE_SMS,
    }) as u32
}

fn mode_from_c(value: u32) -> Result<Mode, m2fa_status> {
    match value {
        1 => Ok(Mode::Totp),
        2 => Ok(Mode::Email),
        3 => Ok(Mode::Sms),
        _ => Err(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE),
    }
}

/// Engine settings (opaque, with setters; validated by `m2fa_engine_new`
/// and `m2fa_engine_open`). Not synchronised: do not modify it while another
/// thread reads it.
pub struct m2fa_engine_config {
    pub(super) config: EngineConfig,
    /// How `m2fa_engine_open` opens its database.
    #[cfg(feature = "sqlite")]
    pub(super) sqlite: crate::store::SqliteOptions,
    /// How `m2fa_engine_open_postgres` connects.
    #[cfg(feature = "postgres")]
    pub(super) postgres: crate::store::PostgresOptions,
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

/// An engine over a store (opaque): the in-memory store
/// (`m2fa_engine_new`; state lives as long as the handle), a SQLite
/// database file (`m2fa_engine_open`), a PostgreSQL database shared by a
/// cluster (`m2fa_engine_open_postgres`) or the host's own store
/// (`m2fa_engine_with_store`). Thread-safe: share one handle between
/// all threads; free it once, when no thread uses it.
pub struct m2fa_engine {
    pub(super) engine: HostEngine,
}

/// An engine answer (opaque, immutable). Carries the provisioning URI when
/// there is one: free it (which wipes the URI) as soon as it is shown.
pub struct m2fa_decision {
    pub(super) decision: Decision,
    pub(super) uri: Option<Zeroizing<String>>,
    pub(super) audit: String,
}

/// An e-mail/SMS code to deliver (opaque). Wiped when freed.
pub struct m2fa_issued_code {
    issued: IssuedCode,
}

/// Freshly generated recovery codes, to show once (opaque). Wiped when freed.
pub struct m2fa_recovery_codes {
    codes: Vec<Zeroizing<String>>,
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
            #[cfg(feature = "postgres")]
            postgres: crate::store::PostgresOptions::default(),
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

/// Frees a configuration. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_free(config: *mut m2fa_engine_config) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(config) };
        Ok(())
    });
}

/// Creates an engine over a new in-memory store (NULL config: defaults).
/// Release with `m2fa_engine_free`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_CONFIG`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_new(
    config: *const m2fa_engine_config,
    out: *mut *mut m2fa_engine,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: config is NULL or a live handle.
        let config =
            unsafe { config.as_ref() }.map_or_else(EngineConfig::default, |c| c.config.clone());
        let store: Box<dyn Store> = Box::new(MemoryStore::new());
        let engine = Engine::new(store, config)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_engine { engine }) };
        Ok(())
    })
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
            use crate::store::Synchronous;
            target.sqlite.synchronous = match synchronous {
                1 => Synchronous::Full,
                2 => Synchronous::Normal,
                _ => return Err(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE),
            };
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

/// Creates an engine over the existing SQLite database at `path` (NULL
/// config: defaults), shared safely with other threads and processes that
/// open the same file, durable across restarts. Nothing is created unless
/// `m2fa_engine_config_set_sqlite` said `create` ≠ 0: a missing file, an
/// empty (0-byte) file or one without the mail2fa schema is refused, as are
/// a symbolic link, a file that is not a mail2fa database, one written by a
/// newer mail2fa, and a file, `-wal`/`-shm` file or directory that group or
/// others may write or that belongs to a user other than this process's
/// effective user and root. Without a device key in the
/// configuration, the engine keeps one in the database. Release with
/// `m2fa_engine_free` (which closes the database; its state stays).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_CONFIG`,
/// `M2FA_STORAGE_FAILURE` (the file is missing, empty, without the schema,
/// cannot be opened or is refused), `M2FA_CORRUPT_RECORD`,
/// `M2FA_UNSUPPORTED` (built without SQLite).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_open(
    path: *const c_char,
    config: *const m2fa_engine_config,
    out: *mut *mut m2fa_engine,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: path is NUL-terminated; config is NULL or a live handle.
        let (path, config) = unsafe { (str_arg(path)?, config.as_ref()) };
        #[cfg(feature = "sqlite")]
        {
            let (settings, options) = config.map_or_else(
                || {
                    (
                        EngineConfig::default(),
                        crate::store::SqliteOptions::default(),
                    )
                },
                |c| (c.config.clone(), c.sqlite.clone()),
            );
            let store =
                crate::store::SqliteStore::open_with(path, &options).map_err(crate::Error::from)?;
            let store: Box<dyn Store> = Box::new(store);
            let engine = Engine::new(store, settings)?;
            // SAFETY: out checked non-NULL.
            unsafe { write_handle(out, m2fa_engine { engine }) };
            Ok(())
        }
        #[cfg(not(feature = "sqlite"))]
        {
            let _ = (out, path, config);
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
/// zero timeout), `M2FA_UNSUPPORTED` (built without PostgreSQL).
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
        #[cfg(feature = "postgres")]
        {
            target.postgres.max_connections =
                usize::try_from(max_connections).map_err(|_| m2fa_status::M2FA_INVALID_CONFIG)?;
            target.postgres.timeout = core::time::Duration::from_millis(timeout_ms);
            target.postgres.create = create != 0;
            Ok(())
        }
        #[cfg(not(feature = "postgres"))]
        {
            let _ = (target, create);
            Err(m2fa_status::M2FA_UNSUPPORTED)
        }
    })
}

/// Creates an engine over the PostgreSQL database named by `conninfo`
/// (NULL config: defaults), shared with every other host that opens it: a
/// code consumed through one host is refused by all the others. `conninfo`
/// takes libpq's forms (`postgres://user:password@host/db?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem`
/// or `host=/run/postgresql dbname=mail2fa`). Over TCP the connection is
/// TLS with the server's certificate and name verified, whatever `sslmode`
/// says, and never falls back to plain text (a server without TLS gets no
/// password: `M2FA_STORAGE_FAILURE`); plain only with `sslmode=disable`,
/// and over Unix sockets. With TLS and a password, SCRAM channel binding is
/// required unless the string says `channel_binding=`. The mail2fa schema
/// must exist (in the connection's `search_path` schema): nothing is
/// created unless `m2fa_engine_config_set_postgres` said `create` ≠ 0, so
/// a database without it refuses every login (`M2FA_STORAGE_FAILURE`); a
/// database of an older or newer schema, or tables that are not mail2fa's,
/// are refused too. Every later call fails closed (`M2FA_STORAGE_FAILURE`, the
/// login refused) while the server cannot be reached, within the timeout.
/// Release with `m2fa_engine_free` (which closes the connections).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_CONFIG`,
/// `M2FA_STORAGE_FAILURE` (a bad string, no server, failed authentication,
/// no mail2fa schema, a refused schema; messages never carry the password),
/// `M2FA_CORRUPT_RECORD`, `M2FA_UNSUPPORTED` (built without PostgreSQL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_open_postgres(
    conninfo: *const c_char,
    config: *const m2fa_engine_config,
    out: *mut *mut m2fa_engine,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: conninfo is NUL-terminated; config is NULL or a live handle.
        let (conninfo, config) = unsafe { (str_arg(conninfo)?, config.as_ref()) };
        #[cfg(feature = "postgres")]
        {
            let (settings, options) = config.map_or_else(
                || {
                    (
                        EngineConfig::default(),
                        crate::store::PostgresOptions::default(),
                    )
                },
                |c| (c.config.clone(), c.postgres.clone()),
            );
            let store = crate::store::PostgresStore::open_with(conninfo, &options)
                .map_err(crate::Error::from)?;
            let store: Box<dyn Store> = Box::new(store);
            let engine = Engine::new(store, settings)?;
            // SAFETY: out checked non-NULL.
            unsafe { write_handle(out, m2fa_engine { engine }) };
            Ok(())
        }
        #[cfg(not(feature = "postgres"))]
        {
            let _ = (out, conninfo, config);
            Err(m2fa_status::M2FA_UNSUPPORTED)
        }
    })
}

/// Frees an engine: an in-memory engine's state goes with it; a database
/// is closed and keeps its state. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_free(engine: *mut m2fa_engine) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(engine) };
        Ok(())
    });
}

/// The engine and the account named by two C strings.
///
/// # Safety
/// `engine` is NULL or live; the strings are NULL or NUL-terminated.
pub(super) unsafe fn engine_and_account<'a>(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
) -> Result<(&'a HostEngine, AccountId), m2fa_status> {
    // SAFETY: forwarded contract.
    let (engine, platform, account) =
        unsafe { (handle(engine)?, str_arg(platform)?, str_arg(account)?) };
    Ok((&engine.engine, AccountId::new(platform, account)?))
}

/// Wraps a decision into a new handle written to `out`.
///
/// # Safety
/// `out` came from `out_ptr`.
unsafe fn write_decision(
    out: *mut *mut m2fa_decision,
    decision: Decision,
    uri: Option<Zeroizing<String>>,
    id: &AccountId,
    now: u64,
) {
    let audit = decision.audit_event(id, now).to_string();
    let uri = match &decision {
        Decision::EnrollmentRequired { uri } => Some(uri.clone()),
        _ => uri,
    };
    // SAFETY: forwarded contract.
    unsafe {
        write_handle(
            out,
            m2fa_decision {
                decision,
                uri,
                audit,
            },
        )
    };
}

/// Runs an account operation that yields a decision, and hands the decision
/// to C in `*out`.
///
/// # Safety
/// Pointer contracts of `m2fa_engine_login`.
pub(super) unsafe fn decide(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    now: u64,
    out: *mut *mut m2fa_decision,
    operation: impl FnOnce(
        &HostEngine,
        &AccountId,
    ) -> Result<(Decision, Option<Zeroizing<String>>), m2fa_status>,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        let (decision, uri) = operation(engine, &id)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_decision(out, decision, uri, &id, now) };
        Ok(())
    })
}

/// Turns 2FA on (`enabled` ≠ 0) or off for a platform (S1). Off: its
/// accounts need no second factor; their enrollments are kept.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`
/// (a platform name outside mail2fa's alphabet), `M2FA_INVALID_CONFIG`
/// (switching off a platform where 2FA is mandatory,
/// `m2fa_engine_config_add_mandatory_platform`), storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_enable_platform(
    engine: *const m2fa_engine,
    platform: *const c_char,
    enabled: u32,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle and NUL-terminated string per the contract.
        let (engine, platform) = unsafe { (handle(engine)?, str_arg(platform)?) };
        engine.engine.enable_platform(platform, enabled != 0)?;
        Ok(())
    })
}

/// Enables 2FA for an account (S2): `*out` receives an
/// `M2FA_OUTCOME_ENROLLMENT_REQUIRED` decision whose URI
/// (`m2fa_decision_uri`) the user scans.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`,
/// `M2FA_PLATFORM_DISABLED`, `M2FA_ALREADY_ENABLED`, `M2FA_RANDOM_FAILURE`,
/// storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_enable_account(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    now: u64,
    out: *mut *mut m2fa_decision,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        decide(engine, platform, account, now, out, |e, id| {
            let uri = e.enable_account(id, now)?;
            Ok((Decision::EnrollmentRequired { uri }, None))
        })
    }
}

/// The second-factor decision for a login whose password the host has
/// checked; `code` is what the client gave (NULL: nothing). `*out` receives
/// the decision; a valid code has been consumed when this returns.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`
/// (a platform or account name outside mail2fa's alphabet: never retry
/// with another spelling), `M2FA_CORRUPT_RECORD`, storage errors — refuse
/// the login on any of them.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_login(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    code: *const c_char,
    now: u64,
    out: *mut *mut m2fa_decision,
) -> m2fa_status {
    // SAFETY: forwarded contract; code is NULL or NUL-terminated.
    unsafe {
        decide(engine, platform, account, now, out, |e, id| {
            let code = optional_str_arg(code)?;
            Ok((e.login(id, code, now)?, None))
        })
    }
}

/// Splits a password+code string (S5) for this account: only when its
/// second factor is active, by exactly its digits. `*password_len` receives
/// the length of the password part (`input[0..password_len]`); `*has_code`
/// is 1 when a code follows it (`input + password_len`), else 0. Nothing is
/// copied.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_INPUT`,
/// `M2FA_INVALID_NAME`, `M2FA_CORRUPT_RECORD`, storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_split_login(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    input: *const c_char,
    now: u64,
    password_len: *mut usize,
    has_code: *mut u32,
) -> m2fa_status {
    ffi_boundary!({
        let (password_len, has_code) = (out_ptr(password_len)?, out_ptr(has_code)?);
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        // SAFETY: input is NUL-terminated.
        let input = unsafe { str_arg(input) }?;
        let (password, code) = engine.split_login(&id, input, now)?;
        // SAFETY: both checked non-NULL.
        unsafe {
            write_out(password_len, password.len());
            write_out(has_code, u32::from(code.is_some()));
        }
        Ok(())
    })
}

/// Runs an account operation that returns nothing.
///
/// # Safety
/// Pointer contracts of `m2fa_engine_remove`.
pub(super) unsafe fn account_call(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    call: impl FnOnce(&HostEngine, &AccountId) -> crate::Result<()>,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        call(engine, &id)?;
        Ok(())
    })
}

/// Removes 2FA from an account (S10); its secret is destroyed.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`
/// (a platform or account name outside mail2fa's alphabet),
/// `M2FA_NOT_ENABLED`, storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_remove(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { account_call(engine, platform, account, |e, id| e.remove(id)) }
}

/// Lifts a lockout (an operator's action).
///
/// Errors: as `m2fa_engine_remove`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_unlock(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { account_call(engine, platform, account, |e, id| e.unlock(id)) }
}

/// Suspends 2FA for `seconds` from `now` (S8); it re-arms by itself.
/// `*until` (may be NULL) receives when. `seconds` is at most the
/// configured maximum (`m2fa_engine_config_set_max_suspension`, default
/// `M2FA_MAX_SUSPENSION`); 0 ends a suspension.
///
/// Errors: as `m2fa_engine_remove`, plus `M2FA_INVALID_INPUT` for more
/// than the maximum (refused, never shortened) or an end beyond 64-bit time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_suspend(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    seconds: u64,
    now: u64,
    until: *mut u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        account_call(engine, platform, account, |e, id| {
            let end = e.suspend(id, seconds, now)?;
            if !until.is_null() {
                // SAFETY: non-NULL and writable per the contract.
                write_out(until, end);
            }
            Ok(())
        })
    }
}

/// Sets where e-mail and SMS codes go; each may be NULL (none). The e-mail
/// address is a plain ASCII `local@domain.tld` (at most 254 bytes, one `@`,
/// no white space, quotes or address literals); the phone number is E.164,
/// `+` then 8 to 15 digits, the first not 0, single spaces between groups
/// allowed.
///
/// Errors: as `m2fa_engine_remove`, plus `M2FA_INVALID_CONFIG` for an
/// address or number outside those rules, `M2FA_NO_CONTACT` for removing
/// the destination the account's mode uses.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_set_contact(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    email: *const c_char,
    phone: *const c_char,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        // SAFETY: NULL or NUL-terminated strings.
        let (email, phone) = unsafe { (optional_str_arg(email)?, optional_str_arg(phone)?) };
        engine.set_contact(&id, email, phone)?;
        Ok(())
    })
}

/// Chooses the verification mode (an `m2fa_mode` value, S3).
///
/// Errors: as `m2fa_engine_remove`, plus `M2FA_UNKNOWN_ENUM_VALUE`,
/// `M2FA_NO_CONTACT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_set_mode(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    mode: u32,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        engine.set_mode(&id, mode_from_c(mode)?)?;
        Ok(())
    })
}

/// Resets 2FA (S9): a new secret, pending; every old code dies. `*out`
/// receives an `M2FA_OUTCOME_ENROLLMENT_REQUIRED` decision with the new URI.
///
/// Errors: as `m2fa_engine_remove`, plus `M2FA_RANDOM_FAILURE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_reset(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    now: u64,
    out: *mut *mut m2fa_decision,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        decide(engine, platform, account, now, out, |e, id| {
            let uri = e.reset(id, now)?;
            Ok((Decision::EnrollmentRequired { uri }, None))
        })
    }
}

/// The user turns 2FA off (`reset` = 0) or resets it (`reset` ≠ 0) themself,
/// proven by a valid code (S11). `*out` receives the decision on the code;
/// the change happened only if it is `M2FA_OUTCOME_ALLOWED` (after a reset,
/// `m2fa_decision_uri` then gives the new URI).
///
/// Errors: as `m2fa_engine_login`, plus `M2FA_NOT_ENABLED`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_self_service(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    code: *const c_char,
    reset: u32,
    now: u64,
    out: *mut *mut m2fa_decision,
) -> m2fa_status {
    // SAFETY: forwarded contract; code is NUL-terminated.
    unsafe {
        decide(engine, platform, account, now, out, |e, id| {
            let code = str_arg(code)?;
            Ok(if reset != 0 {
                e.reset_with_code(id, code, now)?
            } else {
                (e.disable_with_code(id, code, now)?, None)
            })
        })
    }
}

/// Makes a fresh e-mail/SMS code (S6) for the host to deliver; the previous
/// one dies. `*out` receives it. On `M2FA_RATE_LIMITED`, `*retry_at` (may be
/// NULL) receives when a new code may be issued — the one out-parameter
/// written on an error.
///
/// Errors: as `m2fa_engine_remove`, plus `M2FA_NO_CONTACT`,
/// `M2FA_RATE_LIMITED`, `M2FA_RANDOM_FAILURE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_issue_code(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    now: u64,
    out: *mut *mut m2fa_issued_code,
    retry_at: *mut u64,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        match engine.issue_code(&id, now) {
            Ok(issued) => {
                // SAFETY: out checked non-NULL.
                unsafe { write_handle(out, m2fa_issued_code { issued }) };
                Ok(())
            }
            Err(crate::Error::RateLimited { retry_at: when }) => {
                if !retry_at.is_null() {
                    // SAFETY: non-NULL and writable per the contract.
                    unsafe { write_out(retry_at, when) };
                }
                Err(m2fa_status::M2FA_RATE_LIMITED)
            }
            Err(other) => Err(other.into()),
        }
    })
}

/// Replaces the account's recovery codes with `count` (1..=32) new ones;
/// `*out` receives them, to show once.
///
/// Errors: as `m2fa_engine_remove`, plus `M2FA_INVALID_CONFIG` for a count
/// outside 1..=32, `M2FA_RANDOM_FAILURE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_generate_recovery_codes(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    count: u32,
    out: *mut *mut m2fa_recovery_codes,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        let count = usize::try_from(count).map_err(|_| m2fa_status::M2FA_INVALID_CONFIG)?;
        let codes = engine.generate_recovery_codes(&id, count)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_recovery_codes { codes }) };
        Ok(())
    })
}

/// Reads one value of a decision.
///
/// # Safety
/// `decision` is NULL or live; `out` is NULL or writable.
pub(super) unsafe fn read_decision<T>(
    decision: *const m2fa_decision,
    out: *mut T,
    field: impl FnOnce(&m2fa_decision) -> Option<T>,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded contract.
        let decision = unsafe { handle(decision) }?;
        let value = field(decision).ok_or(m2fa_status::M2FA_INVALID_ARGUMENT)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, value) };
        Ok(())
    })
}

/// Writes the outcome (an `m2fa_outcome` value: what to tell the client).
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_outcome(
    decision: *const m2fa_decision,
    outcome: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, outcome, |d| {
            Some(
                (match &d.decision {
                    Decision::Allow { .. } => m2fa_outcome::M2FA_OUTCOME_ALLOWED,
                    Decision::EnrollmentRequired { .. } => {
                        m2fa_outcome::M2FA_OUTCOME_ENROLLMENT_REQUIRED
                    }
                    Decision::SecondFactorRequired { .. } => {
                        m2fa_outcome::M2FA_OUTCOME_SECOND_FACTOR_REQUIRED
                    }
                    Decision::DevicePending { .. } => m2fa_outcome::M2FA_OUTCOME_DEVICE_PENDING,
                    // A kind of answer this ABI version cannot name: refuse.
                    _ => m2fa_outcome::M2FA_OUTCOME_REFUSED,
                }) as u32,
            )
        })
    }
}

fn reason_of(decision: &Decision) -> m2fa_reason {
    use m2fa_reason::*;
    match decision {
        Decision::Allow { reason, .. } => match reason {
            AllowReason::NoSecondFactor => M2FA_REASON_NO_SECOND_FACTOR,
            AllowReason::CodeAccepted { .. } => M2FA_REASON_CODE_ACCEPTED,
            AllowReason::Suspended { .. } => M2FA_REASON_SUSPENDED,
            AllowReason::Enrolled { .. } => M2FA_REASON_ENROLLED,
            AllowReason::DeliveredCodeAccepted => M2FA_REASON_DELIVERED_CODE_ACCEPTED,
            AllowReason::RecoveryCodeUsed { .. } => M2FA_REASON_RECOVERY_CODE_USED,
            AllowReason::DeviceAuthorized { .. } => M2FA_REASON_DEVICE_AUTHORIZED,
            AllowReason::DeviceTrusted { .. } => M2FA_REASON_DEVICE_TRUSTED,
            AllowReason::AppPassword { .. } => M2FA_REASON_APP_PASSWORD,
        },
        Decision::Deny { reason } => match reason {
            DenyReason::MalformedCode => M2FA_REASON_MALFORMED_CODE,
            DenyReason::WrongCode => M2FA_REASON_WRONG_CODE,
            DenyReason::ClockSkew { .. } => M2FA_REASON_CLOCK_SKEW,
            DenyReason::Replayed => M2FA_REASON_REPLAYED,
            DenyReason::Locked { .. } => M2FA_REASON_LOCKED,
            DenyReason::EnrollmentExpired => M2FA_REASON_ENROLLMENT_EXPIRED,
            DenyReason::CodeExpired => M2FA_REASON_CODE_EXPIRED,
            DenyReason::NoCodeIssued => M2FA_REASON_NO_CODE_ISSUED,
            DenyReason::WrongPassword => M2FA_REASON_WRONG_PASSWORD,
            DenyReason::ProtocolRefused => M2FA_REASON_PROTOCOL_REFUSED,
            DenyReason::AppPasswordRequired => M2FA_REASON_APP_PASSWORD_REQUIRED,
            DenyReason::AppPasswordNotAccepted => M2FA_REASON_APP_PASSWORD_NOT_ACCEPTED,
            DenyReason::AppPasswordOutOfScope => M2FA_REASON_APP_PASSWORD_OUT_OF_SCOPE,
            DenyReason::WrongAppPassword => M2FA_REASON_WRONG_APP_PASSWORD,
            DenyReason::DeviceUnidentified => M2FA_REASON_DEVICE_UNIDENTIFIED,
            DenyReason::TooManyPendingDevices => M2FA_REASON_TOO_MANY_PENDING_DEVICES,
            DenyReason::NotEnrolled => M2FA_REASON_NOT_ENROLLED,
        },
        Decision::EnrollmentRequired { .. }
        | Decision::SecondFactorRequired { .. }
        | Decision::DevicePending { .. } => M2FA_REASON_NONE,
    }
}

/// Writes the real reason (an `m2fa_reason` value) — for logs, never for
/// the client.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_reason(
    decision: *const m2fa_decision,
    reason: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { read_decision(decision, reason, |d| Some(reason_of(&d.decision) as u32)) }
}

/// Writes 1 if an auth cache may keep this answer, else 0: 1 only for an
/// account that has no 2FA at all (its code, if any, is ignored); 0 whenever
/// a one-time code was checked, during a suspension, and for an account
/// whose platform has 2FA off (it may be turned on again).
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_cacheable(
    decision: *const m2fa_decision,
    cacheable: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, cacheable, |d| {
            Some(u32::from(matches!(
                d.decision,
                Decision::Allow {
                    cacheable: true,
                    ..
                }
            )))
        })
    }
}

/// Writes the consumed time step of `M2FA_REASON_CODE_ACCEPTED` /
/// `M2FA_REASON_ENROLLED`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other reasons.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_step(
    decision: *const m2fa_decision,
    step: *mut u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, step, |d| match d.decision {
            Decision::Allow {
                reason: AllowReason::CodeAccepted { step } | AllowReason::Enrolled { step },
                ..
            } => Some(step),
            _ => None,
        })
    }
}

/// Writes the end of a lock (`M2FA_REASON_LOCKED`), of a suspension
/// (`M2FA_REASON_SUSPENDED`) or of a device binding
/// (`M2FA_REASON_DEVICE_TRUSTED`), Unix seconds.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other reasons.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_until(
    decision: *const m2fa_decision,
    until: *mut u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, until, |d| match d.decision {
            Decision::Deny {
                reason: DenyReason::Locked { until },
            }
            | Decision::Allow {
                reason: AllowReason::Suspended { until } | AllowReason::DeviceTrusted { until },
                ..
            } => Some(until),
            _ => None,
        })
    }
}

/// Writes the clock offset in steps of `M2FA_REASON_CLOCK_SKEW` (negative:
/// the device is behind).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other reasons.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_clock_skew(
    decision: *const m2fa_decision,
    steps: *mut i64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, steps, |d| match d.decision {
            Decision::Deny {
                reason: DenyReason::ClockSkew { steps },
            } => Some(steps),
            _ => None,
        })
    }
}

/// Writes the recovery codes left after `M2FA_REASON_RECOVERY_CODE_USED`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other reasons.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_remaining(
    decision: *const m2fa_decision,
    remaining: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, remaining, |d| match d.decision {
            Decision::Allow {
                reason: AllowReason::RecoveryCodeUsed { remaining },
                ..
            } => u32::try_from(remaining).ok(),
            _ => None,
        })
    }
}

/// Writes the kind of code asked for (an `m2fa_mode` value) by
/// `M2FA_OUTCOME_SECOND_FACTOR_REQUIRED`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other outcomes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_mode(
    decision: *const m2fa_decision,
    mode: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, mode, |d| match d.decision {
            Decision::SecondFactorRequired { mode } => Some(mode_to_c(mode)),
            _ => None,
        })
    }
}

/// Writes the provisioning URI (enrollment required, or an allowed
/// self-service reset) into `(buf, len)`. It contains the secret: show it
/// once and wipe the buffer.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`),
/// `M2FA_INVALID_ARGUMENT` when the decision has no URI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_uri(
    decision: *const m2fa_decision,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let decision = unsafe { handle(decision) }?;
        let uri = decision
            .uri
            .as_ref()
            .ok_or(m2fa_status::M2FA_INVALID_ARGUMENT)?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(uri, buf, len, needed) }
    })
}

/// Writes a one-line audit record of the decision (account, time, outcome,
/// reason; never a secret or a code) into `(buf, len)`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_audit(
    decision: *const m2fa_decision,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let decision = unsafe { handle(decision) }?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(&decision.audit, buf, len, needed) }
    })
}

/// Frees a decision (its URI, if any, is wiped). NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_free(decision: *mut m2fa_decision) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(decision) };
        Ok(())
    });
}

/// Writes the code to deliver into `(buf, len)`. Send it; never log it.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_issued_code_code(
    issued: *const m2fa_issued_code,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let issued = unsafe { handle(issued) }?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(&issued.issued.code, buf, len, needed) }
    })
}

/// Writes the destination (e-mail address or phone number) into `(buf, len)`
/// and the channel (`M2FA_MODE_EMAIL` or `M2FA_MODE_SMS`) into `*channel`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_issued_code_destination(
    issued: *const m2fa_issued_code,
    channel: *mut u32,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        let channel = out_ptr(channel)?;
        // SAFETY: live handle per the contract.
        let issued = unsafe { handle(issued) }?;
        let (kind, to) = match &issued.issued.channel {
            Channel::Email(to) => (Mode::Email, to),
            Channel::Sms(to) => (Mode::Sms, to),
        };
        // SAFETY: buffer contract of this function.
        unsafe { write_text(to, buf, len, needed) }?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(channel, mode_to_c(kind)) };
        Ok(())
    })
}

/// Writes when the code stops working (Unix seconds).
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_issued_code_expires_at(
    issued: *const m2fa_issued_code,
    expires_at: *mut u64,
) -> m2fa_status {
    ffi_boundary!({
        let expires_at = out_ptr(expires_at)?;
        // SAFETY: live handle per the contract.
        let issued = unsafe { handle(issued) }?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(expires_at, issued.issued.expires_at) };
        Ok(())
    })
}

/// Frees an issued code (wiped). NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_issued_code_free(issued: *mut m2fa_issued_code) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(issued) };
        Ok(())
    });
}

/// Writes how many recovery codes the set holds.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_recovery_codes_count(
    codes: *const m2fa_recovery_codes,
    count: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        let count = out_ptr(count)?;
        // SAFETY: live handle per the contract.
        let codes = unsafe { handle(codes) }?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(count, codes.codes.len()) };
        Ok(())
    })
}

/// Writes recovery code number `index` into `(buf, len)` (12 bytes suffice).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` (index out of
/// range), `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_recovery_codes_get(
    codes: *const m2fa_recovery_codes,
    index: usize,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let codes = unsafe { handle(codes) }?;
        let code = codes
            .codes
            .get(index)
            .ok_or(m2fa_status::M2FA_INVALID_ARGUMENT)?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(code, buf, len, needed) }
    })
}

/// Frees a set of recovery codes (wiped). NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_recovery_codes_free(codes: *mut m2fa_recovery_codes) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(codes) };
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

    /// The documented rule: the constant without its prefix, in lower case.
    fn expected(constant: impl core::fmt::Debug, prefix: &str) -> String {
        let constant = format!("{constant:?}");
        constant
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{constant} lacks {prefix}"))
            .to_ascii_lowercase()
    }

    fn name_of(pointer: *const c_char) -> Option<String> {
        // SAFETY: NULL or a static NUL-terminated string.
        (!pointer.is_null()).then(|| unsafe { CStr::from_ptr(pointer) }.to_str().unwrap().into())
    }

    #[test]
    fn every_outcome_and_reason_has_its_constant_name() {
        for outcome in m2fa_outcome::ALL {
            assert_eq!(
                name_of(m2fa_outcome_name(outcome as u32)),
                Some(expected(outcome, "M2FA_OUTCOME_"))
            );
        }
        for reason in m2fa_reason::ALL {
            assert_eq!(
                name_of(m2fa_reason_name(reason as u32)),
                Some(expected(reason, "M2FA_REASON_"))
            );
        }
        assert_eq!(
            name_of(m2fa_reason_name(
                m2fa_reason::M2FA_REASON_CODE_ACCEPTED as u32
            ))
            .as_deref(),
            Some("code_accepted")
        );
        // The tables hold each value once; every other number is unknown.
        let named = (0..=1000u32)
            .filter(|n| !m2fa_outcome_name(*n).is_null())
            .count();
        assert_eq!(named, m2fa_outcome::ALL.len());
        let named = (0..=1000u32)
            .filter(|n| !m2fa_reason_name(*n).is_null())
            .count();
        assert_eq!(named, m2fa_reason::ALL.len());
        for unknown in [0, 6, 99, u32::MAX] {
            assert!(m2fa_outcome_name(unknown).is_null());
        }
        for unknown in [10, 99, 117, 200, u32::MAX] {
            assert!(m2fa_reason_name(unknown).is_null());
        }
    }
}
