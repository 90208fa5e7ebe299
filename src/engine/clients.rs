//! The per-account record of mail clients: device tokens,
//! device bindings and application passwords.
//!
//! It lives under its own key, beside the account record, so that the
//! account's hot path (a TOTP login) does not rewrite it and a device login
//! does not rewrite the secret. It belongs to one *generation* of the
//! account's 2FA: when 2FA is removed (or reset with
//! [`DevicePolicy::reset_revokes_clients`]), the account gets a new
//! generation and every token, binding and application password of the old
//! one is dead at once, in that single atomic write.
//!
//! # Sealing
//!
//! The record says which devices and programs a person uses and from where
//! (device ids, user agents, addresses, application-password names). With
//! encryption keys configured ([`EngineConfig::encryption`]) it is
//! sealed like an account record (see `seal.rs`), authenticated with its
//! own store key, so a sealed clients record copied under another account
//! does not open. A plain clients record is then refused like a plain
//! account record ([`EngineConfig::require_sealed`], on by default);
//! [`Engine::seal_records`] (`mail2fa db seal`) seals a store written
//! before keys were configured. With `require_sealed` off (a migration), a
//! plain one is read, and sealed at its next write or by
//! [`Engine::maintain`].
//!
//! # Format versions
//!
//! Version 2 (record kind 6) keeps, per device binding, the tag of the
//! code it was earned with. Version 1 (kind 3) bindings had none: they are
//! read as no binding at all (they trust no one), the rest of the record
//! is kept, and the next write is version 2. A mail2fa that knows only
//! version 1 refuses a version-2 record (wrong kind): it fails closed.
//!
//! [`DevicePolicy::reset_revokes_clients`]: crate::engine::DevicePolicy::reset_revokes_clients
//! [`EngineConfig::encryption`]: crate::engine::EngineConfig::encryption
//! [`EngineConfig::require_sealed`]: crate::engine::EngineConfig::require_sealed
//! [`Engine::seal_records`]: crate::engine::Engine::seal_records
//! [`Engine::maintain`]: crate::engine::Engine::maintain

use super::account::Lockout;
use super::codes::{SALT_LEN, TAG_LEN};
use super::device::{BINDING_CODE_LEN, DeviceId};
use super::protocol::Protocol;
use crate::error::Result;
use crate::record::{self, Integrity, Reader, RecordError, Writer};

/// Record kind of the clients record (format version 2: bindings carry the
/// tag of their code).
pub(crate) const CLIENTS_KIND: u8 = 6;
/// Record kind of the first clients record format (bindings without a code
/// tag): still read, its bindings dropped.
pub(crate) const CLIENTS_V1_KIND: u8 = 3;

/// Device tokens per mailbox, pending and active together: bounds the
/// record (and what an attacker holding the password can make us store).
pub const MAX_DEVICES: usize = 32;
/// Device bindings kept per mailbox; the oldest is forgotten first.
pub const MAX_BINDINGS: usize = 16;
/// Application passwords per mailbox.
pub const MAX_APP_PASSWORDS: usize = 16;

/// Where a device token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceState {
    /// Seen with the right password, not (or no longer) authorized: blocked.
    Inactive,
    /// Authorized by the user: gets in with the password.
    Active,
}

impl DeviceState {
    /// The state's stable name: `inactive` (blocked) or `active`.
    ///
    /// ```
    /// use mail2fa::engine::DeviceState;
    ///
    /// assert_eq!(DeviceState::Inactive.name(), "inactive");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Inactive => "inactive",
            Self::Active => "active",
        }
    }
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
    /// [`DevicePolicy::seen_interval`]).
    ///
    /// [`DevicePolicy::seen_interval`]: crate::engine::DevicePolicy::seen_interval
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
    /// [`DevicePolicy::seen_interval`]).
    ///
    /// [`DevicePolicy::seen_interval`]: crate::engine::DevicePolicy::seen_interval
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

/// A device binding: the device on its network (its key), until when, and
/// the tag of the code it was earned with — the client must present that
/// same code again. `Debug` leaves the tag out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Binding {
    pub(crate) key: [u8; 16],
    pub(crate) until: u64,
    pub(crate) code: [u8; BINDING_CODE_LEN],
}

impl core::fmt::Debug for Binding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Binding")
            .field("until", &self.until)
            .finish_non_exhaustive()
    }
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
            w.bytes(&b.key).u64(b.until).bytes(&b.code);
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

    /// [`Clients::decode_with`], the integrity check computed.
    #[cfg(test)]
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        Self::decode_with(bytes, Integrity::Compute)
    }

    /// [`Clients::decode_with`] without the device tokens' texts (see
    /// [`Skimmed`]): every check of [`Clients::decode_with`], fewer allocations.
    pub(crate) fn skim_with(bytes: &[u8], integrity: Integrity) -> Result<Skimmed> {
        Self::decode_in(bytes, integrity, Texts::Skip).map(Skimmed)
    }

    /// Reads a plain clients record of either format version (see the
    /// module documentation), computing the integrity check as `integrity`
    /// says.
    pub(crate) fn decode_with(bytes: &[u8], integrity: Integrity) -> Result<Self> {
        Self::decode_in(bytes, integrity, Texts::Keep)
    }

    fn decode_in(bytes: &[u8], integrity: Integrity, texts: Texts) -> Result<Self> {
        let (payload, version) = match record::decode_with(bytes, CLIENTS_KIND, integrity) {
            Ok(payload) => (payload, 2),
            Err(RecordError::WrongKind {
                found: CLIENTS_V1_KIND,
                ..
            }) => (record::decode_with(bytes, CLIENTS_V1_KIND, integrity)?, 1),
            Err(other) => return Err(other.into()),
        };
        let mut r = Reader::new(payload);
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
            let mut text = || -> Result<Option<String>, RecordError> {
                let text = r.opt_str()?;
                Ok(text.filter(|_| texts == Texts::Keep).map(str::to_owned))
            };
            let (device_id, device_type, user_agent, remote_addr) =
                (text()?, text()?, text()?, text()?);
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
        let mut bindings = Vec::with_capacity(count);
        for _ in 0..count {
            let (key, until) = (r.array()?, r.u64()?);
            if version == 1 {
                // No code to ask for: such a binding trusts no one.
                continue;
            }
            bindings.push(Binding {
                key,
                until,
                code: r.array()?,
            });
        }
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

/// Whether a decoding keeps the device tokens' texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Texts {
    Keep,
    /// Checked (UTF-8), then left out: [`Skimmed`].
    Skip,
}

/// A clients record decoded for a look at its devices only: checked as in
/// full, but without the device tokens' texts (device id and type, user
/// agent, address: each `None`), which are most of a decoding's
/// allocations. It cannot be encoded, so it is never written back in
/// place of the record.
#[derive(Debug)]
pub(crate) struct Skimmed(Clients);

impl Skimmed {
    /// The generation it belongs to.
    pub(crate) fn generation(&self) -> u64 {
        self.0.generation
    }

    /// Its device tokens, without their texts.
    pub(crate) fn devices(&self) -> &[DeviceToken] {
        &self.0.devices
    }
}

fn bounded(count: u8, max: usize) -> Result<usize, RecordError> {
    let count = usize::from(count);
    if count > max {
        return Err(RecordError::Payload("too many entries"));
    }
    Ok(count)
}

/// The payload of `clients` in format version 1 (bindings without a
/// code tag), as mail2fa wrote it before (for tests here and in
/// `authenticate.rs`).
#[cfg(test)]
pub(super) fn encode_v1(clients: &Clients) -> zeroize::Zeroizing<Vec<u8>> {
    let v2 = clients.encode().unwrap();
    let mut payload = record::decode(&v2, CLIENTS_KIND).unwrap().to_vec();
    // Every binding's tag (a 2-byte length and 32 bytes) follows its
    // key (2 + 16 bytes) and end (8); cut them out, last first.
    let tag = 2 + BINDING_CODE_LEN;
    let mut at = v2_bindings_start(clients);
    let mut cuts = Vec::new();
    for _ in &clients.bindings {
        at += 2 + 16 + 8;
        cuts.push(at);
        at += tag;
    }
    for cut in cuts.into_iter().rev() {
        payload.drain(cut..cut + tag);
    }
    record::encode(CLIENTS_V1_KIND, &payload)
}

/// Where the bindings start in the payload of `clients`: just after
/// the binding count, the first byte where the payloads with and
/// without its bindings differ.
#[cfg(test)]
fn v2_bindings_start(clients: &Clients) -> usize {
    let mut none = clients.clone();
    none.bindings.clear();
    let (none, with) = (none.encode().unwrap(), clients.encode().unwrap());
    let none = record::decode(&none, CLIENTS_KIND).unwrap();
    let with = record::decode(&with, CLIENTS_KIND).unwrap();
    none.iter().zip(with).take_while(|(a, b)| a == b).count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record with one of each: device token, binding, application
    /// password.
    fn sample() -> Clients {
        let mut clients = Clients::empty(42, [5; SALT_LEN]);
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
            code: [4; BINDING_CODE_LEN],
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
        clients
    }

    #[test]
    fn clients_round_trip_and_refuse_other_records() {
        let empty = Clients::empty(42, [5; SALT_LEN]);
        assert_eq!(Clients::decode(&empty.encode().unwrap()).unwrap(), empty);
        let mut clients = sample();
        let bytes = clients.encode().unwrap();
        assert_eq!(Clients::decode(&bytes).unwrap(), clients);
        // Debug never shows the salt or a tag.
        let shown = format!("{clients:?}");
        assert!(
            shown.contains("iPhone") && !shown.contains("[3, 3, 3"),
            "{shown}"
        );
        assert!(!shown.contains("[5, 5, 5"), "{shown}");
        assert!(!format!("{:?}", clients.bindings[0]).contains("4, 4, 4"));
        assert!(super::super::account::Platform::decode(&bytes).is_err());
        // An id not below next_app_id is a damaged record.
        clients.next_app_id = 1;
        assert!(Clients::decode(&clients.encode().unwrap()).is_err());
    }

    /// A skimmed record is checked as the full one: for every byte of the
    /// payload changed three ways (re-framed, so that the checksum holds)
    /// and every cut, both refuse it with the same error or both read it,
    /// and then the same devices, without their texts.
    #[test]
    fn a_skimmed_record_is_checked_as_the_full_one() {
        let mut clients = sample();
        clients.devices.push(DeviceToken {
            id: DeviceId([9; 16]),
            state: DeviceState::Inactive,
            protocol: Protocol::Outlook,
            device_id: None,
            device_type: Some("WindowsOutlook15".into()),
            user_agent: Some("Microsoft Outlook 16.0".into()),
            remote_addr: None,
            first_seen: 3,
            last_seen: 4,
            notified_at: None,
        });
        let encoded = clients.encode().unwrap();
        let payload = record::decode(&encoded, CLIENTS_KIND).unwrap();
        let agree = |bytes: &[u8]| {
            let full = Clients::decode_with(bytes, Integrity::Compute);
            let skimmed = Clients::skim_with(bytes, Integrity::Compute);
            match (full, skimmed) {
                (Ok(full), Ok(skimmed)) => {
                    assert_eq!(skimmed.generation(), full.generation);
                    let without_texts: Vec<_> = full
                        .devices
                        .into_iter()
                        .map(|d| DeviceToken {
                            device_id: None,
                            device_type: None,
                            user_agent: None,
                            remote_addr: None,
                            ..d
                        })
                        .collect();
                    assert_eq!(skimmed.devices(), without_texts);
                    true
                }
                (Err(full), Err(skimmed)) => {
                    assert_eq!(full.to_string(), skimmed.to_string());
                    false
                }
                (full, skimmed) => panic!("full {full:?}, skimmed {skimmed:?}"),
            }
        };
        assert!(agree(&encoded));
        let skimmed = Clients::skim_with(&encoded, Integrity::Compute).unwrap();
        assert_eq!(skimmed.devices().len(), 2);
        let mut refused = 0;
        for i in 0..payload.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut changed = payload.to_vec();
                changed[i] ^= flip;
                refused += usize::from(!agree(&record::encode(CLIENTS_KIND, &changed)));
            }
        }
        for cut in 0..payload.len() {
            assert!(!agree(&record::encode(CLIENTS_KIND, &payload[..cut])));
        }
        // Some changes are still a record (a time, a salt), many are not
        // (a bad UTF-8 text, a count, a tag): both kinds were tried.
        let tried = 3 * payload.len();
        assert!(
            refused >= 100 && tried - refused >= 100,
            "{refused} of {tried}"
        );
    }

    #[test]
    fn version_1_records_keep_everything_but_their_bindings() {
        let mut clients = Clients::empty(7, [5; SALT_LEN]);
        clients.devices.push(DeviceToken {
            id: DeviceId([1; 16]),
            state: DeviceState::Active,
            protocol: Protocol::ActiveSync,
            device_id: Some("ABC".into()),
            device_type: None,
            user_agent: None,
            remote_addr: None,
            first_seen: 1,
            last_seen: 2,
            notified_at: None,
        });
        for n in 0..3u8 {
            clients.bindings.push(Binding {
                key: [n; 16],
                until: 1_000 + u64::from(n),
                code: [n; BINDING_CODE_LEN],
            });
        }
        let v1 = encode_v1(&clients);
        assert_eq!(v1[5], CLIENTS_V1_KIND);
        let read = Clients::decode(&v1).unwrap();
        assert!(read.bindings.is_empty());
        let mut expected = clients.clone();
        expected.bindings.clear();
        assert_eq!(read, expected);
        // Written back: version 2.
        assert_eq!(read.encode().unwrap()[5], CLIENTS_KIND);
        // Another kind is still refused.
        let other = record::encode(4, record::decode(&v1, CLIENTS_V1_KIND).unwrap());
        assert!(Clients::decode(&other).is_err());
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
            code: [0; BINDING_CODE_LEN],
        });
        clients.prune(149, 50);
        assert_eq!((clients.devices.len(), clients.bindings.len()), (2, 1));
        clients.prune(150, 50);
        assert_eq!(clients.devices.len(), 1);
        assert_eq!(clients.devices[0].state, DeviceState::Active);
        assert!(clients.bindings.is_empty());
    }
}
