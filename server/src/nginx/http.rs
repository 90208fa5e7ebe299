//! `GET /nginx/auth-request`: nginx's `auth_request` before Exchange
//! ActiveSync, EWS, MAPI over HTTP, RPC over HTTP and Autodiscover.
//!
//! nginx sends the client's headers (its `Authorization: Basic …` and
//! `User-Agent`) with `X-Original-URI` (the path and query the client
//! asked for), `X-Original-Method`, `X-Forwarded-For` (believed from a
//! trusted proxy only) and the secret. The protocol comes from the path:
//!
//! | path (any case)                                      | protocol        |
//! |------------------------------------------------------|-----------------|
//! | `/Microsoft-Server-ActiveSync`                       | `activesync`    |
//! | `/EWS/`, `/mapi/`, `/OAB/`                           | `outlook`       |
//! | `/rpc/`                                              | `rpc-over-http` |
//! | `/autodiscover/autodiscover.xml`, no query           | (a probe)       |
//!
//! A path that is not plain — with `.` or `..` segments, `//`, `%`, `\`
//! or `;` — is refused: nginx picks its location from the normalised path
//! while the upstream gets the raw one, so only a path both read alike is
//! decided.
//!
//! Answers, as `auth_request` passes them on:
//! - **200**: let through; `X-Mail2fa-Account` names the mailbox (for
//!   `auth_request_set`).
//! - **401** with a Basic challenge: no or wrong credentials, and every
//!   other refusal (a code owed, a lock, a revoked application password…)
//!   — a refusal looks the same whatever its reason.
//! - **403**: the password is right but the device is not authorized yet
//!   (its token is now INACTIVE and the user is told, at most once a
//!   notification interval) — this tells the client its password was
//!   right, as device tokens must; also a path that is no mail protocol or
//!   not plain, a `User` in the query that is not the signed-in mailbox, a
//!   query no client sends, a request without the secret.
//! - **503** (nginx answers 500): the store or the password check does not
//!   answer.
//!
//! Probes carry no device and no mail: an ActiveSync `OPTIONS` without a
//! device id (the client asking which protocol versions the server
//! speaks; nginx must set `X-Original-Method`, a request without it is no
//! probe) and the Autodiscover file pass with the right account password
//! (or an application password the engine accepts), without making a
//! device token — the device is decided on its first real command. Like
//! the 403 of a blocked device, a probe tells whether a password is
//! right; the deployment's password check (Dovecot's per-address
//! penalty) bounds such guessing.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use mail2fa::engine::{ClientInfo, Protocol};
use zeroize::Zeroizing;

use super::decide::{Outcome, decide, log};
use super::{activesync, header_text};
use crate::app::App;

/// What a path of the original request is.
#[derive(Debug, PartialEq, Eq)]
enum Path {
    /// A protocol that carries mail.
    Mail(Protocol),
    /// The Autodiscover file: settings, no mail.
    Autodiscover,
}

/// The protocol of a request path (the part before `?`), by its first
/// segment in any case; `None`: not a path the gate knows, or not a plain
/// one.
fn path_protocol(path: &str) -> Option<Path> {
    let rest = path.strip_prefix('/')?;
    let plain = !rest.contains(['%', '\\', ';'])
        && !rest.contains("//")
        && rest
            .split('/')
            .all(|segment| segment != "." && segment != "..");
    if !plain {
        return None;
    }
    let first = rest.split('/').next()?.to_ascii_lowercase();
    Some(match first.as_str() {
        "microsoft-server-activesync" => Path::Mail(Protocol::ActiveSync),
        "ews" | "mapi" | "oab" => Path::Mail(Protocol::Outlook),
        "rpc" => Path::Mail(Protocol::RpcOverHttp),
        "autodiscover" if rest.eq_ignore_ascii_case("autodiscover/autodiscover.xml") => {
            Path::Autodiscover
        }
        _ => return None,
    })
}

/// The Basic credentials of `headers`: the user (a mailbox address,
/// compared in lower case as Dovecot's `%Lu` does) and the password.
fn basic(headers: &HeaderMap) -> Option<(String, Zeroizing<String>)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?,
    );
    let text = std::str::from_utf8(&decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    if user.is_empty() || password.is_empty() {
        return None;
    }
    Some((
        user.to_ascii_lowercase(),
        Zeroizing::new(password.to_owned()),
    ))
}

/// Whether the query's `User` names the signed-in mailbox: the address,
/// its local part, or `LABEL\local` with the first label of its domain
/// (any case) — not another domain's mailbox of the same local part.
fn same_user(query_user: &str, account: &str) -> bool {
    let user = query_user.to_ascii_lowercase();
    let (local, domain) = account.split_once('@').unwrap_or((account, ""));
    let label = domain.split('.').next().unwrap_or("");
    user == account
        || user == local
        || user
            .split_once('\\')
            .is_some_and(|(prefix, name)| prefix == label && (name == local || name == account))
}

/// The handler.
pub(crate) async fn auth_request(State(app): State<App>, request: Request) -> Response {
    let headers = request.headers();
    if !app.gate.admits(headers) {
        return forbidden();
    }
    let remote = crate::portal::client_ip(&app, &request);
    let Some(original) = header_text(headers, "x-original-uri") else {
        return forbidden();
    };
    let (path, query) = original.split_once('?').unwrap_or((original, ""));
    let Some(kind) = path_protocol(path) else {
        return forbidden();
    };
    let Some((account, password)) = basic(headers) else {
        return challenge(&app);
    };
    let user_agent = header_text(headers, "user-agent");
    let method = header_text(headers, "x-original-method").unwrap_or("GET");
    let (protocol, device, probe) = match kind {
        Path::Autodiscover if query.is_empty() => {
            (Protocol::Outlook, activesync::DeviceQuery::default(), true)
        }
        Path::Autodiscover => return forbidden(),
        Path::Mail(Protocol::ActiveSync) => {
            let Ok(device) = activesync::parse(query) else {
                return forbidden();
            };
            if device
                .user
                .as_deref()
                .is_some_and(|user| !same_user(user, &account))
            {
                return forbidden();
            }
            let probe = device.device_id.is_none() && method.eq_ignore_ascii_case("OPTIONS");
            if device.device_id.is_none() && !probe {
                return forbidden();
            }
            (Protocol::ActiveSync, device, probe)
        }
        Path::Mail(protocol) => (protocol, activesync::DeviceQuery::default(), false),
    };
    let addr = remote.map(|ip| ip.to_string());
    // A probe is decided as a client without a device: no token is made
    // for it, an application password still counts.
    let client = if probe {
        ClientInfo::new().with_remote_addr(addr.as_deref())
    } else {
        ClientInfo::new()
            .with_device_id(device.device_id.as_deref())
            .with_device_type(device.device_type.as_deref())
            .with_user_agent(user_agent)
            .with_remote_addr(addr.as_deref())
    };
    let (outcome, reason) =
        decide(&app, &account, protocol.clone(), password, client, remote).await;
    let (answer, response) = match outcome {
        Outcome::Allowed => ("allowed", allowed(&account)),
        // A probe carries no mail: the right password is enough.
        Outcome::Unidentified | Outcome::PasswordOnly if probe => {
            ("allowed probe", allowed(&account))
        }
        Outcome::DevicePending => ("device pending", forbidden()),
        Outcome::PasswordOnly | Outcome::Unidentified | Outcome::Refused => {
            ("refused", challenge(&app))
        }
        Outcome::Unavailable => (
            "unavailable",
            StatusCode::SERVICE_UNAVAILABLE.into_response(),
        ),
    };
    log(&account, &protocol, remote, answer, reason);
    response
}

fn allowed(account: &str) -> Response {
    let mut response = StatusCode::OK.into_response();
    if let Ok(value) = HeaderValue::from_str(account) {
        response.headers_mut().insert("x-mail2fa-account", value);
    }
    response
}

fn forbidden() -> Response {
    StatusCode::FORBIDDEN.into_response()
}

/// 401 with the Basic challenge: the client asks for the password again.
fn challenge(app: &App) -> Response {
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    let value = format!("Basic realm=\"{}\", charset=\"UTF-8\"", app.gate.realm);
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_comes_from_the_first_segment_in_any_case() {
        let mail = |p| Some(Path::Mail(p));
        assert_eq!(
            path_protocol("/Microsoft-Server-ActiveSync"),
            mail(Protocol::ActiveSync)
        );
        assert_eq!(
            path_protocol("/microsoft-server-activesync/"),
            mail(Protocol::ActiveSync)
        );
        assert_eq!(path_protocol("/EWS/Exchange.asmx"), mail(Protocol::Outlook));
        assert_eq!(
            path_protocol("/mapi/emsmdb/?MailboxId=x"),
            mail(Protocol::Outlook)
        );
        assert_eq!(path_protocol("/OAB/oab.xml"), mail(Protocol::Outlook));
        assert_eq!(
            path_protocol("/rpc/rpcproxy.dll"),
            mail(Protocol::RpcOverHttp)
        );
        assert_eq!(
            path_protocol("/Autodiscover/Autodiscover.xml"),
            Some(Path::Autodiscover)
        );
        // Not plain: nginx and the upstream could read it differently.
        for crooked in [
            "/autodiscover/../Microsoft-Server-ActiveSync",
            "/Autodiscover/%2e%2e/EWS/Exchange.asmx",
            "/EWS/../rpc/rpcproxy.dll",
            "/EWS/./Exchange.asmx",
            "/EWS//Exchange.asmx",
            "/EWS/Exchange.asmx;x",
            "/EWS\\Exchange.asmx",
            "/Microsoft-Server-ActiveSync/..",
        ] {
            assert_eq!(path_protocol(crooked), None, "{crooked}");
        }
        // Autodiscover: its file only.
        for other in [
            "/autodiscover/",
            "/autodiscover/autodiscover.json",
            "/autodiscover/x.xml",
        ] {
            assert_eq!(path_protocol(other), None, "{other}");
        }
        for other in [
            "/",
            "",
            "/owa/",
            "/EWSX/",
            "EWS/",
            "/portal/",
            "/Microsoft-Server-ActiveSyncX",
        ] {
            assert_eq!(path_protocol(other), None, "{other}");
        }
    }

    #[test]
    fn basic_credentials_are_read_and_the_user_folded() {
        let mut headers = HeaderMap::new();
        let encoded =
            base64::engine::general_purpose::STANDARD.encode("Alice@Example.com:pa:ss wörd");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        let (user, password) = basic(&headers).unwrap();
        assert_eq!(user, "alice@example.com");
        assert_eq!(password.as_str(), "pa:ss wörd");
        for bad in ["Bearer abc", "Basic !!!", "Basic", "Basic Og=="] {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(bad));
            assert!(basic(&headers).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_query_user_must_be_the_mailbox() {
        let account = "alice@example.com";
        for same in [
            "alice@example.com",
            "Alice",
            "EXAMPLE\\alice",
            "example\\Alice@example.com",
        ] {
            assert!(same_user(same, account), "{same}");
        }
        for other in [
            "bob",
            "bob@example.com",
            "EXAMPLE\\bob",
            "alice@example.org",
            "OTHER\\alice",
        ] {
            assert!(!same_user(other, account), "{other}");
        }
    }
}
