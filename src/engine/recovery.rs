//! Recovery codes: a set made and shown once, each working once in place of
//! any code, even while the phone is lost.

use zeroize::Zeroizing;

use super::account::{Account, MAX_RECOVERY_CODES, RecoveryCodes};
use super::account_id::AccountId;
use super::codes;
use super::core::Engine;
use super::decision::{AllowReason, DenyReason};
use crate::error::{Error, Result};
use crate::store::Store;

impl<S: Store> Engine<S> {
    /// Replaces the account's recovery codes with `count` new ones
    /// (1..=32; 10 is usual) and returns them, to be shown once. Each works
    /// once, in place of any code, even while the phone is lost.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a bad count, [`Error::NotEnabled`],
    /// storage and randomness errors.
    pub fn generate_recovery_codes(
        &self,
        id: &AccountId,
        count: usize,
    ) -> Result<Vec<Zeroizing<String>>> {
        if !(1..=MAX_RECOVERY_CODES).contains(&count) {
            return Err(Error::InvalidConfig("recovery code count must be 1..=32"));
        }
        let salt = codes::random_bytes()?;
        let fresh = (0..count)
            .map(|_| codes::random_recovery_code())
            .collect::<Result<Vec<_>>>()?;
        let tags = fresh.iter().map(|code| codes::tag(&salt, code)).collect();
        let recovery = RecoveryCodes { salt, tags };
        self.update(id, |mut account| {
            account.recovery = recovery.clone();
            Ok((Some(account), ()))
        })?;
        Ok(fresh)
    }
}

/// A recovery code: compared against every unused one in constant time;
/// the match is spent.
pub(super) fn check_recovery_code(
    account: &mut Account,
    code: &str,
) -> Result<AllowReason, DenyReason> {
    let recovery = &mut account.recovery;
    let mut matched = None;
    for (index, tag) in recovery.tags.iter().enumerate() {
        if codes::tag_matches(tag, &recovery.salt, code) {
            matched = Some(index);
        }
    }
    match matched {
        Some(index) => {
            recovery.tags.remove(index);
            Ok(AllowReason::RecoveryCodeUsed {
                remaining: recovery.tags.len(),
            })
        }
        None => Err(DenyReason::WrongCode),
    }
}
