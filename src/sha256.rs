//! SHA-256 and HMAC-SHA-256 for the login path, on RustCrypto's SHA-256
//! compression function (`sha2::block_api::compress256`, SHA-NI where the
//! CPU has it) with the padding done here: a record's integrity check and a
//! device fingerprint run on every login, and the `digest` framework's
//! buffering, output wrappers and (with its `zeroize` feature) wiping of
//! every hasher cost a tenth of an authorized-device login. The results are
//! those of `sha2::Sha256` and `hmac::Hmac<Sha256>` (tested against both).

use sha2::block_api::compress256;
use zeroize::{Zeroize, Zeroizing};

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
pub(crate) const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// A SHA-256 computation in progress.
#[derive(Clone)]
pub(crate) struct Sha256 {
    state: [u32; 8],
    /// Bytes not yet compressed (fewer than 64).
    block: [u8; 64],
    filled: usize,
    /// Bytes hashed so far.
    length: u64,
}

impl Sha256 {
    pub(crate) const fn new() -> Self {
        Self {
            state: IV,
            block: [0; 64],
            filled: 0,
            length: 0,
        }
    }

    /// SHA-256 of `data`.
    pub(crate) fn digest(data: &[u8]) -> [u8; 32] {
        let mut hash = Self::new();
        hash.update(data);
        hash.finish()
    }

    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        if self.filled > 0 {
            let take = (64 - self.filled).min(data.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled < 64 {
                return;
            }
            compress256(&mut self.state, core::slice::from_ref(&self.block));
            self.filled = 0;
        }
        let mut blocks = data.chunks_exact(64);
        for block in &mut blocks {
            if let Ok(block) = <&[u8; 64]>::try_from(block) {
                compress256(&mut self.state, core::slice::from_ref(block));
            }
        }
        let rest = blocks.remainder();
        self.block[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// The digest; what was hashed is wiped from this value's buffers.
    pub(crate) fn finish(mut self) -> [u8; 32] {
        let bits = self.length.wrapping_mul(8);
        // Padded in place (`filled` is below 64): only this value's own
        // block held what was hashed, and only it is wiped.
        let filled = self.filled;
        self.block[filled] = 0x80;
        self.block[filled + 1..].fill(0);
        if filled + 9 > 64 {
            // No room for the length: it goes into a block of its own.
            compress256(&mut self.state, core::slice::from_ref(&self.block));
            self.block.fill(0);
        }
        self.block[56..].copy_from_slice(&bits.to_be_bytes());
        compress256(&mut self.state, core::slice::from_ref(&self.block));
        let mut out = [0u8; 32];
        for (bytes, word) in out.chunks_exact_mut(4).zip(self.state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        self.wipe();
        out
    }

    fn wipe(&mut self) {
        self.state.zeroize();
        self.block.zeroize();
        self.length.zeroize();
    }
}

/// An HMAC-SHA-256 key, its two padded blocks compressed once: each MAC
/// starts from copies of these states (key-equivalent, so wiped on drop).
#[derive(Clone)]
pub(crate) struct HmacKey {
    inner: Sha256,
    outer: Sha256,
}

impl HmacKey {
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut padded = [0u8; 64];
        if key.len() > 64 {
            padded[..32].copy_from_slice(&Zeroizing::new(Sha256::digest(key))[..]);
        } else {
            padded[..key.len()].copy_from_slice(key);
        }
        let keyed = |pad: u8| {
            let mut block = padded.map(|b| b ^ pad);
            let mut hash = Sha256::new();
            hash.update(&block);
            block.zeroize();
            hash
        };
        let key = Self {
            inner: keyed(0x36),
            outer: keyed(0x5c),
        };
        padded.zeroize();
        key
    }

    /// A MAC under this key, to be fed with [`KeyedMac::update`].
    pub(crate) fn start(&self) -> KeyedMac<'_> {
        KeyedMac {
            inner: self.inner.clone(),
            key: self,
        }
    }
}

impl Drop for HmacKey {
    fn drop(&mut self) {
        self.inner.wipe();
        self.outer.wipe();
    }
}

/// An HMAC-SHA-256 in progress (see [`HmacKey::start`]).
pub(crate) struct KeyedMac<'a> {
    inner: Sha256,
    key: &'a HmacKey,
}

impl KeyedMac<'_> {
    pub(crate) fn update(&mut self, data: &[u8]) -> &mut Self {
        self.inner.update(data);
        self
    }

    pub(crate) fn finish(self) -> [u8; 32] {
        // Not dropped: its state is moved out here and wiped by its own
        // `finish`, so `Drop` would only wipe a fresh state again.
        let mut this = core::mem::ManuallyDrop::new(self);
        let inner = core::mem::replace(&mut this.inner, Sha256::new());
        let mut outer = this.key.outer.clone();
        let inner = Zeroizing::new(inner.finish());
        outer.update(&inner[..]);
        outer.finish()
    }
}

impl Drop for KeyedMac<'_> {
    fn drop(&mut self) {
        self.inner.wipe();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{KeyInit, Mac};
    use sha2::Digest;

    /// Every length around the block and padding boundaries, whole and in
    /// pieces, against `sha2::Sha256`.
    #[test]
    fn digests_equal_sha2s() {
        let data: Vec<u8> = (0..400u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..data.len() {
            let message = &data[..len];
            let expected: [u8; 32] = sha2::Sha256::digest(message).into();
            assert_eq!(Sha256::digest(message), expected, "length {len}");
            let mut pieces = Sha256::new();
            for piece in message.chunks(1 + len % 23) {
                pieces.update(piece);
            }
            assert_eq!(pieces.finish(), expected, "length {len} in pieces");
        }
    }

    /// Keys shorter than, as long as and longer than a block, messages of
    /// every length up to three blocks, against `hmac::Hmac<Sha256>`.
    #[test]
    fn macs_equal_hmacs() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 13 + 1) as u8).collect();
        for key_len in [0, 1, 20, 32, 63, 64, 65, 131] {
            let key = &data[..key_len];
            let ours = HmacKey::new(key);
            for len in 0..data.len() {
                let mut theirs = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
                    .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
                theirs.update(&data[..len]);
                let expected: [u8; 32] = theirs.finalize().into_bytes().into();
                let mut mac = ours.start();
                let (a, b) = data[..len].split_at(len / 3);
                mac.update(a).update(b);
                assert_eq!(mac.finish(), expected, "key {key_len}, length {len}");
            }
        }
    }

    /// RFC 4231, test case 2.
    #[test]
    fn rfc_4231_case_2() {
        let key = HmacKey::new(b"Jefe");
        let mut mac = key.start();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac.finish().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
