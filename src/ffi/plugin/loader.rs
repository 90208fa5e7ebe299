//! The C library's side: finding `libmail2fa-postgres.so`, checking who
//! controls it, loading it once per process and checking its table.
//!
//! Where it is looked for — never where an environment variable says (the
//! PAM module runs in setuid programs):
//! 1. `mail2fa/` beside the object this code is linked into:
//!    `/usr/lib/<triplet>/mail2fa/` for `libmail2fa.so`, the module's or
//!    the program's own directory's `mail2fa/` where `libmail2fa.a` was
//!    linked in statically;
//! 2. the directory fixed when the library was built
//!    (`MAIL2FA_PLUGIN_DIR` at build time, set by scripts/build-capi.sh;
//!    by default `/usr/lib/<multiarch>/mail2fa`).
//!
//! The first of these where the file exists is the one: the file and its
//! directory must belong to root or to this process's effective user and
//! must not be writable by group or others, or it is refused (as the
//! configuration's key files are). It is loaded once, never unloaded; a
//! failure is not remembered, so that a plugin installed later is found
//! by the next call.

use core::ffi::{CStr, c_char, c_int, c_void};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use super::abi::{ABI_VERSION, ENTRY_POINT, FILE_NAME, PACKAGE, Table, VERSION};
use crate::config::permissions::check_owner_and_mode;
use crate::store::StoreError;

/// Debian's directory for this architecture, when the build names none.
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
const MULTIARCH_DIR: &str = "/usr/lib/x86_64-linux-gnu/mail2fa";
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "aarch64"))]
const MULTIARCH_DIR: &str = "/usr/lib/aarch64-linux-gnu/mail2fa";
#[cfg(not(all(
    target_os = "linux",
    target_env = "gnu",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
const MULTIARCH_DIR: &str = "/usr/lib/mail2fa";

/// The directory fixed at build time.
const BUILT_IN_DIR: &str = match option_env!("MAIL2FA_PLUGIN_DIR") {
    Some(dir) => dir,
    None => MULTIARCH_DIR,
};

const RTLD_NOW: c_int = 2;

#[repr(C)]
struct DlInfo {
    dli_fname: *const c_char,
    dli_fbase: *mut c_void,
    dli_sname: *const c_char,
    dli_saddr: *mut c_void,
}

// libdl's functions (in glibc's libc since 2.34; -ldl links them before).
unsafe extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *mut c_char;
    fn dladdr(address: *const c_void, info: *mut DlInfo) -> c_int;
    /// argv[0] (glibc, musl): what `dladdr` names the main program by.
    static program_invocation_name: *mut c_char;
}

/// Why the plugin could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PluginError {
    /// No plugin in any of the directories looked at.
    Missing {
        /// The paths looked at, in order.
        looked_at: Vec<PathBuf>,
    },
    /// A plugin was found and refused.
    Refused {
        /// The file.
        path: PathBuf,
        /// Why, with the fix.
        problem: String,
    },
}

impl core::fmt::Display for PluginError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Missing { looked_at } => {
                let paths: Vec<String> =
                    looked_at.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "PostgreSQL support is not installed: this build of mail2fa loads it from \
                     a plugin, and there is none at {}; install the package {PACKAGE}",
                    paths.join(" or ")
                )
            }
            Self::Refused { path, problem } => {
                write!(
                    f,
                    "the PostgreSQL plugin {} is refused: {problem}",
                    path.display()
                )
            }
        }
    }
}

impl From<PluginError> for StoreError {
    fn from(error: PluginError) -> Self {
        StoreError::Backend(error.to_string())
    }
}

/// The plugin's table, loaded on the first call (once per process; a
/// failure is tried again by the next call).
pub(crate) fn plugin() -> Result<&'static Table, PluginError> {
    static LOADED: OnceLock<&'static Table> = OnceLock::new();
    static LOADING: Mutex<()> = Mutex::new(());
    if let Some(table) = LOADED.get() {
        return Ok(table);
    }
    // One thread loads; the others wait and find it loaded.
    let _loading = LOADING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(table) = LOADED.get() {
        return Ok(table);
    }
    let table = load_from(&search_path())?;
    Ok(LOADED.get_or_init(|| table))
}

/// The directories searched, in order (see the module's documentation).
pub(crate) fn search_path() -> Vec<PathBuf> {
    let mut dirs = Vec::with_capacity(2);
    if let Some(own) = own_directory() {
        dirs.push(own.join("mail2fa"));
    }
    let built_in = PathBuf::from(BUILT_IN_DIR);
    if !dirs.contains(&built_in) {
        dirs.push(built_in);
    }
    dirs
}

/// The directory of the object (shared library, module or program) this
/// function is linked into. A main program is known by the kernel's
/// `/proc/self/exe`, not by `dladdr`'s answer for it, which is argv[0]
/// (chosen by whoever started a setuid program); a relative name (found
/// through the current directory) is not used.
fn own_directory() -> Option<PathBuf> {
    let mut info = DlInfo {
        dli_fname: core::ptr::null(),
        dli_fbase: core::ptr::null_mut(),
        dli_sname: core::ptr::null(),
        dli_saddr: core::ptr::null_mut(),
    };
    let address = own_directory as fn() -> Option<PathBuf> as *const c_void;
    // SAFETY: dladdr writes `info`, a live local, and reads nothing of ours.
    if unsafe { dladdr(address, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr's name is NUL-terminated and lives as long as the
    // object; program_invocation_name is NULL or argv[0].
    let (name, program) = unsafe {
        let program = program_invocation_name;
        (
            CStr::from_ptr(info.dli_fname),
            (!program.is_null()).then(|| CStr::from_ptr(program)),
        )
    };
    let path = if name.is_empty() || program == Some(name) {
        std::env::current_exe().ok()?
    } else {
        PathBuf::from(OsStr::from_bytes(name.to_bytes()))
    };
    if !path.is_absolute() {
        return None;
    }
    path.parent().map(Path::to_path_buf)
}

/// Loads the plugin from the first of `dirs` that holds one, after the
/// checks; not cached (see [`plugin`]).
pub(crate) fn load_from(dirs: &[PathBuf]) -> Result<&'static Table, PluginError> {
    let looked_at: Vec<PathBuf> = dirs.iter().map(|dir| dir.join(FILE_NAME)).collect();
    let Some(path) = looked_at.iter().find(|path| path.exists()) else {
        return Err(PluginError::Missing { looked_at });
    };
    let refused = |path: &Path, problem: String| PluginError::Refused {
        path: path.to_path_buf(),
        problem,
    };
    // What is loaded is what is checked: the file a link points to, in
    // its own directory.
    let real = std::fs::canonicalize(path).map_err(|e| refused(path, e.to_string()))?;
    check_controlled(&real).map_err(|problem| refused(path, problem))?;
    // SAFETY: loading a shared object runs its initialisers: the plugin
    // passed the checks of who controls it.
    let table = unsafe { open_table(&real) }.map_err(|problem| refused(path, problem))?;
    // SAFETY: the entry point's table, static in a plugin never unloaded.
    unsafe { check_table(table) }.map_err(|problem| refused(path, problem))
}

/// The plugin file and its directory: owned by root or this process's
/// effective user, writable by nobody else.
fn check_controlled(file: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(file).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    check_owner_and_mode(&meta, file, 0o022)?;
    if let Some(dir) = file.parent() {
        let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        check_owner_and_mode(&meta, dir, 0o022)
            .map_err(|problem| format!("its directory {} {problem}", dir.display()))?;
    }
    Ok(())
}

/// `dlopen` and the entry point's table (not yet checked).
///
/// # Safety
/// Loads and initialises the shared object at `path`.
unsafe fn open_table(path: &Path) -> Result<*const Table, String> {
    let mut name = path.as_os_str().as_bytes().to_vec();
    name.push(0);
    // SAFETY: a NUL-terminated path; dlerror's text is NUL-terminated and
    // read at once (the handle is never closed: the table stays valid).
    unsafe {
        let handle = dlopen(name.as_ptr().cast(), RTLD_NOW);
        if handle.is_null() {
            return Err(last_dl_error("cannot be loaded"));
        }
        let entry = dlsym(handle, ENTRY_POINT.as_ptr());
        if entry.is_null() {
            return Err(last_dl_error(
                "is not a mail2fa PostgreSQL plugin (no m2fa_postgres_plugin_v1)",
            ));
        }
        let entry: extern "C" fn() -> *const Table = core::mem::transmute(entry);
        Ok(entry())
    }
}

/// `what`, with `dlerror`'s text.
///
/// # Safety
/// Calls `dlerror` (thread-local in glibc).
unsafe fn last_dl_error(what: &str) -> String {
    // SAFETY: NULL or a NUL-terminated string valid until the next dl call.
    let text = unsafe {
        let error = dlerror();
        (!error.is_null()).then(|| CStr::from_ptr(error).to_string_lossy().into_owned())
    };
    match text {
        Some(text) => format!("{what}: {text}"),
        None => what.to_owned(),
    }
}

/// The table, if it is of this ABI and this mail2fa version.
///
/// # Safety
/// `table` is NULL or points to a table that lives for the rest of the
/// process and begins as every ABI's does (`abi_version`, `version`).
pub(crate) unsafe fn check_table(table: *const Table) -> Result<&'static Table, String> {
    // SAFETY: per the contract; only the first field is read before the
    // ABI is known.
    let Some(table) = (unsafe { table.as_ref() }) else {
        return Err("its entry point gave no table".into());
    };
    if table.abi_version != ABI_VERSION {
        return Err(format!(
            "it speaks the plugin interface {}, this library {ABI_VERSION}; install the {PACKAGE} \
             package of the same version as the library",
            table.abi_version
        ));
    }
    let ours = &VERSION[..VERSION.len() - 1];
    let theirs = if table.version.is_null() {
        "(none)".to_owned()
    } else {
        // SAFETY: this ABI's version field: a static NUL-terminated string.
        unsafe { CStr::from_ptr(table.version) }
            .to_string_lossy()
            .into_owned()
    };
    if theirs != ours {
        return Err(format!(
            "it is of mail2fa {theirs}, this library is mail2fa {ours}: install the {PACKAGE} \
             package of version {ours}"
        ));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::super::abi::{Bytes, Failure, Options, RecordSink, TextSink};
    use super::*;

    /// A fresh directory (mode 0755) under the system's temporary one,
    /// removed with its contents on drop.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    impl core::ops::Deref for Scratch {
        type Target = PathBuf;

        fn deref(&self) -> &PathBuf {
            &self.0
        }
    }

    fn scratch(name: &str) -> Scratch {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mail2fa-plugin-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(dir)
    }

    /// A plugin file holding `bytes`, of `mode`.
    fn plugin_file(dir: &Path, mode: u32, bytes: &[u8]) -> PathBuf {
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, bytes).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn a_missing_plugin_names_every_path_and_the_package() {
        let (first, second) = (scratch("first"), scratch("second"));
        let error = load_from(&[first.to_path_buf(), second.to_path_buf()]).unwrap_err();
        assert_eq!(
            error,
            PluginError::Missing {
                looked_at: vec![first.join(FILE_NAME), second.join(FILE_NAME)]
            }
        );
        let message = StoreError::from(error).to_string();
        for wanted in [
            "PostgreSQL support is not installed".to_owned(),
            first.join(FILE_NAME).display().to_string(),
            second.join(FILE_NAME).display().to_string(),
            format!("install the package {PACKAGE}"),
        ] {
            assert!(message.contains(&wanted), "{wanted:?} not in {message:?}");
        }
    }

    #[test]
    fn a_plugin_others_may_write_is_refused_with_the_fix() {
        let dir = scratch("writable");
        let path = plugin_file(&dir, 0o666, b"not loaded");
        let error = load_from(std::slice::from_ref(&*dir)).unwrap_err();
        let PluginError::Refused {
            path: refused,
            problem,
        } = &error
        else {
            panic!("{error:?}");
        };
        assert_eq!(refused, &path);
        assert!(
            problem.contains("group or others may write it"),
            "{problem}"
        );
        assert!(
            problem.contains(&format!("chmod go-w {}", path.display())),
            "{problem}"
        );
        assert!(
            error.to_string().starts_with("the PostgreSQL plugin"),
            "{error}"
        );
    }

    #[test]
    fn a_plugin_in_a_directory_others_may_write_is_refused() {
        let dir = scratch("open-dir");
        plugin_file(&dir, 0o644, b"not loaded");
        std::fs::set_permissions(&*dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = load_from(std::slice::from_ref(&*dir)).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("its directory"), "{message}");
        assert!(
            message.contains(&format!("chmod go-w {}", dir.display())),
            "{message}"
        );
    }

    #[test]
    fn the_first_plugin_found_decides() {
        // A refused plugin is not passed over for one further down the
        // path: the administrator learns of it.
        let (first, second) = (scratch("refused-first"), scratch("second"));
        plugin_file(&first, 0o646, b"not loaded");
        plugin_file(&second, 0o644, b"not loaded either");
        let error = load_from(&[first.to_path_buf(), second.to_path_buf()]).unwrap_err();
        assert!(
            matches!(&error, PluginError::Refused { path, .. } if path.starts_with(&*first)),
            "{error:?}"
        );
    }

    #[test]
    fn a_file_that_is_no_shared_object_is_refused_with_the_loaders_reason() {
        let dir = scratch("garbage");
        plugin_file(&dir, 0o644, b"this is not an ELF file");
        let message = load_from(std::slice::from_ref(&*dir))
            .unwrap_err()
            .to_string();
        assert!(message.contains("cannot be loaded"), "{message}");
    }

    #[test]
    fn the_search_path_is_beside_this_object_then_the_built_in_directory() {
        let dirs = search_path();
        // The test program is a main program: its directory, as the kernel
        // knows it (never argv[0]).
        let exe = std::env::current_exe().unwrap();
        assert_eq!(dirs[0], exe.parent().unwrap().join("mail2fa"));
        assert_eq!(dirs.last().unwrap(), Path::new(BUILT_IN_DIR));
        assert!(dirs.iter().all(|dir| dir.is_absolute()));
    }

    // A table of this ABI with functions that are never called: for the
    // checks of its version fields.
    unsafe extern "C" fn open(
        _: Bytes,
        _: *const Options,
        _: *mut *mut c_void,
        _: *mut Failure,
    ) -> u32 {
        unreachable!()
    }
    unsafe extern "C" fn close(_: *mut c_void) {}
    unsafe extern "C" fn load(
        _: *const c_void,
        _: Bytes,
        _: RecordSink,
        _: *mut c_void,
        _: *mut Failure,
    ) -> u32 {
        unreachable!()
    }
    unsafe extern "C" fn load_many(
        _: *const c_void,
        _: *const Bytes,
        _: usize,
        _: RecordSink,
        _: *mut c_void,
        _: *mut Failure,
    ) -> u32 {
        unreachable!()
    }
    #[allow(clippy::too_many_arguments)]
    unsafe extern "C" fn compare_and_swap(
        _: *const c_void,
        _: Bytes,
        _: *const u64,
        _: *const Bytes,
        _: u8,
        _: *mut u8,
        _: *mut u64,
        _: *mut Failure,
    ) -> u32 {
        unreachable!()
    }
    unsafe extern "C" fn scan(
        _: *const c_void,
        _: *const Bytes,
        _: usize,
        _: RecordSink,
        _: *mut c_void,
        _: *mut Failure,
    ) -> u32 {
        unreachable!()
    }
    unsafe extern "C" fn scrub(_: *const c_void, _: *mut Failure) -> u32 {
        unreachable!()
    }
    unsafe extern "C" fn plan(_: Bytes, _: TextSink, _: *mut c_void, _: *mut Failure) -> u32 {
        unreachable!()
    }

    fn table(abi_version: u32, version: &'static CStr) -> &'static Table {
        Box::leak(Box::new(Table {
            abi_version,
            version: version.as_ptr(),
            open,
            close,
            load,
            load_many,
            compare_and_swap,
            scan,
            scrub,
            plan,
        }))
    }

    #[test]
    fn a_plugin_of_another_version_is_refused_naming_both() {
        let ours = env!("CARGO_PKG_VERSION");
        let other = table(ABI_VERSION, c"0.0.1-other");
        // SAFETY: a leaked table, alive for the rest of the test program.
        let problem = unsafe { check_table(other) }.unwrap_err();
        assert!(problem.contains("mail2fa 0.0.1-other"), "{problem}");
        assert!(
            problem.contains(&format!("this library is mail2fa {ours}")),
            "{problem}"
        );
        assert!(problem.contains(PACKAGE), "{problem}");

        let other_abi = table(ABI_VERSION + 1, c"0.0.1-other");
        // SAFETY: as above.
        let problem = unsafe { check_table(other_abi) }.unwrap_err();
        assert!(problem.contains("plugin interface 2"), "{problem}");

        // SAFETY: NULL is refused without being read.
        assert!(unsafe { check_table(core::ptr::null()) }.is_err());

        let version = CStr::from_bytes_with_nul(VERSION.as_bytes()).unwrap();
        let same = table(ABI_VERSION, version);
        // SAFETY: as above.
        let accepted = unsafe { check_table(same) }.unwrap();
        assert!(core::ptr::eq(accepted, same));
    }
}
