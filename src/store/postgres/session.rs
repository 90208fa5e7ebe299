//! One connection and the thread that drives it: each session owns a
//! current-thread Tokio runtime, so the caller's thread does the
//! connection's I/O itself while it waits for its statement.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Mutex;
use std::task::Poll;
use std::time::Instant;

use tokio_postgres::Client;

use super::failure::backend;
use crate::store::error::StoreError;

/// The future that does a connection's I/O.
pub(super) type Driver = Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + Send>>;

/// One connection to the server, with a current-thread runtime of its own:
/// the thread that waits for a statement drives the connection's I/O
/// itself, so no other thread has to be woken on the way there and back.
pub(super) struct Session {
    /// `None` only while being dropped.
    pub(super) runtime: Option<tokio::runtime::Runtime>,
    /// `None` once the connection has ended. Only the thread holding the
    /// session locks it (never contended).
    pub(super) driver: Mutex<Option<Driver>>,
    pub(super) client: Client,
}

/// Why [`Session::run`] stopped before its work was done.
pub(super) enum Interrupted {
    TimedOut,
    Closed,
}

impl Session {
    /// Runs `work` while driving the connection, until it is done or
    /// `deadline` passes or the connection ends.
    pub(super) fn run<T>(
        &self,
        deadline: Instant,
        work: impl Future<Output = T>,
    ) -> Result<T, Interrupted> {
        let runtime = self.runtime.as_ref().ok_or(Interrupted::Closed)?;
        let mut driver = self.driver.lock().map_err(|_| Interrupted::Closed)?;
        runtime.block_on(async {
            // The timer is made here, inside the runtime it needs.
            let mut work = pin!(tokio::time::timeout_at(deadline.into(), work));
            poll_fn(|cx| {
                if let Poll::Ready(done) = work.as_mut().poll(cx) {
                    return Poll::Ready(done.map_err(|_| Interrupted::TimedOut));
                }
                let ended = match driver.as_mut() {
                    Some(io) => io.as_mut().poll(cx).is_ready(),
                    None => true,
                };
                if ended {
                    *driver = None;
                    // What the connection delivered before it ended.
                    return match work.as_mut().poll(cx) {
                        Poll::Ready(done) => Poll::Ready(done.map_err(|_| Interrupted::TimedOut)),
                        Poll::Pending => Poll::Ready(Err(Interrupted::Closed)),
                    };
                }
                Poll::Pending
            })
            .await
        })
    }

    pub(super) fn is_closed(&self) -> bool {
        self.client.is_closed() || self.driver.lock().map_or(true, |d| d.is_none())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Never blocks, and is allowed inside an async context too. Outside
        // a transaction the server takes the closed socket quietly.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs `work` — which blocks on the store's own runtimes — on this thread,
/// or, on a thread inside a Tokio runtime's context, on a helper thread
/// this one waits for. Tokio panics when one runtime's `block_on` starts
/// where another's runs (a worker, a `block_on`), and gives a thread no way
/// to ask whether it is such a place or a `spawn_blocking` thread, where it
/// would be allowed: so every call in a runtime's context takes the helper.
/// The caller blocks either way, as on SQLite.
pub(super) fn outside_async_context<T: Send, E: From<StoreError> + Send>(
    context: &str,
    work: impl FnOnce() -> Result<T, E> + Send,
) -> Result<T, E> {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("mail2fa-postgres".into())
            .spawn_scoped(scope, work)
            .map_err(|e| backend(context, format!("starting a helper thread: {e}")))?;
        helper
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
