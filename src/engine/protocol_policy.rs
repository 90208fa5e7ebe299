//! Which protocol takes which credential: a platform's and an
//! account's overrides of the protocol defaults, and the policy that
//! applies to an account.

use super::account_id::AccountId;
use super::core::Engine;
use super::protocol::{self, Protocol, ProtocolPolicy};
use crate::error::{Error, Result};
use crate::store::Store;

impl<S: Store> Engine<S> {
    /// Sets (`Some`) or clears (`None`) a platform's policy for a protocol
    ///. The platform record is created (2FA off) if needed. The portal
    /// takes only [`ProtocolPolicy::CodeInLogin`] or
    /// [`ProtocolPolicy::Refused`]: 2FA itself is managed there.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a bad platform name, [`Error::InvalidConfig`]
    /// for another policy for the portal, [`Error::LimitReached`] beyond 32
    /// overrides, storage errors.
    pub fn set_platform_policy(
        &self,
        platform: &str,
        protocol: &Protocol,
        policy: Option<ProtocolPolicy>,
    ) -> Result<()> {
        check_portal_policy(protocol, policy)?;
        self.update_platform(platform, |record| record.policies.set(protocol, policy))
    }

    /// Sets (`Some`) or clears (`None`) an account's own policy for a
    /// protocol; it wins over the platform's. The portal takes only
    /// [`ProtocolPolicy::CodeInLogin`] or [`ProtocolPolicy::Refused`].
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] (portal), [`Error::NotEnabled`],
    /// [`Error::LimitReached`], storage errors.
    pub fn set_account_policy(
        &self,
        id: &AccountId,
        protocol: &Protocol,
        policy: Option<ProtocolPolicy>,
    ) -> Result<()> {
        check_portal_policy(protocol, policy)?;
        self.update(id, |mut account| {
            account.policies.set(protocol, policy)?;
            Ok((Some(account), ()))
        })
    }

    /// The policy that applies to the account on `protocol`: its own
    /// override, else its platform's, else [`Protocol::default_policy`].
    ///
    /// # Errors
    /// [`Error::NotEnabled`], storage errors.
    pub fn protocol_policy(&self, id: &AccountId, protocol: &Protocol) -> Result<ProtocolPolicy> {
        let record = self.store.load(&id.store_key())?.ok_or(Error::NotEnabled)?;
        let account = self.open_account(id, &record.bytes)?;
        let platform = self.platform_record(&id.platform)?;
        Ok(protocol::effective_policy(
            &account.policies,
            &platform.policies,
            protocol,
        ))
    }
}

/// Where 2FA is managed, neither a device nor an application password may
/// stand in for the code.
fn check_portal_policy(protocol: &Protocol, policy: Option<ProtocolPolicy>) -> Result<()> {
    match (protocol, policy) {
        (
            Protocol::Portal,
            Some(ProtocolPolicy::DeviceAuthorization | ProtocolPolicy::AppPasswordOnly),
        ) => Err(Error::InvalidConfig(
            "the portal takes only code-in-login or refused",
        )),
        _ => Ok(()),
    }
}
