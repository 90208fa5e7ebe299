//! What the password-check suites share: skipping without root or Debian's
//! packages, the host's password files, PAM service files of the test's own.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// A shipped file with only the given strings replaced; each must be there.
pub fn shipped(path: &str, replacements: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(root().join(path)).unwrap();
    for (old, new) in replacements {
        assert!(text.contains(old), "{path} no longer contains {old:?}");
        text = text.replace(old, new);
    }
    text
}

/// `None` when everything in `needs` is there; else what is missing, after
/// saying "SKIPPED" — or failing when MAIL2FA_REQUIRE_E2E=1 (CI).
pub fn missing(suite: &str, needs: &[(&str, bool)]) -> Option<String> {
    let missing: Vec<&str> = needs
        .iter()
        .filter(|(_, there)| !there)
        .map(|(what, _)| *what)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let text = format!("SKIPPED: {suite} needs {}", missing.join(", "));
    if std::env::var("MAIL2FA_REQUIRE_E2E").as_deref() == Ok("1") {
        panic!("{text} (MAIL2FA_REQUIRE_E2E=1)");
    }
    eprintln!("{text}");
    Some(text)
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

pub fn pam_module(name: &str) -> bool {
    [
        "/lib/x86_64-linux-gnu/security",
        "/usr/lib/x86_64-linux-gnu/security",
    ]
    .iter()
    .any(|dir| Path::new(dir).join(name).exists())
}

/// A SHA-512 crypt(3) hash, as pam_pwdfile and Dovecot read them.
pub fn crypt_sha512(password: &str) -> String {
    let mut child = Command::new("openssl")
        .args(["passwd", "-6", "-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A directory of the test's own, readable by Dovecot's unprivileged
/// processes; removed on drop.
pub struct WorkDir(pub PathBuf);

impl WorkDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mail2fa-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Self(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn write(&self, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PAM service file of this test (a name no one else uses), removed on
/// drop.
pub struct PamService {
    pub name: String,
    path: PathBuf,
}

impl PamService {
    pub fn new(tag: &str, text: &str) -> Self {
        let name = format!("m2fa-pwtest-{}-{tag}", std::process::id());
        let path = Path::new("/etc/pam.d").join(&name);
        std::fs::write(&path, text).unwrap();
        Self { name, path }
    }

    /// A service named for a Dovecot passdb's `args = PREFIX%s`: the file
    /// is PREFIX plus `service`.
    pub fn with_prefix(prefix: &str, service: &str, text: &str) -> Self {
        let name = format!("{prefix}{service}");
        let path = Path::new("/etc/pam.d").join(&name);
        std::fs::write(&path, text).unwrap();
        Self { name, path }
    }
}

impl Drop for PamService {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
