//! The [`Engine`] itself: its state, its construction, and what every job
//! of the engine shares — opening and sealing the account and clients
//! records, their read-modify-writes, provisioning URIs, the suspension
//! rule. The jobs add their own `impl Engine` blocks in their files.

use zeroize::Zeroizing;

use super::account::{Account, TotpState};
use super::account_id::{AccountId, LoginKeys};
use super::clients::{self, AppPasswordInfo, Clients};
use super::codes;
use super::config::EngineConfig;
use super::device::{self, DeviceKey};
use super::seal;
use crate::error::{Error, Result};
use crate::otp::TotpConfig;
use crate::record::{Encoded, Integrity};
use crate::secret::Secret;
use crate::store::{
    Change, Loaded, Sealed, Store, Versioned, read_modify_write, read_modify_write_from,
};
use crate::uri::KeyUri;

/// How often a read-modify-write may lose a race before giving up with
/// [`crate::store::StoreError::Contention`].
pub(super) const MAX_ATTEMPTS: u32 = 256;

/// The 2FA engine over a store. `Send + Sync`: share one across threads.
///
/// A mail server makes one engine at start-up and keeps it for its
/// lifetime. An account's life, in brief: the platform switches 2FA on, the
/// user enables it and scans the URI, confirms it with the app's first
/// code, then logs in with later codes; a code is taken once.
///
/// ```
/// use mail2fa::engine::{AccountId, ClientAnswer, Engine, EngineConfig};
/// use mail2fa::store::MemoryStore;
/// use mail2fa::Totp;
///
/// let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
/// let alice = AccountId::new("example.com", "alice@example.com")?;
/// let now = 1_800_000_000;
///
/// engine.enable_platform("example.com", true)?;
/// let uri = engine.enable_account(&alice, now)?; // shown once, as a QR code
/// let phone = Totp::from_uri(&uri)?; // what the authenticator app computes
/// let first = phone.generate(now)?;
/// assert!(engine.confirm_enrollment(&alice, first.as_str(), now)?.is_allowed());
///
/// // The next morning, a login with a fresh code...
/// let later = now + 86_400;
/// let code = phone.generate(later)?;
/// assert!(engine.login(&alice, Some(code.as_str()), later)?.is_allowed());
/// // ...and the same code again, a few seconds on: refused.
/// let replay = engine.login(&alice, Some(code.as_str()), later + 5)?;
/// assert_eq!(replay.client_answer(), ClientAnswer::Refused);
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Debug)]
pub struct Engine<S: Store> {
    pub(super) store: S,
    pub(super) config: EngineConfig,
    pub(super) device_key: DeviceKey,
    /// Where the next maintenance batch starts (`None`: the beginning).
    pub(super) maintenance_cursor: std::sync::Mutex<Option<Vec<u8>>>,
    /// A stand-in account record (sealed like real ones), opened where an
    /// account has none on the paths that must not tell whether it has 2FA
    /// (issue 14, point 5): the same decoding work either way.
    decoy: Decoy,
}

/// See [`Engine::decoy`].
struct Decoy {
    id: AccountId,
    record: Zeroizing<Vec<u8>>,
    /// A clients record with one application password, decoded where an
    /// account has none.
    clients: Zeroizing<Vec<u8>>,
}

/// The record holds a (useless, random) secret: never shown.
impl core::fmt::Debug for Decoy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decoy").finish_non_exhaustive()
    }
}

impl<S: Store> Engine<S> {
    /// Checks the configuration and wraps the store.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a lockout allowing more than 100 (or 0)
    /// failures, a zero lock or one above [`MAX_LOCK`], a non-zero TOTP T0
    /// (URIs cannot carry it), an enrollment lifetime of 0 or above
    /// [`MAX_ENROLLMENT_TTL`], a `max_suspension` of 0 or above
    /// [`MAX_SUSPENSION`], a diagnostic window
    /// above [`crate::MAX_WINDOW`], an out-of-range code or device policy,
    /// or a portal link that is empty, over 512 bytes or has control
    /// characters, more than [`MAX_MANDATORY_PLATFORMS`] mandatory platforms
    /// or one with an invalid name; without a device key, the errors of reading or making
    /// the stored one (storage, randomness, a damaged key record).
    ///
    /// [`MAX_LOCK`]: crate::engine::MAX_LOCK
    /// [`MAX_ENROLLMENT_TTL`]: crate::engine::MAX_ENROLLMENT_TTL
    /// [`MAX_SUSPENSION`]: crate::engine::MAX_SUSPENSION
    /// [`MAX_MANDATORY_PLATFORMS`]: crate::engine::MAX_MANDATORY_PLATFORMS
    pub fn new(store: S, config: EngineConfig) -> Result<Self> {
        config.check()?;
        let device_key = match &config.device_key {
            Some(key) => key.clone(),
            None => device::stored_key(&store)?,
        };
        let mut engine = Self {
            store,
            config,
            device_key,
            maintenance_cursor: std::sync::Mutex::new(None),
            decoy: Decoy {
                id: AccountId::new("decoy.invalid", "decoy@decoy.invalid")?,
                record: Zeroizing::new(Vec::new()),
                clients: Zeroizing::new(Vec::new()),
            },
        };
        // An enrolled account's shape: a confirmed secret of the configured
        // length and parameters.
        let mut decoy = engine.pending(&Secret::generate()?, 0, 0);
        if let TotpState::Pending { secret, .. } = &decoy.totp {
            decoy.totp = TotpState::Confirmed {
                secret: secret.clone(),
                last_step: Some(0),
            };
        }
        engine.decoy.record = engine.seal_account(&engine.decoy.id, &decoy)?;
        let mut clients = clients::Clients::empty(0, codes::random_bytes()?);
        clients.apps.push(clients::AppPassword {
            info: AppPasswordInfo {
                id: 1,
                name: "decoy".to_owned(),
                scope: Vec::new(),
                created: 0,
                last_used: Some(0),
            },
            tag: codes::random_bytes()?,
        });
        clients.next_app_id = 2;
        // Sealed like real clients records when keys are configured, so
        // that opening it costs what opening theirs does.
        engine.decoy.clients = engine.seal_clients(&engine.decoy.id.clients_key(), &clients)?;
        // Checked once here: a decoy that does not decode would refuse
        // every login it stands in for.
        for integrity in [Integrity::Compute, Integrity::Vouched] {
            engine.open_decoy(integrity)?;
            engine.open_decoy_clients(integrity)?;
        }
        Ok(engine)
    }

    /// Decodes the decoy clients record: what reading an account's clients
    /// record costs, for an account that has none. `integrity`: as the
    /// store would have the real one checked ([`LoginChecks`]).
    pub(super) fn open_decoy_clients(&self, integrity: Integrity) -> Result<()> {
        self.open_clients_with(&self.decoy.id.clients_key(), &self.decoy.clients, integrity)
            .map(drop)
    }

    /// Opens the decoy record: what opening an account's record costs, for
    /// an account that has none (`integrity`: as for
    /// [`Engine::open_decoy_clients`]).
    pub(super) fn open_decoy(&self, integrity: Integrity) -> Result<()> {
        self.open_account_with(&self.decoy.id, &self.decoy.record, integrity)
            .map(drop)
    }

    /// The records a login reads — the account's, its platform's and its
    /// clients record — in one call to the store: one round trip (one
    /// statement) on the stores that can.
    pub(super) fn load_login(&self, id: &AccountId) -> Result<LoginRecords> {
        let keys = LoginKeys::new(id);
        let [
            (record, account_check),
            (platform, platform_check),
            (clients, clients_check),
        ] = self.store.load_login_vouched(keys.all(), Sealed(()))?;
        let [account_check, platform_check, clients_check] =
            [account_check, platform_check, clients_check].map(Integrity::from_vouched);
        Ok(LoginRecords {
            keys,
            record,
            platform,
            clients,
            opened: Opened::default(),
            checks: LoginChecks {
                record: account_check,
                platform: platform_check,
                clients: clients_check,
            },
        })
    }

    /// The records under `keys`, in one call to the store
    /// ([`Store::load_many`]).
    pub(super) fn load_records<const N: usize>(
        &self,
        keys: [&[u8]; N],
    ) -> Result<[Option<Versioned>; N]> {
        <[Option<Versioned>; N]>::try_from(self.store.load_many(&keys)?)
            .map_err(|_| crate::store::StoreError::wrong_count().into())
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Asks the store to wipe what a destroyed secret left in its files
    /// ([`Store::scrub`]). The change itself is already stored, so a failure
    /// here changes nothing for the account: the old pages then go at the
    /// store's next checkpoint.
    pub(super) fn scrub(&self) {
        let _best_effort = self.store.scrub();
    }

    /// The account in a stored record, opened first if it is sealed
    /// (encryption at rest).
    pub(super) fn open_account(&self, id: &AccountId, bytes: &[u8]) -> Result<Account> {
        self.open_account_with(id, bytes, Integrity::Compute)
    }

    /// [`Engine::open_account`] of a record the store may vouch for
    /// (`integrity`; a sealed record's plain content is always checked).
    pub(super) fn open_account_with(
        &self,
        id: &AccountId,
        bytes: &[u8],
        integrity: Integrity,
    ) -> Result<Account> {
        if !seal::is_sealed(bytes) {
            // The hot path without encryption: no store key to build.
            self.refuse_plain()?;
            return Account::decode_with(bytes, integrity);
        }
        self.open_record(&id.store_key(), bytes)
    }

    /// [`Engine::open_account`] for the record under `store_key`.
    pub(super) fn open_record(&self, store_key: &[u8], bytes: &[u8]) -> Result<Account> {
        if !seal::is_sealed(bytes) {
            self.refuse_plain()?;
        }
        self.open_any_record(store_key, bytes)
    }

    /// A plain account record while sealed ones are required
    /// ([`EngineConfig::require_sealed`] with keys) is an error.
    fn refuse_plain(&self) -> Result<()> {
        if self.config.require_sealed && self.config.encryption.is_some() {
            return Err(Error::Encryption(
                "the account record is not encrypted and encrypted records are required \
                 (seal the store's records with `mail2fa db seal`)",
            ));
        }
        Ok(())
    }

    /// [`Engine::open_record`] that also reads plain records whatever
    /// [`EngineConfig::require_sealed`] says (to seal them).
    pub(super) fn open_any_record(&self, store_key: &[u8], bytes: &[u8]) -> Result<Account> {
        match seal::open(self.config.encryption.as_ref(), store_key, bytes)? {
            Some(plain) => Account::decode(&plain),
            None => Account::decode(bytes),
        }
    }

    /// The stored form of an account: sealed when keys are configured.
    pub(super) fn seal_account(
        &self,
        id: &AccountId,
        account: &Account,
    ) -> Result<Zeroizing<Vec<u8>>> {
        match &self.config.encryption {
            Some(_) => self.seal_record(&id.store_key(), account),
            None => account.encode().map(Encoded::into_bytes),
        }
    }

    /// [`Engine::seal_account`] for the record under `store_key`.
    pub(super) fn seal_record(
        &self,
        store_key: &[u8],
        account: &Account,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let plain = account.encode()?;
        match &self.config.encryption {
            Some(keys) => seal::seal(keys, store_key, &plain),
            None => Ok(plain.into_bytes()),
        }
    }

    /// Read-modify-write of an existing account; `change` returns the new
    /// state (`None` deletes) and a value.
    pub(super) fn update<T>(
        &self,
        id: &AccountId,
        mut change: impl FnMut(Account) -> Result<(Option<Account>, T)>,
    ) -> Result<T> {
        read_modify_write(&self.store, &id.store_key(), MAX_ATTEMPTS, |bytes| {
            let account = self.open_account(id, bytes.ok_or(Error::NotEnabled)?)?;
            let (next, value) = change(account)?;
            let bytes = next.map(|a| self.seal_account(id, &a)).transpose()?;
            Ok(Change::Write(bytes, value))
        })
    }

    pub(super) fn pending(&self, secret: &Secret, now: u64, generation: u64) -> Account {
        Account::new(
            self.config.totp,
            secret.clone(),
            now.saturating_add(self.config.enrollment_ttl),
            generation,
        )
    }

    pub(super) fn provisioning_uri(
        &self,
        id: &AccountId,
        secret: &Secret,
        config: TotpConfig,
    ) -> Result<Zeroizing<String>> {
        let issuer = self.config.issuer.as_deref().unwrap_or(&id.platform);
        let uri = KeyUri::totp(Some(issuer), &id.account, secret.clone(), config)?;
        Ok(uri.to_uri())
    }

    /// Whether a stored suspension lets the password alone in at `now`:
    /// running, and ending within `max_suspension` of `now` (one reaching
    /// further was never granted by this configuration: 2FA applies).
    pub(super) fn suspension_honoured(&self, until: u64, now: u64) -> bool {
        now < until && until - now <= self.config.max_suspension
    }
}

// The clients record: device tokens, bindings and application passwords,
// under its own key beside the account record (see `clients.rs`).
impl<S: Store> Engine<S> {
    /// The clients record stored under `store_key`, opened first if it is
    /// sealed. A sealed one without its key, or copied from another key,
    /// is an [`crate::Error::Encryption`]: the login that needs it is
    /// refused.
    ///
    /// A plain record while sealed ones are required
    /// ([`EngineConfig::require_sealed`] with keys) is an error, as
    /// for account records: a plain copy could carry bindings and
    /// application passwords of its writer's choosing.
    pub(crate) fn open_clients(&self, store_key: &[u8], bytes: &[u8]) -> Result<Clients> {
        self.open_clients_with(store_key, bytes, Integrity::Compute)
    }

    /// [`Engine::open_clients`] of a record the store may vouch for
    /// (`integrity`; a sealed record's plain content is always checked).
    pub(crate) fn open_clients_with(
        &self,
        store_key: &[u8],
        bytes: &[u8],
        integrity: Integrity,
    ) -> Result<Clients> {
        self.open_clients_as(store_key, bytes, integrity, Clients::decode_with)
    }

    /// [`Engine::open_clients_with`], decoded by `decode`: either
    /// [`Clients::decode_with`] or, for a login that only looks at its
    /// devices, [`Clients::skim_with`] (no texts, every check).
    pub(super) fn open_clients_as<T>(
        &self,
        store_key: &[u8],
        bytes: &[u8],
        integrity: Integrity,
        decode: fn(&[u8], Integrity) -> Result<T>,
    ) -> Result<T> {
        if self.clients_unsealed(bytes) && self.config.require_sealed {
            return Err(crate::error::Error::Encryption(
                "the devices record is not encrypted and encrypted records are required \
                 (seal the store's records with `mail2fa db seal`)",
            ));
        }
        self.open_any_clients_as(store_key, bytes, integrity, decode)
    }

    /// [`Engine::open_clients`] that also reads plain records whatever
    /// [`EngineConfig::require_sealed`] says (to seal them).
    pub(crate) fn open_any_clients(&self, store_key: &[u8], bytes: &[u8]) -> Result<Clients> {
        self.open_any_clients_as(store_key, bytes, Integrity::Compute, Clients::decode_with)
    }

    /// Opens a clients record (decrypted first if sealed) with `decode`; a
    /// sealed record's plain content is always checked in full.
    fn open_any_clients_as<T>(
        &self,
        store_key: &[u8],
        bytes: &[u8],
        integrity: Integrity,
        decode: fn(&[u8], Integrity) -> Result<T>,
    ) -> Result<T> {
        match seal::open(self.config.encryption.as_ref(), store_key, bytes)? {
            Some(plain) => decode(&plain, Integrity::Compute),
            None => decode(bytes, integrity),
        }
    }

    /// The stored form of a clients record: sealed when keys are
    /// configured.
    pub(crate) fn seal_clients(
        &self,
        store_key: &[u8],
        clients: &Clients,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let plain = clients.encode()?;
        match &self.config.encryption {
            Some(keys) => seal::seal(keys, store_key, &plain),
            None => Ok(plain),
        }
    }

    /// Whether a stored clients record should be rewritten sealed: keys
    /// are configured and it is plain.
    pub(crate) fn clients_unsealed(&self, bytes: &[u8]) -> bool {
        self.config.encryption.is_some() && !seal::is_sealed(bytes)
    }

    /// The clients record of the account's current generation (empty if
    /// there is none, or only an older generation's).
    pub(super) fn clients_of(
        &self,
        key: &[u8],
        bytes: Option<&[u8]>,
        integrity: Integrity,
        generation: u64,
    ) -> Result<Clients> {
        let current = bytes
            .map(|bytes| self.open_clients_with(key, bytes, integrity))
            .transpose()?
            .filter(|clients| clients.generation == generation);
        Ok(current.unwrap_or_else(|| Clients::empty(generation, [0; codes::SALT_LEN])))
    }

    /// Read-modify-write of the account's clients record; `change` says
    /// whether it changed anything. Written sealed when keys are
    /// configured (a plain record, readable only while
    /// [`EngineConfig::require_sealed`] is off, is sealed at its next
    /// change).
    pub(super) fn update_clients<T>(
        &self,
        id: &AccountId,
        generation: u64,
        change: impl FnMut(&mut Clients) -> Result<(bool, T)>,
    ) -> Result<T> {
        let key = id.clients_key();
        let record = self.store.load(&key)?.map(Loaded::from);
        let read = ClientsRead {
            key: &key,
            record,
            integrity: Integrity::Compute,
        };
        self.update_clients_from(id, generation, read, change)
    }

    /// [`Engine::update_clients`] from the clients record as the caller
    /// has just loaded it (read again only after a lost race), which the
    /// store may have vouched for (`integrity`, for that first read only).
    pub(super) fn update_clients_from<T>(
        &self,
        id: &AccountId,
        generation: u64,
        ClientsRead {
            key,
            record,
            mut integrity,
        }: ClientsRead<'_>,
        mut change: impl FnMut(&mut Clients) -> Result<(bool, T)>,
    ) -> Result<T> {
        read_modify_write_from(&self.store, key, record, MAX_ATTEMPTS, |bytes| {
            // A record read again after a lost race is checked in full.
            let integrity = core::mem::take(&mut integrity);
            let stored = bytes
                .map(|bytes| self.open_clients_with(key, bytes, integrity))
                .transpose()?;
            let replaces_other_generation =
                stored.as_ref().is_some_and(|c| c.generation != generation);
            let mut clients = match stored {
                Some(current) if current.generation == generation => current,
                _ => Clients::empty(generation, [0; codes::SALT_LEN]),
            };
            let (changed, value) = change(&mut clients)?;
            if changed && replaces_other_generation && self.generation(id)? != generation {
                // The account moved to another generation while this call
                // worked: never overwrite the new generation's record.
                return Err(Error::NotEnabled);
            }
            Ok(if changed {
                Change::Write(Some(self.seal_clients(key, &clients)?), value)
            } else {
                Change::Keep(value)
            })
        })
    }

    /// The account's generation; [`Error::NotEnabled`] without 2FA.
    pub(super) fn generation(&self, id: &AccountId) -> Result<u64> {
        let record = self.store.load(&id.store_key())?.ok_or(Error::NotEnabled)?;
        Ok(self.open_account(id, &record.bytes)?.generation)
    }
}

/// What a login read, as [`Engine::load_login`] returns it.
#[derive(Debug, Clone)]
pub(crate) struct LoginRecords {
    /// The records' keys.
    pub(crate) keys: LoginKeys,
    /// The account's record (`None`: no 2FA).
    pub(crate) record: Option<Loaded>,
    /// Its platform's record.
    pub(crate) platform: Option<Loaded>,
    /// Its clients record (devices, bindings, application passwords).
    pub(crate) clients: Option<Loaded>,
    /// `record` and `platform` as opened by a first look at them (the
    /// split), so that the decision does not open them again.
    pub(crate) opened: Opened,
    /// How each record is to be checked when opened.
    pub(crate) checks: LoginChecks,
}

impl LoginRecords {
    /// Records as loaded, none opened yet.
    pub(crate) fn new(
        keys: LoginKeys,
        record: Option<Loaded>,
        platform: Option<Loaded>,
        clients: Option<Loaded>,
    ) -> Self {
        Self {
            keys,
            record,
            platform,
            clients,
            opened: Opened::default(),
            checks: LoginChecks::default(),
        }
    }
}

/// A clients record as a login read it: its key, the record (`None`:
/// absent) and how to check it ([`LoginChecks::clients`]).
pub(crate) struct ClientsRead<'a> {
    pub(crate) key: &'a [u8],
    pub(crate) record: Option<Loaded>,
    pub(crate) integrity: Integrity,
}

/// Whether the store vouched for each record of a [`LoginRecords`]
/// ([`Store::load_login_vouched`]): such a record's checksum is not
/// computed again when it is opened. For an absent record: whether one
/// there would have been vouched for — how the decoy that stands in for
/// it is opened, so that an account without 2FA costs what one with 2FA
/// costs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LoginChecks {
    /// The account's record.
    pub(crate) record: Integrity,
    /// The platform's.
    pub(crate) platform: Integrity,
    /// The clients record.
    pub(crate) clients: Integrity,
}

/// Records of a [`LoginRecords`] already opened (decrypted, checked and
/// decoded), each exactly as its stored bytes there.
#[derive(Debug, Clone, Default)]
pub(crate) struct Opened {
    /// The account's record.
    pub(crate) account: Option<Account>,
    /// The platform's, as [`Engine::platform_from`] answers.
    pub(crate) platform: Option<super::account::Platform>,
}
