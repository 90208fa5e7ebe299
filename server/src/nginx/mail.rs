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
//!   replay there;
//! - `Auth-Status: Invalid login or password` with `Auth-Wait` (and for
//!   SMTP `Auth-Error-Code: 535 5.7.8`) for every refusal;
//! - `Auth-Status: Temporary server problem, try again later` with
//!   `Auth-Wait` (SMTP: `451 4.3.0`) when the store or the password check
//!   does not answer.
//!
//! After 10 refused attempts of one connection the answer carries no
//! `Auth-Wait`, and nginx closes it.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mail2fa::engine::{ClientInfo, Protocol};
use zeroize::Zeroizing;

use super::{Outcome, decide};
use crate::app::App;

/// Refused attempts of one connection after which nginx is told to close
/// it.
const MAX_ATTEMPTS: u64 = 10;

const INVALID: &str = "Invalid login or password";
const TEMPORARY: &str = "Temporary server problem, try again later";

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// nginx's escaping of `Auth-User` and `Auth-Pass` undone.
fn unescape(text: &str) -> Option<Zeroizing<String>> {
    let bytes: Vec<u8> = percent_decode(text.as_bytes())?;
    let bytes = Zeroizing::new(bytes);
    std::str::from_utf8(&bytes)
        .ok()
        .map(|t| Zeroizing::new(t.to_owned()))
}

fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
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
    let backend = match protocol {
        Protocol::Imap => app.gate.imap,
        Protocol::Pop3 => app.gate.pop3,
        _ => app.gate.smtp,
    };
    let Some(backend) = backend else {
        return refused(&app, Some(&protocol), attempt);
    };
    let account = user.trim().to_ascii_lowercase();
    let addr = remote.map(|ip| ip.to_string());
    let client = ClientInfo::new().with_remote_addr(addr.as_deref());
    let (outcome, _) = decide(&app, &account, protocol.clone(), pass, client, remote).await;
    match outcome {
        Outcome::Allowed => {
            let mut answer = vec![
                ("auth-status", "OK".to_owned()),
                ("auth-server", backend.ip().to_string()),
                ("auth-port", backend.port().to_string()),
            ];
            if protocol != Protocol::Smtp {
                let Some(master) = &app.gate.master else {
                    return temporary(&app, &protocol);
                };
                answer.push(("auth-user", format!("{account}*{}", master.0)));
                answer.push(("auth-pass", master.1.as_str().to_owned()));
            }
            let mut response = StatusCode::OK.into_response();
            for (name, value) in answer {
                let Ok(value) = HeaderValue::from_str(&value) else {
                    return refused(&app, Some(&protocol), attempt);
                };
                response.headers_mut().insert(name, value);
            }
            response
        }
        Outcome::Unavailable => temporary(&app, &protocol),
        _ => refused(&app, Some(&protocol), attempt),
    }
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
        for bad in ["%", "%4", "%zz", "%FF"] {
            assert!(unescape(bad).is_none(), "{bad}");
        }
    }
}
