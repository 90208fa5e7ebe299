//! Administration of platforms and accounts on an `m2fa_engine`: turning 2FA
//! on and off, removing, unlocking, suspending, contact and mode, resets and
//! the user's own self-service. The login itself is in `login.rs`.

use core::ffi::c_char;

use super::boundary::{ffi_boundary, handle, optional_str_arg, str_arg, write_out};
use super::decision::{decide, m2fa_decision};
use super::engine::{account_call, engine_and_account, m2fa_engine};
use super::mode::mode_from_c;
use super::status::m2fa_status;
use crate::engine::Decision;

/// Turns 2FA on (`enabled` ≠ 0) or off for a platform. Off: its
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

/// Enables 2FA for an account: `*out` receives an
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

/// Removes 2FA from an account; its secret is destroyed.
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

/// Suspends 2FA for `seconds` from `now`; it re-arms by itself.
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

/// Chooses the verification mode (an `m2fa_mode` value).
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

/// Resets 2FA: a new secret, pending; every old code dies. `*out`
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
/// proven by a valid code. `*out` receives the decision on the code;
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
