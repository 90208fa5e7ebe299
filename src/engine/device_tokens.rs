//! Where device tokens change state: an unknown device on a
//! protocol with device authorization gets an *INACTIVE* token and the user
//! a notification; the user activates, deactivates or deletes tokens
//! from the portal.

use core::net::IpAddr;

use super::account::Account;
use super::account_id::AccountId;
use super::clients::{Clients, DeviceState, DeviceToken, MAX_DEVICES};
use super::contact::Channel;
use super::core::{ClientsRead, Engine};
use super::decision::{AllowReason, Decision, DenyReason};
use super::device::DeviceId;
use super::notify::{self, Blocked, Notification};
use super::request::LoginRequest;
use crate::error::{Error, Result};
use crate::record::Integrity;
use crate::store::Store;

/// Whether `token` was seen within the last `interval` seconds: its
/// last-seen time is then not written again (coalesced).
fn seen_recently(token: &DeviceToken, now: u64, interval: u64) -> bool {
    now < token.last_seen.saturating_add(interval)
}

impl<S: Store> Engine<S> {
    #[allow(clippy::too_many_arguments)] // the login's records and client, as read
    pub(super) fn device_login(
        &self,
        id: &AccountId,
        account: &Account,
        device: DeviceId,
        clients: ClientsRead<'_>,
        request: &LoginRequest<'_>,
        addr: Option<IpAddr>,
        now: u64,
    ) -> Result<Decision> {
        let policy = self.config.devices;
        let client = &request.client;
        let authorized = Decision::Allow {
            reason: AllowReason::DeviceAuthorized { device },
            // Deactivation must take effect at once: no cache.
            cacheable: false,
        };
        // The usual login, an authorized device seen within the interval,
        // changes nothing: answered from the record as read, decoded
        // without its texts, with no read-modify-write. Any other case
        // (and an error) is the full path's below.
        if let Some(record) = &clients.record {
            let (key, bytes) = (clients.key, record.bytes());
            let skimmed =
                self.open_clients_as(key, bytes, clients.integrity, Clients::skim_with)?;
            let fresh = |d: &DeviceToken| {
                d.id == device
                    && d.state == DeviceState::Active
                    && seen_recently(d, now, policy.seen_interval)
            };
            if skimmed.generation() == account.generation && skimmed.devices().iter().any(fresh) {
                return Ok(authorized);
            }
        }
        // Rendered only when a token is written, not on every login.
        let address = || addr.map(|a| a.to_string());
        self.update_clients_from(id, account.generation, clients, |clients| {
            let live = |d: &DeviceToken| {
                d.state == DeviceState::Active
                    || now < d.last_seen.saturating_add(policy.pending_ttl)
            };
            let known = clients
                .devices
                .iter_mut()
                .find(|d| d.id == device && live(d));
            let (token, created) = match known {
                Some(token) => (token, false),
                None => {
                    clients.prune(now, policy.pending_ttl);
                    let pending = clients
                        .devices
                        .iter()
                        .filter(|d| d.state == DeviceState::Inactive)
                        .count();
                    if pending >= policy.max_pending || clients.devices.len() >= MAX_DEVICES {
                        return Ok((false, Decision::deny(DenyReason::TooManyPendingDevices)));
                    }
                    clients.devices.push(DeviceToken {
                        id: device,
                        state: DeviceState::Inactive,
                        protocol: request.protocol.clone(),
                        device_id: client.device_id.map(str::to_owned),
                        device_type: client.device_type.map(str::to_owned),
                        user_agent: client.user_agent.map(str::to_owned),
                        remote_addr: address(),
                        first_seen: now,
                        last_seen: now,
                        notified_at: None,
                    });
                    let last = clients.devices.len() - 1;
                    (&mut clients.devices[last], true)
                }
            };
            let mut changed = created;
            if !seen_recently(token, now, policy.seen_interval) {
                // Coalesced: at most one write per device per interval.
                token.last_seen = now;
                token.remote_addr = address();
                if client.user_agent.is_some() {
                    token.user_agent = client.user_agent.map(str::to_owned);
                }
                changed = true;
            }
            if token.state == DeviceState::Active {
                return Ok((changed, authorized.clone()));
            }
            let due = token
                .notified_at
                .is_none_or(|at| now >= at.saturating_add(policy.notify_interval));
            let notification = if due {
                token.notified_at = Some(now);
                changed = true;
                self.notification(id, account, token, now, false)
            } else {
                None
            };
            Ok((
                changed,
                Decision::DevicePending {
                    device,
                    notification,
                },
            ))
        })
    }

    /// The message about a blocked device: by SMS when the account has a
    /// mobile number (unless `email_only`), otherwise by e-mail.
    fn notification(
        &self,
        id: &AccountId,
        account: &Account,
        token: &DeviceToken,
        now: u64,
        email_only: bool,
    ) -> Option<Notification> {
        let contact = &account.contact;
        let channel = match (&contact.phone, &contact.email) {
            (Some(phone), _) if !email_only => Channel::Sms(phone.clone()),
            (_, Some(email)) => Channel::Email(email.clone()),
            _ if id.account().contains('@') => Channel::Email(id.account().to_owned()),
            _ => return None,
        };
        let blocked = Blocked {
            id,
            device: token.id,
            device_type: token.device_type.as_deref(),
            protocol: &token.protocol,
            at: now,
        };
        Some(notify::compose(
            &blocked,
            channel,
            self.config.portal_link.as_deref(),
        ))
    }

    /// The host could not deliver the SMS about `device`: the same
    /// message by e-mail, or `None` if the account has no e-mail
    /// destination.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown (or expired) device,
    /// [`Error::NotEnabled`], storage errors.
    pub fn notification_fallback(
        &self,
        id: &AccountId,
        device: &DeviceId,
        now: u64,
    ) -> Result<Option<Notification>> {
        let record = self.store.load(&id.store_key())?.ok_or(Error::NotEnabled)?;
        let account = self.open_account(id, &record.bytes)?;
        let key = id.clients_key();
        let clients = self.store.load(&key)?;
        let mut clients = self.clients_of(
            &key,
            clients.as_ref().map(|r| &r.bytes[..]),
            Integrity::Compute,
            account.generation,
        )?;
        clients.prune(now, self.config.devices.pending_ttl);
        let token = clients
            .devices
            .iter()
            .find(|d| d.id == *device)
            .ok_or(Error::NotFound("device"))?;
        Ok(self.notification(id, &account, token, now, true))
    }

    /// The account's device tokens, for the portal: pending ones that
    /// have not expired, and active ones.
    ///
    /// # Errors
    /// [`Error::NotEnabled`], storage errors.
    pub fn devices(&self, id: &AccountId, now: u64) -> Result<Vec<DeviceToken>> {
        let generation = self.generation(id)?;
        let ttl = self.config.devices.pending_ttl;
        self.update_clients(id, generation, |clients| {
            clients.prune(now, ttl);
            Ok((false, clients.devices.clone()))
        })
    }

    /// Activates a device token: from now on that device gets in
    /// with the password.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown (or expired) token,
    /// [`Error::NotEnabled`], storage errors.
    pub fn activate_device(&self, id: &AccountId, device: &DeviceId, now: u64) -> Result<()> {
        self.change_device(id, device, now, |token| {
            token.state = DeviceState::Active;
            true
        })
    }

    /// Deactivates a device token: the device is blocked again (and
    /// the user is not notified about it before the notification interval).
    ///
    /// # Errors
    /// As [`Engine::activate_device`].
    pub fn deactivate_device(&self, id: &AccountId, device: &DeviceId, now: u64) -> Result<()> {
        self.change_device(id, device, now, |token| {
            token.state = DeviceState::Inactive;
            token.last_seen = now;
            token.notified_at = Some(now);
            true
        })
    }

    /// Deletes a device token: the device is unknown again; its next
    /// login makes a new pending token and a new notification.
    ///
    /// # Errors
    /// As [`Engine::activate_device`].
    pub fn delete_device(&self, id: &AccountId, device: &DeviceId, now: u64) -> Result<()> {
        self.change_device(id, device, now, |_| false)
    }

    /// Applies `change` to a live token; `false` from it deletes the token.
    fn change_device(
        &self,
        id: &AccountId,
        device: &DeviceId,
        now: u64,
        change: impl Fn(&mut DeviceToken) -> bool,
    ) -> Result<()> {
        let generation = self.generation(id)?;
        let ttl = self.config.devices.pending_ttl;
        self.update_clients(id, generation, |clients| {
            clients.prune(now, ttl);
            let index = clients
                .devices
                .iter()
                .position(|d| device.ct_eq(&d.id.0))
                .ok_or(Error::NotFound("device"))?;
            if !change(&mut clients.devices[index]) {
                clients.devices.remove(index);
            }
            Ok((true, ()))
        })
    }
}
