//! Codes handed to the host to show or deliver: `m2fa_issued_code` (an
//! e-mail/SMS code) and `m2fa_recovery_codes`, with the engine calls
//! that make them. Both are wiped when freed.

use core::ffi::c_char;

use zeroize::Zeroizing;

use super::boundary::{
    ffi_boundary, free_handle, handle, out_ptr, write_handle, write_out, write_text,
};
use super::engine::{engine_and_account, m2fa_engine};
use super::mode::write_destination;
use super::status::m2fa_status;
use crate::engine::IssuedCode;

/// An e-mail/SMS code to deliver (opaque). Wiped when freed.
pub struct m2fa_issued_code {
    issued: IssuedCode,
}

/// Freshly generated recovery codes, to show once (opaque). Wiped when freed.
pub struct m2fa_recovery_codes {
    codes: Vec<Zeroizing<String>>,
}

/// Makes a fresh e-mail/SMS code for the host to deliver; the previous
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
        // SAFETY: live handle per the contract.
        let issued = unsafe { handle(issued) }?;
        // SAFETY: the out-parameter and buffer contract of this function.
        unsafe { write_destination(&issued.issued.channel, channel, buf, len, needed) }
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
