//! What to tell the user when a device is blocked. The engine only
//! composes the message; the host sends it.

use super::account_id::AccountId;
use super::contact::Channel;
use super::device::DeviceId;
use super::protocol::Protocol;

/// A message for the host to deliver: a device was blocked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notification {
    /// Where: an SMS to the account's mobile number if one is registered,
    /// otherwise an e-mail (to the registered address, or to the mailbox
    /// itself when the account name is an address).
    pub channel: Channel,
    /// The blocked device.
    pub device: DeviceId,
    /// A subject line, for e-mail.
    pub subject: String,
    /// The message: device type, protocol, time (UTC) and where to
    /// authorize the device. Contains no secret.
    pub text: String,
}

/// Placeholders of the portal link template:
/// `{platform}`, `{account}` and `{device}`, each percent-encoded.
pub(crate) fn portal_link(template: &str, id: &AccountId, device: &DeviceId) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let value = [
            ("{platform}", id.platform().to_owned()),
            ("{account}", id.account().to_owned()),
            ("{device}", device.to_string()),
        ]
        .into_iter()
        .find(|(name, _)| rest.starts_with(name));
        match value {
            Some((name, value)) => {
                crate::uri::percent_encode(&value, &mut out);
                rest = &rest[name.len()..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub(crate) struct Blocked<'a> {
    pub(crate) id: &'a AccountId,
    pub(crate) device: DeviceId,
    pub(crate) device_type: Option<&'a str>,
    pub(crate) protocol: &'a Protocol,
    pub(crate) at: u64,
}

/// The message for a blocked device, sent over `channel`.
pub(crate) fn compose(
    blocked: &Blocked<'_>,
    channel: Channel,
    template: Option<&str>,
) -> Notification {
    // The device type is whatever the client sent: only a short, plain
    // word of it goes into a message the provider delivers.
    let plain: String = blocked
        .device_type
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-'))
        .take(32)
        .collect();
    let what = match plain.trim() {
        "" => "device",
        plain => plain,
    };
    let link = match template {
        Some(template) => portal_link(template, blocked.id, &blocked.device),
        None => "your account portal".to_owned(),
    };
    let text = format!(
        "A new {what} ({protocol}) tried to open the mailbox {account} at {time} and was blocked. \
         If it is yours, authorize it at {link}; if not, change your password.",
        protocol = blocked.protocol,
        account = blocked.id.account(),
        time = format_utc(blocked.at),
    );
    Notification {
        channel,
        device: blocked.device,
        subject: format!("New device blocked for {}", blocked.id.account()),
        text,
    }
}

/// `2026-11-27 09:05:00 UTC` from Unix time (proleptic Gregorian
/// calendar): how notifications and the operator's tool write times.
///
/// Not public API (hidden from the documentation): shared with the
/// operator's tool, so that it writes times as notifications do.
///
/// ```
/// assert_eq!(mail2fa::engine::format_utc(1_800_000_000), "2027-01-15 08:00:00 UTC");
/// ```
#[doc(hidden)]
pub fn format_utc(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Civil date from days since 1970-01-01 (after Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_right() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_800_000_000), "2027-01-15 08:00:00 UTC");
        assert_eq!(format_utc(4_102_444_799), "2099-12-31 23:59:59 UTC");
        // No overflow at the far end of the range.
        assert!(format_utc(u64::MAX).ends_with(" 07:00:15 UTC"));
    }

    #[test]
    fn links_fill_and_encode_placeholders() {
        let id = AccountId::new("example.com", "al+ice@example.com").unwrap();
        let device = DeviceId([0xab; 16]);
        assert_eq!(
            portal_link(
                "https://p.example/{platform}/devices?u={account}&d={device}{x}",
                &id,
                &device
            ),
            format!("https://p.example/example.com/devices?u=al%2Bice@example.com&d={device}{{x}}")
        );
    }
}
