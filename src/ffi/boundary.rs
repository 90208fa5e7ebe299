//! The boundary machinery every export uses: the panic boundary
//! (`ffi_boundary!`), borrowing strings and handles from C, checking and
//! writing out-parameters, moving values into handles and freeing them, and
//! copying text and bytes into caller buffers.

use core::ffi::{CStr, c_char};

use super::status::m2fa_status;

/// Runs an export's body with a panic boundary. The body evaluates to
/// `Result<(), m2fa_status>`; `Ok` becomes `M2FA_OK`.
macro_rules! ffi_boundary {
    ($body:block) => {{
        let outcome = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || -> ::core::result::Result<(), $crate::ffi::status::m2fa_status> { $body },
        ));
        match outcome {
            Ok(Ok(())) => $crate::ffi::status::m2fa_status::M2FA_OK,
            Ok(Err(status)) => status,
            Err(_) => $crate::ffi::status::m2fa_status::M2FA_INTERNAL_PANIC,
        }
    }};
}
pub(crate) use ffi_boundary;

/// Borrows a NUL-terminated UTF-8 string.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for `'a`.
pub(super) unsafe fn str_arg<'a>(ptr: *const c_char) -> Result<&'a str, m2fa_status> {
    if ptr.is_null() {
        return Err(m2fa_status::M2FA_NULL_ARGUMENT);
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map_err(|_| m2fa_status::M2FA_INVALID_UTF8)
}

/// As [`str_arg`], with NULL meaning "absent".
///
/// # Safety
/// As [`str_arg`].
pub(super) unsafe fn optional_str_arg<'a>(
    ptr: *const c_char,
) -> Result<Option<&'a str>, m2fa_status> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { str_arg(ptr) }.map(Some)
    }
}

/// Borrows the object behind a handle.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T` created by this library.
pub(super) unsafe fn handle<'a, T>(ptr: *const T) -> Result<&'a T, m2fa_status> {
    // SAFETY: a non-NULL handle points to a live `T` per the caller's contract.
    unsafe { ptr.as_ref() }.ok_or(m2fa_status::M2FA_NULL_ARGUMENT)
}

/// Borrows the object behind a handle mutably.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T` not used by anyone else now.
pub(super) unsafe fn handle_mut<'a, T>(ptr: *mut T) -> Result<&'a mut T, m2fa_status> {
    // SAFETY: as `handle`, plus exclusivity per the caller's contract.
    unsafe { ptr.as_mut() }.ok_or(m2fa_status::M2FA_NULL_ARGUMENT)
}

/// Checks that an out-parameter is usable before any work is done.
pub(super) fn out_ptr<T>(ptr: *mut T) -> Result<*mut T, m2fa_status> {
    if ptr.is_null() {
        Err(m2fa_status::M2FA_NULL_ARGUMENT)
    } else {
        Ok(ptr)
    }
}

/// Writes `value` to a checked, non-NULL out-parameter.
///
/// # Safety
/// `ptr` came from [`out_ptr`] and points to writable memory for a `T`.
pub(super) unsafe fn write_out<T>(ptr: *mut T, value: T) {
    // SAFETY: non-NULL (checked by out_ptr) and writable per the contract.
    unsafe { ptr.write(value) }
}

/// Moves a Rust value into a new handle written to `out`.
///
/// # Safety
/// As [`write_out`].
pub(super) unsafe fn write_handle<T>(out: *mut *mut T, value: T) {
    // SAFETY: forwarded contract.
    unsafe { write_out(out, Box::into_raw(Box::new(value))) }
}

/// Releases a handle made by [`write_handle`]. NULL is a no-op.
///
/// # Safety
/// `ptr` is NULL or a handle of type `T` from this library, not yet freed,
/// not in use by another thread.
pub(super) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: created by Box::into_raw in write_handle, freed once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Copies as much of `text` as fits into `(buf, len)` with a NUL (cut at
/// a character boundary), and its whole size, NUL included, into
/// `*needed`: for a message that goes with a failure, whose status must
/// not become `M2FA_BUFFER_TOO_SMALL`. Nothing is copied when `buf` is
/// NULL or `len` is 0.
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes; `needed` came from
/// [`out_ptr`].
pub(super) unsafe fn write_text_cut(text: &str, buf: *mut c_char, len: usize, needed: *mut usize) {
    // SAFETY: checked non-NULL by the caller, writable per the contract.
    unsafe { write_out(needed, text.len() + 1) };
    if buf.is_null() || len == 0 {
        return;
    }
    let mut end = text.len().min(len - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // SAFETY: buf is writable for len > end bytes; `text` is Rust-owned.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), end);
        buf.add(end).write(0);
    }
}

/// Copies `text` and a NUL into `(buf, len)`; reports the size needed.
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes; `needed` is NULL or writable.
pub(super) unsafe fn write_text(
    text: &str,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> Result<(), m2fa_status> {
    let needed = out_ptr(needed)?;
    let size = text.len() + 1;
    // SAFETY: needed is non-NULL and writable per the contract.
    unsafe { write_out(needed, size) };
    if buf.is_null() || len < size {
        return Err(m2fa_status::M2FA_BUFFER_TOO_SMALL);
    }
    // SAFETY: buf is writable for len >= size bytes; the regions cannot
    // overlap because `text` is Rust-owned memory.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        buf.add(text.len()).write(0);
    }
    Ok(())
}

/// Copies `bytes` into `(buf, len)`; reports the size needed.
///
/// # Safety
/// As [`write_text`].
pub(super) unsafe fn write_bytes(
    bytes: &[u8],
    buf: *mut u8,
    len: usize,
    needed: *mut usize,
) -> Result<(), m2fa_status> {
    let needed = out_ptr(needed)?;
    // SAFETY: needed is non-NULL and writable per the contract.
    unsafe { write_out(needed, bytes.len()) };
    if buf.is_null() || len < bytes.len() {
        return Err(m2fa_status::M2FA_BUFFER_TOO_SMALL);
    }
    // SAFETY: buf is writable for len >= bytes.len() bytes.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len()) };
    Ok(())
}

/// Looks up a static name inside the panic boundary, for the exports that
/// return a `const char *`: the name, or NULL for an unknown value (and,
/// should the lookup ever panic, NULL too).
pub(super) fn static_name(lookup: impl FnOnce() -> Option<&'static CStr>) -> *const c_char {
    let mut name = core::ptr::null();
    let _ = ffi_boundary!({
        name = lookup().map_or(core::ptr::null(), CStr::as_ptr);
        Ok(())
    });
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_status() {
        let status = ffi_boundary!({
            let items: Vec<u8> = Vec::new();
            let _ = items[3]; // out of bounds: panics
            Ok(())
        });
        assert_eq!(status, m2fa_status::M2FA_INTERNAL_PANIC);
        let status = ffi_boundary!({ Err(m2fa_status::M2FA_NULL_ARGUMENT) });
        assert_eq!(status, m2fa_status::M2FA_NULL_ARGUMENT);
    }

    #[test]
    fn a_name_lookup_that_panics_gives_null() {
        assert!(static_name(|| None).is_null());
        let name = static_name(|| Some(c"name"));
        // SAFETY: a static NUL-terminated string.
        assert_eq!(unsafe { CStr::from_ptr(name) }, c"name");
        let items: Vec<&'static CStr> = Vec::new();
        assert!(static_name(|| Some(items[3])).is_null());
    }

    #[test]
    fn a_cut_message_ends_on_a_character_and_tells_its_whole_size() {
        let text = "ab\u{e9}cd"; // 'é' is two bytes, at 2..4
        let mut buf = [0x7f as c_char; 4];
        let mut needed = 0usize;
        // SAFETY: buf is writable for its length; needed is a live usize.
        unsafe { write_text_cut(text, buf.as_mut_ptr(), buf.len(), &mut needed) };
        assert_eq!(needed, text.len() + 1);
        // Three bytes fit, but the third is half of 'é': "ab" and the NUL.
        // SAFETY: NUL-terminated by the call.
        assert_eq!(unsafe { CStr::from_ptr(buf.as_ptr()) }, c"ab");
        let mut big = [0 as c_char; 16];
        // SAFETY: as above.
        unsafe { write_text_cut(text, big.as_mut_ptr(), big.len(), &mut needed) };
        // SAFETY: as above.
        assert_eq!(unsafe { CStr::from_ptr(big.as_ptr()) }.to_str(), Ok(text));
        // Nothing to write into: only the size.
        needed = 0;
        // SAFETY: a NULL buffer is never written.
        unsafe { write_text_cut(text, core::ptr::null_mut(), 0, &mut needed) };
        assert_eq!(needed, text.len() + 1);
    }
}
