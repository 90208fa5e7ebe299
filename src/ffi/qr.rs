//! QR code rendering for C hosts. The symbols exist in every build so that
//! the header and the ABI do not depend on cargo features; without the `qr`
//! feature they answer `M2FA_UNSUPPORTED`.

use core::ffi::c_char;

use zeroize::Zeroizing;

use super::boundary::{ffi_boundary, str_arg, write_text};
use super::status::m2fa_status;

#[derive(Clone, Copy)]
enum Rendering {
    Svg,
    Terminal,
}

#[cfg(feature = "qr")]
fn render(text: &str, rendering: Rendering) -> Result<Zeroizing<String>, m2fa_status> {
    Ok(match rendering {
        Rendering::Svg => crate::qr::svg(text)?,
        Rendering::Terminal => crate::qr::terminal(text)?,
    })
}

#[cfg(not(feature = "qr"))]
fn render(_text: &str, _rendering: Rendering) -> Result<Zeroizing<String>, m2fa_status> {
    Err(m2fa_status::M2FA_UNSUPPORTED)
}

/// # Safety
/// Contract of `m2fa_qr_svg`.
unsafe fn render_into(
    text: *const c_char,
    rendering: Rendering,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: NUL-terminated string per the contract.
        let text = unsafe { str_arg(text) }?;
        let image = render(text, rendering)?;
        // SAFETY: buffer contract of the caller.
        unsafe { write_text(&image, buf, len, needed) }
    })
}

/// Writes an SVG document of the QR code for `text` (normally a provisioning
/// URI) into `(buf, len)`. The image carries whatever `text` carries — the
/// secret, for a URI: show it once and wipe the buffer.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_QR_TOO_LONG`,
/// `M2FA_BUFFER_TOO_SMALL` (with `*needed`), `M2FA_UNSUPPORTED` in builds
/// without the `qr` feature.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_qr_svg(
    text: *const c_char,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { render_into(text, Rendering::Svg, buf, len, needed) }
}

/// As `m2fa_qr_svg`, but Unicode half-block text for a terminal (UTF-8,
/// lines ending in `\n`, light on dark).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_qr_terminal(
    text: *const c_char,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { render_into(text, Rendering::Terminal, buf, len, needed) }
}
