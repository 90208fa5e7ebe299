//! `m2fa_hotp`: a counter-based one-time password credential (RFC 4226) —
//! generating codes and verifying them.

use core::ffi::c_char;

use super::boundary::{
    ffi_boundary, free_handle, handle, out_ptr, str_arg, write_handle, write_text,
};
use super::otp::{config_or_default, m2fa_otp_config, report_match};
use super::secret::m2fa_secret;
use super::status::m2fa_status;
use crate::otp::Hotp;

/// An HOTP credential (opaque). Immutable and thread-safe like `m2fa_totp`.
pub struct m2fa_hotp {
    hotp: Hotp,
}

/// Creates an HOTP credential; of the config (NULL = defaults) only the
/// algorithm and digits apply. Both are copied. On success `*out` receives
/// a new handle; release it with `m2fa_hotp_free`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_hotp_new(
    secret: *const m2fa_secret,
    config: *const m2fa_otp_config,
    out: *mut *mut m2fa_hotp,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: live handles (config may be NULL) per the contract.
        let (secret, config) = unsafe { (handle(secret)?, config_or_default(config)) };
        let hotp = Hotp::new(&secret.secret, config.algorithm(), config.digits());
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_hotp { hotp }) };
        Ok(())
    })
}

/// Writes the code for `counter` (NUL-terminated) into `(buf, len)`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_hotp_generate(
    hotp: *const m2fa_hotp,
    counter: u64,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let hotp = unsafe { handle(hotp) }?;
        let code = hotp.hotp.generate(counter);
        // SAFETY: buffer contract of this function.
        unsafe { write_text(code.as_str(), buf, len, needed) }
    })
}

/// Looks for `code` among counters `counter ..= counter + look_ahead`.
/// `M2FA_OK`: `*matched_counter` receives the highest matching counter;
/// store *matched + 1* as the next expected counter before reporting
/// success. `M2FA_CODE_MISMATCH`: no match.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_MALFORMED_CODE`,
/// `M2FA_INVALID_WINDOW` (look-ahead above `M2FA_MAX_WINDOW`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_hotp_verify(
    hotp: *const m2fa_hotp,
    code: *const c_char,
    counter: u64,
    look_ahead: u32,
    matched_counter: *mut u64,
) -> m2fa_status {
    ffi_boundary!({
        let matched_counter = out_ptr(matched_counter)?;
        // SAFETY: live handle and NUL-terminated string per the contract.
        let (hotp, code) = unsafe { (handle(hotp)?, str_arg(code)?) };
        let result = hotp.hotp.verify(code, counter, look_ahead);
        // SAFETY: checked non-NULL.
        unsafe { report_match(result, matched_counter) }
    })
}

/// Frees an HOTP credential (its key material is wiped). NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_hotp_free(hotp: *mut m2fa_hotp) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(hotp) };
        Ok(())
    });
}
