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
    pub(super) load: Statement,
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
                Ok::<_, tokio_postgres::Error>([
                    client
                        .prepare("SELECT version, bytes FROM m2fa_records WHERE key = $1")
                        .await?,
                    client
                        .prepare(
                            "INSERT INTO m2fa_records (key, version, bytes) \
                             VALUES ($1, nextval('m2fa_versions'), $2) \
                             ON CONFLICT (key) DO NOTHING RETURNING version",
                        )
                        .await?,
                    client
                        .prepare(
                            "UPDATE m2fa_records SET version = nextval('m2fa_versions'), \
                             bytes = $3 WHERE key = $1 AND version = $2 RETURNING version",
                        )
                        .await?,
                    client
                        .prepare(
                            "DELETE FROM m2fa_records WHERE key = $1 AND version = $2 \
                             RETURNING nextval('m2fa_versions')",
                        )
                        .await?,
                    client
                        .prepare(
                            "SELECT nextval('m2fa_versions') \
                             WHERE NOT EXISTS (SELECT 1 FROM m2fa_records WHERE key = $1)",
                        )
                        .await?,
                    client
                        .prepare(
                            "SELECT key, version, bytes FROM m2fa_records ORDER BY key LIMIT $1",
                        )
                        .await?,
                    client
                        .prepare(
                            "SELECT key, version, bytes FROM m2fa_records WHERE key > $1 \
                             ORDER BY key LIMIT $2",
                        )
                        .await?,
                ])
            })
            .map_err(|stop| server.interrupted("preparing statements", stop))?
            .map_err(|e| backend("preparing statements", describe_error(&e)))?;
        let [
            load,
            insert,
            update,
            delete,
            delete_absent,
            scan_first,
            scan_after,
        ] = statements;
        Ok(Self {
            session,
            load,
            insert,
            update,
            delete,
            delete_absent,
            scan_first,
            scan_after,
        })
    }

    pub(super) fn client(&self) -> &Client {
        &self.session.client
    }
}
