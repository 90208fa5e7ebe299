//! `GET /nginx/auth-http`: the nginx mail proxy's `auth_http` for IMAP,
//! POP3 and SMTP, in nginx's header protocol.
//!
//! nginx sends `Auth-Method` (`plain` or `login`; others are refused: the
//! password is needed), `Auth-User`, `Auth-Pass` (both percent-escaped),
//! `Auth-Protocol` (`imap`, `pop3`, `smtp`), `Auth-Login-Attempt`,
//! `Client-IP` (believed when the peer is a trusted proxy) and the secret
//! header of `auth_http_header`. The answer is always HTTP 200; its
//! headers say:
//! - `Auth-Status: OK` with `Auth-Server` and `Auth-Port` of the
//!   protocol's backend, and for IMAP and POP3 `Auth-User:
//!   MAILBOX*MASTER` and `Auth-Pass` (the master user's password): the
//!   backend never sees the client's password+code, which would be a
//!   replay there; for SMTP `Auth-User: MAILBOX` (nginx's `XCLIENT
//!   LOGIN=` names the mailbox as mail2fa decided on it);
//! - `Auth-Status: Invalid login or password` with `Auth-Wait` (and for
//!   SMTP `Auth-Error-Code: 535 5.7.8`) for every refusal;
//! - `Auth-Status: Temporary server problem, try again later` with
//!   `Auth-Wait` (SMTP: `451 4.3.0`) when the store or the password check
//!   does not answer.
//!
//! After 10 refused attempts of one connection the answer carries no
//! `Auth-Wait`, and nginx closes it.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mail2fa::engine::{ClientInfo, Protocol};
use zeroize::Zeroizing;

use super::decide::{Outcome, decide, log};
use super::header_text;
use crate::app::App;

/// Refused attempts of one connection after which nginx is told to close
/// it.
const MAX_ATTEMPTS: u64 = 10;

const INVALID: &str = "Invalid login or password";
const TEMPORARY: &str = "Temporary server problem, try again later";

/// nginx's escaping of `Auth-User` and `Auth-Pass` (`%XX` for spaces,
/// `%` and bytes outside printable ASCII) undone; `None` when the result
/// is not UTF-8.
fn unescape(text: &str) -> Option<Zeroizing<String>> {
    let bytes = Zeroizing::new(percent_encoding::percent_decode_str(text).collect::<Vec<u8>>());
    std::str::from_utf8(&bytes)
        .ok()
        .map(|t| Zeroizing::new(t.to_owned()))
}

/// The handler.
pub(crate) async fn auth_http(State(app): State<App>, request: Request) -> Response {
    let headers = request.headers();
    if !app.gate.admits(headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let remote = crate::portal::client_ip(&app, &request);
    let remote = match (remote, header_text(headers, "client-ip")) {
        // nginx says who its client is; believed from a trusted proxy only
        // (client_ip already took X-Forwarded-For the same way).
        (Some(peer), Some(client)) if app.is_trusted_proxy(peer) => {
            client.trim().parse().ok().or(Some(peer))
        }
        (remote, _) => remote,
    };
    let attempt: u64 = header_text(headers, "auth-login-attempt")
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or(1);
    let protocol = match header_text(headers, "auth-protocol").map(str::trim) {
        Some("imap") => Protocol::Imap,
        Some("pop3") => Protocol::Pop3,
        Some("smtp") => Protocol::Smtp,
        _ => return refused(&app, None, attempt),
    };
    let method = header_text(headers, "auth-method").unwrap_or("").trim();
    if !(method.eq_ignore_ascii_case("plain") || method.eq_ignore_ascii_case("login")) {
        return refused(&app, Some(&protocol), attempt);
    }
    let user = header_text(headers, "auth-user").and_then(unescape);
    let pass = header_text(headers, "auth-pass").and_then(unescape);
    let (Some(user), Some(pass)) = (user, pass) else {
        return refused(&app, Some(&protocol), attempt);
    };
    // Where an allowed login goes, known before the engine spends a code.
    let backend = match protocol {
        Protocol::Imap => app.gate.imap,
        Protocol::Pop3 => app.gate.pop3,
        _ => app.gate.smtp,
    };
    let Some(backend) = backend else {
        return refused(&app, Some(&protocol), attempt);
    };
    let master = app.gate.master.clone();
    if protocol != Protocol::Smtp && master.is_none() {
        return temporary(&app, &protocol);
    }
    let account = user.to_ascii_lowercase();
    let addr = remote.map(|ip| ip.to_string());
    let client = ClientInfo::new().with_remote_addr(addr.as_deref());
    let (outcome, reason) = decide(&app, &account, protocol.clone(), pass, client, remote).await;
    let (said, response) = match outcome {
        Outcome::Allowed => {
            let login = match &master {
                Some(master) if protocol != Protocol::Smtp => {
                    Some((format!("{account}*{}", master.0), master.1.as_str()))
                }
                _ => None,
            };
            ("allowed", ok(backend, &account, login))
        }
        Outcome::Unavailable => ("unavailable", temporary(&app, &protocol)),
        _ => ("refused", refused(&app, Some(&protocol), attempt)),
    };
    log(&account, &protocol, remote, said, reason);
    response
}

/// `Auth-Status: OK` to `backend`, naming the mailbox; `login`: the
/// master login for the backend.
fn ok(backend: std::net::SocketAddr, account: &str, login: Option<(String, &str)>) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    headers.insert("auth-status", HeaderValue::from_static("OK"));
    if let Ok(server) = HeaderValue::from_str(&backend.ip().to_string()) {
        headers.insert("auth-server", server);
    }
    headers.insert("auth-port", HeaderValue::from(backend.port()));
    // An account name and a checked master user and password are header
    // text (mail2fa's alphabet, printable ASCII).
    let (user, pass) = match login {
        Some((user, pass)) => (user, Some(pass)),
        None => (account.to_owned(), None),
    };
    if let Ok(user) = HeaderValue::from_str(&user) {
        headers.insert("auth-user", user);
    }
    if let Some(pass) = pass.and_then(|p| HeaderValue::from_str(p).ok()) {
        headers.insert("auth-pass", pass);
    }
    response
}

fn answer(status: &'static str, code: Option<&'static str>, wait: Option<u64>) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    headers.insert("auth-status", HeaderValue::from_static(status));
    if let Some(code) = code {
        headers.insert("auth-error-code", HeaderValue::from_static(code));
    }
    if let Some(wait) = wait {
        headers.insert("auth-wait", HeaderValue::from(wait));
    }
    response
}

/// A refusal: wait and try again, until the connection has tried too
/// often.
fn refused(app: &App, protocol: Option<&Protocol>, attempt: u64) -> Response {
    let code = matches!(protocol, Some(Protocol::Smtp)).then_some("535 5.7.8");
    let wait = (attempt < MAX_ATTEMPTS).then_some(app.gate.wait);
    answer(INVALID, code, wait)
}

fn temporary(app: &App, protocol: &Protocol) -> Response {
    let code = matches!(protocol, Protocol::Smtp).then_some("451 4.3.0");
    answer(TEMPORARY, code, Some(app.gate.wait))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_escaping_is_undone() {
        assert_eq!(
            unescape("alice%40example.com").unwrap().as_str(),
            "alice@example.com"
        );
        assert_eq!(unescape("pa%20ss%25").unwrap().as_str(), "pa ss%");
        assert_eq!(unescape("w%C3%B6rd").unwrap().as_str(), "wörd");
        // A plus is a plus (nginx does not escape it).
        assert_eq!(unescape("a+b").unwrap().as_str(), "a+b");
        // Not UTF-8 once unescaped: refused.
        assert!(unescape("%FF").is_none());
    }
}
