//! E-mail and SMS codes: where they go, choosing them as the
//! account's mode, issuing one for the host to deliver, and checking the
//! one the user types.

use zeroize::Zeroizing;

use super::account::{Account, Contact, DeliveredCode, Mode};
use super::account_id::AccountId;
use super::codes;
use super::contact::{self, Channel};
use super::core::Engine;
use super::decision::{AllowReason, DenyReason};
use crate::error::{Error, Result};
use crate::store::Store;

/// A code to deliver, handed to the host by [`Engine::issue_code`]. The
/// engine never sends anything itself.
#[derive(Debug)]
#[non_exhaustive]
pub struct IssuedCode {
    /// The code (wiped on drop). Send it; never log it.
    pub code: Zeroizing<String>,
    /// Where to send it.
    pub channel: Channel,
    /// Unix time after which it no longer works.
    pub expires_at: u64,
}

impl<S: Store> Engine<S> {
    /// Sets where e-mail and SMS codes go (each `None` removes it).
    ///
    /// The e-mail address must be a plain ASCII `local@domain.tld` (at most
    /// [`MAX_EMAIL_LEN`] bytes, one `@`, no white space, quotes or address
    /// literals) and the phone number E.164 (`+`, then 8 to 15 digits, the
    /// first not 0; single spaces between groups allowed and kept): the exact
    /// rules are in `src/engine/contact.rs`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a value that is not such an address or
    /// number (the message names which, never quotes it);
    /// [`Error::NoContact`] for removing the destination the account's mode
    /// uses; [`Error::NotEnabled`]; storage errors.
    ///
    /// [`MAX_EMAIL_LEN`]: crate::engine::MAX_EMAIL_LEN
    pub fn set_contact(
        &self,
        id: &AccountId,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<()> {
        if let Some(email) = email {
            contact::check_email(email)?;
        }
        if let Some(phone) = phone {
            contact::check_phone(phone)?;
        }
        self.update(id, |mut account| {
            let needed_gone = match account.mode {
                Mode::Totp => false,
                Mode::Email => email.is_none(),
                Mode::Sms => phone.is_none(),
            };
            if needed_gone {
                // The account would have no way to receive its codes.
                return Err(Error::NoContact);
            }
            account.contact = Contact {
                email: email.map(str::to_owned),
                phone: phone.map(str::to_owned),
            };
            Ok((Some(account), ()))
        })
    }

    /// Chooses the verification mode. E-mail and SMS need the contact
    /// set first; switching kills any live e-mail/SMS code. TOTP is the
    /// recommended mode (SIM swapping, mailbox takeover).
    ///
    /// # Errors
    /// [`Error::NoContact`], [`Error::NotEnabled`], storage errors.
    pub fn set_mode(&self, id: &AccountId, mode: Mode) -> Result<()> {
        self.update(id, |mut account| {
            let reachable = match mode {
                Mode::Totp => true,
                Mode::Email => account.contact.email.is_some(),
                Mode::Sms => account.contact.phone.is_some(),
            };
            if !reachable {
                return Err(Error::NoContact);
            }
            account.mode = mode;
            account.delivered = None;
            Ok((Some(account), ()))
        })
    }

    /// Makes a fresh e-mail/SMS code for the account and returns it with
    /// where to send it; the host delivers it. The previous code, if any,
    /// dies. Stored only as a salted tag.
    ///
    /// # Errors
    /// [`Error::RateLimited`] within `resend_interval` of the last code;
    /// [`Error::NoContact`] for a TOTP account or a missing destination;
    /// [`Error::NotEnabled`]; storage and randomness errors.
    pub fn issue_code(&self, id: &AccountId, now: u64) -> Result<IssuedCode> {
        let policy = self.config.delivered_codes;
        let code = codes::random_digits(usize::from(policy.digits))?;
        let salt = codes::random_bytes()?;
        let tag = codes::tag(&salt, &code);
        let expires_at = now.saturating_add(policy.lifetime);
        let channel = self.update(id, |mut account| {
            let channel = match (account.mode, &account.contact) {
                (
                    Mode::Email,
                    Contact {
                        email: Some(to), ..
                    },
                ) => Channel::Email(to.clone()),
                (
                    Mode::Sms,
                    Contact {
                        phone: Some(to), ..
                    },
                ) => Channel::Sms(to.clone()),
                _ => return Err(Error::NoContact),
            };
            if let Some(last) = account.last_issued {
                let retry_at = last.saturating_add(policy.resend_interval);
                if now < retry_at {
                    return Err(Error::RateLimited { retry_at });
                }
            }
            account.delivered = Some(DeliveredCode {
                salt,
                tag,
                expires_at,
                wrong_attempts: 0,
            });
            account.last_issued = Some(now);
            Ok((Some(account), channel))
        })?;
        Ok(IssuedCode {
            code,
            channel,
            expires_at,
        })
    }

    /// An e-mail/SMS code: the live one, before it expires, within its
    /// wrong-entry allowance; used once.
    pub(super) fn check_delivered(
        &self,
        account: &mut Account,
        code: &str,
        now: u64,
    ) -> Result<AllowReason, DenyReason> {
        let policy = self.config.delivered_codes;
        // The code that last worked, presented again (another connection of
        // the same client): refused, and not counted as a failure.
        if account
            .last_delivered
            .as_ref()
            .is_some_and(|(salt, tag)| codes::tag_matches(tag, salt, code))
        {
            return Err(DenyReason::Replayed);
        }
        let Some(live) = account.delivered.as_mut() else {
            return Err(DenyReason::NoCodeIssued);
        };
        if now >= live.expires_at {
            account.delivered = None;
            return Err(DenyReason::CodeExpired);
        }
        let well_formed =
            code.len() == usize::from(policy.digits) && code.bytes().all(|b| b.is_ascii_digit());
        if well_formed && codes::tag_matches(&live.tag, &live.salt, code) {
            account.last_delivered = Some((live.salt, live.tag));
            account.delivered = None;
            return Ok(AllowReason::DeliveredCodeAccepted);
        }
        live.wrong_attempts = live.wrong_attempts.saturating_add(1);
        if live.wrong_attempts >= policy.max_wrong {
            account.delivered = None;
        }
        Err(if well_formed {
            DenyReason::WrongCode
        } else {
            DenyReason::MalformedCode
        })
    }
}
