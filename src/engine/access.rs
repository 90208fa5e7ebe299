//! The mail-client side of 2FA: one decision per login for every protocol
//! (S15), device tokens (S12–S14), notifications (S13), application
//! passwords (S16) and device binding.

use core::net::IpAddr;

use zeroize::Zeroizing;

use super::clients::{
    AppPassword, AppPasswordInfo, Binding, Clients, DeviceState, DeviceToken, MAX_APP_PASSWORDS,
    MAX_BINDINGS, MAX_DEVICES,
};
use super::codes;
use super::device::{self, ClientInfo, DeviceId};
use super::notify::{self, Blocked, Notification};
use super::protocol::{self, Protocol, ProtocolPolicy};
use super::{
    Account, AccountId, AllowReason, Channel, Decision, DenyReason, Engine, MAX_ATTEMPTS,
    Suspension, check_name,
};
use crate::error::{Error, Result};
use crate::store::{Change, Store, read_modify_write};

/// What the client presented, after the host's own password check.
///
/// The host owns the account password. A host that receives a
/// password+code string splits it with [`Engine::split_login_for`] and
/// checks the password part; when its check fails, it passes the whole
/// input as an [`Credential::AppPassword`] — the engine tells an
/// application password from a wrong password by its shape.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// The account password alone; `correct` is the host's verdict.
    Password {
        /// Whether the host's password check succeeded.
        correct: bool,
    },
    /// The account password with a one-time code (split off a
    /// password+code string, or asked for separately).
    PasswordAndCode {
        /// Whether the host's check of the password part succeeded.
        correct: bool,
        /// The code.
        code: &'a str,
    },
    /// Something that is not the account password: maybe an application
    /// password.
    AppPassword(&'a str),
}

/// One login, as the host sees it.
///
/// ```
/// use mail2fa::engine::{ClientInfo, Credential, LoginRequest, Protocol};
///
/// let outlook = LoginRequest {
///     protocol: Protocol::Outlook,
///     credential: Credential::Password { correct: true },
///     client: ClientInfo {
///         user_agent: Some("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928)"),
///         remote_addr: Some("198.51.100.20"),
///         ..ClientInfo::default()
///     },
/// };
/// assert!(outlook.client.is_identifiable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest<'a> {
    /// How the client connects.
    pub protocol: Protocol,
    /// What it presented.
    pub credential: Credential<'a>,
    /// What the host knows about it.
    pub client: ClientInfo<'a>,
}

/// Shows the kind and the password verdict, never the code or the
/// application password.
impl core::fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Password { correct } => f
                .debug_struct("Password")
                .field("correct", correct)
                .finish(),
            Self::PasswordAndCode { correct, .. } => f
                .debug_struct("PasswordAndCode")
                .field("correct", correct)
                .finish_non_exhaustive(),
            Self::AppPassword(_) => f.write_str("AppPassword(<redacted>)"),
        }
    }
}

impl Credential<'_> {
    fn password_correct(&self) -> bool {
        matches!(
            self,
            Self::Password { correct: true } | Self::PasswordAndCode { correct: true, .. }
        )
    }
}

impl<S: Store> Engine<S> {
    /// The decision for a whole login (S12–S16): account, protocol, the
    /// host's password verdict, the credential, the client, `now`.
    ///
    /// * no 2FA: the host's password verdict decides (cacheable unless the
    ///   platform merely has 2FA off) — except on a platform where 2FA is
    ///   mandatory ([`super::EngineConfig::mandatory_platforms`]): refused,
    ///   [`DenyReason::NotEnrolled`];
    /// * the host's password check failed (a wrong password, with or without
    ///   a code, or [`Credential::AppPassword`]): the same store reads, no
    ///   write and the same client answer with or without 2FA (no oracle;
    ///   see `Engine::unauthenticated`);
    /// * 2FA suspended (S8): as without 2FA; application passwords still work;
    /// * [`ProtocolPolicy::Refused`]: refused, whatever the credential;
    /// * an application password: accepted on protocols whose policy takes
    ///   them (never webmail or the portal, whatever an override says),
    ///   within its scope; a wrong one is refused and not counted;
    /// * a wrong account password: refused, nothing recorded (no device token);
    /// * [`ProtocolPolicy::DeviceAuthorization`]: an *ACTIVE* device gets in;
    ///   an unknown one gets an *INACTIVE* token and
    ///   [`Decision::DevicePending`] with a notification to send;
    /// * [`ProtocolPolicy::AppPasswordOnly`]: the account password is refused;
    /// * [`ProtocolPolicy::CodeInLogin`]: as [`Engine::login`], and a valid
    ///   code binds the device for [`super::DevicePolicy::binding_period`]
    ///   (device binding). A bound client gets in with the **same
    ///   password+code string** it used (a mail client reconnecting with its
    ///   stored, now stale, string), from the same device fingerprint and
    ///   network (IPv4 /24, IPv6 /64): [`AllowReason::DeviceTrusted`]. The
    ///   engine keeps only a keyed tag of that code per binding and compares
    ///   it in constant time; a new code login from the client replaces it.
    ///   Device id, type, user agent and address are sent by the client and
    ///   are no secret, so **the password alone never passes through a
    ///   binding**, and another code is checked as a code (a wrong one counts
    ///   toward the lockout). No binding serves the portal or a client whose
    ///   address is unknown.
    ///
    /// No decision here is cacheable once 2FA applies. A lockout (S7) stops
    /// codes and application passwords, and suspends bindings (otherwise a
    /// locked-out guesser could keep trying codes against the bound one);
    /// an activated device still gets in with the password, as the user
    /// authorized it.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for client fields or credentials a client
    /// cannot honestly send; storage errors and unreadable records: refuse
    /// the login.
    pub fn authenticate(
        &self,
        id: &AccountId,
        request: &LoginRequest<'_>,
        now: u64,
    ) -> Result<Decision> {
        let addr = request.client.check()?;
        let credential = request.credential;
        if let Credential::PasswordAndCode { code: text, .. } | Credential::AppPassword(text) =
            credential
        {
            super::split::check_login_input(text)?;
        }
        // What is not known to be the account holder (the host's password
        // check failed) makes the same reads with or without 2FA — the
        // account and its platform — and stops without a write and without
        // a timing that depends on the account (see
        // `Engine::unauthenticated`). The holder of an account without 2FA
        // (the common login) pays for one read only.
        let record = self.store.load(&id.store_key())?;
        let platform = if record.is_some() || !credential.password_correct() {
            self.store.load(&super::platform_key(&id.platform))?
        } else {
            None
        };
        let platform = platform.as_ref().map(|r| r.bytes.as_slice());
        if !credential.password_correct() {
            let record = record.as_ref().map(|r| r.bytes.as_slice());
            return self.unauthenticated(id, record, platform, credential, &request.protocol, now);
        }
        let Some(record) = record else {
            if self.is_mandatory(&id.platform) {
                // Absence is not consent where 2FA is mandatory.
                return Ok(Decision::deny(DenyReason::NotEnrolled));
            }
            return Ok(without_second_factor(credential, true));
        };
        let account = self.open_account(id, &record.bytes)?;
        let platform = self.platform_from(&id.platform, platform)?;
        if !platform.enabled {
            return Ok(without_second_factor(credential, false));
        }
        let policy =
            protocol::effective_policy(&account.policies, &platform.policies, &request.protocol);
        if policy == ProtocolPolicy::Refused {
            return Ok(Decision::deny(DenyReason::ProtocolRefused));
        }
        if let Some(until) = account
            .suspended_until
            .filter(|&until| self.suspension_honoured(until, now))
        {
            return Ok(Decision::Allow {
                reason: AllowReason::Suspended { until },
                cacheable: false,
            });
        }
        // Only the policies that look at devices pay for the fingerprint.
        let device =
            || device::fingerprint(&self.device_key, id, &request.protocol, &request.client);
        match policy {
            ProtocolPolicy::Refused => Ok(Decision::deny(DenyReason::ProtocolRefused)),
            ProtocolPolicy::AppPasswordOnly => Ok(Decision::deny(DenyReason::AppPasswordRequired)),
            ProtocolPolicy::DeviceAuthorization => match device() {
                Some(device) => self.device_login(id, &account, device, request, addr, now),
                None => Ok(Decision::deny(DenyReason::DeviceUnidentified)),
            },
            ProtocolPolicy::CodeInLogin => {
                let code = match credential {
                    Credential::PasswordAndCode { code, .. } => Some(code),
                    _ => None,
                };
                // Bindings serve mail clients reconnecting with a stored
                // password+code string: only a login that carries a code
                // (the password alone never passes), never the portal, where
                // 2FA itself is managed, never a client whose network is
                // unknown, and not while the account is locked (else a
                // locked-out guesser could keep trying codes against the
                // bound one, uncounted).
                let locked = account
                    .lockout
                    .locked_until
                    .is_some_and(|until| now < until);
                let binding = match (addr, code) {
                    (Some(addr), Some(_))
                        if self.config.devices.binding_period > 0
                            && request.protocol != Protocol::Portal
                            && !locked =>
                    {
                        device().map(|device| {
                            device::binding_key(&self.device_key, &device, addr, account.bind_epoch)
                        })
                    }
                    _ => None,
                };
                let tag = match (&binding, code) {
                    (Some(key), Some(code)) => {
                        Some(device::binding_code_tag(&self.device_key, key, code))
                    }
                    _ => None,
                };
                if let (Some(key), Some(tag)) = (&binding, &tag) {
                    if let Some(until) =
                        self.trusted_until(id, account.generation, key, tag, now)?
                    {
                        return Ok(Decision::Allow {
                            reason: AllowReason::DeviceTrusted { until },
                            cacheable: false,
                        });
                    }
                }
                // Not the bound string: the code is checked (a wrong one
                // counts toward the lockout; the last code used, from
                // elsewhere, is a replay).
                let decision = self.second_factor(id, code, now)?;
                let proven = matches!(
                    decision,
                    Decision::Allow {
                        reason: AllowReason::CodeAccepted { .. }
                            | AllowReason::Enrolled { .. }
                            | AllowReason::DeliveredCodeAccepted
                            | AllowReason::RecoveryCodeUsed { .. },
                        ..
                    }
                );
                if let (true, Some(key), Some(tag)) = (proven, binding, tag) {
                    self.bind(id, account.generation, key, tag, now)?;
                }
                Ok(decision)
            }
        }
    }

    /// The code step of a login, on the current account record (the
    /// platform is known to be on).
    fn second_factor(&self, id: &AccountId, code: Option<&str>, now: u64) -> Result<Decision> {
        read_modify_write(&self.store, &id.store_key(), MAX_ATTEMPTS, |bytes| {
            let account = self.open_account(id, bytes.ok_or(Error::NotEnabled)?)?;
            let (decision, next) = self.decide_login(id, account, code, now, Suspension::Honour)?;
            self.write_if_changed(id, next, decision)
        })
    }

    /// The clients record of the account's current generation (empty if
    /// there is none, or only an older generation's).
    fn clients_of(&self, id: &AccountId, bytes: Option<&[u8]>, generation: u64) -> Result<Clients> {
        let current = bytes
            .map(|bytes| self.open_clients(&id.clients_key(), bytes))
            .transpose()?
            .filter(|clients| clients.generation == generation);
        Ok(current.unwrap_or_else(|| Clients::empty(generation, [0; codes::SALT_LEN])))
    }

    /// Read-modify-write of the account's clients record; `change` says
    /// whether it changed anything. Written sealed when keys are
    /// configured (a plain record, readable only while
    /// [`super::EngineConfig::require_sealed`] is off, is sealed at its next
    /// change).
    fn update_clients<T>(
        &self,
        id: &AccountId,
        generation: u64,
        mut change: impl FnMut(&mut Clients) -> Result<(bool, T)>,
    ) -> Result<T> {
        let key = id.clients_key();
        read_modify_write(&self.store, &key, MAX_ATTEMPTS, |bytes| {
            let stored = bytes
                .map(|bytes| self.open_clients(&key, bytes))
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
                Change::Write(Some(self.seal_clients(&key, &clients)?), value)
            } else {
                Change::Keep(value)
            })
        })
    }

    /// The account's generation; [`Error::NotEnabled`] without 2FA.
    fn generation(&self, id: &AccountId) -> Result<u64> {
        let record = self.store.load(&id.store_key())?.ok_or(Error::NotEnabled)?;
        Ok(self.open_account(id, &record.bytes)?.generation)
    }

    fn device_login(
        &self,
        id: &AccountId,
        account: &Account,
        device: DeviceId,
        request: &LoginRequest<'_>,
        addr: Option<IpAddr>,
        now: u64,
    ) -> Result<Decision> {
        let policy = self.config.devices;
        let client = &request.client;
        // Rendered only when a token is written, not on every login.
        let address = || addr.map(|a| a.to_string());
        self.update_clients(id, account.generation, |clients| {
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
            if now >= token.last_seen.saturating_add(policy.seen_interval) {
                // Coalesced: at most one write per device per interval.
                token.last_seen = now;
                token.remote_addr = address();
                if client.user_agent.is_some() {
                    token.user_agent = client.user_agent.map(str::to_owned);
                }
                changed = true;
            }
            if token.state == DeviceState::Active {
                let decision = Decision::Allow {
                    reason: AllowReason::DeviceAuthorized { device },
                    // Deactivation must take effect at once: no cache.
                    cacheable: false,
                };
                return Ok((changed, decision));
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

    /// The host could not deliver the SMS about `device` (S13): the same
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
        let clients = self.store.load(&id.clients_key())?;
        let mut clients = self.clients_of(
            id,
            clients.as_ref().map(|r| &r.bytes[..]),
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

    /// The account's device tokens, for the portal (S14): pending ones that
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

    /// Activates a device token (S14): from now on that device gets in
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

    /// Deactivates a device token (S14): the device is blocked again (and
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

    /// Deletes a device token (S14): the device is unknown again; its next
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

    /// Whether a binding for `key`, earned with the code whose tag is
    /// `code`, holds at `now`, and until when. The tag is compared in
    /// constant time.
    fn trusted_until(
        &self,
        id: &AccountId,
        generation: u64,
        key: &[u8; 16],
        code: &[u8; device::BINDING_CODE_LEN],
        now: u64,
    ) -> Result<Option<u64>> {
        let Some(record) = self.store.load(&id.clients_key())? else {
            return Ok(None);
        };
        let clients = self.clients_of(id, Some(&record.bytes), generation)?;
        Ok(clients
            .bindings
            .iter()
            .find(|b| b.key == *key && now < b.until)
            .filter(|b| device::binding_codes_equal(&b.code, code))
            .map(|b| b.until))
    }

    /// Trusts the device behind `key`, holding the code tagged `code`, for
    /// the binding period from `now` (a binding it had is replaced: only
    /// the latest code counts).
    fn bind(
        &self,
        id: &AccountId,
        generation: u64,
        key: [u8; 16],
        code: [u8; device::BINDING_CODE_LEN],
        now: u64,
    ) -> Result<()> {
        let until = now.saturating_add(self.config.devices.binding_period);
        let ttl = self.config.devices.pending_ttl;
        self.update_clients(id, generation, |clients| {
            clients.prune(now, ttl);
            clients.bindings.retain(|b| b.key != key);
            if clients.bindings.len() >= MAX_BINDINGS {
                // Forget the binding that ends first.
                if let Some(first) =
                    (0..clients.bindings.len()).min_by_key(|&i| clients.bindings[i].until)
                {
                    clients.bindings.remove(first);
                }
            }
            clients.bindings.push(Binding { key, until, code });
            Ok((true, ()))
        })
    }

    /// A login the host's password check did not pass: a wrong password
    /// (with or without a code), or something that may be an application
    /// password. Whoever knows a mailbox name can send these, so they are
    /// answered alike for accounts with and without 2FA (issue 14, point 5):
    ///
    /// * the same store reads — the account, its platform (already read by
    ///   the caller) and, for input shaped like an application password,
    ///   the clients record — and one keyed tag of that input, whether or
    ///   not there is anything to compare it with; where the account has no
    ///   record (or no clients record), a decoy one made by `Engine::new` is
    ///   decoded instead, so that both cases decode;
    /// * no write: a wrong application password (100 random bits, which
    ///   cannot be guessed) is not counted, so a guess never costs the
    ///   server a synchronous write and never locks anything;
    /// * the same [`Decision::client_answer`] (refused); only the reason for
    ///   the host's log differs.
    ///
    /// Only a *valid* application password goes on, to the checks of its
    /// protocol and scope and to the (coalesced) write of its last use.
    fn unauthenticated(
        &self,
        id: &AccountId,
        record: Option<&[u8]>,
        platform: Option<&[u8]>,
        credential: Credential<'_>,
        protocol: &Protocol,
        now: u64,
    ) -> Result<Decision> {
        let wrong_password = Decision::deny(DenyReason::WrongPassword);
        let Credential::AppPassword(input) = credential else {
            return Ok(wrong_password);
        };
        let Some(canonical) = codes::canonical_app_password(input) else {
            return Ok(wrong_password);
        };
        let clients = self.store.load(&id.clients_key())?;
        let clients = clients.as_ref().map(|r| r.bytes.as_slice());
        if clients.is_none() {
            // The decoding a clients record costs, for an account without.
            self.open_decoy_clients()?;
        }
        let account = match record {
            Some(bytes) => Some(self.open_account(id, bytes)?),
            // The decoding an account with 2FA costs, for one without.
            None => self.open_decoy().map(|()| None)?,
        };
        let generation = account.as_ref().map_or(0, |a| a.generation);
        let stored = self.clients_of(id, clients, generation)?;
        // Tagged even without 2FA (under the empty record's zero salt): the
        // same work either way.
        let tag = codes::tag(&stored.app_salt, &canonical);
        let found = matching_app_password(&stored, &tag).is_some();
        let Some(account) = account else {
            return Ok(wrong_password);
        };
        let platform = self.platform_from(&id.platform, platform)?;
        if !platform.enabled {
            return Ok(wrong_password);
        }
        let policy = protocol::effective_policy(&account.policies, &platform.policies, protocol);
        if policy == ProtocolPolicy::Refused {
            return Ok(Decision::deny(DenyReason::ProtocolRefused));
        }
        if !protocol::accepts_app_passwords(policy, protocol) {
            return Ok(Decision::deny(DenyReason::AppPasswordNotAccepted));
        }
        if !found {
            return Ok(Decision::deny(DenyReason::WrongAppPassword));
        }
        self.app_password_login(id, &account, &canonical, protocol, now)
    }

    /// A valid application password (as read a moment ago): checked again
    /// in the read-modify-write (it may have been revoked since), limited
    /// to its scope, its last use written at most once per
    /// [`super::DevicePolicy::seen_interval`].
    fn app_password_login(
        &self,
        id: &AccountId,
        account: &Account,
        canonical: &str,
        protocol: &Protocol,
        now: u64,
    ) -> Result<Decision> {
        let seen_interval = self.config.devices.seen_interval;
        self.update_clients(id, account.generation, |clients| {
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

    /// Makes an application password (S16) named `name` (1 to 64 bytes,
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

    /// Sets (`Some`) or clears (`None`) a platform's policy for a protocol
    /// (S15). The platform record is created (2FA off) if needed. The portal
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

/// Protocols an application password may be limited to, at most.
const MAX_SCOPE: usize = 16;

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

/// The application password whose tag is `tag`, if any. Every stored tag
/// is compared, in constant time.
fn matching_app_password(clients: &Clients, tag: &[u8; codes::TAG_LEN]) -> Option<usize> {
    let mut found = None;
    for (index, app) in clients.apps.iter().enumerate() {
        if codes::tags_equal(&app.tag, tag) {
            found = Some(index);
        }
    }
    found
}

/// The answer for an account without (active) 2FA: the host's password
/// verdict.
fn without_second_factor(credential: Credential<'_>, cacheable: bool) -> Decision {
    if credential.password_correct() {
        Decision::Allow {
            reason: AllowReason::NoSecondFactor,
            cacheable,
        }
    } else {
        Decision::deny(DenyReason::WrongPassword)
    }
}
