//! Real file-system faults under the SQLite store: a full disk and a
//! read-only file system, on a small tmpfs mounted for the test. Every
//! fault refuses the login with an error — never "no 2FA", never a code
//! consumed without being stored — and nothing is half-written.
//!
//! Mounting needs root (CI runs as root); elsewhere the test says it was
//! skipped. The size-capped database of `tests/sqlite_store.rs` covers the
//! full-disk case everywhere.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use mail2fa::engine::{AccountId, Engine, EngineConfig};
use mail2fa::store::{SqliteStore, StoreError};
use mail2fa::{Error, KeyUri, Totp};

const NOW: u64 = 1_800_000_000;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("m2fa-tmpfs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(Self(dir))
    }

    fn remount(&self, mode: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remount {mode}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn fill(dir: &Path) -> PathBuf {
    let filler = dir.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 4096];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
    filler
}

fn storage_error<T: core::fmt::Debug>(result: Result<T, Error>) {
    match result {
        Err(Error::Store(StoreError::Backend(_))) => {}
        other => panic!("expected a storage error, got {other:?}"),
    }
}

#[test]
fn a_full_disk_and_a_read_only_file_system_refuse_logins() {
    let Some(fs) = Tmpfs::mount("1m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (not root); see tests/sqlite_store.rs");
        return;
    };
    let path = fs.0.join("state.db");
    let engine = Engine::new(SqliteStore::create(&path).unwrap(), EngineConfig::default()).unwrap();
    engine.enable_platform("example.com", true).unwrap();
    let id = AccountId::new("example.com", "alice@example.com").unwrap();
    let uri = engine.enable_account(&id, NOW).unwrap();
    let key = KeyUri::parse(&uri).unwrap();
    let totp = Totp::new(key.secret(), key.totp_config().unwrap());
    let code = totp.generate(NOW).unwrap();
    assert!(
        engine
            .login(&id, Some(code.as_str()), NOW)
            .unwrap()
            .is_allowed()
    );

    // Full: the disk has no room for the WAL to grow. Logins that must
    // write fail; once there is room, the same code works (it was not
    // consumed by the failed attempt).
    let filler = fill(&fs.0);
    let mut failed = 0;
    let mut accepted_at = None;
    for step in 1..=200u64 {
        let at = NOW + 30 * step;
        let code = totp.generate(at).unwrap();
        match engine.login(&id, Some(code.as_str()), at) {
            Ok(decision) => assert!(decision.is_allowed(), "{decision:?}"),
            Err(error) => {
                storage_error::<()>(Err(error));
                failed += 1;
                accepted_at.get_or_insert(at);
            }
        }
    }
    assert!(failed > 0, "the full disk never refused a write");
    std::fs::remove_file(filler).unwrap();
    let at = accepted_at.unwrap();
    let code = totp.generate(at).unwrap();
    assert!(
        engine
            .login(&id, Some(code.as_str()), at)
            .unwrap()
            .is_allowed(),
        "a code whose login failed on the full disk was consumed"
    );

    // Read-only (the file system remounted read-only, as after an I/O
    // error): the database cannot be opened for writing, or every write
    // fails; nothing reads as "no 2FA".
    let next = at + 30;
    let code = totp.generate(next).unwrap();
    drop(engine); // a file system with files open for writing stays rw
    fs.remount("ro");
    match SqliteStore::open(&path) {
        Err(StoreError::Backend(_)) => {}
        Ok(store) => match Engine::new(store, EngineConfig::default()) {
            Err(Error::Store(StoreError::Backend(_))) => {}
            Ok(engine) => storage_error(engine.login(&id, Some(code.as_str()), next)),
            Err(other) => panic!("{other:?}"),
        },
        Err(other) => panic!("{other:?}"),
    }
    fs.remount("rw");
    // Back to normal: the code of that step was never consumed.
    let engine = Engine::new(SqliteStore::open(&path).unwrap(), EngineConfig::default()).unwrap();
    assert!(
        engine
            .login(&id, Some(code.as_str()), next)
            .unwrap()
            .is_allowed()
    );
}
