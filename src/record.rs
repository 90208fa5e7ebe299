//! The stored form of records: a versioned binary encoding with an
//! integrity check, the same for every backend.
//!
//! Not public API (hidden from the documentation): the format may change in
//! any release, with a migration. [`RecordError`] is public, as
//! `mail2fa::RecordError`.
//!
//! ```text
//! offset  size  field
//! 0       4     magic "M2FA"
//! 4       1     format version (1)
//! 5       1     record kind
//! 6       4     payload length, big-endian
//! 10      n     payload (kind-specific, see the record types)
//! 10+n    16    SHA-256 of bytes 0..10+n, first 16 bytes
//! ```
//!
//! The check catches corruption (a torn write, a flipped bit, a truncated
//! row, a record of another kind under the key), not tampering: someone who
//! can write the database can also recompute a hash. Any failure is an
//! error that refuses the login; an unreadable record is never taken for
//! "no 2FA".

use zeroize::Zeroizing;

/// The current format version, written into every record.
pub const FORMAT_VERSION: u8 = 1;
const MAGIC: &[u8; 4] = b"M2FA";
const HEADER_LEN: usize = 10;
const CHECK_LEN: usize = 16;

/// Why a stored record cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Shorter than header plus check, or the magic is wrong.
    #[error("not a mail2fa record (too short or wrong magic)")]
    NotARecord,
    /// Written by a format this version does not know.
    #[error("record format version {0} is not supported by this version of mail2fa")]
    UnknownVersion(u8),
    /// A record of another kind than the one expected.
    #[error("record of kind {found}, expected kind {expected}")]
    WrongKind {
        /// Kind expected.
        expected: u8,
        /// Kind found.
        found: u8,
    },
    /// The length field disagrees with the record's size.
    #[error("record length field does not match its size")]
    Length,
    /// The integrity check failed: the record is corrupt.
    #[error("record integrity check failed (corrupt record)")]
    Checksum,
    /// A record that must exist is missing (e.g. the platform of an
    /// account that has 2FA): the store is damaged.
    #[error("a record that must exist is missing")]
    Missing,
    /// The payload ended early, has bytes left over, or holds a value out of range.
    #[error("malformed record payload: {0}")]
    Payload(&'static str),
}

fn check_of(bytes: &[u8]) -> [u8; CHECK_LEN] {
    let digest = crate::sha256::Sha256::digest(bytes);
    let mut check = [0u8; CHECK_LEN];
    check.copy_from_slice(&digest[..CHECK_LEN]);
    check
}

/// Frames a payload as a record of `kind`.
///
/// ```
/// use mail2fa::record::{decode, encode};
/// let stored = encode(7, b"payload");
/// assert_eq!(decode(&stored, 7)?, b"payload");
/// # Ok::<(), mail2fa::record::RecordError>(())
/// ```
pub fn encode(kind: u8, payload: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(HEADER_LEN + payload.len() + CHECK_LEN));
    out.extend_from_slice(MAGIC);
    out.push(FORMAT_VERSION);
    out.push(kind);
    // Payloads are bounded far below 4 GiB by the stores' record limit.
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    let check = check_of(&out);
    out.extend_from_slice(&check);
    out
}

/// A record [`encode`] has just made in this process: intact by
/// construction (its checksum was computed over these very bytes). Only
/// [`encode_record`] makes one, so a store handed an `Encoded` may take it
/// as passing the record check without hashing it again
/// ([`Store::compare_and_swap_encoded`]).
///
/// [`Store::compare_and_swap_encoded`]: crate::store::Store::compare_and_swap_encoded
pub(crate) struct Encoded(Zeroizing<Vec<u8>>);

impl Encoded {
    /// The record's bytes, to store or send elsewhere (no longer vouched
    /// for by the type).
    pub(crate) fn into_bytes(self) -> Zeroizing<Vec<u8>> {
        self.0
    }
}

/// `Debug` shows the length only (a record may hold secrets).
impl core::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encoded")
            .field("len", &self.0.len())
            .finish_non_exhaustive()
    }
}

impl core::ops::Deref for Encoded {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// [`encode`], as an [`Encoded`] record.
pub(crate) fn encode_record(kind: u8, payload: &[u8]) -> Encoded {
    Encoded(encode(kind, payload))
}

/// Checks a stored record and returns its payload.
///
/// # Errors
/// [`RecordError`] for anything but an intact record of `kind` in a known
/// format version.
pub fn decode(bytes: &[u8], kind: u8) -> Result<&[u8], RecordError> {
    decode_with(bytes, kind, Integrity::Compute)
}

/// Whether reading a record computes its integrity check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Integrity {
    /// Compute it: bytes from a file, a database, a caller.
    #[default]
    Compute,
    /// The store computed it over these very bytes when they were written
    /// and has held them in process memory since ([`Store::load_login_vouched`]):
    /// everything else is checked, the hash is not computed again.
    ///
    /// [`Store::load_login_vouched`]: crate::store::Store::load_login_vouched
    Vouched,
}

impl Integrity {
    /// [`Integrity::Vouched`] when `vouched`.
    pub(crate) fn from_vouched(vouched: bool) -> Self {
        if vouched {
            Self::Vouched
        } else {
            Self::Compute
        }
    }
}

/// Whether `bytes` are an intact record of any kind in this format version:
/// what a store that vouches for its records ([`Store::load_login_vouched`])
/// checks when they are written.
///
/// [`Store::load_login_vouched`]: crate::store::Store::load_login_vouched
pub(crate) fn is_intact(bytes: &[u8]) -> bool {
    frame(bytes, Integrity::Compute).is_ok()
}

/// [`decode`], computing the integrity check or not as `integrity` says.
pub(crate) fn decode_with(
    bytes: &[u8],
    kind: u8,
    integrity: Integrity,
) -> Result<&[u8], RecordError> {
    let body = frame(bytes, integrity)?;
    if bytes[5] != kind {
        return Err(RecordError::WrongKind {
            expected: kind,
            found: bytes[5],
        });
    }
    Ok(&body[HEADER_LEN..])
}

/// The header and the integrity check of a record of any kind: its bytes
/// but the check.
fn frame(bytes: &[u8], integrity: Integrity) -> Result<&[u8], RecordError> {
    if bytes.len() < HEADER_LEN + CHECK_LEN || &bytes[..4] != MAGIC {
        return Err(RecordError::NotARecord);
    }
    if bytes[4] != FORMAT_VERSION {
        return Err(RecordError::UnknownVersion(bytes[4]));
    }
    let declared = u32::from_be_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]) as usize;
    if declared != bytes.len() - HEADER_LEN - CHECK_LEN {
        return Err(RecordError::Length);
    }
    let (body, check) = bytes.split_at(bytes.len() - CHECK_LEN);
    if integrity == Integrity::Compute
        && !bool::from(subtle::ConstantTimeEq::ct_eq(&check_of(body)[..], check))
    {
        return Err(RecordError::Checksum);
    }
    Ok(body)
}

/// Builds a payload field by field (big-endian integers, length-prefixed
/// byte strings). The buffer is wiped on drop.
#[derive(Default)]
pub(crate) struct Writer {
    buf: Zeroizing<Vec<u8>>,
    /// A field did not fit its length prefix; `finish` refuses the record.
    overflow: bool,
}

#[allow(dead_code)] // The engine's records use these; not every one yet.
impl Writer {
    /// A writer that will not reallocate below `capacity` bytes: a grown
    /// buffer would leave its old copy, secrets included, unwiped in freed
    /// memory.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Zeroizing::new(Vec::with_capacity(capacity)),
            overflow: false,
        }
    }

    pub(crate) fn u8(&mut self, value: u8) -> &mut Self {
        self.buf.push(value);
        self
    }

    pub(crate) fn u32(&mut self, value: u32) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn u64(&mut self, value: u64) -> &mut Self {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn opt_u64(&mut self, value: Option<u64>) -> &mut Self {
        match value {
            Some(v) => self.u8(1).u64(v),
            None => self.u8(0),
        }
    }

    /// A byte string of at most 65535 bytes; a longer one makes `finish` fail.
    pub(crate) fn bytes(&mut self, value: &[u8]) -> &mut Self {
        match u16::try_from(value.len()) {
            Ok(len) => {
                self.buf.extend_from_slice(&len.to_be_bytes());
                self.buf.extend_from_slice(value);
            }
            Err(_) => self.overflow = true,
        }
        self
    }

    /// An optional UTF-8 text: a presence byte, then the bytes.
    pub(crate) fn opt_text(&mut self, text: Option<&str>) -> &mut Self {
        match text {
            Some(text) => self.u8(1).bytes(text.as_bytes()),
            None => self.u8(0),
        }
    }

    /// The payload, unless a field was too long for its length prefix.
    pub(crate) fn finish(self) -> Result<Zeroizing<Vec<u8>>, RecordError> {
        if self.overflow {
            return Err(RecordError::Payload("field too long"));
        }
        Ok(self.buf)
    }
}

/// Reads a payload written by [`Writer`]; every read checks bounds.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

#[allow(dead_code)] // The engine's records use these; not every one yet.
impl<'a> Reader<'a> {
    pub(crate) fn new(payload: &'a [u8]) -> Self {
        Self { rest: payload }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        if self.rest.len() < n {
            return Err(RecordError::Payload("truncated"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, RecordError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, RecordError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, RecordError> {
        let b = self.take(8)?;
        Ok(u64::from_be_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    pub(crate) fn opt_u64(&mut self) -> Result<Option<u64>, RecordError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.u64()?)),
            _ => Err(RecordError::Payload("invalid option tag")),
        }
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], RecordError> {
        let b = self.take(2)?;
        let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
        self.take(len)
    }

    /// A text written by [`Writer::opt_text`].
    pub(crate) fn opt_text(&mut self) -> Result<Option<String>, RecordError> {
        Ok(self.opt_str()?.map(str::to_owned))
    }

    /// [`Reader::opt_text`], borrowed from the payload.
    pub(crate) fn opt_str(&mut self) -> Result<Option<&'a str>, RecordError> {
        match self.u8()? {
            0 => Ok(None),
            1 => core::str::from_utf8(self.bytes()?)
                .map(Some)
                .map_err(|_| RecordError::Payload("text is not UTF-8")),
            _ => Err(RecordError::Payload("invalid option tag")),
        }
    }

    /// A byte string of exactly `N` bytes.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], RecordError> {
        self.bytes()?
            .try_into()
            .map_err(|_| RecordError::Payload("wrong field length"))
    }

    /// Whether everything has been read (for fields added at the end of a
    /// payload after records without them were written).
    pub(crate) fn is_at_end(&self) -> bool {
        self.rest.is_empty()
    }

    /// Ends the read: trailing bytes mean the record is not what we think.
    pub(crate) fn finish(self) -> Result<(), RecordError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(RecordError::Payload("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_single_byte_corruption_is_caught() {
        let mut writer = Writer::default();
        writer
            .u8(3)
            .u32(70_000)
            .u64(u64::MAX)
            .opt_u64(None)
            .opt_u64(Some(5))
            .bytes(b"secret bytes");
        let stored = encode(1, &writer.finish().unwrap());
        let payload = decode(&stored, 1).unwrap();
        let mut reader = Reader::new(payload);
        assert_eq!(reader.u8().unwrap(), 3);
        assert_eq!(reader.u32().unwrap(), 70_000);
        assert_eq!(reader.u64().unwrap(), u64::MAX);
        assert_eq!(reader.opt_u64().unwrap(), None);
        assert_eq!(reader.opt_u64().unwrap(), Some(5));
        assert_eq!(reader.bytes().unwrap(), b"secret bytes");
        reader.finish().unwrap();

        // Flip every bit of every byte: each corruption is an error, never a
        // different payload.
        for i in 0..stored.len() {
            for bit in 0..8 {
                let mut bad = stored.to_vec();
                bad[i] ^= 1 << bit;
                assert!(decode(&bad, 1).is_err(), "byte {i} bit {bit}");
            }
        }
        // Truncation anywhere, and an extra byte.
        for len in 0..stored.len() {
            assert!(decode(&stored[..len], 1).is_err(), "truncated to {len}");
        }
        let mut longer = stored.to_vec();
        longer.push(0);
        assert_eq!(decode(&longer, 1), Err(RecordError::Length));
    }

    /// A record its store vouches for is read without computing the
    /// checksum; its header, length and kind are still checked, and
    /// `is_intact` (what the store checks on writing) catches what the
    /// checksum catches.
    #[test]
    fn a_vouched_record_skips_only_the_checksum() {
        let stored = encode(3, b"payload");
        let last = stored.len() - 1;
        let mut bad_check = stored.to_vec();
        bad_check[last] ^= 0xff;
        assert_eq!(decode(&bad_check, 3), Err(RecordError::Checksum));
        assert!(!is_intact(&bad_check));
        assert!(is_intact(&stored));
        assert_eq!(
            decode_with(&bad_check, 3, Integrity::Vouched),
            Ok(&b"payload"[..])
        );
        assert_eq!(
            decode_with(&stored, 4, Integrity::Vouched),
            Err(RecordError::WrongKind {
                expected: 4,
                found: 3
            })
        );
        let mut future = stored.to_vec();
        future[4] = 2;
        assert_eq!(
            decode_with(&future, 3, Integrity::Vouched),
            Err(RecordError::UnknownVersion(2))
        );
        assert_eq!(
            decode_with(&stored[..last], 3, Integrity::Vouched),
            Err(RecordError::Length)
        );
        assert_eq!(
            decode_with(b"M2FA", 3, Integrity::Vouched),
            Err(RecordError::NotARecord)
        );
        for i in 0..stored.len() {
            let mut bad = stored.to_vec();
            bad[i] ^= 0x04;
            assert!(!is_intact(&bad), "byte {i}");
        }
    }

    #[test]
    fn an_oversized_field_fails_the_whole_payload() {
        let mut writer = Writer::default();
        writer.u8(1).bytes(&vec![0; 70_000]).u8(2);
        assert_eq!(
            writer.finish().map(|_| ()),
            Err(RecordError::Payload("field too long"))
        );
    }

    #[test]
    fn version_and_kind_are_checked() {
        let stored = encode(1, b"x");
        assert_eq!(
            decode(&stored, 2),
            Err(RecordError::WrongKind {
                expected: 2,
                found: 1
            })
        );
        let mut future = stored.to_vec();
        future[4] = 2;
        assert_eq!(decode(&future, 1), Err(RecordError::UnknownVersion(2)));
        assert_eq!(decode(b"", 1), Err(RecordError::NotARecord));
        assert_eq!(
            decode(b"SQLite format 3\0............", 1),
            Err(RecordError::NotARecord)
        );
    }

    #[test]
    fn reader_refuses_short_payloads_bad_tags_and_leftovers() {
        assert_eq!(
            Reader::new(&[0, 0, 1]).u32(),
            Err(RecordError::Payload("truncated"))
        );
        assert_eq!(
            Reader::new(&[2]).opt_u64(),
            Err(RecordError::Payload("invalid option tag"))
        );
        assert_eq!(
            Reader::new(&[0, 9, 1]).bytes(),
            Err(RecordError::Payload("truncated"))
        );
        let mut reader = Reader::new(&[1, 2]);
        reader.u8().unwrap();
        assert_eq!(reader.finish(), Err(RecordError::Payload("trailing bytes")));
    }
}
