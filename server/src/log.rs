//! The service's log lines (standard error): what they show of the
//! client-given parts, never a secret.

use std::net::IpAddr;

/// An account name as a log line shows it: at most 128 characters, control
/// characters as `?` (a client cannot forge a line).
pub(crate) fn account(name: &str) -> String {
    name.chars()
        .take(128)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A client's address, or `unknown`.
pub(crate) fn address(from: Option<IpAddr>) -> String {
    from.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_cannot_forge_a_line() {
        assert_eq!(
            super::account("eve\nmail2fa-server: x"),
            "eve?mail2fa-server: x"
        );
        assert_eq!(super::account(&"a".repeat(300)).len(), 128);
        assert_eq!(super::address(None), "unknown");
    }
}
