//! Where the C library looks for `libmail2fa-postgres.so`, and who must
//! control it before it is loaded.
//!
//! Where — never where an environment variable says (the PAM module runs
//! in setuid programs):
//! 1. `mail2fa/` beside the object this code is linked into, as the
//!    kernel names it (the mapping of `/proc/self/maps` that holds this
//!    code): `/usr/lib/<triplet>/mail2fa/` for `libmail2fa.so`, the
//!    module's or the program's own directory's `mail2fa/` where
//!    `libmail2fa.a` was linked in statically; without `/proc`, nothing;
//! 2. the directory fixed when the library was built
//!    (`MAIL2FA_PLUGIN_DIR` at build time, set by scripts/build-capi.sh;
//!    by default `/usr/lib/<multiarch>/mail2fa`), which must be absolute.
//!
//! Who: the file, and every directory above it up to `/`, must belong to
//! root or to this process's effective user and must not be writable by
//! group or others: nobody else can put another file in its place between
//! the check and the load. One exception, above the plugin's own
//! directory: a sticky directory (as `/tmp`, mode 1777) may be writable by
//! others, since they cannot rename or remove what they do not own there,
//! and the directory below it is checked in turn. The plugin's own
//! directory is never one others may write to, sticky or not.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::config::permissions::check_owner_and_mode;

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
pub(crate) const BUILT_IN_DIR: &str = match option_env!("MAIL2FA_PLUGIN_DIR") {
    Some(dir) => dir,
    None => MULTIARCH_DIR,
};

// A relative directory would be looked for from wherever the host process
// happens to run: the build fails instead.
const _: () = assert!(
    !BUILT_IN_DIR.is_empty() && BUILT_IN_DIR.as_bytes()[0] == b'/',
    "MAIL2FA_PLUGIN_DIR must be an absolute path"
);

/// The directories searched, in order (see the module's documentation);
/// only absolute ones.
pub(crate) fn search_path() -> Vec<PathBuf> {
    let mut dirs = Vec::with_capacity(2);
    if let Some(own) = own_directory() {
        dirs.push(own.join("mail2fa"));
    }
    let built_in = PathBuf::from(BUILT_IN_DIR);
    if !dirs.contains(&built_in) {
        dirs.push(built_in);
    }
    dirs.retain(|dir| dir.is_absolute());
    dirs
}

/// The directory of the object (shared library, module or program) this
/// function is linked into: the kernel's answer, the file mapped where
/// this function's code is. Never argv[0] (chosen by whoever started a
/// setuid program).
fn own_directory() -> Option<PathBuf> {
    let address = own_directory as fn() -> Option<PathBuf> as usize;
    let maps = std::fs::read("/proc/self/maps").ok()?;
    mapped_file(&maps, address)?.parent().map(Path::to_path_buf)
}

/// The file `maps` (the text of `/proc/<pid>/maps`) shows mapped at
/// `address`, if it is a file with an absolute name.
pub(crate) fn mapped_file(maps: &[u8], address: usize) -> Option<PathBuf> {
    maps.split(|&byte| byte == b'\n').find_map(|line| {
        // start-end perms offset dev inode, then spaces and the name.
        let mut fields = line.splitn(6, |&byte| byte == b' ');
        let range = fields.next()?;
        let name = fields.nth(4)?;
        let (start, end) = std::str::from_utf8(range).ok()?.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let end = usize::from_str_radix(end, 16).ok()?;
        if !(start..end).contains(&address) {
            return None;
        }
        let name = name.trim_ascii_start();
        // A file replaced since it was mapped (a package upgrade): its
        // directory is still the one.
        let name = name.strip_suffix(b" (deleted)").unwrap_or(name);
        let path = Path::new(OsStr::from_bytes(name));
        path.is_absolute().then(|| path.to_path_buf())
    })
}

/// The plugin file (its real path) and every directory above it: owned
/// by root or this process's effective user, writable by nobody else.
/// The problem is worded with its fix.
pub(crate) fn check_controlled(file: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(file).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    check_owner_and_mode(&meta, file, 0o022)?;
    // From `/` down: the highest directory others control is the one to
    // report, as fixing one below it would not be enough.
    let dirs: Vec<&Path> = file.ancestors().skip(1).collect();
    let own = file.parent();
    for dir in dirs.into_iter().rev() {
        let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mode = meta.permissions().mode();
        if mode & 0o1000 != 0 && Some(dir) != own {
            // Sticky, above the plugin's directory: its owner is checked,
            // the write bits are not (the next directory down is).
            check_owner_and_mode(&meta, dir, 0)
                .map_err(|problem| format!("its directory {} {problem}", dir.display()))?;
            continue;
        }
        if mode & 0o1002 == 0o1002 {
            return Err(format!(
                "it is below {}, a directory everybody may write to (mode {:04o}); install it \
                 in a directory that only root can write, as every directory above it \
                 (the packages use {BUILT_IN_DIR})",
                dir.display(),
                mode & 0o7777
            ));
        }
        check_owner_and_mode(&meta, dir, 0o022)
            .map_err(|problem| format!("its directory {} {problem}", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// A fresh directory (mode 0755) removed with its contents on drop.
    pub(crate) struct Scratch(PathBuf);

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

    /// A fresh directory beside the test program, whose every ancestor
    /// passes the checks.
    pub(crate) fn scratch(name: &str) -> Scratch {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let exe = std::env::current_exe().unwrap();
        let base = exe.parent().unwrap();
        let dir = base.join(format!(
            "mail2fa-plugin-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = Scratch(std::fs::canonicalize(&dir).unwrap());
        let probe = dir.join("probe");
        std::fs::write(&probe, b"").unwrap();
        std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o644)).unwrap();
        if let Err(problem) = check_controlled(&probe) {
            panic!(
                "these tests need a build directory that only root or this user can write, \
                 every directory above it included: {problem}"
            );
        }
        std::fs::remove_file(&probe).unwrap();
        dir
    }

    #[test]
    fn a_plugin_below_a_directory_others_may_write_is_refused_naming_it() {
        let top = scratch("open-grandparent");
        let parent = top.join("plugins");
        std::fs::create_dir(&parent).unwrap();
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = parent.join("libmail2fa-postgres.so");
        std::fs::write(&file, b"not loaded").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(check_controlled(&file), Ok(()));

        for mode in [0o775, 0o757] {
            std::fs::set_permissions(&*top, std::fs::Permissions::from_mode(mode)).unwrap();
            let problem = check_controlled(&file).unwrap_err();
            assert!(
                problem.contains(&format!("its directory {}", top.display())),
                "{problem}"
            );
            assert!(
                problem.contains(&format!("chmod go-w {}", top.display())),
                "{problem}"
            );
        }

        // Sticky, as /tmp, above a directory of ours: others cannot move
        // what is below it, so it is accepted.
        std::fs::set_permissions(&*top, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert_eq!(check_controlled(&file), Ok(()));
        // As the plugin's own directory, sticky or not: refused, with
        // another fix than chmod.
        let direct = top.join("libmail2fa-postgres.so");
        std::fs::write(&direct, b"not loaded").unwrap();
        std::fs::set_permissions(&direct, std::fs::Permissions::from_mode(0o644)).unwrap();
        let problem = check_controlled(&direct).unwrap_err();
        assert!(
            problem.contains(&format!("below {}", top.display())),
            "{problem}"
        );
        assert!(problem.contains("everybody may write"), "{problem}");
        assert!(problem.contains(BUILT_IN_DIR), "{problem}");
        std::fs::set_permissions(&*top, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_system_temporary_directory_is_refused() {
        let tmp = Path::new("/tmp");
        let meta = std::fs::metadata(tmp).unwrap();
        if meta.permissions().mode() & 0o1002 != 0o1002 {
            println!("SKIPPED: needs a /tmp everybody may write to");
            return;
        }
        let file = tmp.join(format!("mail2fa-plugin-{}.so", std::process::id()));
        std::fs::write(&file, b"not loaded").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let result = check_controlled(&file);
        std::fs::remove_file(&file).unwrap();
        let problem = result.unwrap_err();
        assert!(problem.contains("below /tmp"), "{problem}");
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

    #[test]
    fn the_mapping_that_holds_an_address_names_the_file() {
        let maps = b"\
55d4c8a00000-55d4c8a02000 r--p 00000000 08:01 1234                       /usr/sbin/dovecot\n\
7f0000000000-7f0000100000 r-xp 00010000 08:01 5678                       /usr/lib/x86_64-linux-gnu/dovecot/my modules/lib.so (deleted)\n\
7f0000100000-7f0000200000 rw-p 00000000 00:00 0 \n\
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]\n\
7ffd00000000-7ffd00001000 r-xp 00000000 00:00 0                          relative.so\n";
        assert_eq!(
            mapped_file(maps, 0x55d4_c8a0_1000),
            Some(PathBuf::from("/usr/sbin/dovecot"))
        );
        assert_eq!(
            mapped_file(maps, 0x7f00_0000_0010),
            Some(PathBuf::from(
                "/usr/lib/x86_64-linux-gnu/dovecot/my modules/lib.so"
            ))
        );
        // The end is outside; anonymous memory, [stack] and a relative
        // name name no file; an address outside every mapping neither.
        for address in [
            0x55d4_c8a0_2000,
            0x7f00_0010_0000,
            0x7ffc_0000_0010,
            0x7ffd_0000_0010,
            0x10,
        ] {
            assert_eq!(mapped_file(maps, address), None, "{address:x}");
        }
    }
}
