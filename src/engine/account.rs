//! The per-account record and its encoding.

use crate::error::{Error, Result};
use crate::otp::{Algorithm, Digits, TotpConfig};
use crate::record::{self, Integrity, Reader, RecordError, Writer};
use crate::secret::Secret;

use super::codes::{SALT_LEN, TAG_LEN};
use super::protocol::Policies;

pub(crate) const PLATFORM_KIND: u8 = 1;
pub(crate) const ACCOUNT_KIND: u8 = 2;

/// How an account proves the second factor. TOTP is recommended: an
/// e-mail code is only as safe as the mailbox (often the very account being
/// protected — and not an out-of-band authenticator in the sense of NIST SP
/// 800-63B), and SMS falls to SIM swapping and number porting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// An authenticator app (RFC 6238).
    Totp,
    /// A code sent by e-mail.
    Email,
    /// A code sent by SMS.
    Sms,
}

impl Mode {
    /// The mode's stable name: `totp`, `email` or `sms`.
    ///
    /// ```
    /// use mail2fa::engine::Mode;
    ///
    /// assert_eq!(Mode::Sms.name(), "sms");
    /// assert_eq!(Mode::from_name("totp"), Some(Mode::Totp));
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    /// The mode of a [`name`](Self::name), or `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Totp, Self::Email, Self::Sms]
            .into_iter()
            .find(|mode| mode.name() == name)
    }

    fn code(self) -> u8 {
        match self {
            Self::Totp => 1,
            Self::Email => 2,
            Self::Sms => 3,
        }
    }

    fn from_code(code: u8) -> Result<Self, RecordError> {
        match code {
            1 => Ok(Self::Totp),
            2 => Ok(Self::Email),
            3 => Ok(Self::Sms),
            _ => Err(RecordError::Payload("unknown mode")),
        }
    }
}

/// The authenticator-app secret of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TotpState {
    /// Issued, waiting for the first valid code (until `expires_at`).
    Pending { secret: Secret, expires_at: u64 },
    /// Confirmed; `last_step` is the last time step accepted.
    Confirmed {
        secret: Secret,
        last_step: Option<u64>,
    },
}

/// Failure counting across all sessions of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Lockout {
    /// Wrong codes since the last success (never reset by a lock expiring).
    pub(crate) failures: u32,
    /// Second-factor attempts are refused until then.
    pub(crate) locked_until: Option<u64>,
    /// How many locks in a row: each lasts longer than the one before.
    pub(crate) level: u32,
}

/// A live e-mail/SMS code: only its tag is kept (and not shown by Debug:
/// salt and tag would let a 6-digit code be brute-forced).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct DeliveredCode {
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) tag: [u8; TAG_LEN],
    pub(crate) expires_at: u64,
    pub(crate) wrong_attempts: u32,
}

/// Where e-mail and SMS codes go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Contact {
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
}

/// Tags of the unused recovery codes, all under one salt.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct RecoveryCodes {
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) tags: Vec<[u8; TAG_LEN]>,
}

impl core::fmt::Debug for DeliveredCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeliveredCode")
            .field("expires_at", &self.expires_at)
            .field("wrong_attempts", &self.wrong_attempts)
            .finish_non_exhaustive()
    }
}

impl core::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RecoveryCodes")
            .field("unused", &self.tags.len())
            .finish_non_exhaustive()
    }
}

/// The stored state of one account. `Debug` shows no secret, tag or salt.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub(crate) config: TotpConfig,
    pub(crate) mode: Mode,
    pub(crate) totp: TotpState,
    pub(crate) suspended_until: Option<u64>,
    pub(crate) lockout: Lockout,
    pub(crate) contact: Contact,
    pub(crate) delivered: Option<DeliveredCode>,
    pub(crate) last_issued: Option<u64>,
    /// Salt and tag of the last e-mail/SMS code accepted, so that a client
    /// reconnecting with it is told "replayed" rather than counted wrong.
    pub(crate) last_delivered: Option<([u8; SALT_LEN], [u8; TAG_LEN])>,
    pub(crate) recovery: RecoveryCodes,
    /// Identifies this enablement of 2FA: the account's device tokens,
    /// bindings and application passwords belong to it (see
    /// `clients.rs`); a new generation revokes them all at once.
    pub(crate) generation: u64,
    /// Changes with every new authenticator secret (reset): device bindings
    /// earned with codes of an older secret no longer hold.
    pub(crate) bind_epoch: u64,
    /// Per-protocol overrides of the platform's policy.
    pub(crate) policies: Policies,
    /// When a second factor (code, e-mail/SMS code, recovery code) last got
    /// a login in. Written with the consumed code, so it costs no write.
    pub(crate) last_used: Option<u64>,
}

/// Upper bound of an encoded account payload (32 recovery tags, two
/// 256-byte contacts, a 128-byte secret, 32 policy overrides and the fixed
/// fields): the writer is
/// sized once and never reallocates a buffer holding the secret.
const MAX_ACCOUNT_PAYLOAD: usize = 4096;

/// Most recovery codes an account can hold.
pub(crate) const MAX_RECOVERY_CODES: usize = 32;

impl core::fmt::Debug for Account {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Account")
            .field("config", &self.config)
            .field("mode", &self.mode)
            .field("totp", &self.totp)
            .field("suspended_until", &self.suspended_until)
            .field("lockout", &self.lockout)
            .field("delivered", &self.delivered)
            .field("last_issued", &self.last_issued)
            .field("recovery", &self.recovery)
            .field("generation", &self.generation)
            .field("bind_epoch", &self.bind_epoch)
            .field("policies", &self.policies)
            .field("last_used", &self.last_used)
            .finish_non_exhaustive()
    }
}

fn algorithm_code(algorithm: Algorithm) -> u8 {
    match algorithm {
        Algorithm::Sha1 => 1,
        Algorithm::Sha256 => 2,
        Algorithm::Sha512 => 3,
    }
}

fn algorithm_from_code(code: u8) -> Result<Algorithm, RecordError> {
    match code {
        1 => Ok(Algorithm::Sha1),
        2 => Ok(Algorithm::Sha256),
        3 => Ok(Algorithm::Sha512),
        _ => Err(RecordError::Payload("unknown algorithm")),
    }
}

impl Account {
    pub(crate) fn new(
        config: TotpConfig,
        secret: Secret,
        expires_at: u64,
        generation: u64,
    ) -> Self {
        Self {
            config,
            mode: Mode::Totp,
            totp: TotpState::Pending { secret, expires_at },
            suspended_until: None,
            lockout: Lockout::default(),
            contact: Contact::default(),
            delivered: None,
            last_issued: None,
            last_delivered: None,
            recovery: RecoveryCodes::default(),
            generation,
            bind_epoch: generation,
            policies: Policies::default(),
            last_used: None,
        }
    }

    /// Whether the account waits for the first code of its authenticator
    /// app (expired or not): an e-mail or SMS account has no enrollment to
    /// confirm, whatever its TOTP state.
    pub(crate) fn enrollment_pending(&self) -> bool {
        self.mode == Mode::Totp && matches!(self.totp, TotpState::Pending { .. })
    }

    pub(crate) fn encode(&self) -> Result<record::Encoded> {
        let mut w = Writer::with_capacity(MAX_ACCOUNT_PAYLOAD);
        w.u8(algorithm_code(self.config.algorithm()))
            .u8(self.config.digits().get())
            .u64(self.config.period())
            .u64(self.config.t0())
            .u32(self.config.window())
            .u8(self.mode.code());
        match &self.totp {
            TotpState::Pending { secret, expires_at } => {
                w.u8(1).bytes(secret.expose_bytes()).u64(*expires_at);
            }
            TotpState::Confirmed { secret, last_step } => {
                w.u8(2).bytes(secret.expose_bytes()).opt_u64(*last_step);
            }
        }
        w.opt_u64(self.suspended_until)
            .u32(self.lockout.failures)
            .opt_u64(self.lockout.locked_until)
            .u32(self.lockout.level);
        w.opt_text(self.contact.email.as_deref())
            .opt_text(self.contact.phone.as_deref());
        match &self.delivered {
            Some(code) => {
                w.u8(1)
                    .bytes(&code.salt)
                    .bytes(&code.tag)
                    .u64(code.expires_at)
                    .u32(code.wrong_attempts);
            }
            None => {
                w.u8(0);
            }
        }
        w.opt_u64(self.last_issued);
        match &self.last_delivered {
            Some((salt, tag)) => {
                w.u8(1).bytes(salt).bytes(tag);
            }
            None => {
                w.u8(0);
            }
        }
        w.bytes(&self.recovery.salt)
            .u8(self.recovery.tags.len().min(MAX_RECOVERY_CODES) as u8);
        for tag in self.recovery.tags.iter().take(MAX_RECOVERY_CODES) {
            w.bytes(tag);
        }
        w.u64(self.generation).u64(self.bind_epoch);
        self.policies.write(&mut w);
        w.opt_u64(self.last_used);
        Ok(record::encode_record(ACCOUNT_KIND, &w.finish()?))
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        Self::decode_with(bytes, Integrity::Compute)
    }

    /// [`Account::decode`], computing the integrity check as `integrity`
    /// says.
    pub(crate) fn decode_with(bytes: &[u8], integrity: Integrity) -> Result<Self> {
        let mut r = Reader::new(record::decode_with(bytes, ACCOUNT_KIND, integrity)?);
        let algorithm = algorithm_from_code(r.u8()?)?;
        let bad = |_| Error::Record(RecordError::Payload("invalid TOTP parameters"));
        let config = TotpConfig::default()
            .with_algorithm(algorithm)
            .with_digits(Digits::new(u32::from(r.u8()?)).map_err(bad)?)
            .with_period(r.u64()?)
            .map_err(bad)?
            .with_t0(r.u64()?)
            .with_window(r.u32()?)
            .map_err(bad)?;
        let mode = Mode::from_code(r.u8()?)?;
        let totp = match r.u8()? {
            1 => TotpState::Pending {
                secret: Secret::from_bytes(r.bytes()?).map_err(bad)?,
                expires_at: r.u64()?,
            },
            2 => TotpState::Confirmed {
                secret: Secret::from_bytes(r.bytes()?).map_err(bad)?,
                last_step: r.opt_u64()?,
            },
            _ => return Err(RecordError::Payload("unknown TOTP state").into()),
        };
        let suspended_until = r.opt_u64()?;
        let lockout = Lockout {
            failures: r.u32()?,
            locked_until: r.opt_u64()?,
            level: r.u32()?,
        };
        let contact = Contact {
            email: r.opt_text()?,
            phone: r.opt_text()?,
        };
        let delivered = match r.u8()? {
            0 => None,
            1 => Some(DeliveredCode {
                salt: r.array()?,
                tag: r.array()?,
                expires_at: r.u64()?,
                wrong_attempts: r.u32()?,
            }),
            _ => return Err(RecordError::Payload("invalid option tag").into()),
        };
        let last_issued = r.opt_u64()?;
        let last_delivered = match r.u8()? {
            0 => None,
            1 => Some((r.array()?, r.array()?)),
            _ => return Err(RecordError::Payload("invalid option tag").into()),
        };
        let salt = r.array()?;
        let count = usize::from(r.u8()?);
        if count > MAX_RECOVERY_CODES {
            return Err(RecordError::Payload("too many recovery codes").into());
        }
        let tags = (0..count)
            .map(|_| r.array())
            .collect::<Result<Vec<_>, _>>()?;
        let generation = r.u64()?;
        let bind_epoch = r.u64()?;
        let policies = Policies::read(&mut r)?;
        // Added after the first release: records written before have none.
        let last_used = if r.is_at_end() { None } else { r.opt_u64()? };
        r.finish()?;
        Ok(Self {
            config,
            mode,
            totp,
            suspended_until,
            lockout,
            contact,
            delivered,
            last_issued,
            last_delivered,
            recovery: RecoveryCodes { salt, tags },
            generation,
            bind_epoch,
            policies,
            last_used,
        })
    }
}

/// A platform (service, domain): whether 2FA is on for it — it must
/// be before any of its accounts can enable it — and its per-protocol
/// policy overrides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Platform {
    pub(crate) enabled: bool,
    pub(crate) policies: Policies,
}

impl Platform {
    pub(crate) fn encode(&self) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let mut w = Writer::default();
        w.u8(u8::from(self.enabled));
        self.policies.write(&mut w);
        Ok(record::encode(PLATFORM_KIND, &w.finish()?))
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        Self::decode_with(bytes, Integrity::Compute)
    }

    /// [`Platform::decode`], computing the integrity check as `integrity`
    /// says.
    pub(crate) fn decode_with(bytes: &[u8], integrity: Integrity) -> Result<Self> {
        let mut r = Reader::new(record::decode_with(bytes, PLATFORM_KIND, integrity)?);
        let enabled = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(RecordError::Payload("invalid platform flag").into()),
        };
        let policies = Policies::read(&mut r)?;
        r.finish()?;
        Ok(Self { enabled, policies })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_round_trip_in_every_state() {
        let secret = Secret::from_bytes(&[7; 20]).unwrap();
        let pending = Account::new(TotpConfig::default(), secret.clone(), 99, 7);
        let mut full = Account::new(
            TotpConfig::default()
                .with_digits(Digits::EIGHT)
                .with_algorithm(Algorithm::Sha512),
            secret.clone(),
            0,
            u64::MAX,
        );
        full.policies
            .set(
                &super::super::protocol::Protocol::Imap,
                Some(super::super::protocol::ProtocolPolicy::CodeInLogin),
            )
            .unwrap();
        full.mode = Mode::Sms;
        full.totp = TotpState::Confirmed {
            secret,
            last_step: Some(u64::MAX),
        };
        full.suspended_until = Some(5);
        full.lockout = Lockout {
            failures: 3,
            locked_until: Some(1234),
            level: 2,
        };
        full.contact = Contact {
            email: Some("alice@example.com".into()),
            phone: Some("+33 6 12 34 56 78".into()),
        };
        full.delivered = Some(DeliveredCode {
            salt: [1; SALT_LEN],
            tag: [2; TAG_LEN],
            expires_at: 180,
            wrong_attempts: 2,
        });
        full.last_issued = Some(0);
        full.last_delivered = Some(([6; SALT_LEN], [7; TAG_LEN]));
        full.recovery = RecoveryCodes {
            salt: [3; SALT_LEN],
            tags: vec![[4; TAG_LEN], [5; TAG_LEN]],
        };
        full.last_used = Some(1_800_000_000);
        for account in [pending, full] {
            let bytes = account.encode().unwrap();
            assert_eq!(Account::decode(&bytes).unwrap(), account);
            // A platform record is not an account, and vice versa.
            assert!(Platform::decode(&bytes).is_err());
        }
        let platform = Platform {
            enabled: true,
            policies: full_policies(),
        };
        let bytes = platform.encode().unwrap();
        assert_eq!(Platform::decode(&bytes).unwrap(), platform);
        assert!(Account::decode(&bytes).is_err());
    }

    #[test]
    fn records_written_before_last_use_was_kept_still_read() {
        let secret = Secret::from_bytes(&[7; 20]).unwrap();
        let account = Account::new(TotpConfig::default(), secret, 99, 7);
        let bytes = account.encode().unwrap();
        let payload = record::decode(&bytes, ACCOUNT_KIND).unwrap();
        // The payload as the first release wrote it: no last-use field.
        let old = record::encode(ACCOUNT_KIND, &payload[..payload.len() - 1]);
        assert_eq!(Account::decode(&old).unwrap(), account);
        // Anything after the field is still refused.
        let mut longer = payload.to_vec();
        longer.push(0);
        assert!(Account::decode(&record::encode(ACCOUNT_KIND, &longer)).is_err());
    }

    #[test]
    fn a_stored_period_beyond_the_maximum_is_a_corrupt_record() {
        let secret = Secret::from_bytes(&[7; 20]).unwrap();
        let account = Account::new(TotpConfig::default(), secret, 99, 7);
        let bytes = account.encode().unwrap();
        let payload = record::decode(&bytes, ACCOUNT_KIND).unwrap();
        // Algorithm, digits, then the period (big-endian u64).
        assert_eq!(payload[2..10], 30u64.to_be_bytes());
        for period in [crate::MAX_PERIOD + 1, u64::MAX] {
            let mut patched = payload.to_vec();
            patched[2..10].copy_from_slice(&period.to_be_bytes());
            let record = record::encode(ACCOUNT_KIND, &patched);
            assert!(
                matches!(
                    Account::decode(&record),
                    Err(Error::Record(RecordError::Payload(_)))
                ),
                "{period}"
            );
        }
    }

    fn full_policies() -> Policies {
        let mut policies = Policies::default();
        policies
            .set(
                &super::super::protocol::Protocol::Pop3,
                Some(super::super::protocol::ProtocolPolicy::Refused),
            )
            .unwrap();
        policies
    }
}
