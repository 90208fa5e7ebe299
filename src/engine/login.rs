//! Where a code login is decided: [`Engine::login`] and the pure decision
//! behind every second-factor check — enrollment, suspension, lockout
//!, TOTP codes with replay and clock-skew diagnosis, and the dispatch
//! to recovery codes and e-mail/SMS codes.

use super::account::{Account, Lockout, Mode, TotpState};
use super::account_id::AccountId;
use super::codes;
use super::config::LockoutPolicy;
use super::core::{Engine, MAX_ATTEMPTS};
use super::decision::{AllowReason, Decision, DenyReason};
use super::recovery::check_recovery_code;
use crate::error::{Error, Result};
use crate::otp::Totp;
use crate::store::{Change, Store, read_modify_write};

impl<S: Store> Engine<S> {
    /// The second-factor decision for a login whose password the host has
    /// already checked. `code` is what the client gave (`None`: nothing).
    ///
    /// * no 2FA → allowed, cacheable; platform off → allowed, not cacheable
    ///   (it may be turned on again while a cache holds the answer);
    /// * on a platform where 2FA is mandatory
    ///   ([`EngineConfig::mandatory_platforms`]): no 2FA → refused
    ///   ([`DenyReason::NotEnrolled`]); the platform is never off;
    /// * pending enrollment: no code → [`Decision::EnrollmentRequired`] with
    ///   the URI; a valid code → enrolled and allowed, the code consumed
    ///   (what [`Engine::confirm_enrollment`] does, and only that);
    /// * enrolled: a valid code for a step after the last one used → allowed
    ///   and the step consumed; anything else → denied with the reason;
    /// * suspended → allowed without a code until the suspension ends;
    /// * locked → denied without looking at the code.
    ///
    /// # Errors
    /// Storage errors and unreadable records: refuse the login.
    ///
    /// [`EngineConfig::mandatory_platforms`]: crate::engine::EngineConfig::mandatory_platforms
    pub fn login(&self, id: &AccountId, code: Option<&str>, now: u64) -> Result<Decision> {
        let no_second_factor = Decision::Allow {
            reason: AllowReason::NoSecondFactor,
            cacheable: true,
        };
        // Read once, and only for accounts that have 2FA.
        let mut platform_on: Option<bool> = None;
        read_modify_write(&self.store, &id.store_key(), MAX_ATTEMPTS, |bytes| {
            let Some(bytes) = bytes else {
                if self.is_mandatory(&id.platform) {
                    // Absence is not consent where 2FA is mandatory.
                    return Ok(Change::Keep(Decision::deny(DenyReason::NotEnrolled)));
                }
                return Ok(Change::Keep(no_second_factor.clone()));
            };
            // Decoded first, so that a corrupt record is an error even on a
            // platform that is off.
            let account = self.open_account(id, bytes)?;
            let on = match platform_on {
                Some(on) => on,
                None => *platform_on.insert(self.platform_required(&id.platform)?),
            };
            if !on {
                // 2FA is off for the platform; an auth cache must not keep the
                // answer past the moment it is turned on again.
                return Ok(Change::Keep(Decision::Allow {
                    reason: AllowReason::NoSecondFactor,
                    cacheable: false,
                }));
            }
            let (decision, next) = self.decide_login(id, account, code, now, CodeCheck::Login)?;
            self.write_if_changed(id, next, decision)
        })
    }

    /// The decision for one login attempt on `account` (or one check of a
    /// code for `check`'s purpose), and the new state to store with it
    /// (`None`: nothing changed). Pure: it may run again after a lost race.
    pub(super) fn decide_login(
        &self,
        id: &AccountId,
        mut account: Account,
        code: Option<&str>,
        now: u64,
        check: CodeCheck,
    ) -> Result<(Decision, Option<Next>)> {
        if let Some(until) = account
            .suspended_until
            .filter(|&until| self.suspension_honoured(until, now))
        {
            if check == CodeCheck::Login {
                let decision = Decision::Allow {
                    reason: AllowReason::Suspended { until },
                    // The suspension ends on its own; a cache must not outlive it.
                    cacheable: false,
                };
                return Ok((decision, None));
            }
        } else {
            // Re-armed by itself: forget the old suspension when next writing.
            account.suspended_until = None;
        }
        if let (Mode::Totp, TotpState::Pending { secret, expires_at }) =
            (account.mode, &account.totp)
        {
            if now >= *expires_at {
                return Ok((Decision::deny(DenyReason::EnrollmentExpired), None));
            }
            if code.is_none() {
                let uri = self.provisioning_uri(id, secret, account.config)?;
                return Ok((Decision::EnrollmentRequired { uri }, None));
            }
        }
        // Before the lock check: asking for a code must look the same whether
        // or not the account is locked, or the password alone reveals it.
        let Some(code) = code else {
            let decision = Decision::SecondFactorRequired { mode: account.mode };
            return Ok((decision, None));
        };
        if let Some(until) = account.lockout.locked_until.filter(|&until| now < until) {
            return Ok((Decision::deny(DenyReason::Locked { until }), None));
        }

        let recovery = codes::canonical_recovery_code(code)
            .filter(|_| !account.recovery.tags.is_empty() && check != CodeCheck::Enrollment);
        // A delivered (e-mail/SMS) code's check changes its record even
        // when it fails (a count, then its removal).
        let delivered = recovery.is_none() && account.mode != Mode::Totp;
        let outcome = match (recovery, account.mode) {
            (Some(canonical), _) => check_recovery_code(&mut account, &canonical),
            (None, Mode::Totp) => self.check_totp(&mut account, code, now)?,
            (None, Mode::Email | Mode::Sms) => self.check_delivered(&mut account, code, now),
        };
        Ok(match outcome {
            Ok(reason) => {
                account.lockout = Lockout::default();
                account.last_used = Some(now);
                let decision = Decision::Allow {
                    reason,
                    cacheable: false,
                };
                (decision, Some(Next::durable(account)))
            }
            // A replay only repeats a code that already worked: it teaches an
            // attacker nothing, so it is not a failure. (Mail clients open
            // several connections with the same password+code string.)
            Err(DenyReason::Replayed) => (Decision::deny(DenyReason::Replayed), None),
            Err(reason) => {
                let level = account.lockout.level;
                register_failure(&mut account.lockout, &self.config.lockout, now);
                // Only the count of a wrong TOTP or recovery code that
                // starts no lock may wait for the disk: a lock, and a
                // delivered code's count or removal, are durable.
                let durable = delivered || account.lockout.level != level;
                (Decision::deny(reason), Some(Next { account, durable }))
            }
        })
    }

    /// The store change for a decision of [`Engine::decide_login`]: write
    /// the new state if there is one — durably, except a count of wrong
    /// codes that starts no lock (`Next::durable` false), which is written
    /// without waiting for the disk ([`Store::compare_and_swap_relaxed`]):
    /// a wrong guess does not cost a synchronous write, and only a power
    /// failure or an operating system crash could lose that count (never a
    /// crash of the host).
    pub(super) fn write_if_changed(
        &self,
        id: &AccountId,
        next: Option<Next>,
        decision: Decision,
    ) -> Result<Change<Decision>> {
        Ok(match next {
            // Without encryption, the record as encoded: the in-memory
            // store need not hash it again.
            Some(Next { account, durable }) if self.config.encryption.is_none() => {
                Change::WriteEncoded {
                    record: account.encode()?,
                    relaxed: !durable,
                    value: decision,
                }
            }
            Some(Next {
                account,
                durable: true,
            }) => Change::Write(Some(self.seal_account(id, &account)?), decision),
            Some(Next { account, .. }) => {
                Change::WriteRelaxed(self.seal_account(id, &account)?, decision)
            }
            None => Change::Keep(decision),
        })
    }

    /// A TOTP code: accepted once, for a step after the last one used.
    fn check_totp(
        &self,
        account: &mut Account,
        code: &str,
        now: u64,
    ) -> Result<Result<AllowReason, DenyReason>> {
        let (secret, last_step) = match &account.totp {
            TotpState::Pending { secret, .. } => (secret, None),
            TotpState::Confirmed { secret, last_step } => (secret, *last_step),
        };
        let totp = Totp::new(secret, account.config);
        let verdict = match last_step {
            Some(last) => totp.verify_after(code, now, last),
            None => totp.verify(code, now),
        };
        Ok(match verdict {
            Ok(Some(step)) => Ok(match &mut account.totp {
                // The hot path: only the step changes, the secret stays put.
                TotpState::Confirmed { last_step, .. } => {
                    *last_step = Some(step);
                    AllowReason::CodeAccepted { step }
                }
                TotpState::Pending { secret, .. } => {
                    account.totp = TotpState::Confirmed {
                        secret: secret.clone(),
                        last_step: Some(step),
                    };
                    AllowReason::Enrolled { step }
                }
            }),
            Ok(None) => Err(self.refusal_reason(&totp, code, now, last_step)),
            Err(Error::MalformedCode { .. }) => Err(DenyReason::MalformedCode),
            Err(other) => return Err(other),
        })
    }

    /// Why a well-formed TOTP code was refused: a replay, a skewed clock, or
    /// simply wrong. Only computed on refusals.
    fn refusal_reason(&self, totp: &Totp, code: &str, now: u64, last: Option<u64>) -> DenyReason {
        if let (Some(last), Ok(Some(step))) = (last, totp.verify(code, now)) {
            if step <= last {
                return DenyReason::Replayed;
            }
        }
        // The last code used, however old: a mail client reconnecting with
        // its stored password+code string. It repeats a code that worked and
        // teaches nothing, so it must not lock the account.
        if last.is_some_and(|last| totp.generate_at_step(last) == code) {
            return DenyReason::Replayed;
        }
        let window = self.config.diagnostic_window;
        if let (Ok(current), Ok(Some(step))) = (
            totp.step_at(now),
            totp.verify_with_window(code, now, window, last),
        ) {
            let steps = i64::try_from(i128::from(step) - i128::from(current)).unwrap_or(0);
            if steps != 0 {
                return DenyReason::ClockSkew { steps };
            }
        }
        DenyReason::WrongCode
    }
}

/// What a code is checked for, where that changes the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CodeCheck {
    /// A login: a running suspension lets it in without a code, and a
    /// recovery code stands in for any code.
    Login,
    /// A self-service change: a code is demanded even while 2FA is
    /// suspended; a recovery code stands in for it.
    SelfService,
    /// The confirmation of a pending enrollment: only a code of the
    /// new authenticator proves it was set up, so a code is demanded even
    /// while 2FA is suspended, and a recovery code is not one (it is not
    /// spent: it is refused as a malformed code).
    Enrollment,
}

/// The state a login decision leaves, to be written.
pub(super) struct Next {
    /// The account as it is to be stored.
    pub(super) account: Account,
    /// Written durably (everything but a count of wrong codes that starts
    /// no lock; see [`Engine::write_if_changed`]).
    pub(super) durable: bool,
}

impl Next {
    fn durable(account: Account) -> Self {
        Self {
            account,
            durable: true,
        }
    }
}

/// Counts a wrong code and locks when the policy says so.
fn register_failure(lockout: &mut Lockout, policy: &LockoutPolicy, now: u64) {
    lockout.failures = lockout.failures.saturating_add(1);
    if lockout.failures >= policy.max_failures {
        lockout.level = lockout.level.saturating_add(1);
        let doublings = lockout.level.saturating_sub(1).min(63);
        let length = policy
            .first_lock
            .checked_shl(doublings)
            .filter(|&l| l >> doublings == policy.first_lock)
            .unwrap_or(policy.max_lock)
            .min(policy.max_lock);
        lockout.locked_until = Some(now.saturating_add(length));
        // No fresh quota when the lock ends: one more wrong code locks again.
        lockout.failures = policy.max_failures - 1;
    }
}
