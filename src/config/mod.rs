//! The configuration file: one TOML file (by default
//! [`DEFAULT_PATH`], `/etc/mail2fa/mail2fa.toml`) that says which store
//! every component opens, where the secrets are (by file name only: the
//! encryption key file, the database password file, the device key file)
//! and the engine's policies, so that the mail server, the operator's
//! tool and later components cannot disagree.
//!
//! Durations are whole seconds, in keys ending in `_seconds`. Every key
//! has a default (the engine's own); unknown keys, values of the wrong
//! type and values the engine refuses are errors naming the file, line
//! and column. The commented example with every key and its default is
//! `integrations/mail2fa.toml` in the repository.
//!
//! ```no_run
//! use mail2fa::config::{Config, DEFAULT_PATH};
//!
//! // At start-up: read and check the file, open the store, start the engine.
//! let config = Config::from_file(DEFAULT_PATH)?;
//! let engine = config.open_engine()?;
//! # let _ = engine;
//! # Ok::<(), mail2fa::config::ConfigError>(())
//! ```
//!
//! The files are checked as the key file is: the configuration must not be
//! writable by group or others, the password and device key files not
//! readable by them, and each must belong to the process's effective user
//! or root; the error names the file and the `chmod` or `chown` that fixes
//! it.

mod error;
mod file;
mod location;
mod open;
mod parse;
pub(crate) mod permissions;
mod policies;
mod report;
mod sections;
mod tokens;
mod validate;

pub use error::{ConfigError, Location};
pub use file::Config;
pub use policies::{
    DeliveredCodesSection, DevicesSection, EngineSection, LockoutSection, TotpAlgorithm,
    TotpSection,
};
pub use report::CheckReport;
pub use sections::{
    EncryptionSection, NginxSection, NotificationsSection, PasswordCheckSection, PasswordMethod,
    PostgresSection, ServerSection, SqliteSection, StoreSection, SyncMode,
};
pub use tokens::MIN_API_TOKEN_LEN;

/// An address or network of `[server] trusted_proxies` (`"10.0.0.0/8"`,
/// `"::1"`): the network's first address and prefix length, or `None` if
/// it is neither.
///
/// ```
/// use mail2fa::config::parse_network;
///
/// assert_eq!(parse_network("10.1.2.3/8"), Some(("10.0.0.0".parse().unwrap(), 8)));
/// assert_eq!(parse_network("::1"), Some(("::1".parse().unwrap(), 128)));
/// assert_eq!(parse_network("10.0.0.0/33"), None);
/// ```
pub fn parse_network(text: &str) -> Option<(std::net::IpAddr, u8)> {
    use std::net::IpAddr;
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address: IpAddr = address.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(prefix) if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) => {
            prefix.parse::<u8>().ok().filter(|p| *p <= max)?
        }
        Some(_) => return None,
        None => max,
    };
    Some((network_start(address, prefix), prefix))
}

/// Whether `address` lies in the network `(start, prefix)` of
/// [`parse_network`].
pub fn in_network(address: std::net::IpAddr, (start, prefix): (std::net::IpAddr, u8)) -> bool {
    // An IPv4 peer seen as an IPv4-mapped IPv6 address is the IPv4 one.
    let address = match address {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, std::net::IpAddr::V4),
        v4 => v4,
    };
    address.is_ipv4() == start.is_ipv4() && network_start(address, prefix) == start
}

fn network_start(address: std::net::IpAddr, prefix: u8) -> std::net::IpAddr {
    use std::net::IpAddr;
    match address {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    }
}

/// Where the components look for the configuration file by default.
pub const DEFAULT_PATH: &str = "/etc/mail2fa/mail2fa.toml";
