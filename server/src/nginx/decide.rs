//! One login decided for either endpoint: the engine's decision with the
//! deployment's password check, bounded in time, the notification of a
//! blocked device delivered; and the log line of each answer.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mail2fa::asynchronous::OwnedLoginAttempt;
use mail2fa::engine::{
    AccountId, Channel, ClientInfo, Decision, DenyReason, DeviceId, Notification, Protocol,
};
use zeroize::Zeroizing;

use super::LIMIT;
use crate::app::App;

/// A decision as the endpoints answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Let in.
    Allowed,
    /// The password is right, the device must be authorized first.
    DevicePending,
    /// The account password was right but 2FA wants more than this
    /// login carries (a code, an enrollment).
    PasswordOnly,
    /// Refused because the client says nothing that identifies a device,
    /// with the right account password (a probe: see [`super::http`]).
    Unidentified,
    /// Refused.
    Refused,
    /// The store or the password check did not answer: refused, "try
    /// later".
    Unavailable,
}

/// The outcome and the engine's reason (its stable name, for the log).
pub(crate) type Decided = (Outcome, &'static str);

/// One login decided: the account (a mailbox address, its domain the
/// platform), the protocol, what the client typed, what is known of the
/// client. Bounded by [`LIMIT`]. The decision runs in a task of its own,
/// and a notification it owes is delivered in another: when the answer is
/// no longer awaited (the limit passed, nginx gave up) both still end —
/// the engine has recorded the notification as sent.
pub(crate) async fn decide(
    app: &App,
    account: &str,
    protocol: Protocol,
    input: Zeroizing<String>,
    client: ClientInfo<'_>,
    remote: Option<IpAddr>,
) -> Decided {
    let platform = account.rsplit_once('@').map_or("", |(_, d)| d);
    let Ok(id) = AccountId::new(platform, account) else {
        return (Outcome::Refused, "not_an_account_name");
    };
    let attempt = OwnedLoginAttempt::new(protocol, input.as_str()).with_client(client);
    drop(input);
    let task = tokio::spawn(decide_owned(app.clone(), id, attempt, remote));
    match tokio::time::timeout(LIMIT, task).await {
        Ok(Ok(decided)) => decided,
        Ok(Err(_)) => (Outcome::Unavailable, "interrupted"),
        Err(_) => (Outcome::Unavailable, "timeout"),
    }
}

async fn decide_owned(
    app: App,
    id: AccountId,
    attempt: OwnedLoginAttempt,
    remote: Option<IpAddr>,
) -> Decided {
    let password_right = Arc::new(AtomicBool::new(false));
    let right = Arc::clone(&password_right);
    let verifier = Arc::clone(&app.password);
    let mailbox = id.account().to_owned();
    let now = app.clock.now();
    let decision = app
        .engine
        .check_login(&id, attempt, now, |password| async move {
            let verdict = verifier.verify(&mailbox, password.as_str(), remote).await;
            right.store(matches!(verdict, Ok(true)), Ordering::SeqCst);
            verdict
        })
        .await;
    let decision = match decision {
        Ok(decision) => decision,
        Err(mail2fa::Error::InvalidInput(_)) => return (Outcome::Refused, "invalid_input"),
        Err(mail2fa::Error::PasswordCheckFailed) => {
            return (Outcome::Unavailable, "password_check_failed");
        }
        Err(_) => return (Outcome::Unavailable, "store_error"),
    };
    let right = password_right.load(Ordering::SeqCst);
    let outcome = match &decision {
        Decision::Allow { .. } => Outcome::Allowed,
        Decision::DevicePending { .. } => Outcome::DevicePending,
        Decision::EnrollmentRequired { .. } | Decision::SecondFactorRequired { .. } if right => {
            Outcome::PasswordOnly
        }
        Decision::Deny {
            reason: DenyReason::DeviceUnidentified,
        } if right => Outcome::Unidentified,
        _ => Outcome::Refused,
    };
    // Delivered beside the answer: the client is not kept waiting on the
    // relay or the gateway.
    if let Decision::DevicePending {
        notification: Some(notification),
        device,
    } = &decision
    {
        let (app, id, device, notification) =
            (app.clone(), id.clone(), *device, notification.clone());
        tokio::spawn(async move { deliver(&app, &id, device, &notification).await });
    }
    // The engine's reason; the decisions that have none by their kind.
    let reason = match &decision {
        Decision::DevicePending { .. } => "device_pending",
        Decision::SecondFactorRequired { .. } => "second_factor_required",
        Decision::EnrollmentRequired { .. } => "enrollment_required",
        decided => decided.reason_code().name(),
    };
    (outcome, reason)
}

/// Delivers a blocked device's notification; an SMS that fails goes again
/// by e-mail when the account has an address. Failures are logged.
async fn deliver(app: &App, id: &AccountId, device: DeviceId, notification: &Notification) {
    let failure = match app.delivery.notification(notification).await {
        Ok(_) => return,
        Err(failure) => failure,
    };
    let account = id.account();
    if !matches!(notification.channel, Channel::Sms(_)) {
        eprintln!("mail2fa-server: the notification for {account} was not delivered: {failure}");
        return;
    }
    let now = app.clock.now();
    let for_fallback = id.clone();
    let fallback = app
        .engine
        .run(move |engine| engine.notification_fallback(&for_fallback, &device, now))
        .await;
    let again = match fallback {
        Ok(Some(by_mail)) => match app.delivery.notification(&by_mail).await {
            Ok(_) => return,
            Err(again) => again.to_string(),
        },
        Ok(None) => "no e-mail address to fall back to".to_owned(),
        Err(error) => format!("the store: {error}"),
    };
    eprintln!(
        "mail2fa-server: the notification for {account} was not delivered: {failure}; \
         by e-mail: {again}"
    );
}

/// One log line per answer: protocol, account, client address, the
/// answer given and the engine's reason (never a secret).
pub(crate) fn log(
    account: &str,
    protocol: &Protocol,
    from: Option<IpAddr>,
    answer: &str,
    reason: &str,
) {
    eprintln!(
        "mail2fa-server: nginx {} {} from {}: {answer} ({reason})",
        protocol.name(),
        crate::log::account(account),
        crate::log::address(from),
    );
}
