//! `m2fa_policy`: what 2FA asks of a client on a protocol — the C
//! numbers and the engine calls that set and read a platform's or an
//! account's policy.

use core::ffi::c_char;

use super::boundary::{ffi_boundary, handle, out_ptr, str_arg, write_out};
use super::engine::{engine_and_account, m2fa_engine};
use super::protocol::protocol_arg;
use super::status::m2fa_status;
use crate::engine::ProtocolPolicy;
use crate::enum_table::c_enum_table;

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

c_enum_table! {
    impl m2fa_policy {
        /// The engine's policy; `None` removes an override.
        fn policy(self) -> Option<ProtocolPolicy>;
        M2FA_POLICY_DEFAULT => None,
        M2FA_POLICY_CODE_IN_LOGIN => Some(ProtocolPolicy::CodeInLogin),
        M2FA_POLICY_DEVICE_AUTHORIZATION => Some(ProtocolPolicy::DeviceAuthorization),
        M2FA_POLICY_APP_PASSWORD_ONLY => Some(ProtocolPolicy::AppPasswordOnly),
        M2FA_POLICY_REFUSED => Some(ProtocolPolicy::Refused),
    }
}

/// The engine policy of a C value (`None` for `M2FA_POLICY_DEFAULT`).
fn policy_from_c(policy: u32) -> Result<Option<ProtocolPolicy>, m2fa_status> {
    m2fa_policy::from_u32(policy)
        .map(m2fa_policy::policy)
        .ok_or(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE)
}

/// The C value of an engine policy.
fn policy_to_c(policy: ProtocolPolicy) -> u32 {
    (match policy {
        ProtocolPolicy::CodeInLogin => m2fa_policy::M2FA_POLICY_CODE_IN_LOGIN,
        ProtocolPolicy::DeviceAuthorization => m2fa_policy::M2FA_POLICY_DEVICE_AUTHORIZATION,
        ProtocolPolicy::AppPasswordOnly => m2fa_policy::M2FA_POLICY_APP_PASSWORD_ONLY,
        ProtocolPolicy::Refused => m2fa_policy::M2FA_POLICY_REFUSED,
    }) as u32
}

/// Sets a platform's policy (an `m2fa_policy`; `M2FA_POLICY_DEFAULT`
/// removes the override) for `protocol`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_convert_both_ways() {
        assert_eq!(policy_from_c(0), Ok(None));
        for value in 1..=4 {
            let policy = policy_from_c(value).unwrap().unwrap();
            assert_eq!(policy_to_c(policy), value);
        }
        for unknown in [5, 99, u32::MAX] {
            assert_eq!(
                policy_from_c(unknown),
                Err(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE)
            );
        }
    }
}
