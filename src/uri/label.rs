//! What an issuer or account name may be.

use crate::error::UriError;

/// Longest issuer or account name, in bytes.
pub const MAX_LABEL_PART_LEN: usize = 256;

pub(crate) fn check_label_part(part: &str) -> Result<(), UriError> {
    // Leading spaces cannot survive a round trip (the format drops spaces
    // after the issuer's colon), so neither leading nor trailing white space
    // is accepted.
    if part.is_empty() || part.contains(':') || part.trim() != part {
        return Err(UriError::Label);
    }
    if part.len() > MAX_LABEL_PART_LEN {
        return Err(UriError::LabelTooLong);
    }
    if part.chars().any(char::is_control) {
        return Err(UriError::ControlCharacter);
    }
    Ok(())
}
