//! `m2fa_totp`: a time-based one-time password credential (RFC 6238) —
//! generating codes, their time steps, and verifying them.

use core::ffi::c_char;

use super::boundary::{
    ffi_boundary, free_handle, handle, out_ptr, str_arg, write_handle, write_out, write_text,
};
use super::otp::{config_or_default, m2fa_otp_config, report_match};
use super::secret::m2fa_secret;
use super::status::m2fa_status;
use crate::otp::Totp;

/// A TOTP credential (opaque): a secret keyed once, plus its config.
/// Immutable: one handle may verify codes from many threads at once.
pub struct m2fa_totp {
    totp: Totp,
}

/// Creates a TOTP credential from a secret and a config (NULL = defaults).
/// Both are copied; they may be freed right after. On success `*out`
/// receives a new handle; release it with `m2fa_totp_free`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_totp_new(
    secret: *const m2fa_secret,
    config: *const m2fa_otp_config,
    out: *mut *mut m2fa_totp,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: live handles (config may be NULL) per the contract.
        let (secret, config) = unsafe { (handle(secret)?, config_or_default(config)) };
        let totp = Totp::new(&secret.secret, config);
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_totp { totp }) };
        Ok(())
    })
}

/// Writes the code for the step containing `unix_time` (NUL-terminated,
/// at most 11 bytes with the NUL) into `(buf, len)`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_TIME_BEFORE_T0`, `M2FA_BUFFER_TOO_SMALL`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_totp_generate(
    totp: *const m2fa_totp,
    unix_time: u64,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let totp = unsafe { handle(totp) }?;
        let code = totp.totp.generate(unix_time)?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(code.as_str(), buf, len, needed) }
    })
}

/// Writes the time step containing `unix_time` into `*step`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_TIME_BEFORE_T0`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_totp_step(
    totp: *const m2fa_totp,
    unix_time: u64,
    step: *mut u64,
) -> m2fa_status {
    ffi_boundary!({
        let step = out_ptr(step)?;
        // SAFETY: live handle per the contract.
        let totp = unsafe { handle(totp) }?;
        let value = totp.totp.step_at(unix_time)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(step, value) };
        Ok(())
    })
}

/// Writes the Unix time at which `step` begins into `*unix_time` (e.g. to
/// tell a user until when a code is valid: the start of `step + 1`).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_COUNTER_OUT_OF_RANGE` if that time does
/// not fit in 64 bits.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_totp_step_start(
    totp: *const m2fa_totp,
    step: u64,
    unix_time: *mut u64,
) -> m2fa_status {
    ffi_boundary!({
        let unix_time = out_ptr(unix_time)?;
        // SAFETY: live handle per the contract.
        let totp = unsafe { handle(totp) }?;
        let start = totp.totp.step_start(step)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(unix_time, start) };
        Ok(())
    })
}

/// Verifies `code` within the config's window around `unix_time`.
///
/// `M2FA_OK`: it matched; `*matched_step` receives the step (the highest
/// one, if several matched). Store it, and pass it to
/// `m2fa_totp_verify_after` next time, *before* reporting success: that is
/// what makes the code one-time. `M2FA_CODE_MISMATCH`: a well-formed wrong
/// code. Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`,
/// `M2FA_MALFORMED_CODE` (not exactly the configured number of ASCII digits),
/// `M2FA_TIME_BEFORE_T0`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_totp_verify(
    totp: *const m2fa_totp,
    code: *const c_char,
    unix_time: u64,
    matched_step: *mut u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { m2fa_totp_verify_window_impl(totp, code, unix_time, None, None, matched_step) }
}

/// As `m2fa_totp_verify`, but only steps strictly after `last_step` (the
/// last step accepted for this credential) can match: replays and older
/// codes get `M2FA_CODE_MISMATCH`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_totp_verify_after(
    totp: *const m2fa_totp,
    code: *const c_char,
    unix_time: u64,
    last_step: u64,
    matched_step: *mut u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        m2fa_totp_verify_window_impl(totp, code, unix_time, None, Some(last_step), matched_step)
    }
}

/// The general form: an explicit `window` (0..=`M2FA_MAX_WINDOW` steps each
/// side, e.g. a wide one to tell a user their phone's clock is off) and an
/// optional lower bound `*after_step` (NULL = none).
///
/// Errors: those of `m2fa_totp_verify`, plus `M2FA_INVALID_WINDOW`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_totp_verify_window(
    totp: *const m2fa_totp,
    code: *const c_char,
    unix_time: u64,
    window: u32,
    after_step: *const u64,
    matched_step: *mut u64,
) -> m2fa_status {
    // SAFETY: after_step is NULL or readable per the contract.
    let after = unsafe { after_step.as_ref() }.copied();
    // SAFETY: forwarded contract.
    unsafe {
        m2fa_totp_verify_window_impl(totp, code, unix_time, Some(window), after, matched_step)
    }
}

/// # Safety
/// As `m2fa_totp_verify`.
unsafe fn m2fa_totp_verify_window_impl(
    totp: *const m2fa_totp,
    code: *const c_char,
    unix_time: u64,
    window: Option<u32>,
    after: Option<u64>,
    matched_step: *mut u64,
) -> m2fa_status {
    ffi_boundary!({
        let matched_step = out_ptr(matched_step)?;
        // SAFETY: live handle and NUL-terminated string per the contract.
        let (totp, code) = unsafe { (handle(totp)?, str_arg(code)?) };
        let window = window.unwrap_or(totp.totp.config().window());
        let result = totp.totp.verify_with_window(code, unix_time, window, after);
        // SAFETY: checked non-NULL.
        unsafe { report_match(result, matched_step) }
    })
}

/// Frees a TOTP credential (its key material is wiped). NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_totp_free(totp: *mut m2fa_totp) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(totp) };
        Ok(())
    });
}
