//! Where the store's server is and how to reach it: the parsed connection
//! string, TLS, the time bound, and the name messages give it. Opens
//! sessions and words what went wrong on the way.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls};

use super::conninfo::ConnInfo;
use super::failure::{backend, describe_error};
use super::session::{Driver, Interrupted, Session};
use crate::store::error::StoreError;

/// How to reach the server (what [`PostgresStore`](crate::store::PostgresStore)
/// opens every connection with).
pub(super) struct Server {
    pub(super) info: ConnInfo,
    pub(super) tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// Bound on connecting and on each statement
    /// ([`PostgresOptions::timeout`](crate::store::PostgresOptions::timeout)).
    pub(super) timeout: Duration,
    /// `user@host:port/db`, for messages.
    pub(super) target: String,
}

impl Server {
    /// Opens one connection with the session's time limits, by `deadline`.
    pub(super) fn session(&self, deadline: Instant) -> Result<Session, StoreError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| backend("starting a runtime", e))?;
        let connected = runtime.block_on(async {
            let connecting = async {
                Ok::<(Client, Driver), tokio_postgres::Error>(match &self.tls {
                    None => {
                        let (client, io) = self.info.config.connect(NoTls).await?;
                        (client, Box::pin(io))
                    }
                    Some(tls) => {
                        let (client, io) = self.info.config.connect(tls.clone()).await?;
                        (client, Box::pin(io))
                    }
                })
            };
            tokio::time::timeout_at(deadline.into(), connecting).await
        });
        let (client, driver) = match connected {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => return Err(self.connect_error(&e)),
            Err(_) => {
                return Err(backend(
                    "connect",
                    format!("no connection to {} within {:?}", self.target, self.timeout),
                ));
            }
        };
        let session = Session {
            runtime: Some(runtime),
            driver: Mutex::new(Some(driver)),
            client,
        };
        let millis = self.timeout.as_millis();
        let settings = format!(
            "SET statement_timeout = {millis}; SET lock_timeout = {millis}; \
             SET idle_in_transaction_session_timeout = {millis}"
        );
        session
            .run(deadline, session.client.batch_execute(&settings))
            .map_err(|stop| self.interrupted("session settings", stop))?
            .map_err(|e| backend("session settings", describe_error(&e)))?;
        Ok(session)
    }

    fn connect_error(&self, error: &tokio_postgres::Error) -> StoreError {
        let mut text = describe_error(error);
        // The two refusals our defaults add to libpq's: say what they mean.
        if text.contains("server does not support TLS") {
            text.push_str(
                " (over TCP mail2fa requires verified TLS, unless the connection string \
                 says sslmode=disable)",
            );
        } else if text.contains("channel binding") {
            text.push_str(
                " (SCRAM channel binding is required: mail2fa's default with a password \
                 over TLS, or channel_binding=require; channel_binding=prefer accepts a \
                 server or pooler without it)",
            );
        }
        backend(&format!("connecting to {}", self.target), text)
    }

    pub(super) fn interrupted(&self, context: &str, stop: Interrupted) -> StoreError {
        match stop {
            Interrupted::TimedOut => backend(
                context,
                format!("no answer from {} within {:?}", self.target, self.timeout),
            ),
            Interrupted::Closed => backend(
                context,
                format!("the connection to {} was closed", self.target),
            ),
        }
    }
}
