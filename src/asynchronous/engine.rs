//! [`AsyncEngine`]: the engine behind `spawn_blocking`, for Tokio hosts.

use std::future::Future;
use std::sync::Arc;

use super::login::{OwnedLoginAttempt, Password};
use crate::engine::{AccountId, Decision, Engine, PasswordVerdict};
use crate::error::{Error, Result};
use crate::store::Store;

/// An [`Engine`] for hosts on Tokio: every call runs on the runtime's
/// blocking threads (`spawn_blocking`), never on its workers, on any store.
/// Cheap to clone (one shared engine); `Send + Sync`.
///
/// Must be used inside a Tokio runtime (the calls panic outside one, as
/// `spawn_blocking` does). A blocking task that panics, or that its
/// runtime cancels, comes back as [`Error::Interrupted`]: a refused login,
/// never a panic in the host. Dropping a call's future before it finishes
/// does not stop a blocking part already started: a write is made whole
/// or not at all, as with the blocking API.
///
/// ```
/// use mail2fa::asynchronous::AsyncEngine;
/// use mail2fa::engine::{AccountId, Engine, EngineConfig, LoginAttempt, Protocol, ProtocolPolicy};
/// use mail2fa::store::MemoryStore;
/// use mail2fa::Totp;
///
/// # let runtime = tokio::runtime::Builder::new_current_thread().build()?;
/// # runtime.block_on(async {
/// let engine = AsyncEngine::new(Engine::new(MemoryStore::new(), EngineConfig::default())?);
/// let alice = AccountId::new("example.com", "alice@example.com")?;
/// let now = 1_800_000_000;
///
/// // Administration and enrollment: any engine call, off the runtime.
/// let uri = engine
///     .run({
///         let alice = alice.clone();
///         move |engine| {
///             engine.enable_platform("example.com", true)?;
///             engine.set_platform_policy("example.com", &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))?;
///             engine.enable_account(&alice, now)
///         }
///     })
///     .await?;
/// let phone = Totp::from_uri(&uri)?;
/// let first = phone.generate(now)?;
/// let confirmed = engine
///     .run({
///         let alice = alice.clone();
///         move |engine| engine.confirm_enrollment(&alice, first.as_str(), now)
///     })
///     .await?;
/// assert!(confirmed.is_allowed());
///
/// // A login: the IMAP password field, checked by the host's own (async)
/// // directory, in one call.
/// let later = now + 60;
/// let typed = format!("T9D3K!px{}", phone.generate(later)?.as_str());
/// let directory = |password: mail2fa::asynchronous::Password| async move {
///     password.as_str() == "T9D3K!px" // an LDAP bind, an SQL query...
/// };
/// let decision = engine
///     .check_login(&alice, LoginAttempt::new(Protocol::Imap, &typed), later, directory)
///     .await?;
/// assert!(decision.is_allowed());
/// // The same string again: the code is spent.
/// let replay = engine
///     .check_login(&alice, LoginAttempt::new(Protocol::Imap, &typed), later + 5, directory)
///     .await?;
/// assert!(!replay.is_allowed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AsyncEngine<S: Store> {
    engine: Arc<Engine<S>>,
}

impl<S: Store> Clone for AsyncEngine<S> {
    fn clone(&self) -> Self {
        Self {
            engine: Arc::clone(&self.engine),
        }
    }
}

impl<S: Store> From<Arc<Engine<S>>> for AsyncEngine<S> {
    /// Shares an engine that the host's own threads also call (through
    /// the blocking API, off the runtime).
    fn from(engine: Arc<Engine<S>>) -> Self {
        Self { engine }
    }
}

impl<S: Store + 'static> AsyncEngine<S> {
    /// The async façade of `engine`.
    pub fn new(engine: Engine<S>) -> Self {
        Self {
            engine: Arc::new(engine),
        }
    }

    /// Runs `call` on a blocking thread and returns its result: every
    /// engine call other than a login (enrollment, administration, devices,
    /// application passwords, maintenance).
    ///
    /// ```
    /// # use mail2fa::asynchronous::AsyncEngine;
    /// # use mail2fa::engine::{Engine, EngineConfig};
    /// # use mail2fa::store::MemoryStore;
    /// # let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    /// # runtime.block_on(async {
    /// let engine = AsyncEngine::new(Engine::new(MemoryStore::new(), EngineConfig::default())?);
    /// engine.run(|engine| engine.enable_platform("example.com", true)).await?;
    /// # Ok::<(), mail2fa::Error>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// What `call` returns; [`Error::Interrupted`] if it panics or the
    /// runtime cancels it.
    ///
    /// # Panics
    /// Outside a Tokio runtime (as `tokio::task::spawn_blocking`).
    pub async fn run<T, F>(&self, call: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Engine<S>) -> Result<T> + Send + 'static,
    {
        let engine = Arc::clone(&self.engine);
        tokio::task::spawn_blocking(move || call(&engine))
            .await
            .unwrap_or(Err(Error::Interrupted))
    }

    /// The decision for one login, as
    /// [`Engine::check_login`](crate::engine::Engine::check_login) makes
    /// it, with a password check that may be async: the engine's reads and
    /// the split of a password+code string run on a blocking thread;
    /// `check_password` gets the password part (a copy, wiped on drop) and
    /// is awaited on the runtime; the decision and its writes run on a
    /// blocking thread. Each record is read once, as in the blocking call.
    ///
    /// `check_password` may answer a `bool` or a `Result<bool, E>` (an
    /// error: the directory could not answer — see [`PasswordVerdict`]).
    /// See [`AsyncEngine`] for an example.
    ///
    /// # Errors
    /// As [`Engine::check_login`](crate::engine::Engine::check_login):
    /// [`Error::InvalidInput`] (the check is not called),
    /// [`Error::PasswordCheckFailed`], storage errors; and
    /// [`Error::Interrupted`] if a blocking part panics or is cancelled.
    /// Every error refuses the login.
    ///
    /// # Panics
    /// Outside a Tokio runtime (as `tokio::task::spawn_blocking`).
    pub async fn check_login<F, Fut, V>(
        &self,
        id: &AccountId,
        attempt: impl Into<OwnedLoginAttempt>,
        now: u64,
        check_password: F,
    ) -> Result<Decision>
    where
        F: FnOnce(Password) -> Fut,
        Fut: Future<Output = V>,
        V: Into<PasswordVerdict>,
    {
        let attempt = attempt.into();
        let id = id.clone();
        let (id, attempt, prepared, password) = self
            .run(move |engine| {
                let prepared = engine.prepare_login(&id, &attempt.as_attempt(), now)?;
                let password = Password::copy_of(prepared.password(attempt.input()));
                Ok((id, attempt, prepared, password))
            })
            .await?;
        let verdict = check_password(password).await.into();
        self.run(move |engine| {
            engine.finish_login(&id, &attempt.as_attempt(), prepared, verdict, now)
        })
        .await
    }
}
