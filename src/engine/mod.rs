//! The 2FA engine: platforms, accounts, enrollment, one-time verification
//! and lockout, on top of a [`Store`].
//!
//! The host authenticates the password itself; the engine answers the
//! second-factor question with a [`Decision`]. Every state change is one
//! atomic read-modify-write of the account's record, decided by a pure
//! function of the record and the input, so concurrent logins on any
//! number of threads (or processes and hosts sharing a store) can never both
//! consume a code or both skip a lockout. Time is always a parameter.
//!
//! This release covers the product stories S1–S16: TOTP, e-mail and SMS
//! codes, recovery codes ([`Engine::login`]), and the mail-client side —
//! protocols, device tokens, notifications, application passwords, device
//! binding — in one call per login ([`Engine::authenticate`]);
//! `src/ffi/engine.rs` and `src/ffi/clients.rs` export it to C.
//!
//! ```
//! use mail2fa::engine::{AccountId, ClientAnswer, Decision, Engine, EngineConfig};
//! use mail2fa::store::MemoryStore;
//! use mail2fa::{KeyUri, Totp};
//!
//! let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
//! let alice = AccountId::new("example.com", "alice@example.com")?;
//! let now = 1_800_000_000;
//!
//! engine.enable_platform("example.com", true)?;             // S1
//! let uri = engine.enable_account(&alice, now)?;            // S2: show it as a QR code
//! let phone = KeyUri::parse(&uri)?;                         // what the app scanned
//! let totp = Totp::new(phone.secret(), phone.totp_config().unwrap());
//!
//! let code = totp.generate(now)?;
//! assert!(engine.login(&alice, Some(code.as_str()), now)?.is_allowed()); // enrolls
//! let next = totp.generate(now + 30)?;
//! assert!(engine.login(&alice, Some(next.as_str()), now + 30)?.is_allowed());
//! // The same code again: refused, and the client cannot tell why.
//! let replay = engine.login(&alice, Some(next.as_str()), now + 31)?;
//! assert_eq!(replay.client_answer(), ClientAnswer::Refused);
//! # Ok::<(), mail2fa::Error>(())
//! ```

mod access;
mod account;
mod account_name;
mod clients;
mod codes;
mod contact;
mod decision;
mod device;
mod maintain;
mod notify;
mod protocol;
mod reseal;
mod seal;
mod split;
mod status;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::otp::{Totp, TotpConfig};
use crate::secret::Secret;
use crate::store::{Change, Store, read_modify_write};
use crate::uri::KeyUri;
use account::{
    Account, Contact, DeliveredCode, Lockout, MAX_RECOVERY_CODES, Platform, RecoveryCodes,
    TotpState,
};

pub use access::{Credential, LoginRequest};
pub use account::Mode;
pub use account_name::{MAX_ACCOUNT_NAME_LEN, MAX_LOCAL_PART_LEN, MAX_PLATFORM_NAME_LEN};
pub use clients::{
    AppPasswordInfo, DeviceState, DeviceToken, MAX_APP_PASSWORDS, MAX_BINDINGS, MAX_DEVICES,
};
pub use contact::MAX_EMAIL_LEN;
pub use decision::{AllowReason, AuditEvent, ClientAnswer, Decision, DenyReason};
pub use device::{ClientInfo, DeviceId, DeviceKey, MAX_CLIENT_FIELD};
pub use maintain::Maintenance;
pub use notify::{Notification, format_utc};
pub use protocol::{MAX_PROTOCOL_NAME, Protocol, ProtocolName, ProtocolPolicy};
pub use seal::{EncryptionKeys, MAX_KEY_FILE_LEN};
pub use split::{MAX_LOGIN_INPUT, split_password_and_code};
pub use status::{AccountStatus, Enrollment, MAX_LISTED_PROBLEMS, PlatformStatus, RecordCheck};

/// How often a read-modify-write may lose a race before giving up with
/// [`crate::store::StoreError::Contention`].
const MAX_ATTEMPTS: u32 = 256;

/// Longest lock accepted for [`LockoutPolicy::max_lock`] (one day): a lock
/// that never ends leaves the user no way in but an operator removing 2FA.
pub const MAX_LOCK: u64 = 86_400;

/// Longest suspension accepted for [`EngineConfig::max_suspension`] (30
/// days): a suspension lets the password alone in, so it must end.
pub const MAX_SUSPENSION: u64 = 30 * 86_400;

/// Longest lifetime of a pending enrollment ([`EngineConfig::enrollment_ttl`],
/// 30 days): while pending, the password alone is shown the secret.
pub const MAX_ENROLLMENT_TTL: u64 = 30 * 86_400;

/// Longest lifetime of an e-mail/SMS code and longest interval between two
/// ([`DeliveredCodePolicy`], one day).
pub const MAX_DELIVERED_CODE_SECONDS: u64 = 86_400;

/// Failure counting (RFC 4226 §7.3, NIST SP 800-63B §5.2.2).
///
/// After `max_failures` wrong codes in a row, second-factor attempts are
/// locked for `first_lock` seconds; each further lock doubles, up to
/// `max_lock` (at most [`MAX_LOCK`]). When a lock ends the attacker does
/// *not* get a fresh quota: the next wrong code locks again at once. Only a
/// valid code resets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Wrong codes before the first lock, 1..=100 (default 5).
    pub max_failures: u32,
    /// Length of the first lock in seconds (default 60).
    pub first_lock: u64,
    /// Longest lock in seconds (default 3600, at most [`MAX_LOCK`]).
    pub max_lock: u64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            first_lock: 60,
            max_lock: 3600,
        }
    }
}

/// E-mail/SMS codes (S6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveredCodePolicy {
    /// Digits per code, 6..=10 (default 6).
    pub digits: u8,
    /// Seconds a code stays valid (default 180, at most
    /// [`MAX_DELIVERED_CODE_SECONDS`]).
    pub lifetime: u64,
    /// Wrong entries that kill a code (default 3).
    pub max_wrong: u32,
    /// Seconds between two codes for one account (default 30, at most
    /// [`MAX_DELIVERED_CODE_SECONDS`]).
    pub resend_interval: u64,
}

impl Default for DeliveredCodePolicy {
    fn default() -> Self {
        Self {
            digits: 6,
            lifetime: 180,
            max_wrong: 3,
            resend_interval: 30,
        }
    }
}

/// A code to deliver, handed to the host by [`Engine::issue_code`]. The
/// engine never sends anything itself.
#[derive(Debug)]
pub struct IssuedCode {
    /// The code (wiped on drop). Send it; never log it.
    pub code: Zeroizing<String>,
    /// Where to send it.
    pub channel: Channel,
    /// Unix time after which it no longer works.
    pub expires_at: u64,
}

/// A delivery channel with its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// This e-mail address.
    Email(String),
    /// This phone number.
    Sms(String),
}

/// Longest device binding accepted (30 days): a binding stands in for the
/// second factor.
pub const MAX_BINDING_PERIOD: u64 = 30 * 86_400;

/// Device tokens, device binding and notifications (S12–S14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevicePolicy {
    /// Pending (*INACTIVE*) tokens a mailbox may hold, 1..=[`MAX_DEVICES`]
    /// (default 10): an unknown device beyond that gets no token. A token
    /// the user deactivates is INACTIVE too and counts; deactivation itself
    /// never fails, so it may take the count above the cap, and new devices
    /// then wait until the user deletes a token or one expires.
    pub max_pending: usize,
    /// Seconds a pending token lives after it was last seen (default 30
    /// days).
    pub pending_ttl: u64,
    /// Seconds before the same blocked device notifies the user again
    /// (default one day).
    pub notify_interval: u64,
    /// Seconds between two writes of a device's last-seen time (or an
    /// application password's last use), so that the hot path rarely writes
    /// (default 300; below `pending_ttl`, or a pending token would expire
    /// while in use).
    pub seen_interval: u64,
    /// Seconds a device stays trusted after a login with a valid code
    /// (device binding, default 12 hours, at most [`MAX_BINDING_PERIOD`];
    /// 0 turns binding off). Trusted means: the same client (fingerprint)
    /// from the same network presenting the **same password+code string**
    /// gets in without a fresh code; the password alone never does (see
    /// [`Engine::authenticate`]). The period is not extended by those
    /// logins, only by a new code login.
    pub binding_period: u64,
    /// Whether a reset of 2FA (new phone, S9/S11) also revokes device
    /// tokens, bindings and application passwords (default `false`: a new
    /// phone says nothing about the other clients). Removing 2FA always
    /// does.
    pub reset_revokes_clients: bool,
}

impl Default for DevicePolicy {
    fn default() -> Self {
        Self {
            max_pending: 10,
            pending_ttl: 30 * 86_400,
            notify_interval: 86_400,
            seen_interval: 300,
            binding_period: 12 * 3_600,
            reset_revokes_clients: false,
        }
    }
}

/// Engine settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// TOTP parameters for new enrollments (window ±1 by default).
    pub totp: TotpConfig,
    /// Issuer shown in authenticator apps; `None` uses the platform name.
    pub issuer: Option<String>,
    /// Seconds a pending enrollment stays valid (default one day, at most
    /// [`MAX_ENROLLMENT_TTL`]).
    pub enrollment_ttl: u64,
    /// Lockout policy.
    pub lockout: LockoutPolicy,
    /// Steps each side searched, after a refusal, to tell the host that the
    /// device's clock is off (default 10; 0 turns it off).
    pub diagnostic_window: u32,
    /// E-mail/SMS codes.
    pub delivered_codes: DeliveredCodePolicy,
    /// Device tokens, binding, notifications.
    pub devices: DevicePolicy,
    /// The key of device fingerprints. `None`: a random key made once and
    /// kept in the store itself, so that every process and every restart on
    /// that store agrees — but then whoever reads the store can recompute
    /// fingerprints. Give a key kept apart from the store (configuration,
    /// key file) for fingerprints that reveal nothing at rest.
    pub device_key: Option<DeviceKey>,
    /// The portal link put in notifications, with the placeholders
    /// `{platform}`, `{account}` and `{device}` (percent-encoded), e.g.
    /// `https://mail.example.com/devices?user={account}`.
    pub portal_link: Option<String>,
    /// Encryption at rest of account records (TOTP secrets, contacts, code
    /// tags) and of the records of their clients (device ids, user agents,
    /// addresses, application-password names, bindings): `None` stores them
    /// in clear (integrity-checked only).
    pub encryption: Option<EncryptionKeys>,
    /// With [`EngineConfig::encryption`] set, refuse every account and
    /// devices (clients) record written in clear (default `true`): a plain record copied over a
    /// sealed one (by whoever can write the store but has no key) must not
    /// replace the account's secret or turn 2FA off. A login on such a
    /// record is refused with [`Error::Encryption`]. Without keys it has no
    /// effect. To turn encryption on for a store that has plain records,
    /// seal them first with [`Engine::seal_records`] (the operator tool's
    /// `mail2fa db seal --key-file …`), or set it to `false` for the
    /// migration only.
    pub require_sealed: bool,
    /// Longest suspension [`Engine::suspend`] accepts, in seconds, 1..=
    /// [`MAX_SUSPENSION`] (default 30 days). A longer request is refused,
    /// never shortened; a stored suspension reaching further than this
    /// from the login's time (an older version, a damaged record) is not
    /// honoured: 2FA applies.
    pub max_suspension: u64,
    /// Platforms on which 2FA is mandatory (at most
    /// [`MAX_MANDATORY_PLATFORMS`], each a valid platform name). There,
    /// absence is never consent: an account without a 2FA record is refused
    /// with [`DenyReason::NotEnrolled`] (even with the right password — the
    /// host sends the user to its enrollment flow), a missing platform record
    /// reads as "2FA on, default policies", a platform record switched off is
    /// ignored, and [`Engine::enable_platform`] refuses to switch it off.
    /// Default: none (2FA is opt-in per platform, S1).
    pub mandatory_platforms: Vec<String>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            totp: TotpConfig::default(),
            issuer: None,
            enrollment_ttl: 24 * 3600,
            lockout: LockoutPolicy::default(),
            diagnostic_window: 10,
            delivered_codes: DeliveredCodePolicy::default(),
            devices: DevicePolicy::default(),
            device_key: None,
            portal_link: None,
            encryption: None,
            require_sealed: true,
            max_suspension: MAX_SUSPENSION,
            mandatory_platforms: Vec::new(),
        }
    }
}

/// Most platforms [`EngineConfig::mandatory_platforms`] may name.
pub const MAX_MANDATORY_PLATFORMS: usize = 1024;

/// An account: its platform (service or domain) and its name there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId {
    platform: String,
    account: String,
}

impl AccountId {
    /// Checks both names against mail2fa's alphabet, so that every account
    /// has exactly one spelling (a name the directory behind the password
    /// check would match loosely must not find "no 2FA" here):
    ///
    /// - `platform`: a lower-case DNS name — labels of `a`–`z`, `0`–`9` and
    ///   `-`, 1 to 63 bytes each, beginning and ending with a letter or
    ///   digit, joined by single dots (no leading, trailing or double dot);
    ///   at most 253 bytes (`example.com`, `mail`).
    /// - `account`: `local` or `local@domain`; the local part 1 to 64 bytes
    ///   of `a`–`z`, `0`–`9`, `.`, `-`, `_`, `+`, beginning and ending with
    ///   a letter or digit, no two dots in a row; the domain as a platform
    ///   name; at most 254 bytes (`alice`, `alice+tag@example.com`,
    ///   `a.b-c_d@sub.example.co.uk`).
    ///
    /// Nothing is normalised: `Alice@example.com`, full-width or other
    /// non-ASCII letters (`ａlice`, the Kelvin sign), a trailing dot,
    /// `example\alice`, white space are refused. Internationalized names:
    /// the host maps them to one ASCII spelling before calling (domains as
    /// Punycode A-labels, `xn--…`) and enrolls accounts under it.
    ///
    /// # Errors
    /// [`Error::InvalidName`] saying which name, what is wrong and at which
    /// byte.
    pub fn new(platform: &str, account: &str) -> Result<Self> {
        account_name::check_platform_name(platform)?;
        account_name::check_account_name(account)?;
        Ok(Self {
            platform: platform.to_owned(),
            account: account.to_owned(),
        })
    }

    /// The platform.
    pub fn platform(&self) -> &str {
        &self.platform
    }

    /// The account name.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The key under which the account's record lives in the [`Store`].
    pub fn store_key(&self) -> Vec<u8> {
        self.key_with(b"acct")
    }

    /// The key of the account's device tokens and application passwords.
    pub(crate) fn clients_key(&self) -> Vec<u8> {
        self.key_with(b"clnt")
    }

    fn key_with(&self, prefix: &[u8; 4]) -> Vec<u8> {
        let mut key = Vec::with_capacity(6 + self.platform.len() + self.account.len());
        key.extend_from_slice(prefix);
        key.extend_from_slice(&(self.platform.len() as u16).to_be_bytes());
        key.extend_from_slice(self.platform.as_bytes());
        key.extend_from_slice(self.account.as_bytes());
        key
    }
}

/// Names end up in provisioning URIs (the platform as the default issuer),
/// so they follow the label rules: non-empty, at most 256 bytes, no `:`, no
/// control characters, no surrounding white space.
fn check_name(name: &str, what: &'static str) -> Result<()> {
    crate::uri::check_label_part(name).map_err(|_| Error::InvalidConfig(what))
}

fn platform_key(platform: &str) -> Vec<u8> {
    [b"plat".as_slice(), platform.as_bytes()].concat()
}

/// The 2FA engine over a store. `Send + Sync`: share one across threads.
#[derive(Debug)]
pub struct Engine<S: Store> {
    store: S,
    config: EngineConfig,
    device_key: DeviceKey,
    /// Where the next maintenance batch starts (`None`: the beginning).
    maintenance_cursor: std::sync::Mutex<Option<Vec<u8>>>,
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
    pub fn new(store: S, config: EngineConfig) -> Result<Self> {
        let policy = config.lockout;
        if !(1..=100).contains(&policy.max_failures) {
            return Err(Error::InvalidConfig("lockout.max_failures must be 1..=100"));
        }
        if policy.first_lock == 0 || policy.max_lock < policy.first_lock {
            return Err(Error::InvalidConfig(
                "lockout.first_lock must be > 0 and <= lockout.max_lock",
            ));
        }
        if policy.max_lock > MAX_LOCK {
            return Err(Error::InvalidConfig(
                "lockout.max_lock must be at most MAX_LOCK (86400 s)",
            ));
        }
        if !(1..=MAX_SUSPENSION).contains(&config.max_suspension) {
            return Err(Error::InvalidConfig(
                "max_suspension must be 1..=MAX_SUSPENSION (30 days)",
            ));
        }
        if config.totp.t0() != 0 {
            // Provisioning URIs cannot carry T0: apps would compute other codes.
            return Err(Error::InvalidConfig("totp.t0 must be 0 for enrollments"));
        }
        if !(1..=MAX_ENROLLMENT_TTL).contains(&config.enrollment_ttl) {
            return Err(Error::InvalidConfig(
                "enrollment_ttl must be 1..=MAX_ENROLLMENT_TTL (30 days)",
            ));
        }
        if config.diagnostic_window > crate::MAX_WINDOW {
            return Err(Error::InvalidConfig("diagnostic_window above MAX_WINDOW"));
        }
        if let Some(issuer) = &config.issuer {
            check_name(issuer, "issuer")?;
        }
        let codes = config.delivered_codes;
        if !(6..=10).contains(&codes.digits)
            || !(1..=MAX_DELIVERED_CODE_SECONDS).contains(&codes.lifetime)
            || codes.max_wrong == 0
            || codes.resend_interval > MAX_DELIVERED_CODE_SECONDS
        {
            return Err(Error::InvalidConfig(
                "delivered_codes: digits 6..=10, max_wrong > 0, lifetime 1..=86400, \
                 resend_interval at most 86400",
            ));
        }
        let devices = config.devices;
        if !(1..=MAX_DEVICES).contains(&devices.max_pending)
            || devices.pending_ttl == 0
            || devices.notify_interval == 0
            || devices.seen_interval >= devices.pending_ttl
            || devices.binding_period > MAX_BINDING_PERIOD
        {
            return Err(Error::InvalidConfig(
                "devices: max_pending 1..=MAX_DEVICES, pending_ttl and notify_interval > 0, \
                 seen_interval < pending_ttl, binding_period at most 30 days",
            ));
        }
        if let Some(link) = &config.portal_link {
            if link.is_empty() || link.len() > 512 || link.chars().any(char::is_control) {
                return Err(Error::InvalidConfig("portal_link"));
            }
        }
        if config.mandatory_platforms.len() > MAX_MANDATORY_PLATFORMS {
            return Err(Error::InvalidConfig(
                "mandatory_platforms: more than MAX_MANDATORY_PLATFORMS",
            ));
        }
        // The rule of every platform name: one that no platform can have
        // would make the setting silently do nothing.
        for platform in &config.mandatory_platforms {
            account_name::check_platform_name(platform)?;
        }
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
        engine.open_decoy()?;
        engine.open_decoy_clients()?;
        Ok(engine)
    }

    /// Decodes the decoy clients record: what reading an account's clients
    /// record costs, for an account that has none.
    fn open_decoy_clients(&self) -> Result<()> {
        self.open_clients(&self.decoy.id.clients_key(), &self.decoy.clients)
            .map(drop)
    }

    /// Opens the decoy record: what opening an account's record costs, for
    /// an account that has none.
    fn open_decoy(&self) -> Result<()> {
        self.open_account(&self.decoy.id, &self.decoy.record)
            .map(drop)
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Turns 2FA on or off for a platform (S1). Off means its accounts need
    /// no second factor; their enrollments are kept for when it is on again.
    ///
    /// # Errors
    /// Storage errors; [`Error::InvalidName`] for a platform name outside
    /// the alphabet of [`AccountId::new`]; [`Error::InvalidConfig`] for
    /// switching off a platform of [`EngineConfig::mandatory_platforms`].
    pub fn enable_platform(&self, platform: &str, enabled: bool) -> Result<()> {
        if !enabled && self.is_mandatory(platform) {
            return Err(Error::InvalidConfig(
                "2FA is mandatory on this platform: it cannot be switched off",
            ));
        }
        self.update_platform(platform, |record| {
            record.enabled = enabled;
            Ok(())
        })
    }

    /// Read-modify-write of a platform record (created, off, if absent).
    fn update_platform(
        &self,
        platform: &str,
        mut change: impl FnMut(&mut Platform) -> Result<()>,
    ) -> Result<()> {
        account_name::check_platform_name(platform)?;
        read_modify_write(
            &self.store,
            &platform_key(platform),
            MAX_ATTEMPTS,
            |bytes| {
                let mut record = bytes.map(Platform::decode).transpose()?.unwrap_or_default();
                change(&mut record)?;
                Ok(Change::Write(Some(record.encode()?), ()))
            },
        )
    }

    /// Whether 2FA is on for a platform (always, on a platform of
    /// [`EngineConfig::mandatory_platforms`]).
    ///
    /// # Errors
    /// Storage errors, or an unreadable record (never read as "off");
    /// [`Error::InvalidName`] for a platform name outside the alphabet of
    /// [`AccountId::new`].
    pub fn platform_enabled(&self, platform: &str) -> Result<bool> {
        account_name::check_platform_name(platform)?;
        let stored = self.store.load(&platform_key(platform))?;
        let enabled = match &stored {
            Some(record) => Platform::decode(&record.bytes)?.enabled,
            None => false,
        };
        Ok(enabled || self.is_mandatory(platform))
    }

    /// Whether 2FA is mandatory on `platform` ([`EngineConfig::mandatory_platforms`]).
    fn is_mandatory(&self, platform: &str) -> bool {
        self.config
            .mandatory_platforms
            .iter()
            .any(|p| p == platform)
    }

    /// Whether 2FA is on for the platform of an account that has 2FA: the
    /// platform record must exist (it was written before the account could
    /// be enabled); a missing one is a damaged store, not "off".
    fn platform_required(&self, platform: &str) -> Result<bool> {
        Ok(self.platform_record(platform)?.enabled)
    }

    /// The platform record of an account that has 2FA (see
    /// [`Engine::platform_required`]).
    fn platform_record(&self, platform: &str) -> Result<Platform> {
        let stored = self.store.load(&platform_key(platform))?;
        self.platform_from(platform, stored.as_ref().map(|r| r.bytes.as_slice()))
    }

    /// The platform as a login sees it, from its stored record: a missing
    /// record is a damaged store, except on a mandatory platform, which is
    /// on (with the default policies) whatever its record says.
    fn platform_from(&self, platform: &str, stored: Option<&[u8]>) -> Result<Platform> {
        let mandatory = self.is_mandatory(platform);
        let mut record = match stored {
            Some(bytes) => Platform::decode(bytes)?,
            None if mandatory => Platform::default(),
            None => return Err(crate::record::RecordError::Missing.into()),
        };
        record.enabled |= mandatory;
        Ok(record)
    }

    /// Enables 2FA for an account (S2): a fresh secret, pending until a
    /// first valid code confirms it. Returns the provisioning URI to show
    /// (as a QR code); it contains the secret.
    ///
    /// An enrollment that expired unconfirmed is replaced.
    ///
    /// # Errors
    /// [`Error::PlatformDisabled`] (S1), [`Error::AlreadyEnabled`], storage
    /// and randomness errors.
    pub fn enable_account(&self, id: &AccountId, now: u64) -> Result<Zeroizing<String>> {
        if !self.platform_enabled(&id.platform)? {
            return Err(Error::PlatformDisabled);
        }
        let secret = Secret::generate()?;
        // Built before anything is stored: if it cannot be, nothing changes.
        let uri = self.provisioning_uri(id, &secret, self.config.totp)?;
        let generation = u64::from_be_bytes(codes::random_bytes()?);
        let record = self.seal_account(id, &self.pending(&secret, now, generation))?;
        read_modify_write(
            &self.store,
            &id.store_key(),
            MAX_ATTEMPTS,
            |current| match current {
                None => Ok(Change::Write(Some(record.clone()), ())),
                // An enrollment never confirmed and expired may start over.
                Some(bytes) => match self.open_account(id, bytes)?.totp {
                    TotpState::Pending { expires_at, .. } if now >= expires_at => {
                        Ok(Change::Write(Some(record.clone()), ()))
                    }
                    _ => Err(Error::AlreadyEnabled),
                },
            },
        )?;
        Ok(uri)
    }

    /// The second-factor decision for a login whose password the host has
    /// already checked. `code` is what the client gave (`None`: nothing).
    ///
    /// * no 2FA → allowed, cacheable; platform off → allowed, not cacheable
    ///   (it may be turned on again while a cache holds the answer);
    /// * on a platform where 2FA is mandatory
    ///   ([`EngineConfig::mandatory_platforms`]): no 2FA → refused
    ///   ([`DenyReason::NotEnrolled`]); the platform is never off;
    /// * pending enrollment: no code → [`Decision::EnrollmentRequired`] with
    ///   the URI; a valid code → enrolled and allowed, the code consumed;
    /// * enrolled: a valid code for a step after the last one used → allowed
    ///   and the step consumed; anything else → denied with the reason;
    /// * suspended (S8) → allowed without a code until the suspension ends;
    /// * locked (S7) → denied without looking at the code.
    ///
    /// # Errors
    /// Storage errors and unreadable records: refuse the login.
    pub fn login(&self, id: &AccountId, code: Option<&str>, now: u64) -> Result<Decision> {
        let no_second_factor = Decision::Allow {
            reason: AllowReason::NoSecondFactor,
            cacheable: true,
        };
        // Read once, and only for accounts that have 2FA.
        let mut platform_on: Option<bool> = None;
        read_modify_write(&self.store, &id.store_key(), MAX_ATTEMPTS, |bytes| {
            let Some(bytes) = bytes else {
                if self.is_mandatory(&id.platform) {
                    // Absence is not consent where 2FA is mandatory.
                    return Ok(Change::Keep(Decision::deny(DenyReason::NotEnrolled)));
                }
                return Ok(Change::Keep(no_second_factor.clone()));
            };
            // Decoded first, so that a corrupt record is an error even on a
            // platform that is off.
            let account = self.open_account(id, bytes)?;
            let on = match platform_on {
                Some(on) => on,
                None => *platform_on.insert(self.platform_required(&id.platform)?),
            };
            if !on {
                // 2FA is off for the platform; an auth cache must not keep the
                // answer past the moment it is turned on again.
                return Ok(Change::Keep(Decision::Allow {
                    reason: AllowReason::NoSecondFactor,
                    cacheable: false,
                }));
            }
            let (decision, next) = self.decide_login(id, account, code, now, Suspension::Honour)?;
            self.write_if_changed(id, next, decision)
        })
    }

    /// Splits a password+code string (S5) for this account: only when its
    /// second factor is active (enrolled, not suspended) and by exactly its
    /// number of digits; otherwise the whole input is the password. Hosts
    /// call it before their password check, so it makes the same store
    /// reads whether or not the account has 2FA. On a platform where 2FA is
    /// mandatory, an account not enrolled gets its string split too (by the
    /// configured TOTP digits): it is never taken whole as a password.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (NUL, over-long); storage errors.
    pub fn split_login<'a>(
        &self,
        id: &AccountId,
        input: &'a str,
        now: u64,
    ) -> Result<(&'a str, Option<&'a str>)> {
        self.split_for(id, None, input, now)
    }

    /// [`Engine::split_login`] for a login over `protocol`: a code is only
    /// split off where the protocol's policy takes one
    /// ([`ProtocolPolicy::CodeInLogin`]); elsewhere the whole input is the
    /// password (or an application password).
    ///
    /// # Errors
    /// As [`Engine::split_login`].
    pub fn split_login_for<'a>(
        &self,
        id: &AccountId,
        protocol: &Protocol,
        input: &'a str,
        now: u64,
    ) -> Result<(&'a str, Option<&'a str>)> {
        self.split_for(id, Some(protocol), input, now)
    }

    fn split_for<'a>(
        &self,
        id: &AccountId,
        protocol: Option<&Protocol>,
        input: &'a str,
        now: u64,
    ) -> Result<(&'a str, Option<&'a str>)> {
        split::check_login_input(input)?;
        // Hosts call this before their password check: the same two reads
        // with or without 2FA, so the time to reach that check tells little
        // about the account.
        let record = self.store.load(&id.store_key())?;
        let platform = self.store.load(&platform_key(&id.platform))?;
        let platform = platform.as_ref().map(|r| r.bytes.as_slice());
        let Some(record) = record else {
            if !self.is_mandatory(&id.platform) {
                // The decoding an account with 2FA costs (its record, its
                // platform's), for one without.
                self.open_decoy()?;
                platform.map(Platform::decode).transpose()?;
                return Ok((input, None));
            }
            // Mandatory 2FA, not enrolled: split as for an enrolled account
            // (the default digits), so that the host checks the password
            // part and the engine then answers "not enrolled" — a
            // password+code string is never taken as a password.
            let platform = self.platform_from(&id.platform, platform)?;
            let takes_code = protocol.is_none_or(|protocol| {
                protocol::effective_policy(
                    &protocol::Policies::default(),
                    &platform.policies,
                    protocol,
                ) == ProtocolPolicy::CodeInLogin
            });
            if !takes_code {
                return Ok((input, None));
            }
            return split_password_and_code(input, self.config.totp.digits());
        };
        let account = self.open_account(id, &record.bytes)?;
        let suspended = account
            .suspended_until
            .is_some_and(|until| self.suspension_honoured(until, now));
        let enrolled =
            account.mode != Mode::Totp || matches!(account.totp, TotpState::Confirmed { .. });
        if !enrolled || suspended {
            return Ok((input, None));
        }
        let platform = self.platform_from(&id.platform, platform)?;
        let takes_code = protocol.is_none_or(|protocol| {
            protocol::effective_policy(&account.policies, &platform.policies, protocol)
                == ProtocolPolicy::CodeInLogin
        });
        if !platform.enabled || !takes_code {
            return Ok((input, None));
        }
        let digits = match account.mode {
            Mode::Totp => account.config.digits(),
            Mode::Email | Mode::Sms => {
                crate::otp::Digits::new(u32::from(self.config.delivered_codes.digits))?
            }
        };
        split_password_and_code(input, digits)
    }

    /// Suspends 2FA for `seconds` from `now` (S8, lost phone); it re-arms by
    /// itself. Returns when. `seconds` is at most
    /// [`EngineConfig::max_suspension`]: a longer suspension is refused, not
    /// shortened, so that 2FA cannot be switched off for good this way.
    /// Zero ends a suspension at once.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for more than `max_suspension` seconds, or a
    /// `now + seconds` beyond the 64-bit range; [`Error::NotEnabled`],
    /// storage errors.
    pub fn suspend(&self, id: &AccountId, seconds: u64, now: u64) -> Result<u64> {
        if seconds > self.config.max_suspension {
            return Err(Error::InvalidInput(
                "a suspension may last at most max_suspension seconds",
            ));
        }
        let until = now.checked_add(seconds).ok_or(Error::InvalidInput(
            "the suspension would end beyond 64-bit time",
        ))?;
        self.update(id, |mut account| {
            account.suspended_until = Some(until);
            Ok((Some(account), until))
        })
    }

    /// Resets 2FA (S9, new phone): a new secret, pending enrollment; every
    /// code of the old secret, and any live e-mail/SMS code, fails from this
    /// moment. Returns the new URI.
    ///
    /// # Errors
    /// [`Error::NotEnabled`], storage and randomness errors.
    pub fn reset(&self, id: &AccountId, now: u64) -> Result<Zeroizing<String>> {
        let secret = Secret::generate()?;
        let uri = self.provisioning_uri(id, &secret, self.config.totp)?;
        let expires_at = now.saturating_add(self.config.enrollment_ttl);
        let generation = u64::from_be_bytes(codes::random_bytes()?);
        self.update(id, |mut account| {
            self.reset_account(&mut account, &secret, expires_at, generation);
            Ok((Some(account), ()))
        })?;
        self.scrub();
        Ok(uri)
    }

    /// Removes 2FA from the account (S10); its secret is destroyed, and its
    /// device tokens, bindings and application passwords are revoked.
    ///
    /// # Errors
    /// [`Error::NotEnabled`], storage errors.
    pub fn remove(&self, id: &AccountId) -> Result<()> {
        // The account's generation goes with it: its device tokens and
        // application passwords are dead from this write on. Their record is
        // then deleted too, as housekeeping only: if that fails, the removal
        // has still happened and the old record can never be used again (a
        // new enablement has a new generation).
        self.update(id, |_| Ok((None, ())))?;
        let _housekeeping =
            read_modify_write(&self.store, &id.clients_key(), MAX_ATTEMPTS, |bytes| {
                Ok::<_, Error>(match bytes {
                    Some(_) => Change::Write(None, ()),
                    None => Change::Keep(()),
                })
            });
        self.scrub();
        Ok(())
    }

    /// Lifts a lockout (an operator's action).
    ///
    /// # Errors
    /// [`Error::NotEnabled`], storage errors.
    pub fn unlock(&self, id: &AccountId) -> Result<()> {
        self.update(id, |mut account| {
            account.lockout = Lockout::default();
            Ok((Some(account), ()))
        })
    }

    /// The user turns 2FA off themself (S11): only with a valid code, which
    /// is consumed. Returns the decision on the code; 2FA is removed (in the
    /// same atomic change) only if it is [`Decision::Allow`].
    ///
    /// # Errors
    /// [`Error::NotEnabled`] (also for an enrollment not yet confirmed);
    /// otherwise as [`Engine::login`].
    pub fn disable_with_code(&self, id: &AccountId, code: &str, now: u64) -> Result<Decision> {
        let decision = self.with_proof_of_possession(id, code, now, |_| None)?;
        if decision.is_allowed() {
            self.scrub();
        }
        Ok(decision)
    }

    /// Asks the store to wipe what a destroyed secret left in its files
    /// ([`Store::scrub`]). The change itself is already stored, so a failure
    /// here changes nothing for the account: the old pages then go at the
    /// store's next checkpoint.
    fn scrub(&self) {
        let _best_effort = self.store.scrub();
    }

    /// The user resets 2FA themself (S11): only with a valid code. Returns
    /// the decision and, if allowed, the new provisioning URI; the check and
    /// the reset are one atomic change.
    ///
    /// # Errors
    /// As [`Engine::disable_with_code`].
    pub fn reset_with_code(
        &self,
        id: &AccountId,
        code: &str,
        now: u64,
    ) -> Result<(Decision, Option<Zeroizing<String>>)> {
        let secret = Secret::generate()?;
        let uri = self.provisioning_uri(id, &secret, self.config.totp)?;
        let expires_at = now.saturating_add(self.config.enrollment_ttl);
        let generation = u64::from_be_bytes(codes::random_bytes()?);
        let decision = self.with_proof_of_possession(id, code, now, |mut account| {
            self.reset_account(&mut account, &secret, expires_at, generation);
            Some(account)
        })?;
        Ok(if decision.is_allowed() {
            self.scrub();
            (decision, Some(uri))
        } else {
            (decision, None)
        })
    }

    /// Checks a code that an enrolled account must give even while 2FA is
    /// suspended, and applies `action` to the account (`None`: remove it) in
    /// the same write if the code is good.
    fn with_proof_of_possession(
        &self,
        id: &AccountId,
        code: &str,
        now: u64,
        action: impl Fn(Account) -> Option<Account>,
    ) -> Result<Decision> {
        read_modify_write(&self.store, &id.store_key(), MAX_ATTEMPTS, |bytes| {
            let account = self.open_account(id, bytes.ok_or(Error::NotEnabled)?)?;
            if account.mode == Mode::Totp && matches!(account.totp, TotpState::Pending { .. }) {
                return Err(Error::NotEnabled);
            }
            let (decision, next) =
                self.decide_login(id, account, Some(code), now, Suspension::Ignore)?;
            match next {
                Some(checked) if decision.is_allowed() => {
                    let bytes = action(checked)
                        .map(|a| self.seal_account(id, &a))
                        .transpose()?;
                    Ok(Change::Write(bytes, decision))
                }
                next => self.write_if_changed(id, next, decision),
            }
        })
    }

    /// A new pending secret: everything tied to the old authenticator dies;
    /// the lockout, contact and recovery codes stay (a reset must not hand
    /// out a fresh quota). Device tokens, bindings and application passwords
    /// die too if the policy says so (a new `generation`).
    fn reset_account(
        &self,
        account: &mut Account,
        secret: &Secret,
        expires_at: u64,
        generation: u64,
    ) {
        if self.config.devices.reset_revokes_clients {
            account.generation = generation;
        }
        // Bindings were earned with codes of the old secret: never kept.
        account.bind_epoch = generation;
        account.config = self.config.totp;
        account.totp = TotpState::Pending {
            secret: secret.clone(),
            expires_at,
        };
        account.delivered = None;
    }

    /// The account in a stored record, opened first if it is sealed
    /// (encryption at rest).
    fn open_account(&self, id: &AccountId, bytes: &[u8]) -> Result<Account> {
        if !seal::is_sealed(bytes) {
            // The hot path without encryption: no store key to build.
            self.refuse_plain()?;
            return Account::decode(bytes);
        }
        self.open_record(&id.store_key(), bytes)
    }

    /// [`Engine::open_account`] for the record under `store_key`.
    fn open_record(&self, store_key: &[u8], bytes: &[u8]) -> Result<Account> {
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
    fn open_any_record(&self, store_key: &[u8], bytes: &[u8]) -> Result<Account> {
        match seal::open(self.config.encryption.as_ref(), store_key, bytes)? {
            Some(plain) => Account::decode(&plain),
            None => Account::decode(bytes),
        }
    }

    /// The stored form of an account: sealed when keys are configured.
    fn seal_account(&self, id: &AccountId, account: &Account) -> Result<Zeroizing<Vec<u8>>> {
        match &self.config.encryption {
            Some(_) => self.seal_record(&id.store_key(), account),
            None => account.encode(),
        }
    }

    /// [`Engine::seal_account`] for the record under `store_key`.
    fn seal_record(&self, store_key: &[u8], account: &Account) -> Result<Zeroizing<Vec<u8>>> {
        let plain = account.encode()?;
        match &self.config.encryption {
            Some(keys) => seal::seal(keys, store_key, &plain),
            None => Ok(plain),
        }
    }

    /// The store change for a decision: write the new state if there is one.
    fn write_if_changed(
        &self,
        id: &AccountId,
        next: Option<Account>,
        decision: Decision,
    ) -> Result<Change<Decision>> {
        Ok(match next {
            Some(account) => Change::Write(Some(self.seal_account(id, &account)?), decision),
            None => Change::Keep(decision),
        })
    }

    fn pending(&self, secret: &Secret, now: u64, generation: u64) -> Account {
        Account::new(
            self.config.totp,
            secret.clone(),
            now.saturating_add(self.config.enrollment_ttl),
            generation,
        )
    }

    fn provisioning_uri(
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
    fn suspension_honoured(&self, until: u64, now: u64) -> bool {
        now < until && until - now <= self.config.max_suspension
    }

    /// Read-modify-write of an existing account; `change` returns the new
    /// state (`None` deletes) and a value.
    fn update<T>(
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

    /// Sets where e-mail and SMS codes go (each `None` removes it).
    ///
    /// The e-mail address must be a plain ASCII `local@domain.tld` (at most
    /// [`MAX_EMAIL_LEN`] bytes, one `@`, no white space, quotes or address
    /// literals) and the phone number E.164 (`+`, then 8 to 15 digits, the
    /// first not 0; single spaces between groups allowed and kept): the exact
    /// rules are in `src/engine/contact.rs`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a value that is not such an address or
    /// number (the message names which, never quotes it);
    /// [`Error::NoContact`] for removing the destination the account's mode
    /// uses; [`Error::NotEnabled`]; storage errors.
    pub fn set_contact(
        &self,
        id: &AccountId,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<()> {
        if let Some(email) = email {
            contact::check_email(email)?;
        }
        if let Some(phone) = phone {
            contact::check_phone(phone)?;
        }
        self.update(id, |mut account| {
            let needed_gone = match account.mode {
                Mode::Totp => false,
                Mode::Email => email.is_none(),
                Mode::Sms => phone.is_none(),
            };
            if needed_gone {
                // The account would have no way to receive its codes.
                return Err(Error::NoContact);
            }
            account.contact = Contact {
                email: email.map(str::to_owned),
                phone: phone.map(str::to_owned),
            };
            Ok((Some(account), ()))
        })
    }

    /// Chooses the verification mode (S3). E-mail and SMS need the contact
    /// set first; switching kills any live e-mail/SMS code. TOTP is the
    /// recommended mode (SIM swapping, mailbox takeover).
    ///
    /// # Errors
    /// [`Error::NoContact`], [`Error::NotEnabled`], storage errors.
    pub fn set_mode(&self, id: &AccountId, mode: Mode) -> Result<()> {
        self.update(id, |mut account| {
            let reachable = match mode {
                Mode::Totp => true,
                Mode::Email => account.contact.email.is_some(),
                Mode::Sms => account.contact.phone.is_some(),
            };
            if !reachable {
                return Err(Error::NoContact);
            }
            account.mode = mode;
            account.delivered = None;
            Ok((Some(account), ()))
        })
    }

    /// Makes a fresh e-mail/SMS code for the account (S6) and returns it with
    /// where to send it; the host delivers it. The previous code, if any,
    /// dies. Stored only as a salted tag.
    ///
    /// # Errors
    /// [`Error::RateLimited`] within `resend_interval` of the last code;
    /// [`Error::NoContact`] for a TOTP account or a missing destination;
    /// [`Error::NotEnabled`]; storage and randomness errors.
    pub fn issue_code(&self, id: &AccountId, now: u64) -> Result<IssuedCode> {
        let policy = self.config.delivered_codes;
        let code = codes::random_digits(usize::from(policy.digits))?;
        let salt = codes::random_bytes()?;
        let tag = codes::tag(&salt, &code);
        let expires_at = now.saturating_add(policy.lifetime);
        let channel = self.update(id, |mut account| {
            let channel = match (account.mode, &account.contact) {
                (
                    Mode::Email,
                    Contact {
                        email: Some(to), ..
                    },
                ) => Channel::Email(to.clone()),
                (
                    Mode::Sms,
                    Contact {
                        phone: Some(to), ..
                    },
                ) => Channel::Sms(to.clone()),
                _ => return Err(Error::NoContact),
            };
            if let Some(last) = account.last_issued {
                let retry_at = last.saturating_add(policy.resend_interval);
                if now < retry_at {
                    return Err(Error::RateLimited { retry_at });
                }
            }
            account.delivered = Some(DeliveredCode {
                salt,
                tag,
                expires_at,
                wrong_attempts: 0,
            });
            account.last_issued = Some(now);
            Ok((Some(account), channel))
        })?;
        Ok(IssuedCode {
            code,
            channel,
            expires_at,
        })
    }

    /// Replaces the account's recovery codes with `count` new ones
    /// (1..=32; 10 is usual) and returns them, to be shown once. Each works
    /// once, in place of any code, even while the phone is lost.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a bad count, [`Error::NotEnabled`],
    /// storage and randomness errors.
    pub fn generate_recovery_codes(
        &self,
        id: &AccountId,
        count: usize,
    ) -> Result<Vec<Zeroizing<String>>> {
        if !(1..=MAX_RECOVERY_CODES).contains(&count) {
            return Err(Error::InvalidConfig("recovery code count must be 1..=32"));
        }
        let salt = codes::random_bytes()?;
        let fresh = (0..count)
            .map(|_| codes::random_recovery_code())
            .collect::<Result<Vec<_>>>()?;
        let tags = fresh.iter().map(|code| codes::tag(&salt, code)).collect();
        let recovery = RecoveryCodes { salt, tags };
        self.update(id, |mut account| {
            account.recovery = recovery.clone();
            Ok((Some(account), ()))
        })?;
        Ok(fresh)
    }

    /// The decision for one login attempt on `account`, and the new state
    /// to store with it (`None`: nothing changed). Pure: it may run again
    /// after a lost race.
    fn decide_login(
        &self,
        id: &AccountId,
        mut account: Account,
        code: Option<&str>,
        now: u64,
        suspension: Suspension,
    ) -> Result<(Decision, Option<Account>)> {
        if let Some(until) = account
            .suspended_until
            .filter(|&until| self.suspension_honoured(until, now))
        {
            if suspension == Suspension::Honour {
                let decision = Decision::Allow {
                    reason: AllowReason::Suspended { until },
                    // The suspension ends on its own; a cache must not outlive it.
                    cacheable: false,
                };
                return Ok((decision, None));
            }
        } else {
            // Re-armed by itself: forget the old suspension when next writing.
            account.suspended_until = None;
        }
        if account.mode == Mode::Totp {
            if let TotpState::Pending { secret, expires_at } = &account.totp {
                if now >= *expires_at {
                    return Ok((Decision::deny(DenyReason::EnrollmentExpired), None));
                }
                if code.is_none() {
                    let uri = self.provisioning_uri(id, secret, account.config)?;
                    return Ok((Decision::EnrollmentRequired { uri }, None));
                }
            }
        }
        // Before the lock check: asking for a code must look the same whether
        // or not the account is locked, or the password alone reveals it.
        let Some(code) = code else {
            let decision = Decision::SecondFactorRequired { mode: account.mode };
            return Ok((decision, None));
        };
        if let Some(until) = account.lockout.locked_until.filter(|&until| now < until) {
            return Ok((Decision::deny(DenyReason::Locked { until }), None));
        }

        let recovery =
            codes::canonical_recovery_code(code).filter(|_| !account.recovery.tags.is_empty());
        let outcome = match (recovery, account.mode) {
            (Some(canonical), _) => check_recovery_code(&mut account, &canonical),
            (None, Mode::Totp) => self.check_totp(&mut account, code, now)?,
            (None, Mode::Email | Mode::Sms) => self.check_delivered(&mut account, code, now),
        };
        Ok(match outcome {
            Ok(reason) => {
                account.lockout = Lockout::default();
                account.last_used = Some(now);
                let decision = Decision::Allow {
                    reason,
                    cacheable: false,
                };
                (decision, Some(account))
            }
            // A replay only repeats a code that already worked: it teaches an
            // attacker nothing, so it is not a failure. (Mail clients open
            // several connections with the same password+code string.)
            Err(DenyReason::Replayed) => (Decision::deny(DenyReason::Replayed), None),
            Err(reason) => {
                register_failure(&mut account.lockout, &self.config.lockout, now);
                (Decision::deny(reason), Some(account))
            }
        })
    }

    /// A TOTP code: accepted once, for a step after the last one used.
    fn check_totp(
        &self,
        account: &mut Account,
        code: &str,
        now: u64,
    ) -> Result<Result<AllowReason, DenyReason>> {
        let (secret, last_step) = match &account.totp {
            TotpState::Pending { secret, .. } => (secret, None),
            TotpState::Confirmed { secret, last_step } => (secret, *last_step),
        };
        let totp = Totp::new(secret, account.config);
        let verdict = match last_step {
            Some(last) => totp.verify_after(code, now, last),
            None => totp.verify(code, now),
        };
        Ok(match verdict {
            Ok(Some(step)) => Ok(match &mut account.totp {
                // The hot path: only the step changes, the secret stays put.
                TotpState::Confirmed { last_step, .. } => {
                    *last_step = Some(step);
                    AllowReason::CodeAccepted { step }
                }
                TotpState::Pending { secret, .. } => {
                    account.totp = TotpState::Confirmed {
                        secret: secret.clone(),
                        last_step: Some(step),
                    };
                    AllowReason::Enrolled { step }
                }
            }),
            Ok(None) => Err(self.refusal_reason(&totp, code, now, last_step)),
            Err(Error::MalformedCode { .. }) => Err(DenyReason::MalformedCode),
            Err(other) => return Err(other),
        })
    }

    /// An e-mail/SMS code: the live one, before it expires, within its
    /// wrong-entry allowance; used once.
    fn check_delivered(
        &self,
        account: &mut Account,
        code: &str,
        now: u64,
    ) -> Result<AllowReason, DenyReason> {
        let policy = self.config.delivered_codes;
        // The code that last worked, presented again (another connection of
        // the same client): refused, and not counted as a failure.
        if let Some((salt, tag)) = &account.last_delivered {
            if codes::tag_matches(tag, salt, code) {
                return Err(DenyReason::Replayed);
            }
        }
        let Some(live) = account.delivered.as_mut() else {
            return Err(DenyReason::NoCodeIssued);
        };
        if now >= live.expires_at {
            account.delivered = None;
            return Err(DenyReason::CodeExpired);
        }
        let well_formed =
            code.len() == usize::from(policy.digits) && code.bytes().all(|b| b.is_ascii_digit());
        if well_formed && codes::tag_matches(&live.tag, &live.salt, code) {
            account.last_delivered = Some((live.salt, live.tag));
            account.delivered = None;
            return Ok(AllowReason::DeliveredCodeAccepted);
        }
        live.wrong_attempts = live.wrong_attempts.saturating_add(1);
        if live.wrong_attempts >= policy.max_wrong {
            account.delivered = None;
        }
        Err(if well_formed {
            DenyReason::WrongCode
        } else {
            DenyReason::MalformedCode
        })
    }

    /// Why a well-formed TOTP code was refused: a replay, a skewed clock, or
    /// simply wrong. Only computed on refusals.
    fn refusal_reason(&self, totp: &Totp, code: &str, now: u64, last: Option<u64>) -> DenyReason {
        if let (Some(last), Ok(Some(step))) = (last, totp.verify(code, now)) {
            if step <= last {
                return DenyReason::Replayed;
            }
        }
        // The last code used, however old: a mail client reconnecting with
        // its stored password+code string. It repeats a code that worked and
        // teaches nothing, so it must not lock the account.
        if let Some(last) = last {
            if totp.generate_at_step(last) == code {
                return DenyReason::Replayed;
            }
        }
        let window = self.config.diagnostic_window;
        if let (Ok(current), Ok(Some(step))) = (
            totp.step_at(now),
            totp.verify_with_window(code, now, window, last),
        ) {
            let steps = i64::try_from(i128::from(step) - i128::from(current)).unwrap_or(0);
            if steps != 0 {
                return DenyReason::ClockSkew { steps };
            }
        }
        DenyReason::WrongCode
    }
}

/// Whether a login honours a running suspension (S8) or, for self-service
/// changes (S11), demands a code anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Suspension {
    Honour,
    Ignore,
}

/// A recovery code: compared against every unused one in constant time;
/// the match is spent.
fn check_recovery_code(account: &mut Account, code: &str) -> Result<AllowReason, DenyReason> {
    let recovery = &mut account.recovery;
    let mut matched = None;
    for (index, tag) in recovery.tags.iter().enumerate() {
        if codes::tag_matches(tag, &recovery.salt, code) {
            matched = Some(index);
        }
    }
    match matched {
        Some(index) => {
            recovery.tags.remove(index);
            Ok(AllowReason::RecoveryCodeUsed {
                remaining: recovery.tags.len(),
            })
        }
        None => Err(DenyReason::WrongCode),
    }
}

/// Counts a wrong code and locks when the policy says so.
fn register_failure(lockout: &mut Lockout, policy: &LockoutPolicy, now: u64) {
    lockout.failures = lockout.failures.saturating_add(1);
    if lockout.failures >= policy.max_failures {
        lockout.level = lockout.level.saturating_add(1);
        let doublings = lockout.level.saturating_sub(1).min(63);
        let length = policy
            .first_lock
            .checked_shl(doublings)
            .filter(|&l| l >> doublings == policy.first_lock)
            .unwrap_or(policy.max_lock)
            .min(policy.max_lock);
        lockout.locked_until = Some(now.saturating_add(length));
        // No fresh quota when the lock ends: one more wrong code locks again.
        lockout.failures = policy.max_failures - 1;
    }
}
