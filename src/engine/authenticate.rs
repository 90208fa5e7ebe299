//! One decision per login of a mail client, for every protocol:
//! [`Engine::authenticate`] weighs the protocol's policy, the host's
//! password verdict and the credential, then hands over to device tokens
//!, device binding, application passwords or the code
//! check. A failed password check is answered alike with or without 2FA.

use std::net::IpAddr;

use super::account::Account;
use super::account_id::AccountId;
use super::app_passwords::matching_app_password;
use super::codes;
use super::core::{ClientsRead, Engine, LoginChecks, LoginRecords, MAX_ATTEMPTS};
use super::decision::{AllowReason, Decision, DenyReason};
use super::device;
use super::login::CodeCheck;
use super::protocol::{self, Protocol, ProtocolPolicy};
use super::request::{Credential, LoginRequest};
use super::split;
use crate::error::{Error, Result};
use crate::store::{Loaded, Store, read_modify_write_from};

impl<S: Store> Engine<S> {
    /// The decision for a whole login: account, protocol, the
    /// host's password verdict, the credential, the client, `now`. Most
    /// hosts call [`Engine::check_login`] instead, which takes the password
    /// field as typed and the host's password check; this is for hosts that
    /// checked the password themselves — a form with a separate code field.
    ///
    /// * no 2FA: the host's password verdict decides (cacheable unless the
    ///   platform merely has 2FA off) — except on a platform where 2FA is
    ///   mandatory ([`EngineConfig::mandatory_platforms`]): refused,
    ///   [`DenyReason::NotEnrolled`];
    /// * the host's password check failed (a wrong password, with or without
    ///   a code, or [`Credential::AppPassword`]): the same store reads, no
    ///   write and the same client answer with or without 2FA (no oracle;
    ///   see `Engine::unauthenticated`);
    /// * 2FA suspended: as without 2FA; application passwords still work;
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
    ///   code binds the device for [`DevicePolicy::binding_period`]
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
    /// No decision here is cacheable once 2FA applies. A lockout stops
    /// codes and suspends bindings (otherwise a locked-out guesser could keep
    /// trying codes against the bound one); an activated device still gets in
    /// with the password, as the user authorized it, and so does a valid
    /// application password (a 100-bit random secret the lockout does not
    /// count; see lockout and application passwords in `docs/behaviour.md`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for client fields or credentials a client
    /// cannot honestly send; storage errors and unreadable records: refuse
    /// the login.
    ///
    /// [`EngineConfig::mandatory_platforms`]: crate::engine::EngineConfig::mandatory_platforms
    /// [`DevicePolicy::binding_period`]: crate::engine::DevicePolicy::binding_period
    pub fn authenticate(
        &self,
        id: &AccountId,
        request: &LoginRequest<'_>,
        now: u64,
    ) -> Result<Decision> {
        let addr = request.client.check()?;
        if let Credential::PasswordAndCode { code: text, .. } | Credential::AppPassword(text) =
            request.credential
        {
            split::check_login_input(text)?;
        }
        // One read of everything the decision may need — the account, its
        // platform, its clients record — in one call (one round trip on
        // PostgreSQL): the same reads with or without 2FA, whether or not
        // the host's password check passed (see `Engine::unauthenticated`).
        let loaded = self.load_login(id)?;
        self.decide_request(id, request, addr, loaded, now)
    }

    /// [`Engine::authenticate`] for a client whose fields were checked
    /// (`addr`: its address, parsed), on the records as just loaded. Each
    /// record is read again only after a lost race.
    pub(super) fn decide_request(
        &self,
        id: &AccountId,
        request: &LoginRequest<'_>,
        addr: Option<IpAddr>,
        loaded: LoginRecords,
        now: u64,
    ) -> Result<Decision> {
        let credential = request.credential;
        let LoginRecords {
            keys,
            record,
            platform,
            clients,
            opened,
            checks,
        } = loaded;
        let clients = ClientsRead {
            key: keys.clients(),
            record: clients,
            integrity: checks.clients,
        };
        let platform = platform.as_ref().map(Loaded::bytes);
        if !credential.password_correct() {
            let record = record.as_ref().map(Loaded::bytes);
            return self.unauthenticated(
                id,
                Read {
                    record,
                    platform,
                    clients,
                    checks,
                },
                credential,
                &request.protocol,
                now,
            );
        }
        let Some(record) = record else {
            if self.is_mandatory(&id.platform) {
                // Absence is not consent where 2FA is mandatory.
                return Ok(Decision::deny(DenyReason::NotEnrolled));
            }
            return Ok(without_second_factor(credential, true));
        };
        let account = match opened.account {
            Some(account) => account,
            None => self.open_account_with(id, record.bytes(), checks.record)?,
        };
        let platform = match opened.platform {
            Some(platform) => platform,
            None => self.platform_from_with(&id.platform, platform, checks.platform)?,
        };
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
                Some(device) => {
                    self.device_login(id, &account, device, clients, request, addr, now)
                }
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
                // Read with the account: to look for the binding, then to
                // write one.
                let clients = ClientsRead {
                    record: binding.as_ref().and(clients.record),
                    ..clients
                };
                if let (Some(key), Some(tag)) = (&binding, &tag) {
                    let trusted =
                        self.trusted_until(account.generation, &clients, key, tag, now)?;
                    if let Some(until) = trusted {
                        return Ok(Decision::Allow {
                            reason: AllowReason::DeviceTrusted { until },
                            cacheable: false,
                        });
                    }
                }
                // Not the bound string: the code is checked (a wrong one
                // counts toward the lockout; the last code used, from
                // elsewhere, is a replay).
                let generation = account.generation;
                let decision = self.second_factor(id, record, account, code, now)?;
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
                    self.bind(id, generation, clients, key, tag, now)?;
                }
                Ok(decision)
            }
        }
    }

    /// The code step of a login, from the account record as just loaded
    /// and opened (`account`: opened again only after a lost race; the
    /// platform is known to be on).
    fn second_factor(
        &self,
        id: &AccountId,
        record: Loaded,
        account: Account,
        code: Option<&str>,
        now: u64,
    ) -> Result<Decision> {
        let key = id.store_key();
        let mut opened = Some(account);
        read_modify_write_from(&self.store, &key, Some(record), MAX_ATTEMPTS, |bytes| {
            let account = match opened.take() {
                Some(account) => account,
                None => self.open_account(id, bytes.ok_or(Error::NotEnabled)?)?,
            };
            let (decision, next) = self.decide_login(id, account, code, now, CodeCheck::Login)?;
            self.write_if_changed(id, next, decision)
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
        Read {
            record,
            platform,
            clients: loaded,
            checks,
        }: Read<'_, '_>,
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
        let clients = loaded.record.as_ref().map(Loaded::bytes);
        if clients.is_none() {
            // The decoding a clients record costs, for an account without.
            self.open_decoy_clients(loaded.integrity)?;
        }
        let account = match record {
            Some(bytes) => Some(self.open_account_with(id, bytes, checks.record)?),
            // The decoding an account with 2FA costs, for one without.
            None => self.open_decoy(checks.record).map(|()| None)?,
        };
        let generation = account.as_ref().map_or(0, |a| a.generation);
        let stored = self.clients_of(loaded.key, clients, loaded.integrity, generation)?;
        // Tagged even without 2FA (under the empty record's zero salt): the
        // same work either way.
        let tag = codes::tag(&stored.app_salt, &canonical);
        let found = matching_app_password(&stored, &tag).is_some();
        let Some(account) = account else {
            return Ok(wrong_password);
        };
        let platform = self.platform_from_with(&id.platform, platform, checks.platform)?;
        if !platform.enabled {
            return Ok(wrong_password);
        }
        let policy = protocol::effective_policy(&account.policies, &platform.policies, protocol);
        if policy == ProtocolPolicy::Refused {
            return Ok(Decision::deny(DenyReason::ProtocolRefused));
        }
        if !policy.accepts_app_passwords_on(protocol) {
            return Ok(Decision::deny(DenyReason::AppPasswordNotAccepted));
        }
        if !found {
            return Ok(Decision::deny(DenyReason::WrongAppPassword));
        }
        self.app_password_login(id, &account, loaded, &canonical, protocol, now)
    }
}

/// The records a login read, for [`Engine::unauthenticated`].
struct Read<'a, 'k> {
    /// The account's record.
    record: Option<&'a [u8]>,
    /// Its platform's.
    platform: Option<&'a [u8]>,
    /// Its clients record.
    clients: ClientsRead<'k>,
    /// Whether the store vouched for each.
    checks: LoginChecks,
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

#[cfg(test)]
mod tests {
    use super::super::clients::{CLIENTS_KIND, Clients, encode_v1};
    use super::super::config::EngineConfig;
    use super::super::device::ClientInfo;
    use super::*;

    /// The in-memory store vouches for the records a login reads, so their
    /// checksums are not computed again; a store that does not vouch (the
    /// default, as files and databases) gets every one checked; and bytes
    /// that fail the check are never vouched for, so a
    /// damaged record still refuses the login.
    #[test]
    fn only_what_the_store_vouches_for_skips_the_checksum() {
        use crate::record::Integrity;
        use crate::store::{CasOutcome, MemoryStore, StoreError, Versioned};
        use crate::{KeyUri, Totp};

        /// A store that keeps the trait's defaults: it vouches for nothing.
        struct Unvouched(MemoryStore);
        impl Store for Unvouched {
            fn load(&self, key: &[u8]) -> core::result::Result<Option<Versioned>, StoreError> {
                self.0.load(key)
            }
            fn compare_and_swap(
                &self,
                key: &[u8],
                expected: Option<u64>,
                new: Option<&[u8]>,
            ) -> core::result::Result<CasOutcome, StoreError> {
                self.0.compare_and_swap(key, expected, new)
            }
        }

        fn enrolled<S: Store>(engine: &Engine<S>, id: &AccountId, now: u64) {
            engine.enable_platform("example.com", true).unwrap();
            let uri = KeyUri::parse(&engine.enable_account(id, now).unwrap()).unwrap();
            let totp = Totp::new(uri.secret(), uri.totp_config().unwrap());
            let code = totp.generate_at_step(now / 30);
            engine.confirm_enrollment(id, code.as_str(), now).unwrap();
            let outlook =
                LoginRequest::new(Protocol::Outlook, Credential::Password { correct: true })
                    .with_client(ClientInfo::new().with_device_type("WindowsOutlook15"));
            let Decision::DevicePending { device, .. } =
                engine.authenticate(id, &outlook, now).unwrap()
            else {
                panic!("a new device is pending");
            };
            engine.activate_device(id, &device, now).unwrap();
        }
        let checks = |checks: LoginChecks| [checks.record, checks.platform, checks.clients];
        let now = 1_800_000_000;
        let alice = AccountId::new("example.com", "alice@example.com").unwrap();
        let dave = AccountId::new("example.com", "dave@example.com").unwrap();

        let memory = Engine::new(MemoryStore::new(), EngineConfig::default()).unwrap();
        enrolled(&memory, &alice, now);
        let loaded = memory.load_login(&alice).unwrap();
        assert!(loaded.clients.is_some());
        assert_eq!(checks(loaded.checks), [Integrity::Vouched; 3]);
        // An account without 2FA — also on a platform without a record
        // (a mandatory one needs none): its decoys are opened as vouched
        // for, as an enrolled account's records would be.
        let elsewhere = AccountId::new("other.example", "erin@other.example").unwrap();
        for id in [&dave, &elsewhere] {
            let absent = memory.load_login(id).unwrap();
            assert!(absent.record.is_none() && absent.clients.is_none());
            assert_eq!(checks(absent.checks)[0], Integrity::Vouched, "{id:?}");
            assert_eq!(checks(absent.checks)[2], Integrity::Vouched, "{id:?}");
        }

        let unvouched =
            Engine::new(Unvouched(MemoryStore::new()), EngineConfig::default()).unwrap();
        enrolled(&unvouched, &alice, now);
        assert_eq!(
            checks(unvouched.load_login(&alice).unwrap().checks),
            [Integrity::Compute; 3]
        );
        assert_eq!(
            checks(unvouched.load_login(&dave).unwrap().checks),
            [Integrity::Compute; 3]
        );

        // The account's record with its last (checksum) byte changed,
        // written into the in-memory store: not vouched for, and refused.
        let key = alice.store_key();
        let stored = memory.store().load(&key).unwrap().unwrap();
        let mut damaged = stored.bytes.to_vec();
        *damaged.last_mut().unwrap() ^= 0x01;
        memory
            .store()
            .compare_and_swap(&key, Some(stored.version), Some(&damaged))
            .unwrap();
        assert_eq!(
            memory.load_login(&alice).unwrap().checks.record,
            Integrity::Compute
        );
        let outlook = LoginRequest::new(Protocol::Outlook, Credential::Password { correct: true })
            .with_client(ClientInfo::new().with_device_type("WindowsOutlook15"));
        assert!(matches!(
            memory.authenticate(&alice, &outlook, now + 1),
            Err(Error::Record(crate::record::RecordError::Checksum))
        ));
    }

    /// Through the engine: a binding stored in format version 1 (no code
    /// tag) trusts no one, not even the string it was made with; a new code
    /// login binds again, in version 2.
    #[test]
    fn an_old_format_binding_trusts_no_one() {
        use crate::store::{MemoryStore, Store};
        use crate::{KeyUri, Totp};

        let engine = Engine::new(MemoryStore::new(), EngineConfig::default()).unwrap();
        engine.enable_platform("example.com", true).unwrap();
        engine
            .set_platform_policy(
                "example.com",
                &Protocol::Imap,
                Some(ProtocolPolicy::CodeInLogin),
            )
            .unwrap();
        let id = AccountId::new("example.com", "alice@example.com").unwrap();
        let uri = KeyUri::parse(&engine.enable_account(&id, 1_799_990_000).unwrap()).unwrap();
        let totp = Totp::new(uri.secret(), uri.totp_config().unwrap());
        let code = |t: u64| totp.generate_at_step(t / 30).as_str().to_owned();
        assert!(
            engine
                .login(&id, Some(&code(1_799_990_000)), 1_799_990_000)
                .unwrap()
                .is_allowed()
        );
        let client = ClientInfo {
            user_agent: Some("Thunderbird/115.3"),
            remote_addr: Some("203.0.113.7"),
            ..ClientInfo::default()
        };
        let (t1, t2) = (1_800_000_000, 1_800_003_600);
        let (c1, c2) = (code(t1), code(t2));
        let login = |code: &str, now| {
            let credential = Credential::PasswordAndCode {
                correct: true,
                code,
            };
            let request = LoginRequest {
                protocol: Protocol::Imap,
                credential,
                client,
            };
            engine.authenticate(&id, &request, now).unwrap()
        };
        assert!(login(&c1, t1).is_allowed());
        // Rewritten as mail2fa wrote it before: the binding without its tag.
        let key = id.clients_key();
        let stored = engine.store().load(&key).unwrap().unwrap();
        let clients = Clients::decode(&stored.bytes).unwrap();
        assert_eq!(clients.bindings.len(), 1);
        let old = encode_v1(&clients);
        engine
            .store()
            .compare_and_swap(&key, Some(stored.version), Some(&old))
            .unwrap();
        let refused = login(&c1, t1 + 60);
        assert_eq!(refused, Decision::deny(DenyReason::Replayed), "{refused:?}");
        // A new code login binds again, in the new format.
        assert!(login(&c2, t2).is_allowed());
        assert_eq!(
            engine.store().load(&key).unwrap().unwrap().bytes[5],
            CLIENTS_KIND
        );
        let trusted = login(&c2, t2 + 60);
        assert!(
            matches!(
                trusted,
                Decision::Allow {
                    reason: AllowReason::DeviceTrusted { .. },
                    ..
                }
            ),
            "{trusted:?}"
        );
    }
}
