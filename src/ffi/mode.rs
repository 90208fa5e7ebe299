//! `m2fa_mode`: the verification modes (authenticator app, e-mail, SMS) as C
//! numbers, and their conversions to and from the engine's `Mode`.

use core::ffi::c_char;

use super::boundary::{out_ptr, write_out, write_text};
use super::status::m2fa_status;
use crate::engine::{Channel, Mode};
use crate::enum_table::c_enum_table;

/// Verification modes, passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_mode {
    /// Authenticator app (TOTP), the recommended mode.
    M2FA_MODE_TOTP = 1,
    /// A code sent by e-mail.
    M2FA_MODE_EMAIL = 2,
    /// A code sent by SMS.
    M2FA_MODE_SMS = 3,
}

c_enum_table! {
    impl m2fa_mode {
        /// The engine's mode.
        fn mode(self) -> Mode;
        M2FA_MODE_TOTP => Mode::Totp,
        M2FA_MODE_EMAIL => Mode::Email,
        M2FA_MODE_SMS => Mode::Sms,
    }
}

/// The C value of an engine mode.
pub(super) fn mode_to_c(mode: Mode) -> u32 {
    (match mode {
        Mode::Totp => m2fa_mode::M2FA_MODE_TOTP,
        Mode::Email => m2fa_mode::M2FA_MODE_EMAIL,
        Mode::Sms => m2fa_mode::M2FA_MODE_SMS,
    }) as u32
}

/// The engine mode of a C value.
pub(super) fn mode_from_c(value: u32) -> Result<Mode, m2fa_status> {
    m2fa_mode::from_u32(value)
        .map(m2fa_mode::mode)
        .ok_or(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE)
}

/// Writes where a code or a notification goes: the address into
/// `(buf, len)` and its mode (`M2FA_MODE_EMAIL` or `M2FA_MODE_SMS`) to
/// `*mode`, which is written only on success.
///
/// # Safety
/// `mode` is NULL or writable; `(buf, len, needed)` as for `write_text`.
pub(super) unsafe fn write_destination(
    destination: &Channel,
    mode: *mut u32,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> Result<(), m2fa_status> {
    let mode = out_ptr(mode)?;
    let (kind, to) = match destination {
        Channel::Email(to) => (Mode::Email, to),
        Channel::Sms(to) => (Mode::Sms, to),
    };
    // SAFETY: forwarded buffer contract.
    unsafe { write_text(to, buf, len, needed) }?;
    // SAFETY: checked non-NULL.
    unsafe { write_out(mode, mode_to_c(kind)) };
    Ok(())
}
