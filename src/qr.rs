//! QR codes for provisioning URIs, so that a host (in C too) needs no QR
//! library of its own. Feature `qr`, on by default.
//!
//! Both renderings carry the secret the URI carries: the results are wiped
//! when dropped, and should be shown once, over a protected channel, and not
//! cached or logged. (The `qrcode` crate's intermediate buffers are not wiped.)

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Error correction level M (15 %): what authenticator enrollment pages use.
fn encode(text: &str) -> Result<QrCode> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|_| Error::QrTooLong)
}

/// An SVG document (black on white, quiet zone included, at least 200 px).
///
/// ```
/// let svg = mail2fa::qr::svg("otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?;
/// assert!(svg.starts_with("<?xml"));
/// # Ok::<(), mail2fa::Error>(())
/// ```
///
/// # Errors
/// [`Error::QrTooLong`] if the text exceeds a QR code's capacity.
pub fn svg(text: &str) -> Result<Zeroizing<String>> {
    let code = encode(text)?;
    Ok(Zeroizing::new(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    ))
}

/// Lines of Unicode half blocks (`▀▄█`), two modules per character cell,
/// with a quiet zone, drawn light-on-dark so that it scans on the usual
/// dark terminal. Each line ends with `\n`.
///
/// # Errors
/// [`Error::QrTooLong`] if the text exceeds a QR code's capacity.
pub fn terminal(text: &str) -> Result<Zeroizing<String>> {
    let code = encode(text)?;
    let mut art = code
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    art.push('\n');
    Ok(Zeroizing::new(art))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_forms_and_refuses_oversized_text() {
        let uri =
            "otpauth://totp/Example:alice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let svg = svg(uri).unwrap();
        assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
        let art = terminal(uri).unwrap();
        let lines: Vec<&str> = art.lines().collect();
        // A version-4+ code with quiet zone: every line the same width, > 30 cells.
        assert!(lines.len() > 15);
        let width = lines[0].chars().count();
        assert!(width > 30 && lines.iter().all(|l| l.chars().count() == width));
        assert!(art.contains('▀') || art.contains('▄'));
        assert_eq!(svg_err("x".repeat(3000)), Error::QrTooLong);
    }

    fn svg_err(text: String) -> Error {
        svg(&text).unwrap_err()
    }
}
