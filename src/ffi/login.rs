//! `m2fa_login` and the login calls of an `m2fa_engine` that take a
//! credential the host worked out: the decision for a whole login on any
//! protocol (`m2fa_engine_authenticate`),
//! the second-factor step alone (`m2fa_engine_login`), and splitting a
//! password+code string. The one-call login of a mail client is in
//! `check_login.rs`.

use core::ffi::c_char;

use zeroize::Zeroizing;

use super::boundary::{
    ffi_boundary, free_handle, handle, handle_mut, optional_str_arg, out_ptr, str_arg,
    write_handle, write_out,
};
use super::decision::{decide, m2fa_decision, write_login_decision};
use super::engine::{engine_and_account, m2fa_engine};
use super::protocol::protocol_arg;
use super::status::m2fa_status;
use crate::engine::{ClientInfo, Credential, LoginRequest, Protocol};

/// One login as the host sees it (opaque, with setters): protocol,
/// credential, client. Not synchronised: one thread builds and uses it.
pub struct m2fa_login {
    pub(super) protocol: Protocol,
    credential: StoredCredential,
    pub(super) client: ClientFields,
}

/// What the host knows about the client, owned.
#[derive(Clone, Default)]
pub(super) struct ClientFields {
    device_id: Option<String>,
    device_type: Option<String>,
    user_agent: Option<String>,
    remote_addr: Option<String>,
}

impl ClientFields {
    /// The fields as the engine takes them.
    pub(super) fn info(&self) -> ClientInfo<'_> {
        ClientInfo {
            device_id: self.device_id.as_deref(),
            device_type: self.device_type.as_deref(),
            user_agent: self.user_agent.as_deref(),
            remote_addr: self.remote_addr.as_deref(),
        }
    }
}

/// The credential, owned (and wiped on drop).
enum StoredCredential {
    Password {
        correct: bool,
    },
    PasswordAndCode {
        correct: bool,
        code: Zeroizing<String>,
    },
    AppPassword(Zeroizing<String>),
}

/// Starts a login over `protocol` (`name` for `M2FA_PROTOCOL_OTHER`, else
/// ignored). Its credential is "wrong password" until set; client fields
/// are unknown until set. `m2fa_engine_check_login` and
/// `m2fa_engine_begin_login` take its protocol and client fields only.
/// Release with `m2fa_login_free`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`,
/// `M2FA_UNKNOWN_ENUM_VALUE`, `M2FA_INVALID_CONFIG` (bad protocol name).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_login_new(
    protocol: u32,
    name: *const c_char,
    out: *mut *mut m2fa_login,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: name is NULL or NUL-terminated.
        let protocol = unsafe { protocol_arg(protocol, name) }?;
        let login = m2fa_login {
            protocol,
            credential: StoredCredential::Password { correct: false },
            client: ClientFields::default(),
        };
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, login) };
        Ok(())
    })
}

/// Applies `change` to a login.
///
/// # Safety
/// `login` is NULL or live and used by no other thread.
unsafe fn update_login(
    login: *mut m2fa_login,
    change: impl FnOnce(&mut m2fa_login) -> Result<(), m2fa_status>,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded contract.
        change(unsafe { handle_mut(login) }?)
    })
}

/// The credential is the account password alone; `correct` ≠ 0 if the
/// host's password check succeeded.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_login_set_password(
    login: *mut m2fa_login,
    correct: u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_login(login, |l| {
            l.credential = StoredCredential::Password {
                correct: correct != 0,
            };
            Ok(())
        })
    }
}

/// The credential is the account password (`correct` ≠ 0: the host's check
/// succeeded) with a one-time code (copied, wiped on free).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_login_set_password_and_code(
    login: *mut m2fa_login,
    correct: u32,
    code: *const c_char,
) -> m2fa_status {
    // SAFETY: forwarded contract; code is NUL-terminated.
    unsafe {
        update_login(login, |l| {
            let code = Zeroizing::new(str_arg(code)?.to_owned());
            l.credential = StoredCredential::PasswordAndCode {
                correct: correct != 0,
                code,
            };
            Ok(())
        })
    }
}

/// The credential is not the account password (the host's check failed):
/// `input` may be an application password (copied, wiped on free).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_login_set_app_password(
    login: *mut m2fa_login,
    input: *const c_char,
) -> m2fa_status {
    // SAFETY: forwarded contract; input is NUL-terminated.
    unsafe {
        update_login(login, |l| {
            let input = Zeroizing::new(str_arg(input)?.to_owned());
            l.credential = StoredCredential::AppPassword(input);
            Ok(())
        })
    }
}

/// What the host knows about the client; each may be NULL (unknown):
/// device id, device type, user agent (at most 256 bytes each), remote IP
/// address as text. Checked by `m2fa_engine_authenticate`.
///
/// Errors: `M2FA_NULL_ARGUMENT` (login), `M2FA_INVALID_UTF8`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_login_set_client(
    login: *mut m2fa_login,
    device_id: *const c_char,
    device_type: *const c_char,
    user_agent: *const c_char,
    remote_addr: *const c_char,
) -> m2fa_status {
    // SAFETY: forwarded contract; each string NULL or NUL-terminated.
    unsafe {
        update_login(login, |l| {
            let owned = |p| optional_str_arg(p).map(|s| s.map(str::to_owned));
            // All read first: on an error, the login keeps its old fields.
            let fields = (
                owned(device_id)?,
                owned(device_type)?,
                owned(user_agent)?,
                owned(remote_addr)?,
            );
            let c = &mut l.client;
            (c.device_id, c.device_type, c.user_agent, c.remote_addr) = fields;
            Ok(())
        })
    }
}

/// Frees a login (its code or application password is wiped). NULL is a
/// no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_login_free(login: *mut m2fa_login) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(login) };
        Ok(())
    });
}

/// The decision for a whole login whose credential the host has
/// already worked out (`m2fa_login_set_*`): `*out` receives it. A mail
/// client's login — one password field — takes `m2fa_engine_check_login`
/// instead (split, password check and decision in one call, each record
/// read once); this call stays for hosts with a separate code field (a
/// portal or webmail form), whose password and code arrive apart. A valid
/// code has been consumed, a device token recorded, an application
/// password's use noted when this returns. Outcomes: allowed, device
/// pending (with maybe a notification to deliver), code or enrollment
/// required, refused (the reason says why: wrong password, protocol
/// refused, application password required…). Where the policy is code in
/// login, a client bound by an earlier code login is allowed
/// (`M2FA_REASON_DEVICE_TRUSTED`) only with the same password+code string,
/// from the same device and network; the password alone asks for a code.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`
/// (a platform or account name outside mail2fa's alphabet: never retry
/// with another spelling), `M2FA_INVALID_INPUT` (a client field too long or with control
/// characters, an address that is not an IP address, a NUL-less or
/// over-long credential), `M2FA_CORRUPT_RECORD`, storage errors — refuse
/// the login on any of them.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_authenticate(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    login: *const m2fa_login,
    now: u64,
    out: *mut *mut m2fa_decision,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded pointer contracts; login is NULL or live.
        let (e, id) = unsafe { engine_and_account(engine, platform, account) }?;
        // SAFETY: as above.
        let login = unsafe { handle(login) }?;
        {
            let credential = match &login.credential {
                StoredCredential::Password { correct } => {
                    Credential::Password { correct: *correct }
                }
                StoredCredential::PasswordAndCode { correct, code } => {
                    Credential::PasswordAndCode {
                        correct: *correct,
                        code,
                    }
                }
                StoredCredential::AppPassword(input) => Credential::AppPassword(input),
            };
            let request = LoginRequest {
                protocol: login.protocol.clone(),
                credential,
                client: login.client.info(),
            };
            let decision = e.authenticate(&id, &request, now)?;
            // SAFETY: out checked non-NULL.
            unsafe { write_login_decision(out, decision, &id, &login.protocol, now) };
            Ok(())
        }
    })
}

/// The second-factor decision for a login whose password the host has
/// checked; `code` is what the client gave (NULL: nothing). `*out` receives
/// the decision; a valid code has been consumed when this returns.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`
/// (a platform or account name outside mail2fa's alphabet: never retry
/// with another spelling), `M2FA_CORRUPT_RECORD`, storage errors — refuse
/// the login on any of them.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_login(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    code: *const c_char,
    now: u64,
    out: *mut *mut m2fa_decision,
) -> m2fa_status {
    // SAFETY: forwarded contract; code is NULL or NUL-terminated.
    unsafe {
        decide(engine, platform, account, now, out, |e, id| {
            let code = optional_str_arg(code)?;
            Ok((e.login(id, code, now)?, None))
        })
    }
}

/// Splits a password+code string for this account (a new host calls
/// `m2fa_engine_check_login`, which splits inside): only when its
/// second factor is active, by exactly its digits. `*password_len` receives
/// the length of the password part (`input[0..password_len]`); `*has_code`
/// is 1 when a code follows it (`input + password_len`), else 0. Nothing is
/// copied.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_INPUT`,
/// `M2FA_INVALID_NAME`, `M2FA_CORRUPT_RECORD`, storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_split_login(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    input: *const c_char,
    now: u64,
    password_len: *mut usize,
    has_code: *mut u32,
) -> m2fa_status {
    ffi_boundary!({
        let (password_len, has_code) = (out_ptr(password_len)?, out_ptr(has_code)?);
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        // SAFETY: input is NUL-terminated.
        let input = unsafe { str_arg(input) }?;
        let (password, code) = engine.split_login(&id, input, now)?;
        // SAFETY: both checked non-NULL.
        unsafe {
            write_out(password_len, password.len());
            write_out(has_code, u32::from(code.is_some()));
        }
        Ok(())
    })
}

/// `m2fa_engine_split_login` for a login over `protocol`: a code is split
/// off only where the protocol's policy takes one (code in login). A new
/// host calls `m2fa_engine_check_login` (or, in a PAM stack,
/// `m2fa_engine_begin_login`), which split inside and read the records
/// once for the whole login.
///
/// Errors: as `m2fa_engine_split_login`, and `M2FA_UNKNOWN_ENUM_VALUE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_split_login_for(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    protocol: u32,
    name: *const c_char,
    input: *const c_char,
    now: u64,
    password_len: *mut usize,
    has_code: *mut u32,
) -> m2fa_status {
    ffi_boundary!({
        let (password_len, has_code) = (out_ptr(password_len)?, out_ptr(has_code)?);
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        // SAFETY: name and input are NULL or NUL-terminated.
        let (protocol, input) = unsafe { (protocol_arg(protocol, name)?, str_arg(input)?) };
        let (password, code) = engine.split_login_for(&id, &protocol, input, now)?;
        // SAFETY: both checked non-NULL.
        unsafe {
            write_out(password_len, password.len());
            write_out(has_code, u32::from(code.is_some()));
        }
        Ok(())
    })
}
