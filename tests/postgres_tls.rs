//! The network cannot turn 2FA off: a PostgreSQL server (or a machine in the
//! middle) that refuses TLS and asks for a password in clear text gets no
//! password from a connection string that does not say `sslmode=disable`.
//!
//! The server here is a fake: a thread on 127.0.0.1 that speaks just enough
//! of the protocol (answers `N` to the SSLRequest, then asks for a
//! cleartext or an MD5 password) and records what the client sent. It needs
//! no PostgreSQL installation; every wait is bounded.

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mail2fa::store::{PostgresOptions, PostgresStore, StoreError};

/// The password every connection string of this file carries.
const PASSWORD: &str = "hunter2-Secret";

/// The SSLRequest and GSSENCRequest codes of the protocol.
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

/// How the fake server asks for the password.
#[derive(Clone, Copy, Debug)]
enum Ask {
    /// `AuthenticationCleartextPassword`.
    Cleartext,
    /// `AuthenticationMD5Password` (a salted hash, crackable offline).
    Md5,
}

/// What the fake server saw, over every connection made to it.
#[derive(Debug, Default)]
struct Seen {
    /// SSLRequests answered with `N`.
    tls_requests: u32,
    /// StartupMessages received (each was answered with the password
    /// request).
    startups: u32,
    /// The bodies of the PasswordMessages (`p`) received.
    passwords: Vec<Vec<u8>>,
}

/// A fake server on 127.0.0.1 that refuses TLS and asks for a password.
struct FakeServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Seen>>,
}

impl FakeServer {
    fn start(ask: Ask) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut seen = Seen::default();
            // Bounded: the test stops it, or it gives up on its own.
            let deadline = Instant::now() + Duration::from_secs(20);
            while !stopping.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, ask, &mut seen),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
            seen
        });
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the server and returns what it saw.
    fn finish(mut self) -> Seen {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn read_u32(stream: &mut TcpStream) -> Option<u32> {
    let mut bytes = [0; 4];
    stream.read_exact(&mut bytes).ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// The body of a message whose length word (counting itself) comes next.
fn read_body(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let length = usize::try_from(read_u32(stream)?).ok()?;
    if !(4..=10_000).contains(&length) {
        return None;
    }
    let mut body = vec![0; length - 4];
    stream.read_exact(&mut body).ok()?;
    Some(body)
}

/// One connection: the start-up phase, as far as the client goes.
fn serve(mut stream: TcpStream, ask: Ask, seen: &mut Seen) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // SSLRequest / GSSENCRequest (answered `N`), then the StartupMessage.
    loop {
        let Some(body) = read_body(&mut stream) else {
            return;
        };
        let code = body
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        match code {
            Some(SSL_REQUEST) => {
                seen.tls_requests += 1;
                let _ = stream.write_all(b"N");
            }
            Some(GSSENC_REQUEST) => {
                let _ = stream.write_all(b"N");
            }
            Some(_) => break,
            None => return,
        }
    }
    seen.startups += 1;
    let request: Vec<u8> = match ask {
        Ask::Cleartext => [&b"R"[..], &8u32.to_be_bytes(), &3u32.to_be_bytes()].concat(),
        Ask::Md5 => [
            &b"R"[..],
            &12u32.to_be_bytes(),
            &5u32.to_be_bytes(),
            b"salt",
        ]
        .concat(),
    };
    if stream.write_all(&request).is_err() {
        return;
    }
    let mut kind = [0u8; 1];
    if stream.read_exact(&mut kind).is_err() {
        return;
    }
    if kind[0] == b'p'
        && let Some(body) = read_body(&mut stream)
    {
        seen.passwords.push(body);
    }
    let fields = b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed\0\0";
    let length = u32::try_from(fields.len() + 4).unwrap();
    let _ = stream.write_all(&[&b"E"[..], &length.to_be_bytes(), fields].concat());
}

fn options() -> PostgresOptions {
    PostgresOptions {
        max_connections: 1,
        timeout: Duration::from_secs(3),
        create: false,
    }
}

/// Connection strings to the fake server on `port` that do not say
/// `sslmode=disable`: in both of libpq's forms, with no `sslmode` and with
/// each of the modes that libpq would let fall back to plain text (or
/// use unverified).
fn strings_without_disable(port: u16) -> Vec<String> {
    vec![
        format!("postgres://mail2fa:{PASSWORD}@127.0.0.1:{port}/mail2fa"),
        format!("host=127.0.0.1 port={port} user=mail2fa password={PASSWORD} dbname=mail2fa"),
        format!("postgres://mail2fa:{PASSWORD}@127.0.0.1:{port}/mail2fa?sslmode=prefer"),
        format!("postgres://mail2fa:{PASSWORD}@127.0.0.1:{port}/mail2fa?sslmode=require"),
        format!(
            "host=127.0.0.1 port={port} user=mail2fa password={PASSWORD} sslmode=verify-full \
             channel_binding=prefer"
        ),
    ]
}

#[test]
fn a_server_refusing_tls_gets_no_password_from_a_default_connection_string() {
    for ask in [Ask::Cleartext, Ask::Md5] {
        let server = FakeServer::start(ask);
        let strings = strings_without_disable(server.port);
        for text in &strings {
            let error = PostgresStore::open_with(text, &options()).unwrap_err();
            let StoreError::Backend(message) = &error else {
                panic!("{ask:?} {text}: expected a backend error, got {error:?}");
            };
            assert!(message.contains("TLS"), "{ask:?} {text}: {message}");
            assert!(!message.contains(PASSWORD), "{ask:?} {text}: {message}");
        }
        let seen = server.finish();
        assert!(
            seen.passwords.is_empty(),
            "{ask:?}: the server received {} password message(s)",
            seen.passwords.len()
        );
        assert_eq!(seen.startups, 0, "{ask:?}: a plain start-up was sent");
        assert_eq!(
            seen.tls_requests,
            u32::try_from(strings.len()).unwrap(),
            "{ask:?}: every connection asked for TLS"
        );
    }
}

/// The control: the same fake server does get the password when the string
/// says `sslmode=disable` (so the test above can fail).
#[test]
fn sslmode_disable_is_plain_as_asked_and_the_fake_server_sees_the_password() {
    let server = FakeServer::start(Ask::Cleartext);
    let text = format!(
        "postgres://mail2fa:{PASSWORD}@127.0.0.1:{}/mail2fa?sslmode=disable",
        server.port
    );
    let error = PostgresStore::open_with(&text, &options()).unwrap_err();
    assert!(
        matches!(&error, StoreError::Backend(m) if !m.contains(PASSWORD)),
        "{error:?}"
    );
    let seen = server.finish();
    assert_eq!(seen.tls_requests, 0);
    assert_eq!(
        seen.passwords,
        vec![format!("{PASSWORD}\0").into_bytes()],
        "the cleartext password reached the server"
    );

    let server = FakeServer::start(Ask::Md5);
    let text = format!(
        "host=127.0.0.1 port={} user=mail2fa password={PASSWORD} sslmode=disable",
        server.port
    );
    PostgresStore::open_with(&text, &options()).unwrap_err();
    let seen = server.finish();
    assert_eq!(seen.passwords.len(), 1);
    assert!(
        seen.passwords[0].starts_with(b"md5"),
        "{:?}",
        seen.passwords
    );
}

/// An explicit `channel_binding=require` is honoured even without TLS: a
/// server asking for a cleartext password gets nothing.
#[test]
fn channel_binding_require_refuses_a_cleartext_password_request() {
    let server = FakeServer::start(Ask::Cleartext);
    let text = format!(
        "host=127.0.0.1 port={} user=mail2fa password={PASSWORD} sslmode=disable \
         channel_binding=require",
        server.port
    );
    let error = PostgresStore::open_with(&text, &options()).unwrap_err();
    assert!(
        matches!(&error, StoreError::Backend(m) if m.contains("channel binding")),
        "{error:?}"
    );
    let seen = server.finish();
    assert_eq!(seen.startups, 1);
    assert!(seen.passwords.is_empty());
}
