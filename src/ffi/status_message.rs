//! `m2fa_status_message`: a status code as one line of English in a caller
//! buffer.

use core::ffi::c_char;

use super::boundary::{ffi_boundary, write_text};
use super::status::m2fa_status;

/// Writes the message for `status` into `(buf, len)` (NUL-terminated) and
/// its size into `*needed`. An unknown number yields the text
/// "unknown status" and `M2FA_UNKNOWN_ENUM_VALUE`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_status_message(
    status: u32,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        match m2fa_status::from_u32(status) {
            // SAFETY: forwarded buffer contract of this function.
            Some(known) => unsafe { write_text(known.message(), buf, len, needed) },
            None => {
                // SAFETY: as above.
                unsafe { write_text("unknown status", buf, len, needed)? };
                Err(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_into_buffer() {
        let mut buf = [0 as c_char; 64];
        let mut needed = 0usize;
        // SAFETY: valid buffer and out-pointer.
        let status = unsafe {
            m2fa_status_message(
                m2fa_status::M2FA_CODE_MISMATCH as u32,
                buf.as_mut_ptr(),
                buf.len(),
                &mut needed,
            )
        };
        assert_eq!(status, m2fa_status::M2FA_OK);
        assert_eq!(needed, "the code does not match".len() + 1);
        // SAFETY: too small: only `needed` is written.
        let status = unsafe { m2fa_status_message(1, buf.as_mut_ptr(), 3, &mut needed) };
        assert_eq!(status, m2fa_status::M2FA_BUFFER_TOO_SMALL);
        assert_eq!(needed, 24);
    }
}
