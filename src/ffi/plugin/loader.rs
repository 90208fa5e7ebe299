//! The C library's side: finding `libmail2fa-postgres.so` (where, and
//! who must control it: [`locate`](super::locate)), loading it once per
//! process and checking its table.
//!
//! The first plugin found is the one: if it is refused, the search stops
//! there (the administrator learns of it). An accepted plugin is never
//! unloaded; a refused one is unloaded (`dlclose`) at once, and a failure
//! is not remembered, so that a corrected plugin installed later is loaded
//! by the next call.

use core::ffi::{CStr, c_char, c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::abi::{ABI_VERSION, ENTRY_POINT, FILE_NAME, Functions, PACKAGE, Table, VERSION};
use super::locate::{check_controlled, search_path};
use crate::store::StoreError;

const RTLD_NOW: c_int = 2;
/// glibc's and musl's: only a handle to an object already loaded.
const RTLD_NOLOAD: c_int = 4;

// libdl's functions (in glibc's libc since 2.34; -ldl links them before).
unsafe extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlclose(handle: *mut c_void) -> c_int;
    fn dlerror() -> *mut c_char;
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

/// The plugin's functions, loaded on the first call (once per process; a
/// failure is tried again by the next call).
pub(crate) fn plugin() -> Result<&'static Functions, PluginError> {
    static LOADED: OnceLock<Functions> = OnceLock::new();
    if let Some(functions) = LOADED.get() {
        return Ok(functions);
    }
    // Loaded with no lock of ours held: a fork in another thread during
    // `dlopen` would leave that lock held in the child forever. Threads
    // that load at once get the same object (`dlopen` of one path returns
    // the one already loaded) and the first table kept is everyone's.
    match load_from(&search_path()) {
        Ok(functions) => Ok(LOADED.get_or_init(|| functions)),
        // Another thread may have loaded it meanwhile: its table stands.
        Err(error) => LOADED.get().ok_or(error),
    }
}

/// Loads the plugin from the first of `dirs` that holds one, after the
/// checks; not cached (see [`plugin`]).
pub(crate) fn load_from(dirs: &[PathBuf]) -> Result<Functions, PluginError> {
    let looked_at: Vec<PathBuf> = dirs.iter().map(|dir| dir.join(FILE_NAME)).collect();
    let Some(path) = looked_at.iter().find(|path| path.exists()) else {
        return Err(PluginError::Missing { looked_at });
    };
    let refused = |problem: String| PluginError::Refused {
        path: path.to_path_buf(),
        problem,
    };
    // What is loaded is what is checked: the file a link points to, in
    // its own directories.
    let real = std::fs::canonicalize(path).map_err(|e| refused(e.to_string()))?;
    check_controlled(&real).map_err(refused)?;
    // SAFETY: loading a shared object runs its initialisers: the plugin
    // passed the checks of who controls it.
    unsafe { open_checked(&real) }.map_err(refused)
}

/// `dlopen`, the entry point's table and its checks; a refused object is
/// closed again.
///
/// # Safety
/// Loads and initialises the shared object at `path`.
unsafe fn open_checked(path: &Path) -> Result<Functions, String> {
    let mut name = path.as_os_str().as_bytes().to_vec();
    name.push(0);
    // SAFETY: a NUL-terminated path; the handle is closed only if refused.
    let handle = unsafe { dlopen(name.as_ptr().cast(), RTLD_NOW) };
    if handle.is_null() {
        // SAFETY: right after the failing call.
        return Err(unsafe { last_dl_error("cannot be loaded") });
    }
    // SAFETY: a live handle; the entry point of this ABI, whose table is
    // static in the object (kept loaded if accepted).
    let checked = unsafe {
        let entry = dlsym(handle, ENTRY_POINT.as_ptr());
        if entry.is_null() {
            Err(last_dl_error(
                "is not a mail2fa PostgreSQL plugin (no m2fa_postgres_plugin_v1)",
            ))
        } else {
            let entry: extern "C" fn() -> *const Table = core::mem::transmute(entry);
            check_table(entry())
        }
    };
    checked.map_err(|problem| {
        // SAFETY: our reference, dropped once; nothing of the object is
        // used after this (the problem is our own text).
        unsafe { dlclose(handle) };
        // SAFETY: a NUL-terminated path.
        if unsafe { still_loaded(&name) } {
            format!(
                "{problem}; then restart the service that loaded it (the refused plugin stays \
                 in its memory)"
            )
        } else {
            problem
        }
    })
}

/// Whether the object named `name` (NUL-terminated) is still loaded: an
/// object with thread-local destructors pending, or that another part of
/// the process opened too, stays after our `dlclose`.
///
/// # Safety
/// `name` is NUL-terminated.
unsafe fn still_loaded(name: &[u8]) -> bool {
    // SAFETY: RTLD_NOLOAD loads nothing; a handle it gives is closed.
    unsafe {
        let handle = dlopen(name.as_ptr().cast(), RTLD_NOW | RTLD_NOLOAD);
        if handle.is_null() {
            false
        } else {
            dlclose(handle);
            true
        }
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

/// The table's functions, if it is of this ABI and this mail2fa version
/// and has every function.
///
/// # Safety
/// `table` is NULL or points to a table that lives as long as the object
/// that holds it and begins as every ABI's does (`abi_version`, `version`).
pub(crate) unsafe fn check_table(table: *const Table) -> Result<Functions, String> {
    if table.is_null() {
        return Err("its entry point gave no table".into());
    }
    // SAFETY: the first field of every ABI; no reference to a `Table` is
    // made before the ABI is known to be this one.
    let abi_version = unsafe { core::ptr::addr_of!((*table).abi_version).read() };
    if abi_version != ABI_VERSION {
        return Err(format!(
            "it speaks the plugin interface {abi_version}, this library {ABI_VERSION}; install \
             the {PACKAGE} package of the same version as the library"
        ));
    }
    // SAFETY: a table of this ABI, per the contract.
    let table = unsafe { &*table };
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
    Functions::of(table).map_err(|missing| {
        format!(
            "its table has no function `{missing}`: install the {PACKAGE} package of version \
             {ours}"
        )
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::super::fake;
    use super::super::locate::mapped_file;
    use super::super::locate::tests::scratch;
    use super::*;

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
    fn a_table_of_another_version_or_incomplete_is_refused_naming_both() {
        let ours = env!("CARGO_PKG_VERSION");
        let mut other = fake::table();
        other.version = c"0.0.1-other".as_ptr();
        // SAFETY: a live table, not moved during the call (as every one
        // below).
        let problem = unsafe { check_table(&other) }.unwrap_err();
        assert!(problem.contains("mail2fa 0.0.1-other"), "{problem}");
        assert!(
            problem.contains(&format!("this library is mail2fa {ours}")),
            "{problem}"
        );
        assert!(problem.contains(PACKAGE), "{problem}");

        let mut other_abi = fake::table();
        other_abi.abi_version = ABI_VERSION + 1;
        // SAFETY: as above.
        let problem = unsafe { check_table(&other_abi) }.unwrap_err();
        assert!(problem.contains("plugin interface 2"), "{problem}");

        // SAFETY: NULL is refused without being read.
        assert!(unsafe { check_table(core::ptr::null()) }.is_err());

        type Remove = fn(&mut Table);
        let missing: [(&str, Remove); 8] = [
            ("open", |t| t.open = None),
            ("close", |t| t.close = None),
            ("load", |t| t.load = None),
            ("load_many", |t| t.load_many = None),
            ("compare_and_swap", |t| t.compare_and_swap = None),
            ("scan", |t| t.scan = None),
            ("scrub", |t| t.scrub = None),
            ("plan", |t| t.plan = None),
        ];
        for (name, remove) in missing {
            let mut incomplete = fake::table();
            remove(&mut incomplete);
            // SAFETY: as above.
            let problem = unsafe { check_table(&incomplete) }.unwrap_err();
            assert!(
                problem.contains(&format!("no function `{name}`")),
                "{problem}"
            );
        }

        let same = fake::table();
        // SAFETY: as above.
        let accepted = unsafe { check_table(&same) }.unwrap();
        assert_eq!(accepted.load as usize, same.load.unwrap() as usize);
    }

    /// A C shared object in `dir` whose entry point gives a table of
    /// `abi`, `version` and functions (never called), or that has no entry
    /// point; `None` without a C compiler.
    fn c_plugin(dir: &Path, abi: u32, version: &str, entry: bool) -> Option<PathBuf> {
        let source = dir.join("plugin.c");
        let symbol = if entry {
            "m2fa_postgres_plugin_v1"
        } else {
            "something_else"
        };
        std::fs::write(
            &source,
            format!(
                "struct table {{ unsigned abi; const char *version; void (*f[8])(void); }};\n\
                 static void nothing(void) {{}}\n\
                 static const struct table table = {{ {abi}u, \"{version}\", \
                 {{ nothing, nothing, nothing, nothing, nothing, nothing, nothing, nothing }} }};\n\
                 const struct table *{symbol}(void) {{ return &table; }}\n"
            ),
        )
        .unwrap();
        // A new file each time (as a package upgrade makes), then renamed.
        let built = dir.join("new.so");
        let status = std::process::Command::new("cc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(&built)
            .arg(&source)
            .status();
        match status {
            Ok(status) if status.success() => {}
            _ => {
                println!("SKIPPED: needs a C compiler (cc)");
                return None;
            }
        }
        std::fs::set_permissions(&built, std::fs::Permissions::from_mode(0o644)).unwrap();
        let path = dir.join(FILE_NAME);
        std::fs::rename(&built, &path).unwrap();
        Some(path)
    }

    /// Whether the object at `path` is loaded in this process.
    fn loaded(path: &Path) -> bool {
        let mut name = path.as_os_str().as_bytes().to_vec();
        name.push(0);
        // SAFETY: a NUL-terminated path.
        unsafe { still_loaded(&name) }
    }

    #[test]
    fn a_refused_plugin_is_unloaded_and_a_corrected_one_loaded_by_the_next_call() {
        let dir = scratch("reload");
        let ours = &VERSION[..VERSION.len() - 1];
        let dirs = [dir.to_path_buf()];
        let cases = [
            (ABI_VERSION + 1, ours, true, "plugin interface"),
            (ABI_VERSION, "0.0.1-old", true, "mail2fa 0.0.1-old"),
            (ABI_VERSION, ours, false, "no m2fa_postgres_plugin_v1"),
        ];
        for (abi, version, entry, wanted) in cases {
            let Some(path) = c_plugin(&dir, abi, version, entry) else {
                return;
            };
            let message = load_from(&dirs).unwrap_err().to_string();
            assert!(message.contains(wanted), "{message}");
            // Unloaded: nothing to restart.
            assert!(!loaded(&path), "{message}");
            assert!(!message.contains("restart"), "{message}");
        }
        let Some(path) = c_plugin(&dir, ABI_VERSION, ours, true) else {
            return;
        };
        let functions = load_from(&dirs).unwrap();
        assert!(loaded(&path));
        // The corrected object's table, not a stale one: its functions are
        // in the object now loaded from `path`.
        let maps = std::fs::read("/proc/self/maps").unwrap();
        let address = functions.open as usize;
        let held = mapped_file(&maps, address);
        assert_eq!(held.as_deref(), Some(path.as_path()), "{address:x}");
    }
}
