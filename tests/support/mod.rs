//! The store a test suite runs on, chosen by `MAIL2FA_TEST_STORE`:
//! `memory` (the default), `sqlite` (a fresh database file per store) or
//! `postgres` (a fresh schema per store in the database named by
//! `MAIL2FA_TEST_POSTGRES`, e.g. from `scripts/pg-server.sh start`). The
//! engine's scenario suites build every engine on [`fresh_store`], so the
//! same tests prove every backend (`scripts/test-stores.sh`).

#![allow(dead_code, unreachable_pub)]

pub mod clients;
pub mod engine;
pub mod logins;
pub mod records;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use mail2fa::store::Store;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use mail2fa::store::{CasOutcome, ScannedRecord, StoreError, Versioned};

/// A fresh private directory (mode 0700) under the system's temporary
/// directory, `m2fa-NAME-PID`, removed on drop. Private, because the SQLite
/// store refuses database files in a directory others can write.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("m2fa-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        Self(dir)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    /// The directory itself.
    pub fn dir(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A store as the suites use it.
pub type TestStore = Box<dyn Store>;

/// The backend named by `MAIL2FA_TEST_STORE`.
pub fn backend() -> String {
    std::env::var("MAIL2FA_TEST_STORE").unwrap_or_else(|_| "memory".into())
}

/// A new, empty store of the selected backend.
pub fn fresh_store() -> TestStore {
    match backend().as_str() {
        "memory" => Box::new(mail2fa::store::MemoryStore::new()),
        #[cfg(feature = "sqlite")]
        "sqlite" => Box::new(SqliteScratch::new()),
        #[cfg(feature = "postgres")]
        "postgres" => Box::new(PostgresScratch::new()),
        other => panic!("MAIL2FA_TEST_STORE={other}: not a backend of this build"),
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name unique to this process and call.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos:x}", std::process::id())
}

/// A SQLite store in a file of its own, removed with the store.
#[cfg(feature = "sqlite")]
pub struct SqliteScratch {
    store: mail2fa::store::SqliteStore,
    dir: PathBuf,
}

#[cfg(feature = "sqlite")]
impl SqliteScratch {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("m2fa-suite"));
        std::fs::create_dir_all(&dir).unwrap();
        let store = mail2fa::store::SqliteStore::create(dir.join("state.db")).unwrap();
        Self { store, dir }
    }
}

#[cfg(feature = "sqlite")]
impl Drop for SqliteScratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The database of the PostgreSQL tests (`MAIL2FA_TEST_POSTGRES`), if set.
pub fn postgres_url() -> Option<String> {
    std::env::var("MAIL2FA_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// A fresh schema in the test database, and a connection string whose
/// `search_path` is that schema. The schema is dropped with the value.
pub struct PostgresSchema {
    pub name: String,
    pub url: String,
    admin: String,
}

impl PostgresSchema {
    /// A fresh schema, or `None` — the test is skipped, saying so — without
    /// a server; CI (`MAIL2FA_REQUIRE_POSTGRES=1`) never skips.
    pub fn or_skip() -> Option<Self> {
        if postgres_url().is_none() {
            assert!(
                std::env::var("MAIL2FA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MAIL2FA_REQUIRE_POSTGRES=1 but MAIL2FA_TEST_POSTGRES is not set"
            );
            eprintln!("SKIPPED: MAIL2FA_TEST_POSTGRES is not set (scripts/pg-server.sh start)");
            return None;
        }
        Some(Self::new())
    }

    /// Panics without `MAIL2FA_TEST_POSTGRES` (callers check first when the
    /// test is optional).
    pub fn new() -> Self {
        let admin = postgres_url().expect("MAIL2FA_TEST_POSTGRES is not set");
        let name = unique("m2fa_t");
        psql(&admin, &format!("CREATE SCHEMA {name}"));
        let separator = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{separator}options=-c%20search_path%3D{name}");
        Self { name, url, admin }
    }

    /// Runs SQL in this schema (through `psql`), returning its output.
    pub fn sql(&self, statement: &str) -> String {
        psql(&self.url, statement)
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([self.admin.as_str(), "-qAtX", "-c"])
            .arg(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
            .output();
    }
}

/// Runs `statement` with `psql` on `url`; panics on failure.
pub fn psql(url: &str, statement: &str) -> String {
    let output = Command::new("psql")
        .args([url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", statement])
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "psql {statement}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A PostgreSQL store in a schema of its own, dropped with the store.
#[cfg(feature = "postgres")]
pub struct PostgresScratch {
    // Declared first: the store's connections close before the schema is
    // dropped.
    store: mail2fa::store::PostgresStore,
    schema: PostgresSchema,
}

#[cfg(feature = "postgres")]
impl PostgresScratch {
    pub fn new() -> Self {
        let schema = PostgresSchema::new();
        // Each scratch schema is set up as an administrator does it.
        let store = mail2fa::store::PostgresStore::create(&schema.url).unwrap();
        Self { store, schema }
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! delegate_store {
    ($type:ty) => {
        impl Store for $type {
            fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
                self.store.load(key)
            }
            fn compare_and_swap(
                &self,
                key: &[u8],
                expected: Option<u64>,
                new: Option<&[u8]>,
            ) -> Result<CasOutcome, StoreError> {
                self.store.compare_and_swap(key, expected, new)
            }
            fn scan(
                &self,
                after: Option<&[u8]>,
                limit: usize,
            ) -> Result<Vec<ScannedRecord>, StoreError> {
                self.store.scan(after, limit)
            }
            fn scrub(&self) -> Result<(), StoreError> {
                self.store.scrub()
            }
        }
    };
}

#[cfg(feature = "sqlite")]
delegate_store!(SqliteScratch);
#[cfg(feature = "postgres")]
delegate_store!(PostgresScratch);

// ------------------------------------------------- the user's side of 2FA

use mail2fa::Totp;
use mail2fa::engine::{AccountId, AllowReason, Decision, Engine};

/// What the user's authenticator app makes of a provisioning URI.
pub fn phone(uri: &str) -> Totp {
    let key = mail2fa::KeyUri::parse(uri).unwrap();
    Totp::new(key.secret(), key.totp_config().unwrap())
}

/// The app's code of time step `step`.
pub fn code(totp: &Totp, step: u64) -> String {
    totp.generate_at_step(step).as_str().to_owned()
}

/// Enables 2FA for `id` at `now` and confirms it with the current step's
/// code, as a user does; returns the app's generator.
pub fn enroll<S: Store>(engine: &Engine<S>, id: &AccountId, now: u64) -> Totp {
    let totp = phone(&engine.enable_account(id, now).unwrap());
    let decision = engine
        .login(id, Some(&code(&totp, totp.step_at(now).unwrap())), now)
        .unwrap();
    assert!(
        matches!(
            decision,
            Decision::Allow {
                reason: AllowReason::Enrolled { .. },
                cacheable: false
            }
        ),
        "{decision:?}"
    );
    totp
}

/// A well-formed code that matches no step within 12 of `center`: wrong,
/// and not even diagnosable as clock skew. Other `salt`s give other codes.
pub fn wrong_code(totp: &Totp, center: u64, salt: u64) -> String {
    (salt..)
        .map(|n| format!("{:06}", n % 1_000_000))
        .find(|c| (center - 12..=center + 12).all(|s| totp.generate_at_step(s).as_str() != c))
        .unwrap()
}
