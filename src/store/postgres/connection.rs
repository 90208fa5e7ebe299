//! A pooled connection: a session with the store's statements prepared
//! (the SQL of every load, compare-and-swap and scan is here).

use std::time::Instant;

use tokio_postgres::{Client, Statement};

use super::failure::{backend, describe_error};
use super::server::Server;
use super::session::Session;
use crate::store::error::StoreError;

/// A pooled connection: a session with the statements prepared.
pub(super) struct Connection {
    pub(super) session: Session,
    pub(super) statements: Statements,
}

/// The statements every connection prepares once, for the life of the
/// connection.
pub(super) struct Statements {
    pub(super) load: Statement,
    pub(super) load_many: Statement,
    pub(super) insert: Statement,
    pub(super) update: Statement,
    pub(super) delete: Statement,
    pub(super) delete_absent: Statement,
    pub(super) scan_first: Statement,
    pub(super) scan_after: Statement,
}

impl Connection {
    /// A pooled connection: a session with the statements prepared.
    pub(super) fn open(server: &Server, deadline: Instant) -> Result<Self, StoreError> {
        let session = server.session(deadline)?;
        let client = &session.client;
        let statements = session
            .run(deadline, async {
                Ok::<_, tokio_postgres::Error>(Statements {
                    load: client
                        .prepare("SELECT version, bytes FROM m2fa_records WHERE key = $1")
                        .await?,
                    load_many: client
                        .prepare("SELECT key, version, bytes FROM m2fa_records WHERE key = ANY($1)")
                        .await?,
                    insert: client
                        .prepare(
                            "INSERT INTO m2fa_records (key, version, bytes) \
                             VALUES ($1, nextval('m2fa_versions'), $2) \
                             ON CONFLICT (key) DO NOTHING RETURNING version",
                        )
                        .await?,
                    update: client
                        .prepare(
                            "UPDATE m2fa_records SET version = nextval('m2fa_versions'), \
                             bytes = $3 WHERE key = $1 AND version = $2 RETURNING version",
                        )
                        .await?,
                    delete: client
                        .prepare(
                            "DELETE FROM m2fa_records WHERE key = $1 AND version = $2 \
                             RETURNING nextval('m2fa_versions')",
                        )
                        .await?,
                    delete_absent: client
                        .prepare(
                            "SELECT nextval('m2fa_versions') \
                             WHERE NOT EXISTS (SELECT 1 FROM m2fa_records WHERE key = $1)",
                        )
                        .await?,
                    scan_first: client
                        .prepare(
                            "SELECT key, version, bytes FROM m2fa_records ORDER BY key LIMIT $1",
                        )
                        .await?,
                    scan_after: client
                        .prepare(
                            "SELECT key, version, bytes FROM m2fa_records WHERE key > $1 \
                             ORDER BY key LIMIT $2",
                        )
                        .await?,
                })
            })
            .map_err(|stop| server.interrupted("preparing statements", stop))?
            .map_err(|e| backend("preparing statements", describe_error(&e)))?;
        Ok(Self {
            session,
            statements,
        })
    }

    pub(super) fn client(&self) -> &Client {
        &self.session.client
    }
}
