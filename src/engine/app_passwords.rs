//! Application passwords: made, listed and revoked by the user,
//! accepted on the protocols that take them, within their scope.

use zeroize::Zeroizing;

use super::account::Account;
use super::account_id::AccountId;
use super::account_name::check_name;
use super::clients::{AppPassword, AppPasswordInfo, Clients, MAX_APP_PASSWORDS};
use super::codes;
use super::core::{ClientsRead, Engine};
use super::decision::{AllowReason, Decision, DenyReason};
use super::protocol::Protocol;
use crate::error::{Error, Result};
use crate::store::Store;

impl<S: Store> Engine<S> {
    /// A valid application password, in the clients record as the caller
    /// loaded it (a revocation since then makes the write conflict, and
    /// the record is read again and checked again): limited to its scope,
    /// its last use written at most once per
    /// [`DevicePolicy::seen_interval`].
    ///
    /// [`DevicePolicy::seen_interval`]: crate::engine::DevicePolicy::seen_interval
    pub(super) fn app_password_login(
        &self,
        id: &AccountId,
        account: &Account,
        clients: ClientsRead<'_>,
        canonical: &str,
        protocol: &Protocol,
        now: u64,
    ) -> Result<Decision> {
        let seen_interval = self.config.devices.seen_interval;
        self.update_clients_from(id, account.generation, clients, |clients| {
            let tag = codes::tag(&clients.app_salt, canonical);
            let Some(index) = matching_app_password(clients, &tag) else {
                // Revoked meanwhile.
                return Ok((false, Decision::deny(DenyReason::WrongAppPassword)));
            };
            let app = &mut clients.apps[index].info;
            if !app.allows(protocol) {
                return Ok((false, Decision::deny(DenyReason::AppPasswordOutOfScope)));
            }
            let due = app
                .last_used
                .is_none_or(|used| now >= used.saturating_add(seen_interval));
            if due {
                app.last_used = Some(now);
            }
            let decision = Decision::Allow {
                reason: AllowReason::AppPassword { id: app.id },
                // Revocation must take effect at once: no cache.
                cacheable: false,
            };
            Ok((due, decision))
        })
    }

    /// Makes an application password named `name` (1 to 64 bytes,
    /// unique in the account), limited to the protocols in `scope` (empty:
    /// any protocol that takes application passwords). Returns its listing
    /// and the password — `xxxxx-xxxxx-xxxxx-xxxxx`, 100 random bits — to
    /// show once; only a keyed hash is kept.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a bad or taken name,
    /// [`Error::LimitReached`] beyond [`MAX_APP_PASSWORDS`],
    /// [`Error::NotEnabled`], storage and randomness errors.
    pub fn create_app_password(
        &self,
        id: &AccountId,
        name: &str,
        scope: &[Protocol],
        now: u64,
    ) -> Result<(AppPasswordInfo, Zeroizing<String>)> {
        if name.len() > 64 {
            return Err(Error::InvalidConfig("application password name"));
        }
        check_name(name, "application password name")?;
        let mut unique: Vec<Protocol> = Vec::with_capacity(scope.len().min(MAX_SCOPE));
        for protocol in scope {
            if !unique.contains(protocol) {
                unique.push(protocol.clone());
            }
        }
        if unique.len() > MAX_SCOPE {
            return Err(Error::InvalidConfig(
                "application password scope above 16 protocols",
            ));
        }
        let scope = unique;
        let password = codes::random_app_password()?;
        let canonical =
            codes::canonical_app_password(&password).ok_or(Error::InvalidConfig("app password"))?;
        let fresh_salt = codes::random_bytes()?;
        let generation = self.generation(id)?;
        let info = self.update_clients(id, generation, |clients| {
            if clients.apps.iter().any(|a| a.info.name == name) {
                return Err(Error::InvalidConfig(
                    "application password name already used",
                ));
            }
            if clients.apps.len() >= MAX_APP_PASSWORDS {
                return Err(Error::LimitReached("application passwords"));
            }
            if clients.apps.is_empty() {
                clients.app_salt = fresh_salt;
            }
            let info = AppPasswordInfo {
                id: clients.next_app_id,
                name: name.to_owned(),
                scope: scope.clone(),
                created: now,
                last_used: None,
            };
            clients.next_app_id = clients
                .next_app_id
                .checked_add(1)
                .ok_or(Error::LimitReached("application password ids"))?;
            clients.apps.push(AppPassword {
                info: info.clone(),
                tag: codes::tag(&clients.app_salt, &canonical),
            });
            Ok((true, info))
        })?;
        Ok((info, password))
    }

    /// The account's application passwords (never the passwords).
    ///
    /// # Errors
    /// [`Error::NotEnabled`], storage errors.
    pub fn app_passwords(&self, id: &AccountId) -> Result<Vec<AppPasswordInfo>> {
        let generation = self.generation(id)?;
        self.update_clients(id, generation, |clients| {
            Ok((false, clients.apps.iter().map(|a| a.info.clone()).collect()))
        })
    }

    /// Revokes an application password at once: every login that starts
    /// after this returns fails with it.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::NotEnabled`], storage errors.
    pub fn revoke_app_password(&self, id: &AccountId, app_id: u32) -> Result<()> {
        let generation = self.generation(id)?;
        self.update_clients(id, generation, |clients| {
            let before = clients.apps.len();
            clients.apps.retain(|a| a.info.id != app_id);
            if clients.apps.len() == before {
                return Err(Error::NotFound("application password"));
            }
            Ok((true, ()))
        })
    }
}

/// Protocols an application password may be limited to, at most.
const MAX_SCOPE: usize = 16;

/// The application password whose tag is `tag`, if any. Every stored tag
/// is compared, in constant time.
pub(super) fn matching_app_password(
    clients: &Clients,
    tag: &[u8; codes::TAG_LEN],
) -> Option<usize> {
    let mut found = None;
    for (index, app) in clients.apps.iter().enumerate() {
        if codes::tags_equal(&app.tag, tag) {
            found = Some(index);
        }
    }
    found
}
