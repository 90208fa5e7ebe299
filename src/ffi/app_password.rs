//! Application passwords: making and revoking them on an
//! `m2fa_engine`, and `m2fa_app_password_list` as listed (never the
//! passwords themselves).

use core::ffi::c_char;

use super::boundary::{
    ffi_boundary, free_handle, handle, optional_str_arg, out_ptr, str_arg, write_handle, write_out,
    write_text,
};
use super::engine::{account_call, engine_and_account, m2fa_engine};
use super::status::m2fa_status;
use crate::engine::{AppPasswordInfo, Protocol};
use crate::enum_table::c_enum_table;

/// Text fields of an application password listing, passed as `uint32_t`
/// to `m2fa_app_password_list_text`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_app_password_field {
    /// The name the user gave it.
    M2FA_APP_PASSWORD_FIELD_NAME = 1,
    /// The protocols it may be used on, comma-separated; empty for "any".
    M2FA_APP_PASSWORD_FIELD_SCOPE = 2,
}

c_enum_table! {
    impl m2fa_app_password_field {
        M2FA_APP_PASSWORD_FIELD_NAME,
        M2FA_APP_PASSWORD_FIELD_SCOPE,
    }
}

/// Size of the buffer `m2fa_engine_app_password_create` needs: 23
/// characters (`xxxxx-xxxxx-xxxxx-xxxxx`) and the NUL.
pub const M2FA_APP_PASSWORD_SIZE: usize = 24;

/// A mailbox's application passwords, as listed (opaque, immutable; never
/// the passwords themselves).
pub struct m2fa_app_password_list {
    apps: Vec<AppPasswordInfo>,
}

/// Parses a comma-separated list of protocol names (`"imap,smtp"`); NULL or
/// empty: no limit.
fn scope_from_names(names: Option<&str>) -> crate::Result<Vec<Protocol>> {
    names
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(Protocol::from_name)
        .collect()
}

/// Makes an application password named `name` (1–64 bytes, unique
/// in the account), limited to the comma-separated protocol names in
/// `scope` (`"imap,smtp"`; NULL or empty: any protocol that takes
/// application passwords). Writes its number into `*id` and the password
/// into `(buf, len)` — show it once, then wipe it. `len` must be at least
/// `M2FA_APP_PASSWORD_SIZE`, checked before anything is created.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`,
/// `M2FA_BUFFER_TOO_SMALL` (with `*needed`; nothing created),
/// `M2FA_INVALID_NAME` (a platform or account name outside mail2fa's
/// alphabet), `M2FA_INVALID_CONFIG` (bad or taken application password
/// name, bad scope),
/// `M2FA_LIMIT_REACHED`, `M2FA_NOT_ENABLED`, `M2FA_RANDOM_FAILURE`,
/// storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_app_password_create(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    name: *const c_char,
    scope: *const c_char,
    now: u64,
    id: *mut u32,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        let (id_out, needed_out) = (out_ptr(id)?, out_ptr(needed)?);
        if buf.is_null() || len < M2FA_APP_PASSWORD_SIZE {
            // SAFETY: checked non-NULL.
            unsafe { write_out(needed_out, M2FA_APP_PASSWORD_SIZE) };
            return Err(m2fa_status::M2FA_BUFFER_TOO_SMALL);
        }
        // SAFETY: forwarded pointer contracts.
        let (engine, account) = unsafe { engine_and_account(engine, platform, account) }?;
        // SAFETY: name is NUL-terminated, scope NULL or NUL-terminated.
        let (name, scope) = unsafe { (str_arg(name)?, optional_str_arg(scope)?) };
        let scope = scope_from_names(scope)?;
        let (info, password) = engine.create_app_password(&account, name, &scope, now)?;
        // SAFETY: buffer contract of this function; it is large enough.
        unsafe { write_text(&password, buf, len, needed_out) }?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(id_out, info.id) };
        Ok(())
    })
}

/// Revokes application password number `id` at once.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`,
/// `M2FA_NOT_FOUND`, `M2FA_NOT_ENABLED`, storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_app_password_revoke(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    id: u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        account_call(engine, platform, account, |e, acct| {
            e.revoke_app_password(acct, id)
        })
    }
}

/// Lists the account's application passwords into a new handle `*out`
/// (release with `m2fa_app_password_list_free`).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`,
/// `M2FA_NOT_ENABLED`, storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_app_passwords(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    out: *mut *mut m2fa_app_password_list,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        let apps = engine.app_passwords(&id)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_app_password_list { apps }) };
        Ok(())
    })
}

/// Writes how many application passwords the list holds.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_app_password_list_count(
    list: *const m2fa_app_password_list,
    count: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        let count = out_ptr(count)?;
        // SAFETY: live handle per the contract.
        let list = unsafe { handle(list) }?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(count, list.apps.len()) };
        Ok(())
    })
}

/// Entry number `index` of a list.
///
/// # Safety
/// `list` is NULL or live.
unsafe fn app_at<'a>(
    list: *const m2fa_app_password_list,
    index: usize,
) -> Result<&'a AppPasswordInfo, m2fa_status> {
    // SAFETY: forwarded contract.
    let list = unsafe { handle(list) }?;
    list.apps
        .get(index)
        .ok_or(m2fa_status::M2FA_INVALID_ARGUMENT)
}

/// Writes entry `index`'s number, creation time and last use (Unix seconds;
/// 0: never used).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` (index out of range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_app_password_list_get(
    list: *const m2fa_app_password_list,
    index: usize,
    id: *mut u32,
    created: *mut u64,
    last_used: *mut u64,
) -> m2fa_status {
    ffi_boundary!({
        let (id, created, last_used) = (out_ptr(id)?, out_ptr(created)?, out_ptr(last_used)?);
        // SAFETY: forwarded contract.
        let app = unsafe { app_at(list, index) }?;
        // SAFETY: all checked non-NULL.
        unsafe {
            write_out(id, app.id);
            write_out(created, app.created);
            write_out(last_used, app.last_used.unwrap_or(0));
        }
        Ok(())
    })
}

/// Writes a text field (an `m2fa_app_password_field`) of entry `index` —
/// its name, or its scope (protocol names separated by commas, empty for
/// "any") — into `(buf, len)`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` (index out of
/// range), `M2FA_UNKNOWN_ENUM_VALUE` (field), `M2FA_BUFFER_TOO_SMALL`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_app_password_list_text(
    list: *const m2fa_app_password_list,
    index: usize,
    field: u32,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded contract.
        let app = unsafe { app_at(list, index) }?;
        let field =
            m2fa_app_password_field::from_u32(field).ok_or(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE)?;
        let text = match field {
            m2fa_app_password_field::M2FA_APP_PASSWORD_FIELD_NAME => app.name.clone(),
            m2fa_app_password_field::M2FA_APP_PASSWORD_FIELD_SCOPE => app
                .scope
                .iter()
                .map(Protocol::name)
                .collect::<Vec<_>>()
                .join(","),
        };
        // SAFETY: buffer contract of this function.
        unsafe { write_text(&text, buf, len, needed) }
    })
}

/// Frees an application password list. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_app_password_list_free(list: *mut m2fa_app_password_list) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(list) };
        Ok(())
    });
}
