//! The `mail2fa` operator tool, run as a program: what its suites
//! (`tests/cli.rs`, `tests/cli_*.rs`) share.
//!
//! Every test drives the real binary (`assert_cmd`) on its own database in
//! its own temporary directory, with the clock fixed by the hidden `--now`
//! option, no `MAIL2FA_*` variable from the environment and `NO_COLOR` set.
//! Where a mail server would act (a device logging in, an application
//! password used), the test opens the same database through the library,
//! as the servers do, and closes it again before the next command.

#![cfg(feature = "cli")]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use mail2fa::engine::{
    AccountId, ClientInfo, Credential, Decision, Engine, EngineConfig, LoginRequest, Protocol,
};
use mail2fa::store::SqliteStore;
use mail2fa::{KeyUri, Totp};
use serde_json::Value;

/// The fixed "now" of every command: 2027-01-15 08:00:00 UTC.
pub const NOW: u64 = 1_800_000_000;
pub const PLATFORM: &str = "example.com";
pub const ALICE: &str = "alice@example.com";

/// Exit statuses of the tool.
pub const OK: i32 = 0;
pub const REFUSED: i32 = 1;
pub const USAGE: i32 = 2;
pub const NOT_FOUND: i32 = 3;
pub const DATABASE: i32 = 4;
pub const KEY: i32 = 5;

/// What one run of the tool did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit status, showing everything the tool said if not.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit status {} instead of {code}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// The one line the tool writes on standard error when it stops.
    pub fn error_line(&self) -> &str {
        let line = self.stderr.trim_end();
        assert!(
            line.starts_with("mail2fa: ") && !line.contains('\n'),
            "not a one-line `mail2fa: ` error: {:?}",
            self.stderr
        );
        line
    }

    /// Standard output as the one JSON document it must be.
    pub fn json(&self) -> Value {
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
pub struct Sandbox {
    dir: PathBuf,
}

impl Sandbox {
    pub fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mail2fa-cli-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    /// A sandbox whose database has 2FA on for `PLATFORM`.
    pub fn with_platform(test: &str) -> Self {
        let sandbox = Self::new(test);
        sandbox.run(&["platform", "enable", PLATFORM]).expect(OK);
        sandbox
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn db(&self) -> PathBuf {
        self.path("mail2fa.db")
    }

    /// The tool with a clean environment (nothing from `MAIL2FA_*`, no
    /// colours), working in the sandbox.
    pub fn command(&self) -> Command {
        let mut command = Command::cargo_bin("mail2fa").unwrap();
        for var in [
            "MAIL2FA_CONFIG",
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
    pub fn run_on(&self, db: &Path, args: &[&str]) -> Run {
        let mut command = self.command();
        command
            .arg("--db")
            .arg(db)
            .arg("--now")
            .arg(NOW.to_string())
            .args(args);
        finish(command)
    }

    /// Runs `args` with the configuration file `config` (no `--db`) at
    /// `NOW`.
    pub fn run_with(&self, config: &Path, args: &[&str]) -> Run {
        let mut command = self.command();
        command
            .arg("--config")
            .arg(config)
            .arg("--now")
            .arg(NOW.to_string())
            .args(args);
        finish(command)
    }

    /// Writes the configuration file `name` (mode 0600): the repository's
    /// example `integrations/mail2fa.toml` with its store replaced by the
    /// sandbox's database (unless `changes` names another) and each
    /// `(key, value)` of `changes` (a line `key = …` of the example, in
    /// file order) replaced.
    pub fn config_file(&self, name: &str, changes: &[(&str, &str)]) -> PathBuf {
        let example = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/integrations/mail2fa.toml"
        ))
        .unwrap();
        let db = format!("{:?}", self.db().display().to_string());
        let mut all = Vec::new();
        if changes.iter().all(|(key, _)| *key != "sqlite_path") {
            all.push(("sqlite_path", db.as_str()));
        }
        all.extend_from_slice(changes);
        let text = with_values(&example, &all);
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    /// Runs `args` on the sandbox's database at `NOW`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_on(&self.db(), args)
    }

    /// Runs `args` with `--json`, expects success, returns the document.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        self.run(&all).expect(OK).json()
    }

    /// `account show --json` of `account`.
    pub fn show(&self, account: &str) -> Value {
        self.json(&["account", "show", PLATFORM, account])
    }

    /// Writes a key file `ID:KEY` with the given mode.
    pub fn key_file(&self, name: &str, line: &str, mode: u32) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, format!("{line}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    /// Enables 2FA for `account` and confirms it with the app's code, as a
    /// user would; returns the provisioning URI the app was given.
    pub fn enroll(&self, account: &str) -> String {
        let enabled = self.json(&["account", "enable", PLATFORM, account]);
        let uri = enabled["uri"].as_str().unwrap().to_owned();
        let code = authenticator(&uri).generate(NOW).unwrap();
        self.run(&["account", "confirm", PLATFORM, account, code.as_str()])
            .expect(OK);
        uri
    }

    /// `account enable` then `account confirm` with the app's code, on the
    /// configuration file `config`; returns the provisioning URI.
    pub fn enroll_with(&self, config: &Path, account: &str) -> String {
        let enabled = self
            .run_with(config, &["account", "enable", PLATFORM, account, "--json"])
            .expect(OK)
            .json();
        let uri = enabled["uri"].as_str().unwrap().to_owned();
        let code = authenticator(&uri).generate(NOW).unwrap();
        self.run_with(
            config,
            &["account", "confirm", PLATFORM, account, code.as_str()],
        )
        .expect(OK);
        uri
    }

    /// `mail2fa login PLATFORM account args…` on `config` at `at`, the
    /// login string `typed` on standard input.
    pub fn login_with(
        &self,
        config: &Path,
        at: u64,
        account: &str,
        args: &[&str],
        typed: &[u8],
    ) -> Run {
        let mut command = self.command();
        command
            .arg("--config")
            .arg(config)
            .arg("--now")
            .arg(at.to_string())
            .args(["login", PLATFORM, account])
            .args(args)
            .write_stdin(typed.to_vec());
        finish(command)
    }

    /// Opens the database as a mail server does (no encryption keys).
    pub fn engine(&self) -> Engine<SqliteStore> {
        Engine::new(
            SqliteStore::open(self.db()).unwrap(),
            EngineConfig::default(),
        )
        .unwrap()
    }

    /// One login through the library, the database closed afterwards.
    pub fn login(&self, account: &str, request: &LoginRequest<'_>) -> Decision {
        let id = AccountId::new(PLATFORM, account).unwrap();
        self.engine().authenticate(&id, request, NOW).unwrap()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `text` with the first line `key = …` (or the commented-out `#key = …`)
/// after the previous change's line set to `key = value`, for each change
/// in order (so that a key of two sections, `digits`, is found in the
/// section that comes next).
pub fn with_values(text: &str, changes: &[(&str, &str)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut from = 0;
    for (key, value) in changes {
        let prefix = format!("{key} = ");
        let at = (from..lines.len())
            .find(|&i| lines[i].trim_start_matches('#').starts_with(&prefix))
            .unwrap_or_else(|| panic!("no line `{key} = ` in the example after line {from}"));
        lines[at] = format!("{key} = {value}");
        from = at + 1;
    }
    lines.join("\n") + "\n"
}

pub fn finish(mut command: Command) -> Run {
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
pub fn authenticator(uri: &str) -> Totp {
    let key = KeyUri::parse(uri).unwrap();
    Totp::new(key.secret(), key.totp_config().unwrap())
}

/// A well-formed code (of the app's digits) that is none of the app's
/// codes anywhere near `NOW`.
pub fn wrong_code(totp: &Totp) -> String {
    let near: Vec<String> = (NOW - 40 * 30..=NOW + 40 * 30)
        .step_by(30)
        .map(|t| totp.generate(t).unwrap().as_str().to_owned())
        .collect();
    let digits = near[0].len();
    (0..10)
        .map(|d| d.to_string().repeat(digits))
        .find(|candidate| !near.contains(candidate))
        .unwrap()
}

/// An iPhone on ActiveSync, with the right account password.
pub fn iphone(device_type: &str) -> LoginRequest<'_> {
    LoginRequest::new(Protocol::ActiveSync, Credential::Password { correct: true }).with_client(
        ClientInfo::new()
            .with_device_id("ApplF17XK0LQHG7F")
            .with_device_type(Some(device_type))
            .with_user_agent("Apple-iPhone14C2/2101.103")
            .with_remote_addr("203.0.113.7"),
    )
}

/// An IMAP login with an application password.
pub fn imap_with(password: &str) -> LoginRequest<'_> {
    LoginRequest::new(Protocol::Imap, Credential::AppPassword(password)).with_client(
        ClientInfo::new()
            .with_user_agent("Thunderbird")
            .with_remote_addr("198.51.100.20"),
    )
}

/// The entry of `list` whose `key` is `value`.
pub fn find<'a>(list: &'a Value, key: &str, value: impl Into<Value>) -> &'a Value {
    let value = value.into();
    list.as_array()
        .unwrap()
        .iter()
        .find(|item| item[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {list}"))
}

/// The line of a text table that starts with `first` (its first column).
pub fn row<'a>(table: &'a str, first: &str) -> &'a str {
    table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(first))
        .unwrap_or_else(|| panic!("no row {first} in:\n{table}"))
}

/// The password of a connection string `postgres://user:PASSWORD@…`.
pub fn password_of(url: &str) -> &str {
    let userinfo = url.split("://").nth(1).unwrap().split('@').next().unwrap();
    userinfo.split(':').nth(1).unwrap()
}
