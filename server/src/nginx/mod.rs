//! The endpoints nginx asks before it lets a mail client through:
//!
//! - `GET /nginx/auth-request`, for `auth_request` in front of Exchange
//!   ActiveSync, EWS, MAPI and RPC over HTTP (see [`http`]): the Basic
//!   credentials, the protocol from the original path, the ActiveSync
//!   device from the query, the user agent, the client address;
//! - `GET /nginx/auth-http`, for the mail proxy's `auth_http` (IMAP, POP3,
//!   SMTP; see [`mail`]): nginx's `Auth-*` header protocol, the backend
//!   from `[nginx]`.
//!
//! Both need the secret of `[nginx] secret_file` in `X-Mail2fa-Secret`
//! (nginx adds it; without it a request is refused), check the mailbox
//! password with the deployment's own authentication, and decide with the
//! engine — password+code, application passwords, device tokens,
//! lockout, replay, as each protocol's policy says. Both fail closed: a
//! store or password check that does not answer within [`LIMIT`] refuses
//! the login, and nginx refuses whatever it cannot ask. No password, code
//! or secret is ever logged.

pub mod http;
pub mod mail;

mod activesync;
mod decide;
mod gate;

pub use gate::{Gate, LIMIT, SECRET_HEADER};

use axum::http::HeaderMap;
use axum::routing::get;

use crate::app::App;

/// The two endpoints.
pub(crate) fn routes() -> axum::Router<App> {
    axum::Router::new()
        .route("/nginx/auth-request", get(http::auth_request))
        .route("/nginx/auth-http", get(mail::auth_http))
}

/// A header's value as text, trimmed; `None` when absent, empty or not
/// text.
fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}
