//! Maintenance: dead state expired in bounded batches, on the host's
//! schedule (a timer, a cron job, an idle moment of an auth process).

use super::account::Account;
use super::clients::Clients;
use super::core::{Engine, MAX_ATTEMPTS};
use crate::error::{Error, Result};
use crate::store::{Change, Store, read_modify_write};

/// What one maintenance batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Maintenance {
    /// Records looked at.
    pub examined: usize,
    /// Records changed or deleted.
    pub changed: usize,
    /// The walk reached the end of the store; the next call starts over.
    pub finished: bool,
}

impl<S: Store> Engine<S> {
    /// Looks at the next `batch` records of the store (1..=10,000) and
    /// expires what is dead at `now`: e-mail/SMS codes past their lifetime,
    /// pending device tokens past their lifetime, ended device bindings, and
    /// the device and application-password records of accounts whose 2FA
    /// was removed; with encryption keys configured and
    /// [`EngineConfig::require_sealed`] off (a migration), it also
    /// seals the device and application-password records still stored
    /// plain. Each change is its own compare-and-swap, so logins may run
    /// meanwhile. Call it again until [`Maintenance::finished`]; the
    /// engine remembers where it stopped. Nothing that decides a login is
    /// ever removed: an expired enrollment stays refused until a reset.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a bad batch size;
    /// [`crate::store::StoreError::Unsupported`] from a store that cannot
    /// list its records; storage errors and unreadable records (the batch
    /// stops there; the next call retries it).
    ///
    /// [`EngineConfig::require_sealed`]: crate::engine::EngineConfig::require_sealed
    pub fn maintain(&self, now: u64, batch: usize) -> Result<Maintenance> {
        if !(1..=10_000).contains(&batch) {
            return Err(Error::InvalidConfig("maintenance batch must be 1..=10000"));
        }
        let mut cursor = self
            .maintenance_cursor
            .lock()
            .map_err(|_| Error::InvalidInput("maintenance cursor poisoned"))?;
        let records = self.store.scan(cursor.as_deref(), batch)?;
        let mut report = Maintenance {
            examined: records.len(),
            changed: 0,
            finished: records.len() < batch,
        };
        for (key, _) in &records {
            if self.tidy(key, now)? {
                report.changed += 1;
            }
        }
        *cursor = match (report.finished, records.last()) {
            (false, Some((key, _))) => Some(key.clone()),
            _ => None,
        };
        Ok(report)
    }

    /// Expires what is dead in the record under `key`; whether it changed.
    fn tidy(&self, key: &[u8], now: u64) -> Result<bool> {
        let (prefix, rest) = key.split_at(key.len().min(4));
        match prefix {
            b"sess" => read_modify_write(&self.store, key, MAX_ATTEMPTS, |bytes| {
                Ok::<_, Error>(match bytes {
                    Some(bytes) if self.session_is_dead(key, bytes, now) => {
                        Change::Write(None, true)
                    }
                    _ => Change::Keep(false),
                })
            }),
            b"acct" => read_modify_write(&self.store, key, MAX_ATTEMPTS, |bytes| {
                let Some(bytes) = bytes else {
                    return Ok(Change::Keep(false));
                };
                let mut account = self.open_record(key, bytes)?;
                match &account.delivered {
                    Some(code) if now >= code.expires_at => {
                        account.delivered = None;
                        Ok(Change::Write(Some(self.seal_record(key, &account)?), true))
                    }
                    _ => Ok::<_, Error>(Change::Keep(false)),
                }
            }),
            b"clnt" => {
                let account_key = [b"acct".as_slice(), rest].concat();
                let ttl = self.config.devices.pending_ttl;
                read_modify_write(&self.store, key, MAX_ATTEMPTS, |bytes| {
                    let Some(bytes) = bytes else {
                        return Ok(Change::Keep(false));
                    };
                    // As a login reads it: with sealed records required, a plain one
                    // (planted by whoever can write the store but has no key)
                    // is an error, never sealed into a trusted record here —
                    // only `seal_records` (`mail2fa db seal`) seals on purpose.
                    let mut clients: Clients = self.open_clients(key, bytes)?;
                    // Read after the clients record: a newer generation's
                    // record written meanwhile makes our swap fail and this
                    // run again, so only a dead generation is ever deleted.
                    let generation = match self.store.load(&account_key)? {
                        Some(record) => Some(self.open_record(&account_key, &record.bytes)?),
                        None => None,
                    }
                    .map(|account: Account| account.generation);
                    if generation != Some(clients.generation) {
                        // 2FA was removed (or reset with revocation): the
                        // record belongs to a dead generation.
                        return Ok(Change::Write(None, true));
                    }
                    let before = (clients.devices.len(), clients.bindings.len());
                    clients.prune(now, ttl);
                    // A record left plain while keys are configured (written
                    // before encryption was turned on) is sealed now.
                    let unsealed = self.clients_unsealed(bytes);
                    if (clients.devices.len(), clients.bindings.len()) == before && !unsealed {
                        return Ok::<_, Error>(Change::Keep(false));
                    }
                    Ok(Change::Write(Some(self.seal_clients(key, &clients)?), true))
                })
            }
            _ => Ok(false),
        }
    }
}
