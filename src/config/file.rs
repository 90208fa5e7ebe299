//! [`Config`]: the file read, parsed and checked.

use serde::Deserialize;

use super::policies::{
    DeliveredCodesSection, DevicesSection, EngineSection, LockoutSection, TotpSection,
};
use super::sections::{
    EncryptionSection, NginxSection, NotificationsSection, PasswordCheckSection, ServerSection,
    StoreSection,
};
use crate::engine::EngineConfig;

/// A configuration file, parsed and checked: every key known, every value
/// of the right type and accepted by the engine and the store options.
///
/// The secrets are named, not held: the key file, the database password
/// file and the device key file are read when the engine or the store is
/// opened ([`Config::engine_config`], [`Config::open_store`]), each with
/// its own permission checks.
///
/// ```
/// use mail2fa::config::Config;
///
/// let text = r#"
/// [store]
/// sqlite_path = "/var/lib/mail2fa/mail2fa.db"
///
/// [lockout]
/// max_failures = 3
/// "#;
/// let config = Config::parse(text, "example.toml")?;
/// assert_eq!(config.policies().lockout.max_failures, 3);
///
/// // Unknown keys and bad values are refused with their line and column.
/// let error = Config::parse("[store]\nsqlite_path = \"/x.db\"\n[lockout]\nmax_failure = 3\n", "bad.toml")
///     .unwrap_err();
/// assert!(error.to_string().starts_with("bad.toml:4:1: "), "{error}");
/// # Ok::<(), mail2fa::config::ConfigError>(())
/// ```
// No `Default`: a configuration without a store is not one; every
// section has its defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    #[serde(default)]
    store: StoreSection,
    #[serde(default)]
    encryption: EncryptionSection,
    #[serde(default)]
    engine: EngineSection,
    #[serde(default)]
    totp: TotpSection,
    #[serde(default)]
    lockout: LockoutSection,
    #[serde(default)]
    delivered_codes: DeliveredCodesSection,
    #[serde(default)]
    devices: DevicesSection,
    #[serde(default)]
    server: ServerSection,
    #[serde(default)]
    password_check: PasswordCheckSection,
    #[serde(default)]
    notifications: NotificationsSection,
    #[serde(default)]
    nginx: NginxSection,
    /// Where the text came from, for messages.
    #[serde(skip)]
    pub(super) origin: String,
    /// The engine configuration the policy sections make, checked at parse
    /// time (no secrets in it).
    #[serde(skip)]
    pub(super) policies: EngineConfig,
}

impl Config {
    /// Where the configuration came from (its path).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The engine's settings as the file gives them, checked, without the
    /// secrets (no encryption keys, no device key): what
    /// [`Config::engine_config`] completes.
    pub fn policies(&self) -> &EngineConfig {
        &self.policies
    }

    /// This configuration with its encryption key file replaced by `path`
    /// (the operator tool's `--key-file`): [`Config::engine_config`] then
    /// reads that file, with the same checks, instead of
    /// `encryption.key_file`.
    #[must_use]
    pub fn with_key_file(mut self, path: std::path::PathBuf) -> Self {
        self.encryption.key_file = Some(path);
        self
    }

    /// `[store]`.
    pub fn store(&self) -> &StoreSection {
        &self.store
    }

    /// `[encryption]`.
    pub fn encryption(&self) -> &EncryptionSection {
        &self.encryption
    }

    /// `[engine]`.
    pub fn engine(&self) -> &EngineSection {
        &self.engine
    }

    /// `[totp]`.
    pub fn totp(&self) -> &TotpSection {
        &self.totp
    }

    /// `[lockout]`.
    pub fn lockout(&self) -> &LockoutSection {
        &self.lockout
    }

    /// `[delivered_codes]`.
    pub fn delivered_codes(&self) -> &DeliveredCodesSection {
        &self.delivered_codes
    }

    /// `[devices]`.
    pub fn devices(&self) -> &DevicesSection {
        &self.devices
    }

    /// `[server]`, read by `mail2fa-server`.
    pub fn server(&self) -> &ServerSection {
        &self.server
    }

    /// `[password_check]`, read by `mail2fa-server`.
    pub fn password_check(&self) -> &PasswordCheckSection {
        &self.password_check
    }

    /// `[notifications]`, read by `mail2fa-server`.
    pub fn notifications(&self) -> &NotificationsSection {
        &self.notifications
    }

    /// `[nginx]`, read by `mail2fa-server`'s endpoints for nginx.
    pub fn nginx(&self) -> &NginxSection {
        &self.nginx
    }
}
