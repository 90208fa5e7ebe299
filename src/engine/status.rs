//! What an operator (or a portal) may read about accounts and platforms,
//! and a walk over the whole store that checks every record can be read.
//! Nothing here returns a secret, a code or a tag.

use super::account::{Account, Mode, Platform, TotpState};
use super::account_id::{AccountId, platform_key};
use super::core::Engine;
use super::protocol::{Protocol, ProtocolPolicy};
use super::seal;
use crate::error::{Error, Result};
use crate::store::Store;

/// Where an account's enrollment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrollment {
    /// The authenticator secret was issued; the first valid code confirms it
    /// until `expires_at`. A past `expires_at` means the enrollment expired:
    /// a reset, or enabling the account again, starts over.
    Pending {
        /// Unix time the enrollment expires.
        expires_at: u64,
    },
    /// The second factor is in use (always so for e-mail and SMS codes).
    Confirmed,
}

/// An account's 2FA state, as an operator or a portal shows it.
///
/// ```
/// use mail2fa::engine::{AccountId, Engine, EngineConfig, Enrollment};
/// use mail2fa::store::MemoryStore;
///
/// let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
/// let alice = AccountId::new("example.com", "alice@example.com")?;
/// engine.enable_platform("example.com", true)?;
/// engine.enable_account(&alice, 1_800_000_000)?;
/// let status = engine.account_status(&alice, 1_800_000_000)?;
/// assert_eq!(status.enrollment, Enrollment::Pending { expires_at: 1_800_086_400 });
/// assert_eq!(status.locked_until, None);
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountStatus {
    /// How the second factor is proven.
    pub mode: Mode,
    /// Pending or confirmed.
    pub enrollment: Enrollment,
    /// A running suspension ends then; `None` when not suspended.
    pub suspended_until: Option<u64>,
    /// A running lockout ends then; `None` when not locked.
    pub locked_until: Option<u64>,
    /// The lockout counter: wrong codes since the last accepted one, held at
    /// one below the lockout policy's `max_failures` once a lock has
    /// started (the next wrong code locks again, with no fresh quota).
    pub failures: u32,
    /// When a second factor last got a login in (recorded from this
    /// release on).
    pub last_used: Option<u64>,
    /// Unused recovery codes.
    pub recovery_codes: usize,
    /// Where e-mail codes go.
    pub email: Option<String>,
    /// Where SMS codes go.
    pub phone: Option<String>,
    /// An e-mail/SMS code is live until then.
    pub code_expires_at: Option<u64>,
    /// The account's own protocol policies (overrides of the platform's).
    pub policies: Vec<(Protocol, ProtocolPolicy)>,
}

/// A platform's 2FA switch and protocol policies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PlatformStatus {
    /// Whether the platform was ever configured (2FA switched on or off, or
    /// a policy set); one never configured is off with no overrides.
    pub configured: bool,
    /// Whether 2FA is on.
    pub enabled: bool,
    /// The platform's overrides of the default protocol policies.
    pub policies: Vec<(Protocol, ProtocolPolicy)>,
}

impl PlatformStatus {
    /// The policy for `protocol` on this platform, for an account without
    /// an override of its own.
    pub fn policy(&self, protocol: &Protocol) -> ProtocolPolicy {
        self.policies
            .iter()
            .find(|(p, _)| p == protocol)
            .map_or_else(|| protocol.default_policy(), |&(_, policy)| policy)
    }
}

/// Most unreadable records a [`RecordCheck`] lists (it counts them all).
pub const MAX_LISTED_PROBLEMS: usize = 100;

/// What [`Engine::check_records`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RecordCheck {
    /// Platform records read.
    pub platforms: usize,
    /// Account records read.
    pub accounts: usize,
    /// Of those, encrypted at rest.
    pub sealed_accounts: usize,
    /// Device-and-application-password records read.
    pub clients: usize,
    /// Other records of the engine (the stored device key).
    pub other: usize,
    /// Portal sessions read (live or not yet purged).
    pub sessions: usize,
    /// Records that cannot be read, in key order: where and why (at most
    /// [`MAX_LISTED_PROBLEMS`]).
    pub problems: Vec<(String, Error)>,
    /// How many records cannot be read in all.
    pub unreadable: usize,
}

impl<S: Store> Engine<S> {
    /// The account's 2FA state at `now`.
    ///
    /// # Errors
    /// [`Error::NotEnabled`]; storage errors and unreadable records
    /// (including [`Error::Encryption`]).
    pub fn account_status(&self, id: &AccountId, now: u64) -> Result<AccountStatus> {
        let record = self.store.load(&id.store_key())?.ok_or(Error::NotEnabled)?;
        let account = self.open_account(id, &record.bytes)?;
        Ok(status_of(account, now, self.config.max_suspension))
    }

    /// The platform's switch and policies; a platform never configured is
    /// off with no overrides.
    ///
    /// # Errors
    /// Storage errors and an unreadable record; [`crate::Error::InvalidName`]
    /// for a platform name outside the alphabet of
    /// [`AccountId::new`].
    pub fn platform_status(&self, platform: &str) -> Result<PlatformStatus> {
        super::account_name::check_platform_name(platform)?;
        Ok(match self.store.load(&platform_key(platform))? {
            Some(record) => {
                let platform = Platform::decode(&record.bytes)?;
                PlatformStatus {
                    configured: true,
                    enabled: platform.enabled,
                    policies: platform.policies.entries(),
                }
            }
            None => PlatformStatus::default(),
        })
    }

    /// Reads every record of the store as a login would (integrity tag,
    /// format, decryption with the configured keys) and reports what cannot
    /// be read. Changes nothing; runs in batches of 1,000 records.
    ///
    /// # Errors
    /// [`crate::store::StoreError::Unsupported`] from a store that cannot
    /// list its records; storage errors.
    pub fn check_records(&self) -> Result<RecordCheck> {
        const BATCH: usize = 1000;
        let mut report = RecordCheck::default();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let records = self.store.scan(after.as_deref(), BATCH)?;
            for (key, record) in &records {
                let bytes = record.bytes.as_slice();
                let read = match key.get(..4).unwrap_or_default() {
                    b"plat" => Platform::decode(bytes).map(|_| &mut report.platforms),
                    b"acct" => self.open_record(key, bytes).map(|_| {
                        if seal::is_sealed(bytes) {
                            report.sealed_accounts += 1;
                        }
                        &mut report.accounts
                    }),
                    b"clnt" => self.open_clients(key, bytes).map(|_| &mut report.clients),
                    b"sess" => self.open_session(key, bytes).map(|_| &mut report.sessions),
                    _ if key.as_slice() == super::device::STORED_KEY => {
                        super::device::decode_stored_key(bytes).map(|_| &mut report.other)
                    }
                    _ => Err(Error::InvalidInput("a key the engine never writes")),
                };
                match read {
                    Ok(count) => *count += 1,
                    Err(error) => {
                        report.unreadable += 1;
                        if report.problems.len() < MAX_LISTED_PROBLEMS {
                            report.problems.push((describe_key(key), error));
                        }
                    }
                }
            }
            match records.last() {
                Some((key, _)) if records.len() == BATCH => after = Some(key.clone()),
                _ => return Ok(report),
            }
        }
    }
}

fn status_of(account: Account, now: u64, max_suspension: u64) -> AccountStatus {
    let enrollment = match (&account.totp, account.mode) {
        (TotpState::Pending { expires_at, .. }, Mode::Totp) => Enrollment::Pending {
            expires_at: *expires_at,
        },
        _ => Enrollment::Confirmed,
    };
    let running = |until: Option<u64>| until.filter(|&until| now < until);
    AccountStatus {
        mode: account.mode,
        enrollment,
        // As logins see it: a stored suspension reaching beyond the
        // configured maximum is not honoured, so it is not shown as running.
        suspended_until: running(account.suspended_until)
            .filter(|&until| until - now <= max_suspension),
        locked_until: running(account.lockout.locked_until),
        failures: account.lockout.failures,
        last_used: account.last_used,
        recovery_codes: account.recovery.tags.len(),
        email: account.contact.email.clone(),
        phone: account.contact.phone.clone(),
        code_expires_at: account
            .delivered
            .as_ref()
            .map(|code| code.expires_at)
            .filter(|&at| now < at),
        policies: account.policies.entries(),
    }
}

/// A store key as an operator reads it: `account example.com/alice`.
fn describe_key(key: &[u8]) -> String {
    let (prefix, rest) = key.split_at(key.len().min(4));
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).escape_debug().to_string();
    let named = |what: &str| {
        let Some((len, names)) = rest.split_first_chunk::<2>() else {
            return format!("{what} (damaged key)");
        };
        let len = usize::from(u16::from_be_bytes(*len));
        match (names.get(..len), names.get(len..)) {
            (Some(platform), Some(account)) => {
                format!("{what} {}/{}", text(platform), text(account))
            }
            _ => format!("{what} (damaged key)"),
        }
    };
    match prefix {
        b"plat" => format!("platform {}", text(rest)),
        b"acct" => named("account"),
        b"clnt" => named("devices of"),
        b"sess" => "a portal session".to_owned(),
        _ => format!("key {}", text(key)),
    }
}
