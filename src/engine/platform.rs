//! Platforms: turning 2FA on or off for a whole platform, platforms
//! where it is mandatory, and the platform record as a login reads it.

use super::account::Platform;
use super::account_id::platform_key;
use super::account_name;
use super::core::{Engine, MAX_ATTEMPTS};
use crate::error::{Error, Result};
use crate::record::Integrity;
use crate::store::{Change, Store, read_modify_write};

impl<S: Store> Engine<S> {
    /// Turns 2FA on or off for a platform. Off means its accounts need
    /// no second factor; their enrollments are kept for when it is on again.
    ///
    /// # Errors
    /// Storage errors; [`Error::InvalidName`] for a platform name outside
    /// the alphabet of [`AccountId::new`]; [`Error::InvalidConfig`] for
    /// switching off a platform of [`EngineConfig::mandatory_platforms`].
    ///
    /// [`AccountId::new`]: crate::engine::AccountId::new
    /// [`EngineConfig::mandatory_platforms`]: crate::engine::EngineConfig::mandatory_platforms
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
    pub(super) fn update_platform(
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
    ///
    /// [`EngineConfig::mandatory_platforms`]: crate::engine::EngineConfig::mandatory_platforms
    /// [`AccountId::new`]: crate::engine::AccountId::new
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
    ///
    /// [`EngineConfig::mandatory_platforms`]: crate::engine::EngineConfig::mandatory_platforms
    pub(super) fn is_mandatory(&self, platform: &str) -> bool {
        self.config
            .mandatory_platforms
            .iter()
            .any(|p| p == platform)
    }

    /// Whether 2FA is on for the platform of an account that has 2FA: the
    /// platform record must exist (it was written before the account could
    /// be enabled); a missing one is a damaged store, not "off".
    pub(super) fn platform_required(&self, platform: &str) -> Result<bool> {
        Ok(self.platform_record(platform)?.enabled)
    }

    /// The platform record of an account that has 2FA (see
    /// [`Engine::platform_required`]).
    pub(super) fn platform_record(&self, platform: &str) -> Result<Platform> {
        let stored = self.store.load(&platform_key(platform))?;
        self.platform_from(platform, stored.as_ref().map(|r| r.bytes.as_slice()))
    }

    /// The platform as a login sees it, from its stored record: a missing
    /// record is a damaged store, except on a mandatory platform, which is
    /// on (with the default policies) whatever its record says.
    pub(super) fn platform_from(&self, platform: &str, stored: Option<&[u8]>) -> Result<Platform> {
        self.platform_from_with(platform, stored, Integrity::Compute)
    }

    /// [`Engine::platform_from`] of a record the store may vouch for
    /// (`integrity`).
    pub(super) fn platform_from_with(
        &self,
        platform: &str,
        stored: Option<&[u8]>,
        integrity: Integrity,
    ) -> Result<Platform> {
        let mandatory = self.is_mandatory(platform);
        let mut record = match stored {
            Some(bytes) => Platform::decode_with(bytes, integrity)?,
            None if mandatory => Platform::default(),
            None => return Err(crate::record::RecordError::Missing.into()),
        };
        record.enabled |= mandatory;
        Ok(record)
    }
}
