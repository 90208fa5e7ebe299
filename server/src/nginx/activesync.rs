//! What an Exchange ActiveSync request says about its device, from the
//! query of its URL: the plain form
//! (`?Cmd=Sync&User=alice&DeviceId=ABC123&DeviceType=iPhone`) or the
//! base64-encoded form of newer clients (MS-ASHTTP, section 2.2.1.1.1.1:
//! version, command, locale, device id, policy key, device type, then
//! tagged parameters, one of them the user).

use base64::Engine as _;

/// The device fields of a request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct DeviceQuery {
    /// `DeviceId` (a GUID in the base64 form is written in hex).
    pub(crate) device_id: Option<String>,
    /// `DeviceType`.
    pub(crate) device_type: Option<String>,
    /// `User`, as the client wrote it.
    pub(crate) user: Option<String>,
}

/// The longest query read, in bytes (clients send well under 1 KiB).
const MAX_QUERY: usize = 2048;

/// The base64 form's parameter tag of the user.
const TAG_USER: u8 = 8;

/// The device fields of `query` (the part after `?`, still
/// percent-encoded; empty: none).
///
/// # Errors
/// A sentence saying why the query is not one a client sends: too long,
/// base64 that does not decode, fields running past the end, text that
/// is not printable.
pub(crate) fn parse(query: &str) -> Result<DeviceQuery, &'static str> {
    if query.is_empty() {
        return Ok(DeviceQuery::default());
    }
    if query.len() > MAX_QUERY {
        return Err("the query is too long");
    }
    if query.contains('&') || query.to_ascii_lowercase().contains("cmd=") {
        return plain(query);
    }
    encoded(query)
}

/// The plain form: `name=value` pairs, names in any case. A name given
/// twice (in any case) is refused: the upstream may read the other one.
fn plain(query: &str) -> Result<DeviceQuery, &'static str> {
    const NAMES: [&str; 4] = ["cmd", "deviceid", "devicetype", "user"];
    let mut seen = [false; 4];
    let mut out = DeviceQuery::default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let name = name.to_ascii_lowercase();
        let Some(index) = NAMES.iter().position(|n| *n == name) else {
            continue;
        };
        if std::mem::replace(&mut seen[index], true) {
            return Err("the query names a field twice");
        }
        let value = Some(value.into_owned()).filter(|v| !v.is_empty());
        match index {
            1 => out.device_id = value,
            2 => out.device_type = value,
            3 => out.user = value,
            _ => {}
        }
    }
    Ok(out)
}

/// The base64 form.
fn encoded(query: &str) -> Result<DeviceQuery, &'static str> {
    let text: String = form_urlencoded::parse(format!("q={query}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    // `+` may have become a space on the way; padding may be missing.
    let text = text.replace(' ', "+");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim_end_matches('='))
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(text.trim_end_matches('='))
        })
        .map_err(|_| "the query is neither name=value pairs nor base64")?;
    let mut reader = Reader {
        bytes: &bytes,
        at: 0,
    };
    // Version, command, locale.
    reader.take(4)?;
    let device_id = reader.field()?;
    if device_id.is_empty() {
        return Err("the base64 query has an empty device id");
    }
    let _policy_key = reader.field()?;
    let device_type = reader.field()?;
    let mut user = None;
    while !reader.is_done() {
        let tag = reader.take(1)?[0];
        let value = reader.field()?;
        if tag == TAG_USER {
            user = Some(text_of(value)?);
        }
    }
    Ok(DeviceQuery {
        device_id: Some(id_text(device_id)),
        device_type: Some(text_of(device_type)?).filter(|t| !t.is_empty()),
        user: user.filter(|u| !u.is_empty()),
    })
}

/// A device id: its text when it is printable ASCII, else (a GUID) its
/// bytes in upper-case hex.
fn id_text(bytes: &[u8]) -> String {
    if bytes.iter().all(u8::is_ascii_graphic) {
        bytes.iter().map(|&b| char::from(b)).collect()
    } else {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }
}

fn text_of(bytes: &[u8]) -> Result<String, &'static str> {
    if bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        Ok(bytes.iter().map(|&b| char::from(b)).collect())
    } else {
        Err("the base64 query holds a field that is not printable text")
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or("the base64 query ends inside a field")?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    /// A field: one length byte, then that many bytes.
    fn field(&mut self) -> Result<&'a [u8], &'static str> {
        let len = self.take(1)?[0];
        self.take(usize::from(len))
    }

    fn is_done(&self) -> bool {
        self.at >= self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(fields: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(fields)
    }

    #[test]
    fn the_plain_query_gives_its_fields_in_any_case() {
        let q = parse("Cmd=Sync&User=alice%40example.com&DeviceId=ApplF17XK2&DeviceType=iPhone")
            .unwrap();
        assert_eq!(q.device_id.as_deref(), Some("ApplF17XK2"));
        assert_eq!(q.device_type.as_deref(), Some("iPhone"));
        assert_eq!(q.user.as_deref(), Some("alice@example.com"));
        let q = parse("cmd=Ping&deviceid=X1&DEVICETYPE=Android&user=bob").unwrap();
        assert_eq!(q.device_id.as_deref(), Some("X1"));
        assert_eq!(q.device_type.as_deref(), Some("Android"));
        assert_eq!(q.user.as_deref(), Some("bob"));
        assert_eq!(parse("").unwrap(), DeviceQuery::default());
        // Empty values are none.
        assert_eq!(parse("Cmd=Sync&DeviceId=").unwrap().device_id, None);
    }

    #[test]
    fn the_base64_query_of_the_specification_reads() {
        // The specification's example: version 14.0, Sync, en-US, device
        // "v140Device", no policy key, type "SmartPhone".
        let q = parse("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l").unwrap();
        assert_eq!(q.device_id.as_deref(), Some("v140Device"));
        assert_eq!(q.device_type.as_deref(), Some("SmartPhone"));
        assert_eq!(q.user, None);
    }

    #[test]
    fn the_base64_query_gives_the_user_a_policy_key_and_a_guid() {
        let mut bytes = vec![161, 0, 0x09, 0x04, 16];
        bytes.extend(0u8..16); // a GUID: not text
        bytes.extend([4, 1, 2, 3, 4]); // a policy key
        bytes.extend([6]);
        bytes.extend(b"iPhone");
        bytes.extend([1, 2]);
        bytes.extend(b"17"); // CollectionId
        bytes.extend([TAG_USER, 17]);
        bytes.extend(b"alice@example.com");
        let text = encode(&bytes);
        let q = parse(&text).unwrap();
        assert_eq!(
            q.device_id.as_deref(),
            Some("000102030405060708090A0B0C0D0E0F")
        );
        assert_eq!(q.device_type.as_deref(), Some("iPhone"));
        assert_eq!(q.user.as_deref(), Some("alice@example.com"));
        // Percent-encoded and without padding, the same.
        let escaped = text
            .trim_end_matches('=')
            .replace('+', "%2B")
            .replace('/', "%2F");
        assert_eq!(parse(&escaped).unwrap(), q);
    }

    #[test]
    fn a_query_no_client_sends_is_refused() {
        for bad in [
            "%%%not-base64",
            // Device id length runs past the end.
            &encode(&[161, 0, 9, 4, 40, b'x']),
            // Empty device id.
            &encode(&[161, 0, 9, 4, 0, 0, 0]),
            // A parameter cut short.
            &encode(&[161, 0, 9, 4, 1, b'x', 0, 1, b'y', TAG_USER, 9, b'a']),
            // A device type with a control character.
            &encode(&[161, 0, 9, 4, 1, b'x', 0, 2, b'y', 0x07]),
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&"a".repeat(MAX_QUERY + 1)).is_err());
        // A field twice, in any case: the upstream may read the other one.
        for twice in [
            "Cmd=Sync&User=bob&user=alice&DeviceId=X",
            "Cmd=Sync&DeviceId=NEW&DEVICEID=OLD",
            "Cmd=Sync&Cmd=Ping&DeviceId=X",
            "Cmd=Sync&DeviceId=X&DeviceType=a&devicetype=b",
            "Cmd=Sync&DeviceId=&DeviceId=X",
        ] {
            assert!(parse(twice).is_err(), "{twice}");
        }
    }
}
