//! `m2fa_protocol`: mail protocols as C numbers (or a name beside
//! `M2FA_PROTOCOL_OTHER`), and their conversion to the engine's `Protocol`
//! (S15).

use core::ffi::c_char;

use super::boundary::str_arg;
use super::status::m2fa_status;
use crate::engine::Protocol;
use crate::enum_table::c_enum_table;

/// Mail protocols, passed as `uint32_t`. `M2FA_PROTOCOL_OTHER` takes a
/// name beside it and means "the protocol of this name": a standard name
/// (`webmail`, `portal`, `activesync`, `outlook`, `imap`, `pop3`, `smtp`,
/// `rpc-over-http`, any case) is that protocol, any other name (1–32 bytes of
/// letters, digits, `-`, `_`, `.`; case ignored) a host-named one — so a host
/// holding a service name needs no table of its own. The other constants
/// ignore the name argument.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_protocol {
    /// Webmail.
    M2FA_PROTOCOL_WEBMAIL = 1,
    /// The account portal.
    M2FA_PROTOCOL_PORTAL = 2,
    /// Exchange ActiveSync.
    M2FA_PROTOCOL_ACTIVESYNC = 3,
    /// Outlook desktop (MAPI/HTTP, EWS).
    M2FA_PROTOCOL_OUTLOOK = 4,
    /// IMAP.
    M2FA_PROTOCOL_IMAP = 5,
    /// POP3.
    M2FA_PROTOCOL_POP3 = 6,
    /// SMTP submission.
    M2FA_PROTOCOL_SMTP = 7,
    /// RPC over HTTP.
    M2FA_PROTOCOL_RPC_OVER_HTTP = 8,
    /// A protocol named by the host.
    M2FA_PROTOCOL_OTHER = 99,
}

c_enum_table! {
    impl m2fa_protocol {
        /// The standard protocol of this constant; `None` for
        /// `M2FA_PROTOCOL_OTHER`, whose name says which protocol it is.
        fn standard(self) -> Option<Protocol>;
        M2FA_PROTOCOL_WEBMAIL => Some(Protocol::Webmail),
        M2FA_PROTOCOL_PORTAL => Some(Protocol::Portal),
        M2FA_PROTOCOL_ACTIVESYNC => Some(Protocol::ActiveSync),
        M2FA_PROTOCOL_OUTLOOK => Some(Protocol::Outlook),
        M2FA_PROTOCOL_IMAP => Some(Protocol::Imap),
        M2FA_PROTOCOL_POP3 => Some(Protocol::Pop3),
        M2FA_PROTOCOL_SMTP => Some(Protocol::Smtp),
        M2FA_PROTOCOL_RPC_OVER_HTTP => Some(Protocol::RpcOverHttp),
        M2FA_PROTOCOL_OTHER => None,
    }
}

/// The protocol of a `(protocol, name)` pair from C.
///
/// # Safety
/// `name` is NULL or NUL-terminated.
pub(super) unsafe fn protocol_arg(
    protocol: u32,
    name: *const c_char,
) -> Result<Protocol, m2fa_status> {
    let protocol = m2fa_protocol::from_u32(protocol).ok_or(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE)?;
    Ok(match protocol.standard() {
        Some(standard) => standard,
        // By name: standard names are the standard protocols (never a
        // host-named alias of one); case is ignored.
        // SAFETY: forwarded contract.
        None => Protocol::from_name(unsafe { str_arg(name) }?)?,
    })
}

// Every engine protocol has its C constant: a protocol added to the engine
// does not compile until it has one here (and a row above).
const _: fn(&Protocol) -> m2fa_protocol = |protocol| match protocol {
    Protocol::Webmail => m2fa_protocol::M2FA_PROTOCOL_WEBMAIL,
    Protocol::Portal => m2fa_protocol::M2FA_PROTOCOL_PORTAL,
    Protocol::ActiveSync => m2fa_protocol::M2FA_PROTOCOL_ACTIVESYNC,
    Protocol::Outlook => m2fa_protocol::M2FA_PROTOCOL_OUTLOOK,
    Protocol::Imap => m2fa_protocol::M2FA_PROTOCOL_IMAP,
    Protocol::Pop3 => m2fa_protocol::M2FA_PROTOCOL_POP3,
    Protocol::Smtp => m2fa_protocol::M2FA_PROTOCOL_SMTP,
    Protocol::RpcOverHttp => m2fa_protocol::M2FA_PROTOCOL_RPC_OVER_HTTP,
    Protocol::Other(_) => m2fa_protocol::M2FA_PROTOCOL_OTHER,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_c_protocol_is_the_engine_protocol_of_its_name() {
        for (constant, protocol) in m2fa_protocol::ALL.into_iter().zip(Protocol::STANDARD) {
            let name = format!("{constant:?}")
                .strip_prefix("M2FA_PROTOCOL_")
                .unwrap()
                .to_ascii_lowercase()
                .replace('_', "-");
            assert_eq!(name, protocol.name());
            // SAFETY: the name is ignored for a standard constant.
            let converted = unsafe { protocol_arg(constant as u32, core::ptr::null()) };
            assert_eq!(converted, Ok(protocol));
        }
        assert_eq!(m2fa_protocol::ALL.len(), Protocol::STANDARD.len() + 1);
        // SAFETY: a NUL-terminated name.
        let by_name = unsafe { protocol_arg(99, c"IMAP".as_ptr()) };
        assert_eq!(by_name, Ok(Protocol::Imap));
        // SAFETY: NULL is checked.
        let no_name = unsafe { protocol_arg(99, core::ptr::null()) };
        assert_eq!(no_name, Err(m2fa_status::M2FA_NULL_ARGUMENT));
        for unknown in [0, 9, 98, 100, u32::MAX] {
            // SAFETY: as above.
            let refused = unsafe { protocol_arg(unknown, c"imap".as_ptr()) };
            assert_eq!(refused, Err(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE));
        }
    }
}
