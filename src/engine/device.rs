//! Who is logging in: the client information a host knows, and the device
//! fingerprint derived from it.
//!
//! # Which fields make a device
//!
//! The fingerprint is HMAC-SHA-256, under the deployment's
//! [`DeviceKey`], of the account, the [`Protocol`] and three client fields,
//! each normalised first:
//!
//! | field | normalisation |
//! |---|---|
//! | device id (ActiveSync `DeviceId`, IMAP ID `id`…) | surrounding white space removed, inner runs folded to one space, ASCII lower-cased |
//! | device type (ActiveSync `DeviceType`, IMAP ID `os`…) | the same |
//! | user agent (HTTP `User-Agent`, IMAP ID `name`+`version`…) | the same, and every ASCII digit removed |
//!
//! So an app update that only changes version numbers in the user agent is
//! the same device; another app, another platform or another device id is a
//! new one, and so is the same phone on another protocol (ActiveSync and
//! IMAP are two tokens). The **remote address is not part of it**: phones
//! roam. A client with none of the three fields cannot be identified: it
//! can use neither device authorization nor device binding.
//!
//! Device binding (a device trusted for a while after a code login) is
//! keyed by the fingerprint *and* the client's network (IPv4 /24, IPv6 /64;
//! IPv4-mapped IPv6 addresses count as IPv4), because the fields above are
//! chosen by the client and are not secret: a client whose address the host
//! does not know is never bound. These fields identify a client *program*
//! more than a machine (Outlook desktop sends no device id): device
//! authorization trusts the password plus that identity, as Exchange-style
//! hosted mail does; application passwords are the stronger choice.
//!
//! Stored fingerprints are 128-bit keyed hashes: without the key they
//! reveal nothing and cannot be linked across accounts. The human-readable
//! fields are kept beside them, for the portal.

use core::net::IpAddr;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::account_id::AccountId;
use super::protocol::Protocol;
use crate::error::{Error, Result};
use crate::record::{self, RecordError};
use crate::sha256::{HmacKey, KeyedMac};
use crate::store::{Change, Store, read_modify_write};

/// Longest client field accepted, in bytes.
pub const MAX_CLIENT_FIELD: usize = 256;

/// The per-deployment key of device fingerprints (32 bytes, wiped on drop,
/// never printed). Every process sharing a store must use the same key
/// (without one, the engine keeps a random key in the store).
#[derive(Clone)]
pub struct DeviceKey {
    bytes: Zeroizing<[u8; 32]>,
    /// HMAC-SHA-256 keyed with `bytes` once, so that a login copies its
    /// states instead of hashing the two key blocks again (wiped on drop).
    keyed: HmacKey,
}

impl PartialEq for DeviceKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes[..].ct_eq(&other.bytes[..]).into()
    }
}

impl Eq for DeviceKey {}

impl DeviceKey {
    /// A key from 32 bytes the host keeps (configuration, key file).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            keyed: HmacKey::new(&bytes),
            bytes: Zeroizing::new(bytes),
        }
    }

    /// A fresh random key.
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn generate() -> Result<Self> {
        Ok(Self::from_bytes(super::codes::random_bytes()?))
    }

    fn mac(&self, domain: &[u8]) -> KeyedMac<'_> {
        let mut mac = self.keyed.start();
        mac.update(domain);
        mac
    }
}

impl core::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DeviceKey(<redacted>)")
    }
}

/// Record kind of the stored device key.
const DEVICE_KEY_KIND: u8 = 4;

/// The store's own device key, made (at random) by the first engine that
/// needs it; every later engine on the store, in any process, reads it.
pub(crate) fn stored_key(store: &dyn Store) -> Result<DeviceKey> {
    let fresh = DeviceKey::generate()?;
    let fresh_record = record::encode(DEVICE_KEY_KIND, fresh.bytes.as_slice());
    read_modify_write(store, STORED_KEY, 16, |bytes| {
        Ok::<_, Error>(match bytes {
            Some(bytes) => Change::Keep(decode_stored_key(bytes)?),
            None => Change::Write(Some(fresh_record.clone()), fresh.clone()),
        })
    })
}

/// Where the store's own device key is kept.
pub(crate) const STORED_KEY: &[u8] = b"dkey";

/// Reads the stored device key record.
pub(crate) fn decode_stored_key(bytes: &[u8]) -> Result<DeviceKey> {
    let payload = record::decode(bytes, DEVICE_KEY_KIND)?;
    let key: [u8; 32] = payload
        .try_into()
        .map_err(|_| RecordError::Payload("device key length"))?;
    Ok(DeviceKey::from_bytes(key))
}

/// What the host knows about the client of a login; every field optional.
///
/// ```
/// use mail2fa::engine::ClientInfo;
///
/// let phone = ClientInfo::new()
///     .with_device_id("ApplF17XK2QJHG7F")
///     .with_device_type("iPhone")
///     .with_user_agent("Apple-iPhone14C2/2104.100")
///     .with_remote_addr("203.0.113.7");
/// assert!(phone.is_identifiable());
/// assert_eq!(phone.device_type, Some("iPhone"));
/// assert!(!ClientInfo::new().is_identifiable());
/// ```
///
/// New fields may come in any release (the struct is
/// `#[non_exhaustive]`): build it with [`ClientInfo::new`] and the `with_*`
/// methods, which take a `&str` or an `Option<&str>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientInfo<'a> {
    /// A device identifier the client sends (ActiveSync `DeviceId`, …).
    pub device_id: Option<&'a str>,
    /// The kind of device (`iPhone`, `WindowsOutlook15`, …).
    pub device_type: Option<&'a str>,
    /// The client's user agent (HTTP `User-Agent`, IMAP ID name/version).
    pub user_agent: Option<&'a str>,
    /// The client's IP address, as text (`203.0.113.7`, `2001:db8::1`).
    pub remote_addr: Option<&'a str>,
}

impl<'a> ClientInfo<'a> {
    /// Nothing known about the client (every field `None`), as
    /// `ClientInfo::default()`.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`ClientInfo::device_id`].
    #[must_use]
    pub fn with_device_id(mut self, value: impl Into<Option<&'a str>>) -> Self {
        self.device_id = value.into();
        self
    }

    /// Sets [`ClientInfo::device_type`].
    #[must_use]
    pub fn with_device_type(mut self, value: impl Into<Option<&'a str>>) -> Self {
        self.device_type = value.into();
        self
    }

    /// Sets [`ClientInfo::user_agent`].
    #[must_use]
    pub fn with_user_agent(mut self, value: impl Into<Option<&'a str>>) -> Self {
        self.user_agent = value.into();
        self
    }

    /// Sets [`ClientInfo::remote_addr`].
    #[must_use]
    pub fn with_remote_addr(mut self, value: impl Into<Option<&'a str>>) -> Self {
        self.remote_addr = value.into();
        self
    }
}

impl ClientInfo<'_> {
    /// Whether the client says anything that identifies a device: a device
    /// id, device type or user agent that is not blank once normalised (a
    /// user agent of digits only says nothing).
    pub fn is_identifiable(&self) -> bool {
        !is_blank(self.device_id, false)
            || !is_blank(self.device_type, false)
            || !is_blank(self.user_agent, true)
    }

    /// Refuses fields a client cannot honestly send: over-long, control
    /// characters, an address that is not an IP address.
    pub(crate) fn check(&self) -> Result<Option<IpAddr>> {
        for field in [self.device_id, self.device_type, self.user_agent]
            .into_iter()
            .flatten()
        {
            // The length first: an over-long field is not read.
            if field.len() > MAX_CLIENT_FIELD || has_control(field) {
                return Err(Error::InvalidInput(
                    "client field too long or with control characters",
                ));
            }
        }
        self.remote_addr
            .map(|addr| {
                addr.trim()
                    .parse::<IpAddr>()
                    .map_err(|_| Error::InvalidInput("remote address is not an IP address"))
            })
            .transpose()
    }
}

/// Whether `field` holds a control character.
fn has_control(field: &str) -> bool {
    if field.is_ascii() {
        // Every byte, without an early exit: the compiler checks many at
        // once.
        field
            .bytes()
            .fold(false, |control, b| control | b.is_ascii_control())
    } else {
        field.chars().any(char::is_control)
    }
}

/// A device token's identifier: the first 128 bits of its keyed
/// fingerprint. Shown as 32 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub(crate) [u8; 16]);

impl DeviceId {
    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the 32-hex-digit form (either case).
    ///
    /// # Errors
    /// [`Error::InvalidInput`].
    pub fn parse(text: &str) -> Result<Self> {
        let bad = Error::InvalidInput("a device id is 32 hexadecimal digits");
        let bytes = text.as_bytes();
        if bytes.len() != 32 {
            return Err(bad);
        }
        let mut out = [0u8; 16];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hex = |b: u8| (b as char).to_digit(16);
            match (hex(pair[0]), hex(pair[1])) {
                (Some(hi), Some(lo)) => out[i] = (hi * 16 + lo) as u8,
                _ => return Err(bad),
            }
        }
        Ok(Self(out))
    }

    pub(crate) fn ct_eq(&self, other: &[u8; 16]) -> bool {
        self.0.ct_eq(other).into()
    }
}

impl core::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl core::fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DeviceId({self})")
    }
}

/// Appends to `out` the normalised form of `field`: trimmed, white space
/// folded, lower-cased; for user agents also without ASCII digits (see
/// the module documentation). Returns how many bytes it appended.
fn normalise_into(field: &str, strip_digits: bool, out: &mut Vec<u8>) -> usize {
    let start = out.len();
    let field = field.trim();
    if field.is_ascii() {
        normalise_ascii(field.as_bytes(), strip_digits, out);
    } else {
        normalise_chars(field, strip_digits, out);
    }
    out.len() - start
}

/// [`normalise_into`] of an ASCII field, the usual case: the rules of
/// [`normalise_chars`] (ASCII white space is 9..=13 and 32 for
/// `char::is_whitespace` too), written into the output in place instead of
/// a push per byte.
fn normalise_ascii(field: &[u8], strip_digits: bool, out: &mut Vec<u8>) {
    let start = out.len();
    // Never longer than the field: each byte out stands for one or more in.
    out.resize(start + field.len(), 0);
    let dst = &mut out[start..];
    // One look-up and one comparison for the usual byte, kept lower-cased.
    let table = if strip_digits {
        &ASCII_STRIP_DIGITS
    } else {
        &ASCII_KEEP_DIGITS
    };
    let (mut n, mut space) = (0, false);
    for &byte in field {
        let class = table[usize::from(byte & 0x7f)];
        if class < SPACE {
            if space && n > 0 {
                dst[n] = b' ';
                n += 1;
            }
            space = false;
            dst[n] = class;
            n += 1;
        } else {
            space |= class == SPACE;
        }
    }
    out.truncate(start + n);
}

/// In [`ASCII_KEEP_DIGITS`] and [`ASCII_STRIP_DIGITS`]: white space.
const SPACE: u8 = 0x80;
/// In [`ASCII_STRIP_DIGITS`]: a digit, left out.
const SKIP: u8 = 0x81;

/// What [`normalise_ascii`] does with each ASCII byte: keeps it lower-cased,
/// or folds it as white space (9..=13 and 32, as `char::is_whitespace`).
const ASCII_KEEP_DIGITS: [u8; 128] = ascii_table(false);
/// [`ASCII_KEEP_DIGITS`] for user agents: digits are left out.
const ASCII_STRIP_DIGITS: [u8; 128] = ascii_table(true);

const fn ascii_table(strip_digits: bool) -> [u8; 128] {
    let mut table = [0u8; 128];
    let mut byte = 0;
    while byte < 128 {
        let b = byte as u8;
        table[byte] = if matches!(b, 9..=13 | b' ') {
            SPACE
        } else if strip_digits && b.is_ascii_digit() {
            SKIP
        } else {
            b.to_ascii_lowercase()
        };
        byte += 1;
    }
    table
}

/// [`normalise_into`] of any field, a character at a time.
fn normalise_chars(field: &str, strip_digits: bool, out: &mut Vec<u8>) {
    let start = out.len();
    let mut space = false;
    for c in field.chars() {
        if strip_digits && c.is_ascii_digit() {
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && out.len() > start {
            out.push(b' ');
        }
        space = false;
        let mut utf8 = [0u8; 4];
        out.extend_from_slice(c.to_ascii_lowercase().encode_utf8(&mut utf8).as_bytes());
    }
}

/// Whether a field normalises to nothing.
fn is_blank(field: Option<&str>, strip_digits: bool) -> bool {
    field
        .unwrap_or("")
        .chars()
        .all(|c| c.is_whitespace() || (strip_digits && c.is_ascii_digit()))
}

/// The normalised form as a string (for tests and documentation).
#[cfg(test)]
fn normalise(field: &str, strip_digits: bool) -> String {
    let mut out = Vec::new();
    normalise_into(field, strip_digits, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Appends a length-prefixed field; `value` writes it and returns its length.
fn field(buf: &mut Vec<u8>, value: impl FnOnce(&mut Vec<u8>) -> usize) -> usize {
    let at = buf.len();
    buf.extend_from_slice(&[0; 4]);
    let len = value(buf);
    buf[at..at + 4].copy_from_slice(&(len as u32).to_be_bytes());
    len
}

/// The device's identifier for this account and protocol, or `None` if the
/// client cannot be identified.
pub(crate) fn fingerprint(
    key: &DeviceKey,
    account: &AccountId,
    protocol: &Protocol,
    client: &ClientInfo<'_>,
) -> Option<DeviceId> {
    let (device_id, device_type, user_agent) = (
        client.device_id.unwrap_or(""),
        client.device_type.unwrap_or(""),
        client.user_agent.unwrap_or(""),
    );
    // One buffer for the whole message: the hot path allocates once.
    let mut buf = Vec::with_capacity(
        24 + account.platform().len()
            + account.account().len()
            + protocol.name().len()
            + device_id.len()
            + device_type.len()
            + user_agent.len(),
    );
    for text in [account.platform(), account.account(), protocol.name()] {
        field(&mut buf, |b| {
            b.extend_from_slice(text.as_bytes());
            text.len()
        });
    }
    let identity = field(&mut buf, |b| normalise_into(device_id, false, b))
        + field(&mut buf, |b| normalise_into(device_type, false, b))
        + field(&mut buf, |b| normalise_into(user_agent, true, b));
    if identity == 0 {
        return None;
    }
    let mut mac = key.mac(b"mail2fa device v1");
    mac.update(&buf);
    let digest = mac.finish();
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    Some(DeviceId(id))
}

/// The key of a device binding: the device, its network (IPv4 /24, IPv6
/// /64) and the account's binding epoch (it changes with the secret).
pub(crate) fn binding_key(
    key: &DeviceKey,
    device: &DeviceId,
    addr: IpAddr,
    epoch: u64,
) -> [u8; 16] {
    let mut mac = key.mac(b"mail2fa binding v1");
    mac.update(&device.0);
    mac.update(&epoch.to_be_bytes());
    match addr.to_canonical() {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            mac.update(&[4, o[0], o[1], o[2]]);
        }
        IpAddr::V6(v6) => {
            mac.update(&[6]);
            mac.update(&v6.octets()[..8]);
        }
    }
    let digest = mac.finish();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// Length of a binding's code tag.
pub(crate) const BINDING_CODE_LEN: usize = 32;

/// The tag of the one-time code a binding was earned (or last refreshed)
/// with: HMAC-SHA-256 under the deployment's [`DeviceKey`] of the binding
/// key and the code exactly as the client sent it. Only a client that
/// still holds that password+code string matches it; the store keeps the
/// tag, never the code. (A 6-digit code is only 20 bits: the key is what
/// protects the tag at rest — keep the device key apart from the store, or
/// seal the clients record with encryption keys.)
pub(crate) fn binding_code_tag(
    key: &DeviceKey,
    binding: &[u8; 16],
    code: &str,
) -> [u8; BINDING_CODE_LEN] {
    let mut mac = key.mac(b"mail2fa binding code v1");
    mac.update(binding);
    mac.update(&(code.len() as u64).to_be_bytes());
    mac.update(code.as_bytes());
    mac.finish()
}

/// Constant-time comparison of two binding code tags.
pub(crate) fn binding_codes_equal(a: &[u8; BINDING_CODE_LEN], b: &[u8; BINDING_CODE_LEN]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    /// The in-place ASCII path and the character path agree: on every
    /// string of one or two ASCII characters, and on every string of up to
    /// four symbols from an alphabet of white space, digits and letters of
    /// both cases; each after a prefix (so that the output buffer does not
    /// start empty).
    #[test]
    fn the_ascii_path_normalises_as_the_character_path() {
        let same = |text: &str| {
            for strip in [false, true] {
                let (mut fast, mut slow) = (b"x".to_vec(), b"x".to_vec());
                super::normalise_ascii(text.as_bytes(), strip, &mut fast);
                super::normalise_chars(text, strip, &mut slow);
                assert_eq!(fast, slow, "{text:?} strip={strip}");
            }
        };
        let ascii: Vec<char> = (0u8..128).map(char::from).collect();
        let alphabet: Vec<char> = " \t\n\r\u{b}\u{c}70aQ/".chars().collect();
        let mut checked = 0;
        for (symbols, longest) in [(&ascii, 2u32), (&alphabet, 4)] {
            for len in 0..=longest {
                for n in 0..symbols.len().pow(len) {
                    let text: String = (0..len)
                        .map(|i| symbols[n / symbols.len().pow(i) % symbols.len()])
                        .collect();
                    same(&text);
                    checked += 1;
                }
            }
        }
        assert_eq!(
            checked,
            (1 + 128 + 128 * 128) + (1 + 11 + 121 + 1331 + 14641)
        );
    }

    use super::*;

    fn key() -> DeviceKey {
        DeviceKey::from_bytes([9; 32])
    }

    #[test]
    fn version_changes_keep_the_device_other_apps_do_not() {
        let id = AccountId::new("example.com", "alice@example.com").unwrap();
        let client = |ua| ClientInfo {
            device_id: Some("ABC123"),
            device_type: Some("iPhone"),
            user_agent: Some(ua),
            remote_addr: None,
        };
        let fp = |c: &ClientInfo<'_>, p: &Protocol| fingerprint(&key(), &id, p, c).unwrap();
        let old = fp(&client("Apple-iPhone/2104.100"), &Protocol::ActiveSync);
        assert_eq!(
            fp(&client(" apple-iphone/2201.3 "), &Protocol::ActiveSync),
            old
        );
        assert_ne!(fp(&client("Outlook-iOS/2.0"), &Protocol::ActiveSync), old);
        assert_ne!(fp(&client("Apple-iPhone/2104.100"), &Protocol::Imap), old);
        let other_key = fingerprint(
            &DeviceKey::from_bytes([1; 32]),
            &id,
            &Protocol::ActiveSync,
            &client("Apple-iPhone/2104.100"),
        );
        assert_ne!(other_key, Some(old));
        // The device id is case-insensitive, but part of the identity.
        let mut lower = client("Apple-iPhone/2104.100");
        lower.device_id = Some("abc123");
        assert_eq!(fp(&lower, &Protocol::ActiveSync), old);
        lower.device_id = Some("abc124");
        assert_ne!(fp(&lower, &Protocol::ActiveSync), old);
        // Nothing identifying: no fingerprint.
        let blank = ClientInfo {
            user_agent: Some("   "),
            remote_addr: Some("192.0.2.1"),
            ..ClientInfo::default()
        };
        assert_eq!(fingerprint(&key(), &id, &Protocol::Imap, &blank), None);
    }

    #[test]
    fn ascii_and_unicode_paths_agree() {
        for (ascii, unicode) in [
            ("  Outlook\t16.0 \n Pro ", "  Outlook\t16.0 \n Pro \u{a0}"),
            ("A\x0bB", "A\x0bB\u{3000}"),
        ] {
            for strip in [false, true] {
                assert_eq!(
                    normalise(ascii, strip),
                    normalise(unicode, strip),
                    "{ascii:?}"
                );
            }
        }
        assert_eq!(normalise("Ünïcode  Mail/2.0", true), "Ünïcode mail/.");
    }

    #[test]
    fn normalisation_is_documented_behaviour() {
        assert_eq!(
            normalise("  Microsoft Office/16.0  (Windows NT 10.0)", true),
            "microsoft office/. (windows nt .)"
        );
        assert_eq!(normalise(" Device  ID ", false), "device id");
    }

    #[test]
    fn bindings_follow_the_network() {
        let device = DeviceId([3; 16]);
        let at = |a: &str| binding_key(&key(), &device, a.parse().unwrap(), 1);
        assert_eq!(at("203.0.113.7"), at("203.0.113.200"));
        assert_ne!(at("203.0.113.7"), at("203.0.114.7"));
        assert_eq!(at("2001:db8:1:2::1"), at("2001:db8:1:2:ffff::9"));
        assert_ne!(at("2001:db8:1:2::1"), at("2001:db8:1:3::1"));
        // IPv4-mapped addresses are their IPv4 network, not all of ::/64.
        assert_eq!(at("::ffff:203.0.113.9"), at("203.0.113.7"));
        assert_ne!(at("::ffff:198.51.100.9"), at("::ffff:203.0.113.7"));
        // Another epoch (a reset): another binding.
        let other_epoch = binding_key(&key(), &device, "203.0.113.7".parse().unwrap(), 2);
        assert_ne!(other_epoch, at("203.0.113.7"));
    }

    #[test]
    fn binding_code_tags_are_keyed_and_tied_to_their_binding() {
        let binding = [5; 16];
        let tag = binding_code_tag(&key(), &binding, "123456");
        assert_eq!(tag, binding_code_tag(&key(), &binding, "123456"));
        assert!(binding_codes_equal(
            &tag,
            &binding_code_tag(&key(), &binding, "123456")
        ));
        for other in [
            binding_code_tag(&key(), &binding, "123457"),
            binding_code_tag(&key(), &binding, "12345"),
            binding_code_tag(&key(), &[6; 16], "123456"),
            binding_code_tag(&DeviceKey::from_bytes([1; 32]), &binding, "123456"),
        ] {
            assert!(!binding_codes_equal(&tag, &other));
        }
        // The code is not in the tag.
        assert!(!tag.windows(6).any(|w| w == b"123456"));
    }

    #[test]
    fn device_ids_parse_their_display() {
        let id = DeviceId([0xab; 16]);
        assert_eq!(DeviceId::parse(&id.to_string()).unwrap(), id);
        assert_eq!(DeviceId::parse(&id.to_string().to_uppercase()).unwrap(), id);
        assert!(DeviceId::parse("xy").is_err());
        assert!(DeviceId::parse(&"g".repeat(32)).is_err());
        assert!(format!("{:?}", DeviceKey::from_bytes([7; 32])).contains("redacted"));
    }

    #[test]
    fn client_fields_are_checked() {
        let ok = ClientInfo {
            remote_addr: Some(" 2001:db8::1 "),
            ..ClientInfo::default()
        };
        assert!(ok.check().unwrap().is_some());
        for bad in [
            ClientInfo {
                remote_addr: Some("example.com"),
                ..ClientInfo::default()
            },
            ClientInfo {
                user_agent: Some("a\nb"),
                ..ClientInfo::default()
            },
            ClientInfo {
                device_id: Some(&"x".repeat(MAX_CLIENT_FIELD + 1)),
                ..ClientInfo::default()
            },
        ] {
            assert!(
                matches!(bad.check(), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
        }
    }
}
