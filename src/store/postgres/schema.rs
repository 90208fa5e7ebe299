//! The tables of a mail2fa database: created (under an advisory lock, by the
//! administrator's opener only), migrated, and checked by every opener.

use std::time::Instant;

use tokio_postgres::Client;

use super::failure::{backend, describe_error};
use super::server::Server;
use crate::store::error::StoreError;

/// The schema this version of mail2fa writes and reads
/// (`m2fa_meta.schema_version`).
pub const POSTGRES_SCHEMA_VERSION: i32 = 1;

/// Key of the advisory lock taken while creating or migrating the schema
/// ("M2FA").
const SCHEMA_LOCK: i64 = 0x4d32_4641;

/// Statements that create schema version 1 (in one transaction).
const SCHEMA_V1: &str = "
CREATE TABLE m2fa_meta (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    application text NOT NULL CHECK (application = 'mail2fa'),
    schema_version integer NOT NULL
);
CREATE SEQUENCE m2fa_versions AS bigint MINVALUE 1 NO CYCLE;
CREATE TABLE m2fa_records (
    key bytea PRIMARY KEY,
    version bigint NOT NULL,
    bytes bytea NOT NULL
) WITH (fillfactor = 80);
INSERT INTO m2fa_meta (application, schema_version) VALUES ('mail2fa', 1);
";

/// Migrations: entry `i` takes the schema from version `i + 1` to `i + 2`.
/// Empty while version 1 is the only one.
const MIGRATIONS: &[&str] = &[];

/// Creates the schema if allowed and needed, migrates an older one,
/// and refuses a newer or foreign one.
pub(super) fn prepare(server: &Server, create: bool) -> Result<(), StoreError> {
    let deadline = Instant::now() + server.timeout;
    // A connection of its own: the pooled ones prepare statements on
    // tables that may not exist yet.
    let session = server.session(deadline)?;
    let found = session
        .run(deadline, ensure_schema(&session.client, create))
        .unwrap_or_else(|stop| Err(SchemaError::Store(server.interrupted("schema", stop))));
    match found {
        Ok(Some(POSTGRES_SCHEMA_VERSION)) => Ok(()),
        Ok(Some(other)) if other > POSTGRES_SCHEMA_VERSION => Err(backend(
            "schema",
            format!("version {other}, this library reads {POSTGRES_SCHEMA_VERSION}"),
        )),
        Ok(Some(other)) => Err(backend(
            "schema",
            format!(
                "version {other} needs migrating to {POSTGRES_SCHEMA_VERSION}; a login never \
                 migrates it (run `mail2fa platform enable` once, or PostgresStore::create)"
            ),
        )),
        Ok(None) => Err(backend(
            "schema",
            format!(
                "no mail2fa schema in {} (in its search_path schema), and a login never \
                 creates one: restore the database, check the search_path, or create the \
                 schema once with `mail2fa platform enable` (PostgresStore::create)",
                server.target
            ),
        )),
        Err(SchemaError::Foreign) => Err(backend(
            "schema",
            "m2fa_records exists but is not mail2fa's (no m2fa_meta)",
        )),
        Err(SchemaError::Store(e)) => Err(e),
    }
}

/// Reads the schema version; with `create`, creates or migrates the schema
/// under the advisory lock, in one transaction.
async fn ensure_schema(client: &Client, create: bool) -> Result<Option<i32>, SchemaError> {
    // The usual case, without a lock: the schema is there and current.
    if let Ok(Some(POSTGRES_SCHEMA_VERSION)) = schema_version(client).await {
        return Ok(Some(POSTGRES_SCHEMA_VERSION));
    }
    // Anything else is decided under the lock: another host may be creating
    // or migrating the schema at this moment, and a look at the catalog
    // taken while it commits can see part of it (one table, not the other).
    // The lock is taken before the transaction begins: beginning it makes
    // this session read the catalog as the last holder committed it (its
    // cached "no such table" answers are dropped). A session lock, released
    // below or when this connection closes, as it does right after.
    client
        .execute("SELECT pg_advisory_lock($1)", &[&SCHEMA_LOCK])
        .await?;
    client.batch_execute("BEGIN").await?;
    let result = async {
        let version = schema_version(client).await?;
        if !create {
            return Ok(version);
        }
        match version {
            None => client.batch_execute(SCHEMA_V1).await?,
            Some(v) if (1..POSTGRES_SCHEMA_VERSION).contains(&v) => {
                for step in &MIGRATIONS[usize::try_from(v - 1).unwrap_or(0)..] {
                    client.batch_execute(step).await?;
                }
                client
                    .execute(
                        "UPDATE m2fa_meta SET schema_version = $1",
                        &[&POSTGRES_SCHEMA_VERSION],
                    )
                    .await?;
            }
            Some(_) => {}
        }
        schema_version(client).await
    }
    .await;
    match result {
        Ok(version) => {
            client.batch_execute("COMMIT").await?;
            client
                .execute("SELECT pg_advisory_unlock($1)", &[&SCHEMA_LOCK])
                .await?;
            Ok(version)
        }
        Err(e) => {
            // The connection is dropped on error anyway (which
            // rolls back); be explicit while it is alive.
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// Why the schema could not be read.
enum SchemaError {
    /// `m2fa_records` without `m2fa_meta`.
    Foreign,
    Store(StoreError),
}

impl From<StoreError> for SchemaError {
    fn from(error: StoreError) -> Self {
        SchemaError::Store(error)
    }
}

impl From<tokio_postgres::Error> for SchemaError {
    fn from(error: tokio_postgres::Error) -> Self {
        SchemaError::Store(backend("schema", describe_error(&error)))
    }
}

/// The schema version in the search path: `None` for no mail2fa tables.
async fn schema_version(client: &Client) -> Result<Option<i32>, SchemaError> {
    let row = client
        .query_one(
            "SELECT to_regclass('m2fa_meta') IS NOT NULL, to_regclass('m2fa_records') IS NOT NULL",
            &[],
        )
        .await?;
    let (meta, records): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
    match (meta, records) {
        (false, false) => Ok(None),
        (false, true) => Err(SchemaError::Foreign),
        (true, _) => {
            let row = client
                .query_opt(
                    "SELECT schema_version FROM m2fa_meta WHERE application = 'mail2fa'",
                    &[],
                )
                .await?;
            match row {
                Some(row) => Ok(Some(row.try_get(0)?)),
                None => Err(SchemaError::Foreign),
            }
        }
    }
}
