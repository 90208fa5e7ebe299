//! An account's 2FA from start to end: enabling it and confirming the
//! enrollment, suspending it, resetting it and removing it
//! as an operator, lifting a lockout, and the user's own reset or
//! removal with a code.

use zeroize::Zeroizing;

use super::account::{Account, Lockout, TotpState};
use super::account_id::AccountId;
use super::codes;
use super::core::{Engine, MAX_ATTEMPTS};
use super::decision::Decision;
use super::login::CodeCheck;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::store::{Change, Store, read_modify_write};

impl<S: Store> Engine<S> {
    /// Enables 2FA for an account: a fresh secret, pending until a
    /// first valid code confirms it. Returns the provisioning URI to show
    /// (as a QR code); it contains the secret.
    ///
    /// An enrollment that expired unconfirmed is replaced.
    ///
    /// # Errors
    /// [`Error::PlatformDisabled`], [`Error::AlreadyEnabled`], storage
    /// and randomness errors.
    pub fn enable_account(&self, id: &AccountId, now: u64) -> Result<Zeroizing<String>> {
        if !self.platform_enabled(&id.platform)? {
            return Err(Error::PlatformDisabled);
        }
        let secret = Secret::generate()?;
        // Built before anything is stored: if it cannot be, nothing changes.
        let uri = self.provisioning_uri(id, &secret, self.config.totp)?;
        let generation = u64::from_be_bytes(codes::random_bytes()?);
        let record = self.seal_account(id, &self.pending(&secret, now, generation))?;
        read_modify_write(
            &self.store,
            &id.store_key(),
            MAX_ATTEMPTS,
            |current| match current {
                None => Ok(Change::Write(Some(record.clone()), ())),
                // An enrollment never confirmed and expired may start over.
                Some(bytes) => match self.open_account(id, bytes)?.totp {
                    TotpState::Pending { expires_at, .. } if now >= expires_at => {
                        Ok(Change::Write(Some(record.clone()), ()))
                    }
                    _ => Err(Error::AlreadyEnabled),
                },
            },
        )?;
        Ok(uri)
    }

    /// Confirms a pending enrollment with the first code of the user's
    /// authenticator app, and returns the decision on that code — what
    /// [`Engine::login`] with the code decides for a pending account, in the
    /// same single atomic change: [`AllowReason::Enrolled`] (the code is
    /// consumed, 2FA is active from now on), or a denial counted towards
    /// the lockout like a login's ([`DenyReason::WrongCode`],
    /// [`DenyReason::Locked`], [`DenyReason::EnrollmentExpired`]...).
    ///
    /// Unlike a login, a running suspension does not let the call
    /// through without checking the code, and a recovery code does not
    /// confirm anything (refused as [`DenyReason::MalformedCode`], and not
    /// spent): only a code of the new secret proves the app was set up.
    ///
    /// ```
    /// use mail2fa::engine::{AccountId, AllowReason, Decision, Engine, EngineConfig};
    /// use mail2fa::store::MemoryStore;
    /// use mail2fa::{Error, Totp};
    ///
    /// let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
    /// let alice = AccountId::new("example.com", "alice@example.com")?;
    /// let now = 1_800_000_000;
    /// engine.enable_platform("example.com", true)?;
    /// let uri = engine.enable_account(&alice, now)?; // shown to alice as a QR code
    ///
    /// // Her app scans it and shows the current code, which she types in.
    /// let code = Totp::from_uri(&uri)?.generate(now)?;
    /// let decision = engine.confirm_enrollment(&alice, code.as_str(), now)?;
    /// assert!(matches!(
    ///     decision,
    ///     Decision::Allow { reason: AllowReason::Enrolled { .. }, .. }
    /// ));
    ///
    /// // Nothing is pending any more: an error, and the code is not spent.
    /// let next = Totp::from_uri(&uri)?.generate(now + 30)?;
    /// let again = engine.confirm_enrollment(&alice, next.as_str(), now + 30);
    /// assert_eq!(again, Err(Error::AlreadyEnabled));
    /// assert!(engine.login(&alice, Some(next.as_str()), now + 30)?.is_allowed());
    /// # Ok::<(), mail2fa::Error>(())
    /// ```
    ///
    /// # Errors
    /// Without a pending enrollment nothing is changed and no code is
    /// consumed: [`Error::NotEnabled`] for an account without 2FA,
    /// [`Error::AlreadyEnabled`] for one whose 2FA is active (an app
    /// enrollment confirmed, even while suspended or locked, or e-mail or
    /// SMS codes);
    /// [`Error::PlatformDisabled`] while 2FA is off for the platform (a
    /// login passes without a code then). Storage errors and unreadable
    /// records, as for [`Engine::login`].
    ///
    /// [`AllowReason::Enrolled`]: crate::engine::AllowReason::Enrolled
    /// [`DenyReason::WrongCode`]: crate::engine::DenyReason::WrongCode
    /// [`DenyReason::Locked`]: crate::engine::DenyReason::Locked
    /// [`DenyReason::EnrollmentExpired`]: crate::engine::DenyReason::EnrollmentExpired
    /// [`DenyReason::MalformedCode`]: crate::engine::DenyReason::MalformedCode
    pub fn confirm_enrollment(&self, id: &AccountId, code: &str, now: u64) -> Result<Decision> {
        // The platform record is read once, not again on a retried swap
        // (as in `login`).
        let mut platform_on: Option<bool> = None;
        read_modify_write(&self.store, &id.store_key(), MAX_ATTEMPTS, |bytes| {
            let account = self.open_account(id, bytes.ok_or(Error::NotEnabled)?)?;
            if !account.enrollment_pending() {
                return Err(Error::AlreadyEnabled);
            }
            let on = match platform_on {
                Some(on) => on,
                None => *platform_on.insert(self.platform_required(&id.platform)?),
            };
            if !on {
                return Err(Error::PlatformDisabled);
            }
            let (decision, next) =
                self.decide_login(id, account, Some(code), now, CodeCheck::Enrollment)?;
            self.write_if_changed(id, next, decision)
        })
    }

    /// Suspends 2FA for `seconds` from `now` (lost phone); it re-arms by
    /// itself. Returns when. `seconds` is at most
    /// [`EngineConfig::max_suspension`]: a longer suspension is refused, not
    /// shortened, so that 2FA cannot be switched off for good this way.
    /// Zero ends a suspension at once.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for more than `max_suspension` seconds, or a
    /// `now + seconds` beyond the 64-bit range; [`Error::NotEnabled`],
    /// storage errors.
    ///
    /// [`EngineConfig::max_suspension`]: crate::engine::EngineConfig::max_suspension
    pub fn suspend(&self, id: &AccountId, seconds: u64, now: u64) -> Result<u64> {
        if seconds > self.config.max_suspension {
            return Err(Error::InvalidInput(
                "a suspension may last at most max_suspension seconds",
            ));
        }
        let until = now.checked_add(seconds).ok_or(Error::InvalidInput(
            "the suspension would end beyond 64-bit time",
        ))?;
        self.update(id, |mut account| {
            account.suspended_until = Some(until);
            Ok((Some(account), until))
        })
    }

    /// Resets 2FA (new phone): a new secret, pending enrollment; every
    /// code of the old secret, and any live e-mail/SMS code, fails from this
    /// moment. Returns the new URI.
    ///
    /// # Errors
    /// [`Error::NotEnabled`], storage and randomness errors.
    pub fn reset(&self, id: &AccountId, now: u64) -> Result<Zeroizing<String>> {
        let secret = Secret::generate()?;
        let uri = self.provisioning_uri(id, &secret, self.config.totp)?;
        let expires_at = now.saturating_add(self.config.enrollment_ttl);
        let generation = u64::from_be_bytes(codes::random_bytes()?);
        self.update(id, |mut account| {
            self.reset_account(&mut account, &secret, expires_at, generation);
            Ok((Some(account), ()))
        })?;
        self.scrub();
        Ok(uri)
    }

    /// Removes 2FA from the account; its secret is destroyed, and its
    /// device tokens, bindings and application passwords are revoked.
    ///
    /// # Errors
    /// [`Error::NotEnabled`], storage errors.
    pub fn remove(&self, id: &AccountId) -> Result<()> {
        // The account's generation goes with it: its device tokens and
        // application passwords are dead from this write on. Their record is
        // then deleted too, as housekeeping only: if that fails, the removal
        // has still happened and the old record can never be used again (a
        // new enablement has a new generation).
        self.update(id, |_| Ok((None, ())))?;
        let _housekeeping =
            read_modify_write(&self.store, &id.clients_key(), MAX_ATTEMPTS, |bytes| {
                Ok::<_, Error>(match bytes {
                    Some(_) => Change::Write(None, ()),
                    None => Change::Keep(()),
                })
            });
        self.scrub();
        Ok(())
    }

    /// Lifts a lockout (an operator's action).
    ///
    /// # Errors
    /// [`Error::NotEnabled`], storage errors.
    pub fn unlock(&self, id: &AccountId) -> Result<()> {
        self.update(id, |mut account| {
            account.lockout = Lockout::default();
            Ok((Some(account), ()))
        })
    }

    /// The user turns 2FA off themself: only with a valid code, which
    /// is consumed. Returns the decision on the code; 2FA is removed (in the
    /// same atomic change) only if it is [`Decision::Allow`].
    ///
    /// # Errors
    /// [`Error::NotEnabled`] (also for an enrollment not yet confirmed);
    /// otherwise as [`Engine::login`].
    pub fn disable_with_code(&self, id: &AccountId, code: &str, now: u64) -> Result<Decision> {
        let decision = self.with_proof_of_possession(id, code, now, |_| None)?;
        if decision.is_allowed() {
            self.scrub();
        }
        Ok(decision)
    }

    /// Proves the second factor for a change the user makes themself (a
    /// portal creating application passwords or recovery codes, changing
    /// where codes go, authorizing a device): a code of the account's
    /// authenticator, or an e-mail/SMS code in those modes, or a recovery
    /// code, is demanded even while 2FA is suspended or its platform is
    /// off — unlike a login, which a suspension lets in without one. The
    /// code is consumed; a wrong one counts toward the lockout. Nothing
    /// else changes.
    ///
    /// ```
    /// use mail2fa::engine::{AccountId, Engine, EngineConfig};
    /// use mail2fa::store::MemoryStore;
    /// use mail2fa::{KeyUri, Totp};
    ///
    /// let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
    /// let alice = AccountId::new("example.com", "alice@example.com")?;
    /// let now = 1_800_000_000;
    /// engine.enable_platform("example.com", true)?;
    /// let uri = engine.enable_account(&alice, now)?;
    /// let key = KeyUri::parse(&uri)?;
    /// let phone = Totp::new(key.secret(), key.totp_config().unwrap());
    /// engine.confirm_enrollment(&alice, phone.generate(now)?.as_str(), now)?;
    /// engine.suspend(&alice, 3600, now)?;
    /// // Suspended: a login needs no code, a self-service change still does.
    /// assert!(!engine.prove_possession(&alice, "000000", now + 30)?.is_allowed());
    /// let code = phone.generate(now + 30)?;
    /// assert!(engine.prove_possession(&alice, code.as_str(), now + 30)?.is_allowed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NotEnabled`] (also for an enrollment not yet confirmed);
    /// otherwise as [`Engine::login`].
    pub fn prove_possession(&self, id: &AccountId, code: &str, now: u64) -> Result<Decision> {
        self.with_proof_of_possession(id, code, now, Some)
    }

    /// The user resets 2FA themself: only with a valid code. Returns
    /// the decision and, if allowed, the new provisioning URI; the check and
    /// the reset are one atomic change.
    ///
    /// # Errors
    /// As [`Engine::disable_with_code`].
    pub fn reset_with_code(
        &self,
        id: &AccountId,
        code: &str,
        now: u64,
    ) -> Result<(Decision, Option<Zeroizing<String>>)> {
        let secret = Secret::generate()?;
        let uri = self.provisioning_uri(id, &secret, self.config.totp)?;
        let expires_at = now.saturating_add(self.config.enrollment_ttl);
        let generation = u64::from_be_bytes(codes::random_bytes()?);
        let decision = self.with_proof_of_possession(id, code, now, |mut account| {
            self.reset_account(&mut account, &secret, expires_at, generation);
            Some(account)
        })?;
        Ok(if decision.is_allowed() {
            self.scrub();
            (decision, Some(uri))
        } else {
            (decision, None)
        })
    }

    /// Checks a code that an enrolled account must give even while 2FA is
    /// suspended, and applies `action` to the account (`None`: remove it) in
    /// the same write if the code is good.
    fn with_proof_of_possession(
        &self,
        id: &AccountId,
        code: &str,
        now: u64,
        action: impl Fn(Account) -> Option<Account>,
    ) -> Result<Decision> {
        read_modify_write(&self.store, &id.store_key(), MAX_ATTEMPTS, |bytes| {
            let account = self.open_account(id, bytes.ok_or(Error::NotEnabled)?)?;
            if account.enrollment_pending() {
                return Err(Error::NotEnabled);
            }
            let (decision, next) =
                self.decide_login(id, account, Some(code), now, CodeCheck::SelfService)?;
            match next {
                Some(checked) if decision.is_allowed() => {
                    let bytes = action(checked.account)
                        .map(|a| self.seal_account(id, &a))
                        .transpose()?;
                    Ok(Change::Write(bytes, decision))
                }
                next => self.write_if_changed(id, next, decision),
            }
        })
    }

    /// A new pending secret: everything tied to the old authenticator dies;
    /// the lockout, contact and recovery codes stay (a reset must not hand
    /// out a fresh quota). Device tokens, bindings and application passwords
    /// die too if the policy says so (a new `generation`).
    fn reset_account(
        &self,
        account: &mut Account,
        secret: &Secret,
        expires_at: u64,
        generation: u64,
    ) {
        if self.config.devices.reset_revokes_clients {
            account.generation = generation;
        }
        // Bindings were earned with codes of the old secret: never kept.
        account.bind_epoch = generation;
        account.config = self.config.totp;
        account.totp = TotpState::Pending {
            secret: secret.clone(),
            expires_at,
        };
        account.delivered = None;
    }
}
