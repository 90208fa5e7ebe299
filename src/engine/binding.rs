//! Device binding: after a login with a valid code, the same client from
//! the same network presenting the same password+code string is trusted
//! for [`DevicePolicy::binding_period`]
//! (see [`Engine::authenticate`]).
//!
//! [`DevicePolicy::binding_period`]: crate::engine::DevicePolicy::binding_period

use super::account_id::AccountId;
use super::clients::{Binding, MAX_BINDINGS};
use super::core::{ClientsRead, Engine};
use super::device;
use crate::error::Result;
use crate::store::Store;

impl<S: Store> Engine<S> {
    /// Whether a binding for `key`, earned with the code whose tag is
    /// `code`, holds at `now` in the account's clients record as loaded,
    /// and until when. The tag is compared in constant time.
    pub(super) fn trusted_until(
        &self,
        generation: u64,
        clients: &ClientsRead<'_>,
        key: &[u8; 16],
        code: &[u8; device::BINDING_CODE_LEN],
        now: u64,
    ) -> Result<Option<u64>> {
        let Some(record) = &clients.record else {
            return Ok(None);
        };
        let clients = self.clients_of(
            clients.key,
            Some(&record.bytes),
            clients.integrity,
            generation,
        )?;
        Ok(clients
            .bindings
            .iter()
            .find(|b| b.key == *key && now < b.until)
            .filter(|b| device::binding_codes_equal(&b.code, code))
            .map(|b| b.until))
    }

    /// Trusts the device behind `key`, holding the code tagged `code`, for
    /// the binding period from `now` (a binding it had is replaced: only
    /// the latest code counts), from the clients record as loaded.
    pub(super) fn bind(
        &self,
        id: &AccountId,
        generation: u64,
        clients: ClientsRead<'_>,
        key: [u8; 16],
        code: [u8; device::BINDING_CODE_LEN],
        now: u64,
    ) -> Result<()> {
        let until = now.saturating_add(self.config.devices.binding_period);
        let ttl = self.config.devices.pending_ttl;
        self.update_clients_from(id, generation, clients, |clients| {
            clients.prune(now, ttl);
            clients.bindings.retain(|b| b.key != key);
            if clients.bindings.len() >= MAX_BINDINGS {
                // Forget the binding that ends first.
                if let Some(first) =
                    (0..clients.bindings.len()).min_by_key(|&i| clients.bindings[i].until)
                {
                    clients.bindings.remove(first);
                }
            }
            clients.bindings.push(Binding { key, until, code });
            Ok((true, ()))
        })
    }
}
