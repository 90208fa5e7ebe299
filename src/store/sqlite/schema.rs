//! The tables of a mail2fa database file: recognised before anything is
//! written, created only by the administrator's opener, and refused when
//! foreign or newer.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::failure::backend;
use crate::store::error::StoreError;

/// `PRAGMA application_id` of a mail2fa database ("M2FA").
const APPLICATION_ID: i32 = 0x4d32_4641;
/// The schema this version writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i32 = 1;

/// Refuses (without writing) a file that does not say it is a mail2fa
/// database: an empty SQLite database included.
pub(super) fn identify(connection: &Connection, path: &Path) -> Result<(), StoreError> {
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

/// Refuses (without writing) a file that is not a mail2fa database of the
/// schema this library reads: what a reader connection checks, the writer
/// having created or accepted the schema when the store was opened.
pub(super) fn identify_current(connection: &Connection, path: &Path) -> Result<(), StoreError> {
    identify(connection, path)?;
    let version: i32 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| backend(&format!("opening {}", path.display()), e))?;
    if version != SCHEMA_VERSION {
        return Err(backend(
            "schema",
            format!("version {version}, this library reads {SCHEMA_VERSION}"),
        ));
    }
    Ok(())
}

/// Creates the schema in an empty database (only with `create`), accepts
/// the current one, and refuses anything else — all in one immediate
/// transaction, so that two processes creating the same new file do not
/// both build it.
pub(super) fn migrate(connection: &mut Connection, create: bool) -> Result<(), StoreError> {
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
