//! The store itself: opening a database file (never creating one, unless
//! asked), the compare-and-swap in one immediate transaction on the writer
//! connection, loads on read connections of their own, scans and the scrub
//! of the WAL.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use zeroize::Zeroizing;

use super::connection::open_connection;
use super::failure::backend;
use super::files::{FileIdentity, check_files};
use super::options::{SqliteCheck, SqliteOptions, Synchronous};
use super::readers::Readers;
use super::schema::{identify, migrate};
use crate::store::backend::{CasOutcome, ScannedRecord, Store, Versioned};
use crate::store::error::StoreError;
use crate::store::limits::{WithinLimits, compare_and_swap_within_limits};
use crate::store::sql::{in_key_order, to_version};

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
///
/// Thread-safe: compare-and-swaps, scans, the scrub and the check take
/// turns on one writer connection; loads run on read connections of their
/// own ([`SqliteOptions::idle_readers`]), which neither wait for each other
/// nor for the writer, and see every commit made before they start.
#[derive(Debug)]
pub struct SqliteStore {
    connection: Mutex<Connection>,
    /// `PRAGMA synchronous` of durable writes (the options'), set again
    /// before each write: a relaxed one runs with `NORMAL`.
    synchronous: &'static str,
    /// Boxed: a store stays small to hold (in an enum of stores, say).
    readers: Box<Readers>,
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
        stale_journal(path)?;
        let mut connection = open_connection(path, options.busy_timeout)?;
        // The file the readers must find at the path when they open.
        let file = FileIdentity::of(path)?;
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
            synchronous,
            readers: Box::new(Readers::new(
                path.to_owned(),
                file,
                options.busy_timeout,
                options.idle_readers,
            )),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        self.readers.path()
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

impl SqliteStore {
    /// The compare-and-swap, in one `BEGIN IMMEDIATE` transaction (the key
    /// and record are within the limits: [`compare_and_swap_within_limits!`]).
    fn swap(&self, within: WithinLimits<'_>) -> Result<CasOutcome, StoreError> {
        self.swap_with(within, self.synchronous)
    }

    /// [`SqliteStore::swap`] committed with `PRAGMA synchronous =
    /// synchronous`, set before the transaction every time (so a relaxed
    /// write never leaves the next durable one without its sync).
    fn swap_with(
        &self,
        WithinLimits { key, expected, new }: WithinLimits<'_>,
        synchronous: &str,
    ) -> Result<CasOutcome, StoreError> {
        // One stat beside a commit: never write into a file that is no
        // longer the database at the path.
        self.readers.check_file()?;
        let mut connection = self.connection()?;
        connection
            .pragma_update(None, "synchronous", synchronous)
            .map_err(|e| backend("synchronous", e))?;
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

/// Refuses a new (empty) database beside a journal that holds frames: the
/// WAL is kept when a store closes, so a database deleted or replaced
/// without its `-wal` leaves one behind, and SQLite would apply another
/// database's pages to the new file.
fn stale_journal(path: &Path) -> Result<(), StoreError> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    let empty = std::fs::metadata(path).is_ok_and(|m| m.len() == 0);
    if empty && std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(StoreError::Backend(format!(
            "sqlite: {} holds the journal of another database, and {} is new or empty: move \
             {} and its -shm away first (a database is deleted, moved or restored together \
             with its -wal and -shm files)",
            wal.display(),
            path.display(),
            wal.display()
        )));
    }
    Ok(())
}

/// The most keys [`Store::load_many`] reads with one statement; more are
/// read one by one.
const MAX_KEYS_PER_STATEMENT: usize = 16;

/// The records under `keys` (two or more), in their order, read by one
/// statement on `connection`.
fn load_several(
    connection: &Connection,
    keys: &[&[u8]],
) -> Result<Vec<Option<Versioned>>, StoreError> {
    const SELECT: &str = "SELECT key, version, bytes FROM m2fa_records WHERE key IN ";
    // What a login asks for (three keys; two for the split) without
    // building the statement's text on every login.
    let built;
    let sql = match keys.len() {
        2 => "SELECT key, version, bytes FROM m2fa_records WHERE key IN (?1, ?2)",
        3 => "SELECT key, version, bytes FROM m2fa_records WHERE key IN (?1, ?2, ?3)",
        n => {
            let placeholders: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
            built = format!("{SELECT}({})", placeholders.join(", "));
            &built
        }
    };
    let mut statement = connection
        .prepare_cached(sql)
        .map_err(|e| backend("load", e))?;
    let mut found: Vec<(Vec<u8>, Versioned)> = Vec::with_capacity(keys.len());
    let rows = statement
        .query_map(rusqlite::params_from_iter(keys.iter()), |row| {
            Ok((
                row.get::<_, Vec<u8>>(0)?,
                row.get::<_, i64>(1)?,
                Zeroizing::new(row.get::<_, Vec<u8>>(2)?),
            ))
        })
        .map_err(|e| backend("load", e))?;
    for row in rows {
        let (key, version, bytes) = row.map_err(|e| backend("load", e))?;
        let version = to_version("sqlite", version)?;
        found.push((key, Versioned { version, bytes }));
    }
    Ok(in_key_order(keys, &found))
}

/// The record under `key`, read on `connection` (in its transaction, if it
/// has one; otherwise in a read transaction of its own).
fn load_one(connection: &Connection, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
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

impl Store for SqliteStore {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.readers.read(|connection| load_one(connection, key))
    }

    /// One statement on a read connection (`WHERE key IN (…)`): every
    /// record as of the same commit, in one read transaction.
    fn load_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Versioned>>, StoreError> {
        match keys {
            [] => Ok(Vec::new()),
            [key] => Ok(vec![self.load(key)?]),
            // A login asks for three; far below SQLite's limit of bound
            // parameters, and a statement cached per count.
            _ if keys.len() <= MAX_KEYS_PER_STATEMENT => self
                .readers
                .read(|connection| load_several(connection, keys)),
            _ => keys.iter().map(|key| self.load(key)).collect(),
        }
    }

    compare_and_swap_within_limits!();

    /// Committed with `synchronous = NORMAL`: in WAL mode the commit is
    /// in the WAL (a crash of the process loses nothing) but not synced
    /// to the disk; the next durable commit or checkpoint syncs it too.
    fn compare_and_swap_relaxed(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.swap_with(WithinLimits::check(key, expected, new)?, "NORMAL")
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    /// A relaxed write commits with `NORMAL`; the next durable write is
    /// back at the store's `FULL`, whatever came before it.
    #[test]
    fn a_relaxed_write_never_leaves_a_durable_one_unsynced() {
        let dir = std::env::temp_dir().join(format!("m2fa-relaxed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::create(dir.join("state.db")).unwrap();
        let level = |store: &SqliteStore| -> i64 {
            let connection = store.connection().unwrap();
            connection
                .query_row("PRAGMA synchronous", [], |row| row.get(0))
                .unwrap()
        };
        let (normal, full) = (1, 2);
        let CasOutcome::Stored { version } =
            store.compare_and_swap(b"k", None, Some(b"one")).unwrap()
        else {
            panic!("a new key is stored");
        };
        assert_eq!(level(&store), full);
        let CasOutcome::Stored { version } = store
            .compare_and_swap_relaxed(b"k", Some(version), Some(b"two"))
            .unwrap()
        else {
            panic!("the expected version matches");
        };
        assert_eq!(level(&store), normal);
        assert_eq!(store.load(b"k").unwrap().unwrap().bytes.as_slice(), b"two");
        assert!(matches!(
            store
                .compare_and_swap(b"k", Some(version), Some(b"three"))
                .unwrap(),
            CasOutcome::Stored { .. }
        ));
        assert_eq!(level(&store), full);
        // A relaxed write that loses its race changes nothing.
        assert_eq!(
            store
                .compare_and_swap_relaxed(b"k", Some(version), Some(b"stale"))
                .unwrap(),
            CasOutcome::Conflict
        );
        assert_eq!(
            store.load(b"k").unwrap().unwrap().bytes.as_slice(),
            b"three"
        );
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
