//! Password checks by a PAM service (`pam_service`, by default
//! `mail2fa-portal`: `integrations/pam/mail2fa-portal.pam`, the host's
//! password module and no mail2fa line).
//!
//! One transaction per check, on a blocking thread: `pam_authenticate`
//! (the conversation answers the password, and the user name if a module
//! asks), then `pam_acct_mgmt` (a user the host disabled or whose password
//! expired is refused), with `PAM_RHOST` set to the browser's address and
//! `PAM_DISALLOW_NULL_AUTHTOK` (an empty password never passes). PAM
//! cannot be interrupted: past the timeout the check reports an error and
//! the thread finishes on its own.

use std::ffi::{OsStr, OsString};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use nonstick::items::ItemsMut;
use nonstick::{
    AuthnFlags, ConversationAdapter, ErrorCode, PamShared, Transaction, TransactionBuilder,
};
use zeroize::Zeroizing;

use super::{Authority, PasswordCheckError};

/// Where Linux-PAM looks for service files: without one, PAM would use the
/// service `other`, which on Debian is the system's password.
const SERVICE_DIRS: [&str; 2] = ["/etc/pam.d", "/usr/lib/pam.d"];

/// Checks passwords through a PAM service.
#[derive(Debug, Clone)]
pub(crate) struct PamAuth {
    service: String,
    timeout: Duration,
}

impl PamAuth {
    pub(crate) fn new(service: &str, timeout: Duration) -> Self {
        Self {
            service: service.to_owned(),
            timeout,
        }
    }

    fn authority(&self) -> Authority {
        Authority::Pam(self.service.clone())
    }

    pub(crate) async fn check(
        &self,
        user: &str,
        password: &str,
        remote: Option<IpAddr>,
    ) -> Result<bool, PasswordCheckError> {
        if !SERVICE_DIRS
            .iter()
            .any(|dir| Path::new(dir).join(&self.service).is_file())
        {
            return Err(PasswordCheckError::Unreachable {
                authority: self.authority(),
                reason: format!(
                    "no service file {}/{} (PAM would fall back to the service \"other\")",
                    SERVICE_DIRS[0], self.service
                ),
            });
        }
        let service = self.service.clone();
        let answers = Answers {
            user: user.to_owned(),
            password: Zeroizing::new(password.to_owned()),
        };
        let task = tokio::task::spawn_blocking(move || authenticate(&service, answers, remote));
        match tokio::time::timeout(self.timeout, task).await {
            Err(_) => Err(PasswordCheckError::TimedOut {
                authority: self.authority(),
                seconds: self.timeout.as_secs(),
            }),
            Ok(Err(_)) => Err(PasswordCheckError::Failed {
                authority: self.authority(),
                problem: "the PAM transaction's thread failed".to_owned(),
            }),
            Ok(Ok(outcome)) => outcome.map_err(|code| PasswordCheckError::Failed {
                authority: self.authority(),
                problem: code.to_string(),
            }),
        }
    }
}

/// One transaction. `Ok` is PAM's decision; `Err` a PAM error that is no
/// decision about the password.
fn authenticate(
    service: &str,
    answers: Answers,
    remote: Option<IpAddr>,
) -> Result<bool, ErrorCode> {
    let user = answers.user.clone();
    let mut transaction = TransactionBuilder::new_with_service(service)
        .username(&user)
        .build(answers.into_conversation())?;
    if let Some(ip) = remote {
        transaction
            .items_mut()
            .set_remote_host(Some(OsStr::new(&ip.to_string())))?;
    }
    let flags = AuthnFlags::SILENT | AuthnFlags::DISALLOW_NULL_AUTHTOK;
    if let Err(code) = transaction.authenticate(flags) {
        return refusal(code);
    }
    match transaction.account_management(flags) {
        Ok(()) => Ok(true),
        Err(code) => refusal(code),
    }
}

/// A PAM error: a refusal of this user or password (`Ok(false)`), or a
/// failure to decide (`Err`).
fn refusal(code: ErrorCode) -> Result<bool, ErrorCode> {
    match code {
        ErrorCode::AuthenticationError
        | ErrorCode::UserUnknown
        | ErrorCode::PermissionDenied
        | ErrorCode::CredentialsInsufficient
        | ErrorCode::MaxTries
        | ErrorCode::AccountExpired
        | ErrorCode::NewAuthTokRequired
        | ErrorCode::AuthTokExpired => Ok(false),
        other => Err(other),
    }
}

/// The conversation: the password for a hidden prompt, the user name for
/// a visible one; messages are dropped (nobody reads them).
struct Answers {
    user: String,
    password: Zeroizing<String>,
}

impl ConversationAdapter for Answers {
    fn prompt(&self, _request: impl AsRef<OsStr>) -> nonstick::Result<OsString> {
        Ok(OsString::from(&self.user))
    }

    fn masked_prompt(&self, _request: impl AsRef<OsStr>) -> nonstick::Result<OsString> {
        // nonstick copies the answer into memory it wipes once PAM is done;
        // this OsString (nonstick's interface) is freed unwiped.
        Ok(OsString::from(self.password.as_str()))
    }

    fn error_msg(&self, _message: impl AsRef<OsStr>) {}

    fn info_msg(&self, _message: impl AsRef<OsStr>) {}
}
