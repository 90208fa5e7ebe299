//! The account's own pages: the overview, enrollment (the QR code inline,
//! the key as text, a first code), and security (mode and contacts,
//! recovery codes, a new key, turning 2FA off — each change that matters
//! only with a valid code).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mail2fa::Error;
use mail2fa::engine::{AccountStatus, Decision, DenyReason, DeviceState, Enrollment, Mode};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{Nav, Visitor, message, page, signed_in, unavailable, when};
use crate::app::App;

/// What the overview says about 2FA.
pub(crate) enum OverviewState {
    Off,
    Pending,
    On,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct Overview {
    nav: Nav,
    state: OverviewState,
    platform: String,
    platform_on: bool,
    mode: &'static str,
    suspended_until: Option<String>,
    locked_until: Option<String>,
    recovery_codes: usize,
    blocked: usize,
}

/// Short notices a redirect may ask for (`?done=…`): fixed sentences, so
/// no text of the address bar reaches the page.
fn notice(done: &str) -> Option<String> {
    Some(
        match done {
            "enrolled" => "Two-factor authentication is on. Mail apps now need your password followed by a code, or an app password.",
            "disabled" => "Two-factor authentication is off.",
            "mode" => "Saved.",
            "authorized" => "The device is authorized: it can read your mail now.",
            "blocked" => "The device is blocked.",
            "deleted" => "The device was deleted. If it was not yours, change your password too.",
            "revoked" => "The app password was revoked: it stops working at once.",
            "admin" => "Done.",
            _ => return None,
        }
        .to_owned(),
    )
}

#[derive(Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
}

/// The notice a redirect asked for.
pub(crate) fn notice_for(done: &Done) -> Option<String> {
    notice(&done.done)
}

fn mode_text(mode: Mode) -> &'static str {
    match mode {
        Mode::Email => "code by e-mail",
        Mode::Sms => "code by SMS",
        _ => "authenticator app",
    }
}

/// The account's status, or `None` without 2FA.
async fn status_of(app: &App, visitor: &Visitor) -> Result<Option<AccountStatus>, Response> {
    let id = visitor.id().clone();
    match app
        .call(move |engine, now| engine.account_status(&id, now))
        .await
    {
        Ok(status) => Ok(Some(status)),
        Err(error) if error.code == "not_enrolled" => Ok(None),
        Err(_) => Err(unavailable(visitor.nav(""))),
    }
}

pub(crate) async fn overview(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<Done>,
) -> Response {
    let visitor = match signed_in(&app, &headers, "/portal/").await {
        Ok(visitor) => visitor,
        Err(response) => return response,
    };
    let status = match status_of(&app, &visitor).await {
        Ok(status) => status,
        Err(response) => return response,
    };
    let id = visitor.id().clone();
    let facts = app
        .call(move |engine, now| {
            let on = engine.platform_enabled(id.platform())?;
            let blocked = match engine.devices(&id, now) {
                Ok(devices) => devices
                    .iter()
                    .filter(|d| d.state == DeviceState::Inactive)
                    .count(),
                Err(Error::NotEnabled) => 0,
                Err(other) => return Err(other),
            };
            Ok((on, blocked))
        })
        .await;
    let Ok((platform_on, blocked)) = facts else {
        return unavailable(visitor.nav("overview"));
    };
    let mut nav = visitor.nav("overview");
    nav.notice = notice(&q.done);
    let state = match status.as_ref().map(|s| s.enrollment) {
        None => OverviewState::Off,
        Some(Enrollment::Pending { .. }) => OverviewState::Pending,
        Some(_) => OverviewState::On,
    };
    page(
        StatusCode::OK,
        &Overview {
            nav,
            state,
            platform: visitor.id().platform().to_owned(),
            platform_on,
            mode: status.as_ref().map_or("", |s| mode_text(s.mode)),
            suspended_until: status.as_ref().and_then(|s| s.suspended_until).map(when),
            locked_until: status.as_ref().and_then(|s| s.locked_until).map(when),
            recovery_codes: status.as_ref().map_or(0, |s| s.recovery_codes),
            blocked,
        },
    )
}

#[derive(Template)]
#[template(path = "enroll.html")]
struct EnrollPage {
    nav: Nav,
    qr: Option<String>,
    key: String,
    digits: u8,
}

/// The SVG element of a QR code (without the XML prolog), for inline use.
fn inline_svg(svg: &str) -> String {
    svg.find("<svg")
        .map_or_else(String::new, |at| svg[at..].to_owned())
}

/// The key of a provisioning URI, in groups of four for typing.
fn key_of(uri: &str) -> (String, u8) {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let field = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .unwrap_or_default()
    };
    let key = field("secret")
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    (key, field("digits").parse().unwrap_or(6))
}

/// The enrollment page showing `uri` (once), or without it.
fn show_enrollment(
    visitor: &Visitor,
    uri: Option<&str>,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    let mut nav = visitor.nav("overview");
    nav.problem = problem;
    let (qr, key, digits) = match uri {
        Some(uri) => {
            let (key, digits) = key_of(uri);
            let svg = mail2fa::qr::svg(uri).map(|s| inline_svg(&s)).ok();
            (svg, key, digits)
        }
        None => (None, String::new(), 6),
    };
    page(
        status,
        &EnrollPage {
            nav,
            qr,
            key,
            digits,
        },
    )
}

pub(crate) async fn enroll_page(State(app): State<App>, headers: HeaderMap) -> Response {
    let visitor = visitor!(app, headers, "/portal/enroll");
    match status_of(&app, &visitor).await {
        Ok(Some(status)) if matches!(status.enrollment, Enrollment::Pending { .. }) => {
            show_enrollment(&visitor, None, StatusCode::OK, None)
        }
        Ok(_) => Redirect::to("/portal/").into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

/// Turns 2FA on: a new key, shown once.
pub(crate) async fn enroll_start(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/");
    checked!(visitor, &form.csrf);
    let id = visitor.id().clone();
    match app
        .call(move |engine, now| engine.enable_account(&id, now))
        .await
    {
        Ok(uri) => show_enrollment(&visitor, Some(&uri), StatusCode::OK, None),
        Err(error) if error.code == "already_enrolled" => {
            Redirect::to("/portal/enroll").into_response()
        }
        Err(error) if error.code == "platform_disabled" => message(
            StatusCode::CONFLICT,
            visitor.nav("overview"),
            "Not available yet",
            "Your provider has not turned two-factor authentication on for your domain.",
        ),
        Err(_) => unavailable(visitor.nav("overview")),
    }
}

/// Starts again with a new key (the unfinished one is replaced).
pub(crate) async fn enroll_restart(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/enroll");
    checked!(visitor, &form.csrf);
    let id = visitor.id().clone();
    let restarted = app
        .call(move |engine, now| {
            match engine.account_status(&id, now)?.enrollment {
                // Only an unfinished enrollment: a confirmed key is
                // replaced with a code (the security page).
                Enrollment::Pending { .. } => engine.reset(&id, now).map(Some),
                _ => Ok(None),
            }
        })
        .await;
    match restarted {
        Ok(Some(uri)) => show_enrollment(&visitor, Some(&uri), StatusCode::OK, None),
        Ok(None) => Redirect::to("/portal/").into_response(),
        Err(_) => unavailable(visitor.nav("overview")),
    }
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    csrf: String,
    code: Zeroizing<String>,
}

/// Why a code was refused, for the user.
pub(crate) fn refusal(decision: &Decision) -> String {
    match decision {
        Decision::Deny {
            reason: DenyReason::Locked { until },
        } => format!("Too many wrong codes: locked until {}.", when(*until)),
        Decision::Deny {
            reason: DenyReason::Replayed,
        } => "That code was used already. Wait for the next one.".to_owned(),
        Decision::Deny {
            reason: DenyReason::EnrollmentExpired,
        } => "Setting up took too long. Start again with a new key.".to_owned(),
        _ => "That code is not right. Try again.".to_owned(),
    }
}

/// The first code confirms the enrollment.
pub(crate) async fn enroll_confirm(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/enroll");
    checked!(visitor, &form.csrf);
    let id = visitor.id().clone();
    let code = Zeroizing::new(form.code.trim().to_owned());
    match app
        .call(move |engine, now| engine.confirm_enrollment(&id, &code, now))
        .await
    {
        Ok(decision) if decision.is_allowed() => {
            Redirect::to("/portal/?done=enrolled").into_response()
        }
        Ok(decision) => show_enrollment(
            &visitor,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(refusal(&decision)),
        ),
        Err(error) if matches!(error.code, "already_enrolled" | "not_enrolled") => {
            Redirect::to("/portal/").into_response()
        }
        Err(error) if error.code == "platform_disabled" => message(
            StatusCode::CONFLICT,
            visitor.nav("overview"),
            "Not available now",
            "Your provider has turned two-factor authentication off for your domain.",
        ),
        Err(_) => unavailable(visitor.nav("overview")),
    }
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    nav: Nav,
    enrolled: bool,
    mode: &'static str,
    email: String,
    phone: String,
    recovery_left: usize,
    recovery: Option<Vec<String>>,
}

async fn security_page(
    app: &App,
    visitor: &Visitor,
    status: StatusCode,
    nav: Nav,
    recovery: Option<Vec<String>>,
) -> Response {
    let state = match status_of(app, visitor).await {
        Ok(state) => state,
        Err(response) => return response,
    };
    let enrolled = state
        .as_ref()
        .is_some_and(|s| !matches!(s.enrollment, Enrollment::Pending { .. }));
    page(
        status,
        &SecurityPage {
            nav,
            enrolled,
            mode: state.as_ref().map_or("totp", |s| s.mode.name()),
            email: state
                .as_ref()
                .and_then(|s| s.email.clone())
                .unwrap_or_default(),
            phone: state
                .as_ref()
                .and_then(|s| s.phone.clone())
                .unwrap_or_default(),
            recovery_left: state.as_ref().map_or(0, |s| s.recovery_codes),
            recovery,
        },
    )
}

/// The security page again, saying why a code was refused (422).
async fn security_refused(app: &App, visitor: &Visitor, problem: String) -> Response {
    let mut nav = visitor.nav("security");
    nav.problem = Some(problem);
    security_page(app, visitor, StatusCode::UNPROCESSABLE_ENTITY, nav, None).await
}

pub(crate) async fn security(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<Done>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/security");
    let mut nav = visitor.nav("security");
    nav.notice = notice(&q.done);
    security_page(&app, &visitor, StatusCode::OK, nav, None).await
}

#[derive(Deserialize)]
pub(crate) struct ModeForm {
    csrf: String,
    code: Zeroizing<String>,
    mode: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

/// The verification mode and where codes go.
pub(crate) async fn set_mode(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<ModeForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/security");
    checked!(visitor, &form.csrf);
    let Some(mode) = Mode::from_name(&form.mode) else {
        let mut nav = visitor.nav("security");
        nav.problem = Some("Choose how you prove it is you.".to_owned());
        return security_page(&app, &visitor, StatusCode::BAD_REQUEST, nav, None).await;
    };
    // Where codes go is a key to the mailbox: changed only with a code.
    match prove(&app, &visitor, &form.code).await {
        Ok(()) => {}
        Err(Ok(problem)) => return security_refused(&app, &visitor, problem).await,
        Err(Err(())) => return unavailable(visitor.nav("security")),
    }
    let id = visitor.id().clone();
    let email = Some(form.email.trim().to_owned()).filter(|e| !e.is_empty());
    let phone = Some(form.phone.trim().to_owned()).filter(|p| !p.is_empty());
    let saved = app
        .call(move |engine, _| {
            // Contacts first (the new mode may need them), then the mode;
            // going back to the app first lets its old contact go.
            if mode == Mode::Totp {
                engine.set_mode(&id, mode)?;
                engine.set_contact(&id, email.as_deref(), phone.as_deref())
            } else {
                engine.set_contact(&id, email.as_deref(), phone.as_deref())?;
                engine.set_mode(&id, mode)
            }
        })
        .await;
    match saved {
        Ok(()) => Redirect::to("/portal/security?done=mode").into_response(),
        Err(error) if matches!(error.code, "invalid_value" | "no_contact") => {
            let mut nav = visitor.nav("security");
            nav.problem = Some(match error.code {
                "no_contact" => "That way needs an address or number first.".to_owned(),
                _ => {
                    "Check the e-mail address (name@example.com) and the mobile number (+41 79 …)."
                        .to_owned()
                }
            });
            security_page(&app, &visitor, StatusCode::BAD_REQUEST, nav, None).await
        }
        Err(_) => unavailable(visitor.nav("security")),
    }
}

/// "Send me a code" on the security page (e-mail and SMS modes), for the
/// code its changes ask.
pub(crate) async fn security_send(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/security");
    checked!(visitor, &form.csrf);
    let mut nav = visitor.nav("security");
    let status = match super::sign_in::send_code(&app, visitor.id()).await {
        Ok(notice) => {
            nav.notice = Some(notice);
            StatusCode::OK
        }
        Err(problem) => {
            nav.problem = Some(problem);
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    security_page(&app, &visitor, status, nav, None).await
}

/// Proves the second factor again with `code` — demanded even while 2FA
/// is suspended or its platform is off (`Engine::prove_possession`:
/// consumed, counted when wrong) — and marks the session proven; the
/// refusal to show, if any.
pub(crate) async fn prove(
    app: &App,
    visitor: &Visitor,
    code: &str,
) -> Result<(), Result<String, ()>> {
    let id = visitor.id().clone();
    let token = visitor.token.clone();
    let code = Zeroizing::new(code.trim().to_owned());
    let decided = app
        .call(move |engine, now| {
            let decision = engine.prove_possession(&id, &code, now)?;
            if decision.is_allowed() {
                engine.prove_session(&token, now)?;
            }
            Ok(decision)
        })
        .await;
    match decided {
        Ok(decision) if decision.is_allowed() => Ok(()),
        Ok(decision) => Err(Ok(refusal(&decision))),
        Err(error) if error.code == "not_enrolled" => Err(Ok(
            "Two-factor authentication is not set up for your mailbox.".to_owned(),
        )),
        Err(_) => Err(Err(())),
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage<'a> {
    nav: Nav,
    next: &'a str,
}

#[derive(Deserialize)]
pub(crate) struct Next {
    #[serde(default)]
    next: String,
}

/// "Confirm it is you": a code before a change that gives access (a
/// device authorized), for a session that has proven none — one that began
/// with the password alone while 2FA was suspended, say.
pub(crate) async fn confirm_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/confirm");
    let next = super::local_path(&q.next);
    page(
        StatusCode::OK,
        &ConfirmPage {
            nav: visitor.nav(""),
            next,
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct ConfirmForm {
    csrf: String,
    code: Zeroizing<String>,
    #[serde(default)]
    next: String,
}

pub(crate) async fn confirm(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/confirm");
    checked!(visitor, &form.csrf);
    let next = super::local_path(&form.next).to_owned();
    match prove(&app, &visitor, &form.code).await {
        Ok(()) => Redirect::to(&next).into_response(),
        Err(Ok(problem)) => {
            let mut nav = visitor.nav("");
            nav.problem = Some(problem);
            page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ConfirmPage { nav, next: &next },
            )
        }
        Err(Err(())) => unavailable(visitor.nav("")),
    }
}

/// Sends a session that has proven no code in it to "confirm it is you",
/// coming back to `back`.
pub(crate) fn require_proven(visitor: &Visitor, back: &str) -> Result<(), Response> {
    if visitor.session.proven_at.is_some() {
        Ok(())
    } else {
        Err(Redirect::to(&format!("/portal/confirm?next={}", super::percent(back))).into_response())
    }
}

/// New recovery codes, shown once, after a code.
pub(crate) async fn recovery_codes(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/security");
    checked!(visitor, &form.csrf);
    match prove(&app, &visitor, &form.code).await {
        Ok(()) => {}
        Err(Ok(problem)) => return security_refused(&app, &visitor, problem).await,
        Err(Err(())) => return unavailable(visitor.nav("security")),
    }
    let id = visitor.id().clone();
    match app
        .call(move |engine, _| engine.generate_recovery_codes(&id, 10))
        .await
    {
        Ok(codes) => {
            let shown = codes.iter().map(|c| c.to_string()).collect();
            let nav = visitor.nav("security");
            security_page(&app, &visitor, StatusCode::OK, nav, Some(shown)).await
        }
        Err(_) => unavailable(visitor.nav("security")),
    }
}

/// A new key (new phone), with a code of the current one.
pub(crate) async fn reset(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/security");
    checked!(visitor, &form.csrf);
    let id = visitor.id().clone();
    let code = Zeroizing::new(form.code.trim().to_owned());
    match app
        .call(move |engine, now| engine.reset_with_code(&id, &code, now))
        .await
    {
        Ok((_, Some(uri))) => show_enrollment(&visitor, Some(&uri), StatusCode::OK, None),
        Ok((decision, None)) => security_refused(&app, &visitor, refusal(&decision)).await,
        Err(_) => unavailable(visitor.nav("security")),
    }
}

/// Turns 2FA off, only with a valid code.
pub(crate) async fn disable(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let visitor = visitor!(app, headers, "/portal/security");
    checked!(visitor, &form.csrf);
    let id = visitor.id().clone();
    let code = Zeroizing::new(form.code.trim().to_owned());
    match app
        .call(move |engine, now| engine.disable_with_code(&id, &code, now))
        .await
    {
        Ok(decision) if decision.is_allowed() => {
            Redirect::to("/portal/?done=disabled").into_response()
        }
        Ok(decision) => security_refused(&app, &visitor, refusal(&decision)).await,
        Err(_) => unavailable(visitor.nav("security")),
    }
}
