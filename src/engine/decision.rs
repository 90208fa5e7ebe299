//! What the engine answers: one decision per call, with the real reason for
//! the host and a uniform answer for the client.

use zeroize::Zeroizing;

use super::account::Mode;
use super::account_id::AccountId;
use super::device::DeviceId;
use super::notify::Notification;
use super::protocol::Protocol;
use crate::enum_table::c_enum_table;

/// Why a second factor was refused. The host and the audit log see this;
/// the client must not (see [`Decision::client_answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyReason {
    /// Not exactly the account's number of ASCII digits.
    MalformedCode,
    /// A well-formed code that matches no step in the window.
    WrongCode,
    /// The code matched, but only a wide diagnostic window: the device's
    /// clock is off by `steps` time steps (negative: behind).
    ClockSkew {
        /// Offset of the matching step from the current one.
        steps: i64,
    },
    /// The code is that of a step in the window that was already used (or
    /// is older than one used), or the last code used, however old (a mail
    /// client reconnecting with its stored password+code string). Not
    /// counted as a failure: it repeats a code that worked. Any other old
    /// code outside the window is a [`Self::WrongCode`].
    Replayed,
    /// Too many wrong codes: second-factor attempts refused until `until`.
    Locked {
        /// Unix time the lock ends.
        until: u64,
    },
    /// The pending enrollment was never confirmed and has expired; the
    /// account must be reset (or re-enabled) for a new secret.
    EnrollmentExpired,
    /// The e-mail/SMS code has expired (reported once; it is then gone).
    CodeExpired,
    /// An e-mail/SMS account with no live code: none was issued, or it was
    /// used, expired, or died after too many wrong entries.
    NoCodeIssued,
    /// The host's password check failed (and the input is not shaped like
    /// an application password, or the account has no 2FA). Nothing is
    /// recorded: the host throttles its own passwords.
    WrongPassword,
    /// The protocol's policy for this account is
    /// [`super::ProtocolPolicy::Refused`].
    ProtocolRefused,
    /// The protocol only takes application passwords and the account
    /// password was given.
    AppPasswordRequired,
    /// An application password on a protocol whose policy does not take
    /// them (webmail, the portal).
    AppPasswordNotAccepted,
    /// A valid application password, but limited to other protocols.
    AppPasswordOutOfScope,
    /// Shaped like an application password, matching none. Not counted:
    /// 100 random bits cannot be guessed, and counting would write to the
    /// store for every unauthenticated guess (and show by its time which
    /// accounts have 2FA).
    WrongAppPassword,
    /// Device authorization is required and the client sent nothing that
    /// identifies a device.
    DeviceUnidentified,
    /// An unknown device, and the mailbox already has the most pending
    /// device tokens allowed: no new token, no notification.
    TooManyPendingDevices,
    /// 2FA is mandatory on the platform
    /// ([`super::EngineConfig::mandatory_platforms`]) and the account has no
    /// 2FA record: the password alone never gets in. Enrollment is the
    /// host's own flow (e.g. its portal calls [`super::Engine::enable_account`]
    /// after its password check), never a side effect of a login.
    NotEnrolled,
}

/// The engine's answer to a second-factor step.
///
/// A decision has two readers: the client, who is told only
/// [`Decision::client_answer`] (every refusal looks the same), and the
/// host's log, which gets the real reason ([`Decision::reason_code`], or
/// the whole [`Decision::audit_event`]).
///
/// ```
/// use mail2fa::engine::{AccountId, ClientAnswer, Decision, Engine, EngineConfig};
/// use mail2fa::store::MemoryStore;
/// use mail2fa::Totp;
///
/// let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
/// let alice = AccountId::new("example.com", "alice@example.com")?;
/// let now = 1_800_000_000;
/// engine.enable_platform("example.com", true)?;
/// let phone = Totp::from_uri(&engine.enable_account(&alice, now)?)?;
/// engine.confirm_enrollment(&alice, phone.generate(now)?.as_str(), now)?;
///
/// // What an IMAP server answers, and what it logs.
/// let reply = |decision: &Decision| match decision.client_answer() {
///     ClientAnswer::Allowed => "a1 OK LOGIN completed",
///     _ => "a1 NO [AUTHENTICATIONFAILED] Authentication failed",
/// };
/// let code = phone.generate(now + 60)?;
///
/// let first = engine.login(&alice, Some(code.as_str()), now + 60)?;
/// assert!(first.is_allowed());
/// assert_eq!(reply(&first), "a1 OK LOGIN completed");
/// assert_eq!(first.reason_code().name(), "code_accepted");
///
/// let replay = engine.login(&alice, Some(code.as_str()), now + 65)?;
/// assert!(!replay.is_allowed());
/// assert_eq!(reply(&replay), "a1 NO [AUTHENTICATIONFAILED] Authentication failed");
/// assert_eq!(replay.reason_code().name(), "replayed"); // for the log only
///
/// // A five-digit code: the same answer for the client, another reason.
/// let typo = engine.login(&alice, Some("12345"), now + 70)?;
/// assert_eq!(typo.client_answer(), replay.client_answer());
/// assert_eq!(typo.reason_code().name(), "malformed_code");
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Let the client in.
    Allow {
        /// Why no (more) code is needed.
        reason: AllowReason,
        /// May an auth cache remember this answer? `false` whenever a
        /// one-time code was involved: a cache replaying it would replay the
        /// code.
        cacheable: bool,
    },
    /// 2FA is enabled but not yet enrolled: show this provisioning URI (it
    /// contains the secret) and ask for a first code.
    EnrollmentRequired {
        /// The `otpauth://` URI for the QR code.
        uri: Zeroizing<String>,
    },
    /// The password was right; now ask for a code of this kind (for e-mail
    /// and SMS, [`super::Engine::issue_code`] makes one to send).
    SecondFactorRequired {
        /// What kind of code.
        mode: Mode,
    },
    /// The password is right but the device is not authorized: it
    /// has an *INACTIVE* token the user can activate in the portal.
    DevicePending {
        /// The device token.
        device: DeviceId,
        /// A message to deliver now, or `None` if the user was already
        /// told within the notification interval (or has no destination).
        notification: Option<Notification>,
    },
    /// Refused.
    Deny {
        /// The real reason, for the host and the audit log only.
        reason: DenyReason,
    },
}

/// Why a login was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllowReason {
    /// The account has no second factor.
    NoSecondFactor,
    /// A valid code for `step` was presented and consumed.
    CodeAccepted {
        /// The consumed time step.
        step: u64,
    },
    /// 2FA is suspended until `until` (lost phone).
    Suspended {
        /// Unix time 2FA re-arms by itself.
        until: u64,
    },
    /// The enrollment was confirmed with a valid code (consumed).
    Enrolled {
        /// The consumed time step.
        step: u64,
    },
    /// A valid e-mail/SMS code was presented and consumed.
    DeliveredCodeAccepted,
    /// A recovery code was used (and is now spent).
    RecoveryCodeUsed {
        /// Unused recovery codes left; tell the user when this gets low.
        remaining: usize,
    },
    /// The password from an activated device.
    DeviceAuthorized {
        /// The device token.
        device: DeviceId,
    },
    /// The password (with a stale code, or none) from a device that logged
    /// in with a valid code recently, from the same network (device
    /// binding).
    DeviceTrusted {
        /// Unix time the binding ends.
        until: u64,
    },
    /// An application password.
    AppPassword {
        /// Its number in the account.
        id: u32,
    },
}

/// What the client may be told: every refusal looks the same, so a locked
/// account, a wrong code and a replay are indistinguishable from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAnswer {
    /// Logged in.
    Allowed,
    /// Must enroll an authenticator first.
    EnrollmentRequired,
    /// Must give a code.
    SecondFactorRequired,
    /// The password was right, the device must be authorized first. (This
    /// tells the client the password was right: only the host's own
    /// password check leads here.)
    DevicePending,
    /// Refused, for whatever reason.
    Refused,
}

impl Decision {
    /// The answer to give the client.
    pub fn client_answer(&self) -> ClientAnswer {
        match self {
            Self::Allow { .. } => ClientAnswer::Allowed,
            Self::EnrollmentRequired { .. } => ClientAnswer::EnrollmentRequired,
            Self::SecondFactorRequired { .. } => ClientAnswer::SecondFactorRequired,
            Self::DevicePending { .. } => ClientAnswer::DevicePending,
            Self::Deny { .. } => ClientAnswer::Refused,
        }
    }

    /// Whether the answer is "let in".
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow { .. })
    }

    pub(crate) fn deny(reason: DenyReason) -> Self {
        Self::Deny { reason }
    }

    /// The device token the decision is about, if any.
    pub fn device(&self) -> Option<DeviceId> {
        match self {
            Self::DevicePending { device, .. }
            | Self::Allow {
                reason: AllowReason::DeviceAuthorized { device },
                ..
            } => Some(*device),
            _ => None,
        }
    }

    /// The notification to deliver, if any.
    pub fn notification(&self) -> Option<&Notification> {
        match self {
            Self::DevicePending { notification, .. } => notification.as_ref(),
            _ => None,
        }
    }
}

/// The real reason behind a decision (for the host and its audit log, never
/// for the client), passed as `uint32_t`. 1–99: why allowed; 100–199: why
/// refused; 0: none (enrollment or code required).
///
/// The stable numbering of decision reasons, for logs, the C API and any
/// future wire format: a number or a name is never changed, never reused.
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReasonCode {
    /// No reason applies.
    None = 0,
    /// The account has no second factor (or its platform has 2FA off).
    NoSecondFactor = 1,
    /// A TOTP code was accepted and its step consumed (`m2fa_decision_step`).
    CodeAccepted = 2,
    /// 2FA is suspended until `m2fa_decision_until`.
    Suspended = 3,
    /// The enrollment was confirmed (`m2fa_decision_step`).
    Enrolled = 4,
    /// An e-mail/SMS code was accepted and consumed.
    DeliveredCodeAccepted = 5,
    /// A recovery code was used (`m2fa_decision_remaining` left).
    RecoveryCodeUsed = 6,
    /// The password from an activated device (`m2fa_decision_device`).
    DeviceAuthorized = 7,
    /// A device trusted after a recent code login, from the same network,
    /// until `m2fa_decision_until` (device binding).
    DeviceTrusted = 8,
    /// An application password (`m2fa_decision_app_password_id`).
    AppPassword = 9,
    /// The code is not the expected number of ASCII digits.
    MalformedCode = 100,
    /// A wrong code.
    WrongCode = 101,
    /// The code matched only a wide window: the device clock is off by
    /// `m2fa_decision_clock_skew` steps.
    ClockSkew = 102,
    /// A code that was already used (not counted as a failure).
    Replayed = 103,
    /// Too many wrong codes: locked until `m2fa_decision_until`.
    Locked = 104,
    /// The pending enrollment expired unconfirmed.
    EnrollmentExpired = 105,
    /// The e-mail/SMS code expired (reported once; it is then gone).
    CodeExpired = 106,
    /// No e-mail/SMS code is live: none was issued, or it was used, expired
    /// or died after too many wrong entries.
    NoCodeIssued = 107,
    /// The host's password check failed; nothing is recorded.
    WrongPassword = 108,
    /// The protocol is refused for this account.
    ProtocolRefused = 109,
    /// The protocol only takes application passwords.
    AppPasswordRequired = 110,
    /// An application password on a protocol that does not take them.
    AppPasswordNotAccepted = 111,
    /// A valid application password limited to other protocols.
    AppPasswordOutOfScope = 112,
    /// A wrong application password (not counted: it cannot be guessed).
    WrongAppPassword = 113,
    /// Device authorization needs a device id, device type or user agent.
    DeviceUnidentified = 114,
    /// The mailbox already has the most pending device tokens allowed.
    TooManyPendingDevices = 115,
    /// 2FA is mandatory on the platform and the account is not enrolled:
    /// refused even with the right password (send the user to enrollment).
    NotEnrolled = 116,
}

c_enum_table! {
    pub enum ReasonCode {
        None => "none",
        NoSecondFactor => "no_second_factor",
        CodeAccepted => "code_accepted",
        Suspended => "suspended",
        Enrolled => "enrolled",
        DeliveredCodeAccepted => "delivered_code_accepted",
        RecoveryCodeUsed => "recovery_code_used",
        DeviceAuthorized => "device_authorized",
        DeviceTrusted => "device_trusted",
        AppPassword => "app_password",
        MalformedCode => "malformed_code",
        WrongCode => "wrong_code",
        ClockSkew => "clock_skew",
        Replayed => "replayed",
        Locked => "locked",
        EnrollmentExpired => "enrollment_expired",
        CodeExpired => "code_expired",
        NoCodeIssued => "no_code_issued",
        WrongPassword => "wrong_password",
        ProtocolRefused => "protocol_refused",
        AppPasswordRequired => "app_password_required",
        AppPasswordNotAccepted => "app_password_not_accepted",
        AppPasswordOutOfScope => "app_password_out_of_scope",
        WrongAppPassword => "wrong_app_password",
        DeviceUnidentified => "device_unidentified",
        TooManyPendingDevices => "too_many_pending_devices",
        NotEnrolled => "not_enrolled",
    }
}

impl Decision {
    /// The reason of this decision, by its stable number (`DenyReason` and
    /// `AllowReason` → [`ReasonCode`]): every engine reason is named here (a
    /// new one does not compile until it is).
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            Self::Allow { reason, .. } => match reason {
                AllowReason::NoSecondFactor => ReasonCode::NoSecondFactor,
                AllowReason::CodeAccepted { .. } => ReasonCode::CodeAccepted,
                AllowReason::Suspended { .. } => ReasonCode::Suspended,
                AllowReason::Enrolled { .. } => ReasonCode::Enrolled,
                AllowReason::DeliveredCodeAccepted => ReasonCode::DeliveredCodeAccepted,
                AllowReason::RecoveryCodeUsed { .. } => ReasonCode::RecoveryCodeUsed,
                AllowReason::DeviceAuthorized { .. } => ReasonCode::DeviceAuthorized,
                AllowReason::DeviceTrusted { .. } => ReasonCode::DeviceTrusted,
                AllowReason::AppPassword { .. } => ReasonCode::AppPassword,
            },
            Self::Deny { reason } => match reason {
                DenyReason::MalformedCode => ReasonCode::MalformedCode,
                DenyReason::WrongCode => ReasonCode::WrongCode,
                DenyReason::ClockSkew { .. } => ReasonCode::ClockSkew,
                DenyReason::Replayed => ReasonCode::Replayed,
                DenyReason::Locked { .. } => ReasonCode::Locked,
                DenyReason::EnrollmentExpired => ReasonCode::EnrollmentExpired,
                DenyReason::CodeExpired => ReasonCode::CodeExpired,
                DenyReason::NoCodeIssued => ReasonCode::NoCodeIssued,
                DenyReason::WrongPassword => ReasonCode::WrongPassword,
                DenyReason::ProtocolRefused => ReasonCode::ProtocolRefused,
                DenyReason::AppPasswordRequired => ReasonCode::AppPasswordRequired,
                DenyReason::AppPasswordNotAccepted => ReasonCode::AppPasswordNotAccepted,
                DenyReason::AppPasswordOutOfScope => ReasonCode::AppPasswordOutOfScope,
                DenyReason::WrongAppPassword => ReasonCode::WrongAppPassword,
                DenyReason::DeviceUnidentified => ReasonCode::DeviceUnidentified,
                DenyReason::TooManyPendingDevices => ReasonCode::TooManyPendingDevices,
                DenyReason::NotEnrolled => ReasonCode::NotEnrolled,
            },
            Self::EnrollmentRequired { .. }
            | Self::SecondFactorRequired { .. }
            | Self::DevicePending { .. } => ReasonCode::None,
        }
    }
}

/// A record of one decision for the host's audit log. It names the account,
/// the time and the real outcome, and carries no secret: never the code,
/// the password, the provisioning URI or the secret.
///
/// ```
/// use mail2fa::engine::{AccountId, Decision, DenyReason};
///
/// let id = AccountId::new("example.com", "alice@example.com")?;
/// let decision = Decision::Deny { reason: DenyReason::Locked { until: 1_800_000_060 } };
/// let event = decision.audit_event(&id, 1_800_000_000);
/// assert_eq!(
///     event.to_string(),
///     r#"mail2fa platform="example.com" account="alice@example.com" at=1800000000 answer=refused reason=Locked { until: 1800000060 }"#
/// );
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditEvent {
    /// The account's platform.
    pub platform: String,
    /// The account name.
    pub account: String,
    /// When the decision was made (the `now` the engine was given).
    pub at: u64,
    /// What the client was told.
    pub answer: ClientAnswer,
    /// Why it was allowed, if it was.
    pub allowed: Option<AllowReason>,
    /// Why it was refused, if it was.
    pub denied: Option<DenyReason>,
    /// Whether an auth cache may keep the answer.
    pub cacheable: bool,
    /// The protocol of the login, when the host gave one
    /// ([`AuditEvent::with_protocol`]).
    pub protocol: Option<Protocol>,
    /// The device token involved, if any.
    pub device: Option<DeviceId>,
}

impl AuditEvent {
    /// The same event, naming the login's protocol.
    pub fn with_protocol(mut self, protocol: &Protocol) -> Self {
        self.protocol = Some(protocol.clone());
        self
    }
}

impl Decision {
    /// The audit record of this decision (see [`AuditEvent`]).
    pub fn audit_event(&self, id: &AccountId, at: u64) -> AuditEvent {
        let (allowed, denied, cacheable) = match self {
            Self::Allow { reason, cacheable } => (Some(*reason), None, *cacheable),
            Self::Deny { reason } => (None, Some(*reason), false),
            Self::EnrollmentRequired { .. }
            | Self::SecondFactorRequired { .. }
            | Self::DevicePending { .. } => (None, None, false),
        };
        AuditEvent {
            platform: id.platform().to_owned(),
            account: id.account().to_owned(),
            at,
            answer: self.client_answer(),
            allowed,
            denied,
            cacheable,
            protocol: None,
            device: self.device(),
        }
    }
}

impl core::fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let answer = match self.answer {
            ClientAnswer::Allowed => "allowed",
            ClientAnswer::EnrollmentRequired => "enrollment-required",
            ClientAnswer::SecondFactorRequired => "second-factor-required",
            ClientAnswer::DevicePending => "device-pending",
            ClientAnswer::Refused => "refused",
        };
        // Debug quoting escapes quotes and control characters in names.
        write!(
            f,
            "mail2fa platform={:?} account={:?} at={} answer={answer}",
            self.platform, self.account, self.at
        )?;
        if let Some(protocol) = &self.protocol {
            write!(f, " protocol={protocol}")?;
        }
        if let Some(device) = &self.device {
            write!(f, " device={device}")?;
        }
        if let Some(reason) = &self.allowed {
            write!(f, " reason={reason:?} cacheable={}", self.cacheable)?;
        }
        if let Some(reason) = &self.denied {
            write!(f, " reason={reason:?}")?;
        }
        Ok(())
    }
}
