//! Mail protocols and what 2FA asks of each.

use crate::error::{Error, Result};
use crate::record::{Reader, RecordError, Writer};

/// How a client reaches the mailbox. The host says which one a login uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// Webmail: an interactive login page.
    Webmail,
    /// The account portal (where users manage 2FA, devices and app passwords).
    Portal,
    /// Exchange ActiveSync (phones, tablets).
    ActiveSync,
    /// Outlook desktop over MAPI/HTTP or EWS.
    Outlook,
    /// IMAP.
    Imap,
    /// POP3.
    Pop3,
    /// SMTP submission.
    Smtp,
    /// RPC over HTTP (Outlook Anywhere).
    RpcOverHttp,
    /// Anything else, named by the host (made by [`Protocol::other`]).
    Other(ProtocolName),
}

/// The name of a host-named protocol: 1 to 32 bytes of lower-case ASCII
/// letters, digits, `-`, `_` and `.`, and not the name of a standard
/// protocol. Only [`Protocol::other`] makes one, so every stored name reads
/// back as the same protocol.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProtocolName(String);

impl ProtocolName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What 2FA asks of a client on a protocol, for an account that has 2FA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolPolicy {
    /// The password with a one-time code (appended, or asked for
    /// separately). Devices that logged in with a code are trusted for a
    /// while afterwards (device binding). Application passwords are refused:
    /// one must never open the portal.
    CodeInLogin,
    /// The password from a device the user has activated (device tokens),
    /// or an application password.
    DeviceAuthorization,
    /// Only an application password; the account password is refused.
    AppPasswordOnly,
    /// Refused, whatever the credential.
    Refused,
}

/// Host-named protocols: at most this many bytes.
pub const MAX_PROTOCOL_NAME: usize = 32;

/// Policy overrides a platform or an account may hold.
pub(crate) const MAX_POLICY_OVERRIDES: usize = 32;

impl Protocol {
    /// A host-named protocol, checked and folded to lower case.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty or over-long name, one with
    /// other characters than letters, digits, `-`, `_` and `.`, or the name
    /// of a standard protocol (use [`Protocol::from_name`] to accept both).
    pub fn other(name: &str) -> Result<Self> {
        let name = checked_name(name)?;
        if Self::STANDARD.iter().any(|p| p.name() == name) {
            return Err(Error::InvalidConfig("protocol name of a standard protocol"));
        }
        Ok(Self::Other(ProtocolName(name)))
    }

    /// The protocol of a name given by [`Protocol::name`] (case ignored);
    /// any other valid name is [`Protocol::Other`].
    ///
    /// # Errors
    /// As [`Protocol::other`].
    pub fn from_name(name: &str) -> Result<Self> {
        // A standard name (in any case) allocates nothing: every stored
        // device token names its protocol, and a login decodes them.
        if let Some(standard) = Self::STANDARD
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
        {
            return Ok(standard);
        }
        Ok(Self::Other(ProtocolName(checked_name(name)?)))
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.bytes(self.name().as_bytes());
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, RecordError> {
        let name = core::str::from_utf8(r.bytes()?)
            .map_err(|_| RecordError::Payload("protocol name is not UTF-8"))?;
        Self::from_name(name).map_err(|_| RecordError::Payload("invalid protocol name"))
    }
}

/// Mail protocols, passed as `uint32_t`. `M2FA_PROTOCOL_OTHER` takes a
/// name beside it and means "the protocol of this name": a standard name
/// (`webmail`, `portal`, `activesync`, `outlook`, `imap`, `pop3`, `smtp`,
/// `rpc-over-http`, any case) is that protocol, any other name (1–32 bytes of
/// letters, digits, `-`, `_`, `.`; case ignored) a host-named one — so a host
/// holding a service name needs no table of its own. The other constants
/// ignore the name argument.
///
/// The stable numbering of protocols, for the C API and any future wire
/// format: a number is never changed, never reused.
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolCode {
    /// Webmail.
    Webmail = 1,
    /// The account portal.
    Portal = 2,
    /// Exchange ActiveSync.
    Activesync = 3,
    /// Outlook desktop (MAPI/HTTP, EWS).
    Outlook = 4,
    /// IMAP.
    Imap = 5,
    /// POP3.
    Pop3 = 6,
    /// SMTP submission.
    Smtp = 7,
    /// RPC over HTTP.
    RpcOverHttp = 8,
    /// A protocol named by the host.
    Other = 99,
}

/// The standard protocols in one table, a row each: the [`Protocol`]
/// variant, its [`ProtocolCode`], its name and its default policy.
/// [`Protocol::STANDARD`], [`Protocol::name`], [`Protocol::default_policy`],
/// [`Protocol::code`], [`Protocol::from_code`] and [`ProtocolCode::ALL`] are
/// made from its rows. The matches are exhaustive, so a variant added to
/// [`Protocol`] or to [`ProtocolCode`] without a row here does not compile
/// (and cannot be left out of `STANDARD`, which [`Protocol::from_name`]
/// searches); a row given twice is an unreachable pattern.
macro_rules! standard_protocols {
    ($($variant:ident => $code:ident, $name:literal, $policy:ident;)+) => {
        impl Protocol {
            /// The protocol's name: `webmail`, `portal`, `activesync`, `outlook`,
            /// `imap`, `pop3`, `smtp`, `rpc-over-http`, or the host's name.
            pub fn name(&self) -> &str {
                match self {
                    $(Self::$variant => $name,)+
                    Self::Other(name) => name.as_str(),
                }
            }

            /// Every protocol but [`Protocol::Other`].
            pub const STANDARD: [Protocol; [$($name),+].len()] = [$(Self::$variant),+];

            /// The policy when neither the platform nor the account says otherwise,
            /// after the seeds: interactive logins take a code; Outlook and
            /// ActiveSync need an activated device (Exchange-style device
            /// authorization); the legacy protocols IMAP, POP3, SMTP and RPC over
            /// HTTP only take application passwords; a host-named protocol too.
            pub fn default_policy(&self) -> ProtocolPolicy {
                match self {
                    $(Self::$variant => ProtocolPolicy::$policy,)+
                    Self::Other(_) => ProtocolPolicy::AppPasswordOnly,
                }
            }

            /// The protocol's number ([`ProtocolCode::Other`] for a
            /// host-named one).
            pub fn code(&self) -> ProtocolCode {
                match self {
                    $(Self::$variant => ProtocolCode::$code,)+
                    Self::Other(_) => ProtocolCode::Other,
                }
            }

            /// The standard protocol of a number; `None` for
            /// [`ProtocolCode::Other`], whose name says which protocol it is
            /// ([`Protocol::from_name`]).
            pub fn from_code(code: ProtocolCode) -> Option<Self> {
                match code {
                    $(ProtocolCode::$code => Some(Self::$variant),)+
                    ProtocolCode::Other => None,
                }
            }
        }

        impl ProtocolCode {
            /// Every number: the standard protocols' in the order of the
            /// table, then [`ProtocolCode::Other`].
            pub const ALL: [Self; [$($name),+].len() + 1] = [$(Self::$code,)+ Self::Other];

            /// The value with this number, if there is one.
            pub fn from_u32(value: u32) -> Option<Self> {
                Self::ALL.into_iter().find(|v| *v as u32 == value)
            }
        }
    };
}

standard_protocols! {
    Webmail => Webmail, "webmail", CodeInLogin;
    Portal => Portal, "portal", CodeInLogin;
    ActiveSync => Activesync, "activesync", DeviceAuthorization;
    Outlook => Outlook, "outlook", DeviceAuthorization;
    Imap => Imap, "imap", AppPasswordOnly;
    Pop3 => Pop3, "pop3", AppPasswordOnly;
    Smtp => Smtp, "smtp", AppPasswordOnly;
    RpcOverHttp => RpcOverHttp, "rpc-over-http", AppPasswordOnly;
}

/// A valid protocol name, lower-cased.
fn checked_name(name: &str) -> Result<String> {
    let valid = !name.is_empty()
        && name.len() <= MAX_PROTOCOL_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !valid {
        return Err(Error::InvalidConfig("protocol name"));
    }
    Ok(name.to_ascii_lowercase())
}

impl core::fmt::Display for Protocol {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl ProtocolPolicy {
    fn code(self) -> u8 {
        match self {
            Self::CodeInLogin => 1,
            Self::DeviceAuthorization => 2,
            Self::AppPasswordOnly => 3,
            Self::Refused => 4,
        }
    }

    fn from_code(code: u8) -> Result<Self, RecordError> {
        Ok(match code {
            1 => Self::CodeInLogin,
            2 => Self::DeviceAuthorization,
            3 => Self::AppPasswordOnly,
            4 => Self::Refused,
            _ => return Err(RecordError::Payload("unknown protocol policy")),
        })
    }

    /// The policy's stable name: `code-in-login`, `device-authorization`,
    /// `app-password-only` or `refused` (as the operator tool and the
    /// panel API spell it).
    ///
    /// ```
    /// use mail2fa::engine::ProtocolPolicy;
    ///
    /// assert_eq!(ProtocolPolicy::CodeInLogin.name(), "code-in-login");
    /// assert_eq!(ProtocolPolicy::from_name("refused"), Some(ProtocolPolicy::Refused));
    /// assert_eq!(ProtocolPolicy::from_name("Refused"), None);
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::CodeInLogin => "code-in-login",
            Self::DeviceAuthorization => "device-authorization",
            Self::AppPasswordOnly => "app-password-only",
            Self::Refused => "refused",
        }
    }

    /// The policy of a [`name`](Self::name) (exactly as spelt there), or
    /// `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::CodeInLogin,
            Self::DeviceAuthorization,
            Self::AppPasswordOnly,
            Self::Refused,
        ]
        .into_iter()
        .find(|policy| policy.name() == name)
    }

    /// Whether this policy takes application passwords. The policy alone:
    /// whatever it says, a login on webmail or the portal never accepts an
    /// application password ([`accepts_app_passwords_on`] is the whole
    /// rule, the one the engine applies).
    ///
    /// [`accepts_app_passwords_on`]: Self::accepts_app_passwords_on
    pub fn accepts_app_passwords(self) -> bool {
        matches!(self, Self::DeviceAuthorization | Self::AppPasswordOnly)
    }

    /// Whether a (valid, in-scope) application password gets in on
    /// `protocol` under this policy: the engine's own rule, which it applies
    /// to every login with one — `false` is a login refused with
    /// [`DenyReason::AppPasswordNotAccepted`] (or
    /// [`DenyReason::ProtocolRefused`] under [`ProtocolPolicy::Refused`]).
    /// The policy must take them ([`accepts_app_passwords`]), and the
    /// protocol must not be webmail or the portal, whatever an override
    /// says: an application password stands in for the password *and* the
    /// code, and must never open an interactive session (where 2FA, devices
    /// and application passwords themselves are managed, or reachable).
    ///
    /// With [`Engine::protocol_policy`], it tells an operator tool or a
    /// portal whether an account's application password can be used on a
    /// protocol, before a client tries.
    ///
    /// ```
    /// use mail2fa::engine::{Protocol, ProtocolPolicy};
    ///
    /// assert!(ProtocolPolicy::AppPasswordOnly.accepts_app_passwords_on(&Protocol::Imap));
    /// assert!(ProtocolPolicy::DeviceAuthorization.accepts_app_passwords_on(&Protocol::Outlook));
    /// // `mail2fa platform policy example.com imap code-in-login`: refused.
    /// assert!(!ProtocolPolicy::CodeInLogin.accepts_app_passwords_on(&Protocol::Imap));
    /// assert!(!ProtocolPolicy::Refused.accepts_app_passwords_on(&Protocol::Imap));
    /// // Never on webmail, even under an override that takes them elsewhere.
    /// assert!(!ProtocolPolicy::DeviceAuthorization.accepts_app_passwords_on(&Protocol::Webmail));
    /// ```
    ///
    /// [`accepts_app_passwords`]: Self::accepts_app_passwords
    /// [`DenyReason::AppPasswordNotAccepted`]: crate::engine::DenyReason::AppPasswordNotAccepted
    /// [`DenyReason::ProtocolRefused`]: crate::engine::DenyReason::ProtocolRefused
    /// [`Engine::protocol_policy`]: crate::engine::Engine::protocol_policy
    pub fn accepts_app_passwords_on(self, protocol: &Protocol) -> bool {
        self.accepts_app_passwords() && !matches!(protocol, Protocol::Webmail | Protocol::Portal)
    }
}

/// Per-protocol overrides of a platform or an account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Policies(Vec<(Protocol, ProtocolPolicy)>);

impl Policies {
    /// The overrides, in the order they were set.
    pub(crate) fn entries(&self) -> Vec<(Protocol, ProtocolPolicy)> {
        self.0.clone()
    }

    pub(crate) fn get(&self, protocol: &Protocol) -> Option<ProtocolPolicy> {
        self.0
            .iter()
            .find(|(p, _)| p == protocol)
            .map(|&(_, policy)| policy)
    }

    /// Sets (`Some`) or removes (`None`) the override for `protocol`.
    pub(crate) fn set(
        &mut self,
        protocol: &Protocol,
        policy: Option<ProtocolPolicy>,
    ) -> Result<()> {
        self.0.retain(|(p, _)| p != protocol);
        if let Some(policy) = policy {
            if self.0.len() >= MAX_POLICY_OVERRIDES {
                return Err(Error::LimitReached("protocol policy overrides"));
            }
            self.0.push((protocol.clone(), policy));
        }
        Ok(())
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u8(self.0.len().min(MAX_POLICY_OVERRIDES) as u8);
        for (protocol, policy) in self.0.iter().take(MAX_POLICY_OVERRIDES) {
            protocol.write(w);
            w.u8(policy.code());
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, RecordError> {
        let count = usize::from(r.u8()?);
        if count > MAX_POLICY_OVERRIDES {
            return Err(RecordError::Payload("too many policy overrides"));
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let protocol = Protocol::read(r)?;
            let policy = ProtocolPolicy::from_code(r.u8()?)?;
            if out.iter().any(|(p, _)| p == &protocol) {
                return Err(RecordError::Payload("duplicate policy override"));
            }
            out.push((protocol, policy));
        }
        Ok(Self(out))
    }
}

/// The policy for `protocol`: the account's override, else the platform's,
/// else the default.
pub(crate) fn effective_policy(
    account: &Policies,
    platform: &Policies,
    protocol: &Protocol,
) -> ProtocolPolicy {
    account
        .get(protocol)
        .or_else(|| platform.get(protocol))
        .unwrap_or_else(|| protocol.default_policy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_checked() {
        for protocol in Protocol::STANDARD {
            assert_eq!(Protocol::from_name(protocol.name()).unwrap(), protocol);
            assert_eq!(
                Protocol::from_name(&protocol.name().to_uppercase()).unwrap(),
                protocol
            );
        }
        assert_eq!(
            Protocol::from_name("ManageSieve").unwrap(),
            Protocol::other("managesieve").unwrap()
        );
        assert_eq!(
            Protocol::from_name("ManageSieve").unwrap().name(),
            "managesieve"
        );
        // A standard name is never an "other" protocol: it would be stored as
        // its name and read back as the standard one.
        for bad in [
            "",
            "a b",
            "imap\n",
            "x".repeat(33).as_str(),
            "é",
            "IMAP",
            "pop3",
        ] {
            assert!(Protocol::other(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn codes_round_trip() {
        for protocol in Protocol::STANDARD {
            let code = protocol.code();
            assert_eq!(ProtocolCode::from_u32(code as u32), Some(code));
            assert_eq!(Protocol::from_code(code), Some(protocol));
        }
        let other = Protocol::other("sieve").unwrap();
        assert_eq!(other.code(), ProtocolCode::Other);
        assert_eq!(Protocol::from_code(ProtocolCode::Other), None);
        assert_eq!(ProtocolCode::from_u32(99), Some(ProtocolCode::Other));
        assert_eq!(ProtocolCode::ALL.len(), Protocol::STANDARD.len() + 1);
    }

    #[test]
    fn overrides_win_in_order_and_round_trip() {
        let mut platform = Policies::default();
        let mut account = Policies::default();
        assert_eq!(
            effective_policy(&account, &platform, &Protocol::Imap),
            ProtocolPolicy::AppPasswordOnly
        );
        platform
            .set(&Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
            .unwrap();
        assert_eq!(
            effective_policy(&account, &platform, &Protocol::Imap),
            ProtocolPolicy::CodeInLogin
        );
        account
            .set(&Protocol::Imap, Some(ProtocolPolicy::Refused))
            .unwrap();
        assert_eq!(
            effective_policy(&account, &platform, &Protocol::Imap),
            ProtocolPolicy::Refused
        );
        account.set(&Protocol::Imap, None).unwrap();
        assert_eq!(
            effective_policy(&account, &platform, &Protocol::Imap),
            ProtocolPolicy::CodeInLogin
        );
        platform
            .set(
                &Protocol::other("sieve").unwrap(),
                Some(ProtocolPolicy::Refused),
            )
            .unwrap();
        let mut w = Writer::default();
        platform.write(&mut w);
        let bytes = w.finish().unwrap();
        let mut r = Reader::new(&bytes);
        assert_eq!(Policies::read(&mut r).unwrap(), platform);
        r.finish().unwrap();
    }
}
