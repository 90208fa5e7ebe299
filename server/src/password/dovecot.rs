//! A client of Dovecot's authentication client protocol (the
//! `auth-client` socket, as Postfix's SASL uses it): the handshake, then
//! one `AUTH` with mechanism PLAIN for service `portal`.
//!
//! Connections are kept between checks (a few, each used by one check at
//! a time, its request ids growing): a check takes an idle one or opens a
//! new one. A kept connection found closed (Dovecot restarted) is replaced
//! once within the same check; one that gave an answer outside the
//! protocol, or whose check ran out of time, is dropped, so nothing
//! half-read is ever reused.
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

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
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
/// Most idle connections kept for later checks.
const MAX_IDLE: usize = 4;

/// Checks passwords through Dovecot's authentication client socket.
#[derive(Debug, Clone)]
pub(crate) struct DovecotAuth {
    socket: PathBuf,
    timeout: Duration,
    /// Connections past their handshake, between checks; shared by clones.
    idle: Arc<Mutex<Vec<Connection>>>,
}

/// One connection, past its handshake.
struct Connection {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
    /// The id of this connection's last request.
    last_id: u32,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("last_id", &self.last_id)
            .finish_non_exhaustive()
    }
}

/// Why an exchange on a connection ended without an answer.
enum Broken {
    /// Writing failed, or the server closed before answering: on a
    /// connection kept from an earlier check, Dovecot restarted or let it
    /// go, and a fresh one is tried.
    Closed(Option<std::io::Error>),
    /// Anything else: this check fails.
    Fatal(PasswordCheckError),
}

impl DovecotAuth {
    pub(crate) fn new(socket: &Path, timeout: Duration) -> Self {
        Self {
            socket: socket.to_owned(),
            timeout,
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn authority(&self) -> Authority {
        Authority::Dovecot(self.socket.clone())
    }

    fn protocol(&self, problem: &str) -> PasswordCheckError {
        PasswordCheckError::Protocol {
            authority: self.authority(),
            problem: problem.to_owned(),
        }
    }

    fn unreachable(&self, error: &std::io::Error) -> PasswordCheckError {
        PasswordCheckError::Unreachable {
            authority: self.authority(),
            reason: error.to_string(),
        }
    }

    /// The whole exchange — connecting if need be, the handshake, the
    /// answer — within the timeout. A check cut short by the timeout drops
    /// its connection: nothing half-read is ever reused.
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

    /// On a kept connection if there is one (and, if that one turns out
    /// closed, once more on a fresh one), else on a fresh one.
    async fn exchange(
        &self,
        user: &str,
        password: &str,
        remote: Option<IpAddr>,
    ) -> Result<bool, PasswordCheckError> {
        if let Some(mut kept) = self.take_idle() {
            match self.ask(&mut kept, user, password, remote).await {
                Ok(answer) => return self.settle(kept, answer),
                Err(Broken::Fatal(error)) => return Err(error),
                Err(Broken::Closed(_)) => {}
            }
        }
        let mut fresh = self.connect().await?;
        match self.ask(&mut fresh, user, password, remote).await {
            Ok(answer) => self.settle(fresh, answer),
            Err(Broken::Fatal(error)) => Err(error),
            Err(Broken::Closed(Some(error))) => Err(self.unreachable(&error)),
            Err(Broken::Closed(None)) => Err(self.protocol("the connection was closed")),
        }
    }

    /// The answer's meaning; the connection is kept when the answer was
    /// the protocol's.
    fn settle(&self, connection: Connection, answer: Answer) -> Result<bool, PasswordCheckError> {
        match answer {
            Answer::Ok(right) => {
                self.put_idle(connection);
                Ok(right)
            }
            Answer::TemporaryFailure => {
                self.put_idle(connection);
                Err(PasswordCheckError::Failed {
                    authority: self.authority(),
                    problem: "temporary failure (see Dovecot's log)".to_owned(),
                })
            }
            Answer::Unexpected(problem) => Err(self.protocol(problem)),
        }
    }

    fn take_idle(&self) -> Option<Connection> {
        self.idle.lock().ok().and_then(|mut idle| idle.pop())
    }

    fn put_idle(&self, connection: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(connection);
            }
        }
    }

    /// A new connection, past the handshake (PLAIN offered, major version
    /// 1).
    async fn connect(&self) -> Result<Connection, PasswordCheckError> {
        let line_error = |e: LineError| match e {
            LineError::Io(error) => self.unreachable(&error),
            LineError::Closed => self.protocol("the connection was closed"),
            LineError::Protocol(problem) => self.protocol(problem),
        };
        let stream = UnixStream::connect(&self.socket)
            .await
            .map_err(|e| self.unreachable(&e))?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        let hello = format!(
            "VERSION\t{}\t{}\nCPID\t{}\n",
            VERSION.0,
            VERSION.1,
            std::process::id()
        );
        write
            .write_all(hello.as_bytes())
            .await
            .map_err(|e| self.unreachable(&e))?;
        let handshake = read_handshake(&mut read).await.map_err(line_error)?;
        if handshake.major != VERSION.0 {
            return Err(self.protocol("another major protocol version"));
        }
        if !handshake.plain {
            return Err(self.protocol("the PLAIN mechanism is not offered"));
        }
        Ok(Connection {
            read,
            write,
            last_id: 0,
        })
    }

    /// One request and its answer.
    async fn ask(
        &self,
        connection: &mut Connection,
        user: &str,
        password: &str,
        remote: Option<IpAddr>,
    ) -> Result<Answer, Broken> {
        // Ids only grow on a connection (a wrapped one starts afresh).
        let id = connection
            .last_id
            .checked_add(1)
            .ok_or(Broken::Closed(None))?;
        connection.last_id = id;
        let request = auth_request(id, user, password, remote);
        if let Err(error) = connection.write.write_all(request.as_bytes()).await {
            return Err(Broken::Closed(Some(error)));
        }
        drop(request);
        match read_line(&mut connection.read).await {
            Ok(line) => Ok(answer(&line, id, user)),
            Err(LineError::Closed) => Err(Broken::Closed(None)),
            Err(LineError::Io(error)) => Err(Broken::Closed(Some(error))),
            Err(LineError::Protocol(problem)) => Err(Broken::Fatal(self.protocol(problem))),
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
    /// Closed before a line began.
    Closed,
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
        return Err(LineError::Closed);
    }
    if bytes.pop() != Some(b'\n') {
        return Err(LineError::Protocol("a line too long, or cut off"));
    }
    String::from_utf8(bytes).map_err(|_| LineError::Protocol("a line not in UTF-8"))
}

/// The `AUTH` line: PLAIN's message (no authorization identity, the user,
/// the password) in base64, so no byte of either reaches the line itself;
/// every other value tab-escaped. Held in memory wiped on drop.
fn auth_request(id: u32, user: &str, password: &str, remote: Option<IpAddr>) -> Zeroizing<String> {
    let mut message = Zeroizing::new(Vec::with_capacity(user.len() + password.len() + 2));
    message.push(0);
    message.extend_from_slice(user.as_bytes());
    message.push(0);
    message.extend_from_slice(password.as_bytes());
    let mut line = Zeroizing::new(String::with_capacity(
        128 + base64::encoded_len(message.len(), true).unwrap_or(0),
    ));
    line.push_str("AUTH\t");
    line.push_str(&id.to_string());
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
fn answer(line: &str, id: u32, user: &str) -> Answer {
    let mut fields = line.split('\t');
    let command = fields.next();
    if fields.next() != Some(id.to_string().as_str()) {
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
            1,
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
        let line = auth_request(3, "alice", "pw", None);
        assert!(!line.contains("rip="));
        assert!(line.starts_with("AUTH\t3\tPLAIN\tservice=portal\tsecured\tnologin\tresp="));
    }

    #[test]
    fn answers() {
        assert_eq!(answer("OK\t1\tuser=alice", 1, "alice"), Answer::Ok(true));
        assert_eq!(answer("OK\t1", 1, "alice"), Answer::Ok(true));
        assert_eq!(answer("OK\t1\tuser=bob", 1, "alice"), Answer::Ok(false));
        assert_eq!(
            answer("OK\t1\tuser=a\x01tb", 1, "a\tb"),
            Answer::Ok(true),
            "user= is tab-escaped"
        );
        assert_eq!(answer("FAIL\t1\tuser=alice", 1, "alice"), Answer::Ok(false));
        assert_eq!(
            answer("FAIL\t1\tuser=alice\ttemp", 1, "alice"),
            Answer::TemporaryFailure
        );
        assert!(matches!(answer("OK\t2", 1, "alice"), Answer::Unexpected(_)));
        assert_eq!(answer("OK\t12\tuser=alice", 12, "alice"), Answer::Ok(true));
        assert!(matches!(
            answer("OK\t1\tuser=alice", 12, "alice"),
            Answer::Unexpected(_)
        ));
        assert!(matches!(
            answer("CONT\t1\t", 1, "alice"),
            Answer::Unexpected(_)
        ));
        assert!(matches!(
            answer("HELLO\t1", 1, "alice"),
            Answer::Unexpected(_)
        ));
        assert!(matches!(answer("", 1, "alice"), Answer::Unexpected(_)));
    }
}
