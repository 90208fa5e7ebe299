//! The per-account record of mail clients: device tokens (S12, S14),
//! device bindings and application passwords (S16).
//!
//! It lives under its own key, beside the account record, so that the
//! account's hot path (a TOTP login) does not rewrite it and a device login
//! does not rewrite the secret. It belongs to one *generation* of the
//! account's 2FA: when 2FA is removed (or reset with
//! [`super::DevicePolicy::reset_revokes_clients`]), the account gets a new
//! generation and every token, binding and application password of the old
//! one is dead at once, in that single atomic write.

use super::account::Lockout;
use super::codes::{SALT_LEN, TAG_LEN};
use super::device::DeviceId;
use super::protocol::Protocol;
use crate::error::Result;
use crate::record::{self, Reader, RecordError, Writer};

pub(crate) const CLIENTS_KIND: u8 = 3;

/// Device tokens per mailbox, pending and active together: bounds the
/// record (and what an attacker holding the password can make us store).
pub const MAX_DEVICES: usize = 32;
/// Device bindings kept per mailbox; the oldest is forgotten first.
pub const MAX_BINDINGS: usize = 16;
/// Application passwords per mailbox.
pub const MAX_APP_PASSWORDS: usize = 16;

/// Where a device token stands (S12, S14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceState {
    /// Seen with the right password, not (or no longer) authorized: blocked.
    Inactive,
    /// Authorized by the user: gets in with the password.
    Active,
}

/// A device token, as the portal lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceToken {
    /// The token's identifier (its fingerprint).
    pub id: DeviceId,
    /// Blocked or authorized.
    pub state: DeviceState,
    /// The protocol it uses.
    pub protocol: Protocol,
    /// The device id it sent, as sent.
    pub device_id: Option<String>,
    /// The device type it sent.
    pub device_type: Option<String>,
    /// The user agent it sent (the latest one).
    pub user_agent: Option<String>,
    /// The address it last came from.
    pub remote_addr: Option<String>,
    /// First login attempt seen.
    pub first_seen: u64,
    /// Last login attempt seen (updated at most once per
    /// [`super::DevicePolicy::seen_interval`]).
    pub last_seen: u64,
    /// When the user was last notified about it.
    pub notified_at: Option<u64>,
}

/// An application password, as listed (never the password itself).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppPasswordInfo {
    /// Its number in the account (for revoking).
    pub id: u32,
    /// The name the user gave it (`"iPhone mail"`).
    pub name: String,
    /// The protocols it may be used on; empty: any that accepts
    /// application passwords.
    pub scope: Vec<Protocol>,
    /// When it was made.
    pub created: u64,
    /// When it last got a client in (updated at most once per
    /// [`super::DevicePolicy::seen_interval`]).
    pub last_used: Option<u64>,
}

impl AppPasswordInfo {
    /// Whether it may be used on `protocol`.
    pub fn allows(&self, protocol: &Protocol) -> bool {
        self.scope.is_empty() || self.scope.contains(protocol)
    }
}

/// `Debug` shows the listing, never the tag (a keyed hash of the password).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct AppPassword {
    pub(crate) info: AppPasswordInfo,
    pub(crate) tag: [u8; TAG_LEN],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Binding {
    pub(crate) key: [u8; 16],
    pub(crate) until: u64,
}

/// `Debug` leaves out the application-password salt and tags.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Clients {
    pub(crate) generation: u64,
    pub(crate) devices: Vec<DeviceToken>,
    pub(crate) bindings: Vec<Binding>,
    /// One salt for every application password tag, so that a presented
    /// password is hashed once and compared against all of them.
    pub(crate) app_salt: [u8; SALT_LEN],
    pub(crate) apps: Vec<AppPassword>,
    pub(crate) next_app_id: u32,
    /// Kept for the record format only: wrong application passwords are no
    /// longer counted (issue 14, point 5: a guess must not cost a write),
    /// so nothing sets it and no decision reads it.
    pub(crate) app_failures: Lockout,
}

impl core::fmt::Debug for AppPassword {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AppPassword")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl core::fmt::Debug for Clients {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Clients")
            .field("generation", &self.generation)
            .field("devices", &self.devices)
            .field("bindings", &self.bindings.len())
            .field("apps", &self.apps)
            .field("next_app_id", &self.next_app_id)
            .field("app_failures", &self.app_failures)
            .finish_non_exhaustive()
    }
}

impl Clients {
    pub(crate) fn empty(generation: u64, app_salt: [u8; SALT_LEN]) -> Self {
        Self {
            generation,
            devices: Vec::new(),
            bindings: Vec::new(),
            app_salt,
            apps: Vec::new(),
            next_app_id: 1,
            app_failures: Lockout::default(),
        }
    }

    /// Drops what is dead at `now`: pending tokens not seen for `pending_ttl`,
    /// bindings past their end.
    pub(crate) fn prune(&mut self, now: u64, pending_ttl: u64) {
        self.devices.retain(|d| {
            d.state == DeviceState::Active || now < d.last_seen.saturating_add(pending_ttl)
        });
        self.bindings.retain(|b| now < b.until);
    }

    pub(crate) fn encode(&self) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let mut w = Writer::default();
        w.u64(self.generation);
        w.u8(self.devices.len().min(MAX_DEVICES) as u8);
        for d in self.devices.iter().take(MAX_DEVICES) {
            w.bytes(&d.id.0).u8(match d.state {
                DeviceState::Inactive => 1,
                DeviceState::Active => 2,
            });
            d.protocol.write(&mut w);
            for text in [&d.device_id, &d.device_type, &d.user_agent, &d.remote_addr] {
                w.opt_text(text.as_deref());
            }
            w.u64(d.first_seen).u64(d.last_seen).opt_u64(d.notified_at);
        }
        w.u8(self.bindings.len().min(MAX_BINDINGS) as u8);
        for b in self.bindings.iter().take(MAX_BINDINGS) {
            w.bytes(&b.key).u64(b.until);
        }
        w.bytes(&self.app_salt).u32(self.next_app_id);
        w.u8(self.apps.len().min(MAX_APP_PASSWORDS) as u8);
        for app in self.apps.iter().take(MAX_APP_PASSWORDS) {
            let info = &app.info;
            w.u32(info.id).bytes(info.name.as_bytes());
            w.u8(info.scope.len().min(usize::from(u8::MAX)) as u8);
            for protocol in info.scope.iter().take(usize::from(u8::MAX)) {
                protocol.write(&mut w);
            }
            w.bytes(&app.tag).u64(info.created).opt_u64(info.last_used);
        }
        w.u32(self.app_failures.failures)
            .opt_u64(self.app_failures.locked_until)
            .u32(self.app_failures.level);
        Ok(record::encode(CLIENTS_KIND, &w.finish()?))
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(record::decode(bytes, CLIENTS_KIND)?);
        let generation = r.u64()?;
        let count = bounded(r.u8()?, MAX_DEVICES)?;
        let mut devices = Vec::with_capacity(count);
        for _ in 0..count {
            let id = DeviceId(r.array()?);
            let state = match r.u8()? {
                1 => DeviceState::Inactive,
                2 => DeviceState::Active,
                _ => return Err(RecordError::Payload("unknown device state").into()),
            };
            let protocol = Protocol::read(&mut r)?;
            let device_id = r.opt_text()?;
            let device_type = r.opt_text()?;
            let user_agent = r.opt_text()?;
            let remote_addr = r.opt_text()?;
            if devices.iter().any(|d: &DeviceToken| d.id == id) {
                return Err(RecordError::Payload("duplicate device").into());
            }
            devices.push(DeviceToken {
                id,
                state,
                protocol,
                device_id,
                device_type,
                user_agent,
                remote_addr,
                first_seen: r.u64()?,
                last_seen: r.u64()?,
                notified_at: r.opt_u64()?,
            });
        }
        let count = bounded(r.u8()?, MAX_BINDINGS)?;
        let bindings = (0..count)
            .map(|_| {
                Ok(Binding {
                    key: r.array()?,
                    until: r.u64()?,
                })
            })
            .collect::<Result<Vec<_>, RecordError>>()?;
        let app_salt = r.array()?;
        let next_app_id = r.u32()?;
        let count = bounded(r.u8()?, MAX_APP_PASSWORDS)?;
        let mut apps = Vec::with_capacity(count);
        for _ in 0..count {
            let id = r.u32()?;
            let name = String::from_utf8(r.bytes()?.to_vec())
                .map_err(|_| RecordError::Payload("name is not UTF-8"))?;
            let scope = (0..r.u8()?)
                .map(|_| Protocol::read(&mut r))
                .collect::<Result<Vec<_>, _>>()?;
            let tag = r.array()?;
            if id >= next_app_id || apps.iter().any(|a: &AppPassword| a.info.id == id) {
                return Err(RecordError::Payload("invalid application password id").into());
            }
            apps.push(AppPassword {
                info: AppPasswordInfo {
                    id,
                    name,
                    scope,
                    created: r.u64()?,
                    last_used: r.opt_u64()?,
                },
                tag,
            });
        }
        let app_failures = Lockout {
            failures: r.u32()?,
            locked_until: r.opt_u64()?,
            level: r.u32()?,
        };
        r.finish()?;
        Ok(Self {
            generation,
            devices,
            bindings,
            app_salt,
            apps,
            next_app_id,
            app_failures,
        })
    }
}

fn bounded(count: u8, max: usize) -> Result<usize, RecordError> {
    let count = usize::from(count);
    if count > max {
        return Err(RecordError::Payload("too many entries"));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_round_trip_and_refuse_other_records() {
        let mut clients = Clients::empty(42, [5; SALT_LEN]);
        assert_eq!(
            Clients::decode(&clients.encode().unwrap()).unwrap(),
            clients
        );
        clients.devices.push(DeviceToken {
            id: DeviceId([1; 16]),
            state: DeviceState::Active,
            protocol: Protocol::other("sieve").unwrap(),
            device_id: Some("ABC".into()),
            device_type: None,
            user_agent: Some("Outlook/16".into()),
            remote_addr: Some("2001:db8::1".into()),
            first_seen: 1,
            last_seen: 2,
            notified_at: Some(1),
        });
        clients.bindings.push(Binding {
            key: [2; 16],
            until: 99,
        });
        clients.apps.push(AppPassword {
            info: AppPasswordInfo {
                id: 1,
                name: "iPhone".into(),
                scope: vec![Protocol::Imap, Protocol::Smtp],
                created: 10,
                last_used: None,
            },
            tag: [3; TAG_LEN],
        });
        clients.next_app_id = 2;
        let bytes = clients.encode().unwrap();
        assert_eq!(Clients::decode(&bytes).unwrap(), clients);
        // Debug never shows the salt or a tag.
        let shown = format!("{clients:?}");
        assert!(
            shown.contains("iPhone") && !shown.contains("[3, 3, 3"),
            "{shown}"
        );
        assert!(!shown.contains("[5, 5, 5"), "{shown}");
        assert!(super::super::account::Platform::decode(&bytes).is_err());
        // An id not below next_app_id is a damaged record.
        clients.next_app_id = 1;
        assert!(Clients::decode(&clients.encode().unwrap()).is_err());
    }

    #[test]
    fn pruning_drops_stale_pending_tokens_and_ended_bindings() {
        let mut clients = Clients::empty(1, [0; SALT_LEN]);
        for (n, state) in [(1u8, DeviceState::Inactive), (2, DeviceState::Active)] {
            clients.devices.push(DeviceToken {
                id: DeviceId([n; 16]),
                state,
                protocol: Protocol::ActiveSync,
                device_id: None,
                device_type: None,
                user_agent: None,
                remote_addr: None,
                first_seen: 0,
                last_seen: 100,
                notified_at: None,
            });
        }
        clients.bindings.push(Binding {
            key: [0; 16],
            until: 150,
        });
        clients.prune(149, 50);
        assert_eq!((clients.devices.len(), clients.bindings.len()), (2, 1));
        clients.prune(150, 50);
        assert_eq!(clients.devices.len(), 1);
        assert_eq!(clients.devices[0].state, DeviceState::Active);
        assert!(clients.bindings.is_empty());
    }
}
