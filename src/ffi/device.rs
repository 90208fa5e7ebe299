//! Device tokens: `m2fa_device_list` as listed by
//! `m2fa_engine_devices`, and the calls that change a token's state
//! (activate, deactivate, delete).

use core::ffi::c_char;

use super::boundary::{
    ffi_boundary, free_handle, handle, out_ptr, str_arg, write_handle, write_out, write_text,
};
use super::engine::{account_call, engine_and_account, m2fa_engine};
use super::status::m2fa_status;
use crate::engine::{DeviceId, DeviceState, DeviceToken};
use crate::enum_table::c_enum_table;

/// Device token states, passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_device_state {
    /// Blocked: seen with the right password, not authorized.
    M2FA_DEVICE_INACTIVE = 1,
    /// Authorized by the user.
    M2FA_DEVICE_ACTIVE = 2,
}

/// Text fields of a device token, passed as `uint32_t` to
/// `m2fa_device_list_text`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_device_field {
    /// The token id (32 hex digits), for activate/deactivate/delete.
    M2FA_DEVICE_FIELD_ID = 1,
    /// The protocol name (`activesync`, `outlook`, …).
    M2FA_DEVICE_FIELD_PROTOCOL = 2,
    /// The device id the client sent.
    M2FA_DEVICE_FIELD_DEVICE_ID = 3,
    /// The device type the client sent.
    M2FA_DEVICE_FIELD_DEVICE_TYPE = 4,
    /// The user agent the client sent.
    M2FA_DEVICE_FIELD_USER_AGENT = 5,
    /// The address it last came from.
    M2FA_DEVICE_FIELD_REMOTE_ADDR = 6,
}

c_enum_table! {
    impl m2fa_device_field {
        M2FA_DEVICE_FIELD_ID,
        M2FA_DEVICE_FIELD_PROTOCOL,
        M2FA_DEVICE_FIELD_DEVICE_ID,
        M2FA_DEVICE_FIELD_DEVICE_TYPE,
        M2FA_DEVICE_FIELD_USER_AGENT,
        M2FA_DEVICE_FIELD_REMOTE_ADDR,
    }
}

/// Size of a device id in text (32 hex digits) with its NUL.
pub const M2FA_DEVICE_ID_SIZE: usize = 33;

/// A mailbox's device tokens, as listed (opaque, immutable).
pub struct m2fa_device_list {
    devices: Vec<DeviceToken>,
}

/// Lists the mailbox's device tokens (pending ones not expired, active
/// ones) into a new handle `*out` (release with `m2fa_device_list_free`).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`,
/// `M2FA_NOT_ENABLED`, storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_devices(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    now: u64,
    out: *mut *mut m2fa_device_list,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        let devices = engine.devices(&id, now)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_device_list { devices }) };
        Ok(())
    })
}

/// Writes how many tokens the list holds.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_device_list_count(
    list: *const m2fa_device_list,
    count: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        let count = out_ptr(count)?;
        // SAFETY: live handle per the contract.
        let list = unsafe { handle(list) }?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(count, list.devices.len()) };
        Ok(())
    })
}

/// Token number `index` of a list.
///
/// # Safety
/// `list` is NULL or live.
unsafe fn device_at<'a>(
    list: *const m2fa_device_list,
    index: usize,
) -> Result<&'a DeviceToken, m2fa_status> {
    // SAFETY: forwarded contract.
    let list = unsafe { handle(list) }?;
    list.devices
        .get(index)
        .ok_or(m2fa_status::M2FA_INVALID_ARGUMENT)
}

/// Writes token `index`'s state (an `m2fa_device_state`), first-seen and
/// last-seen times (Unix seconds).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` (index out of range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_device_list_get(
    list: *const m2fa_device_list,
    index: usize,
    state: *mut u32,
    first_seen: *mut u64,
    last_seen: *mut u64,
) -> m2fa_status {
    ffi_boundary!({
        let (state, first_seen, last_seen) =
            (out_ptr(state)?, out_ptr(first_seen)?, out_ptr(last_seen)?);
        // SAFETY: forwarded contract.
        let device = unsafe { device_at(list, index) }?;
        let code = match device.state {
            DeviceState::Inactive => m2fa_device_state::M2FA_DEVICE_INACTIVE,
            DeviceState::Active => m2fa_device_state::M2FA_DEVICE_ACTIVE,
        };
        // SAFETY: all checked non-NULL.
        unsafe {
            write_out(state, code as u32);
            write_out(first_seen, device.first_seen);
            write_out(last_seen, device.last_seen);
        }
        Ok(())
    })
}

/// Writes a text field (an `m2fa_device_field`) of token `index` into
/// `(buf, len)`; a field the client never sent is the empty string.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` (index out of
/// range), `M2FA_UNKNOWN_ENUM_VALUE`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_device_list_text(
    list: *const m2fa_device_list,
    index: usize,
    field: u32,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded contract.
        let device = unsafe { device_at(list, index) }?;
        let id;
        let field =
            m2fa_device_field::from_u32(field).ok_or(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE)?;
        let text = match field {
            m2fa_device_field::M2FA_DEVICE_FIELD_ID => {
                id = device.id.to_string();
                id.as_str()
            }
            m2fa_device_field::M2FA_DEVICE_FIELD_PROTOCOL => device.protocol.name(),
            m2fa_device_field::M2FA_DEVICE_FIELD_DEVICE_ID => {
                device.device_id.as_deref().unwrap_or("")
            }
            m2fa_device_field::M2FA_DEVICE_FIELD_DEVICE_TYPE => {
                device.device_type.as_deref().unwrap_or("")
            }
            m2fa_device_field::M2FA_DEVICE_FIELD_USER_AGENT => {
                device.user_agent.as_deref().unwrap_or("")
            }
            m2fa_device_field::M2FA_DEVICE_FIELD_REMOTE_ADDR => {
                device.remote_addr.as_deref().unwrap_or("")
            }
        };
        // SAFETY: buffer contract of this function.
        unsafe { write_text(text, buf, len, needed) }
    })
}

/// Frees a device list. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_device_list_free(list: *mut m2fa_device_list) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(list) };
        Ok(())
    });
}

/// Runs a device-token operation named by its id text.
///
/// # Safety
/// Pointer contracts of `m2fa_engine_device_activate`.
unsafe fn device_call(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    device: *const c_char,
    call: impl FnOnce(
        &super::engine::HostEngine,
        &crate::engine::AccountId,
        &DeviceId,
    ) -> crate::Result<()>,
) -> m2fa_status {
    // SAFETY: forwarded contract; device is NULL or NUL-terminated.
    unsafe {
        account_call(engine, platform, account, |e, id| {
            let text = str_arg(device).map_err(|_| crate::Error::InvalidInput("device id"))?;
            call(e, id, &DeviceId::parse(text)?)
        })
    }
}

/// Activates a device token: that device gets in from now on.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`,
/// `M2FA_INVALID_INPUT` (not a device id, or NULL), `M2FA_NOT_FOUND`,
/// `M2FA_NOT_ENABLED`, storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_device_activate(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    device: *const c_char,
    now: u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        device_call(engine, platform, account, device, |e, id, d| {
            e.activate_device(id, d, now)
        })
    }
}

/// Deactivates a device token: the device is blocked again.
///
/// Errors: as `m2fa_engine_device_activate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_device_deactivate(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    device: *const c_char,
    now: u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        device_call(engine, platform, account, device, |e, id, d| {
            e.deactivate_device(id, d, now)
        })
    }
}

/// Deletes a device token: the device is unknown again.
///
/// Errors: as `m2fa_engine_device_activate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_device_delete(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    device: *const c_char,
    now: u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        device_call(engine, platform, account, device, |e, id, d| {
            e.delete_device(id, d, now)
        })
    }
}
