//! Sequences of mail-client logins (`Engine::authenticate`) interleaved with
//! the portal's device and application-password operations and policy
//! changes, on one engine over the memory store, checked against a model
//! after every step:
//!
//! 1. no token is *ACTIVE* unless an activation of it succeeded and no
//!    deactivation or deletion came after (and every such token is listed
//!    as *ACTIVE*: nothing here changes the account's generation);
//! 2. *INACTIVE* tokens never exceed `max_pending` (see [`strict`] for
//!    the ones the user deactivated), all tokens never exceed
//!    `MAX_DEVICES`;
//! 3. `Allow { DeviceAuthorized { device } }` only for a device the model
//!    has as active, and only where the protocol's policy is device
//!    authorization; `DevicePending` leaves that device listed as
//!    *INACTIVE*; an application password only gets in while it is not
//!    revoked, as itself, where the policy takes application passwords;
//! 4. the only errors are `InvalidInput`, `NotFound`, `LimitReached` and
//!    `InvalidConfig`: a storage or record error on the memory store is a
//!    bug;
//! 5. wrong application passwords never lock code logins: a code login is
//!    only refused as locked after wrong codes.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mail2fa::engine::{
    AccountId, AllowReason, ClientInfo, Credential, Decision, DenyReason, DeviceId, DeviceKey,
    DevicePolicy, DeviceState, DeviceToken, Engine, EngineConfig, LoginRequest, MAX_DEVICES,
    Protocol, ProtocolPolicy,
};
use mail2fa::store::MemoryStore;
use mail2fa::{Error, KeyUri, Totp};

const PLATFORM: &str = "example.com";
const ACCOUNT: &str = "alice@example.com";
const START: u64 = 1_800_000_000;
/// Time never goes past this (year ~2318): far beyond any real clock,
/// well inside what TOTP steps can represent.
const END_OF_TIME: u64 = 1 << 33;

/// Whether invariant 2 also counts the tokens the user deactivated
/// (`DEVICE_LOGINS_STRICT=1`).
///
/// `deactivate_device` turns an *ACTIVE* token back into an *INACTIVE* one
/// without looking at `max_pending`, so once the user deactivates devices a
/// mailbox can hold more pending tokens than `DevicePolicy::max_pending`
/// says it "may hold". That breaks the bound at once and would hide
/// everything else, so by default the bound only counts the pending tokens
/// that logins made; strict mode bounds every *INACTIVE* token.
fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("DEVICE_LOGINS_STRICT").is_some_and(|v| v != "0"))
}

/// `DEVICE_LOGINS_TRACE=1` prints every step (to see what a seed does).
fn trace(step: core::fmt::Arguments<'_>) {
    static TRACE: OnceLock<bool> = OnceLock::new();
    if *TRACE.get_or_init(|| std::env::var_os("DEVICE_LOGINS_TRACE").is_some()) {
        eprintln!("{step}");
    }
}

/// Values that come back, so that devices recur.
const DEVICE_IDS: [&str; 4] = [
    "ApplF17XK2QJHG7F",
    "androidc1234567",
    "  applf17xk2qjhg7f ",
    "",
];
const DEVICE_TYPES: [&str; 4] = ["iPhone", "WindowsOutlook15", "Android", "iphone"];
const USER_AGENTS: [&str; 5] = [
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18025; Pro)",
    "Apple-iPhone14C2/2104.100",
    "Outlook-iOS/2.0",
    "   ",
];
const ADDRESSES: [&str; 5] = [
    "203.0.113.7",
    "203.0.113.200",
    "198.51.100.20",
    " 2001:db8:1:2::1 ",
    "2001:db8:1:3::1",
];
/// Host-named protocols (the last two are standard names, which
/// `Protocol::other` refuses).
const OTHER_PROTOCOLS: [&str; 5] = ["ManageSieve", "sieve", "caldav", "IMAP", "outlook"];

/// A cursor over the fuzz input; reads past the end give zeros.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// A length byte, then that many bytes (or what is left).
    fn bytes(&mut self) -> &'a [u8] {
        let len = usize::from(self.u8()).min(self.0.len());
        let (head, tail) = self.0.split_at(len);
        self.0 = tail;
        head
    }

    /// Arbitrary bytes as (lossy) UTF-8.
    fn text(&mut self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }
}

/// An application password the model knows.
struct App {
    password: String,
    scope: Vec<Protocol>,
}

/// What the operations so far should have left.
#[derive(Default)]
struct Model {
    /// Devices whose activation succeeded, not deactivated or deleted since.
    active: BTreeSet<DeviceId>,
    /// Devices the user deactivated (with their `first_seen`, so that a
    /// token made again later by a login is not mistaken for them).
    deactivated: BTreeMap<DeviceId, u64>,
    /// Every device id a decision or a listing named.
    seen: Vec<DeviceId>,
    /// Live application passwords by id.
    apps: BTreeMap<u32, App>,
    /// Ids of revoked application passwords.
    revoked: BTreeSet<u32>,
    /// Whether a code login was refused for a wrong code (the only thing
    /// that may lock code logins).
    wrong_codes: bool,
    platform_policies: BTreeMap<String, ProtocolPolicy>,
    account_policies: BTreeMap<String, ProtocolPolicy>,
}

impl Model {
    fn policy(&self, protocol: &Protocol) -> ProtocolPolicy {
        let name = protocol.name();
        self.account_policies
            .get(name)
            .or_else(|| self.platform_policies.get(name))
            .copied()
            .unwrap_or_else(|| protocol.default_policy())
    }

    fn remember(&mut self, device: DeviceId) {
        if !self.seen.contains(&device) && self.seen.len() < 64 {
            self.seen.push(device);
        }
    }
}

/// Invariant 4: only errors about the input; anything else is a bug.
fn expected<T>(result: Result<T, Error>, what: &str) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(
            Error::InvalidInput(_)
            | Error::NotFound(_)
            | Error::LimitReached(_)
            | Error::InvalidConfig(_),
        ) => None,
        Err(other) => panic!("{what}: unexpected error {other:?}"),
    }
}

/// The canonical form of an application password (as the engine's):
/// separators dropped, lower case, Crockford look-alikes folded.
fn canonical(input: &str) -> String {
    input
        .bytes()
        .filter(|&b| b != b'-' && b != b' ')
        .map(|b| match b.to_ascii_lowercase() {
            b'o' => '0',
            b'i' | b'l' => '1',
            other => char::from(other),
        })
        .collect()
}

fn protocol(input: &mut Input<'_>) -> Protocol {
    let selector = input.u8();
    let name = match selector % 14 {
        n @ 0..=7 => return Protocol::STANDARD[usize::from(n)].clone(),
        n @ 8..=12 => OTHER_PROTOCOLS[usize::from(n - 8)].to_owned(),
        _ => input.text(),
    };
    // A host-named protocol, as a host would build it: `Protocol::other`,
    // which refuses standard names (`from_name` maps them to the standard
    // protocol). A bad name is the host's problem, not a login.
    match Protocol::other(&name) {
        Ok(named) => {
            assert!(
                Protocol::STANDARD.iter().all(|p| p.name() != named.name()),
                "Protocol::other({name:?}) aliases a standard protocol: {named:?}"
            );
            named
        }
        Err(_) => Protocol::from_name(&name).unwrap_or(Protocol::Imap),
    }
}

fn policy(selector: u8) -> Option<ProtocolPolicy> {
    match selector % 5 {
        0 => Some(ProtocolPolicy::CodeInLogin),
        1 => Some(ProtocolPolicy::DeviceAuthorization),
        2 => Some(ProtocolPolicy::AppPasswordOnly),
        3 => Some(ProtocolPolicy::Refused),
        _ => None,
    }
}

/// A client field: absent, one of a few recurring values, or arbitrary.
fn field<'a>(input: &mut Input<'_>, pool: &[&'a str], owned: &'a mut String) -> Option<&'a str> {
    let selector = input.u8();
    match selector % 4 {
        0 => None,
        1 | 2 => Some(pool[usize::from(selector / 4) % pool.len()]),
        _ => {
            *owned = input.text();
            Some(owned.as_str())
        }
    }
}

fn device_of(decision: &Decision) -> Option<DeviceId> {
    match decision {
        Decision::DevicePending { device, .. }
        | Decision::Allow {
            reason: AllowReason::DeviceAuthorized { device },
            ..
        } => Some(*device),
        _ => None,
    }
}

/// The device an operation acts on: a listed one, one seen before (maybe
/// gone since), or one that never existed.
fn pick_device(input: &mut Input<'_>, listed: &[DeviceToken], model: &Model) -> DeviceId {
    let selector = input.u8();
    let index = usize::from(input.u8());
    match selector % 8 {
        0..=5 if !listed.is_empty() => listed[index % listed.len()].id,
        6 if !model.seen.is_empty() => model.seen[index % model.seen.len()],
        _ => DeviceId::parse(&format!("{index:032x}")).expect("32 hex digits"),
    }
}

struct Harness {
    engine: Engine<MemoryStore>,
    id: AccountId,
    totp: Totp,
    max_pending: usize,
    now: u64,
    model: Model,
}

impl Harness {
    fn new(input: &mut Input<'_>) -> Self {
        let flags = input.u8();
        let pending_ttl = [60, 3_600, 30 * 86_400, 1][usize::from(flags / 4 % 4)];
        let devices = DevicePolicy::default()
            .with_max_pending(1 + usize::from(flags % 4))
            .with_pending_ttl(pending_ttl)
            .with_notify_interval([1, 300, 86_400, 7][usize::from(flags / 16 % 4)])
            // The engine requires last-seen writes more often than expiry.
            .with_seen_interval([0, 300, 1, 86_400][usize::from(flags / 64)].min(pending_ttl - 1))
            .with_binding_period([0, 60, 12 * 3_600, 1][usize::from(input.u8() % 4)])
            .with_reset_revokes_clients(false);
        let config = EngineConfig::default()
            .with_devices(devices)
            .with_device_key(DeviceKey::from_bytes([0x5a; 32]))
            .with_portal_link(
                "https://mail.example.com/devices?user={account}&d={device}".to_owned(),
            );
        let engine = Engine::new(MemoryStore::new(), config).expect("valid configuration");
        engine
            .enable_platform(PLATFORM, true)
            .expect("memory store");
        let id = AccountId::new(PLATFORM, ACCOUNT).expect("valid names");
        let uri = engine.enable_account(&id, START).expect("platform on");
        let key = KeyUri::parse(&uri).expect("the engine's own URI");
        let totp = Totp::new(key.secret(), key.totp_config().expect("a TOTP URI"));
        let code = totp.generate(START).expect("time after T0");
        let enrolled = engine
            .login(&id, Some(code.as_str()), START)
            .expect("memory store");
        assert!(
            matches!(
                enrolled,
                Decision::Allow {
                    reason: AllowReason::Enrolled { .. },
                    ..
                }
            ),
            "{enrolled:?}"
        );
        let phone = (flags & 1 == 1).then_some("+15550100");
        engine
            .set_contact(&id, Some("alice.private@example.org"), phone)
            .expect("valid contact");
        Self {
            engine,
            id,
            totp,
            max_pending: devices.max_pending,
            now: START + 1,
            model: Model::default(),
        }
    }

    fn devices(&self) -> Vec<DeviceToken> {
        self.engine
            .devices(&self.id, self.now)
            .unwrap_or_else(|e| panic!("devices: unexpected error {e:?}"))
    }

    fn advance(&mut self, input: &mut Input<'_>) {
        let selector = input.u8();
        let seconds = match selector % 6 {
            0 => u64::from(selector / 6),
            1 => u64::from(input.u16()),
            2 => 295 + u64::from(selector / 6 % 10),
            3 => 86_400 - 5 + u64::from(selector / 6 % 10),
            4 => 30 * 86_400 - 5 + u64::from(selector / 6 % 10),
            _ => u64::from(input.u32()),
        };
        self.now = self.now.saturating_add(seconds).min(END_OF_TIME);
        trace(format_args!("advance {seconds} s"));
    }

    fn login(&mut self, input: &mut Input<'_>) {
        let protocol = protocol(input);
        let (mut device_id, mut device_type, mut user_agent, mut remote_addr) =
            (String::new(), String::new(), String::new(), String::new());
        let client = ClientInfo::new()
            .with_device_id(field(input, &DEVICE_IDS, &mut device_id))
            .with_device_type(field(input, &DEVICE_TYPES, &mut device_type))
            .with_user_agent(field(input, &USER_AGENTS, &mut user_agent))
            .with_remote_addr(field(input, &ADDRESSES, &mut remote_addr));
        let selector = input.u8();
        let text = match selector % 8 {
            0..=2 => String::new(),
            3 | 4 => match selector / 8 % 3 {
                0 => self
                    .totp
                    .generate(self.now)
                    .expect("time after T0")
                    .as_str()
                    .to_owned(),
                1 => format!("{:06}", input.u32() % 1_000_000),
                _ => input.text(),
            },
            _ => {
                let apps: Vec<&App> = self.model.apps.values().collect();
                match selector / 8 % 4 {
                    0 | 1 if !apps.is_empty() => {
                        let password = &apps[usize::from(selector / 32) % apps.len()].password;
                        if selector & 0x80 == 0 {
                            password.clone()
                        } else {
                            // Typed loosely: no hyphens, upper case.
                            password.replace('-', "").to_ascii_uppercase()
                        }
                    }
                    2 => "abcde-fghjk-mnpqr-stvwx".to_owned(),
                    _ => input.text(),
                }
            }
        };
        let credential = match selector % 8 {
            0 | 1 => Credential::Password { correct: true },
            2 => Credential::Password { correct: false },
            3 | 4 => Credential::PasswordAndCode {
                correct: selector / 32 % 4 != 0,
                code: &text,
            },
            _ => Credential::AppPassword(&text),
        };
        let request = LoginRequest::new(protocol.clone(), credential).with_client(client);
        let result = self.engine.authenticate(&self.id, &request, self.now);
        trace(format_args!("{} {request:?}\n  -> {result:?}", self.now));
        let Some(decision) = expected(result, "authenticate") else {
            return;
        };
        let policy = self.model.policy(&protocol);
        if let Some(device) = device_of(&decision) {
            self.model.remember(device);
        }
        match &decision {
            Decision::Allow { reason, cacheable } => {
                assert!(
                    !cacheable,
                    "a 2FA decision is never cacheable: {decision:?}"
                );
                match reason {
                    AllowReason::DeviceAuthorized { device } => {
                        assert_eq!(policy, ProtocolPolicy::DeviceAuthorization, "{decision:?}");
                        assert!(credential_is_password(&credential), "{decision:?}");
                        // Invariant 3.
                        assert!(
                            self.model.active.contains(device),
                            "device {device} let in without an activation in force"
                        );
                        let listed = self.devices();
                        assert!(
                            listed
                                .iter()
                                .any(|t| t.id == *device && t.state == DeviceState::Active),
                            "device {device} let in but not listed as active: {listed:?}"
                        );
                    }
                    AllowReason::AppPassword { id } => {
                        assert!(policy.accepts_app_passwords(), "{policy:?}: {decision:?}");
                        let Credential::AppPassword(presented) = credential else {
                            panic!("{decision:?} for {credential:?}");
                        };
                        let app = self.model.apps.get(id).unwrap_or_else(|| {
                            panic!(
                                "application password {id} (revoked: {}) let in",
                                self.model.revoked.contains(id)
                            )
                        });
                        assert_eq!(canonical(presented), canonical(&app.password));
                        assert!(app.scope.is_empty() || app.scope.contains(&protocol));
                    }
                    AllowReason::CodeAccepted { .. } => {
                        assert_eq!(policy, ProtocolPolicy::CodeInLogin, "{decision:?}");
                        assert!(credential_is_password(&credential), "{decision:?}");
                    }
                    AllowReason::DeviceTrusted { .. } => {
                        assert_eq!(policy, ProtocolPolicy::CodeInLogin, "{decision:?}");
                        // The password alone never passes through a binding.
                        assert!(
                            matches!(
                                credential,
                                Credential::PasswordAndCode { correct: true, .. }
                            ),
                            "{decision:?}"
                        );
                    }
                    other => panic!("unexpected allow {other:?} for {request:?}"),
                }
            }
            Decision::DevicePending {
                device,
                notification,
            } => {
                assert_eq!(policy, ProtocolPolicy::DeviceAuthorization, "{decision:?}");
                assert!(credential_is_password(&credential), "{decision:?}");
                assert!(
                    !self.model.active.contains(device),
                    "active device {device} pending"
                );
                if let Some(notification) = notification {
                    assert_eq!(notification.device, *device);
                }
                let listed = self.devices();
                assert!(
                    listed
                        .iter()
                        .any(|t| t.id == *device && t.state == DeviceState::Inactive),
                    "pending device {device} not listed as inactive: {listed:?}"
                );
            }
            Decision::Deny { reason } => match (reason, credential) {
                (
                    DenyReason::WrongCode
                    | DenyReason::MalformedCode
                    | DenyReason::ClockSkew { .. },
                    Credential::PasswordAndCode { .. },
                ) => self.model.wrong_codes = true,
                // Invariant 5.
                (DenyReason::Locked { .. }, Credential::PasswordAndCode { .. }) => assert!(
                    self.model.wrong_codes,
                    "code login locked without a wrong code: {decision:?}"
                ),
                _ => {}
            },
            Decision::SecondFactorRequired { .. } => {}
            Decision::EnrollmentRequired { .. } => panic!("enrolled account: {decision:?}"),
            _ => {}
        }
    }

    fn device_op(&mut self, op: u8, input: &mut Input<'_>) {
        let listed = self.devices();
        let device = pick_device(input, &listed, &self.model);
        let (id, now) = (&self.id, self.now);
        trace(format_args!("{now} device op {op} on {device}"));
        match op {
            0 => {
                if expected(self.engine.activate_device(id, &device, now), "activate").is_some() {
                    self.model.active.insert(device);
                    self.model.deactivated.remove(&device);
                }
            }
            1 => {
                if expected(
                    self.engine.deactivate_device(id, &device, now),
                    "deactivate",
                )
                .is_some()
                {
                    self.model.active.remove(&device);
                    let first_seen = self
                        .devices()
                        .iter()
                        .find(|t| t.id == device)
                        .map(|t| t.first_seen)
                        .unwrap_or_else(|| panic!("deactivated {device} is not listed"));
                    self.model.deactivated.insert(device, first_seen);
                }
            }
            _ => {
                if expected(self.engine.delete_device(id, &device, now), "delete").is_some() {
                    self.model.active.remove(&device);
                    self.model.deactivated.remove(&device);
                    assert!(
                        self.devices().iter().all(|t| t.id != device),
                        "deleted {device} still listed"
                    );
                }
            }
        }
    }

    fn create_app_password(&mut self, input: &mut Input<'_>) {
        let selector = input.u8();
        let name = match selector % 4 {
            0 => "iPhone mail".to_owned(),
            1 => format!("client {}", selector / 4 % 20),
            _ => input.text(),
        };
        let scope: Vec<Protocol> = (0..input.u8() % 3).map(|_| protocol(input)).collect();
        let created = self
            .engine
            .create_app_password(&self.id, &name, &scope, self.now);
        trace(format_args!(
            "{} create app password {name:?} {scope:?}: {}",
            self.now,
            created.is_ok()
        ));
        if let Some((info, password)) = expected(created, "create_app_password") {
            assert!(
                !self.model.apps.contains_key(&info.id),
                "id {} reused",
                info.id
            );
            assert!(
                !self.model.revoked.contains(&info.id),
                "id {} reused",
                info.id
            );
            self.model.apps.insert(
                info.id,
                App {
                    password: password.as_str().to_owned(),
                    scope: info.scope,
                },
            );
        }
    }

    fn revoke_app_password(&mut self, input: &mut Input<'_>) {
        let selector = input.u8();
        let ids: Vec<u32> = self.model.apps.keys().copied().collect();
        let app_id = match ids.get(usize::from(selector) % ids.len().max(1)) {
            Some(&id) if selector & 0x80 == 0 => id,
            _ => u32::from(selector & 0x3f),
        };
        let revoked = self.engine.revoke_app_password(&self.id, app_id);
        trace(format_args!("revoke app password {app_id}: {revoked:?}"));
        if expected(revoked, "revoke_app_password").is_some() {
            assert!(
                self.model.apps.remove(&app_id).is_some(),
                "revoked unknown {app_id}"
            );
            self.model.revoked.insert(app_id);
        } else {
            assert!(
                !self.model.apps.contains_key(&app_id),
                "could not revoke {app_id}"
            );
        }
    }

    fn set_policy(&mut self, account: bool, input: &mut Input<'_>) {
        let protocol = protocol(input);
        let policy = policy(input.u8());
        let result = if account {
            self.engine.set_account_policy(&self.id, &protocol, policy)
        } else {
            self.engine.set_platform_policy(PLATFORM, &protocol, policy)
        };
        trace(format_args!(
            "set policy (account {account}) {protocol:?} {policy:?}: {result:?}"
        ));
        if expected(result, "set policy").is_some() {
            let map = if account {
                &mut self.model.account_policies
            } else {
                &mut self.model.platform_policies
            };
            let name = protocol.name().to_owned();
            match policy {
                Some(policy) => map.insert(name, policy),
                None => map.remove(&name),
            };
        }
        let effective = expected(self.engine.protocol_policy(&self.id, &protocol), "policy");
        assert_eq!(
            effective,
            Some(self.model.policy(&protocol)),
            "{protocol:?}"
        );
    }

    /// Invariants 1 and 2 on the listing.
    fn check(&mut self) {
        let listed = self.devices();
        assert!(listed.len() <= MAX_DEVICES, "{} tokens", listed.len());
        let mut inactive = 0;
        let mut deactivated = 0;
        for token in &listed {
            self.model.remember(token.id);
            match token.state {
                DeviceState::Active => assert!(
                    self.model.active.contains(&token.id),
                    "{} is ACTIVE without an activation in force",
                    token.id
                ),
                DeviceState::Inactive => {
                    inactive += 1;
                    if self.model.deactivated.get(&token.id) == Some(&token.first_seen) {
                        deactivated += 1;
                    }
                }
            }
        }
        for device in &self.model.active {
            assert!(
                listed
                    .iter()
                    .any(|t| t.id == *device && t.state == DeviceState::Active),
                "activated {device} is not listed as ACTIVE: {listed:?}"
            );
        }
        let counted = if strict() {
            inactive
        } else {
            inactive - deactivated
        };
        assert!(
            counted <= self.max_pending,
            "{inactive} INACTIVE tokens ({deactivated} deactivated by the user), max_pending {}",
            self.max_pending
        );
        let mut ids: Vec<DeviceId> = listed.iter().map(|t| t.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), listed.len(), "duplicate tokens: {listed:?}");
    }
}

fn credential_is_password(credential: &Credential<'_>) -> bool {
    matches!(
        credential,
        Credential::Password { correct: true } | Credential::PasswordAndCode { correct: true, .. }
    )
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut harness = Harness::new(&mut input);
    let mut steps = 0;
    while !input.is_empty() && steps < 256 {
        steps += 1;
        let op = input.u8();
        match op % 16 {
            0..=5 => harness.login(&mut input),
            6 | 7 => harness.advance(&mut input),
            8 => harness.device_op(0, &mut input),
            9 => harness.device_op(1, &mut input),
            10 => harness.device_op(2, &mut input),
            11 => harness.create_app_password(&mut input),
            12 => harness.revoke_app_password(&mut input),
            13 => harness.set_policy(false, &mut input),
            14 => harness.set_policy(true, &mut input),
            _ => {
                // A login right after time moves: expiry and coalescing edges.
                harness.advance(&mut input);
                harness.login(&mut input);
            }
        }
        harness.check();
    }
});
