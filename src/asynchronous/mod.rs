//! Async hosts (feature `tokio`): [`AsyncEngine`] runs every engine call on
//! Tokio's blocking threads, so a mail server on Tokio never blocks its
//! runtime on the store — an fsync of SQLite, a lock held by another
//! writer, a round trip to PostgreSQL — and the same code runs on every
//! store.
//!
//! * [`AsyncEngine::check_login`]: the one call per login of
//!   [`Engine::check_login`](crate::engine::Engine::check_login), with a
//!   password check that may itself be async (a directory over LDAP or
//!   SQL). The engine's reads run on a blocking thread, the host's check
//!   on the runtime, the decision and its writes on a blocking thread.
//! * [`AsyncEngine::run`]: any other engine call (enrollment, devices,
//!   application passwords, maintenance) on a blocking thread.
//!
//! The blocking API stays what it is. Called on a runtime's worker thread
//! it still works, on every store, but holds that worker for the whole
//! call (up to the store's busy or statement timeout): on a
//! `current_thread` runtime every other connection waits meanwhile.
//! `AsyncEngine` gives the host no way to do that by mistake: it hands out
//! no reference to the engine outside [`AsyncEngine::run`].

mod engine;
mod login;

pub use engine::AsyncEngine;
pub use login::{OwnedLoginAttempt, Password};
