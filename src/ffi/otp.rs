//! `m2fa_otp_config`, `m2fa_totp`, `m2fa_hotp`: codes and their verification.

use core::ffi::c_char;

use super::boundary::{
    ffi_boundary, free_handle, handle, handle_mut, out_ptr, str_arg, write_handle, write_out,
    write_text,
};
use super::c_enum::c_enum_table;
use super::secret::m2fa_secret;
use super::status::m2fa_status;
use crate::otp::{Algorithm, Digits, Hotp, Totp, TotpConfig};

/// HMAC algorithms, passed as `uint32_t`. 0 is deliberately not a value, so
/// zeroed memory is caught.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_algorithm {
    /// HMAC-SHA-1, the default and the only one every authenticator app supports.
    M2FA_ALGORITHM_SHA1 = 1,
    /// HMAC-SHA-256.
    M2FA_ALGORITHM_SHA256 = 2,
    /// HMAC-SHA-512.
    M2FA_ALGORITHM_SHA512 = 3,
}

c_enum_table! {
    impl m2fa_algorithm {
        /// The OTP algorithm.
        fn algorithm(self) -> Algorithm;
        M2FA_ALGORITHM_SHA1 => Algorithm::Sha1,
        M2FA_ALGORITHM_SHA256 => Algorithm::Sha256,
        M2FA_ALGORITHM_SHA512 => Algorithm::Sha512,
    }
}

fn algorithm_from_c(value: u32) -> Result<Algorithm, m2fa_status> {
    m2fa_algorithm::from_u32(value)
        .map(m2fa_algorithm::algorithm)
        .ok_or(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE)
}

pub(crate) fn algorithm_to_c(algorithm: Algorithm) -> u32 {
    (match algorithm {
        Algorithm::Sha1 => m2fa_algorithm::M2FA_ALGORITHM_SHA1,
        Algorithm::Sha256 => m2fa_algorithm::M2FA_ALGORITHM_SHA256,
        Algorithm::Sha512 => m2fa_algorithm::M2FA_ALGORITHM_SHA512,
    }) as u32
}

/// OTP parameters (opaque): algorithm, digits, period, T0, window. New
/// options arrive as new setters, so code compiled against an older header
/// keeps working. Not synchronised: do not modify it while another thread
/// reads it; objects made from it keep their own copy.
pub struct m2fa_otp_config {
    pub(crate) config: TotpConfig,
}

/// Creates a config with the defaults every authenticator app assumes:
/// SHA-1, 6 digits, 30 s period, T0 = 0, window ±1. On success `*out`
/// receives a new handle; release it with `m2fa_otp_config_free`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_new(out: *mut *mut m2fa_otp_config) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        let config = TotpConfig::default();
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_otp_config { config }) };
        Ok(())
    })
}

/// Applies `update` to the config behind `config`; the config is left
/// unchanged when it fails.
///
/// # Safety
/// `config` is NULL or a live config not used by another thread.
unsafe fn update_config(
    config: *mut m2fa_otp_config,
    update: impl FnOnce(TotpConfig) -> Result<TotpConfig, m2fa_status>,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded contract.
        let target = unsafe { handle_mut(config) }?;
        target.config = update(target.config)?;
        Ok(())
    })
}

/// Sets the algorithm (an `m2fa_algorithm` value).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_UNKNOWN_ENUM_VALUE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_set_algorithm(
    config: *mut m2fa_otp_config,
    algorithm: u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_config(config, |c| {
            Ok(c.with_algorithm(algorithm_from_c(algorithm)?))
        })
    }
}

/// Sets the number of digits, 6..=10. Authenticator apps support 6 and 8.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_DIGITS`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_set_digits(
    config: *mut m2fa_otp_config,
    digits: u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { update_config(config, |c| Ok(c.with_digits(Digits::new(digits)?))) }
}

/// Longest TOTP period accepted, in seconds: a longer one makes a code a
/// near-static password. (A literal, so that cbindgen can write it; a test
/// ties it to the crate's.)
pub const M2FA_MAX_PERIOD: u64 = 300;

/// Sets the TOTP period in seconds (1..=`M2FA_MAX_PERIOD`).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_PERIOD` (0 or above
/// `M2FA_MAX_PERIOD`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_set_period(
    config: *mut m2fa_otp_config,
    seconds: u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { update_config(config, |c| Ok(c.with_period(seconds)?)) }
}

/// Sets T0, the Unix time at which step 0 begins.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_set_t0(
    config: *mut m2fa_otp_config,
    t0: u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { update_config(config, |c| Ok(c.with_t0(t0))) }
}

/// Sets the TOTP verification window in steps each side (0..=`M2FA_MAX_WINDOW`).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_WINDOW`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_set_window(
    config: *mut m2fa_otp_config,
    steps: u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { update_config(config, |c| Ok(c.with_window(steps)?)) }
}

/// Reads one field of a config into `*out`.
///
/// # Safety
/// `config` is NULL or a live config; `out` is NULL or writable.
unsafe fn read_config<T>(
    config: *const m2fa_otp_config,
    out: *mut T,
    field: impl FnOnce(&TotpConfig) -> T,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded contract.
        let config = unsafe { handle(config) }?;
        // SAFETY: out checked non-NULL.
        unsafe { write_out(out, field(&config.config)) };
        Ok(())
    })
}

/// Reads the algorithm (an `m2fa_algorithm` value) into `*out`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_algorithm(
    config: *const m2fa_otp_config,
    out: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { read_config(config, out, |c| algorithm_to_c(c.algorithm())) }
}

/// Reads the number of digits into `*out`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_digits(
    config: *const m2fa_otp_config,
    out: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { read_config(config, out, |c| u32::from(c.digits().get())) }
}

/// Reads the period in seconds into `*out`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_period(
    config: *const m2fa_otp_config,
    out: *mut u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { read_config(config, out, TotpConfig::period) }
}

/// Reads T0 into `*out`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_t0(
    config: *const m2fa_otp_config,
    out: *mut u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { read_config(config, out, TotpConfig::t0) }
}

/// Reads the verification window into `*out`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_window(
    config: *const m2fa_otp_config,
    out: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { read_config(config, out, TotpConfig::window) }
}

/// Frees a config. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_otp_config_free(config: *mut m2fa_otp_config) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(config) };
        Ok(())
    });
}

/// The config behind a possibly-NULL handle (NULL = defaults).
///
/// # Safety
/// `config` is NULL or a live config.
unsafe fn config_or_default(config: *const m2fa_otp_config) -> TotpConfig {
    // SAFETY: forwarded contract.
    unsafe { config.as_ref() }.map_or_else(TotpConfig::default, |c| c.config)
}

/// Turns a verification result into a status and the matched step.
///
/// # Safety
/// `matched` came from [`out_ptr`].
unsafe fn report_match(
    result: crate::Result<Option<u64>>,
    matched: *mut u64,
) -> Result<(), m2fa_status> {
    match result? {
        Some(step) => {
            // SAFETY: checked non-NULL by the caller.
            unsafe { write_out(matched, step) };
            Ok(())
        }
        None => Err(m2fa_status::M2FA_CODE_MISMATCH),
    }
}

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

/// The config a URI describes; for HOTP, its algorithm and digits on the
/// TOTP defaults.
pub(crate) fn config_from_uri(uri: &crate::uri::KeyUri) -> TotpConfig {
    uri.totp_config().unwrap_or_else(|| {
        TotpConfig::default()
            .with_algorithm(uri.algorithm())
            .with_digits(uri.digits())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_period_matches_the_crate() {
        assert_eq!(M2FA_MAX_PERIOD, crate::MAX_PERIOD);
    }
}
