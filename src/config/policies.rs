//! The engine's policies, one section each, mirroring [`EngineConfig`]:
//! every default is the engine's own, read from its `Default`.

use std::path::PathBuf;

use serde::Deserialize;

use crate::engine::{DeliveredCodePolicy, DevicePolicy, EngineConfig, LockoutPolicy};
use crate::otp::{Algorithm, TotpConfig};

/// The HMAC algorithm of new enrollments (`[totp] algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[non_exhaustive]
pub enum TotpAlgorithm {
    /// `"SHA1"` (the default; the only one every app supports).
    #[default]
    #[serde(rename = "SHA1")]
    Sha1,
    /// `"SHA256"`.
    #[serde(rename = "SHA256")]
    Sha256,
    /// `"SHA512"`.
    #[serde(rename = "SHA512")]
    Sha512,
}

impl TotpAlgorithm {
    /// The OTP layer's algorithm.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::Sha1 => Algorithm::Sha1,
            Self::Sha256 => Algorithm::Sha256,
            Self::Sha512 => Algorithm::Sha512,
        }
    }
}

/// `[totp]`: the parameters of new enrollments (accounts enrolled before
/// keep theirs) and the clock diagnosis of every login.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TotpSection {
    /// `"SHA1"` (default), `"SHA256"` or `"SHA512"`.
    pub algorithm: TotpAlgorithm,
    /// Digits per code, 6..=10 (default 6).
    pub digits: u32,
    /// Seconds per code, 1..=300 (default 30).
    pub period_seconds: u64,
    /// Steps accepted each side of the current one (default 1).
    pub window: u32,
    /// Steps searched each side, after a refusal, to tell the host that
    /// the device's clock is off (default 10; 0 turns it off).
    pub diagnostic_window: u32,
}

/// `[engine]`: the settings of [`EngineConfig`] that are not a policy of
/// their own.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct EngineSection {
    /// The issuer shown in authenticator apps; None: the platform name.
    pub issuer: Option<String>,
    /// Seconds a pending enrollment stays valid (default one day).
    pub enrollment_ttl_seconds: u64,
    /// Longest suspension accepted, in seconds (default 30 days).
    pub max_suspension_seconds: u64,
    /// Platforms where 2FA is mandatory (default none).
    pub mandatory_platforms: Vec<String>,
    /// The link put in notifications, with `{platform}`, `{account}` and
    /// `{device}` placeholders; None: no link.
    pub portal_link: Option<String>,
}

/// `[lockout]`: [`LockoutPolicy`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct LockoutSection {
    /// Wrong codes before the first lock (default 5).
    pub max_failures: u32,
    /// The first lock, in seconds (default 60).
    pub first_lock_seconds: u64,
    /// The longest lock, in seconds (default 3600).
    pub max_lock_seconds: u64,
}

/// `[delivered_codes]`: [`DeliveredCodePolicy`] (e-mail/SMS codes).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DeliveredCodesSection {
    /// Digits per code (default 6).
    pub digits: u8,
    /// Seconds a code stays valid (default 180).
    pub lifetime_seconds: u64,
    /// Wrong entries that kill a code (default 3).
    pub max_wrong: u32,
    /// Seconds between two codes for one account (default 30).
    pub resend_interval_seconds: u64,
}

/// `[devices]`: [`DevicePolicy`] and the device key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DevicesSection {
    /// Pending device tokens a mailbox may hold (default 10).
    pub max_pending: usize,
    /// Seconds a pending token lives after it was last seen (default 30 days).
    pub pending_ttl_seconds: u64,
    /// Seconds before a blocked device notifies the user again (default one day).
    pub notify_interval_seconds: u64,
    /// Seconds between two writes of a device's last-seen time (default 300).
    pub seen_interval_seconds: u64,
    /// Seconds a device stays trusted after a code login (default 12
    /// hours; 0 turns binding off).
    pub binding_period_seconds: u64,
    /// Whether a 2FA reset also revokes device tokens, bindings and
    /// application passwords (default `false`).
    pub reset_revokes_clients: bool,
    /// A file holding the key of device fingerprints (64 hex digits, mode
    /// 0600); None: a random key kept in the store.
    pub device_key_file: Option<PathBuf>,
}

impl Default for TotpSection {
    fn default() -> Self {
        let engine = EngineConfig::default();
        let totp: TotpConfig = engine.totp;
        Self {
            algorithm: match totp.algorithm() {
                Algorithm::Sha256 => TotpAlgorithm::Sha256,
                Algorithm::Sha512 => TotpAlgorithm::Sha512,
                Algorithm::Sha1 => TotpAlgorithm::Sha1,
            },
            digits: u32::from(totp.digits().get()),
            period_seconds: totp.period(),
            window: totp.window(),
            diagnostic_window: engine.diagnostic_window,
        }
    }
}

impl Default for EngineSection {
    fn default() -> Self {
        let engine = EngineConfig::default();
        Self {
            issuer: engine.issuer,
            enrollment_ttl_seconds: engine.enrollment_ttl,
            max_suspension_seconds: engine.max_suspension,
            mandatory_platforms: engine.mandatory_platforms,
            portal_link: engine.portal_link,
        }
    }
}

impl Default for LockoutSection {
    fn default() -> Self {
        let policy = LockoutPolicy::default();
        Self {
            max_failures: policy.max_failures,
            first_lock_seconds: policy.first_lock,
            max_lock_seconds: policy.max_lock,
        }
    }
}

impl Default for DeliveredCodesSection {
    fn default() -> Self {
        let policy = DeliveredCodePolicy::default();
        Self {
            digits: policy.digits,
            lifetime_seconds: policy.lifetime,
            max_wrong: policy.max_wrong,
            resend_interval_seconds: policy.resend_interval,
        }
    }
}

impl Default for DevicesSection {
    fn default() -> Self {
        let policy = DevicePolicy::default();
        Self {
            max_pending: policy.max_pending,
            pending_ttl_seconds: policy.pending_ttl,
            notify_interval_seconds: policy.notify_interval,
            seen_interval_seconds: policy.seen_interval,
            binding_period_seconds: policy.binding_period,
            reset_revokes_clients: policy.reset_revokes_clients,
            device_key_file: None,
        }
    }
}
