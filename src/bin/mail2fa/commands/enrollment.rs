//! A new secret shown with its QR code (`account enable`, `account
//! reset`), and `account confirm`.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use mail2fa::Error;
use mail2fa::engine::{AccountId, AllowReason, Decision, DenyReason, Enrollment, Mode, format_utc};
use zeroize::Zeroizing;

use crate::cli::{AccountArgs, QrArgs};
use crate::context::Context;
use crate::failure::{Failure, REFUSED, USAGE, about, fail};
use crate::output::{Json, print_json, when};
use crate::render::{account_json, deny_text, mode_text, name_of, shell_word};

impl Context {
    /// Makes a new secret with `make` (enable, reset) and shows its
    /// provisioning URI with the QR code, writing the SVG too. The SVG file
    /// is created first: if it cannot be, nothing is changed (a secret
    /// stored but never shown would need a reset).
    pub(crate) fn new_secret(
        &self,
        id: &AccountId,
        qr: &QrArgs,
        make: impl FnOnce() -> Result<Zeroizing<String>, Failure>,
        headline: impl FnOnce(String) -> String,
    ) -> Result<(), Failure> {
        let mut svg_file = match &qr.svg {
            Some(path) => Some(
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| {
                        fail(
                            REFUSED,
                            format!(
                                "cannot create {} (it is never overwritten): {e}; nothing was changed.",
                                path.display()
                            ),
                        )
                    })?,
            ),
            None => None,
        };
        let uri = match make() {
            Ok(uri) => uri,
            Err(failure) => {
                if let Some(path) = &qr.svg {
                    let _ = std::fs::remove_file(path);
                }
                return Err(failure);
            }
        };
        if let (Some(file), Some(path)) = (svg_file.as_mut(), &qr.svg) {
            let svg = mail2fa::qr::svg(&uri)?;
            file.write_all(svg.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| fail(REFUSED, format!("cannot write {}: {e}.", path.display())))?;
        }
        let until = match self
            .engine
            .account_status(id, self.now)
            .map_err(about(id))?
            .enrollment
        {
            Enrollment::Pending { expires_at } => Some(expires_at),
            Enrollment::Confirmed => None,
        };
        let headline = headline(when(until));
        let uri = uri.as_str();
        if self.json {
            return Ok(print_json(&account_json(
                id,
                vec![
                    ("uri", Json::text(uri)),
                    ("pending_until", Json::opt_number(until)),
                    (
                        "svg",
                        Json::opt_text(qr.svg.as_deref().and_then(Path::to_str)),
                    ),
                ],
            ))?);
        }
        let mut out = Zeroizing::new(String::with_capacity(4096));
        out.push_str(&headline);
        out.push_str(
            "\nScan the QR code with the authenticator app (or type the URI in it); \
             it is shown once:\n\n",
        );
        if !qr.no_qr {
            out.push_str(&mail2fa::qr::terminal(uri)?);
            out.push('\n');
        }
        out.push_str(uri);
        out.push_str("\n\n");
        if let Some(path) = &qr.svg {
            out.push_str(&format!("QR code written to {}.\n", path.display()));
        }
        out.push_str(&format!(
            "Then confirm with the code the app shows:\n    mail2fa account confirm {} {} CODE\n",
            shell_word(id.platform()),
            shell_word(id.account())
        ));
        Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
    }

    pub(crate) fn confirm_enrollment(
        &self,
        account: &AccountArgs,
        code: &str,
    ) -> Result<(), Failure> {
        let id = Self::id(account)?;
        let status = self
            .engine
            .account_status(&id, self.now)
            .map_err(about(&id))?;
        if status.mode != Mode::Totp {
            return Err(fail(
                REFUSED,
                format!(
                    "{} proves the second factor by {}: there is no app enrollment to confirm.",
                    name_of(&id),
                    mode_text(status.mode)
                ),
            ));
        }
        match status.enrollment {
            Enrollment::Confirmed => {
                return Err(fail(
                    REFUSED,
                    format!("{}: the enrollment is already confirmed.", name_of(&id)),
                ));
            }
            Enrollment::Pending { expires_at } if self.now >= expires_at => {
                return Err(fail(
                    REFUSED,
                    format!(
                        "{}: the enrollment expired at {}; start again with `mail2fa account enable`.",
                        name_of(&id),
                        format_utc(expires_at)
                    ),
                ));
            }
            Enrollment::Pending { .. } => {}
        }
        if !self.engine.platform_status(id.platform())?.enabled {
            return Err(Error::PlatformDisabled).map_err(about(&id));
        }
        match self
            .engine
            .confirm_enrollment(&id, code, self.now)
            .map_err(about(&id))?
        {
            Decision::Allow {
                reason: AllowReason::Enrolled { .. },
                ..
            } => self.report(
                &format!("Enrollment of {} confirmed: 2FA is active.", name_of(&id)),
                || account_json(&id, vec![("confirmed", Json::Bool(true))]),
            ),
            Decision::Deny { reason } => Err(fail(
                if reason == DenyReason::MalformedCode {
                    USAGE
                } else {
                    REFUSED
                },
                format!(
                    "{}: the code was refused ({}).",
                    name_of(&id),
                    deny_text(reason)
                ),
            )),
            other => Err(fail(
                REFUSED,
                format!(
                    "{}: not confirmed ({:?}).",
                    name_of(&id),
                    other.client_answer()
                ),
            )),
        }
    }
}
