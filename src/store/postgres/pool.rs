//! The store's pool of connections: leases with a deadline, returns, and
//! the count of connections open.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::connection::Connection;
use super::failure::backend;
use super::options::PostgresOptions;
use crate::store::error::StoreError;

#[derive(Default)]
struct PoolState {
    idle: Vec<Connection>,
    /// Connections open or being opened (idle ones included).
    open: usize,
}

/// At most [`PostgresOptions::max_connections`](crate::store::PostgresOptions::max_connections)
/// connections, opened on demand and shared by every thread.
pub(super) struct Pool {
    state: Mutex<PoolState>,
    freed: Condvar,
    max_connections: usize,
    /// For messages: how long a caller waited.
    timeout: Duration,
}

/// A connection taken from the pool; returned by [`Pool::give_back`].
pub(super) struct Lease {
    pub(super) connection: Option<Connection>,
}

impl Pool {
    pub(super) fn new(options: &PostgresOptions) -> Self {
        Self {
            state: Mutex::default(),
            freed: Condvar::new(),
            max_connections: options.max_connections,
            timeout: options.timeout,
        }
    }

    fn state(&self) -> Result<MutexGuard<'_, PoolState>, StoreError> {
        self.state
            .lock()
            .map_err(|_| backend("pool", "lock poisoned"))
    }

    /// An idle connection, or the right to open one, waiting until
    /// `deadline` at most.
    pub(super) fn lease(&self, deadline: Instant) -> Result<Lease, StoreError> {
        let mut state = self.state()?;
        loop {
            while let Some(connection) = state.idle.pop() {
                if connection.session.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Lease {
                    connection: Some(connection),
                });
            }
            if state.open < self.max_connections {
                state.open += 1;
                return Ok(Lease { connection: None });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(backend(
                    "pool",
                    format!(
                        "all {} connections busy for {:?}",
                        self.max_connections, self.timeout
                    ),
                ));
            }
            state = self
                .freed
                .wait_timeout(state, left)
                .map_err(|_| backend("pool", "lock poisoned"))?
                .0;
        }
    }

    /// Returns a connection to the pool (`None`: it was lost or discarded).
    pub(super) fn give_back(&self, connection: Option<Connection>) {
        if let Ok(mut state) = self.state.lock() {
            match connection {
                Some(connection) if !connection.session.is_closed() => state.idle.push(connection),
                _ => state.open = state.open.saturating_sub(1),
            }
        }
        self.freed.notify_one();
    }
}
