//! Opening one connection to the database file, as the writer and every
//! reader do: never through a symbolic link, with the busy timeout, and
//! with the WAL kept when it closes.

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::failure::backend;
use crate::store::error::StoreError;

/// Opens a connection to the existing file at `path` (read-write, never
/// through a symbolic link, one thread at a time).
///
/// When the last connection to a WAL database closes, SQLite by default
/// checkpoints the WAL into the database and deletes it: a process that
/// opens the store for one login (a short-lived PAM host) then pays the
/// WAL's creation (and a sync of the directory), the checkpoint's two syncs
/// and the deletion — five syncs where its commit needs one. With
/// `SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE` the WAL (and its `-shm` index) stays
/// for the next process: committed frames are as durable there as in the
/// database, the next opener reads them, and the automatic checkpoints
/// still move them into the database as the WAL grows.
pub(super) fn open_connection(
    path: &Path,
    busy_timeout: Duration,
) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NOFOLLOW
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)
        .map_err(|e| backend(&format!("opening {}", path.display()), e))?;
    connection
        .busy_timeout(busy_timeout)
        .map_err(|e| backend("busy timeout", e))?;
    connection
        .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map_err(|e| backend("keeping the WAL on close", e))?;
    Ok(connection)
}
