//! Password and code typed as one string: `T9D3K!px` + `189145` =
//! `T9D3K!px189145`, as mail clients that know only "password" need.

use super::account::{Mode, Platform, TotpState};
use super::account_id::{AccountId, LoginKeys};
use super::core::{Engine, LoginRecords};
use super::protocol::{self, Protocol, ProtocolPolicy};
use crate::error::{Error, Result};
use crate::otp::Digits;
use crate::store::{Loaded, Store};

/// Longest password+code input accepted, in bytes.
pub const MAX_LOGIN_INPUT: usize = 4096;

/// Splits the trailing `digits` ASCII digits off `input`.
///
/// Returns `(password, Some(code))` when `input` is longer than `digits`
/// bytes and ends in that many ASCII digits, else `(input, None)` — the
/// whole input is the password and the code is missing. Call it only for
/// accounts with an active second factor ([`Engine::split_login`]
/// does that check): a password ending in digits must stay whole for
/// everyone else.
///
/// A split never falls inside a UTF-8 character, since ASCII digits are
/// single bytes that never occur inside a multi-byte character.
///
/// ```
/// use mail2fa::Digits;
/// use mail2fa::engine::split_password_and_code;
///
/// assert_eq!(split_password_and_code("T9D3K!px189145", Digits::SIX)?, ("T9D3K!px", Some("189145")));
/// assert_eq!(split_password_and_code("short1", Digits::SIX)?, ("short1", None));
/// assert!(split_password_and_code("pw\x00123456", Digits::SIX).is_err());
/// # Ok::<(), mail2fa::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] for a NUL byte or more than [`MAX_LOGIN_INPUT`] bytes.
pub fn split_password_and_code(input: &str, digits: Digits) -> Result<(&str, Option<&str>)> {
    check_login_input(input)?;
    let n = usize::from(digits.get());
    if input.len() <= n {
        return Ok((input, None));
    }
    let split = input.len() - n;
    match (input.get(..split), input.get(split..)) {
        (Some(password), Some(code)) if code.bytes().all(|b| b.is_ascii_digit()) => {
            Ok((password, Some(code)))
        }
        _ => Ok((input, None)),
    }
}

/// Refuses input no login may carry: a NUL byte (C strings would end
/// there) or more than [`MAX_LOGIN_INPUT`] bytes.
pub(crate) fn check_login_input(input: &str) -> Result<()> {
    if input.len() > MAX_LOGIN_INPUT {
        return Err(Error::InvalidInput("login input too long"));
    }
    if input.contains('\0') {
        return Err(Error::InvalidInput("NUL in login input"));
    }
    Ok(())
}

impl<S: Store> Engine<S> {
    /// Splits a password+code string for this account: only when its
    /// second factor is active (enrolled, not suspended) and by exactly its
    /// number of digits; otherwise the whole input is the password. Hosts
    /// call it before their password check, so it makes the same store
    /// reads whether or not the account has 2FA. On a platform where 2FA is
    /// mandatory, an account not enrolled gets its string split too (by the
    /// configured TOTP digits): it is never taken whole as a password.
    ///
    /// Most hosts call [`Engine::check_login`] instead, which splits,
    /// calls their password check and decides, reading each record once;
    /// this is for hosts whose password check runs outside that call.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] (NUL, over-long); storage errors.
    pub fn split_login<'a>(
        &self,
        id: &AccountId,
        input: &'a str,
        now: u64,
    ) -> Result<(&'a str, Option<&'a str>)> {
        self.split_for(id, None, input, now)
    }

    /// [`Engine::split_login`] for a login over `protocol`: a code is only
    /// split off where the protocol's policy takes one
    /// ([`ProtocolPolicy::CodeInLogin`]); elsewhere the whole input is the
    /// password (or an application password).
    ///
    /// # Errors
    /// As [`Engine::split_login`].
    pub fn split_login_for<'a>(
        &self,
        id: &AccountId,
        protocol: &Protocol,
        input: &'a str,
        now: u64,
    ) -> Result<(&'a str, Option<&'a str>)> {
        self.split_for(id, Some(protocol), input, now)
    }

    fn split_for<'a>(
        &self,
        id: &AccountId,
        protocol: Option<&Protocol>,
        input: &'a str,
        now: u64,
    ) -> Result<(&'a str, Option<&'a str>)> {
        check_login_input(input)?;
        // Hosts call this before their password check: the same two reads
        // with or without 2FA, so the time to reach that check tells little
        // about the account. One store call (one round trip).
        let keys = LoginKeys::new(id);
        let [account, platform, _] = keys.all();
        let [record, platform] = self.load_records([account, platform])?;
        let mut loaded = LoginRecords::new(
            keys,
            record.map(Loaded::from),
            platform.map(Loaded::from),
            None,
        );
        self.split_loaded(id, protocol, input, &mut loaded, now)
    }

    /// The split of [`Engine::split_login_for`] on the account's and the
    /// platform's records as just loaded (`None`: absent; those it opens
    /// are kept in `loaded.opened`), for an `input`
    /// its caller has passed through `check_login_input`. Either way it
    /// decodes an account record (the decoy where there is none).
    pub(super) fn split_loaded<'a>(
        &self,
        id: &AccountId,
        protocol: Option<&Protocol>,
        input: &'a str,
        loaded: &mut LoginRecords,
        now: u64,
    ) -> Result<(&'a str, Option<&'a str>)> {
        let record = loaded.record.as_ref().map(Loaded::bytes);
        let platform = loaded.platform.as_ref().map(Loaded::bytes);
        let opened = &mut loaded.opened;
        let checks = loaded.checks;
        let Some(record) = record else {
            if !self.is_mandatory(&id.platform) {
                // The decoding an account with 2FA costs (its record, its
                // platform's), for one without.
                self.open_decoy(checks.record)?;
                platform
                    .map(|bytes| Platform::decode_with(bytes, checks.platform))
                    .transpose()?;
                return Ok((input, None));
            }
            // Mandatory 2FA, not enrolled: split as for an enrolled account
            // (the default digits), so that the host checks the password
            // part and the engine then answers "not enrolled" — a
            // password+code string is never taken as a password.
            let platform = self.platform_from_with(&id.platform, platform, checks.platform)?;
            let takes_code = protocol.is_none_or(|protocol| {
                protocol::effective_policy(
                    &protocol::Policies::default(),
                    &platform.policies,
                    protocol,
                ) == ProtocolPolicy::CodeInLogin
            });
            if !takes_code {
                return Ok((input, None));
            }
            return split_password_and_code(input, self.config.totp.digits());
        };
        let account = opened
            .account
            .insert(self.open_account_with(id, record, checks.record)?);
        let suspended = account
            .suspended_until
            .is_some_and(|until| self.suspension_honoured(until, now));
        let enrolled =
            account.mode != Mode::Totp || matches!(account.totp, TotpState::Confirmed { .. });
        if !enrolled || suspended {
            return Ok((input, None));
        }
        let platform = opened.platform.insert(self.platform_from_with(
            &id.platform,
            platform,
            checks.platform,
        )?);
        let takes_code = protocol.is_none_or(|protocol| {
            protocol::effective_policy(&account.policies, &platform.policies, protocol)
                == ProtocolPolicy::CodeInLogin
        });
        if !platform.enabled || !takes_code {
            return Ok((input, None));
        }
        let digits = match account.mode {
            Mode::Totp => account.config.digits(),
            Mode::Email | Mode::Sms => {
                crate::otp::Digits::new(u32::from(self.config.delivered_codes.digits))?
            }
        };
        split_password_and_code(input, digits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_only_trailing_ascii_digits() {
        let six = Digits::SIX;
        assert_eq!(
            split_password_and_code("T9D3K!px189145", six).unwrap(),
            ("T9D3K!px", Some("189145"))
        );
        // Password that itself ends in digits: the last six are the code.
        assert_eq!(
            split_password_and_code("hunter2189145", six).unwrap(),
            ("hunter2", Some("189145"))
        );
        // Exactly six digits: nothing would be left of the password.
        assert_eq!(
            split_password_and_code("189145", six).unwrap(),
            ("189145", None)
        );
        assert_eq!(split_password_and_code("", six).unwrap(), ("", None));
        // Fewer trailing digits, other digits, full-width digits.
        assert_eq!(
            split_password_and_code("pass12345", six).unwrap(),
            ("pass12345", None)
        );
        assert_eq!(
            split_password_and_code("pass12345٣", six).unwrap(),
            ("pass12345٣", None)
        );
        assert_eq!(
            split_password_and_code("pässwörd１２３４５６", six).unwrap(),
            ("pässwörd１２３４５６", None)
        );
        // Multi-byte characters right before the code are kept whole.
        assert_eq!(
            split_password_and_code("mot-de-passé123456", six).unwrap(),
            ("mot-de-passé", Some("123456"))
        );
        assert_eq!(
            split_password_and_code("pw12345678", Digits::EIGHT).unwrap(),
            ("pw", Some("12345678"))
        );
    }

    #[test]
    fn refuses_nul_and_over_long_input() {
        assert!(matches!(
            split_password_and_code("pw\x00189145", Digits::SIX),
            Err(Error::InvalidInput(_))
        ));
        let long = "a".repeat(MAX_LOGIN_INPUT + 1);
        assert!(matches!(
            split_password_and_code(&long, Digits::SIX),
            Err(Error::InvalidInput(_))
        ));
        let longest = "a".repeat(MAX_LOGIN_INPUT - 6) + "123456";
        assert!(
            split_password_and_code(&longest, Digits::SIX)
                .unwrap()
                .1
                .is_some()
        );
    }
}
