//! Gives the shared library a versioned SONAME when it is built (by
//! `scripts/build-capi.sh`, as a cdylib). The rlib Rust users get is unaffected.
//!
//! SONAME policy: `libmail2fa.so.0.<minor>` while the version is 0.x (each
//! 0.x minor may change the ABI), `libmail2fa.so.<major>` from 1.0 on.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let soname = if major == "0" {
        format!("libmail2fa.so.0.{minor}")
    } else {
        format!("libmail2fa.so.{major}")
    };
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        target_os.as_str(),
        "linux" | "freebsd" | "netbsd" | "openbsd" | "dragonfly"
    ) {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
}
