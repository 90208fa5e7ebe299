//! How the engine is configured: [`EngineConfig`] with its policies
//! (lockout, e-mail/SMS codes, devices), their limits, and the check
//! [`Engine::new`] makes of them.
//!
//! [`Engine::new`]: crate::engine::Engine::new

use super::account_name::{self, check_name};
use super::clients::MAX_DEVICES;
use super::device::DeviceKey;
use super::seal::EncryptionKeys;
use crate::error::{Error, Result};
use crate::otp::TotpConfig;

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
#[non_exhaustive]
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

// The builders of the policies and of `EngineConfig`: the structs are
// `#[non_exhaustive]` (a new setting is not a breaking change), so other
// crates start from `default()` and set what they change; `Engine::new`
// checks the values.
impl LockoutPolicy {
    /// Sets [`LockoutPolicy::max_failures`].
    #[must_use]
    pub fn with_max_failures(mut self, value: u32) -> Self {
        self.max_failures = value;
        self
    }

    /// Sets [`LockoutPolicy::first_lock`] (seconds).
    #[must_use]
    pub fn with_first_lock(mut self, value: u64) -> Self {
        self.first_lock = value;
        self
    }

    /// Sets [`LockoutPolicy::max_lock`] (seconds).
    #[must_use]
    pub fn with_max_lock(mut self, value: u64) -> Self {
        self.max_lock = value;
        self
    }
}

/// E-mail/SMS codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

impl DeliveredCodePolicy {
    /// Sets [`DeliveredCodePolicy::digits`].
    #[must_use]
    pub fn with_digits(mut self, value: u8) -> Self {
        self.digits = value;
        self
    }

    /// Sets [`DeliveredCodePolicy::lifetime`] (seconds).
    #[must_use]
    pub fn with_lifetime(mut self, value: u64) -> Self {
        self.lifetime = value;
        self
    }

    /// Sets [`DeliveredCodePolicy::max_wrong`].
    #[must_use]
    pub fn with_max_wrong(mut self, value: u32) -> Self {
        self.max_wrong = value;
        self
    }

    /// Sets [`DeliveredCodePolicy::resend_interval`] (seconds).
    #[must_use]
    pub fn with_resend_interval(mut self, value: u64) -> Self {
        self.resend_interval = value;
        self
    }
}

/// Longest device binding accepted (30 days): a binding stands in for the
/// second factor.
pub const MAX_BINDING_PERIOD: u64 = 30 * 86_400;

/// Device tokens, device binding and notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    ///
    /// [`Engine::authenticate`]: crate::engine::Engine::authenticate
    pub binding_period: u64,
    /// Whether a reset of 2FA (new phone) also revokes device
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

impl DevicePolicy {
    /// Sets [`DevicePolicy::max_pending`].
    #[must_use]
    pub fn with_max_pending(mut self, value: usize) -> Self {
        self.max_pending = value;
        self
    }

    /// Sets [`DevicePolicy::pending_ttl`] (seconds).
    #[must_use]
    pub fn with_pending_ttl(mut self, value: u64) -> Self {
        self.pending_ttl = value;
        self
    }

    /// Sets [`DevicePolicy::notify_interval`] (seconds).
    #[must_use]
    pub fn with_notify_interval(mut self, value: u64) -> Self {
        self.notify_interval = value;
        self
    }

    /// Sets [`DevicePolicy::seen_interval`] (seconds).
    #[must_use]
    pub fn with_seen_interval(mut self, value: u64) -> Self {
        self.seen_interval = value;
        self
    }

    /// Sets [`DevicePolicy::binding_period`] (seconds; 0 turns binding off).
    #[must_use]
    pub fn with_binding_period(mut self, value: u64) -> Self {
        self.binding_period = value;
        self
    }

    /// Sets [`DevicePolicy::reset_revokes_clients`].
    #[must_use]
    pub fn with_reset_revokes_clients(mut self, value: bool) -> Self {
        self.reset_revokes_clients = value;
        self
    }
}

/// Engine settings.
///
/// Start from the defaults and change what the site needs with the
/// `with_*` methods; [`Engine::new`] checks the result. The fields stay
/// readable, but new settings may come in any release, so other crates
/// cannot write the struct as a literal. Here: three wrong codes lock for
/// five minutes, and new enrollments get 8-digit codes (accounts enrolled
/// before keep theirs).
///
/// ```
/// use mail2fa::engine::{AccountId, Engine, EngineConfig, LockoutPolicy};
/// use mail2fa::store::MemoryStore;
/// use mail2fa::{Digits, Error, Totp, TotpConfig};
///
/// let config = EngineConfig::default()
///     .with_lockout(LockoutPolicy::default().with_max_failures(3).with_first_lock(300))
///     .with_totp(TotpConfig::default().with_digits(Digits::EIGHT));
/// let engine = Engine::new(MemoryStore::new(), config.clone())?;
///
/// let alice = AccountId::new("example.com", "alice@example.com")?;
/// let now = 1_800_000_000;
/// engine.enable_platform("example.com", true)?;
/// let uri = engine.enable_account(&alice, now)?;
/// assert!(uri.contains("digits=8"));
/// let code = Totp::from_uri(&uri)?.generate(now)?;
/// assert_eq!(code.as_str().len(), 8);
/// assert!(engine.confirm_enrollment(&alice, code.as_str(), now)?.is_allowed());
///
/// // A setting out of range is refused before the store is touched.
/// let never_locks = config.clone().with_lockout(config.lockout.with_max_failures(0));
/// let refused = Engine::new(MemoryStore::new(), never_locks);
/// assert!(matches!(refused, Err(Error::InvalidConfig(_))));
/// # Ok::<(), mail2fa::Error>(())
/// ```
///
/// [`Engine::new`]: crate::engine::Engine::new
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    ///
    /// [`Engine::seal_records`]: crate::engine::Engine::seal_records
    pub require_sealed: bool,
    /// Longest suspension [`Engine::suspend`] accepts, in seconds, 1..=
    /// [`MAX_SUSPENSION`] (default 30 days). A longer request is refused,
    /// never shortened; a stored suspension reaching further than this
    /// from the login's time (an older version, a damaged record) is not
    /// honoured: 2FA applies.
    ///
    /// [`Engine::suspend`]: crate::engine::Engine::suspend
    pub max_suspension: u64,
    /// Platforms on which 2FA is mandatory (at most
    /// [`MAX_MANDATORY_PLATFORMS`], each a valid platform name). There,
    /// absence is never consent: an account without a 2FA record is refused
    /// with [`DenyReason::NotEnrolled`] (even with the right password — the
    /// host sends the user to its enrollment flow), a missing platform record
    /// reads as "2FA on, default policies", a platform record switched off is
    /// ignored, and [`Engine::enable_platform`] refuses to switch it off.
    /// Default: none (2FA is opt-in per platform).
    ///
    /// [`DenyReason::NotEnrolled`]: crate::engine::DenyReason::NotEnrolled
    /// [`Engine::enable_platform`]: crate::engine::Engine::enable_platform
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

impl EngineConfig {
    /// Sets [`EngineConfig::totp`].
    #[must_use]
    pub fn with_totp(mut self, value: TotpConfig) -> Self {
        self.totp = value;
        self
    }

    /// Sets [`EngineConfig::issuer`] (a `String`, or `None` for the platform name).
    #[must_use]
    pub fn with_issuer(mut self, value: impl Into<Option<String>>) -> Self {
        self.issuer = value.into();
        self
    }

    /// Sets [`EngineConfig::enrollment_ttl`] (seconds).
    #[must_use]
    pub fn with_enrollment_ttl(mut self, value: u64) -> Self {
        self.enrollment_ttl = value;
        self
    }

    /// Sets [`EngineConfig::lockout`].
    #[must_use]
    pub fn with_lockout(mut self, value: LockoutPolicy) -> Self {
        self.lockout = value;
        self
    }

    /// Sets [`EngineConfig::diagnostic_window`] (steps; 0 turns it off).
    #[must_use]
    pub fn with_diagnostic_window(mut self, value: u32) -> Self {
        self.diagnostic_window = value;
        self
    }

    /// Sets [`EngineConfig::delivered_codes`].
    #[must_use]
    pub fn with_delivered_codes(mut self, value: DeliveredCodePolicy) -> Self {
        self.delivered_codes = value;
        self
    }

    /// Sets [`EngineConfig::devices`].
    #[must_use]
    pub fn with_devices(mut self, value: DevicePolicy) -> Self {
        self.devices = value;
        self
    }

    /// Sets [`EngineConfig::device_key`] (a [`DeviceKey`], or `None`).
    #[must_use]
    pub fn with_device_key(mut self, value: impl Into<Option<DeviceKey>>) -> Self {
        self.device_key = value.into();
        self
    }

    /// Sets [`EngineConfig::portal_link`] (a `String`, or `None`).
    #[must_use]
    pub fn with_portal_link(mut self, value: impl Into<Option<String>>) -> Self {
        self.portal_link = value.into();
        self
    }

    /// Sets [`EngineConfig::encryption`] ([`EncryptionKeys`], or `None` for records in clear).
    #[must_use]
    pub fn with_encryption(mut self, value: impl Into<Option<EncryptionKeys>>) -> Self {
        self.encryption = value.into();
        self
    }

    /// Sets [`EngineConfig::require_sealed`].
    #[must_use]
    pub fn with_require_sealed(mut self, value: bool) -> Self {
        self.require_sealed = value;
        self
    }

    /// Sets [`EngineConfig::max_suspension`] (seconds).
    #[must_use]
    pub fn with_max_suspension(mut self, value: u64) -> Self {
        self.max_suspension = value;
        self
    }

    /// Sets [`EngineConfig::mandatory_platforms`] (platform names).
    #[must_use]
    pub fn with_mandatory_platforms(
        mut self,
        value: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.mandatory_platforms = value.into_iter().map(Into::into).collect();
        self
    }
}

/// Most platforms [`EngineConfig::mandatory_platforms`] may name.
pub const MAX_MANDATORY_PLATFORMS: usize = 1024;

impl EngineConfig {
    /// Refuses the settings [`Engine::new`] refuses (its `# Errors` lists
    /// them): the configuration is checked before any store access.
    ///
    /// [`Engine::new`]: crate::engine::Engine::new
    pub(super) fn check(&self) -> Result<()> {
        let config = self;
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
        if config.portal_link.as_ref().is_some_and(|link| {
            link.is_empty() || link.len() > 512 || link.chars().any(char::is_control)
        }) {
            return Err(Error::InvalidConfig("portal_link"));
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
        Ok(())
    }
}
