//! One call per login: [`Engine::check_login`] takes what the client typed
//! and the host's password check, and returns the decision — the split of a
//! password+code string, the password check, the credential and the
//! decision of [`Engine::authenticate`] inside, each record read once.

use std::net::IpAddr;

use super::account_id::AccountId;
use super::core::{Engine, LoginRecords};
use super::decision::Decision;
use super::device::ClientInfo;
use super::protocol::Protocol;
use super::request::{Credential, LoginRequest};
use super::split::check_login_input;
use crate::error::{Error, Result};
use crate::store::Store;

/// One login as the client sent it: the protocol, the password field
/// exactly as typed (a password, a password+code string, or an application
/// password) and what the host knows about the client.
///
/// ```
/// use mail2fa::engine::{ClientInfo, LoginAttempt, Protocol};
///
/// let thunderbird = ClientInfo::new()
///     .with_user_agent("Thunderbird/128.3.1")
///     .with_remote_addr("203.0.113.7");
/// let attempt = LoginAttempt::new(Protocol::Imap, "T9D3K!px189145").with_client(thunderbird);
/// assert_eq!(attempt.protocol, Protocol::Imap);
/// // The input is a secret: never shown.
/// assert!(!format!("{attempt:?}").contains("T9D3K"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginAttempt<'a> {
    /// How the client connects.
    pub protocol: Protocol,
    /// The password field as the client sent it.
    pub input: &'a str,
    /// What the host knows about the client (nothing, by default).
    pub client: ClientInfo<'a>,
}

impl<'a> LoginAttempt<'a> {
    /// A login over `protocol` with the password field `input`, from a
    /// client the host knows nothing about.
    pub fn new(protocol: Protocol, input: &'a str) -> Self {
        Self {
            protocol,
            input,
            client: ClientInfo::default(),
        }
    }

    /// The same login, from `client`.
    #[must_use]
    pub fn with_client(mut self, client: ClientInfo<'a>) -> Self {
        self.client = client;
        self
    }
}

/// Shows the protocol and the client, never the input.
impl core::fmt::Debug for LoginAttempt<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoginAttempt")
            .field("protocol", &self.protocol)
            .field("input", &"<redacted>")
            .field("client", &self.client)
            .finish()
    }
}

/// The host's answer about the account password, from the check it hands
/// [`Engine::check_login`]. A closure may return a `bool` (`true`: the
/// password is right) or a `Result<bool, E>`: an error — a directory that
/// does not answer — is [`PasswordVerdict::Unavailable`].
///
/// ```
/// use mail2fa::engine::PasswordVerdict;
///
/// assert_eq!(PasswordVerdict::from(true), PasswordVerdict::Correct);
/// let down: Result<bool, std::io::Error> = Err(std::io::ErrorKind::TimedOut.into());
/// assert_eq!(PasswordVerdict::from(down), PasswordVerdict::Unavailable);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordVerdict {
    /// The account password is right.
    Correct,
    /// It is not (the input may still be an application password).
    Wrong,
    /// The host could not check it: the login is refused with
    /// [`Error::PasswordCheckFailed`], nothing recorded.
    Unavailable,
}

impl From<bool> for PasswordVerdict {
    fn from(correct: bool) -> Self {
        if correct { Self::Correct } else { Self::Wrong }
    }
}

impl<E> From<core::result::Result<bool, E>> for PasswordVerdict {
    fn from(checked: core::result::Result<bool, E>) -> Self {
        checked.map_or(Self::Unavailable, Self::from)
    }
}

/// How long after its records were read a login may still be decided, in
/// seconds: a two-step login (the C library's pending login, for PAM
/// stacks) finished later is refused, and must begin again.
pub(crate) const MAX_PREPARED_AGE: u64 = 60;

/// What [`Engine::check_login`] has read before the host's password check:
/// the account's, the platform's and the clients records (those the split
/// opened kept opened — the account's holds its TOTP secret, wiped on
/// drop), where the code starts in the input (`None`: the whole input is
/// the password), and when. The decision is as of that read, at most
/// [`MAX_PREPARED_AGE`] seconds old: a device or application password
/// revoked meanwhile still counts for a login begun before.
#[derive(Clone)]
pub(crate) struct PreparedLogin {
    loaded: LoginRecords,
    code_at: Option<usize>,
    addr: Option<IpAddr>,
    read_at: u64,
}

impl PreparedLogin {
    /// The part of `input` the host checks as the account password.
    pub(crate) fn password<'a>(&self, input: &'a str) -> &'a str {
        self.code_at.and_then(|at| input.get(..at)).unwrap_or(input)
    }
}

impl<S: Store> Engine<S> {
    /// The decision for one login of a mail client, in one call: `attempt`
    /// is what the client sent, `check_password` the host's own check of
    /// the account password (its directory, its hashes), `now` the time.
    ///
    /// Inside: refuses input no client honestly sends
    /// ([`Error::InvalidInput`]) before anything else; reads the account's
    /// record, its platform's and its clients record once (one store call),
    /// with or without 2FA; splits a
    /// password+code string where the account and the protocol take a code
    ///; calls `check_password` once, with the password part only; and
    /// decides as [`Engine::authenticate`] does — a wrong password may
    /// still be an application password; device tokens, binding, lockout
    /// and replay as the protocol's policy says. Each record (account,
    /// platform, clients) is read at most once, and again only after
    /// losing a race to another login.
    ///
    /// The decision is as of that read, before the password check: a
    /// change an administrator makes while the host checks the password (a
    /// reset, a revoked application password, a lock) applies from the
    /// next login, as it would to any login that had read the account a
    /// moment earlier. Every write is a compare-and-swap on the record as
    /// read: a login never writes over a newer record, and a code is never
    /// accepted twice.
    ///
    /// ```
    /// use mail2fa::engine::{AccountId, Engine, EngineConfig, LoginAttempt, Protocol, ProtocolPolicy};
    /// use mail2fa::store::MemoryStore;
    /// use mail2fa::Totp;
    ///
    /// let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
    /// let alice = AccountId::new("example.com", "alice@example.com")?;
    /// let now = 1_800_000_000;
    /// engine.enable_platform("example.com", true)?;
    /// engine.set_platform_policy("example.com", &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))?;
    /// let phone = Totp::from_uri(&engine.enable_account(&alice, now)?)?;
    /// engine.confirm_enrollment(&alice, phone.generate(now)?.as_str(), now)?;
    ///
    /// // The host's own password check.
    /// let directory = |password: &str| password == "T9D3K!px";
    ///
    /// let later = now + 60;
    /// let typed = format!("T9D3K!px{}", phone.generate(later)?.as_str());
    /// let attempt = LoginAttempt::new(Protocol::Imap, &typed);
    /// assert!(engine.check_login(&alice, &attempt, later, directory)?.is_allowed());
    /// // The same string again: the code is spent.
    /// assert!(!engine.check_login(&alice, &attempt, later + 5, directory)?.is_allowed());
    /// # Ok::<(), mail2fa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for input or client fields a client cannot
    /// honestly send (the password check is not called);
    /// [`Error::PasswordCheckFailed`] when `check_password` answers
    /// [`PasswordVerdict::Unavailable`] (nothing is recorded); storage
    /// errors and unreadable records. Every error refuses the login.
    pub fn check_login<V: Into<PasswordVerdict>>(
        &self,
        id: &AccountId,
        attempt: &LoginAttempt<'_>,
        now: u64,
        check_password: impl FnOnce(&str) -> V,
    ) -> Result<Decision> {
        let prepared = self.prepare_login(id, attempt, now)?;
        let verdict = check_password(prepared.password(attempt.input)).into();
        self.finish_login(id, attempt, prepared, verdict, now)
    }

    /// The reads and the split of [`Engine::check_login`], before the
    /// host's password check.
    pub(crate) fn prepare_login(
        &self,
        id: &AccountId,
        attempt: &LoginAttempt<'_>,
        now: u64,
    ) -> Result<PreparedLogin> {
        check_login_input(attempt.input)?;
        let addr = attempt.client.check()?;
        // The same reads with or without 2FA (see `split_login_for`), all
        // a decision may need, in one call to the store.
        let mut loaded = self.load_login(id)?;
        // The records the split opens are kept, not opened again.
        let (password, code) =
            self.split_loaded(id, Some(&attempt.protocol), attempt.input, &mut loaded, now)?;
        Ok(PreparedLogin {
            loaded,
            code_at: code.map(|_| password.len()),
            addr,
            read_at: now,
        })
    }

    /// The decision of [`Engine::check_login`], once the host has checked
    /// the password part: refused with [`Error::InvalidInput`] when `now`
    /// lies more than [`MAX_PREPARED_AGE`] seconds after the records were
    /// read (a decision is as of that read; see `check_login`).
    pub(crate) fn finish_login(
        &self,
        id: &AccountId,
        attempt: &LoginAttempt<'_>,
        prepared: PreparedLogin,
        verdict: PasswordVerdict,
        now: u64,
    ) -> Result<Decision> {
        if now.saturating_sub(prepared.read_at) > MAX_PREPARED_AGE {
            return Err(Error::InvalidInput(
                "the login was begun too long ago: begin it again",
            ));
        }
        let code = prepared.code_at.and_then(|at| attempt.input.get(at..));
        let credential = match (verdict, code) {
            (PasswordVerdict::Unavailable, _) => return Err(Error::PasswordCheckFailed),
            (PasswordVerdict::Correct, Some(code)) => Credential::PasswordAndCode {
                correct: true,
                code,
            },
            (PasswordVerdict::Correct, None) => Credential::Password { correct: true },
            // Not the account password: maybe an application password,
            // which the engine tells by its shape.
            (PasswordVerdict::Wrong, _) => Credential::AppPassword(attempt.input),
        };
        let request = LoginRequest {
            protocol: attempt.protocol.clone(),
            credential,
            client: attempt.client,
        };
        self.decide_request(id, &request, prepared.addr, prepared.loaded, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineConfig;
    use crate::store::MemoryStore;

    /// A two-step login is decided as of its read, and no later than
    /// `MAX_PREPARED_AGE` seconds after it: a late finish must begin again.
    #[test]
    fn a_late_finish_is_refused() {
        let engine = Engine::new(MemoryStore::new(), EngineConfig::default()).unwrap();
        let id = AccountId::new("example.com", "bob@example.com").unwrap();
        let attempt = LoginAttempt::new(Protocol::Imap, "hunter2");
        let now = 1_800_000_000;
        let finish = |at: u64| {
            let prepared = engine.prepare_login(&id, &attempt, now).unwrap();
            engine.finish_login(&id, &attempt, prepared, PasswordVerdict::Correct, at)
        };
        assert!(finish(now).unwrap().is_allowed());
        assert!(finish(now + MAX_PREPARED_AGE).unwrap().is_allowed());
        // A clock that went back a little is no age.
        assert!(finish(now - 5).unwrap().is_allowed());
        assert!(matches!(
            finish(now + MAX_PREPARED_AGE + 1),
            Err(Error::InvalidInput(_))
        ));
    }
}
