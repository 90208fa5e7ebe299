//! `m2fa_protocol`: mail protocols as C numbers (or a name beside
//! `M2FA_PROTOCOL_OTHER`), and their conversion to the engine's `Protocol`
//!. The numbers are the engine's `ProtocolCode`, with its table.

use core::ffi::c_char;

use super::boundary::str_arg;
use super::status::m2fa_status;
use crate::engine::Protocol;
/// The engine's numbering of protocols, exported to C under this name.
pub use crate::engine::ProtocolCode as m2fa_protocol;

/// The protocol of a `(protocol, name)` pair from C.
///
/// # Safety
/// `name` is NULL or NUL-terminated.
pub(super) unsafe fn protocol_arg(
    protocol: u32,
    name: *const c_char,
) -> Result<Protocol, m2fa_status> {
    let protocol = m2fa_protocol::from_u32(protocol).ok_or(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE)?;
    Ok(match Protocol::from_code(protocol) {
        Some(standard) => standard,
        // By name: standard names are the standard protocols (never a
        // host-named alias of one); case is ignored.
        // SAFETY: forwarded contract.
        None => Protocol::from_name(unsafe { str_arg(name) }?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_c_protocol_is_the_engine_protocol_of_its_name() {
        for (code, protocol) in m2fa_protocol::ALL.into_iter().zip(Protocol::STANDARD) {
            // The C constant is the variant in screaming snake case after
            // `M2FA_PROTOCOL_` (`RpcOverHttp`: `M2FA_PROTOCOL_RPC_OVER_HTTP`).
            let mut constant = String::from("M2FA_PROTOCOL_");
            for (i, c) in format!("{code:?}").chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    constant.push('_');
                }
                constant.push(c.to_ascii_uppercase());
            }
            let name = constant
                .strip_prefix("M2FA_PROTOCOL_")
                .unwrap()
                .to_ascii_lowercase()
                .replace('_', "-");
            assert_eq!(name, protocol.name());
            // SAFETY: the name is ignored for a standard constant.
            let converted = unsafe { protocol_arg(code as u32, core::ptr::null()) };
            assert_eq!(converted, Ok(protocol));
        }
        assert_eq!(m2fa_protocol::ALL.len(), Protocol::STANDARD.len() + 1);
        // SAFETY: a NUL-terminated name.
        let by_name = unsafe { protocol_arg(99, c"IMAP".as_ptr()) };
        assert_eq!(by_name, Ok(Protocol::Imap));
        // SAFETY: NULL is checked.
        let no_name = unsafe { protocol_arg(99, core::ptr::null()) };
        assert_eq!(no_name, Err(m2fa_status::M2FA_NULL_ARGUMENT));
        let next = m2fa_protocol::ALL
            .into_iter()
            .filter(|c| *c != m2fa_protocol::Other)
            .map(|c| c as u32 + 1)
            .max()
            .unwrap();
        for unknown in [0, next, 98, 100, u32::MAX] {
            // SAFETY: as above.
            let refused = unsafe { protocol_arg(unknown, c"imap".as_ptr()) };
            assert_eq!(refused, Err(m2fa_status::M2FA_UNKNOWN_ENUM_VALUE));
        }
    }
}
