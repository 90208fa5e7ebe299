//! The per-account record and its encoding.

use crate::error::{Error, Result};
use crate::otp::{Algorithm, Digits, TotpConfig};
use crate::record::{self, Reader, RecordError, Writer};
use crate::secret::Secret;

pub(crate) const PLATFORM_KIND: u8 = 1;
pub(crate) const ACCOUNT_KIND: u8 = 2;

/// Where an account's second factor stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Enabled, secret issued, waiting for the first valid code.
    Pending { secret: Secret, expires_at: u64 },
    /// Enrolled: every login needs a code after `last_step`.
    Active {
        secret: Secret,
        last_step: Option<u64>,
        suspended_until: Option<u64>,
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

/// The stored state of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub(crate) config: TotpConfig,
    pub(crate) stage: Stage,
    pub(crate) lockout: Lockout,
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
    pub(crate) fn encode(&self) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let mut w = Writer::default();
        w.u8(algorithm_code(self.config.algorithm()))
            .u8(self.config.digits().get())
            .u64(self.config.period())
            .u64(self.config.t0())
            .u32(self.config.window());
        match &self.stage {
            Stage::Pending { secret, expires_at } => {
                w.u8(1).bytes(secret.expose_bytes()).u64(*expires_at);
            }
            Stage::Active {
                secret,
                last_step,
                suspended_until,
            } => {
                w.u8(2)
                    .bytes(secret.expose_bytes())
                    .opt_u64(*last_step)
                    .opt_u64(*suspended_until);
            }
        }
        w.u32(self.lockout.failures)
            .opt_u64(self.lockout.locked_until)
            .u32(self.lockout.level);
        Ok(record::encode(ACCOUNT_KIND, &w.finish()?))
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(record::decode(bytes, ACCOUNT_KIND)?);
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
        let stage = match r.u8()? {
            1 => Stage::Pending {
                secret: Secret::from_bytes(r.bytes()?).map_err(bad)?,
                expires_at: r.u64()?,
            },
            2 => Stage::Active {
                secret: Secret::from_bytes(r.bytes()?).map_err(bad)?,
                last_step: r.opt_u64()?,
                suspended_until: r.opt_u64()?,
            },
            _ => return Err(RecordError::Payload("unknown account stage").into()),
        };
        let lockout = Lockout {
            failures: r.u32()?,
            locked_until: r.opt_u64()?,
            level: r.u32()?,
        };
        r.finish()?;
        Ok(Self {
            config,
            stage,
            lockout,
        })
    }
}

/// Platform (service, domain) switch: 2FA must be on here before any of its
/// accounts can enable it (S1).
pub(crate) fn encode_platform(enabled: bool) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let mut w = Writer::default();
    w.u8(u8::from(enabled));
    Ok(record::encode(PLATFORM_KIND, &w.finish()?))
}

pub(crate) fn decode_platform(bytes: &[u8]) -> Result<bool> {
    let mut r = Reader::new(record::decode(bytes, PLATFORM_KIND)?);
    let enabled = match r.u8()? {
        0 => false,
        1 => true,
        _ => return Err(RecordError::Payload("invalid platform flag").into()),
    };
    r.finish()?;
    Ok(enabled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_round_trip_in_every_stage() {
        let secret = Secret::from_bytes(&[7; 20]).unwrap();
        for stage in [
            Stage::Pending {
                secret: secret.clone(),
                expires_at: 99,
            },
            Stage::Active {
                secret: secret.clone(),
                last_step: Some(u64::MAX),
                suspended_until: None,
            },
            Stage::Active {
                secret: secret.clone(),
                last_step: None,
                suspended_until: Some(5),
            },
        ] {
            let account = Account {
                config: TotpConfig::default()
                    .with_digits(Digits::EIGHT)
                    .with_algorithm(Algorithm::Sha512),
                stage,
                lockout: Lockout {
                    failures: 3,
                    locked_until: Some(1234),
                    level: 2,
                },
            };
            let bytes = account.encode().unwrap();
            assert_eq!(Account::decode(&bytes).unwrap(), account);
            // A platform record is not an account, and vice versa.
            assert!(decode_platform(&bytes).is_err());
        }
        assert!(decode_platform(&encode_platform(true).unwrap()).unwrap());
        assert!(Account::decode(&encode_platform(true).unwrap()).is_err());
    }
}
