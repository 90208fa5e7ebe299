//! Encryption at rest of account records (TOTP secrets, contacts, code
//! tags), with keys the host provides.
//!
//! A sealed record is a record of its own kind whose payload is the key id
//! (4 bytes), a random 192-bit nonce, and the XChaCha20-Poly1305 encryption
//! of the whole plain account record, authenticated together with the
//! account's store key — so a sealed record copied under another account
//! does not open. The key id lets keys rotate: records are sealed with the
//! current key and opened with whichever configured key sealed them; each
//! write re-seals with the current key.
//!
//! Fail closed: a sealed record with no key configured, with a key id that
//! is not configured, or that does not authenticate (wrong key, damaged
//! bytes) is an [`Error::Encryption`] — the login is refused. A plain record
//! is still read when keys are configured (so a deployment can turn
//! encryption on), and sealed at its next write.

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use zeroize::Zeroizing;

use super::codes;
use crate::error::{Error, Result};
use crate::record::{self, RecordError};

/// Record kind of a sealed account record.
pub(crate) const SEALED_ACCOUNT_KIND: u8 = 5;
const NONCE_LEN: usize = 24;
const AAD_DOMAIN: &[u8] = b"mail2fa sealed account v1";

/// The keys that encrypt account records at rest: one current key (id and
/// 32 bytes) that seals every write, and older ones that still open what
/// they sealed. Wiped on drop, never printed.
///
/// ```
/// use mail2fa::engine::{EncryptionKeys, EngineConfig};
///
/// let keys = EncryptionKeys::new(2, [0x22; 32]).with_previous(1, [0x11; 32])?;
/// let config = EngineConfig { encryption: Some(keys), ..EngineConfig::default() };
/// assert!(format!("{config:?}").contains("EncryptionKeys(<redacted>)"));
/// # Ok::<(), mail2fa::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptionKeys {
    current: (u32, Zeroizing<[u8; 32]>),
    previous: Vec<(u32, Zeroizing<[u8; 32]>)>,
}

impl core::fmt::Debug for EncryptionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EncryptionKeys(<redacted>)")
    }
}

impl EncryptionKeys {
    /// `key` under `id` seals every record written from now on.
    pub fn new(id: u32, key: [u8; 32]) -> Self {
        Self {
            current: (id, Zeroizing::new(key)),
            previous: Vec::new(),
        }
    }

    /// Adds an older key, to open records it sealed (key rotation).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an id already used.
    pub fn with_previous(mut self, id: u32, key: [u8; 32]) -> Result<Self> {
        if self.key(id).is_some() {
            return Err(Error::InvalidConfig("encryption key id used twice"));
        }
        self.previous.push((id, Zeroizing::new(key)));
        Ok(self)
    }

    /// Makes `key` under `id` the current key; the current one so far
    /// becomes an older key (rotation).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an id already used.
    pub fn with_current(self, id: u32, key: [u8; 32]) -> Result<Self> {
        if self.key(id).is_some() {
            return Err(Error::InvalidConfig("encryption key id used twice"));
        }
        let Self {
            current,
            mut previous,
        } = self;
        previous.push(current);
        Ok(Self {
            current: (id, Zeroizing::new(key)),
            previous,
        })
    }

    /// The id of the key that seals new writes.
    pub fn current_id(&self) -> u32 {
        self.current.0
    }

    fn key(&self, id: u32) -> Option<&[u8; 32]> {
        core::iter::once(&self.current)
            .chain(&self.previous)
            .find(|(key_id, _)| *key_id == id)
            .map(|(_, key)| &**key)
    }
}

fn aad(store_key: &[u8]) -> Vec<u8> {
    [AAD_DOMAIN, store_key].concat()
}

/// Whether `bytes` claims to be a sealed record (its kind byte; the rest is
/// checked when it is opened).
pub(crate) fn is_sealed(bytes: &[u8]) -> bool {
    bytes.get(5) == Some(&SEALED_ACCOUNT_KIND)
}

/// Seals a plain account record for `store_key` with the current key.
pub(crate) fn seal(
    keys: &EncryptionKeys,
    store_key: &[u8],
    plain: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let nonce: [u8; NONCE_LEN] = codes::random_bytes()?;
    let (id, key) = (&keys.current.0, &*keys.current.1);
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    let sealed = Zeroizing::new(
        cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plain,
                    aad: &aad(store_key),
                },
            )
            .map_err(|_| Error::Encryption("sealing failed"))?,
    );
    let mut payload = Zeroizing::new(Vec::with_capacity(4 + NONCE_LEN + sealed.len()));
    payload.extend_from_slice(&id.to_be_bytes());
    payload.extend_from_slice(&nonce);
    payload.extend_from_slice(&sealed);
    Ok(record::encode(SEALED_ACCOUNT_KIND, &payload))
}

/// The plain account record sealed in `bytes`, or `None` if `bytes` is
/// not a sealed record (a plain one, or something the account decoder will
/// refuse with its own error) — the hot path without keys costs one byte
/// comparison.
pub(crate) fn open(
    keys: Option<&EncryptionKeys>,
    store_key: &[u8],
    bytes: &[u8],
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    if !is_sealed(bytes) {
        return Ok(None);
    }
    let payload = record::decode(bytes, SEALED_ACCOUNT_KIND)?;
    let keys = keys.ok_or(Error::Encryption(
        "the record is encrypted and no key is configured",
    ))?;
    if payload.len() < 4 + NONCE_LEN {
        return Err(RecordError::Payload("sealed record too short").into());
    }
    let id = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
    let key = keys.key(id).ok_or(Error::Encryption(
        "the record is encrypted with a key id that is not configured",
    ))?;
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&payload[4..4 + NONCE_LEN]);
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: &payload[4 + NONCE_LEN..],
                aad: &aad(store_key),
            },
        )
        .map(|plain| Some(Zeroizing::new(plain)))
        .map_err(|_| Error::Encryption("the record does not open: wrong key or damaged"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> Zeroizing<Vec<u8>> {
        record::encode(super::super::account::ACCOUNT_KIND, b"the secret is 12345")
    }

    #[test]
    fn sealed_records_open_only_with_their_key_and_account() {
        let keys = EncryptionKeys::new(1, [1; 32]);
        let sealed = seal(&keys, b"acct-alice", &plain()).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            open(Some(&keys), b"acct-alice", &sealed).unwrap(),
            Some(plain())
        );
        // Another account's key (a record copied across accounts).
        assert!(matches!(
            open(Some(&keys), b"acct-mallory", &sealed),
            Err(Error::Encryption(_))
        ));
        // No key, an unknown key id, a wrong key under the same id.
        assert!(matches!(
            open(None, b"acct-alice", &sealed),
            Err(Error::Encryption(_))
        ));
        let other_id = EncryptionKeys::new(2, [1; 32]);
        assert!(matches!(
            open(Some(&other_id), b"acct-alice", &sealed),
            Err(Error::Encryption(_))
        ));
        let wrong = EncryptionKeys::new(1, [9; 32]);
        assert!(matches!(
            open(Some(&wrong), b"acct-alice", &sealed),
            Err(Error::Encryption(_))
        ));
        // Rotation: the old key still opens what it sealed.
        let rotated = EncryptionKeys::new(2, [2; 32])
            .with_previous(1, [1; 32])
            .unwrap();
        assert_eq!(
            open(Some(&rotated), b"acct-alice", &sealed).unwrap(),
            Some(plain())
        );
        assert!(
            EncryptionKeys::new(2, [2; 32])
                .with_previous(2, [3; 32])
                .is_err()
        );
        // Plain records are left to the account decoder; a damaged sealed
        // record is an error.
        assert_eq!(open(Some(&keys), b"acct-alice", &plain()).unwrap(), None);
        assert_eq!(open(Some(&keys), b"acct-alice", b"garbage").unwrap(), None);
        let mut damaged = sealed.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(open(Some(&keys), b"acct-alice", &damaged).is_err());
        // Two seals of one record differ (fresh nonce).
        assert_ne!(seal(&keys, b"acct-alice", &plain()).unwrap(), sealed);
    }
}
