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
//! Codes for a window are computed in batches: first the inner hashes of all
//! counters of a batch, then their outer hashes. The compressions of one
//! batch do not depend on each other, so the CPU overlaps them; one
//! compression alone is bound by the latency of its round instructions.
//!
//! The padding and length fields are those of FIPS 180-4 §5.1; the results are
//! checked against the `hmac` crate in the tests and against the RFC vectors.

use sha1::Digest;
use zeroize::{Zeroize, Zeroizing};

use super::Algorithm;

/// Counters evaluated together: a ±1 window is one batch.
pub(crate) const BATCH: usize = 3;

/// What the HMAC construction needs of a Merkle–Damgård hash.
pub(crate) trait BlockHash {
    type State: Copy + Zeroize;
    type Block: Copy + AsRef<[u8]> + AsMut<[u8]> + Zeroize;
    const IV: Self::State;
    const ZERO_BLOCK: Self::Block;
    const DIGEST_LEN: usize;
    fn compress(state: &mut Self::State, block: &Self::Block);
    /// Writes the big-endian digest of `state` into `out[..DIGEST_LEN]`.
    fn digest(state: &Self::State, out: &mut [u8; 64]);
    /// The plain hash of a key longer than a block, into `out[..DIGEST_LEN]`.
    fn hash_key(key: &[u8], out: &mut [u8]);
}

pub(crate) struct Sha1;
pub(crate) struct Sha256;
pub(crate) struct Sha512;

impl BlockHash for Sha1 {
    type State = [u32; 5];
    type Block = [u8; 64];
    const IV: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    const ZERO_BLOCK: [u8; 64] = [0; 64];
    const DIGEST_LEN: usize = 20;
    #[inline(always)]
    fn compress(state: &mut [u32; 5], block: &[u8; 64]) {
        sha1::block_api::compress(state, core::slice::from_ref(block));
    }
    #[inline(always)]
    fn digest(state: &[u32; 5], out: &mut [u8; 64]) {
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
    }
    fn hash_key(key: &[u8], out: &mut [u8]) {
        out[..20].copy_from_slice(&sha1::Sha1::digest(key));
    }
}

impl BlockHash for Sha256 {
    type State = [u32; 8];
    type Block = [u8; 64];
    const IV: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    const ZERO_BLOCK: [u8; 64] = [0; 64];
    const DIGEST_LEN: usize = 32;
    #[inline(always)]
    fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
        sha2::block_api::compress256(state, core::slice::from_ref(block));
    }
    #[inline(always)]
    fn digest(state: &[u32; 8], out: &mut [u8; 64]) {
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
    }
    fn hash_key(key: &[u8], out: &mut [u8]) {
        out[..32].copy_from_slice(&sha2::Sha256::digest(key));
    }
}

impl BlockHash for Sha512 {
    type State = [u64; 8];
    type Block = [u8; 128];
    const IV: [u64; 8] = [
        0x6a09_e667_f3bc_c908,
        0xbb67_ae85_84ca_a73b,
        0x3c6e_f372_fe94_f82b,
        0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1,
        0x9b05_688c_2b3e_6c1f,
        0x1f83_d9ab_fb41_bd6b,
        0x5be0_cd19_137e_2179,
    ];
    const ZERO_BLOCK: [u8; 128] = [0; 128];
    const DIGEST_LEN: usize = 64;
    #[inline(always)]
    fn compress(state: &mut [u64; 8], block: &[u8; 128]) {
        sha2::block_api::compress512(state, core::slice::from_ref(block));
    }
    #[inline(always)]
    fn digest(state: &[u64; 8], out: &mut [u8; 64]) {
        for (chunk, word) in out.chunks_exact_mut(8).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
    }
    fn hash_key(key: &[u8], out: &mut [u8]) {
        out[..64].copy_from_slice(&sha2::Sha512::digest(key));
    }
}

/// Inner and outer chaining states after absorbing the padded key.
pub(crate) struct Keyed<H: BlockHash> {
    inner: H::State,
    outer: H::State,
}

impl<H: BlockHash> Clone for Keyed<H> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner,
            outer: self.outer,
        }
    }
}

impl<H: BlockHash> Keyed<H> {
    fn new(key: &[u8]) -> Self {
        // RFC 2104 §2: a key longer than the block is replaced by its hash.
        let mut key_block = Zeroizing::new(H::ZERO_BLOCK);
        let key_bytes = key_block.as_mut();
        if key.len() > key_bytes.len() {
            H::hash_key(key, key_bytes);
        } else {
            key_bytes[..key.len()].copy_from_slice(key);
        }
        let chain = |pad: u8| {
            let mut block = Zeroizing::new(*key_block);
            block.as_mut().iter_mut().for_each(|b| *b ^= pad);
            let mut state = H::IV;
            H::compress(&mut state, &block);
            state
        };
        Self {
            inner: chain(0x36),
            outer: chain(0x5c),
        }
    }

    /// Truncated HMACs of counters `first .. first + N` into `out`.
    #[inline(always)]
    fn truncated_n<const N: usize>(&self, first: u64, out: &mut [u32; N]) {
        let block_len = H::ZERO_BLOCK.as_ref().len() as u64;
        let mut blocks = [H::ZERO_BLOCK; N];
        let mut states = [self.inner; N];
        let mut digest = [0u8; 64];
        for (i, block) in blocks.iter_mut().enumerate() {
            let counter = first.wrapping_add(i as u64);
            fill_last_block(block.as_mut(), &counter.to_be_bytes(), block_len);
        }
        for (state, block) in states.iter_mut().zip(&blocks) {
            H::compress(state, block);
        }
        for (state, block) in states.iter_mut().zip(&mut blocks) {
            H::digest(state, &mut digest);
            fill_last_block(block.as_mut(), &digest[..H::DIGEST_LEN], block_len);
            *state = self.outer;
        }
        for (state, block) in states.iter_mut().zip(&blocks) {
            H::compress(state, block);
        }
        for (state, slot) in states.iter().zip(out.iter_mut()) {
            H::digest(state, &mut digest);
            *slot = dynamic_truncation(&digest[..H::DIGEST_LEN]);
        }
    }
}

impl<H: BlockHash> Drop for Keyed<H> {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

/// Lays out the last block of a hash whose first block was the key block:
/// message, the 0x80 terminator, zeros, and the big-endian bit length of the
/// whole input at the end (in the low 8 bytes of SHA-512's 16-byte field,
/// whose high bytes stay zero). Every byte of `block` is written.
#[inline(always)]
fn fill_last_block(block: &mut [u8], message: &[u8], key_block_len: u64) {
    let bits = (key_block_len + message.len() as u64) * 8;
    let size = block.len();
    block[..message.len()].copy_from_slice(message);
    block[message.len()] = 0x80;
    block[message.len() + 1..size - 8].fill(0);
    block[size - 8..].copy_from_slice(&bits.to_be_bytes());
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

/// A keyed HMAC for one of the three algorithms. Key-equivalent: wiped on drop.
#[derive(Clone)]
pub(crate) enum KeyedHmac {
    Sha1(Keyed<Sha1>),
    Sha256(Keyed<Sha256>),
    Sha512(Keyed<Sha512>),
}

impl KeyedHmac {
    /// Absorbs the key. Any key length is valid HMAC; [`crate::Secret`] bounds it.
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        match algorithm {
            Algorithm::Sha1 => Self::Sha1(Keyed::new(key)),
            Algorithm::Sha256 => Self::Sha256(Keyed::new(key)),
            Algorithm::Sha512 => Self::Sha512(Keyed::new(key)),
        }
    }

    /// RFC 4226 §5.3 truncated HMAC(K, counter) for counters
    /// `first .. first + N` (wrapping; callers keep them in range).
    #[inline]
    pub(crate) fn truncated_n<const N: usize>(&self, first: u64, out: &mut [u32; N]) {
        match self {
            Self::Sha1(k) => k.truncated_n(first, out),
            Self::Sha256(k) => k.truncated_n(first, out),
            Self::Sha512(k) => k.truncated_n(first, out),
        }
    }

    /// The truncated HMAC of one counter.
    #[inline]
    pub(crate) fn truncated(&self, counter: u64) -> u32 {
        let mut out = [0u32; 1];
        self.truncated_n(counter, &mut out);
        out[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{KeyInit, Mac};
    use proptest::prelude::*;

    fn reference(algorithm: Algorithm, key: &[u8], counter: u64) -> u32 {
        fn mac<M: Mac + KeyInit>(key: &[u8], counter: u64) -> Vec<u8> {
            let mut mac = <M as KeyInit>::new_from_slice(key).unwrap();
            mac.update(&counter.to_be_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        let digest = match algorithm {
            Algorithm::Sha1 => mac::<hmac::Hmac<sha1::Sha1>>(key, counter),
            Algorithm::Sha256 => mac::<hmac::Hmac<sha2::Sha256>>(key, counter),
            Algorithm::Sha512 => mac::<hmac::Hmac<sha2::Sha512>>(key, counter),
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
        // The same values computed in a batch.
        let mut out = [0u32; BATCH];
        keyed.truncated_n(3, &mut out);
        assert_eq!(&out[..], &want[3..3 + BATCH]);
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
            let first = counter.min(u64::MAX - BATCH as u64);
            let mut out = [0u32; BATCH];
            keyed.truncated_n(first, &mut out);
            for (i, value) in out.iter().enumerate() {
                prop_assert_eq!(*value, reference(algorithm, &key, first + i as u64));
            }
            prop_assert_eq!(keyed.truncated(counter), reference(algorithm, &key, counter));
        }
    }
}
