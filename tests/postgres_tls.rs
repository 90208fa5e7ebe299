//! The network cannot turn 2FA off: a PostgreSQL server (or a machine in the
//! middle) that refuses TLS and asks for a password in clear text gets no
//! password from a connection string that does not say `sslmode=disable`.
//!
//! The server here is a fake: a thread on 127.0.0.1 that speaks just enough
//! of the protocol (answers `N` to the SSLRequest, then asks for a
//! cleartext or an MD5 password) and records what the client sent. It needs
//! no PostgreSQL installation; every wait is bounded. A second fake accepts
//! TLS with a certificate the client trusts (made with `openssl`) and then
//! asks for the password without SCRAM channel binding: the default refuses
//! that too.

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mail2fa::store::{PostgresOptions, PostgresStore, StoreError};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

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
    /// `AuthenticationSASL` offering SCRAM-SHA-256 only, without channel
    /// binding (the proof it gets is crackable offline too).
    ScramWithoutBinding,
}

/// What the fake server saw, over every connection made to it.
#[derive(Debug, Default)]
struct Seen {
    /// SSLRequests answered with `N`.
    tls_requests: u32,
    /// StartupMessages received in plain text (each was answered with the
    /// password request).
    startups: u32,
    /// StartupMessages received over TLS.
    tls_startups: u32,
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
        Self::start_with(ask, None)
    }

    /// With `tls`, the server accepts TLS (with that configuration).
    fn start_with(ask: Ask, tls: Option<Arc<ServerConfig>>) -> Self {
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
                    Ok((stream, _)) => serve(stream, ask, tls.as_ref(), &mut seen),
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

fn read_u32(stream: &mut impl Read) -> Option<u32> {
    let mut bytes = [0; 4];
    stream.read_exact(&mut bytes).ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// The body of a message whose length word (counting itself) comes next.
fn read_body(stream: &mut impl Read) -> Option<Vec<u8>> {
    let length = usize::try_from(read_u32(stream)?).ok()?;
    if !(4..=10_000).contains(&length) {
        return None;
    }
    let mut body = vec![0; length - 4];
    stream.read_exact(&mut body).ok()?;
    Some(body)
}

/// One connection: the start-up phase, as far as the client goes. With
/// `tls`, the SSLRequest is accepted and the rest runs over TLS.
fn serve(mut stream: TcpStream, ask: Ask, tls: Option<&Arc<ServerConfig>>, seen: &mut Seen) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // SSLRequest / GSSENCRequest, then the StartupMessage.
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
                if let Some(config) = tls {
                    if stream.write_all(b"S").is_err() {
                        return;
                    }
                    let session = ServerConnection::new(Arc::clone(config)).unwrap();
                    let mut stream = StreamOwned::new(session, stream);
                    if read_body(&mut stream).is_some() {
                        seen.tls_startups += 1;
                        ask_for_password(&mut stream, ask, seen);
                    }
                    return;
                }
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
    ask_for_password(&mut stream, ask, seen);
}

/// After the StartupMessage: asks for the password as `ask` says, records
/// a PasswordMessage (`p`, also the SASL responses), then refuses.
fn ask_for_password(stream: &mut (impl Read + Write), ask: Ask, seen: &mut Seen) {
    let request: Vec<u8> = match ask {
        Ask::Cleartext => [&b"R"[..], &8u32.to_be_bytes(), &3u32.to_be_bytes()].concat(),
        Ask::Md5 => [
            &b"R"[..],
            &12u32.to_be_bytes(),
            &5u32.to_be_bytes(),
            b"salt",
        ]
        .concat(),
        Ask::ScramWithoutBinding => {
            let mechanisms = b"SCRAM-SHA-256\0\0";
            let length = u32::try_from(8 + mechanisms.len()).unwrap();
            [
                &b"R"[..],
                &length.to_be_bytes(),
                &10u32.to_be_bytes(),
                mechanisms,
            ]
            .concat()
        }
    };
    if stream
        .write_all(&request)
        .and_then(|()| stream.flush())
        .is_err()
    {
        return;
    }
    let mut kind = [0u8; 1];
    if stream.read_exact(&mut kind).is_err() {
        return;
    }
    if kind[0] == b'p'
        && let Some(body) = read_body(stream)
    {
        seen.passwords.push(body);
    }
    let fields = b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed\0\0";
    let length = u32::try_from(fields.len() + 4).unwrap();
    let _ = stream.write_all(&[&b"E"[..], &length.to_be_bytes(), fields].concat());
    let _ = stream.flush();
}

fn options() -> PostgresOptions {
    PostgresOptions::default()
        .with_max_connections(1)
        .with_timeout(Duration::from_secs(3))
        .with_create(false)
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
            assert!(
                message.contains("server does not support TLS")
                    && message.contains("unless the connection string says sslmode=disable"),
                "{ask:?} {text}: {message}"
            );
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

/// A test CA and a server certificate for 127.0.0.1 (with `openssl`, as
/// `scripts/pg-server.sh` makes them), in a directory of their own; `None`
/// (the test is skipped) without `openssl`.
struct Certificates {
    dir: std::path::PathBuf,
}

impl Certificates {
    fn make() -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("mail2fa-pgtls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        let script = format!(
            "set -e; cd '{}'; \
             openssl req -x509 {ec} -keyout ca.key -out ca.pem -days 2 -subj '/CN=fake CA'; \
             openssl req {ec} -keyout server.key -out server.csr -subj /CN=127.0.0.1; \
             openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
               -out server.crt -days 2 -extfile ext",
            dir.display()
        );
        let made = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .is_ok_and(|o| o.status.success());
        if !made {
            let _ = std::fs::remove_dir_all(&dir);
            assert!(
                std::env::var("MAIL2FA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MAIL2FA_REQUIRE_POSTGRES=1 but openssl cannot make the test certificates"
            );
            eprintln!("SKIPPED: openssl cannot make the test certificates");
            return None;
        }
        Some(Self { dir })
    }

    fn ca(&self) -> String {
        self.dir.join("ca.pem").display().to_string()
    }

    fn server_config(&self) -> Arc<ServerConfig> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let chain = CertificateDer::pem_file_iter(self.dir.join("server.crt"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(self.dir.join("server.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap(),
        )
    }
}

impl Drop for Certificates {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Over verified TLS, a server that asks for the password without SCRAM
/// channel binding (cleartext, MD5, or SCRAM-SHA-256 without -PLUS) gets no
/// password message from a string with a password and no
/// `channel_binding=`: the binding is required. With
/// `channel_binding=prefer` (the control) it gets one.
#[test]
fn over_tls_a_server_without_channel_binding_gets_no_password_by_default() {
    let Some(certificates) = Certificates::make() else {
        return;
    };
    let config = certificates.server_config();
    let ca = certificates.ca();
    for ask in [Ask::Cleartext, Ask::Md5, Ask::ScramWithoutBinding] {
        let server = FakeServer::start_with(ask, Some(Arc::clone(&config)));
        let default = format!(
            "postgres://mail2fa:{PASSWORD}@127.0.0.1:{}/mail2fa?sslrootcert={ca}",
            server.port
        );
        let error = PostgresStore::open_with(&default, &options()).unwrap_err();
        assert!(
            matches!(&error, StoreError::Backend(m) if m.contains("server did not use channel binding")
                && m.contains("channel_binding=prefer") && !m.contains(PASSWORD)),
            "{ask:?}: {error:?}"
        );
        let seen = server.finish();
        assert_eq!(
            (seen.tls_startups, seen.startups),
            (1, 0),
            "{ask:?}: the start-up went over TLS"
        );
        assert!(seen.passwords.is_empty(), "{ask:?}: {:?}", seen.passwords);

        let server = FakeServer::start_with(ask, Some(Arc::clone(&config)));
        let prefer = format!(
            "postgres://mail2fa:{PASSWORD}@127.0.0.1:{}/mail2fa?sslrootcert={ca}&channel_binding=prefer",
            server.port
        );
        PostgresStore::open_with(&prefer, &options()).unwrap_err();
        let seen = server.finish();
        assert_eq!(seen.tls_startups, 1, "{ask:?}");
        assert_eq!(seen.passwords.len(), 1, "{ask:?}: the control");
    }
}

/// Found by the `conninfo_parse` fuzz target: in a `key=value` list, a
/// password can end up in another setting (libpq's own reading), whose
/// value messages then showed: `user= password=…` (the user is
/// `password=…`), `user=u\ password=…` (an escaped space), and the second
/// half of an unquoted password with a space, taken as a setting's name.
/// Such strings are refused, and no message shows the password.
#[test]
fn messages_never_show_a_password_that_another_setting_swallowed() {
    for text in [
        "host=127.0.0.1 port=1 user= password=Kx9sw4lw",
        r"host=127.0.0.1 port=1 user=u\ password=Kx9sw4lw sslmode=disable",
        "host=127.0.0.1 port=1 user='u password=Kx9sw4lw' sslmode=disable",
        "host=127.0.0.1 port=1 user=u password=Px7half Kx9sw4lw=x",
    ] {
        let error = PostgresStore::open_with(text, &options()).unwrap_err();
        let StoreError::Backend(message) = &error else {
            panic!("{text}: {error:?}");
        };
        assert!(!message.contains("Kx9sw4lw"), "{text}: {message}");
        assert!(!message.contains("Px7half"), "{text}: {message}");
        assert!(
            !message.contains("connecting"),
            "{text}: refused before connecting: {message}"
        );
    }
}
