//! Encryption at rest of account records (TOTP secrets, contacts, code
//! tags), with keys the host provides.
//!
//! A sealed record is a record of its own kind whose payload is the key id
//! (4 bytes), a random 192-bit nonce, and the XChaCha20-Poly1305 encryption
//! of the whole plain account record, authenticated together with the
//! account's store key — so a sealed record copied under another account
//! does not open. The key id lets keys rotate: records are sealed with the
//! current key and opened with whichever configured key sealed them; each
//! write re-seals with the current key.
//!
//! The record of an account's clients (device tokens, bindings,
//! application passwords; `clients.rs`) is sealed the same way, under its
//! own store key.
//!
//! Fail closed: a sealed record with no key configured, with a key id that
//! is not configured, or that does not authenticate (wrong key, damaged
//! bytes) is an [`Error::Encryption`] — the login is refused. A plain record
//! while keys are configured is refused too (`EngineConfig::require_sealed`,
//! on by default): whoever can write the store but has no key must not be
//! able to copy a plain record over a sealed one. A deployment that turns
//! encryption on seals its plain records first (`Engine::seal_records`).

use std::path::Path;

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use zeroize::Zeroizing;

use super::codes;
use crate::bounded_read::read_wiped;
use crate::error::{Error, KeyFileError, Result};
use crate::record::{self, RecordError};

/// Record kind of a sealed account record.
pub(crate) const SEALED_ACCOUNT_KIND: u8 = 5;
const NONCE_LEN: usize = 24;
const AAD_DOMAIN: &[u8] = b"mail2fa sealed account v1";

/// Largest key file [`EncryptionKeys::from_key_file`] reads, in bytes
/// (64 KiB).
pub const MAX_KEY_FILE_LEN: usize = 64 * 1024;

/// The keys that encrypt account records at rest: one current key (id and
/// 32 bytes) that seals every write, and older ones that still open what
/// they sealed. Wiped on drop, never printed.
///
/// ```
/// use mail2fa::engine::{EncryptionKeys, EngineConfig};
///
/// let keys = EncryptionKeys::new(2, [0x22; 32]).with_previous(1, [0x11; 32])?;
/// let config = EngineConfig::default().with_encryption(keys);
/// assert!(format!("{config:?}").contains("EncryptionKeys(<redacted>)"));
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptionKeys {
    current: (u32, Zeroizing<[u8; 32]>),
    previous: Vec<(u32, Zeroizing<[u8; 32]>)>,
}

impl core::fmt::Debug for EncryptionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EncryptionKeys(<redacted>)")
    }
}

impl EncryptionKeys {
    /// `key` under `id` seals every record written from now on.
    pub fn new(id: u32, key: [u8; 32]) -> Self {
        Self {
            current: (id, Zeroizing::new(key)),
            previous: Vec::new(),
        }
    }

    /// Adds an older key, to open records it sealed (key rotation).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an id already used.
    pub fn with_previous(mut self, id: u32, key: [u8; 32]) -> Result<Self> {
        if self.key(id).is_some() {
            return Err(Error::InvalidConfig("encryption key id used twice"));
        }
        self.previous.push((id, Zeroizing::new(key)));
        Ok(self)
    }

    /// Makes `key` under `id` the current key; the current one so far
    /// becomes an older key (rotation).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an id already used.
    pub fn with_current(self, id: u32, key: [u8; 32]) -> Result<Self> {
        if self.key(id).is_some() {
            return Err(Error::InvalidConfig("encryption key id used twice"));
        }
        let Self {
            current,
            mut previous,
        } = self;
        previous.push(current);
        Ok(Self {
            current: (id, Zeroizing::new(key)),
            previous,
        })
    }

    /// Reads the keys of a key file, the format of the `mail2fa` tool's
    /// `--key-file` and of the C function
    /// `m2fa_engine_config_load_key_file`: one `ID:KEY` per line, a
    /// decimal key id (`u32`), a colon, then the key as 64 hex digits
    /// (white space around either part is ignored); the current key first,
    /// then older keys that still open what they sealed. Blank lines and
    /// lines starting with `#` are skipped.
    ///
    /// The file must be a regular file (a symbolic link to one is
    /// followed) of at most [`MAX_KEY_FILE_LEN`] bytes that neither
    /// group nor others may read or write (mode 0600 or 0400), owned by the
    /// process's effective user or by root. Its contents
    /// are wiped from memory once parsed.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::fs::OpenOptionsExt;
    ///
    /// use mail2fa::engine::{EncryptionKeys, EngineConfig};
    ///
    /// let path = std::env::temp_dir().join(format!("mail2fa-doc-{}.keys", std::process::id()));
    /// let mut file = std::fs::OpenOptions::new()
    ///     .write(true)
    ///     .create_new(true)
    ///     .mode(0o600)
    ///     .open(&path)?;
    /// writeln!(file, "# current key first, then older ones")?;
    /// writeln!(file, "2:{}", "22".repeat(32))?;
    /// writeln!(file, "1:{}", "11".repeat(32))?;
    /// drop(file);
    ///
    /// let keys = EncryptionKeys::from_key_file(&path);
    /// std::fs::remove_file(&path)?;
    /// let keys = keys?;
    /// assert_eq!(keys.current_id(), 2);
    /// assert_eq!(keys, EncryptionKeys::new(2, [0x22; 32]).with_previous(1, [0x11; 32])?);
    /// let config = EngineConfig::default().with_encryption(keys);
    /// # let _ = config;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::KeyFile`], with the path and a [`KeyFileError`]: the file
    /// cannot be read, is not a regular file, is open to group or others,
    /// belongs to another user,
    /// is too large, has a line that is not `ID:KEY` or a key id given
    /// twice (named by line number, never quoted), or holds no key.
    pub fn from_key_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        read_key_file(path).map_err(|problem| Error::KeyFile {
            path: path.to_path_buf(),
            problem,
        })
    }

    /// The id of the key that seals new writes.
    pub fn current_id(&self) -> u32 {
        self.current.0
    }

    fn key(&self, id: u32) -> Option<&[u8; 32]> {
        core::iter::once(&self.current)
            .chain(&self.previous)
            .find(|(key_id, _)| *key_id == id)
            .map(|(_, key)| &**key)
    }
}

fn unreadable(error: std::io::Error) -> KeyFileError {
    KeyFileError::Unreadable {
        kind: error.kind(),
        os_error: error.raw_os_error(),
    }
}

/// Checks and reads a key file into memory wiped on drop, then parses it.
fn read_key_file(path: &Path) -> Result<EncryptionKeys, KeyFileError> {
    // Looked at before it is opened: opening a FIFO would wait for a writer.
    if !std::fs::metadata(path).map_err(unreadable)?.is_file() {
        return Err(KeyFileError::NotRegularFile);
    }
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    // The checks that count are on the file actually opened.
    let meta = file.metadata().map_err(unreadable)?;
    if !meta.is_file() {
        return Err(KeyFileError::NotRegularFile);
    }
    let mode = permission_bits(&meta);
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Permissions { mode });
    }
    check_owner(&meta)?;
    let max = MAX_KEY_FILE_LEN;
    let too_large = KeyFileError::TooLarge { max };
    if meta.len() > max as u64 {
        return Err(too_large);
    }
    let buffer = read_wiped(&mut file, max)
        .map_err(unreadable)?
        .ok_or(too_large)?;
    parse_key_file(&buffer)
}

#[cfg(unix)]
fn permission_bits(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

/// The keys must belong to the process's effective user or to root:
/// another user who owns the file could replace them.
#[cfg(unix)]
fn check_owner(meta: &std::fs::Metadata) -> Result<(), KeyFileError> {
    use std::os::unix::fs::MetadataExt;
    let uid = rustix::process::geteuid().as_raw();
    match meta.uid() {
        owner if owner == uid || owner == 0 => Ok(()),
        owner => Err(KeyFileError::Owner { owner, uid }),
    }
}

#[cfg(not(unix))]
fn check_owner(_meta: &std::fs::Metadata) -> Result<(), KeyFileError> {
    Ok(())
}

/// Without Unix permissions there are no group and others to check.
#[cfg(not(unix))]
fn permission_bits(_meta: &std::fs::Metadata) -> u32 {
    0
}

impl EncryptionKeys {
    /// The key-file parser alone, on the file's text (no file is read): for
    /// the `key_file_parse` fuzz target. Not part of the supported API; use
    /// [`EncryptionKeys::from_key_file`].
    ///
    /// # Errors
    /// As [`EncryptionKeys::from_key_file`] for the file's contents.
    #[doc(hidden)]
    pub fn parse_key_file_text(text: &[u8]) -> Result<Self, KeyFileError> {
        parse_key_file(text)
    }
}

/// Parses the text of a key file (see [`EncryptionKeys::from_key_file`]).
fn parse_key_file(text: &[u8]) -> Result<EncryptionKeys, KeyFileError> {
    let mut current: Option<(u32, Zeroizing<[u8; 32]>)> = None;
    // Room for every line up front: growing would copy keys around.
    let mut previous = Vec::with_capacity(text.iter().filter(|&&b| b == b'\n').count() + 1);
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        let line_number = index + 1;
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let (id, key) =
            parse_key_line(line).ok_or(KeyFileError::MalformedLine { line: line_number })?;
        let mut known = current.iter().chain(&previous);
        if known.any(|(known_id, _)| *known_id == id) {
            return Err(KeyFileError::DuplicateId {
                line: line_number,
                id,
            });
        }
        match current {
            None => current = Some((id, key)),
            Some(_) => previous.push((id, key)),
        }
    }
    let current = current.ok_or(KeyFileError::NoKey)?;
    Ok(EncryptionKeys { current, previous })
}

/// One trimmed, non-blank, non-comment line: `ID:KEY`.
fn parse_key_line(line: &[u8]) -> Option<(u32, Zeroizing<[u8; 32]>)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let id = core::str::from_utf8(line[..colon].trim_ascii()).ok()?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id: u32 = id.parse().ok()?;
    let hex = line[colon + 1..].trim_ascii();
    if hex.len() != 64 {
        return None;
    }
    let mut key = Zeroizing::new([0u8; 32]);
    for (byte, pair) in key.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = hex_value(pair[0])? << 4 | hex_value(pair[1])?;
    }
    Some((id, key))
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

fn aad(store_key: &[u8]) -> Vec<u8> {
    [AAD_DOMAIN, store_key].concat()
}

/// Whether `bytes` claims to be a sealed record (its kind byte; the rest is
/// checked when it is opened).
pub(crate) fn is_sealed(bytes: &[u8]) -> bool {
    bytes.get(5) == Some(&SEALED_ACCOUNT_KIND)
}

/// Seals a plain account record for `store_key` with the current key.
pub(crate) fn seal(
    keys: &EncryptionKeys,
    store_key: &[u8],
    plain: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let nonce: [u8; NONCE_LEN] = codes::random_bytes()?;
    let (id, key) = (&keys.current.0, &*keys.current.1);
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    let sealed = Zeroizing::new(
        cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plain,
                    aad: &aad(store_key),
                },
            )
            .map_err(|_| Error::Encryption("sealing failed"))?,
    );
    let mut payload = Zeroizing::new(Vec::with_capacity(4 + NONCE_LEN + sealed.len()));
    payload.extend_from_slice(&id.to_be_bytes());
    payload.extend_from_slice(&nonce);
    payload.extend_from_slice(&sealed);
    Ok(record::encode(SEALED_ACCOUNT_KIND, &payload))
}

/// The plain account record sealed in `bytes`, or `None` if `bytes` is
/// not a sealed record (a plain one, or something the account decoder will
/// refuse with its own error) — the hot path without keys costs one byte
/// comparison.
pub(crate) fn open(
    keys: Option<&EncryptionKeys>,
    store_key: &[u8],
    bytes: &[u8],
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    if !is_sealed(bytes) {
        return Ok(None);
    }
    let payload = record::decode(bytes, SEALED_ACCOUNT_KIND)?;
    let keys = keys.ok_or(Error::Encryption(
        "the record is encrypted and no key is configured",
    ))?;
    if payload.len() < 4 + NONCE_LEN {
        return Err(RecordError::Payload("sealed record too short").into());
    }
    let id = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
    let key = keys.key(id).ok_or(Error::Encryption(
        "the record is encrypted with a key id that is not configured",
    ))?;
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&payload[4..4 + NONCE_LEN]);
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: &payload[4 + NONCE_LEN..],
                aad: &aad(store_key),
            },
        )
        .map(|plain| Some(Zeroizing::new(plain)))
        .map_err(|_| Error::Encryption("the record does not open: wrong key or damaged"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> Zeroizing<Vec<u8>> {
        record::encode(super::super::account::ACCOUNT_KIND, b"the secret is 12345")
    }

    #[test]
    fn sealed_records_open_only_with_their_key_and_account() {
        let keys = EncryptionKeys::new(1, [1; 32]);
        let sealed = seal(&keys, b"acct-alice", &plain()).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            open(Some(&keys), b"acct-alice", &sealed).unwrap(),
            Some(plain())
        );
        // Another account's key (a record copied across accounts).
        assert!(matches!(
            open(Some(&keys), b"acct-mallory", &sealed),
            Err(Error::Encryption(_))
        ));
        // No key, an unknown key id, a wrong key under the same id.
        assert!(matches!(
            open(None, b"acct-alice", &sealed),
            Err(Error::Encryption(_))
        ));
        let other_id = EncryptionKeys::new(2, [1; 32]);
        assert!(matches!(
            open(Some(&other_id), b"acct-alice", &sealed),
            Err(Error::Encryption(_))
        ));
        let wrong = EncryptionKeys::new(1, [9; 32]);
        assert!(matches!(
            open(Some(&wrong), b"acct-alice", &sealed),
            Err(Error::Encryption(_))
        ));
        // Rotation: the old key still opens what it sealed.
        let rotated = EncryptionKeys::new(2, [2; 32])
            .with_previous(1, [1; 32])
            .unwrap();
        assert_eq!(
            open(Some(&rotated), b"acct-alice", &sealed).unwrap(),
            Some(plain())
        );
        assert!(
            EncryptionKeys::new(2, [2; 32])
                .with_previous(2, [3; 32])
                .is_err()
        );
        // Plain records are left to the account decoder; a damaged sealed
        // record is an error.
        assert_eq!(open(Some(&keys), b"acct-alice", &plain()).unwrap(), None);
        assert_eq!(open(Some(&keys), b"acct-alice", b"garbage").unwrap(), None);
        let mut damaged = sealed.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(open(Some(&keys), b"acct-alice", &damaged).is_err());
        // Two seals of one record differ (fresh nonce).
        assert_ne!(seal(&keys, b"acct-alice", &plain()).unwrap(), sealed);
    }

    /// A fresh directory for key files, removed on drop.
    struct KeyDir(std::path::PathBuf);

    impl KeyDir {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("mail2fa-seal-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir(&dir).unwrap();
            Self(dir)
        }

        /// Writes `text` to `name` with `mode`; returns its path.
        fn file(&self, name: &str, text: &[u8], mode: u32) -> std::path::PathBuf {
            use std::os::unix::fs::PermissionsExt;
            let path = self.0.join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            path
        }
    }

    impl Drop for KeyDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn problem(path: &Path) -> KeyFileError {
        match EncryptionKeys::from_key_file(path) {
            Err(Error::KeyFile {
                path: named,
                problem,
            }) => {
                assert_eq!(named, path);
                problem
            }
            other => panic!("{} gave {other:?}", path.display()),
        }
    }

    #[test]
    fn key_files_are_read_current_key_first() {
        let dir = KeyDir::new("good");
        let text = format!(
            "# mail2fa keys\n\n  7 : {}  \r\n\t# rotated out:\n3:{}\n1:{}",
            "Ab".repeat(32),
            "03".repeat(32),
            "01".repeat(32)
        );
        for mode in [0o600, 0o400] {
            let path = dir.file("good.keys", text.as_bytes(), mode);
            let keys = EncryptionKeys::from_key_file(&path).unwrap();
            assert_eq!(keys.current_id(), 7);
            let expected = EncryptionKeys::new(7, [0xab; 32])
                .with_previous(3, [3; 32])
                .unwrap()
                .with_previous(1, [1; 32])
                .unwrap();
            assert_eq!(keys, expected);
            // What a key sealed, the keys read from the file open.
            let sealed = seal(&expected, b"acct-alice", &plain()).unwrap();
            assert_eq!(
                open(Some(&keys), b"acct-alice", &sealed).unwrap(),
                Some(plain())
            );
            std::fs::remove_file(&path).unwrap();
        }
        // One key, no final newline; the largest file accepted.
        let one = dir.file(
            "one.keys",
            format!("0:{}", "ff".repeat(32)).as_bytes(),
            0o600,
        );
        assert_eq!(
            EncryptionKeys::from_key_file(&one).unwrap(),
            EncryptionKeys::new(0, [0xff; 32])
        );
        let mut largest = format!("{}:{}\n", u32::MAX, "00".repeat(32)).into_bytes();
        largest.resize(MAX_KEY_FILE_LEN - 1, b'#');
        largest.push(b'\n');
        let largest = dir.file("largest.keys", &largest, 0o600);
        assert_eq!(
            EncryptionKeys::from_key_file(&largest)
                .unwrap()
                .current_id(),
            u32::MAX
        );
    }

    #[test]
    fn key_files_open_to_others_or_not_files_are_refused() {
        let dir = KeyDir::new("access");
        let line = format!("1:{}\n", "0f".repeat(32));
        for mode in [0o644, 0o640, 0o604, 0o620, 0o602, 0o601, 0o700 | 0o010] {
            let path = dir.file("open.keys", line.as_bytes(), mode);
            assert_eq!(problem(&path), KeyFileError::Permissions { mode });
            std::fs::remove_file(&path).unwrap();
        }
        let missing = dir.0.join("missing.keys");
        let KeyFileError::Unreadable { kind, os_error } = problem(&missing) else {
            panic!("a missing file is unreadable");
        };
        assert_eq!(kind, std::io::ErrorKind::NotFound);
        assert!(os_error.is_some());
        let error = EncryptionKeys::from_key_file(&missing).unwrap_err();
        assert!(
            error.to_string().starts_with(&format!(
                "encryption key file {}: cannot be read: ",
                missing.display()
            )),
            "{error}"
        );
        assert_eq!(problem(&dir.0), KeyFileError::NotRegularFile);
        // A link to a good file is followed.
        let good = dir.file("good.keys", line.as_bytes(), 0o600);
        let link = dir.0.join("link.keys");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        assert_eq!(
            EncryptionKeys::from_key_file(&link).unwrap().current_id(),
            1
        );
        // Too large, even when all comments.
        let mut big = line.into_bytes();
        big.resize(MAX_KEY_FILE_LEN + 1, b'#');
        let big = dir.file("big.keys", &big, 0o600);
        assert_eq!(
            problem(&big),
            KeyFileError::TooLarge {
                max: MAX_KEY_FILE_LEN
            }
        );
    }

    #[test]
    fn key_file_errors_name_the_line_and_never_the_key() {
        let dir = KeyDir::new("lines");
        let good = format!("1:{}", "5a".repeat(32));
        let leak = "c3".repeat(31);
        for (bad, why) in [
            (format!("2{leak}c3"), "no colon"),
            (format!("2:{leak}"), "short key"),
            (format!("2:{leak}c3c3"), "long key"),
            (format!("2:{leak}cg"), "not hex"),
            (format!("2:{leak}c 3"), "space inside the key"),
            (format!(":{leak}c3"), "no id"),
            (format!("x:{leak}c3"), "id not a number"),
            (format!("+2:{leak}c3"), "signed id"),
            (format!("-2:{leak}c3"), "negative id"),
            (format!("4294967296:{leak}c3"), "id above u32"),
            (format!("2:3:{leak}c3"), "two colons"),
            (format!("2:{leak}c3 # comment"), "comment after the key"),
            (format!("2:{leak}c\u{e9}"), "not ASCII"),
        ] {
            let text = format!("# keys\n{good}\n\n{bad}\n");
            let path = dir.file("bad.keys", text.as_bytes(), 0o600);
            assert_eq!(
                problem(&path),
                KeyFileError::MalformedLine { line: 4 },
                "{why}"
            );
            let message = EncryptionKeys::from_key_file(&path)
                .unwrap_err()
                .to_string();
            assert_eq!(
                message,
                format!(
                    "encryption key file {}: line 4 is not ID:KEY (a decimal key id, a colon, then 64 hex digits)",
                    path.display()
                )
            );
            assert!(!message.contains("c3c3") && !message.contains("5a5a"));
        }
        let text = format!("{good}\n2:{}\n1:{}\n", "c3".repeat(32), "c3".repeat(32));
        let path = dir.file("twice.keys", text.as_bytes(), 0o600);
        assert_eq!(problem(&path), KeyFileError::DuplicateId { line: 3, id: 1 });
        let message = EncryptionKeys::from_key_file(&path)
            .unwrap_err()
            .to_string();
        assert!(message.ends_with(": line 3 repeats key id 1"), "{message}");
        assert!(!message.contains("c3c3") && !message.contains("5a5a"));
        for (name, text) in [
            ("empty.keys", ""),
            ("blank.keys", "\n \r\n\t\n"),
            ("comments.keys", "# no key\n#1:00\n"),
        ] {
            let path = dir.file(name, text.as_bytes(), 0o600);
            assert_eq!(problem(&path), KeyFileError::NoKey, "{name}");
        }
        // A bad key from C-like input: a NUL byte in a line.
        let path = dir.file(
            "nul.keys",
            format!("1:{}\0", "00".repeat(32)).as_bytes(),
            0o600,
        );
        assert_eq!(problem(&path), KeyFileError::MalformedLine { line: 1 });
    }
}
