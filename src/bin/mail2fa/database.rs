//! Where the tool's records live: a SQLite file or a PostgreSQL database,
//! named by the configuration's `[store]` or by `--db` (a path, or a
//! `postgres://` / `postgresql://` URL).

use std::path::{Path, PathBuf};

use mail2fa::store::{
    CasOutcome, PostgresOptions, PostgresStore, ScannedRecord, SqliteOptions, SqliteStore, Store,
    StoreError, Versioned,
};

use crate::failure::{DATABASE, Failure, REFUSED, fail};
use crate::output::{Style, clean};

/// What `--db` names. No `Debug`: a URL may carry a password.
#[derive(Clone)]
pub(crate) enum Location {
    File(PathBuf),
    /// A connection string (it may carry a password: never print it, use
    /// [`redact`]).
    Postgres(String),
}

impl Location {
    pub(crate) fn new(db: &Path) -> Self {
        match db.to_str() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Location::Postgres(url.to_owned())
            }
            _ => Location::File(db.to_owned()),
        }
    }
}

/// How a store is opened, apart from where it is and whether it may be
/// created.
#[derive(Clone)]
pub(crate) struct Tuning {
    pub(crate) sqlite: SqliteOptions,
    pub(crate) postgres: PostgresOptions,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            sqlite: SqliteOptions::default(),
            // One command at a time: one connection is enough.
            postgres: PostgresOptions::default().with_max_connections(1),
        }
    }
}

/// `url` fit to print: the library's redaction, which hides the password
/// whatever it contains (`/`, `?`, `@`, `#`, percent-encoded or not) and
/// every `password=` setting.
pub(crate) fn redact(url: &str) -> String {
    mail2fa::store::redact_connection_string(url)
}

/// What the store's own check found.
pub(crate) struct StoreCheck {
    /// Nothing wrong found at the storage level.
    pub(crate) sound: bool,
    pub(crate) path: Option<String>,
    pub(crate) target: Option<String>,
    pub(crate) schema_version: i32,
    pub(crate) size_bytes: u64,
    pub(crate) records: u64,
    /// SQLite's integrity check.
    pub(crate) integrity: Option<Vec<String>>,
    pub(crate) server_version: Option<String>,
    pub(crate) synchronous_standby: Option<bool>,
}

impl StoreCheck {
    /// The storage-level line(s) of `db check`: the backend's own verdict.
    pub(crate) fn storage_text(&self, style: Style) -> String {
        let mut out = String::new();
        match (&self.integrity, &self.server_version) {
            (Some(_), _) if self.sound => {
                out.push_str(&format!("SQLite       {}\n", style.good("ok")));
            }
            (Some(lines), _) => {
                out.push_str(&format!("SQLite       {}\n", style.bad("DAMAGED")));
                for line in lines {
                    out.push_str(&format!("  {}\n", clean(line, 200)));
                }
            }
            (None, version) => {
                let standby = if self.synchronous_standby == Some(true) {
                    style.good("yes")
                } else {
                    style.bad("no (a failover may lose the last commits)")
                };
                out.push_str(&format!(
                    "PostgreSQL   {}, synchronous standby: {standby}\n",
                    clean(version.as_deref().unwrap_or("?"), 100)
                ));
            }
        }
        out
    }
}

/// An open database of either kind.
#[derive(Debug)]
pub(crate) enum Database {
    Sqlite(SqliteStore),
    Postgres(Box<PostgresStore>),
}

/// Opens `location`. Only with `create` may a new database (a file, or the
/// schema in an empty PostgreSQL database) come into being: elsewhere a
/// mistyped `--db` must fail, not answer "no 2FA" from an empty one.
/// `tuning` says how (the configuration's store options).
pub(crate) fn open(
    location: &Location,
    create: bool,
    tuning: &Tuning,
) -> Result<Database, Failure> {
    match location {
        Location::File(path) => {
            if !create && std::fs::symlink_metadata(path).is_err() {
                return Err(fail(
                    DATABASE,
                    format!(
                        "the database {} does not exist (check the configuration's \
                         store.sqlite_path or --db; `mail2fa platform enable` creates a \
                         new one).",
                        path.display()
                    ),
                ));
            }
            if !create && std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
                return Err(fail(
                    DATABASE,
                    format!(
                        "the database {} is an empty file, not a mail2fa database.",
                        path.display()
                    ),
                ));
            }
            let options = tuning.sqlite.clone().with_create(create);
            SqliteStore::open_with(path, &options)
                .map(Database::Sqlite)
                .map_err(|e| {
                    fail(
                        DATABASE,
                        format!("cannot use the database {}: {e}.", path.display()),
                    )
                })
        }
        Location::Postgres(url) => {
            let options = tuning.postgres.clone().with_create(create);
            PostgresStore::open_with(url, &options)
                .map(|store| Database::Postgres(Box::new(store)))
                .map_err(|e| {
                    // The store's message names the fix for a database
                    // without the schema (`mail2fa platform enable`).
                    fail(
                        DATABASE,
                        format!("cannot use the database {}: {e}.", redact(url)),
                    )
                })
        }
    }
}

impl Database {
    /// Where it is, for messages (never a password).
    pub(crate) fn describe(&self) -> String {
        match self {
            Database::Sqlite(store) => store.path().display().to_string(),
            Database::Postgres(store) => format!("postgres {}", store.target()),
        }
    }

    /// The store's own check: SQLite's integrity check, or PostgreSQL's
    /// schema, size and replication settings.
    pub(crate) fn check_store(&self) -> Result<StoreCheck, Failure> {
        let failed = |e| fail(DATABASE, format!("cannot check the database: {e}."));
        Ok(match self {
            Database::Sqlite(store) => {
                let file = store.check().map_err(failed)?;
                StoreCheck {
                    sound: file.is_sound(),
                    path: store.path().to_str().map(str::to_owned),
                    target: None,
                    schema_version: file.schema_version,
                    size_bytes: file.size_bytes,
                    records: file.records,
                    integrity: Some(file.integrity),
                    server_version: None,
                    synchronous_standby: None,
                }
            }
            Database::Postgres(store) => {
                let found = store.check().map_err(failed)?;
                StoreCheck {
                    sound: true,
                    path: None,
                    target: Some(store.target().to_owned()),
                    schema_version: found.schema_version,
                    size_bytes: found.size_bytes,
                    records: found.records,
                    integrity: None,
                    server_version: Some(found.server_version),
                    synchronous_standby: Some(found.synchronous_standby),
                }
            }
        })
    }

    fn store(&self) -> &dyn Store {
        match self {
            Database::Sqlite(store) => store,
            Database::Postgres(store) => store.as_ref(),
        }
    }
}

impl Store for Database {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.store().load(key)
    }

    fn load_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Versioned>>, StoreError> {
        self.store().load_many(keys)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.store().compare_and_swap(key, expected, new)
    }

    fn compare_and_swap_relaxed(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.store().compare_and_swap_relaxed(key, expected, new)
    }

    fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
        self.store().scan(after, limit)
    }
}

/// Records per batch when walking a database.
const BATCH: usize = 500;

/// What [`copy`] did.
pub(crate) struct Copied {
    pub(crate) records: u64,
}

/// Copies every record of `from` into `to`, which must hold none, then reads
/// both back and compares them record by record. Records are copied as
/// they are (sealed ones stay sealed; the device key goes along, so device
/// tokens keep matching); `to` gives them versions of its own.
pub(crate) fn copy(from: &Database, to: &Database) -> Result<Copied, Failure> {
    let broken = |what: &str, e: StoreError| fail(DATABASE, format!("{what}: {e}."));
    if !to
        .scan(None, 1)
        .map_err(|e| broken("cannot read the target", e))?
        .is_empty()
    {
        return Err(fail(
            REFUSED,
            format!(
                "{} already holds records: copy only into a new, empty database.",
                to.describe()
            ),
        ));
    }
    let mut records = 0u64;
    let mut after: Option<Vec<u8>> = None;
    loop {
        let batch = from
            .scan(after.as_deref(), BATCH)
            .map_err(|e| broken("cannot read the source", e))?;
        let Some((last, _)) = batch.last() else { break };
        let last = last.clone();
        for (key, record) in &batch {
            match to
                .compare_and_swap(key, None, Some(&record.bytes))
                .map_err(|e| broken("cannot write the target", e))?
            {
                CasOutcome::Stored { .. } => records += 1,
                CasOutcome::Conflict => {
                    return Err(fail(
                        DATABASE,
                        "the target changed during the copy: something else writes to it.",
                    ));
                }
            }
        }
        after = Some(last);
    }
    // Read both back: the same keys, the same bytes, nothing more.
    let (mut a, mut b): (Option<Vec<u8>>, Option<Vec<u8>>) = (None, None);
    let mut compared = 0u64;
    loop {
        let left = from
            .scan(a.as_deref(), BATCH)
            .map_err(|e| broken("cannot read the source", e))?;
        let right = to
            .scan(b.as_deref(), BATCH)
            .map_err(|e| broken("cannot read the target", e))?;
        let same = left.len() == right.len()
            && left
                .iter()
                .zip(&right)
                .all(|((ka, ra), (kb, rb))| ka == kb && ra.bytes == rb.bytes);
        if !same {
            return Err(fail(
                DATABASE,
                "the copy differs from the source (was a mail server still writing?); \
                 start again with an empty target.",
            ));
        }
        let Some((last, _)) = left.last() else { break };
        compared += u64::try_from(left.len()).unwrap_or(u64::MAX);
        a = Some(last.clone());
        b = a.clone();
    }
    if compared != records {
        return Err(fail(
            DATABASE,
            "the source changed during the copy (was a mail server still writing?); \
             start again with an empty target.",
        ));
    }
    Ok(Copied { records })
}
