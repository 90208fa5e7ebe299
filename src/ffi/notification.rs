//! `m2fa_notification`: a message about a blocked device for the host to
//! deliver, and the e-mail fallback when an SMS could not be sent.

use core::ffi::c_char;

use super::boundary::{
    ffi_boundary, free_handle, handle, out_ptr, str_arg, write_handle, write_text,
};
use super::engine::{engine_and_account, m2fa_engine};
use super::mode::write_destination;
use super::status::m2fa_status;
use crate::engine::{DeviceId, Notification};

/// A message about a blocked device, to deliver (opaque, immutable).
pub struct m2fa_notification {
    pub(super) notification: Notification,
}

/// The host could not deliver the SMS about `device`: `*out`
/// receives the same message by e-mail.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`,
/// `M2FA_INVALID_INPUT` (not a device id), `M2FA_NOT_FOUND`,
/// `M2FA_NOT_ENABLED`, `M2FA_NO_CONTACT` (no e-mail destination), storage
/// errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_notification_fallback(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    device: *const c_char,
    now: u64,
    out: *mut *mut m2fa_notification,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        // SAFETY: device is NUL-terminated.
        let device = DeviceId::parse(unsafe { str_arg(device) }?)?;
        let notification = engine
            .notification_fallback(&id, &device, now)?
            .ok_or(m2fa_status::M2FA_NO_CONTACT)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_notification { notification }) };
        Ok(())
    })
}

/// Writes the channel (`M2FA_MODE_SMS` or `M2FA_MODE_EMAIL`) into
/// `*channel` and the destination (phone number or address) into
/// `(buf, len)`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_notification_destination(
    notification: *const m2fa_notification,
    channel: *mut u32,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let n = unsafe { handle(notification) }?;
        // SAFETY: the out-parameter and buffer contract of this function.
        unsafe { write_destination(&n.notification.channel, channel, buf, len, needed) }
    })
}

/// Writes the subject line (for e-mail) into `(buf, len)`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_notification_subject(
    notification: *const m2fa_notification,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let n = unsafe { handle(notification) }?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(&n.notification.subject, buf, len, needed) }
    })
}

/// Writes the message (device type, protocol, time, portal link) into
/// `(buf, len)`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_notification_text(
    notification: *const m2fa_notification,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let n = unsafe { handle(notification) }?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(&n.notification.text, buf, len, needed) }
    })
}

/// Frees a notification. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_notification_free(notification: *mut m2fa_notification) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(notification) };
        Ok(())
    });
}
