//! The library's version: `m2fa_version` and the `M2FA_VERSION_*`
//! constants.

use core::ffi::{CStr, c_char};

/// Major version of the library (semantic versioning of the crate and ABI).
pub const M2FA_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const M2FA_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const M2FA_VERSION_PATCH: u32 = 0;

/// The library version as a static NUL-terminated string, e.g. `"0.1.0"`.
///
/// Never NULL; the string lives as long as the library is loaded.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn m2fa_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(version) => version,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_the_crate() {
        assert_eq!(
            M2FA_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            M2FA_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            M2FA_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        // SAFETY: m2fa_version returns a static NUL-terminated string.
        let version = unsafe { CStr::from_ptr(m2fa_version()) };
        assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
