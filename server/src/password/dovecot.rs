//! A client of Dovecot's authentication client protocol (the
//! `auth-client` socket, as Postfix's SASL uses it): the handshake, then
//! one `AUTH` with mechanism PLAIN for service `portal`.
//!
//! One connection per check: the handshake is one round trip on a local
//! socket, and a fresh connection leaves no state behind a timeout or an
//! error (a reused connection would need its own reader to match answers
//! to requests across concurrent checks).
//!
//! The request carries `nologin` (the answer is never followed by a login
//! through Dovecot's master: no userdb lookup, no login process fields),
//! `secured` (the portal takes the password over HTTPS or from its reverse
//! proxy, and the socket is local: Dovecot's `disable_plaintext_auth` must
//! not refuse it) and the browser's address as `rip`. Dovecot's failure
//! delay (`auth_failure_delay`) and its penalty per remote address
//! (anvil's `auth-penalty`, up to 15 s after repeated failures from one
//! `rip`) still apply: they slow guessing through the portal as through
//! IMAP. A check the penalty holds longer than `timeout_seconds` is an
//! error, not a refusal.
//!
//! Whoever can connect to the socket can check passwords for service
//! `portal` without a second factor: keep `auth-client` (or the listener
//! given to the portal) open to Dovecot's own processes and the portal's
//! user only.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use zeroize::Zeroizing;

use super::{Authority, PasswordCheckError};

/// The Dovecot service name of the portal's checks: the shipped Lua passdb
/// checks only the password for it, the shipped PAM passdb asks the PAM
/// service `mail2fa-portal`.
const SERVICE: &str = "portal";
/// Longest line taken from Dovecot (the protocol expects lines to fit in
/// 16384 bytes).
const MAX_LINE: u64 = 16_384;
/// Most handshake lines before `DONE` (Dovecot sends one per mechanism).
const MAX_HANDSHAKE_LINES: usize = 256;
/// The protocol version spoken (major 1; minor 2 as Dovecot 2.3).
const VERSION: (u32, u32) = (1, 2);
/// The id of the one request on a connection.
const REQUEST_ID: &str = "1";

/// Checks passwords through Dovecot's authentication client socket.
#[derive(Debug, Clone)]
pub(crate) struct DovecotAuth {
    socket: PathBuf,
    timeout: Duration,
}

impl DovecotAuth {
    pub(crate) fn new(socket: &Path, timeout: Duration) -> Self {
        Self {
            socket: socket.to_owned(),
            timeout,
        }
    }

    fn authority(&self) -> Authority {
        Authority::Dovecot(self.socket.clone())
    }

    /// The whole exchange — connecting, the handshake, the answer — within
    /// the timeout.
    pub(crate) async fn check(
        &self,
        user: &str,
        password: &str,
        remote: Option<IpAddr>,
    ) -> Result<bool, PasswordCheckError> {
        match tokio::time::timeout(self.timeout, self.exchange(user, password, remote)).await {
            Ok(answer) => answer,
            Err(_) => Err(PasswordCheckError::TimedOut {
                authority: self.authority(),
                seconds: self.timeout.as_secs(),
            }),
        }
    }

    async fn exchange(
        &self,
        user: &str,
        password: &str,
        remote: Option<IpAddr>,
    ) -> Result<bool, PasswordCheckError> {
        let protocol = |problem: &str| PasswordCheckError::Protocol {
            authority: self.authority(),
            problem: problem.to_owned(),
        };
        let io = |error: std::io::Error| PasswordCheckError::Unreachable {
            authority: self.authority(),
            reason: error.to_string(),
        };
        let stream = UnixStream::connect(&self.socket).await.map_err(io)?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);

        let hello = format!(
            "VERSION\t{}\t{}\nCPID\t{}\n",
            VERSION.0,
            VERSION.1,
            std::process::id()
        );
        write.write_all(hello.as_bytes()).await.map_err(io)?;
        let handshake = read_handshake(&mut read).await.map_err(|e| match e {
            LineError::Io(error) => io(error),
            LineError::Protocol(problem) => protocol(problem),
        })?;
        if handshake.major != VERSION.0 {
            return Err(protocol("another major protocol version"));
        }
        if !handshake.plain {
            return Err(protocol("the PLAIN mechanism is not offered"));
        }

        let request = auth_request(user, password, remote);
        write.write_all(request.as_bytes()).await.map_err(io)?;
        drop(request);
        let line = read_line(&mut read).await.map_err(|e| match e {
            LineError::Io(error) => io(error),
            LineError::Protocol(problem) => protocol(problem),
        })?;
        match answer(&line, user) {
            Answer::Ok(right) => Ok(right),
            Answer::TemporaryFailure => Err(PasswordCheckError::Failed {
                authority: self.authority(),
                problem: "temporary failure (see Dovecot's log)".to_owned(),
            }),
            Answer::Unexpected(problem) => Err(protocol(problem)),
        }
    }
}

/// What the server's handshake said.
struct Handshake {
    major: u32,
    plain: bool,
}

enum LineError {
    Io(std::io::Error),
    Protocol(&'static str),
}

/// The server's handshake lines up to `DONE`.
async fn read_handshake<R: AsyncRead + Unpin>(
    read: &mut BufReader<R>,
) -> Result<Handshake, LineError> {
    let mut major = None;
    let mut plain = false;
    for _ in 0..MAX_HANDSHAKE_LINES {
        let line = read_line(read).await?;
        let mut fields = line.split('\t');
        match fields.next() {
            Some("VERSION") => {
                let parsed = fields.next().and_then(|m| m.parse::<u32>().ok());
                major = Some(parsed.ok_or(LineError::Protocol("a VERSION without a number"))?);
            }
            Some("MECH")
                if fields
                    .next()
                    .is_some_and(|m| m.eq_ignore_ascii_case("PLAIN")) =>
            {
                plain = true;
            }
            Some("DONE") => {
                let major = major.ok_or(LineError::Protocol("no VERSION before DONE"))?;
                return Ok(Handshake { major, plain });
            }
            // Other mechanisms, SPID, CUID, COOKIE, and what later versions add.
            _ => {}
        }
    }
    Err(LineError::Protocol("no DONE in the handshake"))
}

/// One line, without its LF; at most `MAX_LINE` bytes, UTF-8.
async fn read_line<R: AsyncRead + Unpin>(read: &mut BufReader<R>) -> Result<String, LineError> {
    let mut bytes = Vec::new();
    let n = read
        .take(MAX_LINE)
        .read_until(b'\n', &mut bytes)
        .await
        .map_err(LineError::Io)?;
    if n == 0 {
        return Err(LineError::Protocol("the connection was closed"));
    }
    if bytes.pop() != Some(b'\n') {
        return Err(LineError::Protocol("a line too long, or cut off"));
    }
    String::from_utf8(bytes).map_err(|_| LineError::Protocol("a line not in UTF-8"))
}

/// The `AUTH` line: PLAIN's message (no authorization identity, the user,
/// the password) in base64, so no byte of either reaches the line itself;
/// every other value tab-escaped. Held in memory wiped on drop.
fn auth_request(user: &str, password: &str, remote: Option<IpAddr>) -> Zeroizing<String> {
    let mut message = Zeroizing::new(Vec::with_capacity(user.len() + password.len() + 2));
    message.push(0);
    message.extend_from_slice(user.as_bytes());
    message.push(0);
    message.extend_from_slice(password.as_bytes());
    let mut line = Zeroizing::new(String::with_capacity(
        128 + base64::encoded_len(message.len(), true).unwrap_or(0),
    ));
    line.push_str("AUTH\t");
    line.push_str(REQUEST_ID);
    line.push_str("\tPLAIN\tservice=");
    line.push_str(&escape(SERVICE));
    line.push_str("\tsecured\tnologin");
    if let Some(ip) = remote {
        line.push_str("\trip=");
        line.push_str(&escape(&ip.to_string()));
    }
    line.push_str("\tresp=");
    STANDARD.encode_string(&*message, &mut line);
    line.push('\n');
    line
}

/// Dovecot's tab-escaping of a parameter value: `\x01` escapes itself,
/// NUL, TAB, CR and LF, so a value can never end its field or line.
pub(crate) fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\x01' => out.push_str("\x011"),
            '\0' => out.push_str("\x010"),
            '\t' => out.push_str("\x01t"),
            '\r' => out.push_str("\x01r"),
            '\n' => out.push_str("\x01n"),
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`escape`]; an escape of another character stands for
/// that character, as the protocol says.
pub(crate) fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\x01' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('1') => out.push('\x01'),
            Some('0') => out.push('\0'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// What an answer to the request means.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// `OK` (true) or a final `FAIL` (false).
    Ok(bool),
    /// `FAIL` with `temp`: Dovecot could not decide.
    TemporaryFailure,
    /// Anything else.
    Unexpected(&'static str),
}

/// Reads the answer line. `OK` is a right password only for the user
/// asked: a `user=` naming someone else (a passdb that rewrites names)
/// is refused, since the portal would then act on an account Dovecot did
/// not check.
fn answer(line: &str, user: &str) -> Answer {
    let mut fields = line.split('\t');
    let command = fields.next();
    if fields.next() != Some(REQUEST_ID) {
        return Answer::Unexpected("an answer to another request");
    }
    let params: Vec<&str> = fields.collect();
    match command {
        Some("OK") => {
            let same_user = params
                .iter()
                .filter_map(|p| p.strip_prefix("user="))
                .all(|named| unescape(named) == user);
            Answer::Ok(same_user)
        }
        Some("FAIL") if params.contains(&"temp") => Answer::TemporaryFailure,
        Some("FAIL") => Answer::Ok(false),
        Some("CONT") => Answer::Unexpected("a continuation for PLAIN's single message"),
        _ => Answer::Unexpected("an unknown answer"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn escaping_keeps_every_value_in_its_field() {
        let hostile = "a\tuser=bob\nOK\t1\r\x01\0z";
        let escaped = escape(hostile);
        assert!(!escaped.contains(['\t', '\n', '\r', '\0']));
        assert_eq!(escaped, "a\x01tuser=bob\x01nOK\x01t1\x01r\x011\x010z");
        assert_eq!(unescape(&escaped), hostile);
        assert_eq!(unescape("\x01x\x01"), "x");
    }

    #[test]
    fn the_request_carries_user_and_password_only_in_base64() {
        let line = auth_request(
            "alice\tnologin\nAUTH",
            "pw\tresp=AGJvYgBwdw==\n",
            Some("192.0.2.7".parse().unwrap()),
        );
        let line = line.as_str();
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.ends_with('\n'));
        let fields: Vec<&str> = line.trim_end_matches('\n').split('\t').collect();
        assert_eq!(
            fields[..7],
            [
                "AUTH",
                "1",
                "PLAIN",
                "service=portal",
                "secured",
                "nologin",
                "rip=192.0.2.7"
            ]
        );
        assert_eq!(fields.len(), 8);
        let resp = STANDARD
            .decode(fields[7].strip_prefix("resp=").unwrap())
            .unwrap();
        assert_eq!(resp, b"\0alice\tnologin\nAUTH\0pw\tresp=AGJvYgBwdw==\n");
    }

    #[test]
    fn without_an_address_there_is_no_rip() {
        let line = auth_request("alice", "pw", None);
        assert!(!line.contains("rip="));
        assert!(line.starts_with("AUTH\t1\tPLAIN\tservice=portal\tsecured\tnologin\tresp="));
    }

    #[test]
    fn answers() {
        assert_eq!(answer("OK\t1\tuser=alice", "alice"), Answer::Ok(true));
        assert_eq!(answer("OK\t1", "alice"), Answer::Ok(true));
        assert_eq!(answer("OK\t1\tuser=bob", "alice"), Answer::Ok(false));
        assert_eq!(
            answer("OK\t1\tuser=a\x01tb", "a\tb"),
            Answer::Ok(true),
            "user= is tab-escaped"
        );
        assert_eq!(answer("FAIL\t1\tuser=alice", "alice"), Answer::Ok(false));
        assert_eq!(
            answer("FAIL\t1\tuser=alice\ttemp", "alice"),
            Answer::TemporaryFailure
        );
        assert!(matches!(answer("OK\t2", "alice"), Answer::Unexpected(_)));
        assert!(matches!(
            answer("CONT\t1\t", "alice"),
            Answer::Unexpected(_)
        ));
        assert!(matches!(answer("HELLO\t1", "alice"), Answer::Unexpected(_)));
        assert!(matches!(answer("", "alice"), Answer::Unexpected(_)));
    }
}
