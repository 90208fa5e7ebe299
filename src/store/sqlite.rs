//! The embedded durable store: one SQLite file (the bundled SQLite, so C
//! hosts need nothing installed), safe for several threads and several
//! processes at once.
//!
//! * **Atomicity**: every compare-and-swap is one `BEGIN IMMEDIATE`
//!   transaction — the check of the version, the new version from a
//!   store-wide counter (never reused, so no ABA even across deletes) and
//!   the write commit together or not at all. Loads are plain reads: the
//!   read path never writes the database.
//! * **Durability**: WAL journal, `synchronous = FULL` by default: a
//!   consumed code survives a power cut. `NORMAL` is faster (no fsync per
//!   commit in WAL mode) but the last commits can be lost on power failure
//!   — which, for a 2FA store, can make a consumed code usable again or
//!   undo a lockout. It is not lost on a process crash.
//! * **Several processes** (Dovecot's auth workers, for instance) may open
//!   the same file: SQLite's locks serialise the writers; a writer that
//!   finds the database busy waits up to the busy timeout (5 s by default),
//!   then the call fails (and the login is refused).
//! * **Creation is an administrative act**: [`SqliteStore::open`] (and
//!   `create: false`, the default of [`SqliteOptions`]) only opens an
//!   existing mail2fa database. A missing file, an empty (0-byte) file or a
//!   SQLite file without the mail2fa schema is refused like a foreign one:
//!   a login path must never build a fresh, empty store that answers "no
//!   2FA" for everyone. Only [`SqliteStore::create`] (`create: true`; the
//!   operator tool's `mail2fa platform enable`) makes a new file, or builds
//!   the schema in an existing empty one.
//! * **Files**: a new database is created with mode 0600; a path that is a
//!   symbolic link is refused (SQLite's `NOFOLLOW`, and our own check when
//!   creating it). A file that is not a mail2fa database, or one of a newer
//!   schema version, is refused: never read as "no 2FA". The database, its
//!   `-wal` and `-shm` companions and its directory must not be writable by
//!   group or others and must belong to the process's effective user or to
//!   root (a directory others can write lets them plant a `-wal` file that
//!   SQLite would replay into the database; a sticky directory such as
//!   `/tmp` is accepted, as others cannot replace files there, and a
//!   companion planted there is refused by its owner). Run the operator
//!   tool as the user that owns the database (`sudo -u dovecot mail2fa …`),
//!   or as root.
//! * **Destroyed secrets leave the files**: deleted and replaced records are
//!   overwritten with zeros (`secure_delete`), and [`Store::scrub`] (called
//!   by the engine after removing or resetting an account) checkpoints the
//!   WAL into the database and truncates it, so an old secret survives
//!   neither in the database nor in its `-wal` file.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use zeroize::Zeroizing;

use super::backend::{CasOutcome, ScannedRecord, Store, Versioned};
use super::error::StoreError;
use super::limits::{WithinLimits, compare_and_swap_within_limits};
use super::sql::to_version;

/// `PRAGMA application_id` of a mail2fa database ("M2FA").
const APPLICATION_ID: i32 = 0x4d32_4641;
/// The schema this version writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i32 = 1;

/// How hard a commit tries to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// Every commit is synced before it returns (the default): nothing
    /// acknowledged is ever lost.
    Full,
    /// Commits are synced at WAL checkpoints only: faster, but a power
    /// failure may lose the last commits (a consumed code may work again).
    Normal,
}

/// How to open a [`SqliteStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Create the database (default `false`). `false`: the file must be an
    /// existing mail2fa database — a missing file, an empty file or one
    /// without the mail2fa schema is an error (what every login path must
    /// use). `true`, the administrator's act: a missing file is created
    /// (mode 0600), and an existing empty file (0 bytes, or a SQLite file
    /// with no tables at all) gets the schema; an existing mail2fa database
    /// is opened as it is.
    pub create: bool,
    /// Durability of commits (default [`Synchronous::Full`]).
    pub synchronous: Synchronous,
    /// How long a writer waits for another process's lock (default 5 s).
    pub busy_timeout: Duration,
    /// Largest size of the database file in bytes (`None`: no limit but
    /// the disk's). Beyond it, writes fail as on a full disk — the login is
    /// refused, nothing is half-written.
    pub max_size: Option<u64>,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            create: false,
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(5),
            max_size: None,
        }
    }
}

/// What [`SqliteStore::check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteCheck {
    /// The schema version of the file ([`SCHEMA_VERSION`]).
    pub schema_version: i32,
    /// What SQLite's integrity check says: `["ok"]`, or up to 100 problems.
    pub integrity: Vec<String>,
    /// Records stored.
    pub records: u64,
    /// Size of the database (pages in use and free), in bytes.
    pub size_bytes: u64,
}

impl SqliteCheck {
    /// Whether SQLite found nothing wrong.
    pub fn is_sound(&self) -> bool {
        self.integrity.len() == 1 && self.integrity[0] == "ok"
    }
}

/// A [`Store`] in a SQLite database file.
///
/// ```
/// use mail2fa::store::{CasOutcome, SqliteStore, Store};
///
/// let dir = std::env::temp_dir().join(format!("m2fa-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("state.db");
/// # let _ = std::fs::remove_file(&path);
/// // Creating the database is the administrator's act...
/// let store = SqliteStore::create(&path)?;
/// let CasOutcome::Stored { version } = store.compare_and_swap(b"k", None, Some(b"v1"))? else {
///     unreachable!("the key was absent");
/// };
/// drop(store);
/// // ...another process (or a restart) opens it and sees what was committed.
/// let again = SqliteStore::open(&path)?;
/// assert_eq!(again.load(b"k")?.unwrap().version, version);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), mail2fa::store::StoreError>(())
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    connection: Mutex<Connection>,
    path: PathBuf,
}

fn backend(context: &str, error: impl core::fmt::Display) -> StoreError {
    StoreError::Backend(format!("sqlite: {context}: {error}"))
}

impl SqliteStore {
    /// Opens the existing mail2fa database at `path` with the default
    /// options. Never creates anything: this is the opener of login paths.
    ///
    /// # Errors
    /// [`StoreError::Backend`] for a missing file, an empty file or one
    /// without the mail2fa schema, a symbolic link, a file that is not a
    /// mail2fa database, a newer schema, a file or directory that group or
    /// others may write or that belongs to another user, or any I/O or
    /// SQLite failure.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, &SqliteOptions::default())
    }

    /// Creates the database at `path` (mode 0600), or the schema in an
    /// existing empty file, or opens it if it is already a mail2fa
    /// database — the administrator's act of setting up a store (the
    /// operator tool's `mail2fa platform enable`). Never call it from a
    /// login path: there a missing or emptied database must refuse logins,
    /// not become an empty store that answers "no 2FA".
    ///
    /// # Errors
    /// As [`SqliteStore::open`], except for a missing or empty file.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(
            path,
            &SqliteOptions {
                create: true,
                ..SqliteOptions::default()
            },
        )
    }

    /// Opens the database at `path` with `options`.
    ///
    /// # Errors
    /// As [`SqliteStore::open`]; with `create: true`, a missing or empty
    /// file is not an error.
    pub fn open_with(path: impl AsRef<Path>, options: &SqliteOptions) -> Result<Self, StoreError> {
        let path = path.as_ref();
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(StoreError::Backend(format!(
                    "sqlite: refusing {}: it is a symbolic link",
                    path.display()
                )));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && options.create => {
                // Created here, 0600, and never through a link (O_EXCL). If
                // another process created it first, we open theirs (SQLite's
                // NOFOLLOW below still refuses a link planted meanwhile).
                match OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(backend(&format!("creating {}", path.display()), e)),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Backend(format!(
                    "sqlite: {} does not exist; a login never creates a database (create it \
                     once with `mail2fa platform enable`, or SqliteStore::create)",
                    path.display()
                )));
            }
            Err(e) => return Err(backend(&format!("opening {}", path.display()), e)),
        }
        check_files(path)?;
        if !options.create && std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
            return Err(StoreError::Backend(format!(
                "sqlite: {} is an empty file, not a mail2fa database (it was truncated or \
                 never set up; restore it from a backup, or create the schema with \
                 `mail2fa platform enable`)",
                path.display()
            )));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut connection = Connection::open_with_flags(path, flags)
            .map_err(|e| backend(&format!("opening {}", path.display()), e))?;
        connection
            .busy_timeout(options.busy_timeout)
            .map_err(|e| backend("busy timeout", e))?;
        if !options.create {
            // Before anything is written (the switch to WAL writes).
            identify(&connection, path)?;
        }
        let mode = wal_mode(&connection, options.busy_timeout)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(backend("journal mode", format!("WAL refused ({mode})")));
        }
        let synchronous = match options.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        connection
            .pragma_update(None, "synchronous", synchronous)
            .map_err(|e| backend("synchronous", e))?;
        // Replaced and deleted records (old secrets among them) are
        // overwritten with zeros in the file, not left in free pages.
        connection
            .pragma_update(None, "secure_delete", "ON")
            .map_err(|e| backend("secure delete", e))?;
        migrate(&mut connection, options.create)?;
        if let Some(bytes) = options.max_size {
            let page: i64 = connection
                .query_row("PRAGMA page_size", [], |row| row.get(0))
                .map_err(|e| backend("page size", e))?;
            let pages = i64::try_from(bytes).unwrap_or(i64::MAX) / page.max(1);
            connection
                .query_row(
                    &format!("PRAGMA max_page_count = {}", pages.max(1)),
                    [],
                    |_| Ok(()),
                )
                .map_err(|e| backend("size limit", e))?;
        }
        Ok(Self {
            connection: Mutex::new(connection),
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks the database file: SQLite's `PRAGMA integrity_check` (every
    /// page, index and constraint; it reads the whole file, so it takes a
    /// while on a big one), the schema version and the record count. Writes
    /// nothing; logins may run meanwhile.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the checks cannot run at all.
    pub fn check(&self) -> Result<SqliteCheck, StoreError> {
        let connection = self.connection()?;
        let integrity = connection
            .prepare("PRAGMA integrity_check(100)")
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| row.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| backend("integrity check", e))?;
        let number = |sql: &str| -> Result<i64, StoreError> {
            connection
                .query_row(sql, [], |row| row.get(0))
                .map_err(|e| backend("check", e))
        };
        let schema_version = number("PRAGMA user_version")?;
        let records = number("SELECT count(*) FROM m2fa_records")?;
        let size = number("PRAGMA page_count")?.saturating_mul(number("PRAGMA page_size")?);
        Ok(SqliteCheck {
            schema_version: i32::try_from(schema_version).unwrap_or(-1),
            integrity,
            records: u64::try_from(records).unwrap_or(0),
            size_bytes: u64::try_from(size).unwrap_or(0),
        })
    }

    fn connection(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.connection
            .lock()
            .map_err(|_| StoreError::Backend("sqlite: connection lock poisoned".into()))
    }
}

/// Switches to the WAL journal. On a new file that other processes are
/// opening at the same moment, SQLite can answer "database is locked" at
/// once, without its busy handler: try again until the busy timeout.
fn wal_mode(connection: &Connection, busy_timeout: Duration) -> Result<String, StoreError> {
    let started = std::time::Instant::now();
    loop {
        match connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)) {
            Ok(mode) => return Ok(mode),
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                ) && started.elapsed() < busy_timeout =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(backend("journal mode", e)),
        }
    }
}

/// Refuses (without writing) a file that does not say it is a mail2fa
/// database: an empty SQLite database included.
fn identify(connection: &Connection, path: &Path) -> Result<(), StoreError> {
    let application: i32 = connection
        .query_row("PRAGMA application_id", [], |row| row.get(0))
        .map_err(|e| backend(&format!("opening {}", path.display()), e))?;
    match application {
        APPLICATION_ID => Ok(()),
        0 => Err(StoreError::Backend(format!(
            "sqlite: {} has no mail2fa schema (an empty or foreign database); a login never \
             creates one (restore the database, or create the schema with \
             `mail2fa platform enable`)",
            path.display()
        ))),
        _ => Err(backend("schema", "the file is not a mail2fa database")),
    }
}

/// The effective user id of this process.
fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Refuses a database that another user controls: the file (and its
/// `-wal` and `-shm` companions, when they exist) and its directory must
/// belong to the effective user or to root, and must not be writable by
/// group or others.
fn check_files(path: &Path) -> Result<(), StoreError> {
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

/// Creates the schema in an empty database (only with `create`), accepts
/// the current one, and refuses anything else — all in one immediate
/// transaction, so that two processes creating the same new file do not
/// both build it.
fn migrate(connection: &mut Connection, create: bool) -> Result<(), StoreError> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| backend("schema", e))?;
    let pragma = |name: &str| -> Result<i32, StoreError> {
        tx.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
            .map_err(|e| backend("schema", e))
    };
    let (application, version) = (pragma("application_id")?, pragma("user_version")?);
    match (application, version) {
        (APPLICATION_ID, SCHEMA_VERSION) => {}
        (APPLICATION_ID, other) => {
            return Err(backend(
                "schema",
                format!("version {other}, this library reads {SCHEMA_VERSION}"),
            ));
        }
        (0, 0) if !create => {
            return Err(backend(
                "schema",
                "no mail2fa schema, and a login never creates one",
            ));
        }
        (0, 0) => {
            let objects: i64 = tx
                .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
                .map_err(|e| backend("schema", e))?;
            if objects != 0 {
                return Err(backend(
                    "schema",
                    "the file is another application's database",
                ));
            }
            tx.execute_batch(&format!(
                "CREATE TABLE m2fa_records (
                     key BLOB PRIMARY KEY NOT NULL,
                     version INTEGER NOT NULL,
                     bytes BLOB NOT NULL
                 ) WITHOUT ROWID;
                 CREATE TABLE m2fa_counter (
                     id INTEGER PRIMARY KEY CHECK (id = 1),
                     next_version INTEGER NOT NULL
                 );
                 INSERT INTO m2fa_counter (id, next_version) VALUES (1, 1);
                 PRAGMA application_id = {APPLICATION_ID};
                 PRAGMA user_version = {SCHEMA_VERSION};"
            ))
            .map_err(|e| backend("creating the schema", e))?;
        }
        _ => return Err(backend("schema", "the file is not a mail2fa database")),
    }
    tx.commit().map_err(|e| backend("schema", e))
}

impl SqliteStore {
    /// The compare-and-swap, in one `BEGIN IMMEDIATE` transaction (the key
    /// and record are within the limits: [`compare_and_swap_within_limits!`]).
    fn swap(
        &self,
        WithinLimits { key, expected, new }: WithinLimits<'_>,
    ) -> Result<CasOutcome, StoreError> {
        let mut connection = self.connection()?;
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| backend("begin", e))?;
        let current: Option<i64> = tx
            .prepare_cached("SELECT version FROM m2fa_records WHERE key = ?1")
            .and_then(|mut s| s.query_row(params![key], |row| row.get(0)).optional())
            .map_err(|e| backend("compare", e))?;
        if current.map(|v| to_version("sqlite", v)).transpose()? != expected {
            // Dropping the transaction rolls it back: nothing was written.
            return Ok(CasOutcome::Conflict);
        }
        let version: i64 = tx
            .prepare_cached(
                "UPDATE m2fa_counter SET next_version = next_version + 1 WHERE id = 1 \
                 RETURNING next_version - 1",
            )
            .and_then(|mut s| s.query_row([], |row| row.get(0)))
            .map_err(|e| backend("version counter", e))?;
        match new {
            Some(bytes) => tx
                .prepare_cached(
                    "INSERT INTO m2fa_records (key, version, bytes) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (key) DO UPDATE SET version = ?2, bytes = ?3",
                )
                .and_then(|mut s| s.execute(params![key, version, bytes])),
            None => tx
                .prepare_cached("DELETE FROM m2fa_records WHERE key = ?1")
                .and_then(|mut s| s.execute(params![key])),
        }
        .map_err(|e| backend("write", e))?;
        tx.commit().map_err(|e| backend("commit", e))?;
        Ok(CasOutcome::Stored {
            version: to_version("sqlite", version)?,
        })
    }
}

impl Store for SqliteStore {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        let connection = self.connection()?;
        let mut statement = connection
            .prepare_cached("SELECT version, bytes FROM m2fa_records WHERE key = ?1")
            .map_err(|e| backend("load", e))?;
        let row = statement
            .query_row(params![key], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    Zeroizing::new(row.get::<_, Vec<u8>>(1)?),
                ))
            })
            .optional()
            .map_err(|e| backend("load", e))?;
        row.map(|(version, bytes)| {
            Ok(Versioned {
                version: to_version("sqlite", version)?,
                bytes,
            })
        })
        .transpose()
    }

    compare_and_swap_within_limits!();

    fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
        let connection = self.connection()?;
        let mut statement = connection
            .prepare_cached(
                "SELECT key, version, bytes FROM m2fa_records \
                 WHERE ?1 IS NULL OR key > ?1 ORDER BY key LIMIT ?2",
            )
            .map_err(|e| backend("scan", e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement
            .query_map(params![after, limit], |row| {
                Ok((
                    row.get::<_, Vec<u8>>(0)?,
                    row.get::<_, i64>(1)?,
                    Zeroizing::new(row.get::<_, Vec<u8>>(2)?),
                ))
            })
            .map_err(|e| backend("scan", e))?;
        rows.map(|row| {
            let (key, version, bytes) = row.map_err(|e| backend("scan", e))?;
            Ok((
                key,
                Versioned {
                    version: to_version("sqlite", version)?,
                    bytes,
                },
            ))
        })
        .collect()
    }

    /// Checkpoints the WAL into the database and truncates it
    /// (`wal_checkpoint(TRUNCATE)`): the pages of deleted or replaced
    /// records, already zeroed in the database by `secure_delete`, leave the
    /// `-wal` file too. Waits for readers up to the busy timeout.
    fn scrub(&self) -> Result<(), StoreError> {
        let connection = self.connection()?;
        let (busy, _, _): (i64, i64, i64) = connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .map_err(|e| backend("checkpoint", e))?;
        if busy != 0 {
            return Err(backend(
                "checkpoint",
                "another connection kept reading; the WAL still holds old pages until the next \
                 checkpoint",
            ));
        }
        Ok(())
    }
}
