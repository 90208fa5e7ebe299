//! `m2fa_account_name_check`: mail2fa's alphabet of platform and account
//! names, for hosts that want to refuse a user name before any other work.

use core::ffi::c_char;

use super::boundary::{ffi_boundary, str_arg};
use super::status::m2fa_status;
use crate::engine::AccountId;

/// Longest platform name accepted, in bytes (a DNS name's limit).
/// (A literal, so that cbindgen can write it; a test ties it to the crate's.)
pub const M2FA_MAX_PLATFORM_NAME_LEN: usize = 253;
/// Longest account name accepted, in bytes.
pub const M2FA_MAX_ACCOUNT_NAME_LEN: usize = 254;

/// Checks a platform and an account name against mail2fa's alphabet, the
/// one every call taking them applies (one spelling per account):
///
/// - platform: a lower-case DNS name (labels of `a`-`z`, `0`-`9`, `-`, 1 to
///   63 bytes, beginning and ending with a letter or digit, single dots
///   between them; at most 253 bytes);
/// - account: `local` or `local@domain`, the local part 1 to 64 bytes of
///   `a`-`z`, `0`-`9`, `.`, `-`, `_`, `+`, beginning and ending with a
///   letter or digit, no two dots in a row; the domain as a platform; at
///   most 254 bytes (`M2FA_MAX_ACCOUNT_NAME_LEN`; platforms
///   `M2FA_MAX_PLATFORM_NAME_LEN`).
///
/// Nothing is normalised: upper case, non-ASCII letters (full-width, the
/// Kelvin sign), a trailing dot, `\`, white space are refused. Map
/// internationalized names to one ASCII spelling (domains as Punycode
/// A-labels) before calling mail2fa, and enroll accounts under it.
///
/// Returns `M2FA_OK` for valid names; `M2FA_INVALID_NAME` otherwise (refuse
/// the login); `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`. Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_account_name_check(
    platform: *const c_char,
    account: *const c_char,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: NULL or NUL-terminated strings, per this function's contract.
        let platform = unsafe { str_arg(platform) }?;
        // SAFETY: as above.
        let account = unsafe { str_arg(account) }?;
        AccountId::new(platform, account)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    fn check(platform: &str, account: &str) -> m2fa_status {
        let platform = CString::new(platform).unwrap();
        let account = CString::new(account).unwrap();
        // SAFETY: two valid C strings.
        unsafe { m2fa_account_name_check(platform.as_ptr(), account.as_ptr()) }
    }

    #[test]
    fn limits_match_the_crate() {
        assert_eq!(
            M2FA_MAX_PLATFORM_NAME_LEN,
            crate::engine::MAX_PLATFORM_NAME_LEN
        );
        assert_eq!(
            M2FA_MAX_ACCOUNT_NAME_LEN,
            crate::engine::MAX_ACCOUNT_NAME_LEN
        );
    }

    #[test]
    fn names_in_and_out_of_the_alphabet() {
        assert_eq!(
            check("example.com", "alice@example.com"),
            m2fa_status::M2FA_OK
        );
        assert_eq!(
            check("example.com", "Alice@example.com"),
            m2fa_status::M2FA_INVALID_NAME
        );
        assert_eq!(
            check("example.com.", "alice@example.com"),
            m2fa_status::M2FA_INVALID_NAME
        );
        // SAFETY: NULL is allowed and refused.
        let status = unsafe { m2fa_account_name_check(core::ptr::null(), core::ptr::null()) };
        assert_eq!(status, m2fa_status::M2FA_NULL_ARGUMENT);
    }
}
