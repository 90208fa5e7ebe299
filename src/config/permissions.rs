//! Who may change the configuration and read its secrets: the
//! configuration file must be writable by its owner only, the password and
//! device key files readable by their owner only, and each owned by the
//! process's effective user or by root. (The key file has the same checks,
//! in [`EncryptionKeys::from_key_file`](crate::engine::EncryptionKeys::from_key_file).)

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use zeroize::Zeroizing;

use super::error::ConfigError;
use crate::bounded_read::read_wiped;

/// Largest configuration file read (1 MiB).
const MAX_CONFIG_FILE_LEN: usize = 1 << 20;

/// Largest password or device key file read.
const MAX_SECRET_FILE_LEN: usize = 4096;

/// Reads the configuration file after checking who controls it.
pub(super) fn read_config_file(path: &Path) -> Result<String, ConfigError> {
    let what = "configuration file";
    let bytes = read_checked(path, what, 0o022, MAX_CONFIG_FILE_LEN)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| file_error(what, path, "is not UTF-8".into()))
}

/// Reads a secret file (`what` names it and its key), wiped from memory
/// on drop, after checking that nobody but its owner may read it.
pub(super) fn read_secret_file(
    path: &Path,
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    read_checked(path, what, 0o077, MAX_SECRET_FILE_LEN)
}

fn file_error(what: &'static str, path: &Path, problem: String) -> ConfigError {
    ConfigError::File {
        what,
        path: path.to_path_buf(),
        problem,
    }
}

/// Opens `path`, checks the opened file (regular, no bit of `forbidden`
/// in its mode, owner), and reads at most `max` bytes into one buffer that
/// is never reallocated and is wiped on drop.
fn read_checked(
    path: &Path,
    what: &'static str,
    forbidden: u32,
    max: usize,
) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    let fail = |problem: String| file_error(what, path, problem);
    let io = |error: std::io::Error| fail(format!("cannot be read: {error}"));
    // Looked at before it is opened: opening a FIFO would wait for a writer.
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    check(&meta, path, forbidden).map_err(fail)?;
    if meta.len() > max as u64 {
        return Err(fail(format!("is larger than {max} bytes")));
    }
    read_wiped(&mut file, max)
        .map_err(io)?
        .ok_or_else(|| fail(format!("is larger than {max} bytes")))
}

/// The problem with `meta`, worded with its fix.
fn check(meta: &std::fs::Metadata, path: &Path, forbidden: u32) -> Result<(), String> {
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    check_owner_and_mode(meta, path, forbidden)
}

/// The problem with who controls `path` (a file or a directory): an owner
/// other than this process's effective user or root, or a bit of
/// `forbidden` in its mode — worded with its fix. Also what the C
/// library's loader asks of the PostgreSQL plugin and its directory.
pub(crate) fn check_owner_and_mode(
    meta: &std::fs::Metadata,
    path: &Path,
    forbidden: u32,
) -> Result<(), String> {
    let uid = rustix::process::geteuid().as_raw();
    if meta.uid() != uid && meta.uid() != 0 {
        return Err(format!(
            "belongs to user id {}, not to this process's user ({uid}) or root; \
             `chown {uid} {}`, or run as its owner",
            meta.uid(),
            path.display()
        ));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & forbidden != 0 {
        let (who, fix) = if forbidden & 0o044 != 0 {
            ("group or others may read or write it", "600")
        } else {
            ("group or others may write it", "go-w")
        };
        return Err(format!(
            "{who} (mode {mode:04o}); `chmod {fix} {}`",
            path.display()
        ));
    }
    Ok(())
}
