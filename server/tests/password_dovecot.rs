//! The portal's password check through Dovecot's authentication socket:
//! a real, sandboxed Dovecot (own base_dir, no listener but its sockets)
//! with the shipped Lua passdb, then with the shipped PAM passdb, and the
//! shipped mail2fa configuration on a SQLite store the test reads too. A
//! 2FA account's password passes alone for service `portal`, and neither a
//! right nor a wrong one changes its failure count. Also: a missing socket,
//! a server that never answers, and answers outside the protocol.
//!
//! Needs root and Debian's dovecot-core, dovecot-auth-lua, libpam-pwdfile
//! and openssl, and the mail2fa Lua module (`bash
//! scripts/build-integrations.sh`, or MAIL2FA_LUA_MODULE naming it); says
//! SKIPPED without them, unless MAIL2FA_REQUIRE_E2E=1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod password_support;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mail2fa::config::{Config, PasswordCheckSection, PasswordMethod};
use mail2fa::engine::{AccountId, Engine};
use mail2fa::store::{SqliteStore, Store};
use mail2fa::{KeyUri, Totp};
use mail2fa_server::password::{PasswordCheck, PasswordCheckError};
use password_support::{PamService, WorkDir, crypt_sha512, is_root, missing, pam_module, shipped};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

const PLATFORM: &str = "example.com";
/// An account with 2FA, enrolled and confirmed.
const ALICE: &str = "alice@example.com";
/// An account without 2FA.
const BOB: &str = "bob@example.com";
/// Disabled in the host's password file.
const FRANK: &str = "frank@example.com";
const USERS: [(&str, &str); 3] = [
    (ALICE, "alice-Secret-1"),
    (BOB, "bob-Secret-1"),
    (FRANK, "frank-Secret-1"),
];

fn password(user: &str) -> &'static str {
    USERS.iter().find(|(u, _)| *u == user).unwrap().1
}

fn checker(socket: &Path, timeout_seconds: u64) -> PasswordCheck {
    let mut section = PasswordCheckSection::default();
    section.method = PasswordMethod::Dovecot;
    section.dovecot_socket = socket.to_owned();
    section.timeout_seconds = timeout_seconds;
    PasswordCheck::from_config(&section)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The mail2fa Lua module Dovecot loads.
fn lua_module() -> PathBuf {
    std::env::var_os("MAIL2FA_LUA_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| password_support::root().join("target/integrations/mail2fa.so"))
}

fn dovecot_missing(lua: bool) -> bool {
    let mut needs = vec![
        ("root", is_root()),
        (
            "/usr/sbin/dovecot (dovecot-core)",
            Path::new("/usr/sbin/dovecot").exists(),
        ),
        (
            "openssl",
            Command::new("openssl").arg("version").output().is_ok(),
        ),
    ];
    if lua {
        needs.push((
            "Dovecot's Lua passdb (dovecot-auth-lua)",
            Path::new("/usr/lib/dovecot/modules/auth/libauthdb_lua.so").exists(),
        ));
        needs.push((
            "the mail2fa Lua module (bash scripts/build-integrations.sh, or MAIL2FA_LUA_MODULE)",
            lua_module().exists(),
        ));
    } else {
        needs.push((
            "pam_pwdfile.so (libpam-pwdfile)",
            pam_module("pam_pwdfile.so"),
        ));
    }
    missing("the Dovecot password check", &needs).is_some()
}

/// A sandbox Dovecot: only its auth service is used (no protocols).
struct Dovecot {
    run: PathBuf,
    log: PathBuf,
    conf: PathBuf,
    stderr: PathBuf,
}

impl Dovecot {
    fn start(work: &WorkDir, variant: &str, passdb: &str) -> Self {
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(work.path(sub)).unwrap();
        }
        let dir = work.0.display();
        // Every user the host knows, enabled: a second passdb as Debian's
        // auth-system.conf.ext would be. A refusal must not fall through.
        let fallthrough = work.write(
            "users.fallthrough",
            &USERS
                .iter()
                .map(|(u, p)| format!("{u}:{{PLAIN}}{p}\n"))
                .collect::<String>(),
            0o644,
        );
        let conf = work.write(
            "dovecot.conf",
            &format!(
                "instance_name = mail2fa-pwtest-{variant}-{pid}
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols =
ssl = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
first_valid_uid = 1
first_valid_gid = 1
# Failed checks are not slowed down by anvil's penalty in tests.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/home/%u
}}
{passdb}
passdb {{
  driver = passwd-file
  args = {fallthrough}
}}
",
                pid = std::process::id(),
                fallthrough = fallthrough.display(),
            ),
            0o644,
        );
        let server = Self {
            run: work.path("run"),
            log: work.path("dovecot.log"),
            conf,
            stderr: work.path("dovecot.stderr"),
        };
        server.launch();
        server
    }

    /// Starts the master and waits until the auth-client socket accepts.
    fn launch(&self) {
        // Its daemon keeps what it inherits open: no pipes here.
        let errors = std::fs::File::create(&self.stderr).unwrap();
        let status = Command::new("dovecot")
            .arg("-c")
            .arg(&self.conf)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(errors)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "dovecot: {}",
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::os::unix::net::UnixStream::connect(self.socket()).is_err() {
            assert!(Instant::now() < deadline, "no auth-client socket");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the master (every connection to it closes) and starts it
    /// again.
    fn restart(&self) {
        self.stop();
        self.launch();
    }

    fn stop(&self) {
        let pidfile = self.run.join("master.pid");
        let Ok(pid) = std::fs::read_to_string(&pidfile) else {
            return;
        };
        let _ = Command::new("kill").arg("-TERM").arg(pid.trim()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while pidfile.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn socket(&self) -> PathBuf {
        self.run.join("auth-client")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The shipped configuration on a SQLite store of the work directory:
/// example.com on, alice enrolled (her code confirmed a minute ago), bob
/// without 2FA.
fn store(work: &WorkDir) -> (PathBuf, Engine<Box<dyn Store>>) {
    let db = work.path("mail2fa.db");
    drop(SqliteStore::create(&db).unwrap());
    let conf = work.write(
        "mail2fa.toml",
        &shipped(
            "integrations/mail2fa.toml",
            &[("/var/lib/mail2fa/mail2fa.db", db.to_str().unwrap())],
        ),
        0o644,
    );
    let engine = Config::from_file(&conf).unwrap().open_engine().unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    let alice = AccountId::new(PLATFORM, ALICE).unwrap();
    let past = now() - 60;
    let uri = engine.enable_account(&alice, past).unwrap();
    let key = KeyUri::parse(&uri).unwrap();
    let app = Totp::new(key.secret(), key.totp_config().unwrap());
    let code = app.generate(past).unwrap();
    assert!(
        engine
            .confirm_enrollment(&alice, code.as_str(), past)
            .unwrap()
            .is_allowed()
    );
    (conf, engine)
}

fn failures(engine: &Engine<Box<dyn Store>>) -> u32 {
    let alice = AccountId::new(PLATFORM, ALICE).unwrap();
    engine.account_status(&alice, now()).unwrap().failures
}

/// What every passdb must answer the portal.
async fn scenarios(variant: &str, check: &PasswordCheck, engine: &Engine<Box<dyn Store>>) {
    let local: Option<IpAddr> = Some("192.0.2.10".parse().unwrap());
    let yes = |user: &str, answer: Result<bool, PasswordCheckError>| {
        assert!(
            matches!(answer, Ok(true)),
            "{variant}: {user:?} with the right password: {answer:?}"
        );
    };
    let no = |what: &str, answer: Result<bool, PasswordCheckError>| {
        assert!(matches!(answer, Ok(false)), "{variant}: {what}: {answer:?}");
    };

    yes(BOB, check.check(BOB, password(BOB), local).await);
    yes(BOB, check.check(BOB, password(BOB), None).await);
    no(
        "bob, wrong password",
        check.check(BOB, "bob-Secret-2", local).await,
    );
    no("bob, empty password", check.check(BOB, "", local).await);
    no(
        "unknown user",
        check.check("nobody@example.com", "x", local).await,
    );
    no(
        "a user disabled in the host's file",
        check.check(FRANK, password(FRANK), local).await,
    );

    // The 2FA account: the password alone is enough for the portal, and
    // neither a right nor a wrong one is counted by mail2fa.
    let before = failures(engine);
    yes(ALICE, check.check(ALICE, password(ALICE), local).await);
    assert_eq!(
        failures(engine),
        before,
        "{variant}: a right password counted"
    );
    no(
        "alice, wrong password",
        check.check(ALICE, "alice-Secret-2", local).await,
    );
    no(
        "alice, her password and a wrong code (no code is split off)",
        check
            .check(ALICE, &format!("{}000000", password(ALICE)), local)
            .await,
    );
    for _ in 0..3 {
        no(
            "alice, wrong password",
            check.check(ALICE, "guess", local).await,
        );
    }
    assert_eq!(
        failures(engine),
        before,
        "{variant}: a wrong password counted"
    );

    // TAB and LF never make fields of the request: a user or password that
    // would add a `resp=` of bob's right credentials, or end the line with
    // a request of its own, is just a wrong name or password.
    let bob_plain =
        base64::engine::general_purpose::STANDARD.encode(format!("\0{BOB}\0{}", password(BOB)));
    let hostile_users = [
        format!("mallory\tresp={bob_plain}"),
        format!("{BOB}\tnologin"),
        format!("{BOB}\n"),
        format!("mallory\nAUTH\t1\tPLAIN\tservice=portal\tresp={bob_plain}"),
    ];
    for user in &hostile_users {
        let answer = check.check(user, "x", local).await;
        assert!(
            !matches!(answer, Ok(true)),
            "{variant}: user {user:?}: {answer:?}"
        );
    }
    let hostile_passwords = [
        format!("x\tresp={bob_plain}"),
        format!("{}\t", password(BOB)),
        format!("{}\n", password(BOB)),
        format!("x\nAUTH\t2\tPLAIN\tservice=portal\tresp={bob_plain}\n"),
    ];
    for pw in &hostile_passwords {
        let answer = check.check(BOB, pw, local).await;
        assert!(
            !matches!(answer, Ok(true)),
            "{variant}: password {pw:?}: {answer:?}"
        );
    }
    // ... and the connection after them still answers bob's password.
    yes(BOB, check.check(BOB, password(BOB), local).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lua_passdb_answers_the_portal_on_the_password_alone() {
    if dovecot_missing(true) {
        return;
    }
    let work = WorkDir::new("pw-dovecot-lua");
    let users = USERS
        .iter()
        .map(|(u, p)| {
            let disabled = if *u == FRANK { "!" } else { "" };
            format!("{u}:{{SHA512-CRYPT}}{disabled}{}\n", crypt_sha512(p))
        })
        .collect::<String>();
    let passwd = work.write("users.passwd", &users, 0o644);
    let (conf, engine) = store(&work);
    let module_dir = lua_module().parent().unwrap().join("?.so");
    let script = work.write(
        "mail2fa-passdb.lua",
        &shipped(
            "integrations/dovecot/mail2fa-passdb.lua",
            &[
                ("/etc/mail2fa/mail2fa.toml", conf.to_str().unwrap()),
                ("/etc/dovecot/mail2fa-users", passwd.to_str().unwrap()),
                ("portal_service = nil,", "portal_service = \"portal\","),
                (
                    "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so",
                    module_dir.to_str().unwrap(),
                ),
            ],
        ),
        0o644,
    );
    let passdb = shipped(
        "integrations/dovecot/auth-mail2fa-lua.conf",
        &[("/etc/dovecot/mail2fa-passdb.lua", script.to_str().unwrap())],
    );
    let dovecot = Dovecot::start(&work, "lua", &passdb);
    let check = checker(&dovecot.socket(), 10);
    scenarios("lua", &check, &engine).await;
    // The connection kept from the last check closed with Dovecot: the
    // next check opens a new one.
    dovecot.restart();
    let answer = check.check(BOB, password(BOB), None).await;
    assert!(matches!(answer, Ok(true)), "after a restart: {answer:?}");
    // The script said why, and never asked mail2fa for the portal.
    let log = dovecot.log();
    assert!(log.contains("mail2fa: portal: password right"), "{log}");
    assert!(log.contains("mail2fa: portal: wrong password"), "{log}");
    assert!(
        !log.contains("audit:"),
        "mail2fa decided a portal check: {log}"
    );
    // A user name outside mail2fa's alphabet is refused before its password.
    let answer = check.check("Bob@example.com", password(BOB), None).await;
    assert!(matches!(answer, Ok(false)), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pam_passdb_answers_the_portal_on_the_password_alone() {
    if dovecot_missing(false) {
        return;
    }
    let work = WorkDir::new("pw-dovecot-pam");
    let users = USERS
        .iter()
        .map(|(u, p)| {
            let disabled = if *u == FRANK { "!" } else { "" };
            format!("{u}:{disabled}{}\n", crypt_sha512(p))
        })
        .collect::<String>();
    let pwdfile = work.write("users.pwdfile", &users, 0o600);
    let (_conf, engine) = store(&work);
    // Dovecot asks PAM for "<prefix>portal": the shipped portal stack,
    // with the host's password file of this test.
    let prefix = format!("m2fa-pwtest-{}-", std::process::id());
    let _service = PamService::with_prefix(
        &prefix,
        "portal",
        &shipped(
            "integrations/pam/mail2fa-portal.pam",
            &[("/etc/dovecot/mail2fa-pam-users", pwdfile.to_str().unwrap())],
        ),
    );
    let passdb = shipped(
        "integrations/dovecot/auth-mail2fa-pam.conf",
        &[("args = mail2fa-%s", &format!("args = {prefix}%s"))],
    );
    let dovecot = Dovecot::start(&work, "pam", &passdb);
    let check = checker(&dovecot.socket(), 10);
    scenarios("pam", &check, &engine).await;
}

#[tokio::test]
async fn a_missing_socket_is_an_error_naming_it() {
    let work = WorkDir::new("pw-dovecot-missing");
    let socket = work.path("no-such-auth-client");
    let answer = checker(&socket, 2).check(BOB, "secret-pw", None).await;
    let error = answer.unwrap_err();
    assert!(
        matches!(error, PasswordCheckError::Unreachable { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains(socket.to_str().unwrap()), "{text}");
    assert!(!text.contains("secret-pw"), "{text}");
}

/// A server on `socket` that runs `serve` on each connection.
async fn fake_server<F, Fut>(socket: &Path, serve: F)
where
    F: Fn(tokio::net::UnixStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = UnixListener::bind(socket).unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
}

#[tokio::test]
async fn a_server_that_never_answers_is_an_error_after_the_timeout() {
    let work = WorkDir::new("pw-dovecot-silent");
    let socket = work.path("auth-client");
    // Accepts, reads everything, never says a word.
    fake_server(&socket, |mut stream| async move {
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink).await;
    })
    .await;
    let answer = checker(&socket, 1).check(BOB, "secret-pw", None).await;
    let error = answer.unwrap_err();
    assert!(
        matches!(error, PasswordCheckError::TimedOut { seconds: 1, .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains(socket.to_str().unwrap()), "{text}");
    assert!(!text.contains("secret-pw"), "{text}");
}

/// What a scripted server saw: each AUTH line, with the number of the
/// connection it came on (from 1).
type Seen = tokio::sync::mpsc::UnboundedReceiver<(usize, String)>;

/// A server that greets with `handshake`, then answers each AUTH line with
/// `answer` (`{id}` replaced by the request's id), and closes the
/// connection after each answer if `close_after` says so.
async fn scripted_server(
    socket: &Path,
    handshake: &'static str,
    answer: &'static str,
    close_after: bool,
) -> Seen {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let connections = Arc::new(AtomicUsize::new(0));
    fake_server(socket, move |stream| {
        let tx = tx.clone();
        let connection = connections.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            let (read, mut write) = stream.into_split();
            let mut lines = tokio::io::BufReader::new(read);
            write.write_all(handshake.as_bytes()).await.unwrap();
            let mut line = String::new();
            if !handshake.ends_with("DONE\n") {
                // A handshake cut short: the client's VERSION and CPID
                // read, the connection closes.
                for _ in 0..2 {
                    lines.read_line(&mut line).await.unwrap();
                }
                return;
            }
            loop {
                line.clear();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line.starts_with("AUTH\t") {
                    let id = line.split('\t').nth(1).unwrap().to_owned();
                    tx.send((connection, line.clone())).unwrap();
                    let reply = answer.replace("{id}", &id);
                    write.write_all(reply.as_bytes()).await.unwrap();
                    if close_after {
                        return;
                    }
                }
            }
        }
    })
    .await;
    rx
}

const HANDSHAKE: &str = "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n\
                         SPID\t1\nCUID\t1\nCOOKIE\t00\nDONE\n";

#[tokio::test]
async fn answers_outside_the_protocol_are_errors() {
    let work = WorkDir::new("pw-dovecot-fake");
    let cases: [(&str, &str, &str); 5] = [
        (
            "no-plain",
            "VERSION\t1\t2\nMECH\tCRAM-MD5\nDONE\n",
            "the PLAIN mechanism is not offered",
        ),
        (
            "version-2",
            "VERSION\t2\t0\nMECH\tPLAIN\nDONE\n",
            "another major protocol version",
        ),
        ("closed", "VERSION\t1\t2\n", "closed"),
        ("cont", HANDSHAKE, "continuation"),
        ("temp", HANDSHAKE, "temporary failure"),
    ];
    for (n, (name, handshake, expected)) in cases.into_iter().enumerate() {
        // Named apart from the expected texts.
        let socket = work.path(&format!("socket-{n}"));
        let answer = match name {
            "cont" => "CONT\t{id}\t\n",
            "temp" => "FAIL\t{id}\tuser=bob@example.com\ttemp\n",
            _ => "",
        };
        let _seen = scripted_server(&socket, handshake, answer, false).await;
        let error = checker(&socket, 5)
            .check(BOB, "secret-pw", None)
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains(expected), "{name}: {text}");
        assert!(text.contains(socket.to_str().unwrap()), "{name}: {text}");
        assert!(!text.contains("secret-pw"), "{name}: {text}");
    }
}

#[tokio::test]
async fn ok_and_fail_answers_and_what_is_sent() {
    let work = WorkDir::new("pw-dovecot-answers");
    let ok = work.path("ok");
    let mut sent = scripted_server(&ok, HANDSHAKE, "OK\t{id}\tuser=bob@example.com\n", false).await;
    let check = checker(&ok, 5);
    let remote: IpAddr = "2001:db8::7".parse().unwrap();
    assert!(check.check(BOB, "pw", Some(remote)).await.unwrap());
    let (_, line) = sent.recv().await.unwrap();
    let resp = base64::engine::general_purpose::STANDARD.encode(format!("\0{BOB}\0pw"));
    assert_eq!(
        line,
        format!("AUTH\t1\tPLAIN\tservice=portal\tsecured\tnologin\trip=2001:db8::7\tresp={resp}\n")
    );
    // An OK for another user than the one asked is no yes for this one.
    assert!(!check.check("carol@example.com", "pw", None).await.unwrap());
    assert!(sent.recv().await.unwrap().1.starts_with("AUTH\t2\tPLAIN\t"));

    let fail = work.path("fail");
    let _sent = scripted_server(
        &fail,
        HANDSHAKE,
        "FAIL\t{id}\tuser=bob@example.com\n",
        false,
    )
    .await;
    assert!(!checker(&fail, 5).check(BOB, "pw", None).await.unwrap());

    // What cannot be a mailbox login never reaches the server.
    for (user, pw) in [("", "pw"), ("bob\0x", "pw"), (BOB, "p\0w")] {
        assert!(!check.check(user, pw, None).await.unwrap());
    }
    let long = "x".repeat(4097);
    assert!(!check.check(BOB, &long, None).await.unwrap());
    assert!(!check.check(&long, "pw", None).await.unwrap());
    assert!(
        sent.try_recv().is_err(),
        "a refused login reached the server"
    );
}

#[tokio::test]
async fn connections_are_kept_between_checks() {
    let work = WorkDir::new("pw-dovecot-kept");
    let socket = work.path("kept");
    let mut seen = scripted_server(
        &socket,
        HANDSHAKE,
        "OK\t{id}\tuser=bob@example.com\n",
        false,
    )
    .await;
    let check = checker(&socket, 5);
    // A clone shares the kept connections.
    let clone = check.clone();
    for round in 1..=3 {
        assert!(check.check(BOB, "pw", None).await.unwrap());
        assert!(clone.check(BOB, "pw", None).await.unwrap());
        for half in [0, 1] {
            let (connection, line) = seen.recv().await.unwrap();
            assert_eq!(connection, 1, "round {round}: {line}");
            assert!(
                line.starts_with(&format!("AUTH\t{}\tPLAIN\t", 2 * round - 1 + half)),
                "round {round}: {line}"
            );
        }
    }
}

#[tokio::test]
async fn a_kept_connection_the_server_closed_is_replaced() {
    let work = WorkDir::new("pw-dovecot-closed");
    let socket = work.path("closing");
    // Closes every connection after its first answer, as a restarted
    // Dovecot would have.
    let mut seen =
        scripted_server(&socket, HANDSHAKE, "OK\t{id}\tuser=bob@example.com\n", true).await;
    let check = checker(&socket, 5);
    for round in 1..=3 {
        assert!(check.check(BOB, "pw", None).await.unwrap(), "round {round}");
        let (connection, line) = seen.recv().await.unwrap();
        assert_eq!(connection, round, "{line}");
        assert!(line.starts_with("AUTH\t1\tPLAIN\t"), "{line}");
    }
}

#[tokio::test]
async fn a_connection_that_answered_outside_the_protocol_is_not_kept() {
    let work = WorkDir::new("pw-dovecot-dropped");
    let socket = work.path("wrong-id");
    // Answers every request as if it were request 1.
    let mut seen =
        scripted_server(&socket, HANDSHAKE, "OK\t1\tuser=bob@example.com\n", false).await;
    let check = checker(&socket, 5);
    assert!(check.check(BOB, "pw", None).await.unwrap());
    // Request 2 on the kept connection gets request 1's answer: an error,
    // and the connection is dropped ...
    let error = check.check(BOB, "pw", None).await.unwrap_err();
    assert!(error.to_string().contains("another request"), "{error}");
    // ... so the next check starts on a new one, with id 1 again.
    assert!(check.check(BOB, "pw", None).await.unwrap());
    let connections: Vec<usize> = [
        seen.recv().await.unwrap(),
        seen.recv().await.unwrap(),
        seen.recv().await.unwrap(),
    ]
    .into_iter()
    .map(|(connection, _)| connection)
    .collect();
    assert_eq!(connections, [1, 1, 2]);
}
