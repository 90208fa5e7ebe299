//! Sealing the account and devices records of a store written in clear: the migration
//! to encryption at rest, before [`EngineConfig::require_sealed`]
//! lets logins refuse every plain record.
//!
//! [`EngineConfig::require_sealed`]: crate::engine::EngineConfig::require_sealed

use super::core::{Engine, MAX_ATTEMPTS};
use super::seal;
use crate::error::{Error, Result};
use crate::store::{Change, Store, read_modify_write};

impl<S: Store> Engine<S> {
    /// Seals, with the current encryption key, every account record and
    /// every devices (clients) record of the store still written in clear, whatever
    /// [`EngineConfig::require_sealed`] says (this is the one path
    /// that reads them on purpose). Each record is its own
    /// compare-and-swap, so logins may run meanwhile; a record already
    /// sealed is left as it is. Returns how many records were sealed.
    ///
    /// Run it (the operator tool's `mail2fa db seal --key-file …`) once,
    /// when turning encryption on for a store that has accounts, and check
    /// with `mail2fa db check` that no plain record is left.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] without [`EngineConfig::encryption`];
    /// [`crate::store::StoreError::Unsupported`] from a store that cannot
    /// list its records; storage errors; a record that cannot be read (the
    /// walk stops there, records sealed so far stay sealed).
    ///
    /// [`EngineConfig::require_sealed`]: crate::engine::EngineConfig::require_sealed
    /// [`EngineConfig::encryption`]: crate::engine::EngineConfig::encryption
    pub fn seal_records(&self) -> Result<u64> {
        const BATCH: usize = 1000;
        if self.config.encryption.is_none() {
            return Err(Error::InvalidConfig(
                "sealing records needs encryption keys (EngineConfig::encryption)",
            ));
        }
        let mut sealed = 0u64;
        let mut after: Option<Vec<u8>> = None;
        loop {
            let records = self.store.scan(after.as_deref(), BATCH)?;
            for (key, record) in &records {
                let account = key.starts_with(b"acct");
                if !(account || key.starts_with(b"clnt")) || seal::is_sealed(&record.bytes) {
                    continue;
                }
                let changed = read_modify_write(&self.store, key, MAX_ATTEMPTS, |bytes| {
                    let Some(bytes) = bytes.filter(|b| !seal::is_sealed(b)) else {
                        return Ok::<_, Error>(Change::Keep(false));
                    };
                    let sealed = if account {
                        self.seal_record(key, &self.open_any_record(key, bytes)?)?
                    } else {
                        self.seal_clients(key, &self.open_any_clients(key, bytes)?)?
                    };
                    Ok(Change::Write(Some(sealed), true))
                })?;
                sealed += u64::from(changed);
            }
            match records.last() {
                Some((key, _)) if records.len() == BATCH => after = Some(key.clone()),
                _ => break,
            }
        }
        // The plain copies are replaced: wipe them from the store's files.
        self.scrub();
        Ok(sealed)
    }
}
