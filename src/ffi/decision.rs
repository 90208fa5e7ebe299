//! `m2fa_decision`: the engine's answer, read with getters — the outcome to
//! tell the client (`m2fa_outcome`), the real reason for the host's log
//! (`m2fa_reason`) and the values that go with it — and the names of both
//! enumerations.

use core::ffi::{CStr, c_char};

use zeroize::Zeroizing;

use super::boundary::{
    ffi_boundary, free_handle, handle, out_ptr, static_name, write_handle, write_out, write_text,
};
use super::engine::{HostEngine, engine_and_account, m2fa_engine};
use super::mode::mode_to_c;
use super::notification::m2fa_notification;
use super::status::m2fa_status;
pub use crate::engine::ReasonCode as m2fa_reason;
use crate::engine::{AccountId, AllowReason, Decision, DenyReason, Protocol};
use crate::enum_table::c_enum_table;

/// What the client is told, passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_outcome {
    /// Let the client in.
    M2FA_OUTCOME_ALLOWED = 1,
    /// Show the provisioning URI (`m2fa_decision_uri`) and ask for a first code.
    M2FA_OUTCOME_ENROLLMENT_REQUIRED = 2,
    /// Ask for a code (`m2fa_decision_mode` says which kind).
    M2FA_OUTCOME_SECOND_FACTOR_REQUIRED = 3,
    /// Refused. Give the client the same answer whatever the reason.
    M2FA_OUTCOME_REFUSED = 4,
    /// The password is right but the device must first be authorized:
    /// `m2fa_decision_device` names its INACTIVE token and
    /// `m2fa_decision_notification` may carry a message to deliver.
    M2FA_OUTCOME_DEVICE_PENDING = 5,
}

c_enum_table! {
    impl m2fa_outcome {
        /// The constant's name without its prefix, in lower case.
        fn name(self) -> &'static CStr;
        M2FA_OUTCOME_ALLOWED => c"allowed",
        M2FA_OUTCOME_ENROLLMENT_REQUIRED => c"enrollment_required",
        M2FA_OUTCOME_SECOND_FACTOR_REQUIRED => c"second_factor_required",
        M2FA_OUTCOME_REFUSED => c"refused",
        M2FA_OUTCOME_DEVICE_PENDING => c"device_pending",
    }
}

/// The name of an outcome (an `m2fa_outcome` value): the constant without
/// its `M2FA_OUTCOME_` prefix, in lower case (`M2FA_OUTCOME_DEVICE_PENDING`
/// gives `"device_pending"`). A static NUL-terminated string that lives as
/// long as the library is loaded; NULL for a value this version does not
/// know. The names are stable — never changed, never reused — so logs and
/// scripts may rely on them. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn m2fa_outcome_name(outcome: u32) -> *const c_char {
    static_name(|| m2fa_outcome::from_u32(outcome).map(m2fa_outcome::name))
}

/// The name of a reason (an `m2fa_reason` value): the constant without its
/// `M2FA_REASON_` prefix, in lower case (`M2FA_REASON_CODE_ACCEPTED` gives
/// `"code_accepted"`). A static NUL-terminated string that lives as long as
/// the library is loaded; NULL for a value this version does not know. The
/// names are stable — never changed, never reused — so logs and scripts
/// may rely on them. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn m2fa_reason_name(reason: u32) -> *const c_char {
    static_name(|| m2fa_reason::from_u32(reason).map(m2fa_reason::c_name))
}

/// An engine answer (opaque, immutable). Carries the provisioning URI when
/// there is one: free it (which wipes the URI) as soon as it is shown.
pub struct m2fa_decision {
    pub(super) decision: Decision,
    pub(super) uri: Option<Zeroizing<String>>,
    pub(super) audit: String,
}

/// Wraps a decision into a new handle written to `out`.
///
/// # Safety
/// `out` came from `out_ptr`.
unsafe fn write_decision(
    out: *mut *mut m2fa_decision,
    decision: Decision,
    uri: Option<Zeroizing<String>>,
    id: &AccountId,
    now: u64,
) {
    let audit = decision.audit_event(id, now).to_string();
    let uri = match &decision {
        Decision::EnrollmentRequired { uri } => Some(uri.clone()),
        _ => uri,
    };
    // SAFETY: forwarded contract.
    unsafe {
        write_handle(
            out,
            m2fa_decision {
                decision,
                uri,
                audit,
            },
        )
    };
}

/// Wraps the decision of a whole login into a new handle written to `out`,
/// its audit line naming the protocol.
///
/// # Safety
/// `out` came from `out_ptr`.
pub(super) unsafe fn write_login_decision(
    out: *mut *mut m2fa_decision,
    decision: Decision,
    id: &AccountId,
    protocol: &Protocol,
    now: u64,
) {
    let audit = decision
        .audit_event(id, now)
        .with_protocol(protocol)
        .to_string();
    let handle = m2fa_decision {
        decision,
        uri: None,
        audit,
    };
    // SAFETY: forwarded contract.
    unsafe { write_handle(out, handle) };
}

/// Runs an account operation that yields a decision, and hands the decision
/// to C in `*out`.
///
/// # Safety
/// Pointer contracts of `m2fa_engine_login`.
pub(super) unsafe fn decide(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    now: u64,
    out: *mut *mut m2fa_decision,
    operation: impl FnOnce(
        &HostEngine,
        &AccountId,
    ) -> Result<(Decision, Option<Zeroizing<String>>), m2fa_status>,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        let (decision, uri) = operation(engine, &id)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_decision(out, decision, uri, &id, now) };
        Ok(())
    })
}

/// Reads one value of a decision.
///
/// # Safety
/// `decision` is NULL or live; `out` is NULL or writable.
pub(super) unsafe fn read_decision<T>(
    decision: *const m2fa_decision,
    out: *mut T,
    field: impl FnOnce(&m2fa_decision) -> Option<T>,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: forwarded contract.
        let decision = unsafe { handle(decision) }?;
        let value = field(decision).ok_or(m2fa_status::M2FA_INVALID_ARGUMENT)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, value) };
        Ok(())
    })
}

/// Writes the outcome (an `m2fa_outcome` value: what to tell the client).
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_outcome(
    decision: *const m2fa_decision,
    outcome: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { read_decision(decision, outcome, |d| Some(outcome_of(&d.decision) as u32)) }
}

/// The outcome of an engine decision: every kind of decision is named here
/// (a new one does not compile until it is).
fn outcome_of(decision: &Decision) -> m2fa_outcome {
    match decision {
        Decision::Allow { .. } => m2fa_outcome::M2FA_OUTCOME_ALLOWED,
        Decision::EnrollmentRequired { .. } => m2fa_outcome::M2FA_OUTCOME_ENROLLMENT_REQUIRED,
        Decision::SecondFactorRequired { .. } => m2fa_outcome::M2FA_OUTCOME_SECOND_FACTOR_REQUIRED,
        Decision::DevicePending { .. } => m2fa_outcome::M2FA_OUTCOME_DEVICE_PENDING,
        Decision::Deny { .. } => m2fa_outcome::M2FA_OUTCOME_REFUSED,
    }
}

/// Writes the real reason (an `m2fa_reason` value) — for logs, never for
/// the client.
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_reason(
    decision: *const m2fa_decision,
    reason: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe { read_decision(decision, reason, |d| Some(d.decision.reason_code() as u32)) }
}

/// Writes 1 if an auth cache may keep this answer, else 0: 1 only for an
/// account that has no 2FA at all (its code, if any, is ignored); 0 whenever
/// a one-time code was checked, during a suspension, and for an account
/// whose platform has 2FA off (it may be turned on again).
///
/// Errors: `M2FA_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_cacheable(
    decision: *const m2fa_decision,
    cacheable: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, cacheable, |d| {
            Some(u32::from(matches!(
                d.decision,
                Decision::Allow {
                    cacheable: true,
                    ..
                }
            )))
        })
    }
}

/// Writes the consumed time step of `M2FA_REASON_CODE_ACCEPTED` /
/// `M2FA_REASON_ENROLLED`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other reasons.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_step(
    decision: *const m2fa_decision,
    step: *mut u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, step, |d| match d.decision {
            Decision::Allow {
                reason: AllowReason::CodeAccepted { step } | AllowReason::Enrolled { step },
                ..
            } => Some(step),
            _ => None,
        })
    }
}

/// Writes the end of a lock (`M2FA_REASON_LOCKED`), of a suspension
/// (`M2FA_REASON_SUSPENDED`) or of a device binding
/// (`M2FA_REASON_DEVICE_TRUSTED`), Unix seconds.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other reasons.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_until(
    decision: *const m2fa_decision,
    until: *mut u64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, until, |d| match d.decision {
            Decision::Deny {
                reason: DenyReason::Locked { until },
            }
            | Decision::Allow {
                reason: AllowReason::Suspended { until } | AllowReason::DeviceTrusted { until },
                ..
            } => Some(until),
            _ => None,
        })
    }
}

/// Writes the clock offset in steps of `M2FA_REASON_CLOCK_SKEW` (negative:
/// the device is behind).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other reasons.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_clock_skew(
    decision: *const m2fa_decision,
    steps: *mut i64,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, steps, |d| match d.decision {
            Decision::Deny {
                reason: DenyReason::ClockSkew { steps },
            } => Some(steps),
            _ => None,
        })
    }
}

/// Writes the recovery codes left after `M2FA_REASON_RECOVERY_CODE_USED`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other reasons.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_remaining(
    decision: *const m2fa_decision,
    remaining: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, remaining, |d| match d.decision {
            Decision::Allow {
                reason: AllowReason::RecoveryCodeUsed { remaining },
                ..
            } => u32::try_from(remaining).ok(),
            _ => None,
        })
    }
}

/// Writes the kind of code asked for (an `m2fa_mode` value) by
/// `M2FA_OUTCOME_SECOND_FACTOR_REQUIRED`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other outcomes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_mode(
    decision: *const m2fa_decision,
    mode: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, mode, |d| match d.decision {
            Decision::SecondFactorRequired { mode } => Some(mode_to_c(mode)),
            _ => None,
        })
    }
}

/// Writes the provisioning URI (enrollment required, or an allowed
/// self-service reset) into `(buf, len)`. It contains the secret: show it
/// once and wipe the buffer.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`),
/// `M2FA_INVALID_ARGUMENT` when the decision has no URI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_uri(
    decision: *const m2fa_decision,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let decision = unsafe { handle(decision) }?;
        let uri = decision
            .uri
            .as_ref()
            .ok_or(m2fa_status::M2FA_INVALID_ARGUMENT)?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(uri, buf, len, needed) }
    })
}

/// Writes a one-line audit record of the decision (account, time, outcome,
/// reason; never a secret or a code) into `(buf, len)`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_audit(
    decision: *const m2fa_decision,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let decision = unsafe { handle(decision) }?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(&decision.audit, buf, len, needed) }
    })
}

/// Writes the device token id (32 hex digits) of a device-pending or
/// device-authorized decision into `(buf, len)`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_BUFFER_TOO_SMALL` (with `*needed`),
/// `M2FA_INVALID_ARGUMENT` when no device is involved.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_device(
    decision: *const m2fa_decision,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: live handle per the contract.
        let decision = unsafe { handle(decision) }?;
        let device = decision
            .decision
            .device()
            .ok_or(m2fa_status::M2FA_INVALID_ARGUMENT)?;
        // SAFETY: buffer contract of this function.
        unsafe { write_text(&device.to_string(), buf, len, needed) }
    })
}

/// Writes the number of the application password of
/// `M2FA_REASON_APP_PASSWORD`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` for other reasons.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_app_password_id(
    decision: *const m2fa_decision,
    id: *mut u32,
) -> m2fa_status {
    // SAFETY: forwarded contract.
    unsafe {
        read_decision(decision, id, |d| match d.decision {
            Decision::Allow {
                reason: AllowReason::AppPassword { id },
                ..
            } => Some(id),
            _ => None,
        })
    }
}

/// Copies the notification of a device-pending decision into a new handle
/// `*out` (release with `m2fa_notification_free`).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_ARGUMENT` when there is none
/// to send (the user was told recently, or has no destination).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_notification(
    decision: *const m2fa_decision,
    out: *mut *mut m2fa_notification,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: live handle per the contract.
        let decision = unsafe { handle(decision) }?;
        let notification = decision
            .decision
            .notification()
            .ok_or(m2fa_status::M2FA_INVALID_ARGUMENT)?
            .clone();
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_notification { notification }) };
        Ok(())
    })
}

/// Frees a decision (its URI, if any, is wiped). NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_decision_free(decision: *mut m2fa_decision) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(decision) };
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented rule: the constant without its prefix, in lower case.
    fn expected(constant: impl core::fmt::Debug, prefix: &str) -> String {
        let constant = format!("{constant:?}");
        constant
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{constant} lacks {prefix}"))
            .to_ascii_lowercase()
    }

    /// The C constant cbindgen makes of an engine variant (its name in
    /// screaming snake case, after the enum's C prefix).
    fn c_constant(variant: impl core::fmt::Debug, prefix: &str) -> String {
        let mut constant = prefix.to_owned();
        for (i, c) in format!("{variant:?}").chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                constant.push('_');
            }
            constant.push(c.to_ascii_uppercase());
        }
        constant
    }

    /// The first number after the highest in `range` that `known` holds.
    fn next_free(known: impl IntoIterator<Item = u32>, range: core::ops::Range<u32>) -> u32 {
        known
            .into_iter()
            .filter(|n| range.contains(n))
            .max()
            .map_or(range.start, |n| n + 1)
    }

    fn name_of(pointer: *const c_char) -> Option<String> {
        // SAFETY: NULL or a static NUL-terminated string.
        (!pointer.is_null()).then(|| unsafe { CStr::from_ptr(pointer) }.to_str().unwrap().into())
    }

    #[test]
    fn every_outcome_and_reason_has_its_constant_name() {
        for outcome in m2fa_outcome::ALL {
            assert_eq!(
                name_of(m2fa_outcome_name(outcome as u32)),
                Some(expected(outcome, "M2FA_OUTCOME_"))
            );
        }
        for reason in m2fa_reason::ALL {
            assert_eq!(
                name_of(m2fa_reason_name(reason as u32)),
                Some(expected(
                    format_args!("{}", c_constant(reason, "M2FA_REASON_")),
                    "M2FA_REASON_"
                ))
            );
        }
        assert_eq!(
            name_of(m2fa_reason_name(m2fa_reason::CodeAccepted as u32)).as_deref(),
            Some("code_accepted")
        );
        // The tables hold each value once; every other number is unknown.
        let named = (0..=1000u32)
            .filter(|n| !m2fa_outcome_name(*n).is_null())
            .count();
        assert_eq!(named, m2fa_outcome::ALL.len());
        let named = (0..=1000u32)
            .filter(|n| !m2fa_reason_name(*n).is_null())
            .count();
        assert_eq!(named, m2fa_reason::ALL.len());
        let next_outcome = next_free(m2fa_outcome::ALL.map(|o| o as u32), 0..100);
        for unknown in [0, next_outcome, 99, u32::MAX] {
            assert!(m2fa_outcome_name(unknown).is_null());
        }
        let reasons = m2fa_reason::ALL.map(|r| r as u32);
        let next_allowed = next_free(reasons, 0..100);
        let next_refused = next_free(reasons, 100..200);
        for unknown in [next_allowed, 99, next_refused, 200, u32::MAX] {
            assert!(m2fa_reason_name(unknown).is_null());
        }
    }
}
