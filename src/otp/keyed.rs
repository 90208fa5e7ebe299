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
//! counters of a batch, then their outer hashes. The compressions of a batch
//! do not depend on each other, so the CPU overlaps them; one compression
//! alone is bound by the latency of its round instructions. The truncation
//! reads the state words directly: picking four bytes at a data-dependent
//! offset out of a freshly stored digest costs a store-forwarding stall on
//! every code (about 15 % of the non-hash time in a profile).
//!
//! The padding and length fields are those of FIPS 180-4 §5.1; the results are
//! checked against the `hmac` crate in the tests and against the RFC vectors.

use sha1::Digest;
use zeroize::{Zeroize, Zeroizing};

use super::algorithm::Algorithm;

/// Counters evaluated together: a ±1 window is one batch.
pub(crate) const BATCH: usize = 3;

/// The padding byte that follows a message (FIPS 180-4 §5.1), as the top
/// byte of a big-endian 16-byte lane.
const TERMINATOR: u128 = 0x80 << 120;

/// What the HMAC construction needs of a Merkle–Damgård hash.
pub(crate) trait BlockHash {
    type State: Copy + Zeroize;
    type Block: Copy + AsRef<[u8]> + AsMut<[u8]> + Zeroize;
    const IV: Self::State;
    const ZERO_BLOCK: Self::Block;
    fn compress(state: &mut Self::State, block: &Self::Block);
    /// The plain hash of a key longer than a block, into the start of `out`.
    fn hash_key(key: &[u8], out: &mut [u8]);
    /// The last inner block: the counter after the key block, padded.
    fn counter_block(counter: u64) -> Self::Block;
    /// The last outer block: the inner digest after the key block, padded.
    fn digest_block(inner: &Self::State) -> Self::Block;
    /// RFC 4226 §5.3 dynamic truncation of the digest `state` stands for.
    fn truncate(state: &Self::State) -> u32;
}

pub(crate) struct Sha1;
pub(crate) struct Sha256;
pub(crate) struct Sha512;

/// A 64-byte block from four big-endian 16-byte lanes.
#[inline(always)]
fn block64(lanes: [u128; 4]) -> [u8; 64] {
    let mut block = [0u8; 64];
    for (chunk, lane) in block.chunks_exact_mut(16).zip(lanes) {
        chunk.copy_from_slice(&lane.to_be_bytes());
    }
    block
}

/// A 128-byte block from eight big-endian 16-byte lanes.
#[inline(always)]
fn block128(lanes: [u128; 8]) -> [u8; 128] {
    let mut block = [0u8; 128];
    for (chunk, lane) in block.chunks_exact_mut(16).zip(lanes) {
        chunk.copy_from_slice(&lane.to_be_bytes());
    }
    block
}

/// Four big-endian 32-bit words as one lane.
#[inline(always)]
fn lane32(words: &[u32]) -> u128 {
    words
        .iter()
        .fold(0u128, |lane, &word| (lane << 32) | u128::from(word))
}

/// Bit length of key block plus message, as the block's final length field.
const fn bit_length(key_block_len: u128, message_len: u128) -> u128 {
    (key_block_len + message_len) * 8
}

/// Counter lane: the 8-byte counter, then the terminator.
#[inline(always)]
fn counter_lane(counter: u64) -> u128 {
    (u128::from(counter) << 64) | (TERMINATOR >> 64)
}

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
    #[inline(always)]
    fn compress(state: &mut [u32; 5], block: &[u8; 64]) {
        sha1::block_api::compress(state, core::slice::from_ref(block));
    }
    fn hash_key(key: &[u8], out: &mut [u8]) {
        out[..20].copy_from_slice(&sha1::Sha1::digest(key));
    }
    #[inline(always)]
    fn counter_block(counter: u64) -> [u8; 64] {
        block64([counter_lane(counter), 0, 0, bit_length(64, 8)])
    }
    #[inline(always)]
    fn digest_block(inner: &[u32; 5]) -> [u8; 64] {
        let second = (u128::from(inner[4]) << 96) | (TERMINATOR >> 32);
        block64([lane32(&inner[..4]), second, 0, bit_length(64, 20)])
    }
    #[inline(always)]
    fn truncate(state: &[u32; 5]) -> u32 {
        truncate_words32(state)
    }
}

impl BlockHash for Sha256 {
    type State = [u32; 8];
    type Block = [u8; 64];
    const IV: [u32; 8] = crate::sha256::IV;
    const ZERO_BLOCK: [u8; 64] = [0; 64];
    #[inline(always)]
    fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
        sha2::block_api::compress256(state, core::slice::from_ref(block));
    }
    fn hash_key(key: &[u8], out: &mut [u8]) {
        out[..32].copy_from_slice(&sha2::Sha256::digest(key));
    }
    #[inline(always)]
    fn counter_block(counter: u64) -> [u8; 64] {
        block64([counter_lane(counter), 0, 0, bit_length(64, 8)])
    }
    #[inline(always)]
    fn digest_block(inner: &[u32; 8]) -> [u8; 64] {
        block64([
            lane32(&inner[..4]),
            lane32(&inner[4..]),
            TERMINATOR,
            bit_length(64, 32),
        ])
    }
    #[inline(always)]
    fn truncate(state: &[u32; 8]) -> u32 {
        truncate_words32(state)
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
    #[inline(always)]
    fn compress(state: &mut [u64; 8], block: &[u8; 128]) {
        sha2::block_api::compress512(state, core::slice::from_ref(block));
    }
    fn hash_key(key: &[u8], out: &mut [u8]) {
        out[..64].copy_from_slice(&sha2::Sha512::digest(key));
    }
    #[inline(always)]
    fn counter_block(counter: u64) -> [u8; 128] {
        block128([counter_lane(counter), 0, 0, 0, 0, 0, 0, bit_length(128, 8)])
    }
    #[inline(always)]
    fn digest_block(inner: &[u64; 8]) -> [u8; 128] {
        let lane = |i: usize| (u128::from(inner[i]) << 64) | u128::from(inner[i + 1]);
        block128([
            lane(0),
            lane(2),
            lane(4),
            lane(6),
            TERMINATOR,
            0,
            0,
            bit_length(128, 64),
        ])
    }
    #[inline(always)]
    fn truncate(state: &[u64; 8]) -> u32 {
        // The offset is the low nibble of the last byte; offsets 0..=15 reach
        // at most byte 18, i.e. words 0..=2.
        let offset = (state[7] & 0x0f) as usize;
        let pair = (u128::from(state[offset / 8]) << 64) | u128::from(state[offset / 8 + 1]);
        let shift = 96 - 8 * (offset % 8);
        ((pair >> shift) as u32) & 0x7fff_ffff
    }
}

/// Dynamic truncation over big-endian 32-bit digest words (SHA-1, SHA-256):
/// the offset is the low nibble of the last byte; offsets 0..=15 reach at
/// most byte 18, i.e. word 4, which both digests have.
#[inline(always)]
fn truncate_words32(words: &[u32]) -> u32 {
    let offset = (words[words.len() - 1] & 0x0f) as usize;
    let pair = (u64::from(words[offset / 4]) << 32) | u64::from(words[offset / 4 + 1]);
    let shift = 32 - 8 * (offset % 4);
    ((pair >> shift) as u32) & 0x7fff_ffff
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
        let mut states = [self.inner; N];
        let mut blocks = [H::ZERO_BLOCK; N];
        for (i, block) in blocks.iter_mut().enumerate() {
            *block = H::counter_block(first.wrapping_add(i as u64));
        }
        for (state, block) in states.iter_mut().zip(&blocks) {
            H::compress(state, block);
        }
        for (state, block) in states.iter_mut().zip(&mut blocks) {
            *block = H::digest_block(state);
            *state = self.outer;
        }
        for (state, block) in states.iter_mut().zip(&blocks) {
            H::compress(state, block);
        }
        for (state, slot) in states.iter().zip(out.iter_mut()) {
            *slot = H::truncate(state);
        }
    }
}

impl<H: BlockHash> Drop for Keyed<H> {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
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

    /// RFC 4226 §5.3 over a digest as bytes, the textbook way: offset from the low nibble of the last byte, 31 bits from there.
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
