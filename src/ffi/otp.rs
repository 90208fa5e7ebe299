//! `m2fa_otp_config`: the OTP parameters (algorithm, digits, period, T0,
//! window) shared by `m2fa_totp` (`totp.rs`) and `m2fa_hotp` (`hotp.rs`),
//! and what both need: the config behind a possibly-NULL handle, a
//! verification result as a status, the config a key URI describes.

use super::boundary::{
    ffi_boundary, free_handle, handle, handle_mut, out_ptr, write_handle, write_out,
};
use super::status::m2fa_status;
use crate::enum_table::c_enum_table;
use crate::otp::{Algorithm, Digits, TotpConfig};

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
pub(super) unsafe fn config_or_default(config: *const m2fa_otp_config) -> TotpConfig {
    // SAFETY: forwarded contract.
    unsafe { config.as_ref() }.map_or_else(TotpConfig::default, |c| c.config)
}

/// Turns a verification result into a status and the matched step.
///
/// # Safety
/// `matched` came from [`out_ptr`].
pub(super) unsafe fn report_match(
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
