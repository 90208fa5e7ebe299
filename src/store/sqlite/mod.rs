//! The embedded durable store: one SQLite file (the bundled SQLite, so C
//! hosts need nothing installed), safe for several threads and several
//! processes at once.
//!
//! * **Atomicity**: every compare-and-swap is one `BEGIN IMMEDIATE`
//!   transaction — the check of the version, the new version from a
//!   store-wide counter (never reused, so no ABA even across deletes) and
//!   the write commit together or not at all. Loads are plain reads: the
//!   read path never writes the database.
//! * **Threads**: compare-and-swaps, scans, the scrub and the check take
//!   turns on one writer connection; loads run on read connections of their
//!   own (`PRAGMA query_only`, opened on demand with the checks of the
//!   store's opening, up to [`SqliteOptions::idle_readers`] kept idle), so
//!   threads reading neither wait for each other nor for the writer. A load
//!   sees every commit made before it starts (a WAL read transaction starts
//!   at the latest commit); [`SqliteStore::load_many`] reads several keys in
//!   one read transaction, all as of one commit.
//! * **Durability**: WAL journal, `synchronous = FULL` by default: a
//!   consumed code survives a power cut. `NORMAL` is faster (no fsync per
//!   commit in WAL mode) but the last commits can be lost on power failure
//!   — which, for a 2FA store, can make a consumed code usable again or
//!   undo a lockout. It is not lost on a process crash.
//! * **One sync per write**: a commit appends its pages to the WAL and
//!   syncs it once; loads, and logins that write nothing (a replayed code),
//!   sync nothing. The WAL is kept when the store closes (no checkpoint on
//!   close): a process that opens the store for one login does not create,
//!   checkpoint and delete it each time (five syncs where one is needed).
//!   Each process still syncs the directory once, at its first commit
//!   (SQLite does so for every WAL it opens). SQLite's automatic
//!   checkpoint moves the WAL into the database once it reaches 1000 pages
//!   (a code login commits 2 pages: about every 500 logins), for 3 more
//!   syncs. So the `-wal` file holds committed records between processes:
//!   copy the database with its `-wal` (or with `sqlite3 … ".backup …"`),
//!   and never delete a `-wal` file by hand.
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
//!   overwritten with zeros (`secure_delete`), and
//!   [`Store::scrub`](crate::store::Store::scrub) (called by the engine
//!   after removing or resetting an account) checkpoints the
//!   WAL into the database and truncates it (waiting for loads in progress
//!   to end), so an old secret survives neither in the database nor in its
//!   `-wal` file.

mod connection;
mod failure;
mod files;
mod options;
mod readers;
mod schema;
mod store;

pub use options::{SqliteCheck, SqliteOptions, Synchronous};
pub use schema::SCHEMA_VERSION;
pub use store::SqliteStore;
