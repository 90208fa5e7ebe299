//! Mail clients for C hosts: the one login decision for every protocol
//! (`m2fa_engine_authenticate`), device tokens, notifications, application
//! passwords and per-protocol policy (S12–S16).

use core::ffi::c_char;

use zeroize::Zeroizing;

use super::engine::{
    account_call, engine_and_account, m2fa_decision, m2fa_engine, m2fa_engine_config, mode_to_c,
    read_decision, update_engine_config,
};
use super::{
    ffi_boundary, free_handle, handle, handle_mut, m2fa_status, optional_str_arg, out_ptr, str_arg,
    write_handle, write_out, write_text,
};
use crate::engine::{
    AllowReason, AppPasswordInfo, Channel, ClientInfo, Credential, Decision, DeviceId, DeviceKey,
    DevicePolicy, DeviceState, DeviceToken, EncryptionKeys, LoginRequest, Mode, Notification,
    Protocol, ProtocolPolicy,
};

/// Mail protocols, passed as `uint32_t`. `M2FA_PROTOCOL_OTHER` takes a
/// name beside it and means "the protocol of this name": a standard name
/// (`webmail`, `portal`, `activesync`, `outlook`, `imap`, `pop3`, `smtp`,
/// `rpc-over-http`, any case) is that protocol, any other name (1–32 bytes of
/// letters, digits, `-`, `_`, `.`; case ignored) a host-named one — so a host
/// holding a service name needs no table of its own. The other constants
/// ignore the name argument.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_protocol {
    /// Webmail.
    M2FA_PROTOCOL_WEBMAIL = 1,
    /// The account portal.
    M2FA_PROTOCOL_PORTAL = 2,
    /// Exchange ActiveSync.
    M2FA_PROTOCOL_ACTIVESYNC = 3,
    /// Outlook desktop (MAPI/HTTP, EWS).
    M2FA_PROTOCOL_OUTLOOK = 4,
    /// IMAP.
    M2FA_PROTOCOL_IMAP = 5,
    /// POP3.
    M2FA_PROTOCOL_POP3 = 6,
    /// SMTP submission.
    M2FA_PROTOCOL_SMTP = 7,
    /// RPC over HTTP.
    M2FA_PROTOCOL_RPC_OVER_HTTP = 8,
    /// A protocol named by the host.
    M2FA_PROTOCOL_OTHER = 99,
}

/// What 2FA asks of a client on a protocol, passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_policy {
    /// In setters: remove the override (fall back to the platform's policy,
    /// then the default).
    M2FA_POLICY_DEFAULT = 0,
    /// Password with a one-time code (webmail, portal by default).
    M2FA_POLICY_CODE_IN_LOGIN = 1,
    /// Password from an activated device, or an application password
    /// (ActiveSync, Outlook by default).
    M2FA_POLICY_DEVICE_AUTHORIZATION = 2,
    /// Application passwords only (IMAP, POP3, SMTP, RPC over HTTP and
    /// host-named protocols by default).
    M2FA_POLICY_APP_PASSWORD_ONLY = 3,
    /// Refused whatever the credential.
    M2FA_POLICY_REFUSED = 4,
}

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

/// Size of the buffer `m2fa_engine_app_password_create` needs: 23
/// characters (`xxxxx-xxxxx-xxxxx-xxxxx`) and the NUL.
pub const M2FA_APP_PASSWORD_SIZE: usize = 24;

/// Size of a device id in text (32 hex digits) with its NUL.
pub const M2FA_DEVICE_ID_SIZE: usize = 33;

/// One login as the host sees it (opaque, with setters): protocol,
/// credential, client. Not synchronised: one thread builds and uses it.
pub struct m2fa_login {
    protocol: Protocol,
    credential: StoredCredential,
    device_id: Option<String>,
    device_type: Option<String>,
    user_agent: Option<String>,
    remote_addr: Option<String>,
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

/// A message about a blocked device, to deliver (opaque, immutable).
pub struct m2fa_notification {
    notification: Notification,
}

/// A mailbox's device tokens, as listed (opaque, immutable).
pub struct m2fa_device_list {
    devices: Vec<DeviceToken>,
}

/// A mailbox's application passwords, as listed (opaque, immutable; never
/// the passwords themselves).
pub struct m2fa_app_password_list {
    apps: Vec<AppPasswordInfo>,
}

/// The protocol of a `(protocol, name)` pair from C.
///
/// # Safety
/// `name` is NULL or NUL-terminated.
unsafe fn protocol_arg(protocol: u32, name: *const c_char) -> Result<Protocol, m2fa_status> {
    Ok(match protocol {
        1 => Protocol::Webmail,
        2 => Protocol::Portal,
        3 => Protocol::ActiveSync,
        4 => Protocol::Outlook,
        5 => Protocol::Imap,
        6 => Protocol::Pop3,
        7 => Protocol::Smtp,
        8 => Protocol::RpcOverHttp,
        // By name: standard names are the standard protocols (never a
        // host-named alias of one); case is ignored.
        // SAFETY: forwarded contract.
        99 => Protocol::from_name(unsafe { str_arg(name) }?)?,
        _ => return Err(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE),
    })
}

fn policy_from_c(policy: u32) -> Result<Option<ProtocolPolicy>, m2fa_status> {
    Ok(Some(match policy {
        0 => return Ok(None),
        1 => ProtocolPolicy::CodeInLogin,
        2 => ProtocolPolicy::DeviceAuthorization,
        3 => ProtocolPolicy::AppPasswordOnly,
        4 => ProtocolPolicy::Refused,
        _ => return Err(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE),
    }))
}

fn policy_to_c(policy: ProtocolPolicy) -> u32 {
    (match policy {
        ProtocolPolicy::CodeInLogin => m2fa_policy::M2FA_POLICY_CODE_IN_LOGIN,
        ProtocolPolicy::DeviceAuthorization => m2fa_policy::M2FA_POLICY_DEVICE_AUTHORIZATION,
        ProtocolPolicy::AppPasswordOnly => m2fa_policy::M2FA_POLICY_APP_PASSWORD_ONLY,
        ProtocolPolicy::Refused => m2fa_policy::M2FA_POLICY_REFUSED,
    }) as u32
}

/// Sets the device policy: at most `max_pending` (1..=32) pending tokens
/// per mailbox, which expire `pending_ttl` seconds after last seen; one
/// notification per device per `notify_interval` seconds; last-seen times
/// written at most once per `seen_interval` seconds; a device bound for
/// `binding_period` seconds after a code login (0: never) — the same client
/// from the same network with the same password+code string gets in, the
/// password alone never does; `reset_revokes_clients`
/// ≠ 0: a 2FA reset also revokes device tokens and application passwords.
/// Defaults: 10, 30 days, 1 day, 300 s, 12 h, 0. `m2fa_engine_new` refuses
/// (`M2FA_INVALID_CONFIG`) a `max_pending` outside 1..=32, a zero
/// `pending_ttl` or `notify_interval`, a `seen_interval` not below
/// `pending_ttl`, and a `binding_period` above 30 days.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_devices(
    config: *mut m2fa_engine_config,
    max_pending: u32,
    pending_ttl: u64,
    notify_interval: u64,
    seen_interval: u64,
    binding_period: u64,
    reset_revokes_clients: u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_engine_config(config, |c| {
            c.devices = DevicePolicy {
                max_pending: usize::try_from(max_pending)
                    .map_err(|_| m2fa_status::M2FA_INVALID_CONFIG)?,
                pending_ttl,
                notify_interval,
                seen_interval,
                binding_period,
                reset_revokes_clients: reset_revokes_clients != 0,
            };
            Ok(())
        })
    }
}

/// Sets the 32-byte key of device fingerprints (copied). Without one, each
/// engine makes a random key: fine for one process on the in-memory store.
/// Every process sharing a store must use the same key.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_CONFIG` unless `len` is 32.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_device_key(
    config: *mut m2fa_engine_config,
    key: *const u8,
    len: usize,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_engine_config(config, |c| {
            let bytes = key_arg(key, len)?;
            c.device_key = Some(DeviceKey::from_bytes(*bytes));
            Ok(())
        })
    }
}

/// Adds a 32-byte key for encryption at rest of account records under
/// `key_id` (copied, wiped when the configuration is freed). `current` ≠ 0
/// makes it the key that seals every write (the previous current key still
/// opens what it sealed); `current` = 0 adds an older key, after a current
/// one was given. Without any key, records are stored in clear
/// (integrity-checked only).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_CONFIG` (length not 32, an
/// id given twice, an older key before any current one).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_add_encryption_key(
    config: *mut m2fa_engine_config,
    key_id: u32,
    key: *const u8,
    len: usize,
    current: u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        update_engine_config(config, |c| {
            let bytes = key_arg(key, len)?;
            // On an error the configuration keeps its keys.
            let keys = match (c.encryption.clone(), current != 0) {
                (None, true) => Ok(EncryptionKeys::new(key_id, *bytes)),
                (None, false) => Err(crate::Error::InvalidConfig(
                    "an older encryption key before the current one",
                )),
                (Some(keys), false) => keys.with_previous(key_id, *bytes),
                (Some(keys), true) => keys.with_current(key_id, *bytes),
            };
            match keys {
                Ok(keys) => {
                    c.encryption = Some(keys);
                    Ok(())
                }
                Err(error) => Err(error.into()),
            }
        })
    }
}

/// Sets the encryption keys of account records from the key file at
/// `path`, the format of the `mail2fa` tool's `--key-file`: one `ID:KEY`
/// per line — a decimal key id (`uint32_t`), a colon, then the key as 64
/// hex digits — the current key first, then older keys that still open
/// what they sealed; blank lines and lines starting with `#` are skipped.
/// The file must be a regular file (a symbolic link to one is followed)
/// of at most 64 KiB that neither group nor others may read or write
/// (mode 0600 or 0400). Its contents are wiped from memory once read; the
/// keys are wiped when the configuration is freed.
///
/// The file's keys replace every key the configuration had (from an
/// earlier load or from `m2fa_engine_config_add_encryption_key`). Keys
/// added afterwards with `m2fa_engine_config_add_encryption_key` compose
/// with them: `current` ≠ 0 makes the added key current (the file's keys
/// become older keys), `current` = 0 adds one more older key. On an error
/// the configuration keeps the keys it had.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`,
/// `M2FA_INVALID_KEY_FILE` (missing or unreadable, not a regular file,
/// open to group or others, too large, a line that is not `ID:KEY`, a key
/// id given twice, no key). The status does not say which line is wrong:
/// the `mail2fa` tool's `--key-file` names it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_load_key_file(
    config: *mut m2fa_engine_config,
    path: *const c_char,
) -> m2fa_status {
    // SAFETY: forwarded contract; path is NULL or NUL-terminated.
    unsafe {
        update_engine_config(config, |c| {
            let keys = EncryptionKeys::from_key_file(str_arg(path)?)?;
            c.encryption = Some(keys);
            Ok(())
        })
    }
}

/// A 32-byte key from C, copied into memory wiped on drop.
///
/// # Safety
/// `key` is NULL or readable for `len` bytes.
unsafe fn key_arg(key: *const u8, len: usize) -> Result<Zeroizing<[u8; 32]>, m2fa_status> {
    if key.is_null() {
        return Err(m2fa_status::M2FA_NULL_ARGUMENT);
    }
    if len != 32 {
        return Err(m2fa_status::M2FA_INVALID_CONFIG);
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    // SAFETY: non-NULL and readable for len = 32 bytes per the contract.
    bytes.copy_from_slice(unsafe { core::slice::from_raw_parts(key, 32) });
    Ok(bytes)
}

/// Sets the portal link of notifications (NULL: none), with the
/// placeholders `{platform}`, `{account}` and `{device}`.
///
/// Errors: `M2FA_NULL_ARGUMENT` (config), `M2FA_INVALID_UTF8`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_config_set_portal_link(
    config: *mut m2fa_engine_config,
    link: *const c_char,
) -> m2fa_status {
    // SAFETY: forwarded contract; link is NULL or NUL-terminated.
    unsafe {
        update_engine_config(config, |c| {
            c.portal_link = optional_str_arg(link)?.map(str::to_owned);
            Ok(())
        })
    }
}

/// Starts a login over `protocol` (`name` for `M2FA_PROTOCOL_OTHER`, else
/// ignored). Its credential is "wrong password" until set; client fields
/// are unknown until set. Release with `m2fa_login_free`.
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
            device_id: None,
            device_type: None,
            user_agent: None,
            remote_addr: None,
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
            (l.device_id, l.device_type, l.user_agent, l.remote_addr) = fields;
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

/// The decision for a whole login (S12–S16): `*out` receives it. A valid
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
                client: ClientInfo {
                    device_id: login.device_id.as_deref(),
                    device_type: login.device_type.as_deref(),
                    user_agent: login.user_agent.as_deref(),
                    remote_addr: login.remote_addr.as_deref(),
                },
            };
            let decision = e.authenticate(&id, &request, now)?;
            let audit = decision
                .audit_event(&id, now)
                .with_protocol(&login.protocol)
                .to_string();
            let handle = m2fa_decision {
                decision,
                uri: None,
                audit,
            };
            // SAFETY: out checked non-NULL.
            unsafe { write_handle(out, handle) };
            Ok(())
        }
    })
}

/// `m2fa_engine_split_login` for a login over `protocol`: a code is split
/// off only where the protocol's policy takes one (code in login).
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

/// Writes the device token id (32 hex digits) of a device-pending or
/// device-authorized decision into `(buf, len)`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`),
/// `M2FA_INVALID_ARGUMENT` when no device is involved.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_device(
    decision: *const m2fa_decision,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let decision = unsafe { handle(decision) }?;
        let device = decision
            .decision
            .device()
            .ok_or(m2fa_status::M2FA_INVALID_ARGUMENT)?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(&device.to_string(), buf, len, needed) }
    })
}

/// Writes the number of the application password of
/// `M2FA_REASON_APP_PASSWORD`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other reasons.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_app_password_id(
    decision: *const m2fa_decision,
    id: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, id, |d| match d.decision {
            Decision::Allow {
                reason: AllowReason::AppPassword { id },
                ..
            } => Some(id),
            _ => None,
        })
    }
}

/// Copies the notification of a device-pending decision into a new handle
/// `*out` (release with `m2fa_notification_free`).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` when there is none
/// to send (the user was told recently, or has no destination).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_notification(
    decision: *const m2fa_decision,
    out: *mut *mut m2fa_notification,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: live handle per the contract.
        let decision = unsafe { handle(decision) }?;
        let notification = decision
            .decision
            .notification()
            .ok_or(m2fa_status::M2FA_INVALID_ARGUMENT)?
            .clone();
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_notification { notification }) };
        Ok(())
    })
}

/// The host could not deliver the SMS about `device` (S13): `*out`
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
        let channel = out_ptr(channel)?;
        // SAFETY: live handle per the contract.
        let n = unsafe { handle(notification) }?;
        let (kind, to) = match &n.notification.channel {
            Channel::Email(to) => (Mode::Email, to),
            Channel::Sms(to) => (Mode::Sms, to),
        };
        // SAFETY: buffer contract of this function.
        unsafe { write_text(to, buf, len, needed) }?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(channel, mode_to_c(kind)) };
        Ok(())
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
        let text = match field {
            1 => {
                id = device.id.to_string();
                id.as_str()
            }
            2 => device.protocol.name(),
            3 => device.device_id.as_deref().unwrap_or(""),
            4 => device.device_type.as_deref().unwrap_or(""),
            5 => device.user_agent.as_deref().unwrap_or(""),
            6 => device.remote_addr.as_deref().unwrap_or(""),
            _ => return Err(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE),
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

/// Activates a device token (S14): that device gets in from now on.
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

/// Deactivates a device token (S14): the device is blocked again.
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

/// Deletes a device token (S14): the device is unknown again.
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

/// Makes an application password (S16) named `name` (1–64 bytes, unique
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
        let text = match field {
            1 => app.name.clone(),
            2 => app
                .scope
                .iter()
                .map(Protocol::name)
                .collect::<Vec<_>>()
                .join(","),
            _ => return Err(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE),
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

/// Sets a platform's policy (an `m2fa_policy`; `M2FA_POLICY_DEFAULT`
/// removes the override) for `protocol` (S15).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`
/// (a platform name outside mail2fa's alphabet), `M2FA_INVALID_CONFIG` (a
/// bad protocol name, a policy other than code-in-login or refused for the
/// portal), `M2FA_UNKNOWN_ENUM_VALUE`, `M2FA_LIMIT_REACHED`, storage
/// errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_set_platform_policy(
    engine: *const m2fa_engine,
    platform: *const c_char,
    protocol: u32,
    name: *const c_char,
    policy: u32,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle and NUL-terminated strings per the contract.
        let (engine, platform, protocol) = unsafe {
            (
                handle(engine)?,
                str_arg(platform)?,
                protocol_arg(protocol, name)?,
            )
        };
        let policy = policy_from_c(policy)?;
        engine
            .engine
            .set_platform_policy(platform, &protocol, policy)?;
        Ok(())
    })
}

/// Sets an account's own policy for `protocol` (wins over the
/// platform's; `M2FA_POLICY_DEFAULT` removes it).
///
/// Errors: as `m2fa_engine_set_platform_policy`, and `M2FA_NOT_ENABLED`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_set_account_policy(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    protocol: u32,
    name: *const c_char,
    policy: u32,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        // SAFETY: name is NULL or NUL-terminated.
        let protocol = unsafe { protocol_arg(protocol, name) }?;
        engine.set_account_policy(&id, &protocol, policy_from_c(policy)?)?;
        Ok(())
    })
}

/// Writes the policy (an `m2fa_policy`, never `M2FA_POLICY_DEFAULT`) that
/// applies to the account on `protocol`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_NAME`
/// (a platform or account name outside mail2fa's alphabet),
/// `M2FA_INVALID_CONFIG` (a bad protocol name), `M2FA_UNKNOWN_ENUM_VALUE`,
/// `M2FA_NOT_ENABLED`, storage errors.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_protocol_policy(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    protocol: u32,
    name: *const c_char,
    policy: *mut u32,
) -> m2fa_status {
    ffi_boundary!({
        let policy = out_ptr(policy)?;
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        // SAFETY: name is NULL or NUL-terminated.
        let protocol = unsafe { protocol_arg(protocol, name) }?;
        let value = policy_to_c(engine.protocol_policy(&id, &protocol)?);
        // SAFETY: checked non-NULL.
        unsafe { write_out(policy, value) };
        Ok(())
    })
}
