//! HMAC keyed once per secret, evaluated with two compression calls per code.
//!
//! HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)). The first block of each
//! hash depends only on the key, so we run it once in [`KeyedHmac::new`] and
//! keep the two chaining states. An HOTP message is an 8-byte counter, which
//! fits with its padding into the one remaining inner block, and the inner
//! digest fits with its padding into the one remaining outer block — for
//! SHA-1, SHA-256 and SHA-512 alike. So each code costs exactly two calls of
//! the hash's compression function, with no heap allocation.
//!
//! The padding and length fields are those of FIPS 180-4 §5.1; the results are
//! checked against the `hmac` crate in the tests and against the RFC vectors.

use sha1::Digest;
use zeroize::{Zeroize, Zeroizing};

use super::Algorithm;

const SHA1_IV: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];
const SHA512_IV: [u64; 8] = [
    0x6a09_e667_f3bc_c908,
    0xbb67_ae85_84ca_a73b,
    0x3c6e_f372_fe94_f82b,
    0xa54f_f53a_5f1d_36f1,
    0x510e_527f_ade6_82d1,
    0x9b05_688c_2b3e_6c1f,
    0x1f83_d9ab_fb41_bd6b,
    0x5be0_cd19_137e_2179,
];

const IPAD: u8 = 0x36;
const OPAD: u8 = 0x5c;

/// The inner and outer chaining states after absorbing the padded key.
/// Key-equivalent material: wiped on drop.
#[derive(Clone, Zeroize)]
pub(crate) enum KeyedHmac {
    Sha1 { inner: [u32; 5], outer: [u32; 5] },
    Sha256 { inner: [u32; 8], outer: [u32; 8] },
    Sha512 { inner: [u64; 8], outer: [u64; 8] },
}

impl Drop for KeyedHmac {
    fn drop(&mut self) {
        self.zeroize();
    }
}

/// Key padded to one block, per RFC 2104 §2: keys longer than the block are
/// hashed first.
fn padded_key<const BLOCK: usize>(key: &[u8], hash: impl FnOnce(&[u8], &mut [u8])) -> Zeroizing<[u8; BLOCK]> {
    let mut block = Zeroizing::new([0u8; BLOCK]);
    if key.len() > BLOCK {
        hash(key, &mut block[..]);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    block
}

fn xor_block<const BLOCK: usize>(key_block: &[u8; BLOCK], pad: u8) -> Zeroizing<[u8; BLOCK]> {
    let mut block = Zeroizing::new(*key_block);
    block.iter_mut().for_each(|b| *b ^= pad);
    block
}

impl KeyedHmac {
    /// Absorbs the key. Any key length is valid HMAC; the secret type bounds it.
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        match algorithm {
            Algorithm::Sha1 => {
                let key_block = padded_key::<64>(key, |k, out| {
                    out[..20].copy_from_slice(&sha1::Sha1::digest(k));
                });
                let (mut inner, mut outer) = (SHA1_IV, SHA1_IV);
                sha1::block_api::compress(&mut inner, &[*xor_block(&key_block, IPAD)]);
                sha1::block_api::compress(&mut outer, &[*xor_block(&key_block, OPAD)]);
                Self::Sha1 { inner, outer }
            }
            Algorithm::Sha256 => {
                let key_block = padded_key::<64>(key, |k, out| {
                    out[..32].copy_from_slice(&sha2::Sha256::digest(k));
                });
                let (mut inner, mut outer) = (SHA256_IV, SHA256_IV);
                sha2::block_api::compress256(&mut inner, &[*xor_block(&key_block, IPAD)]);
                sha2::block_api::compress256(&mut outer, &[*xor_block(&key_block, OPAD)]);
                Self::Sha256 { inner, outer }
            }
            Algorithm::Sha512 => {
                let key_block = padded_key::<128>(key, |k, out| {
                    out[..64].copy_from_slice(&sha2::Sha512::digest(k));
                });
                let (mut inner, mut outer) = (SHA512_IV, SHA512_IV);
                sha2::block_api::compress512(&mut inner, &[*xor_block(&key_block, IPAD)]);
                sha2::block_api::compress512(&mut outer, &[*xor_block(&key_block, OPAD)]);
                Self::Sha512 { inner, outer }
            }
        }
    }

    /// RFC 4226 §5.3 dynamic truncation of HMAC(K, counter): a 31-bit value.
    #[inline]
    pub(crate) fn truncated(&self, counter: u64) -> u32 {
        match self {
            Self::Sha1 { inner, outer } => {
                let mut state = *inner;
                let mut block = [0u8; 64];
                fill_message_block(&mut block, &counter.to_be_bytes(), 64);
                sha1::block_api::compress(&mut state, &[block]);
                let digest = words32_be::<5, 20>(&state);
                state = *outer;
                fill_message_block(&mut block, &digest, 64);
                sha1::block_api::compress(&mut state, &[block]);
                dynamic_truncation(&words32_be::<5, 20>(&state))
            }
            Self::Sha256 { inner, outer } => {
                let mut state = *inner;
                let mut block = [0u8; 64];
                fill_message_block(&mut block, &counter.to_be_bytes(), 64);
                sha2::block_api::compress256(&mut state, &[block]);
                let digest = words32_be::<8, 32>(&state);
                state = *outer;
                fill_message_block(&mut block, &digest, 64);
                sha2::block_api::compress256(&mut state, &[block]);
                dynamic_truncation(&words32_be::<8, 32>(&state))
            }
            Self::Sha512 { inner, outer } => {
                let mut state = *inner;
                let mut block = [0u8; 128];
                fill_message_block(&mut block, &counter.to_be_bytes(), 128);
                sha2::block_api::compress512(&mut state, &[block]);
                let digest = words64_be(&state);
                state = *outer;
                fill_message_block(&mut block, &digest, 128);
                sha2::block_api::compress512(&mut state, &[block]);
                dynamic_truncation(&words64_be(&state))
            }
        }
    }
}

/// Lays out the second (and last) block of a hash whose first block was the
/// `prefix_len`-byte key block: message, the 0x80 terminator, zeros, and the
/// big-endian bit length of the whole input in the last 8 (SHA-1/256) or 16
/// (SHA-512) bytes. `block.len()` is the block size; every byte is written.
#[inline(always)]
fn fill_message_block(block: &mut [u8], message: &[u8], prefix_len: u64) {
    let bits = (prefix_len + message.len() as u64) * 8;
    let size = block.len();
    block[..message.len()].copy_from_slice(message);
    block[message.len()] = 0x80;
    block[message.len() + 1..size - 8].fill(0);
    block[size - 8..].copy_from_slice(&bits.to_be_bytes());
}

#[inline(always)]
fn words32_be<const W: usize, const B: usize>(state: &[u32; W]) -> [u8; B] {
    let mut out = [0u8; B];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[inline(always)]
fn words64_be(state: &[u64; 8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (chunk, word) in out.chunks_exact_mut(8).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// RFC 4226 §5.3: offset from the low nibble of the last byte, 31 bits from there.
#[inline(always)]
fn dynamic_truncation(digest: &[u8]) -> u32 {
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let word = [
        digest[offset],
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ];
    u32::from_be_bytes(word) & 0x7fff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{KeyInit, Mac};
    use proptest::prelude::*;

    fn reference(algorithm: Algorithm, key: &[u8], counter: u64) -> u32 {
        let msg = counter.to_be_bytes();
        let digest: Vec<u8> = match algorithm {
            Algorithm::Sha1 => {
                let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
                mac.update(&msg);
                mac.finalize().into_bytes().to_vec()
            }
            Algorithm::Sha256 => {
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
                mac.update(&msg);
                mac.finalize().into_bytes().to_vec()
            }
            Algorithm::Sha512 => {
                let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(key).unwrap();
                mac.update(&msg);
                mac.finalize().into_bytes().to_vec()
            }
        };
        dynamic_truncation(&digest)
    }

    #[test]
    fn rfc4226_intermediate_hmac_truncation() {
        // RFC 4226 Appendix D, "Truncated" column (decimal of the 31-bit value).
        let want = [
            1284755224u32,
            1094287082,
            137359152,
            1726969429,
            1640338314,
            868254676,
            1918287922,
            82162583,
            673399871,
            645520489,
        ];
        let keyed = KeyedHmac::new(Algorithm::Sha1, b"12345678901234567890");
        for (counter, want) in want.iter().enumerate() {
            assert_eq!(keyed.truncated(counter as u64), *want, "counter {counter}");
        }
    }

    proptest! {
        #[test]
        fn matches_the_hmac_crate(
            key in proptest::collection::vec(any::<u8>(), 0..300),
            counter in any::<u64>(),
            alg in 0usize..3,
        ) {
            let algorithm = [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512][alg];
            let keyed = KeyedHmac::new(algorithm, &key);
            prop_assert_eq!(keyed.truncated(counter), reference(algorithm, &key, counter));
        }
    }
}
