//! Who may control the database's files: the file, its `-wal` and `-shm`
//! companions and its directory must be the process's user's (or root's)
//! and writable by nobody else.

use std::path::{Path, PathBuf};

use super::failure::backend;
use crate::store::error::StoreError;

/// The effective user id of this process.
fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Refuses a database that another user controls: the file (and its
/// `-wal` and `-shm` companions, when they exist) and its directory must
/// belong to the effective user or to root, and must not be writable by
/// group or others.
pub(super) fn check_files(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;

    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut companions = Vec::with_capacity(2);
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        companions.push(PathBuf::from(name));
    }
    let uid = effective_uid();
    let mut checked = vec![(path.to_owned(), true, "database")];
    checked.extend(
        companions
            .into_iter()
            .map(|p| (p, false, "database companion")),
    );
    checked.push((directory, true, "database directory"));
    for (file, required, what) in checked {
        let meta = match std::fs::symlink_metadata(&file) {
            Ok(meta) => meta,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(backend(&format!("checking {}", file.display()), e)),
        };
        if meta.uid() != uid && meta.uid() != 0 {
            return Err(StoreError::Backend(format!(
                "sqlite: refusing the {what} {}: it belongs to user id {}, not to this process's \
                 user ({uid}) or root; `chown {uid} {}`, or run as its owner",
                file.display(),
                meta.uid(),
                file.display()
            )));
        }
        let mode = meta.mode() & 0o7777;
        // A sticky directory (`/tmp`) lets others add files but not
        // replace ours; a companion they plant is caught by its owner.
        let sticky = meta.is_dir() && mode & 0o1000 != 0;
        if mode & 0o022 != 0 && !sticky {
            let fix = if meta.is_dir() { "go-w" } else { "600" };
            return Err(StoreError::Backend(format!(
                "sqlite: refusing the {what} {}: group or others may write it (mode {mode:04o}); \
                 `chmod {fix} {}`",
                file.display(),
                file.display()
            )));
        }
    }
    Ok(())
}

/// Which file a path names (device and inode): a reader connection opened
/// later must reach the file the store was opened on, not one put in its
/// place since (a restored backup moved over it, for instance), which the
/// writer connection would never see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileIdentity {
    device: u64,
    inode: u64,
}

impl FileIdentity {
    /// The file at `path`, without following a symbolic link.
    pub(super) fn of(path: &Path) -> Result<Self, StoreError> {
        use std::os::unix::fs::MetadataExt;

        let meta = std::fs::symlink_metadata(path)
            .map_err(|e| backend(&format!("checking {}", path.display()), e))?;
        Ok(Self {
            device: meta.dev(),
            inode: meta.ino(),
        })
    }
}
