//! What the engine answers: one decision per call, with the real reason for
//! the host and a uniform answer for the client.

use zeroize::Zeroizing;

use super::Mode;

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
    /// is older than one used). Not counted as a failure: it repeats a code
    /// that worked. An older code outside the window is a [`Self::WrongCode`].
    Replayed,
    /// Too many wrong codes: second-factor attempts refused until `until`.
    Locked {
        /// Unix time the lock ends.
        until: u64,
    },
    /// The pending enrollment was never confirmed and has expired; the
    /// account must be reset (or re-enabled) for a new secret.
    EnrollmentExpired,
    /// The e-mail/SMS code has expired, or died after too many wrong
    /// entries: issue a new one.
    CodeExpired,
    /// An e-mail/SMS account, but no code was issued (or it was used).
    NoCodeIssued,
}

/// The engine's answer to a second-factor step.
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
    /// 2FA is suspended until `until` (lost phone, S8).
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
}

/// What the client may be told: every refusal looks the same, so a locked
/// account, a wrong code and a replay are indistinguishable from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAnswer {
    /// Logged in.
    Allowed,
    /// Must enroll an authenticator first.
    EnrollmentRequired,
    /// Must give a code.
    SecondFactorRequired,
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
}
