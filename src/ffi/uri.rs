//! `m2fa_key_uri`: building and parsing `otpauth://` URIs.

use core::ffi::c_char;

use super::boundary::{
    ffi_boundary, free_handle, handle, optional_str_arg, out_ptr, str_arg, write_handle, write_out,
    write_text,
};
use super::otp::config_from_uri;
use super::otp::m2fa_otp_config;
use super::secret::m2fa_secret;
use super::status::m2fa_status;
use crate::otp::TotpConfig;
use crate::uri::{KeyUri, OtpKind};

/// Kinds of one-time password, passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_otp_kind {
    /// Time-based (RFC 6238).
    M2FA_OTP_KIND_TOTP = 1,
    /// Counter-based (RFC 4226).
    M2FA_OTP_KIND_HOTP = 2,
}

/// A parsed provisioning URI (opaque). Holds a copy of the secret, wiped when
/// freed. Immutable: may be read from several threads at once.
pub struct m2fa_key_uri {
    uri: KeyUri,
}

/// Shared part of the two builders.
///
/// # Safety
/// Pointer contracts of `m2fa_key_uri_totp`.
#[allow(clippy::too_many_arguments)]
unsafe fn build_uri(
    secret: *const m2fa_secret,
    config: *const m2fa_otp_config,
    issuer: *const c_char,
    account: *const c_char,
    counter: Option<u64>,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded pointer contracts.
        let (secret, issuer, account) = unsafe {
            (
                handle(secret)?,
                optional_str_arg(issuer)?,
                str_arg(account)?,
            )
        };
        // SAFETY: config is NULL or a live handle.
        let config = unsafe { config.as_ref() }.map_or_else(TotpConfig::default, |c| c.config);
        let secret = secret.secret.clone();
        let uri = match counter {
            None => KeyUri::totp(issuer, account, secret, config),
            Some(counter) => KeyUri::hotp(
                issuer,
                account,
                secret,
                config.algorithm(),
                config.digits(),
                counter,
            ),
        }
        // Building checks only the two names, so every URI error here is a
        // label error (including control characters, which in a parsed URI
        // are a syntax error).
        .map_err(|_| m2fa_status::M2FA_INVALID_LABEL)?;
        // SAFETY: buffer contract of the caller.
        unsafe { write_text(&uri.to_uri(), buf, len, needed) }
    })
}

/// Writes a TOTP provisioning URI into `(buf, len)`: the text a QR code
/// shows. `issuer` may be NULL (none); `config` may be NULL (defaults). The
/// buffer then holds the secret: wipe it after use.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_LABEL`
/// (a name that is empty, too long, or has a `:`, a control character or
/// surrounding white space), `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_key_uri_totp(
    secret: *const m2fa_secret,
    config: *const m2fa_otp_config,
    issuer: *const c_char,
    account: *const c_char,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { build_uri(secret, config, issuer, account, None, buf, len, needed) }
}

/// As `m2fa_key_uri_totp` for an HOTP token starting at `counter`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_key_uri_hotp(
    secret: *const m2fa_secret,
    config: *const m2fa_otp_config,
    issuer: *const c_char,
    account: *const c_char,
    counter: u64,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        build_uri(
            secret,
            config,
            issuer,
            account,
            Some(counter),
            buf,
            len,
            needed,
        )
    }
}

/// Parses an `otpauth://` URI strictly (see the crate documentation for the
/// rules). On success `*out` receives a handle for `m2fa_key_uri_free`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_URI`,
/// `M2FA_URI_ISSUER_MISMATCH`, `M2FA_INVALID_LABEL`, `M2FA_INVALID_BASE32`,
/// `M2FA_SECRET_TOO_SHORT`, `M2FA_SECRET_TOO_LONG`, `M2FA_INVALID_DIGITS`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_key_uri_parse(
    text: *const c_char,
    out: *mut *mut m2fa_key_uri,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: NUL-terminated string per the contract.
        let text = unsafe { str_arg(text) }?;
        let uri = KeyUri::parse(text)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_key_uri { uri }) };
        Ok(())
    })
}

/// Writes the kind (an `m2fa_otp_kind` value) into `*kind`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_key_uri_kind(
    uri: *const m2fa_key_uri,
    kind: *mut u32,
) -> m2fa_status {
    ffi_boundary!({
        let kind = out_ptr(kind)?;
        // SAFETY: live handle per the contract.
        let uri = unsafe { handle(uri) }?;
        let value = match uri.uri.kind() {
            OtpKind::Totp { .. } => m2fa_otp_kind::M2FA_OTP_KIND_TOTP,
            OtpKind::Hotp { .. } => m2fa_otp_kind::M2FA_OTP_KIND_HOTP,
        };
        // SAFETY: checked non-NULL.
        unsafe { write_out(kind, value as u32) };
        Ok(())
    })
}

/// Writes one text field of a parsed URI into `(buf, len)`.
///
/// # Safety
/// `uri` is NULL or a live handle; buffer contract of `m2fa_key_uri_issuer`.
unsafe fn write_field(
    uri: *const m2fa_key_uri,
    field: impl FnOnce(&KeyUri) -> &str,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let uri = unsafe { handle(uri) }?;
        // SAFETY: buffer contract of the caller.
        unsafe { write_text(field(&uri.uri), buf, len, needed) }
    })
}

/// Writes the issuer into `(buf, len)`; an absent issuer reads as the empty
/// string (a present one is never empty).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_key_uri_issuer(
    uri: *const m2fa_key_uri,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { write_field(uri, |u| u.issuer().unwrap_or(""), buf, len, needed) }
}

/// Writes the account name into `(buf, len)`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_key_uri_account(
    uri: *const m2fa_key_uri,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { write_field(uri, KeyUri::account, buf, len, needed) }
}

/// Copies the URI's secret into a new `m2fa_secret` handle in `*out`
/// (release it with `m2fa_secret_free`).
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_key_uri_secret(
    uri: *const m2fa_key_uri,
    out: *mut *mut m2fa_secret,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: live handle per the contract.
        let uri = unsafe { handle(uri) }?;
        let secret = uri.uri.secret().clone();
        // SAFETY: checked non-NULL.
        unsafe { write_handle(out, m2fa_secret { secret }) };
        Ok(())
    })
}

/// Creates a new `m2fa_otp_config` in `*out` with the URI's algorithm,
/// digits and (for TOTP) period; T0 = 0 and window ±1, which URIs do not carry.
/// Release it with `m2fa_otp_config_free`.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_key_uri_config(
    uri: *const m2fa_key_uri,
    out: *mut *mut m2fa_otp_config,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: live handle per the contract.
        let uri = unsafe { handle(uri) }?;
        let config = config_from_uri(&uri.uri);
        // SAFETY: checked non-NULL.
        unsafe { write_handle(out, m2fa_otp_config { config }) };
        Ok(())
    })
}

/// Writes an HOTP URI's initial counter into `*counter`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for a TOTP URI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_key_uri_counter(
    uri: *const m2fa_key_uri,
    counter: *mut u64,
) -> m2fa_status {
    ffi_boundary!({
        let counter = out_ptr(counter)?;
        // SAFETY: live handle per the contract.
        let uri = unsafe { handle(uri) }?;
        match uri.uri.kind() {
            OtpKind::Hotp { counter: value } => {
                // SAFETY: checked non-NULL.
                unsafe { write_out(counter, value) };
                Ok(())
            }
            OtpKind::Totp { .. } => Err(m2fa_status::M2FA_INVALID_ARGUMENT),
        }
    })
}

/// Frees a parsed URI (its secret is wiped). NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_key_uri_free(uri: *mut m2fa_key_uri) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(uri) };
        Ok(())
    });
}
