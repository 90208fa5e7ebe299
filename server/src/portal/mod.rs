//! The self-service portal: server-rendered HTML under `/portal/`, working
//! with JavaScript off. A user signs in with the mailbox password (checked
//! by the deployment's own authentication) and the second factor; then
//! enrolls an authenticator (the QR code inline, the key as text, a first
//! code), authorizes or deletes devices, manages application passwords,
//! recovery codes, the verification mode and contacts, and turns 2FA off
//! with a code. A platform's administrators (`server.admins`) also get an
//! administration page.
//!
//! Every page is sent with a strict Content-Security-Policy (no script at
//! all), `frame-ancestors 'none'`, `no-store`; the session cookie is
//! `Secure; HttpOnly; SameSite=Strict` and scoped to `/portal`; every
//! form carries the session's anti-forgery token (the sign-in form a
//! cookie-bound one); text from clients and users is escaped by the
//! templates.

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mail2fa::engine::{AccountId, PortalSession, SessionToken};
use zeroize::Zeroizing;

use crate::app::App;

/// The signed-in visitor, or the response that sends them to sign in.
macro_rules! visitor {
    ($app:expr, $headers:expr, $path:expr) => {
        match crate::portal::signed_in(&$app, &$headers, $path).await {
            Ok(visitor) => visitor,
            Err(response) => return response,
        }
    };
}

/// A form's fields, after its anti-forgery token.
macro_rules! checked {
    ($visitor:expr, $csrf:expr) => {
        if let Err(response) = $visitor.check_csrf($csrf) {
            return response;
        }
    };
}

mod account;
mod admin;
mod clients;
mod sign_in;

/// The session cookie's name: `__Host-` makes browsers refuse it unless
/// it is `Secure`, has `Path=/` and no `Domain` (no sibling subdomain can
/// plant one).
const SESSION_COOKIE: &str = "__Host-m2fa_session";
/// The sign-in form's anti-forgery cookie.
const PRE_COOKIE: &str = "__Host-m2fa_pre";

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = include_str!("../../static/portal.css");

/// The portal's routes, with its security headers.
pub(crate) fn routes(_app: App) -> Router<App> {
    Router::new()
        .route("/portal", get(|| async { Redirect::to("/portal/") }))
        .route("/portal/", get(account::overview))
        .route("/portal/static/portal.css", get(style))
        .route(
            "/portal/sign-in",
            get(sign_in::form).post(sign_in::password),
        )
        .route(
            "/portal/sign-in/code",
            get(sign_in::code_form).post(sign_in::code),
        )
        .route("/portal/sign-in/send", post(sign_in::send))
        .route("/portal/sign-out", post(sign_in::sign_out))
        .route(
            "/portal/enroll",
            get(account::enroll_page).post(account::enroll_start),
        )
        .route("/portal/enroll/confirm", post(account::enroll_confirm))
        .route("/portal/enroll/restart", post(account::enroll_restart))
        .route(
            "/portal/confirm",
            get(account::confirm_page).post(account::confirm),
        )
        .route("/portal/security", get(account::security))
        .route("/portal/security/mode", post(account::set_mode))
        .route("/portal/security/send", post(account::security_send))
        .route(
            "/portal/security/recovery-codes",
            post(account::recovery_codes),
        )
        .route("/portal/security/reset", post(account::reset))
        .route("/portal/security/disable", post(account::disable))
        .route("/portal/devices", get(clients::devices))
        .route("/portal/devices/{device}", get(clients::device_link))
        .route(
            "/portal/devices/{device}/{action}",
            post(clients::device_action),
        )
        .route(
            "/portal/app-passwords",
            get(clients::app_passwords).post(clients::create_app_password),
        )
        .route(
            "/portal/app-passwords/{id}/revoke",
            post(clients::revoke_app_password),
        )
        .route("/portal/admin", get(admin::show))
        .route("/portal/admin/platform", post(admin::platform))
        .route("/portal/admin/{action}", post(admin::account_action))
        .layer(middleware::from_fn(security_headers))
}

async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// What every page's frame shows: who is signed in, the page, the
/// session's anti-forgery token, a notice or a problem.
pub(crate) struct Nav {
    pub(crate) who: Option<String>,
    pub(crate) page: &'static str,
    pub(crate) admin: bool,
    pub(crate) csrf: String,
    pub(crate) notice: Option<String>,
    pub(crate) problem: Option<String>,
}

impl Nav {
    /// The frame of a page before sign-in.
    pub(crate) fn anonymous() -> Self {
        Self {
            who: None,
            page: "",
            admin: false,
            csrf: String::new(),
            notice: None,
            problem: None,
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct Message<'a> {
    nav: Nav,
    heading: &'a str,
    text: &'a str,
}

/// A rendered page with `status`.
pub(crate) fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be rendered",
        )
            .into_response(),
    }
}

/// A page saying `heading` and `text`.
pub(crate) fn message(status: StatusCode, nav: Nav, heading: &str, text: &str) -> Response {
    page(status, &Message { nav, heading, text })
}

/// The portal's page for an unknown path.
pub(crate) fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        Nav::anonymous(),
        "Not found",
        "There is no such page.",
    )
}

/// A failed engine call, said to the user without internals.
pub(crate) fn unavailable(nav: Nav) -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        nav,
        "Try again later",
        "The service cannot do that right now. Nothing was changed.",
    )
}

/// A signed-in visitor: the session, its token, whether an administrator.
pub(crate) struct Visitor {
    pub(crate) token: SessionToken,
    pub(crate) session: PortalSession,
    pub(crate) admin: bool,
}

impl Visitor {
    pub(crate) fn id(&self) -> &AccountId {
        &self.session.account
    }

    /// The frame of a page of this visitor.
    pub(crate) fn nav(&self, page: &'static str) -> Nav {
        Nav {
            who: Some(self.id().account().to_owned()),
            page,
            admin: self.admin,
            csrf: self.session.csrf_token().to_string(),
            notice: None,
            problem: None,
        }
    }

    /// Refuses a form without this session's anti-forgery token.
    pub(crate) fn check_csrf(&self, presented: &str) -> Result<(), Response> {
        if self.session.csrf_matches(presented) {
            Ok(())
        } else {
            Err(message(
                StatusCode::FORBIDDEN,
                self.nav(""),
                "Form expired",
                "This form is out of date or came from another site. Open the page again.",
            ))
        }
    }
}

/// The value of cookie `name` in the request.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value for the portal (`Secure; HttpOnly; SameSite=Strict`,
/// path `/` as `__Host-` names require); `None` clears it.
pub(crate) fn set_cookie(name: &str, value: Option<&str>, max_age: u64) -> HeaderValue {
    let text = match value {
        Some(value) => {
            format!("{name}={value}; Path=/; Max-Age={max_age}; Secure; HttpOnly; SameSite=Strict")
        }
        None => format!("{name}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict"),
    };
    let value = HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static(""));
    let mut value = value;
    value.set_sensitive(true);
    value
}

/// The signed-in visitor of this request, or the sign-in page's address
/// to send them to (with `next` = where they were going).
pub(crate) async fn signed_in(
    app: &App,
    headers: &HeaderMap,
    path: &str,
) -> Result<Visitor, Response> {
    match session_of(app, headers).await {
        Ok(Some((token, session))) if session.stage == mail2fa::engine::SessionStage::SignedIn => {
            let admin = app.admins.iter().any(|a| a == &session.account);
            Ok(Visitor {
                token,
                session,
                admin,
            })
        }
        Ok(_) => {
            Err(Redirect::to(&format!("/portal/sign-in?next={}", percent(path))).into_response())
        }
        Err(()) => Err(unavailable(Nav::anonymous())),
    }
}

/// The session of the request's cookie, live at the service's now.
pub(crate) async fn session_of(
    app: &App,
    headers: &HeaderMap,
) -> Result<Option<(SessionToken, PortalSession)>, ()> {
    let Some(token) = cookie(headers, SESSION_COOKIE).and_then(SessionToken::parse) else {
        return Ok(None);
    };
    let idle = app.session_idle;
    let asked = token.clone();
    match app
        .call(move |engine, now| engine.session(&asked, idle, now))
        .await
    {
        Ok(found) => Ok(found.map(|session| (token, session))),
        Err(_) => Err(()),
    }
}

/// The client's address: the TCP peer, or what a trusted proxy says
/// ([`App::client_address`]).
pub(crate) fn client_ip(app: &App, request: &Request) -> Option<std::net::IpAddr> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    app.client_address(peer, request.headers())
}

/// One line of the service's log about a sign-in step: who, from where,
/// what happened (never a password or a code).
pub(crate) fn log_sign_in(account: &str, from: Option<std::net::IpAddr>, what: &str) {
    eprintln!(
        "mail2fa-server: portal sign-in {} from {}: {what}",
        crate::log::account(account),
        crate::log::address(from),
    );
}

/// `next`, if it is a path of the portal (never another site).
pub(crate) fn local_path(next: &str) -> &str {
    let ok = next.starts_with("/portal/")
        && next.bytes().all(|b| b.is_ascii_graphic())
        && !next.starts_with("//")
        && !next.contains(['\\', '\r', '\n'])
        && !next.contains("://");
    if ok { next } else { "/portal/" }
}

/// Percent-encodes `text` for a query value.
pub(crate) fn percent(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// 32 random bytes, base64url (43 characters).
pub(crate) fn random_token() -> Option<Zeroizing<String>> {
    use base64::Engine as _;
    use rand::TryRng;
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rngs::SysRng.try_fill_bytes(&mut *bytes).ok()?;
    Some(Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..]),
    ))
}

/// A time for people: `2027-01-15 08:00 UTC`.
pub(crate) fn when(unix: u64) -> String {
    let text = mail2fa::engine::format_utc(unix);
    // format_utc gives seconds; minutes are enough here.
    match text.rsplit_once(':') {
        Some((minutes, rest)) if rest.ends_with(" UTC") => format!("{minutes} UTC"),
        _ => text,
    }
}
