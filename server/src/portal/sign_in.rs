//! Signing in: the mailbox password (checked by the deployment's own
//! authentication, never counted by mail2fa), then the second factor (an
//! app code, an e-mail or SMS code, or a recovery code) decided by the
//! engine on protocol `portal`; signing out.

use askama::Template;
use axum::Form;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use mail2fa::engine::{
    AccountId, ClientAnswer, ClientInfo, Credential, Decision, LoginRequest, Mode, Protocol,
    SessionStage,
};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{
    Nav, PRE_COOKIE, SESSION_COOKIE, client_ip, cookie, local_path, log_sign_in, message, page,
    random_token, session_of, set_cookie, unavailable,
};
use crate::app::App;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    nav: Nav,
    csrf: &'a str,
    next: &'a str,
    address: &'a str,
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage<'a> {
    nav: Nav,
    csrf: &'a str,
    next: &'a str,
    prompt: &'a str,
    can_send: bool,
}

#[derive(Deserialize)]
pub(crate) struct Next {
    #[serde(default)]
    next: String,
    /// After the password step of an e-mail/SMS account: whether its
    /// code went out (`1`) or not (`0`).
    #[serde(default)]
    sent: String,
}

/// The sign-in form, with a fresh anti-forgery cookie.
pub(crate) async fn form(Query(query): Query<Next>) -> Response {
    sign_in_page(StatusCode::OK, local_path(&query.next), "", None)
}

fn sign_in_page(status: StatusCode, next: &str, address: &str, problem: Option<&str>) -> Response {
    let Some(csrf) = random_token() else {
        return unavailable(Nav::anonymous());
    };
    let mut nav = Nav::anonymous();
    nav.problem = problem.map(str::to_owned);
    let mut response = page(
        status,
        &SignInPage {
            nav,
            csrf: &csrf,
            next,
            address,
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PRE_COOKIE, Some(&csrf), 3600),
    );
    response
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    csrf: String,
    #[serde(default)]
    next: String,
    address: String,
    password: Zeroizing<String>,
}

/// Step one: the mailbox password.
pub(crate) async fn password(State(app): State<App>, request: Request) -> Response {
    let remote = client_ip(&app, &request);
    let headers = request.headers().clone();
    let Ok(Form(form)) = Form::<PasswordForm>::from_request_checked(request).await else {
        return sign_in_page(
            StatusCode::BAD_REQUEST,
            "/portal/",
            "",
            Some("Fill in both fields."),
        );
    };
    let next = local_path(&form.next);
    let pre = cookie(&headers, PRE_COOKIE).unwrap_or_default();
    if pre.is_empty() || !constant_eq(pre, &form.csrf) {
        return sign_in_page(
            StatusCode::FORBIDDEN,
            next,
            "",
            Some("The form expired or came from another site. Please try again."),
        );
    }
    let address = form.address.trim().to_owned();
    let wrong = || {
        sign_in_page(
            StatusCode::UNAUTHORIZED,
            next,
            &address,
            Some("The address or the password is wrong."),
        )
    };
    let platform = address.rsplit_once('@').map_or("", |(_, domain)| domain);
    let Ok(id) = AccountId::new(platform, &address) else {
        log_sign_in(&address, remote, "not an account name");
        return wrong();
    };
    match app
        .password
        .verify(id.account(), &form.password, remote)
        .await
    {
        Ok(true) => log_sign_in(id.account(), remote, "password right"),
        Ok(false) => {
            log_sign_in(id.account(), remote, "password wrong");
            return wrong();
        }
        Err(why) => {
            log_sign_in(
                id.account(),
                remote,
                &format!("password check failed: {why}"),
            );
            return sign_in_page(
                StatusCode::SERVICE_UNAVAILABLE,
                next,
                &address,
                Some("Passwords cannot be checked right now. Please try again later."),
            );
        }
    }
    // The password was right: what does 2FA ask of the portal?
    let request_id = id.clone();
    let addr = remote.map(|ip| ip.to_string());
    let decision = app
        .call(move |engine, now| {
            let client = ClientInfo::new().with_remote_addr(addr.as_deref());
            let request =
                LoginRequest::new(Protocol::Portal, Credential::Password { correct: true })
                    .with_client(client);
            engine.authenticate(&request_id, &request, now)
        })
        .await;
    // A code owed: the decision says in which mode (no second read).
    let (stage, owed) = match &decision {
        Ok(Decision::SecondFactorRequired { mode }) => (SessionStage::PasswordChecked, Some(*mode)),
        Ok(d)
            if matches!(
                d.client_answer(),
                ClientAnswer::Allowed | ClientAnswer::EnrollmentRequired
            ) =>
        {
            (SessionStage::SignedIn, None)
        }
        Ok(_) => {
            return message(
                StatusCode::FORBIDDEN,
                Nav::anonymous(),
                "Not available",
                "This portal is closed for your mailbox. Ask your provider.",
            );
        }
        Err(_) => return unavailable(Nav::anonymous()),
    };
    let idle = app.session_idle;
    let id_for_code = id.clone();
    let started = app
        .call(move |engine, now| engine.start_session(&id, stage, idle, now))
        .await;
    let Ok((token, _)) = started else {
        return unavailable(Nav::anonymous());
    };
    let target = match stage {
        SessionStage::PasswordChecked => {
            // E-mail or SMS mode: the first code goes out now.
            let sent = if matches!(owed, Some(Mode::Email | Mode::Sms)) {
                match send_code(&app, &id_for_code).await {
                    Ok(_) => "&sent=1",
                    Err(_) => "&sent=0",
                }
            } else {
                ""
            };
            format!("/portal/sign-in/code?next={}{sent}", super::percent(next))
        }
        _ => next.to_owned(),
    };
    let mut response = Redirect::to(&target).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, Some(token.as_str()), idle),
    );
    headers.append(header::SET_COOKIE, set_cookie(PRE_COOKIE, None, 0));
    response
}

/// Step two's form: what to type, by the account's mode.
pub(crate) async fn code_form(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<Next>,
) -> Response {
    let next = local_path(&query.next);
    let session = match session_of(&app, &headers).await {
        Ok(Some((_, session))) if session.stage == SessionStage::PasswordChecked => session,
        Ok(Some(_)) => return Redirect::to(next).into_response(),
        Ok(None) => return Redirect::to("/portal/sign-in").into_response(),
        Err(()) => return unavailable(Nav::anonymous()),
    };
    let asked = session.account.clone();
    let mode = app
        .call(move |engine, now| engine.account_status(&asked, now).map(|s| s.mode))
        .await
        .unwrap_or(Mode::Totp);
    let (notice, problem) = match query.sent.as_str() {
        "1" => (Some("We sent you a code.".to_owned()), None),
        "0" => (
            None,
            Some("The code could not be sent: ask for one again.".to_owned()),
        ),
        _ => (None, None),
    };
    code_page_with(
        StatusCode::OK,
        &session.csrf_token(),
        next,
        mode,
        problem,
        notice,
    )
}

fn code_page(
    status: StatusCode,
    csrf: &str,
    next: &str,
    mode: Mode,
    problem: Option<String>,
) -> Response {
    code_page_with(status, csrf, next, mode, problem, None)
}

fn code_page_with(
    status: StatusCode,
    csrf: &str,
    next: &str,
    mode: Mode,
    problem: Option<String>,
    notice: Option<String>,
) -> Response {
    let prompt = match mode {
        Mode::Email => "Type the code we sent you by e-mail.",
        Mode::Sms => "Type the code we sent you by SMS.",
        _ => "Type the code your authenticator app shows.",
    };
    let mut nav = Nav::anonymous();
    nav.problem = problem;
    nav.notice = notice;
    page(
        status,
        &CodePage {
            nav,
            csrf,
            next,
            prompt,
            can_send: matches!(mode, Mode::Email | Mode::Sms),
        },
    )
}

/// Issues an e-mail or SMS code for the session's account and delivers
/// it; what to tell the user.
pub(crate) async fn send_code(app: &App, id: &AccountId) -> Result<String, String> {
    let asked = id.clone();
    let issued = app
        .call(move |engine, now| {
            let issued = engine.issue_code(&asked, now)?;
            let email = engine.account_status(&asked, now)?.email;
            Ok((issued, email))
        })
        .await;
    let (issued, email) = match issued {
        Ok(issued) => issued,
        Err(error) if error.code == "rate_limited" => {
            return Err(
                "A code was sent a moment ago: wait a little before asking again.".to_owned(),
            );
        }
        Err(error) => {
            eprintln!(
                "mail2fa-server: no code issued for {}: {}",
                id.account(),
                error.message
            );
            return Err("No code can be sent right now. Try again later.".to_owned());
        }
    };
    match app.delivery.code(id, &issued, email.as_deref()).await {
        Ok(done) if done.fallback => {
            if let Some(failure) = &done.sms_failure {
                eprintln!(
                    "mail2fa-server: the SMS code for {} went by e-mail: {failure}",
                    id.account()
                );
            }
            Ok("The SMS did not go through: we sent the code by e-mail.".to_owned())
        }
        Ok(done) if done.channel.name() == "sms" => Ok("We sent you a code by SMS.".to_owned()),
        Ok(_) => Ok("We sent you a code by e-mail.".to_owned()),
        Err(error) => {
            eprintln!(
                "mail2fa-server: the code for {} could not be delivered: {error}",
                id.account()
            );
            Err("The code could not be sent. Try again later.".to_owned())
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct SendForm {
    csrf: String,
    #[serde(default)]
    next: String,
}

/// "Send me a code": a new e-mail or SMS code for a signed-in-halfway
/// session.
pub(crate) async fn send(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<SendForm>,
) -> Response {
    let next = local_path(&form.next).to_owned();
    let session = match session_of(&app, &headers).await {
        Ok(Some((_, session))) if session.stage == SessionStage::PasswordChecked => session,
        Ok(_) => return Redirect::to("/portal/sign-in").into_response(),
        Err(()) => return unavailable(Nav::anonymous()),
    };
    if !session.csrf_matches(&form.csrf) {
        return message(
            StatusCode::FORBIDDEN,
            Nav::anonymous(),
            "Form expired",
            "This form is out of date or came from another site. Sign in again.",
        );
    }
    let asked = session.account.clone();
    let mode = app
        .call(move |engine, now| engine.account_status(&asked, now).map(|s| s.mode))
        .await
        .unwrap_or(Mode::Totp);
    let csrf = session.csrf_token();
    match send_code(&app, &session.account).await {
        Ok(notice) => code_page_with(StatusCode::OK, &csrf, &next, mode, None, Some(notice)),
        Err(problem) => code_page_with(
            StatusCode::SERVICE_UNAVAILABLE,
            &csrf,
            &next,
            mode,
            Some(problem),
            None,
        ),
    }
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    csrf: String,
    #[serde(default)]
    next: String,
    code: Zeroizing<String>,
}

/// Step two: the code, decided by the engine (lockout, replay, recovery
/// codes, e-mail/SMS codes); a right one signs in under a new session.
pub(crate) async fn code(State(app): State<App>, request: Request) -> Response {
    let remote = client_ip(&app, &request);
    let headers = request.headers().clone();
    let (token, session) = match session_of(&app, &headers).await {
        Ok(Some(found)) if found.1.stage == SessionStage::PasswordChecked => found,
        Ok(_) => return Redirect::to("/portal/sign-in").into_response(),
        Err(()) => return unavailable(Nav::anonymous()),
    };
    let Ok(Form(form)) = Form::<CodeForm>::from_request_checked(request).await else {
        return Redirect::to("/portal/sign-in/code").into_response();
    };
    let next = local_path(&form.next).to_owned();
    if !session.csrf_matches(&form.csrf) {
        return message(
            StatusCode::FORBIDDEN,
            Nav::anonymous(),
            "Form expired",
            "This form is out of date or came from another site. Sign in again.",
        );
    }
    let id = session.account.clone();
    let code = Zeroizing::new(form.code.trim().to_owned());
    let addr = remote.map(|ip| ip.to_string());
    let decided = app
        .call(move |engine, now| {
            let client = ClientInfo::new().with_remote_addr(addr.as_deref());
            let request = LoginRequest::new(
                Protocol::Portal,
                Credential::PasswordAndCode {
                    correct: true,
                    code: &code,
                },
            )
            .with_client(client);
            let decision = engine.authenticate(&id, &request, now)?;
            // The mode, for the page asking again: only on a refusal.
            let mode = (!decision.is_allowed()).then(|| {
                engine
                    .account_status(&id, now)
                    .map_or(Mode::Totp, |s| s.mode)
            });
            Ok((decision, mode))
        })
        .await;
    let Ok((decision, mode)) = decided else {
        return unavailable(Nav::anonymous());
    };
    log_sign_in(
        session.account.account(),
        remote,
        &format!("code {}", decision.reason_code().name()),
    );
    if let Some(mode) = mode {
        let problem = super::account::refusal(&decision);
        return code_page(
            StatusCode::UNAUTHORIZED,
            &session.csrf_token(),
            &next,
            mode,
            Some(problem),
        );
    }
    let idle = app.session_idle;
    let promoted = app
        .call(move |engine, now| engine.promote_session(&token, idle, now))
        .await;
    let Ok((token, _)) = promoted else {
        return unavailable(Nav::anonymous());
    };
    let mut response = Redirect::to(&next).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, Some(token.as_str()), idle),
    );
    response
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

/// Signing out ends the session in the store (only with the session's
/// anti-forgery token: another site cannot sign a user out).
pub(crate) async fn sign_out(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let mut matched = false;
    if let Ok(Some((token, session))) = session_of(&app, &headers).await {
        if session.csrf_matches(&form.csrf) {
            matched = true;
            let _ = app.call(move |engine, _| engine.end_session(&token)).await;
        }
    }
    let mut response = Redirect::to("/portal/sign-in").into_response();
    if matched {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, None, 0));
    }
    response
}

fn constant_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// `Form` extraction from a whole request (after its extensions were read).
trait FromRequestChecked: Sized {
    async fn from_request_checked(request: Request) -> Result<Self, ()>;
}

impl<T: serde::de::DeserializeOwned + Send> FromRequestChecked for Form<T> {
    async fn from_request_checked(request: Request) -> Result<Self, ()> {
        use axum::extract::FromRequest;
        Form::<T>::from_request(request, &()).await.map_err(|_| ())
    }
}
