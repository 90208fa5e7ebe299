//! The `mail2fa` operator tool, run as a program.
//!
//! Every test drives the real binary (`assert_cmd`) on its own database in
//! its own temporary directory, with the clock fixed by the hidden `--now`
//! option, no `MAIL2FA_*` variable from the environment and `NO_COLOR` set.
//! Where a mail server would act (a device logging in, an application
//! password used), the test opens the same database through the library,
//! as the servers do, and closes it again before the next command.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use mail2fa::engine::{
    AccountId, AllowReason, ClientInfo, Credential, Decision, Engine, EngineConfig, LoginRequest,
    Protocol,
};
use mail2fa::store::SqliteStore;
use mail2fa::{KeyUri, Totp};
use serde_json::Value;

/// The fixed "now" of every command: 2027-01-15 08:00:00 UTC.
const NOW: u64 = 1_800_000_000;
const PLATFORM: &str = "example.com";
const ALICE: &str = "alice@example.com";

/// Exit statuses of the tool.
const OK: i32 = 0;
const REFUSED: i32 = 1;
const USAGE: i32 = 2;
const NOT_FOUND: i32 = 3;
const DATABASE: i32 = 4;
const KEY: i32 = 5;

// ------------------------------------------------------------------ helpers

/// What one run of the tool did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts the exit status, showing everything the tool said if not.
    fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit status {} instead of {code}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// The one line the tool writes on standard error when it stops.
    fn error_line(&self) -> &str {
        let line = self.stderr.trim_end();
        assert!(
            line.starts_with("mail2fa: ") && !line.contains('\n'),
            "not a one-line `mail2fa: ` error: {:?}",
            self.stderr
        );
        line
    }

    /// Standard output as the one JSON document it must be.
    fn json(&self) -> Value {
        assert_eq!(
            self.stdout.lines().count(),
            1,
            "not one line of JSON: {:?}",
            self.stdout
        );
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.stdout))
    }
}

/// A temporary directory holding one test's database and files; removed
/// when the test ends.
struct Sandbox {
    dir: PathBuf,
}

impl Sandbox {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mail2fa-cli-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    /// A sandbox whose database has 2FA on for `PLATFORM`.
    fn with_platform(test: &str) -> Self {
        let sandbox = Self::new(test);
        sandbox.run(&["platform", "enable", PLATFORM]).expect(OK);
        sandbox
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn db(&self) -> PathBuf {
        self.path("mail2fa.db")
    }

    /// The tool with a clean environment (nothing from `MAIL2FA_*`, no
    /// colours), working in the sandbox.
    fn command(&self) -> Command {
        let mut command = Command::cargo_bin("mail2fa").unwrap();
        for var in [
            "MAIL2FA_DB",
            "MAIL2FA_KEY_FILE",
            "MAIL2FA_ISSUER",
            "NO_COLOR",
            "CLICOLOR",
            "CLICOLOR_FORCE",
        ] {
            command.env_remove(var);
        }
        command.env("NO_COLOR", "1").current_dir(&self.dir);
        command
    }

    /// Runs `args` on `db` at `NOW` (stdin is not a terminal).
    fn run_on(&self, db: &Path, args: &[&str]) -> Run {
        let mut command = self.command();
        command
            .arg("--db")
            .arg(db)
            .arg("--now")
            .arg(NOW.to_string())
            .args(args);
        finish(command)
    }

    /// Runs `args` on the sandbox's database at `NOW`.
    fn run(&self, args: &[&str]) -> Run {
        self.run_on(&self.db(), args)
    }

    /// Runs `args` with `--json`, expects success, returns the document.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        self.run(&all).expect(OK).json()
    }

    /// `account show --json` of `account`.
    fn show(&self, account: &str) -> Value {
        self.json(&["account", "show", PLATFORM, account])
    }

    /// Writes a key file `ID:KEY` with the given mode.
    fn key_file(&self, name: &str, line: &str, mode: u32) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, format!("{line}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    /// Enables 2FA for `account` and confirms it with the app's code, as a
    /// user would; returns the provisioning URI the app was given.
    fn enroll(&self, account: &str) -> String {
        let enabled = self.json(&["account", "enable", PLATFORM, account]);
        let uri = enabled["uri"].as_str().unwrap().to_owned();
        let code = authenticator(&uri).generate(NOW).unwrap();
        self.run(&["account", "confirm", PLATFORM, account, code.as_str()])
            .expect(OK);
        uri
    }

    /// Opens the database as a mail server does (no encryption keys).
    fn engine(&self) -> Engine<SqliteStore> {
        Engine::new(
            SqliteStore::open(self.db()).unwrap(),
            EngineConfig::default(),
        )
        .unwrap()
    }

    /// One login through the library, the database closed afterwards.
    fn login(&self, account: &str, request: &LoginRequest<'_>) -> Decision {
        let id = AccountId::new(PLATFORM, account).unwrap();
        self.engine().authenticate(&id, request, NOW).unwrap()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn finish(mut command: Command) -> Run {
    let output = command.output().unwrap();
    Run {
        code: output
            .status
            .code()
            .expect("the tool was killed by a signal"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// What the user's authenticator app makes of a provisioning URI.
fn authenticator(uri: &str) -> Totp {
    let key = KeyUri::parse(uri).unwrap();
    Totp::new(key.secret(), key.totp_config().unwrap())
}

/// A well-formed code that is none of the app's codes anywhere near `NOW`.
fn wrong_code(totp: &Totp) -> String {
    let near: Vec<String> = (NOW - 40 * 30..=NOW + 40 * 30)
        .step_by(30)
        .map(|t| totp.generate(t).unwrap().as_str().to_owned())
        .collect();
    (0..10)
        .map(|d| d.to_string().repeat(6))
        .find(|candidate| !near.contains(candidate))
        .unwrap()
}

/// An iPhone on ActiveSync, with the right account password.
fn iphone(device_type: &str) -> LoginRequest<'_> {
    LoginRequest {
        protocol: Protocol::ActiveSync,
        credential: Credential::Password { correct: true },
        client: ClientInfo {
            device_id: Some("ApplF17XK0LQHG7F"),
            device_type: Some(device_type),
            user_agent: Some("Apple-iPhone14C2/2101.103"),
            remote_addr: Some("203.0.113.7"),
        },
    }
}

/// An IMAP login with an application password.
fn imap_with(password: &str) -> LoginRequest<'_> {
    LoginRequest {
        protocol: Protocol::Imap,
        credential: Credential::AppPassword(password),
        client: ClientInfo {
            user_agent: Some("Thunderbird"),
            remote_addr: Some("198.51.100.20"),
            ..ClientInfo::default()
        },
    }
}

/// The entry of `list` whose `key` is `value`.
fn find<'a>(list: &'a Value, key: &str, value: impl Into<Value>) -> &'a Value {
    let value = value.into();
    list.as_array()
        .unwrap()
        .iter()
        .find(|item| item[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {list}"))
}

/// The line of a text table that starts with `first` (its first column).
fn row<'a>(table: &'a str, first: &str) -> &'a str {
    table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(first))
        .unwrap_or_else(|| panic!("no row {first} in:\n{table}"))
}

// -------------------------------------------------------------- enrollment

#[test]
fn enrollment_shows_the_uri_and_qr_code_and_is_confirmed_with_a_code() {
    let sandbox = Sandbox::new("enrollment");
    let on = sandbox
        .run(&["platform", "enable", PLATFORM])
        .expect(OK)
        .stdout;
    assert_eq!(on, "2FA is on for example.com.\n");
    assert!(sandbox.db().exists());

    // Human output: the headline, the QR code, the URI, the next step; the
    // SVG written 0600.
    let svg = sandbox.path("alice.svg");
    let enabled = sandbox
        .run(&["account", "enable", PLATFORM, ALICE, "--svg", "alice.svg"])
        .expect(OK)
        .stdout;
    assert!(
        enabled.starts_with(
            "2FA enabled for alice@example.com on example.com, \
             pending until 2027-01-16 08:00:00 UTC."
        ),
        "{enabled}"
    );
    assert!(enabled.contains('█') && enabled.contains('▀'), "{enabled}");
    let uri_line = enabled
        .lines()
        .find(|l| l.starts_with("otpauth://"))
        .expect("the URI");
    assert!(
        uri_line.starts_with("otpauth://totp/example.com:alice@example.com?secret="),
        "{uri_line}"
    );
    KeyUri::parse(uri_line).unwrap();
    assert!(
        enabled.contains("QR code written to alice.svg."),
        "{enabled}"
    );
    assert!(
        enabled.contains("mail2fa account confirm example.com alice@example.com CODE"),
        "{enabled}"
    );
    let written = std::fs::read_to_string(&svg).unwrap();
    assert!(written.starts_with("<?xml"), "{}", &written[..40]);
    let mode = std::fs::metadata(&svg).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");

    // The SVG is never overwritten.
    let again = sandbox
        .run(&["account", "enable", PLATFORM, "bob", "--svg", "alice.svg"])
        .expect(REFUSED);
    assert!(
        again.error_line().contains("never overwritten"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), written);

    // Not yet confirmed.
    let shown = sandbox.show(ALICE);
    assert_eq!(shown["enrollment"], "pending");
    assert_eq!(shown["enrollment_expires_at"], NOW + 86_400);
    assert_eq!(shown["last_used"], Value::Null);

    // JSON: the URI goes into the app; the app's code confirms.
    let carol = sandbox.json(&["account", "enable", PLATFORM, "carol"]);
    assert_eq!(carol["platform"], PLATFORM);
    assert_eq!(carol["account"], "carol");
    assert_eq!(carol["pending_until"], NOW + 86_400);
    assert_eq!(carol["svg"], Value::Null);
    let totp = authenticator(carol["uri"].as_str().unwrap());

    // A wrong code, then one of the wrong length: refused, with the reason.
    let wrong = wrong_code(&totp);
    let refused = sandbox
        .run(&["account", "confirm", PLATFORM, "carol", &wrong])
        .expect(REFUSED);
    assert_eq!(
        refused.error_line(),
        "mail2fa: carol on example.com: the code was refused (wrong code)."
    );
    let short = sandbox
        .run(&["account", "confirm", PLATFORM, "carol", "12345"])
        .expect(USAGE);
    assert!(
        short.error_line().contains("right number of digits"),
        "{}",
        short.stderr
    );
    let shown = sandbox.show("carol");
    assert_eq!(shown["enrollment"], "pending");
    assert!(shown["failures"].as_u64().unwrap() >= 1, "{shown}");

    let code = totp.generate(NOW).unwrap();
    let confirmed = sandbox
        .run(&["account", "confirm", PLATFORM, "carol", code.as_str()])
        .expect(OK);
    assert_eq!(
        confirmed.stdout,
        "Enrollment of carol on example.com confirmed: 2FA is active.\n"
    );
    let shown = sandbox.show("carol");
    assert_eq!(shown["enrollment"], "confirmed");
    assert_eq!(shown["enrollment_expires_at"], Value::Null);
    assert_eq!(shown["last_used"], NOW);
    assert_eq!(shown["failures"], 0);
    assert_eq!(shown["mode"], "totp");
    assert_eq!(shown["platform_enabled"], true);

    // Human `show` says the same.
    let text = sandbox
        .run(&["account", "show", PLATFORM, "carol"])
        .expect(OK)
        .stdout;
    assert!(text.starts_with("carol on example.com\n"), "{text}");
    assert!(row(&text, "Enrollment").ends_with("confirmed"), "{text}");
    assert!(
        text.contains("Last used       2027-01-15 08:00:00 UTC"),
        "{text}"
    );

    // Confirmed once only; enabled once only.
    let twice = sandbox
        .run(&["account", "confirm", PLATFORM, "carol", code.as_str()])
        .expect(REFUSED);
    assert!(
        twice.error_line().contains("already confirmed"),
        "{}",
        twice.stderr
    );
    let enable_again = sandbox
        .run(&["account", "enable", PLATFORM, "carol"])
        .expect(REFUSED);
    assert!(
        enable_again.error_line().contains("already enabled"),
        "{}",
        enable_again.stderr
    );
}

/// `--svg` refuses an existing file, and must do so before the account is
/// enabled: otherwise the new secret is stored but never shown, and the
/// operator can only reset it.
#[test]
fn a_refused_svg_file_leaves_the_account_without_2fa() {
    let sandbox = Sandbox::with_platform("svg-refused");
    std::fs::write(sandbox.path("taken.svg"), "mine").unwrap();
    sandbox
        .run(&["account", "enable", PLATFORM, "bob", "--svg", "taken.svg"])
        .expect(REFUSED);
    assert_eq!(
        std::fs::read_to_string(sandbox.path("taken.svg")).unwrap(),
        "mine"
    );
    sandbox
        .run(&["account", "show", PLATFORM, "bob"])
        .expect(NOT_FOUND);
}

#[test]
fn an_expired_enrollment_cannot_be_confirmed() {
    let sandbox = Sandbox::with_platform("expired");
    let enabled = sandbox.json(&["account", "enable", PLATFORM, ALICE]);
    let totp = authenticator(enabled["uri"].as_str().unwrap());
    let later = NOW + 86_400;
    let code = totp.generate(later).unwrap();
    let mut command = sandbox.command();
    command
        .arg("--db")
        .arg(sandbox.db())
        .args(["--now", &later.to_string()])
        .args(["account", "confirm", PLATFORM, ALICE, code.as_str()]);
    let run = finish(command).expect(REFUSED);
    assert!(
        run.error_line()
            .contains("the enrollment expired at 2027-01-16 08:00:00 UTC"),
        "{}",
        run.stderr
    );
}

// ----------------------------------------------------------------- devices

#[test]
fn a_device_is_listed_activated_deactivated_and_deleted() {
    let sandbox = Sandbox::with_platform("devices");
    sandbox.enroll(ALICE);
    let empty = sandbox
        .run(&["device", "list", PLATFORM, ALICE])
        .expect(OK)
        .stdout;
    assert_eq!(
        empty,
        "alice@example.com on example.com has no device tokens.\n"
    );

    // The phone logs in with the right password: blocked, a token made.
    let Decision::DevicePending { device, .. } = sandbox.login(ALICE, &iphone("iPhone")) else {
        panic!("a new device must wait for authorization");
    };
    let device = device.to_string();
    assert_eq!(device.len(), 32);

    let table = sandbox
        .run(&["device", "list", PLATFORM, ALICE])
        .expect(OK)
        .stdout;
    let header = table.lines().next().unwrap();
    for column in [
        "DEVICE",
        "STATE",
        "PROTOCOL",
        "TYPE",
        "USER AGENT",
        "ADDRESS",
        "FIRST SEEN",
        "LAST SEEN",
    ] {
        assert!(header.contains(column), "{table}");
    }
    let line = row(&table, &device[..12]);
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        &cells[..6],
        &[
            &device[..12],
            "INACTIVE",
            "activesync",
            "iPhone",
            "Apple-iPhone14C2/2101.103",
            "203.0.113.7"
        ],
        "{table}"
    );
    assert!(line.contains("2027-01-15 08:00"), "{table}");

    let listed = sandbox.json(&["device", "list", PLATFORM, ALICE]);
    assert_eq!(listed["account"], ALICE);
    let devices = listed["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "{listed}");
    let token = &devices[0];
    assert_eq!(token["id"], device.as_str());
    assert_eq!(token["state"], "inactive");
    assert_eq!(token["protocol"], "activesync");
    assert_eq!(token["device_id"], "ApplF17XK0LQHG7F");
    assert_eq!(token["device_type"], "iPhone");
    assert_eq!(token["remote_addr"], "203.0.113.7");
    assert_eq!(token["first_seen"], NOW);
    assert_eq!(token["last_seen"], NOW);

    // Devices are named by their id or an unambiguous prefix.
    let unknown = if device.starts_with("0000") {
        "ffff"
    } else {
        "0000"
    };
    let missing = sandbox
        .run(&["device", "activate", PLATFORM, ALICE, unknown])
        .expect(NOT_FOUND);
    assert!(
        missing
            .error_line()
            .contains(&format!("no device {unknown}")),
        "{}",
        missing.stderr
    );
    for bad in ["xyz", "abc", "zzzzzzzz"] {
        let run = sandbox
            .run(&["device", "activate", PLATFORM, ALICE, bad])
            .expect(USAGE);
        assert!(run.error_line().contains("32 hex digits"), "{}", run.stderr);
    }
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"][0]["state"],
        "inactive"
    );

    // Activated by a 6-digit prefix: the phone gets in with the password.
    let activated = sandbox
        .run(&["device", "activate", PLATFORM, ALICE, &device[..6]])
        .expect(OK);
    assert_eq!(
        activated.stdout,
        format!("Device {device} of alice@example.com on example.com activated.\n")
    );
    let table = sandbox
        .run(&["device", "list", PLATFORM, ALICE])
        .expect(OK)
        .stdout;
    assert!(row(&table, &device[..12]).contains(" ACTIVE "), "{table}");
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"][0]["state"],
        "active"
    );
    let decision = sandbox.login(ALICE, &iphone("iPhone"));
    assert!(
        matches!(
            decision,
            Decision::Allow {
                reason: AllowReason::DeviceAuthorized { .. },
                ..
            }
        ),
        "{decision:?}"
    );

    // Deactivated by its full id (in capitals): blocked again.
    let deactivated = sandbox.json(&[
        "device",
        "deactivate",
        PLATFORM,
        ALICE,
        &device.to_ascii_uppercase(),
    ]);
    assert_eq!(deactivated["device"], device.as_str());
    assert_eq!(deactivated["deactivated"], true);
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"][0]["state"],
        "inactive"
    );
    assert!(!sandbox.login(ALICE, &iphone("iPhone")).is_allowed());

    // Deleting asks first; without a terminal and without --yes, nothing
    // changes.
    let unconfirmed = sandbox
        .run(&["device", "delete", PLATFORM, ALICE, &device[..6]])
        .expect(REFUSED);
    let line = unconfirmed.error_line();
    assert!(
        line.contains(&format!("Delete device {device}")) && line.contains("add --yes"),
        "{line}"
    );
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let deleted = sandbox
        .run(&["device", "delete", PLATFORM, ALICE, &device[..6], "--yes"])
        .expect(OK);
    assert_eq!(
        deleted.stdout,
        format!("Device {device} of alice@example.com on example.com deleted.\n")
    );
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"],
        serde_json::json!([])
    );
    sandbox
        .run(&["device", "activate", PLATFORM, ALICE, &device[..6]])
        .expect(NOT_FOUND);
}

#[test]
fn device_commands_need_an_account_with_2fa() {
    let sandbox = Sandbox::with_platform("devices-no-account");
    let run = sandbox
        .run(&["device", "list", PLATFORM, "nobody"])
        .expect(NOT_FOUND);
    assert_eq!(
        run.error_line(),
        "mail2fa: nobody on example.com: two-factor authentication is not enabled for this account."
    );
    sandbox
        .run(&["device", "activate", PLATFORM, "nobody", "abcdef"])
        .expect(NOT_FOUND);
}

/// The library refuses control characters from clients; should one reach
/// the database all the same (another writer, an older version), the
/// table shows it escaped and the terminal receives no escape sequence.
#[test]
fn hostile_device_fields_are_escaped_in_tables() {
    const HOSTILE: &str = "\x1b[2Jevil";
    const STAND_IN: &str = "XXXXevil"; // as long as HOSTILE
    assert_eq!(HOSTILE.len(), STAND_IN.len());

    let sandbox = Sandbox::with_platform("hostile");
    sandbox.enroll(ALICE);
    let id = AccountId::new(PLATFORM, ALICE).unwrap();
    let error = sandbox
        .engine()
        .authenticate(&id, &iphone(HOSTILE), NOW)
        .unwrap_err();
    assert!(
        matches!(error, mail2fa::Error::InvalidInput(_)),
        "{error:?}"
    );

    // Log in with a stand-in, then rewrite the stored record so that the
    // device type carries the escape sequence (same length: the record's
    // length fields stay right; its check is recomputed).
    assert!(matches!(
        sandbox.login(ALICE, &iphone(STAND_IN)),
        Decision::DevicePending { .. }
    ));
    let db = rusqlite::Connection::open(sandbox.db()).unwrap();
    let (key, bytes): (Vec<u8>, Vec<u8>) = db
        .query_row(
            "SELECT key, bytes FROM m2fa_records WHERE instr(bytes, ?1) > 0",
            [STAND_IN.as_bytes()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let kind = bytes[5];
    let payload = mail2fa::record::decode(&bytes, kind).unwrap();
    let at = payload
        .windows(STAND_IN.len())
        .position(|w| w == STAND_IN.as_bytes())
        .unwrap();
    let mut patched = payload.to_vec();
    patched[at..at + HOSTILE.len()].copy_from_slice(HOSTILE.as_bytes());
    let rewritten = mail2fa::record::encode(kind, &patched);
    db.execute(
        "UPDATE m2fa_records SET bytes = ?1 WHERE key = ?2",
        (rewritten.as_slice(), key.as_slice()),
    )
    .unwrap();
    drop(db);

    // JSON carries the exact text, escaped the JSON way.
    let listed = sandbox.run(&["device", "list", PLATFORM, ALICE, "--json"]);
    let listed = listed.expect(OK);
    assert!(!listed.stdout.contains('\x1b'), "{:?}", listed.stdout);
    assert_eq!(listed.json()["devices"][0]["device_type"], HOSTILE);

    // The table shows it escaped, even with colours on.
    for color in ["never", "always"] {
        let table = sandbox
            .run(&["device", "list", PLATFORM, ALICE, "--color", color])
            .expect(OK)
            .stdout;
        assert!(table.contains(r"\u{1b}[2Jevil"), "{table:?}");
        assert!(!table.contains("\x1b[2J"), "{table:?}");
    }
}

// ------------------------------------------------------ application passwords

#[test]
fn an_application_password_works_until_revoked() {
    let sandbox = Sandbox::with_platform("app-passwords");
    sandbox.enroll(ALICE);
    let none = sandbox
        .run(&["app-password", "list", PLATFORM, ALICE])
        .expect(OK);
    assert_eq!(
        none.stdout,
        "alice@example.com on example.com has no application passwords.\n"
    );

    let created = sandbox.json(&[
        "app-password",
        "create",
        PLATFORM,
        ALICE,
        "--name",
        "iPhone mail",
        "--protocol",
        "imap",
    ]);
    assert_eq!(created["id"], 1);
    assert_eq!(created["name"], "iPhone mail");
    assert_eq!(created["scope"], serde_json::json!(["imap"]));
    assert_eq!(created["created"], NOW);
    let password = created["password"].as_str().unwrap().to_owned();
    let groups: Vec<&str> = password.split('-').collect();
    assert_eq!(groups.len(), 4, "{password}");
    assert!(
        groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_alphanumeric())),
        "{password}"
    );

    // Human creation shows the password once, with where it works.
    let second = sandbox
        .run(&[
            "app-password",
            "create",
            PLATFORM,
            ALICE,
            "--name",
            "laptop",
        ])
        .expect(OK)
        .stdout;
    assert!(
        second.starts_with(
            "Application password laptop (id 2) for alice@example.com on example.com, shown once:"
        ),
        "{second}"
    );
    assert!(second.contains("on any."), "{second}");
    let duplicate = sandbox
        .run(&[
            "app-password",
            "create",
            PLATFORM,
            ALICE,
            "--name",
            "laptop",
        ])
        .expect(REFUSED);
    assert!(
        duplicate
            .error_line()
            .contains("an application password named \"laptop\" exists"),
        "{}",
        duplicate.stderr
    );

    let table = sandbox
        .run(&["app-password", "list", PLATFORM, ALICE])
        .expect(OK)
        .stdout;
    assert!(table.starts_with("ID  NAME"), "{table}");
    let line = row(&table, "1");
    assert!(
        line.contains("iPhone mail") && line.contains(" imap ") && line.ends_with('-'),
        "{table}"
    );
    assert!(!table.contains(&password), "{table}");
    let listed = sandbox.json(&["app-password", "list", PLATFORM, ALICE]);
    let apps = &listed["app_passwords"];
    assert_eq!(apps.as_array().unwrap().len(), 2, "{listed}");
    let phone = find(apps, "name", "iPhone mail");
    assert_eq!(phone["id"], 1);
    assert_eq!(phone["scope"], serde_json::json!(["imap"]));
    assert_eq!(phone["last_used"], Value::Null);
    assert!(!listed.to_string().contains(&password));

    // The mail server takes it on IMAP, and notes its use.
    let decision = sandbox.login(ALICE, &imap_with(&password));
    assert!(
        matches!(
            decision,
            Decision::Allow {
                reason: AllowReason::AppPassword { id: 1 },
                ..
            }
        ),
        "{decision:?}"
    );
    let listed = sandbox.json(&["app-password", "list", PLATFORM, ALICE]);
    assert_eq!(find(&listed["app_passwords"], "id", 1)["last_used"], NOW);

    // Revocation asks first, refuses unknown ids, then takes effect at once.
    sandbox
        .run(&["app-password", "revoke", PLATFORM, ALICE, "1"])
        .expect(REFUSED);
    assert!(sandbox.login(ALICE, &imap_with(&password)).is_allowed());
    let unknown = sandbox
        .run(&["app-password", "revoke", PLATFORM, ALICE, "9", "--yes"])
        .expect(NOT_FOUND);
    assert_eq!(
        unknown.error_line(),
        "mail2fa: alice@example.com on example.com: no application password 9."
    );
    sandbox
        .run(&["app-password", "revoke", PLATFORM, ALICE, "one"])
        .expect(USAGE);
    let revoked = sandbox
        .run(&["app-password", "revoke", PLATFORM, ALICE, "1", "--yes"])
        .expect(OK);
    assert_eq!(
        revoked.stdout,
        "Application password 1 of alice@example.com on example.com revoked.\n"
    );
    assert!(!sandbox.login(ALICE, &imap_with(&password)).is_allowed());
    let listed = sandbox.json(&["app-password", "list", PLATFORM, ALICE]);
    let apps = listed["app_passwords"].as_array().unwrap();
    assert_eq!(apps.len(), 1, "{listed}");
    assert_eq!(apps[0]["name"], "laptop");
}

// ------------------------------------------------------- account management

#[test]
fn an_account_is_suspended_unlocked_reset_and_removed() {
    let sandbox = Sandbox::with_platform("account-admin");
    let old_uri = sandbox.enroll(ALICE);
    let totp = authenticator(&old_uri);
    assert_eq!(sandbox.show(ALICE)["enrollment"], "confirmed");

    // A lockout after wrong codes, lifted by `unlock`.
    let id = AccountId::new(PLATFORM, ALICE).unwrap();
    let wrong = wrong_code(&totp);
    {
        let engine = sandbox.engine();
        for _ in 0..5 {
            assert!(!engine.login(&id, Some(&wrong), NOW).unwrap().is_allowed());
        }
    }
    let locked = sandbox.show(ALICE);
    assert!(locked["locked_until"].as_u64().unwrap() > NOW, "{locked}");
    let unlocked = sandbox
        .run(&["account", "unlock", PLATFORM, ALICE])
        .expect(OK);
    assert_eq!(
        unlocked.stdout,
        "alice@example.com on example.com unlocked.\n"
    );
    let shown = sandbox.show(ALICE);
    assert_eq!(shown["locked_until"], Value::Null);
    assert_eq!(shown["failures"], 0);

    // Suspension for two hours.
    let suspended = sandbox.json(&["account", "suspend", PLATFORM, ALICE, "--hours", "2"]);
    assert_eq!(suspended["suspended_until"], NOW + 7200);
    assert_eq!(sandbox.show(ALICE)["suspended_until"], NOW + 7200);
    let text = sandbox
        .run(&["account", "suspend", PLATFORM, ALICE, "--hours", "1"])
        .expect(OK)
        .stdout;
    assert_eq!(
        text,
        "2FA of alice@example.com on example.com suspended until \
         2027-01-15 09:00:00 UTC; it re-arms by itself.\n"
    );
    for hours in ["721", "two", "-1"] {
        sandbox
            .run(&["account", "suspend", PLATFORM, ALICE, "--hours", hours])
            .expect(USAGE);
    }
    // Zero hours ends the suspension at once.
    let ended = sandbox.json(&["account", "suspend", PLATFORM, ALICE, "--hours", "0"]);
    assert_eq!(ended["suspended_until"], Value::Null);
    assert_eq!(sandbox.show(ALICE)["suspended_until"], Value::Null);
    // Suspended again for what follows.
    sandbox.json(&["account", "suspend", PLATFORM, ALICE, "--hours", "1"]);

    // E-mail codes need an address first.
    let no_contact = sandbox
        .run(&["account", "mode", PLATFORM, ALICE, "email"])
        .expect(REFUSED);
    assert!(
        no_contact.error_line().contains("no destination for codes"),
        "{}",
        no_contact.stderr
    );
    assert_eq!(sandbox.show(ALICE)["mode"], "totp");
    sandbox
        .run(&["account", "contact", PLATFORM, ALICE])
        .expect(USAGE);
    let contact = sandbox.json(&[
        "account",
        "contact",
        PLATFORM,
        ALICE,
        "--email",
        "x@example.net",
    ]);
    assert_eq!(contact["email"], "x@example.net");
    assert_eq!(contact["phone"], Value::Null);
    let mode = sandbox
        .run(&["account", "mode", PLATFORM, ALICE, "email"])
        .expect(OK);
    assert_eq!(
        mode.stdout,
        "alice@example.com on example.com now proves the second factor by code by e-mail.\n"
    );
    let shown = sandbox.show(ALICE);
    assert_eq!(shown["mode"], "email");
    assert_eq!(shown["email"], "x@example.net");
    // Nothing to confirm for e-mail codes, and the tool says why.
    let confirm = sandbox
        .run(&["account", "confirm", PLATFORM, ALICE, "123456"])
        .expect(REFUSED);
    assert!(
        confirm
            .error_line()
            .contains("there is no app enrollment to confirm"),
        "{}",
        confirm.stderr
    );
    assert_eq!(
        sandbox.json(&["account", "mode", PLATFORM, ALICE, "totp"])["mode"],
        "totp"
    );

    // Recovery codes: shown once; replacing them asks first.
    let codes = sandbox.json(&["account", "recovery-codes", PLATFORM, ALICE, "--count", "5"]);
    let codes: Vec<&str> = codes["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 5);
    let mut unique = codes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 5, "{codes:?}");
    assert_eq!(sandbox.show(ALICE)["recovery_codes"], 5);
    let replace = sandbox
        .run(&["account", "recovery-codes", PLATFORM, ALICE, "--count", "5"])
        .expect(REFUSED);
    assert!(
        replace
            .error_line()
            .contains("Replace the 5 unused recovery codes"),
        "{}",
        replace.stderr
    );
    assert_eq!(replace.stdout, "");
    assert_eq!(sandbox.show(ALICE)["recovery_codes"], 5);
    let replaced = sandbox
        .run(&[
            "account",
            "recovery-codes",
            PLATFORM,
            ALICE,
            "--count",
            "3",
            "--yes",
        ])
        .expect(OK)
        .stdout;
    assert!(
        replaced.starts_with("New recovery codes for alice@example.com on example.com"),
        "{replaced}"
    );
    assert_eq!(
        replaced.lines().filter(|l| l.starts_with("    ")).count(),
        3,
        "{replaced}"
    );
    assert_eq!(sandbox.show(ALICE)["recovery_codes"], 3);
    sandbox
        .run(&[
            "account",
            "recovery-codes",
            PLATFORM,
            ALICE,
            "--count",
            "33",
        ])
        .expect(USAGE);

    // Reset: asks first, then a new secret, pending again.
    sandbox
        .run(&["account", "reset", PLATFORM, ALICE])
        .expect(REFUSED);
    assert_eq!(sandbox.show(ALICE)["enrollment"], "confirmed");
    let reset = sandbox
        .run(&["account", "reset", PLATFORM, ALICE, "--yes", "--no-qr"])
        .expect(OK)
        .stdout;
    assert!(
        reset.starts_with("2FA of alice@example.com on example.com reset: a new secret"),
        "{reset}"
    );
    assert!(!reset.contains('█'), "--no-qr: {reset}");
    let new_uri = reset.lines().find(|l| l.starts_with("otpauth://")).unwrap();
    assert_ne!(new_uri, old_uri);
    assert_ne!(
        KeyUri::parse(new_uri).unwrap().secret(),
        KeyUri::parse(&old_uri).unwrap().secret()
    );
    let again = sandbox.json(&["account", "reset", PLATFORM, ALICE, "--yes"]);
    assert_ne!(again["uri"], new_uri);
    assert_eq!(sandbox.show(ALICE)["enrollment"], "pending");

    // Remove: asks first; afterwards the account has no 2FA.
    sandbox
        .run(&["account", "remove", PLATFORM, ALICE])
        .expect(REFUSED);
    sandbox.show(ALICE);
    let removed = sandbox.json(&["account", "remove", PLATFORM, ALICE, "--yes"]);
    assert_eq!(removed["removed"], true);
    let gone = sandbox
        .run(&["account", "show", PLATFORM, ALICE])
        .expect(NOT_FOUND);
    assert!(gone.error_line().contains("not enabled"), "{}", gone.stderr);
    sandbox
        .run(&["account", "remove", PLATFORM, ALICE, "--yes"])
        .expect(NOT_FOUND);
    sandbox
        .run(&["account", "reset", PLATFORM, ALICE, "--yes"])
        .expect(NOT_FOUND);
}

#[test]
fn an_account_policy_overrides_the_platform() {
    let sandbox = Sandbox::with_platform("account-policy");
    sandbox.enroll(ALICE);
    let set = sandbox.json(&["account", "policy", PLATFORM, ALICE, "pop3", "refused"]);
    assert_eq!(set["protocol"], "pop3");
    assert_eq!(set["policy"], "refused");
    let shown = sandbox.show(ALICE);
    let pop3 = find(&shown["policies"], "protocol", "pop3");
    assert_eq!(pop3["policy"], "refused");
    assert_eq!(pop3["set_by"], "account");
    let text = sandbox
        .run(&["account", "show", PLATFORM, ALICE])
        .expect(OK)
        .stdout;
    let line: Vec<&str> = row(&text, "pop3").split_whitespace().collect();
    assert_eq!(line, ["pop3", "refused", "account"], "{text}");

    let back = sandbox
        .run(&["account", "policy", PLATFORM, ALICE, "pop3", "default"])
        .expect(OK);
    assert_eq!(
        back.stdout,
        "pop3 for alice@example.com on example.com: app-password-only (from the platform).\n"
    );
    assert_eq!(
        find(&sandbox.show(ALICE)["policies"], "protocol", "pop3")["set_by"],
        "default"
    );
}

// ---------------------------------------------------------------- platform

#[test]
fn platform_policies_and_switching_2fa_off() {
    let sandbox = Sandbox::with_platform("platform");
    let shown = sandbox.json(&["platform", "show", PLATFORM]);
    assert_eq!(shown["platform"], PLATFORM);
    assert_eq!(shown["enabled"], true);
    let policies = shown["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 8, "{shown}");
    assert!(policies.iter().all(|p| p["set_by"] == "default"), "{shown}");
    let imap = find(&shown["policies"], "protocol", "imap");
    assert_eq!(imap["policy"], "app-password-only");
    assert_eq!(shown["configured"], true);
    // A platform never configured (a typo, say) is said to be so.
    let typo = sandbox.json(&["platform", "show", "exmaple.com"]);
    assert_eq!(
        (&typo["enabled"], &typo["configured"]),
        (&false.into(), &false.into())
    );
    let text = sandbox
        .run(&["platform", "show", "exmaple.com"])
        .expect(OK)
        .stdout;
    assert!(
        text.starts_with("Platform exmaple.com: 2FA off (never configured)\n"),
        "{text}"
    );

    let set = sandbox
        .run(&["platform", "policy", PLATFORM, "imap", "code-in-login"])
        .expect(OK);
    assert_eq!(set.stdout, "imap on example.com: code-in-login.\n");
    let shown = sandbox.json(&["platform", "show", PLATFORM]);
    let imap = find(&shown["policies"], "protocol", "imap");
    assert_eq!(imap["policy"], "code-in-login");
    assert_eq!(imap["set_by"], "platform");
    let text = sandbox
        .run(&["platform", "show", PLATFORM])
        .expect(OK)
        .stdout;
    assert!(text.starts_with("Platform example.com: 2FA on\n"), "{text}");
    let line: Vec<&str> = row(&text, "imap").split_whitespace().collect();
    assert_eq!(line, ["imap", "code-in-login", "platform"], "{text}");

    // A protocol the servers name themselves joins the list.
    sandbox
        .run(&["platform", "policy", PLATFORM, "managesieve", "refused"])
        .expect(OK);
    let sieve = sandbox.json(&["platform", "show", PLATFORM]);
    let sieve = find(&sieve["policies"], "protocol", "managesieve");
    assert_eq!(sieve["policy"], "refused");
    assert_eq!(sieve["set_by"], "platform");

    // The portal, where 2FA is managed, only takes a code (or nothing).
    let portal = sandbox
        .run(&[
            "platform",
            "policy",
            PLATFORM,
            "portal",
            "device-authorization",
        ])
        .expect(USAGE);
    assert!(
        portal
            .error_line()
            .contains("the portal takes only code-in-login or refused"),
        "{}",
        portal.stderr
    );
    let portal = sandbox.json(&["platform", "show", PLATFORM]);
    assert_eq!(
        find(&portal["policies"], "protocol", "portal")["policy"],
        "code-in-login"
    );
    for (protocol, policy) in [("imap", "sometimes"), ("bad name", "refused")] {
        sandbox
            .run(&["platform", "policy", PLATFORM, protocol, policy])
            .expect(USAGE);
    }

    // Back to the default.
    let default = sandbox
        .run(&["platform", "policy", PLATFORM, "imap", "default"])
        .expect(OK);
    assert_eq!(
        default.stdout,
        "imap on example.com: app-password-only (the default).\n"
    );

    // Turning 2FA off asks first.
    let enabled = sandbox.json(&["account", "enable", PLATFORM, ALICE]);
    let off = sandbox
        .run(&["platform", "disable", PLATFORM])
        .expect(REFUSED);
    assert!(
        off.error_line().contains("Turn 2FA off for example.com?")
            && off.stderr.contains("nothing was changed"),
        "{}",
        off.stderr
    );
    assert_eq!(
        sandbox.json(&["platform", "show", PLATFORM])["enabled"],
        true
    );
    let off = sandbox.json(&["platform", "disable", PLATFORM, "--yes"]);
    assert_eq!(off["enabled"], false);
    assert_eq!(
        sandbox.json(&["platform", "show", PLATFORM])["enabled"],
        false
    );
    let text = sandbox
        .run(&["platform", "show", PLATFORM])
        .expect(OK)
        .stdout;
    assert!(
        text.starts_with("Platform example.com: 2FA off\n"),
        "{text}"
    );

    // With 2FA off, an enrollment cannot be started or confirmed.
    let refused = sandbox
        .run(&["account", "enable", PLATFORM, "bob"])
        .expect(REFUSED);
    assert!(
        refused
            .error_line()
            .contains("not enabled for this platform"),
        "{}",
        refused.stderr
    );
    let code = authenticator(enabled["uri"].as_str().unwrap())
        .generate(NOW)
        .unwrap();
    let refused = sandbox
        .run(&["account", "confirm", PLATFORM, ALICE, code.as_str()])
        .expect(REFUSED);
    assert!(
        refused
            .error_line()
            .contains("not enabled for this platform"),
        "{}",
        refused.stderr
    );
}

// -------------------------------------------------------------- bad input

#[test]
fn unknown_accounts_and_bad_names() {
    let sandbox = Sandbox::with_platform("bad-names");
    for command in [
        &["account", "show"][..],
        &["account", "unlock"],
        &["account", "recovery-codes"],
        &["app-password", "list"],
        &["device", "list"],
    ] {
        let mut args = command.to_vec();
        args.extend([PLATFORM, "never@example.com"]);
        let run = sandbox.run(&args).expect(NOT_FOUND);
        assert!(
            run.error_line()
                .starts_with("mail2fa: never@example.com on example.com: "),
            "{}",
            run.stderr
        );
    }
    for (platform, account) in [
        (PLATFORM, "a:b"),
        ("example.com:1", ALICE),
        (PLATFORM, " alice"),
        (PLATFORM, ""),
    ] {
        let run = sandbox
            .run(&["account", "enable", platform, account])
            .expect(USAGE);
        run.error_line();
    }
    let run = sandbox
        .run(&["account", "confirm", PLATFORM, "a:b", "123456"])
        .expect(USAGE);
    assert_eq!(
        run.error_line(),
        "mail2fa: \"a:b\" on \"example.com\" is refused: invalid account name: character at \
         byte 1 is not allowed (an account name has a-z, 0-9, '.', '-', '_', '+' and one '@'; a \
         domain or platform a-z, 0-9, '-' and '.')."
    );
    let run = sandbox.run(&["account", "frobnicate"]).expect(USAGE);
    assert!(
        run.stderr.contains("unrecognized subcommand"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_database_is_never_created_by_mistake() {
    let sandbox = Sandbox::new("missing-db");
    let missing = sandbox.path("typo.db");
    for args in [
        &["account", "show", PLATFORM, ALICE][..],
        &["account", "enable", PLATFORM, ALICE],
        &["platform", "show", PLATFORM],
        &["device", "list", PLATFORM, ALICE],
        &["db", "check"],
        &["db", "purge"],
    ] {
        let run = sandbox.run_on(&missing, args).expect(DATABASE);
        assert!(
            run.error_line().contains("does not exist") && run.stderr.contains("platform enable"),
            "{}",
            run.stderr
        );
        assert!(!missing.exists(), "{args:?} created the database");
    }
    // MAIL2FA_DB names the database too.
    let mut command = sandbox.command();
    command
        .env("MAIL2FA_DB", &missing)
        .args(["--now", &NOW.to_string(), "db", "check"]);
    finish(command).expect(DATABASE);
    assert!(!missing.exists());

    // `platform enable` creates it (0600), through MAIL2FA_DB as well.
    let mut command = sandbox.command();
    command.env("MAIL2FA_DB", &missing).args([
        "--now",
        &NOW.to_string(),
        "platform",
        "enable",
        PLATFORM,
    ]);
    finish(command).expect(OK);
    let mode = std::fs::metadata(&missing).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    assert_eq!(
        sandbox
            .run_on(&missing, &["platform", "show", PLATFORM, "--json"])
            .expect(OK)
            .json()["enabled"],
        true
    );

    // An empty file is not taken for a database (nor turned into one).
    let empty = sandbox.path("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let run = sandbox
        .run_on(&empty, &["account", "show", PLATFORM, ALICE])
        .expect(DATABASE);
    assert!(
        run.error_line().contains("is an empty file"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
}

#[test]
fn a_corrupt_database_is_a_database_error() {
    let sandbox = Sandbox::new("corrupt-db");
    let garbage = sandbox.path("garbage.db");
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&garbage, &bytes).unwrap();
    for args in [
        &["account", "show", PLATFORM, ALICE][..],
        &["platform", "enable", PLATFORM],
        &["db", "check"],
        &["db", "check", "--json"],
    ] {
        let run = sandbox.run_on(&garbage, args).expect(DATABASE);
        let line = run.error_line();
        assert!(
            line.starts_with("mail2fa: cannot use the database ") && line.contains("garbage.db"),
            "{line}"
        );
        assert_eq!(run.stdout, "", "{args:?}");
    }
    assert_eq!(std::fs::read(&garbage).unwrap(), bytes, "the file changed");
}

#[test]
fn encryption_keys_are_required_to_read_encrypted_accounts() {
    let sandbox = Sandbox::new("keys");
    let good = sandbox.key_file("a.keys", &format!("1:{}", "0f".repeat(32)), 0o600);
    let wrong = sandbox.key_file("b.keys", &format!("1:{}", "a5".repeat(32)), 0o600);
    let open = sandbox.key_file("c.keys", &format!("1:{}", "0f".repeat(32)), 0o644);
    let (good, wrong, open) = (
        good.to_str().unwrap(),
        wrong.to_str().unwrap(),
        open.to_str().unwrap(),
    );

    sandbox
        .run(&["platform", "enable", PLATFORM, "--key-file", good])
        .expect(OK);
    let enabled = sandbox.json(&["account", "enable", PLATFORM, ALICE, "--key-file", good]);
    let code = authenticator(enabled["uri"].as_str().unwrap())
        .generate(NOW)
        .unwrap();
    sandbox
        .run(&[
            "account",
            "confirm",
            PLATFORM,
            ALICE,
            code.as_str(),
            "--key-file",
            good,
        ])
        .expect(OK);
    assert_eq!(
        sandbox.json(&["account", "show", PLATFORM, ALICE, "--key-file", good])["enrollment"],
        "confirmed"
    );

    // Another key, or none: the record does not open.
    let run = sandbox
        .run(&["account", "show", PLATFORM, ALICE, "--key-file", wrong])
        .expect(KEY);
    assert!(run.error_line().contains("wrong key"), "{}", run.stderr);
    let run = sandbox
        .run(&["account", "show", PLATFORM, ALICE])
        .expect(KEY);
    assert!(
        run.error_line().contains("no key is configured"),
        "{}",
        run.stderr
    );
    // MAIL2FA_KEY_FILE is read like --key-file.
    for (key_file, status) in [(&wrong, KEY), (&good, OK)] {
        let mut command = sandbox.command();
        command
            .env("MAIL2FA_KEY_FILE", key_file)
            .arg("--db")
            .arg(sandbox.db())
            .args([
                "--now",
                &NOW.to_string(),
                "account",
                "show",
                PLATFORM,
                ALICE,
            ]);
        finish(command).expect(status);
    }

    // A key file others can read is refused before anything is read.
    let run = sandbox
        .run(&["account", "show", PLATFORM, ALICE, "--key-file", open])
        .expect(KEY);
    assert!(
        run.error_line().contains("group or others have access"),
        "{}",
        run.stderr
    );
    // As are missing and malformed key files.
    let absent = sandbox.path("absent.keys");
    sandbox
        .run(&[
            "account",
            "show",
            PLATFORM,
            ALICE,
            "--key-file",
            absent.to_str().unwrap(),
        ])
        .expect(KEY);
    for (name, line) in [
        ("short.keys", "1:abcd"),
        ("noid.keys", &"0f".repeat(32)),
        ("nonhex.keys", &format!("1:{}", "zz".repeat(32))),
        ("empty.keys", "# nothing here"),
    ] {
        let path = sandbox.key_file(name, line, 0o600);
        let run = sandbox
            .run(&[
                "account",
                "show",
                PLATFORM,
                ALICE,
                "--key-file",
                path.to_str().unwrap(),
            ])
            .expect(KEY);
        assert!(run.error_line().contains(name), "{}", run.stderr);
    }

    // `db check` names the problem, in text and JSON.
    let check = sandbox
        .run(&["db", "check", "--key-file", wrong, "--json"])
        .expect(KEY);
    let report = check.json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["unreadable"], 1);
    assert_eq!(report["integrity"], serde_json::json!(["ok"]));
    assert!(
        report["problems"][0]["record"]
            .as_str()
            .unwrap()
            .contains(ALICE),
        "{report}"
    );
    assert!(
        check.error_line().contains("cannot be opened"),
        "{}",
        check.stderr
    );
    let check = sandbox
        .run(&["db", "check", "--key-file", wrong])
        .expect(KEY);
    assert!(check.stdout.contains("Unreadable   1"), "{}", check.stdout);

    let report = sandbox.json(&["db", "check", "--key-file", good]);
    assert_eq!(report["ok"], true);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["unreadable"], 0);
    assert_eq!(report["accounts"], 1);
    assert_eq!(report["encrypted_accounts"], 1);
    assert_eq!(report["problems"], serde_json::json!([]));
}

#[test]
fn db_check_and_purge_on_a_sound_database() {
    let sandbox = Sandbox::with_platform("db-maintenance");
    sandbox.enroll(ALICE);
    let report = sandbox.json(&["db", "check"]);
    assert_eq!(report["ok"], true);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["integrity"], serde_json::json!(["ok"]));
    assert_eq!(report["platforms"], 1);
    assert_eq!(report["accounts"], 1);
    assert_eq!(report["encrypted_accounts"], 0);
    assert_eq!(report["path"], sandbox.db().to_str().unwrap());
    let text = sandbox.run(&["db", "check"]).expect(OK).stdout;
    assert!(text.contains("(schema 1, "), "{text}");
    assert!(text.contains("SQLite       ok"), "{text}");
    assert!(text.contains("Unreadable   none"), "{text}");

    let purged = sandbox.run(&["db", "purge"]).expect(OK).stdout;
    assert!(purged.starts_with("Purged: "), "{purged}");
    let purged = sandbox.json(&["db", "purge"]);
    assert!(purged["examined"].as_u64().unwrap() >= 2, "{purged}");
    assert!(purged["changed"].is_u64(), "{purged}");

    // A pending device a day and more old is purged.
    assert!(matches!(
        sandbox.login(ALICE, &iphone("iPhone")),
        Decision::DevicePending { .. }
    ));
    let mut command = sandbox.command();
    command
        .arg("--db")
        .arg(sandbox.db())
        .args(["--now", &(NOW + 400 * 86_400).to_string()])
        .args(["db", "purge", "--json"]);
    let later = finish(command).expect(OK).json();
    assert!(later["changed"].as_u64().unwrap() >= 1, "{later}");
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"],
        serde_json::json!([])
    );
}

// -------------------------------------------------------------------- help

#[test]
fn every_command_has_help() {
    let sandbox = Sandbox::new("help");
    let commands: &[(&[&str], &str)] = &[
        (&[], "Manage two-factor authentication for mail accounts"),
        (&["platform"], "Turn 2FA on or off for a platform"),
        (&["platform", "enable"], "Turn 2FA on"),
        (&["platform", "disable"], "Turn 2FA off"),
        (&["platform", "show"], "Show whether 2FA is on"),
        (&["platform", "policy"], "Set what 2FA asks of clients"),
        (&["account"], "Enroll, inspect, suspend, reset or remove"),
        (&["account", "enable"], "Enable 2FA"),
        (&["account", "confirm"], "Confirm an enrollment"),
        (&["account", "show"], "Show the account's 2FA state"),
        (
            &["account", "suspend"],
            "without a second factor for a while",
        ),
        (&["account", "reset"], "New secret"),
        (&["account", "remove"], "Remove 2FA"),
        (&["account", "unlock"], "Lift a lockout"),
        (
            &["account", "mode"],
            "how the account proves the second factor",
        ),
        (&["account", "contact"], "where e-mail and SMS codes go"),
        (&["account", "recovery-codes"], "Replace the recovery codes"),
        (&["account", "policy"], "overrides the platform"),
        (&["device"], "List and authorize the devices"),
        (&["device", "list"], "List the mailbox's device tokens"),
        (&["device", "activate"], "Authorize a device"),
        (&["device", "deactivate"], "Block a device again"),
        (&["device", "delete"], "Forget a device"),
        (&["app-password"], "application passwords"),
        (
            &["app-password", "create"],
            "Create an application password",
        ),
        (&["app-password", "list"], "List application passwords"),
        (
            &["app-password", "revoke"],
            "Revoke an application password",
        ),
        (&["db"], "Purge expired state; check the database"),
        (&["db", "purge"], "Remove expired codes"),
        (&["db", "check"], "Check the database file"),
        (
            &["db", "copy"],
            "Copy every record into another, empty database",
        ),
    ];
    for (path, purpose) in commands {
        let mut command = sandbox.command();
        command.args(*path).arg("--help");
        let run = finish(command).expect(OK);
        // Help text is wrapped: compare with white space folded.
        let text = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains(purpose),
            "`mail2fa {} --help` does not say {purpose:?}:\n{}",
            path.join(" "),
            run.stdout
        );
        assert!(text.contains("Usage: mail2fa"), "{}", run.stdout);
        assert_eq!(run.stderr, "", "{path:?}");
    }
    // The top level lists the exit statuses; the clock option stays hidden.
    let mut command = sandbox.command();
    command.arg("--help");
    let top = finish(command).expect(OK).stdout;
    for status in [
        "0  done",
        "3  not found",
        "4  database",
        "5  encryption key",
    ] {
        assert!(top.contains(status), "{top}");
    }
    assert!(!top.contains("--now"), "{top}");
    // No command at all: usage on stderr, status 2.
    finish(sandbox.command()).expect(USAGE);
}

/// Issue 14, point 6: clap shows the values of environment variables in
/// `--help`; MAIL2FA_DB may be a URL with the database password.
#[test]
fn help_never_shows_the_database_url_from_the_environment() {
    let sandbox = Sandbox::new("help-env");
    let url = "postgres://m2fa:Hx7Secret9@db.example/mail2fa";
    for path in [&[][..], &["account", "show"][..], &["db", "check"][..]] {
        let mut command = sandbox.command();
        command.env("MAIL2FA_DB", url).args(path).arg("--help");
        let run = finish(command).expect(OK);
        assert!(run.stdout.contains("MAIL2FA_DB"), "{}", run.stdout);
        assert!(
            !run.stdout.contains("Hx7Secret9"),
            "{path:?}: {}",
            run.stdout
        );
        assert!(
            !run.stdout.contains("db.example"),
            "{path:?}: {}",
            run.stdout
        );
        assert!(!run.stderr.contains("Hx7Secret9"), "{}", run.stderr);
    }
}

/// Issue 14, point 6: a password holding `/`, `?`, `@` or `#` (as such or
/// percent-encoded) is hidden in every message, whether the URL came by
/// `--db` or by MAIL2FA_DB. Port 1 of 127.0.0.1 refuses at once.
#[test]
fn database_errors_hide_passwords_with_url_delimiters() {
    let sandbox = Sandbox::new("redact");
    for separator in ["/", "?", "@", "#", ":", "%2F", "%3F", "%40", "%23", "&"] {
        let (head, tail) = ("Qw8head", "Zt4tail");
        let url = format!("postgres://m2fa:{head}{separator}{tail}@127.0.0.1:1/mail2fa");
        let by_option = sandbox.run_on(Path::new(&url), &["account", "show", PLATFORM, ALICE]);
        let mut command = sandbox.command();
        command.env("MAIL2FA_DB", &url).args([
            "--now",
            &NOW.to_string(),
            "account",
            "show",
            PLATFORM,
            ALICE,
        ]);
        let by_env = finish(command);
        for run in [by_option, by_env] {
            let run = run.expect(DATABASE);
            let line = run.error_line();
            assert!(line.contains("postgres://m2fa:***@"), "{separator}: {line}");
            for part in [head, tail] {
                assert!(!run.stderr.contains(part), "{separator}: {}", run.stderr);
                assert!(!run.stdout.contains(part), "{separator}: {}", run.stdout);
            }
        }
    }
}

// ------------------------------------------------------------------ colours

#[test]
fn colours_only_when_asked_for_or_on_a_terminal() {
    let sandbox = Sandbox::with_platform("colours");
    sandbox.enroll(ALICE);
    assert!(matches!(
        sandbox.login(ALICE, &iphone("iPhone")),
        Decision::DevicePending { .. }
    ));
    let list = ["device", "list", PLATFORM, ALICE];

    let always = sandbox
        .run(&[&list[..], &["--color", "always"]].concat())
        .expect(OK)
        .stdout;
    assert!(always.contains("\x1b["), "{always:?}");
    assert!(always.contains("\x1b[33mINACTIVE"), "{always:?}");

    // NO_COLOR (set by `command`), `never`, and `auto` when stdout is not a
    // terminal: plain text.
    let plain = sandbox.run(&list).expect(OK).stdout;
    assert!(!plain.contains('\x1b'), "{plain:?}");
    let never = sandbox
        .run(&[&list[..], &["--color", "never"]].concat())
        .expect(OK)
        .stdout;
    assert_eq!(never, plain);
    let mut command = sandbox.command();
    command
        .env_remove("NO_COLOR")
        .arg("--db")
        .arg(sandbox.db())
        .args(["--now", &NOW.to_string()])
        .args(list);
    let auto = finish(command).expect(OK).stdout;
    assert_eq!(auto, plain);

    // Colours never leak into JSON.
    let json = sandbox
        .run(&[&list[..], &["--color", "always", "--json"]].concat())
        .expect(OK);
    assert!(!json.stdout.contains('\x1b'), "{:?}", json.stdout);
    json.json();
    sandbox
        .run(&[&list[..], &["--color", "sometimes"]].concat())
        .expect(USAGE);
}

// ------------------------------------------------------------- PostgreSQL

mod support;

/// A fresh PostgreSQL schema for the tool, or `None` (skipped) without a
/// server; `MAIL2FA_REQUIRE_POSTGRES=1` makes a missing server a failure.
fn postgres_schema() -> Option<support::PostgresSchema> {
    if support::postgres_url().is_none() {
        assert!(
            std::env::var("MAIL2FA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "MAIL2FA_REQUIRE_POSTGRES=1 but MAIL2FA_TEST_POSTGRES is not set"
        );
        eprintln!("SKIPPED: MAIL2FA_TEST_POSTGRES is not set (scripts/pg-server.sh start)");
        return None;
    }
    Some(support::PostgresSchema::new())
}

/// The password of a connection string `postgres://user:PASSWORD@…`.
fn password_of(url: &str) -> &str {
    let userinfo = url.split("://").nth(1).unwrap().split('@').next().unwrap();
    userinfo.split(':').nth(1).unwrap()
}

#[test]
fn a_postgres_database_works_like_the_file_and_never_shows_its_password() {
    let Some(schema) = postgres_schema() else {
        return;
    };
    let sandbox = Sandbox::new("postgres");
    let db = Path::new(&schema.url);
    let secret = password_of(&schema.url);
    assert!(secret.len() >= 8);

    // Nothing but `platform enable` creates the schema.
    let run = sandbox
        .run_on(db, &["account", "show", PLATFORM, ALICE])
        .expect(DATABASE);
    assert!(
        run.error_line().contains("no mail2fa schema"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("platform enable"), "{}", run.stderr);
    assert!(!run.stderr.contains(secret), "{}", run.stderr);
    assert_eq!(
        schema
            .sql("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
            .trim(),
        "0"
    );
    sandbox
        .run_on(db, &["platform", "enable", PLATFORM])
        .expect(OK);

    // Enrollment and confirmation, then the code is consumed for every host.
    let enabled = sandbox
        .run_on(db, &["--json", "account", "enable", PLATFORM, ALICE])
        .expect(OK)
        .json();
    let totp = authenticator(enabled["uri"].as_str().unwrap());
    let code = totp.generate(NOW).unwrap();
    sandbox
        .run_on(db, &["account", "confirm", PLATFORM, ALICE, code.as_str()])
        .expect(OK);
    let shown = sandbox
        .run_on(db, &["--json", "account", "show", PLATFORM, ALICE])
        .expect(OK)
        .json();
    assert_eq!(shown["enrollment"], "confirmed", "{shown}");
    let engine = Engine::new(
        mail2fa::store::PostgresStore::open(&schema.url).unwrap(),
        EngineConfig::default(),
    )
    .unwrap();
    let id = AccountId::new(PLATFORM, ALICE).unwrap();
    assert!(
        !engine
            .login(&id, Some(code.as_str()), NOW)
            .unwrap()
            .is_allowed()
    );

    // db check reads every record and reports the server.
    let report = sandbox
        .run_on(db, &["--json", "db", "check"])
        .expect(OK)
        .json();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["accounts"], 1);
    assert_eq!(report["path"], Value::Null);
    assert!(report["postgres"].as_str().unwrap().contains("127.0.0.1"));
    assert!(report["server_version"].as_str().is_some());
    assert!(!report.to_string().contains(secret));

    // A wrong password: a database error naming the server, not the secret.
    let wrong = schema.url.replacen(secret, "not-the-password", 1);
    let run = sandbox
        .run_on(Path::new(&wrong), &["account", "show", PLATFORM, ALICE])
        .expect(DATABASE);
    assert!(run.error_line().contains("28P01"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-the-password"), "{}", run.stderr);
}

#[test]
fn db_copy_moves_a_sqlite_database_to_postgres_and_back() {
    let Some(schema) = postgres_schema() else {
        return;
    };
    let sandbox = Sandbox::with_platform("postgres-copy");
    let uri = sandbox.enroll(ALICE);
    sandbox.enroll("bob@example.com");
    // A device token and an application password come along.
    sandbox.login(ALICE, &iphone("iPhone"));
    let created = sandbox.json(&[
        "app-password",
        "create",
        PLATFORM,
        ALICE,
        "--name",
        "Thunderbird",
    ]);
    let app_password = created["password"].as_str().unwrap().to_owned();
    let before = sandbox.json(&["db", "check"]);

    let copied = sandbox.json(&["db", "copy", "--to", &schema.url]);
    assert_eq!(copied["copied"], before["records"], "{copied}");
    assert!(!copied.to_string().contains(password_of(&schema.url)));

    // The copy is a working database for the mail servers.
    let engine = Engine::new(
        mail2fa::store::PostgresStore::open(&schema.url).unwrap(),
        EngineConfig::default(),
    )
    .unwrap();
    let id = AccountId::new(PLATFORM, ALICE).unwrap();
    let later = NOW + 300;
    let code = authenticator(&uri).generate(later).unwrap();
    assert!(
        engine
            .login(&id, Some(code.as_str()), later)
            .unwrap()
            .is_allowed()
    );
    let decision = engine
        .authenticate(&id, &imap_with(&app_password), later)
        .unwrap();
    assert!(
        matches!(
            decision,
            Decision::Allow {
                reason: AllowReason::AppPassword { .. },
                ..
            }
        ),
        "{decision:?}"
    );
    let on_postgres = sandbox
        .run_on(
            Path::new(&schema.url),
            &["--json", "device", "list", PLATFORM, ALICE],
        )
        .expect(OK)
        .json();
    assert_eq!(
        on_postgres["devices"].as_array().unwrap().len(),
        1,
        "{on_postgres}"
    );

    // Copying again into the same (no longer empty) target is refused.
    let run = sandbox
        .run(&["db", "copy", "--to", &schema.url])
        .expect(REFUSED);
    assert!(
        run.error_line().contains("already holds records"),
        "{}",
        run.stderr
    );

    // And back to a new file: the same records.
    let back = sandbox.path("back.db");
    let copied_back = sandbox
        .run_on(
            Path::new(&schema.url),
            &["--json", "db", "copy", "--to", back.to_str().unwrap()],
        )
        .expect(OK)
        .json();
    assert_eq!(copied_back["copied"], before["records"]);
    let report = sandbox
        .run_on(&back, &["--json", "db", "check"])
        .expect(OK)
        .json();
    assert_eq!(report["accounts"], 2);
    assert_eq!(report["ok"], true);
}
