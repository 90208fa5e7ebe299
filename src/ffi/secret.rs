//! `m2fa_secret`: shared secrets.

use core::ffi::c_char;

use super::boundary::{
    ffi_boundary, free_handle, handle, out_ptr, str_arg, write_bytes, write_handle, write_text,
};
use super::status::m2fa_status;
use crate::secret::Secret;

/// A shared secret (opaque). Wiped when freed. Immutable: may be used by
/// several threads at once; free it exactly once, when no thread uses it.
pub struct m2fa_secret {
    pub(crate) secret: Secret,
}

/// Generates a secret of `len` bytes from the OS CSPRNG; `len = 0` means the
/// default, 20 bytes (160 bits). Lengths 16..=128 are accepted.
///
/// On success `*out` receives a new handle to release with `m2fa_secret_free`.
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_SECRET_TOO_SHORT`, `M2FA_SECRET_TOO_LONG`,
/// `M2FA_RANDOM_FAILURE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_secret_generate(
    len: usize,
    out: *mut *mut m2fa_secret,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        let len = if len == 0 { Secret::DEFAULT_LEN } else { len };
        let secret = Secret::generate_with_len(len)?;
        // SAFETY: out checked non-NULL; writable per the contract.
        unsafe { write_handle(out, m2fa_secret { secret }) };
        Ok(())
    })
}

/// Copies `len` raw key bytes (16..=128) into a new secret; on success
/// `*out` receives a handle to release with `m2fa_secret_free`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_SECRET_TOO_SHORT`, `M2FA_SECRET_TOO_LONG`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_secret_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut m2fa_secret,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        if bytes.is_null() {
            return Err(m2fa_status::M2FA_NULL_ARGUMENT);
        }
        // Refuse an absurd length before it becomes a slice.
        if len > Secret::MAX_LEN {
            return Err(m2fa_status::M2FA_SECRET_TOO_LONG);
        }
        // SAFETY: non-NULL and readable for `len` bytes per the contract.
        let slice = unsafe { core::slice::from_raw_parts(bytes, len) };
        let secret = Secret::from_bytes(slice)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_secret { secret }) };
        Ok(())
    })
}

/// Decodes base32 text into a new secret (release with `m2fa_secret_free`).
/// Accepts lower case, single spaces or hyphens between groups, and correct
/// or absent `=` padding; rejects everything else.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_BASE32`,
/// `M2FA_SECRET_TOO_SHORT`, `M2FA_SECRET_TOO_LONG`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_secret_from_base32(
    text: *const c_char,
    out: *mut *mut m2fa_secret,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: NUL-terminated string per the contract.
        let text = unsafe { str_arg(text) }?;
        let secret = Secret::from_base32(text)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_secret { secret }) };
        Ok(())
    })
}

/// Writes the secret as unpadded upper-case base32 (NUL-terminated) into
/// `(buf, len)`. The buffer then holds the secret: wipe it after use.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_secret_to_base32(
    secret: *const m2fa_secret,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let secret = unsafe { handle(secret) }?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(&secret.secret.to_base32(), buf, len, needed) }
    })
}

/// Copies the raw key bytes into `(buf, len)`; `*needed` receives the
/// secret's length. The buffer then holds the secret: wipe it after use.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_secret_bytes(
    secret: *const m2fa_secret,
    buf: *mut u8,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let secret = unsafe { handle(secret) }?;
        // SAFETY: buffer contract of this function.
        unsafe { write_bytes(secret.secret.expose_bytes(), buf, len, needed) }
    })
}

/// Wipes and frees a secret. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_secret_free(secret: *mut m2fa_secret) {
    // A panic in a destructor cannot be reported through `void`; swallow it.
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once, per the contract.
        unsafe { free_handle(secret) };
        Ok(())
    });
}
