//! What each command does, on the library's public API.

use std::fs::OpenOptions;
use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use mail2fa::Error;
use mail2fa::engine::{
    AccountId, AccountStatus, AllowReason, Decision, DenyReason, DeviceId, DeviceState,
    EncryptionKeys, Engine, EngineConfig, Enrollment, Mode, PlatformStatus, Protocol,
    ProtocolPolicy, format_utc,
};
use zeroize::Zeroizing;

use crate::database::{self, Database, Location};
use crate::output::{Json, Style, Table, clean, print_json, when};
use crate::{
    AccountArgs, AccountCommand, AppPasswordCommand, Cli, Command, DbCommand, DeviceArgs,
    DeviceCommand, Global, PlatformCommand, PolicyArgs, QrArgs,
};

/// Why the tool stops: the exit status and one sentence for stderr.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

pub(crate) const REFUSED: u8 = 1;
const USAGE: u8 = 2;
const NOT_FOUND: u8 = 3;
pub(crate) const DATABASE: u8 = 4;
const KEY: u8 = 5;

pub(crate) fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

/// The exit status for a library error.
fn exit_code(error: &Error) -> u8 {
    match error {
        Error::NotEnabled | Error::NotFound(_) => NOT_FOUND,
        Error::Store(_) | Error::Record(_) | Error::Random => DATABASE,
        Error::Encryption(_) | Error::KeyFile { .. } => KEY,
        Error::InvalidConfig(_)
        | Error::InvalidName { .. }
        | Error::InvalidInput(_)
        | Error::MalformedCode { .. }
        | Error::InvalidDigits(_)
        | Error::Base32(_)
        | Error::Uri(_) => USAGE,
        _ => REFUSED,
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        fail(exit_code(&error), format!("{}.", describe(&error)))
    }
}

/// The library's message, said for an operator: a value the library calls
/// configuration (a name, a policy) is the operator's input here.
fn describe(error: &Error) -> String {
    match error {
        Error::InvalidConfig(what) => format!("invalid {what}"),
        other => other.to_string(),
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        fail(REFUSED, format!("cannot write the output: {error}."))
    }
}

/// A library error about one account, said with its name.
fn about(id: &AccountId) -> impl Fn(Error) -> Failure + '_ {
    move |error| {
        let code = exit_code(&error);
        fail(code, format!("{}: {}.", name_of(id), describe(&error)))
    }
}

fn name_of(id: &AccountId) -> String {
    format!(
        "{} on {}",
        clean(id.account(), 256),
        clean(id.platform(), 256)
    )
}

/// What the store's own check found.
struct StoreCheck {
    /// Nothing wrong found at the storage level.
    sound: bool,
    path: Option<String>,
    target: Option<String>,
    schema_version: i32,
    size_bytes: u64,
    records: u64,
    /// SQLite's integrity check.
    integrity: Option<Vec<String>>,
    server_version: Option<String>,
    synchronous_standby: Option<bool>,
}

/// Everything a command needs.
struct Context {
    engine: Engine<Database>,
    now: u64,
    json: bool,
    yes: bool,
    style: Style,
    /// Encryption keys were given (`--key-file`).
    sealing: bool,
}

pub(crate) fn run(cli: Cli) -> Result<(), Failure> {
    // Only turning a platform on may start a new database: a mistyped
    // --db elsewhere must not create an empty one and report "no 2FA".
    let create = matches!(cli.command, Command::Platform(PlatformCommand::Enable(_)));
    let cx = Context::open(&cli.global, create)?;
    match cli.command {
        Command::Platform(command) => cx.platform(command),
        Command::Account(command) => cx.account(command),
        Command::Device(command) => cx.device(command),
        Command::AppPassword(command) => cx.app_password(command),
        Command::Db(command) => cx.db(command),
    }
}

impl Context {
    fn open(global: &Global, create: bool) -> Result<Self, Failure> {
        let store = database::open(&Location::new(&global.db), create)?;
        let config = EngineConfig {
            issuer: global.issuer.clone(),
            // Its errors name the file and the line, and exit with KEY.
            encryption: global
                .key_file
                .as_deref()
                .map(EncryptionKeys::from_key_file)
                .transpose()?,
            ..EngineConfig::default()
        };
        let engine = Engine::new(store, config)?;
        let now = match global.now {
            Some(now) => now,
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| fail(REFUSED, "the system clock is before 1970."))?
                .as_secs(),
        };
        Ok(Self {
            engine,
            now,
            json: global.json,
            yes: global.yes,
            style: Style::new(global.color),
            sealing: global.key_file.is_some(),
        })
    }

    /// Asks before a destructive action, unless `--yes`; without a terminal
    /// to ask on, refuses.
    fn confirm(&self, question: &str) -> Result<(), Failure> {
        if self.yes {
            return Ok(());
        }
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(fail(
                REFUSED,
                format!("{question} Not confirmed: nothing was changed (add --yes to confirm)."),
            ));
        }
        eprint!("{question} [y/N] ");
        let mut answer = String::new();
        stdin.lock().read_line(&mut answer)?;
        if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            Ok(())
        } else {
            Err(fail(REFUSED, "cancelled: nothing was changed."))
        }
    }

    /// Prints a sentence (text mode) or a JSON document.
    fn report(&self, text: &str, json: impl FnOnce() -> Json) -> Result<(), Failure> {
        if self.json {
            print_json(&json())?;
        } else {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{text}")?;
        }
        Ok(())
    }

    fn id(args: &AccountArgs) -> Result<AccountId, Failure> {
        AccountId::new(&args.platform, &args.account).map_err(|error| {
            fail(
                USAGE,
                format!(
                    "{:?} on {:?} is refused: {}.",
                    clean(&args.account, 256),
                    clean(&args.platform, 256),
                    describe(&error)
                ),
            )
        })
    }

    fn platform(&self, command: PlatformCommand) -> Result<(), Failure> {
        match command {
            PlatformCommand::Enable(args) => {
                self.engine.enable_platform(&args.platform, true)?;
                self.report(
                    &format!("2FA is on for {}.", clean(&args.platform, 256)),
                    || {
                        Json::Object(vec![
                            ("platform", Json::text(&args.platform)),
                            ("enabled", Json::Bool(true)),
                        ])
                    },
                )
            }
            PlatformCommand::Disable(args) => {
                self.confirm(&format!(
                    "Turn 2FA off for {}? Its accounts then log in without a second factor.",
                    clean(&args.platform, 256)
                ))?;
                self.engine.enable_platform(&args.platform, false)?;
                self.report(
                    &format!("2FA is off for {}.", clean(&args.platform, 256)),
                    || {
                        Json::Object(vec![
                            ("platform", Json::text(&args.platform)),
                            ("enabled", Json::Bool(false)),
                        ])
                    },
                )
            }
            PlatformCommand::Show(args) => {
                let status = self.engine.platform_status(&args.platform)?;
                let policies = policy_rows(None, &status);
                if self.json {
                    return Ok(print_json(&Json::Object(vec![
                        ("platform", Json::text(&args.platform)),
                        ("enabled", Json::Bool(status.enabled)),
                        ("configured", Json::Bool(status.configured)),
                        ("policies", policies_json(&policies)),
                    ]))?);
                }
                let on = match (status.enabled, status.configured) {
                    (true, _) => self.style.good("on"),
                    (false, true) => self.style.warn("off"),
                    (false, false) => self.style.warn("off (never configured)"),
                };
                let mut out = format!("Platform {}: 2FA {on}\n\n", clean(&args.platform, 256));
                out.push_str(&policies_table(&policies, self.style));
                Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
            }
            PlatformCommand::Policy { platform, policy } => {
                let PolicyArgs { protocol, policy } = policy;
                self.engine
                    .set_platform_policy(&platform.platform, &protocol, policy.policy())?;
                let effective = self
                    .engine
                    .platform_status(&platform.platform)?
                    .policy(&protocol);
                self.report(
                    &format!(
                        "{} on {}: {}{}.",
                        protocol.name(),
                        clean(&platform.platform, 256),
                        policy_name(effective),
                        if policy.policy().is_none() {
                            " (the default)"
                        } else {
                            ""
                        }
                    ),
                    || {
                        Json::Object(vec![
                            ("platform", Json::text(&platform.platform)),
                            ("protocol", Json::text(protocol.name())),
                            ("policy", Json::text(policy_name(effective))),
                        ])
                    },
                )
            }
        }
    }

    fn account(&self, command: AccountCommand) -> Result<(), Failure> {
        match command {
            AccountCommand::Enable { account, qr } => {
                let id = Self::id(&account)?;
                self.new_secret(
                    &id,
                    &qr,
                    || {
                        self.engine
                            .enable_account(&id, self.now)
                            .map_err(|e| match e {
                                Error::AlreadyEnabled => fail(
                                    REFUSED,
                                    format!(
                                        "{}: 2FA is already enabled (`mail2fa account reset` \
                                     issues a new secret).",
                                        name_of(&id)
                                    ),
                                ),
                                other => about(&id)(other),
                            })
                    },
                    |until| format!("2FA enabled for {}, pending until {until}.", name_of(&id)),
                )
            }
            AccountCommand::Confirm { account, code } => self.confirm_enrollment(&account, &code),
            AccountCommand::Show(account) => self.show_account(&account),
            AccountCommand::Suspend { account, hours } => {
                let id = Self::id(&account)?;
                let until = self
                    .engine
                    .suspend(&id, hours.saturating_mul(3600), self.now)
                    .map_err(about(&id))?;
                let text = if hours == 0 {
                    format!("2FA of {} is active again (no suspension).", name_of(&id))
                } else {
                    format!(
                        "2FA of {} suspended until {}; it re-arms by itself.",
                        name_of(&id),
                        format_utc(until)
                    )
                };
                let until = (hours > 0).then_some(until);
                self.report(&text, || {
                    account_json(&id, vec![("suspended_until", Json::opt_number(until))])
                })
            }
            AccountCommand::Reset { account, qr } => {
                let id = Self::id(&account)?;
                // Before asking: an account without 2FA has nothing to reset.
                self.engine
                    .account_status(&id, self.now)
                    .map_err(about(&id))?;
                self.confirm(&format!(
                    "Reset 2FA of {}? The authenticator app stops working at once.",
                    name_of(&id)
                ))?;
                self.new_secret(
                    &id,
                    &qr,
                    || self.engine.reset(&id, self.now).map_err(about(&id)),
                    |until| {
                        format!(
                            "2FA of {} reset: a new secret, pending until {until}.",
                            name_of(&id)
                        )
                    },
                )
            }
            AccountCommand::Remove(account) => {
                let id = Self::id(&account)?;
                self.engine
                    .account_status(&id, self.now)
                    .map_err(about(&id))?;
                self.confirm(&format!(
                    "Remove 2FA from {}? Its secret is destroyed and its device tokens and \
                     application passwords are revoked.",
                    name_of(&id)
                ))?;
                self.engine.remove(&id).map_err(about(&id))?;
                self.report(&format!("2FA removed from {}.", name_of(&id)), || {
                    account_json(&id, vec![("removed", Json::Bool(true))])
                })
            }
            AccountCommand::Unlock(account) => {
                let id = Self::id(&account)?;
                self.engine.unlock(&id).map_err(about(&id))?;
                self.report(&format!("{} unlocked.", name_of(&id)), || {
                    account_json(&id, vec![("unlocked", Json::Bool(true))])
                })
            }
            AccountCommand::Mode { account, mode } => {
                let id = Self::id(&account)?;
                self.engine.set_mode(&id, mode.mode()).map_err(about(&id))?;
                self.report(
                    &format!(
                        "{} now proves the second factor by {}.",
                        name_of(&id),
                        mode_text(mode.mode())
                    ),
                    || account_json(&id, vec![("mode", Json::text(mode_name(mode.mode())))]),
                )
            }
            AccountCommand::Contact {
                account,
                email,
                no_email,
                phone,
                no_phone,
            } => {
                let id = Self::id(&account)?;
                if email.is_none() && phone.is_none() && !no_email && !no_phone {
                    return Err(fail(
                        USAGE,
                        "nothing to change: give --email, --phone, --no-email or --no-phone.",
                    ));
                }
                let status = self
                    .engine
                    .account_status(&id, self.now)
                    .map_err(about(&id))?;
                let email = if no_email {
                    None
                } else {
                    email.or(status.email)
                };
                let phone = if no_phone {
                    None
                } else {
                    phone.or(status.phone)
                };
                self.engine
                    .set_contact(&id, email.as_deref(), phone.as_deref())
                    .map_err(about(&id))?;
                self.report(
                    &format!(
                        "Codes for {} go to e-mail {} and mobile {}.",
                        name_of(&id),
                        clean(email.as_deref().unwrap_or("-"), 256),
                        clean(phone.as_deref().unwrap_or("-"), 256)
                    ),
                    || {
                        account_json(
                            &id,
                            vec![
                                ("email", Json::opt_text(email.as_deref())),
                                ("phone", Json::opt_text(phone.as_deref())),
                            ],
                        )
                    },
                )
            }
            AccountCommand::RecoveryCodes { account, count } => {
                let id = Self::id(&account)?;
                let status = self
                    .engine
                    .account_status(&id, self.now)
                    .map_err(about(&id))?;
                if status.recovery_codes > 0 {
                    self.confirm(&format!(
                        "Replace the {} unused recovery codes of {}? They stop working.",
                        status.recovery_codes,
                        name_of(&id)
                    ))?;
                }
                let count = usize::try_from(count).unwrap_or(usize::MAX);
                let codes = self
                    .engine
                    .generate_recovery_codes(&id, count)
                    .map_err(about(&id))?;
                if self.json {
                    let list = codes.iter().map(|c| Json::text(c)).collect();
                    return Ok(print_json(&account_json(
                        &id,
                        vec![("recovery_codes", Json::List(list))],
                    ))?);
                }
                let mut out = Zeroizing::new(format!(
                    "New recovery codes for {} (shown once; each works once):\n\n",
                    name_of(&id)
                ));
                for code in &codes {
                    out.push_str("    ");
                    out.push_str(code);
                    out.push('\n');
                }
                Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
            }
            AccountCommand::Policy { account, policy } => {
                let id = Self::id(&account)?;
                let PolicyArgs { protocol, policy } = policy;
                self.engine
                    .set_account_policy(&id, &protocol, policy.policy())
                    .map_err(about(&id))?;
                let effective = self
                    .engine
                    .protocol_policy(&id, &protocol)
                    .map_err(about(&id))?;
                self.report(
                    &format!(
                        "{} for {}: {}{}.",
                        protocol.name(),
                        name_of(&id),
                        policy_name(effective),
                        if policy.policy().is_none() {
                            " (from the platform)"
                        } else {
                            ""
                        }
                    ),
                    || {
                        account_json(
                            &id,
                            vec![
                                ("protocol", Json::text(protocol.name())),
                                ("policy", Json::text(policy_name(effective))),
                            ],
                        )
                    },
                )
            }
        }
    }

    /// Makes a new secret with `make` (enable, reset) and shows its
    /// provisioning URI with the QR code, writing the SVG too. The SVG file
    /// is created first: if it cannot be, nothing is changed (a secret
    /// stored but never shown would need a reset).
    fn new_secret(
        &self,
        id: &AccountId,
        qr: &QrArgs,
        make: impl FnOnce() -> Result<Zeroizing<String>, Failure>,
        headline: impl FnOnce(String) -> String,
    ) -> Result<(), Failure> {
        let mut svg_file = match &qr.svg {
            Some(path) => Some(
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| {
                        fail(
                            REFUSED,
                            format!(
                                "cannot create {} (it is never overwritten): {e}; nothing was changed.",
                                path.display()
                            ),
                        )
                    })?,
            ),
            None => None,
        };
        let uri = match make() {
            Ok(uri) => uri,
            Err(failure) => {
                if let Some(path) = &qr.svg {
                    let _ = std::fs::remove_file(path);
                }
                return Err(failure);
            }
        };
        if let (Some(file), Some(path)) = (svg_file.as_mut(), &qr.svg) {
            let svg = mail2fa::qr::svg(&uri)?;
            file.write_all(svg.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| fail(REFUSED, format!("cannot write {}: {e}.", path.display())))?;
        }
        let until = match self
            .engine
            .account_status(id, self.now)
            .map_err(about(id))?
            .enrollment
        {
            Enrollment::Pending { expires_at } => Some(expires_at),
            Enrollment::Confirmed => None,
        };
        let headline = headline(when(until));
        let uri = uri.as_str();
        if self.json {
            return Ok(print_json(&account_json(
                id,
                vec![
                    ("uri", Json::text(uri)),
                    ("pending_until", Json::opt_number(until)),
                    (
                        "svg",
                        Json::opt_text(qr.svg.as_deref().and_then(Path::to_str)),
                    ),
                ],
            ))?);
        }
        let mut out = Zeroizing::new(String::with_capacity(4096));
        out.push_str(&headline);
        out.push_str(
            "\nScan the QR code with the authenticator app (or type the URI in it); \
             it is shown once:\n\n",
        );
        if !qr.no_qr {
            out.push_str(&mail2fa::qr::terminal(uri)?);
            out.push('\n');
        }
        out.push_str(uri);
        out.push_str("\n\n");
        if let Some(path) = &qr.svg {
            out.push_str(&format!("QR code written to {}.\n", path.display()));
        }
        out.push_str(&format!(
            "Then confirm with the code the app shows:\n    mail2fa account confirm {} {} CODE\n",
            shell_word(id.platform()),
            shell_word(id.account())
        ));
        Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
    }

    fn confirm_enrollment(&self, account: &AccountArgs, code: &str) -> Result<(), Failure> {
        let id = Self::id(account)?;
        let status = self
            .engine
            .account_status(&id, self.now)
            .map_err(about(&id))?;
        if status.mode != Mode::Totp {
            return Err(fail(
                REFUSED,
                format!(
                    "{} proves the second factor by {}: there is no app enrollment to confirm.",
                    name_of(&id),
                    mode_text(status.mode)
                ),
            ));
        }
        match status.enrollment {
            Enrollment::Confirmed => {
                return Err(fail(
                    REFUSED,
                    format!("{}: the enrollment is already confirmed.", name_of(&id)),
                ));
            }
            Enrollment::Pending { expires_at } if self.now >= expires_at => {
                return Err(fail(
                    REFUSED,
                    format!(
                        "{}: the enrollment expired at {}; start again with `mail2fa account enable`.",
                        name_of(&id),
                        format_utc(expires_at)
                    ),
                ));
            }
            Enrollment::Pending { .. } => {}
        }
        if !self.engine.platform_status(id.platform())?.enabled {
            return Err(Error::PlatformDisabled).map_err(about(&id));
        }
        match self
            .engine
            .login(&id, Some(code), self.now)
            .map_err(about(&id))?
        {
            Decision::Allow {
                reason: AllowReason::Enrolled { .. },
                ..
            } => self.report(
                &format!("Enrollment of {} confirmed: 2FA is active.", name_of(&id)),
                || account_json(&id, vec![("confirmed", Json::Bool(true))]),
            ),
            Decision::Deny { reason } => Err(fail(
                if reason == DenyReason::MalformedCode {
                    USAGE
                } else {
                    REFUSED
                },
                format!(
                    "{}: the code was refused ({}).",
                    name_of(&id),
                    deny_text(reason)
                ),
            )),
            other => Err(fail(
                REFUSED,
                format!(
                    "{}: not confirmed ({:?}).",
                    name_of(&id),
                    other.client_answer()
                ),
            )),
        }
    }

    fn show_account(&self, account: &AccountArgs) -> Result<(), Failure> {
        let id = Self::id(account)?;
        let status = self
            .engine
            .account_status(&id, self.now)
            .map_err(about(&id))?;
        let platform = self.engine.platform_status(id.platform())?;
        let policies = policy_rows(Some(&status), &platform);
        let enrollment = match status.enrollment {
            Enrollment::Confirmed => "confirmed",
            Enrollment::Pending { expires_at } if self.now >= expires_at => "expired",
            Enrollment::Pending { .. } => "pending",
        };
        if self.json {
            return Ok(print_json(&account_json(
                &id,
                vec![
                    ("platform_enabled", Json::Bool(platform.enabled)),
                    ("mode", Json::text(mode_name(status.mode))),
                    ("enrollment", Json::text(enrollment)),
                    (
                        "enrollment_expires_at",
                        Json::opt_number(match status.enrollment {
                            Enrollment::Pending { expires_at } => Some(expires_at),
                            Enrollment::Confirmed => None,
                        }),
                    ),
                    ("suspended_until", Json::opt_number(status.suspended_until)),
                    ("locked_until", Json::opt_number(status.locked_until)),
                    ("failures", Json::Number(u64::from(status.failures))),
                    ("last_used", Json::opt_number(status.last_used)),
                    ("recovery_codes", Json::Number(status.recovery_codes as u64)),
                    ("email", Json::opt_text(status.email.as_deref())),
                    ("phone", Json::opt_text(status.phone.as_deref())),
                    ("code_expires_at", Json::opt_number(status.code_expires_at)),
                    ("policies", policies_json(&policies)),
                ],
            ))?);
        }
        let style = self.style;
        let enrolled = match status.enrollment {
            Enrollment::Confirmed => style.good("confirmed"),
            Enrollment::Pending { expires_at } if self.now >= expires_at => {
                style.bad(&format!("expired at {}", format_utc(expires_at)))
            }
            Enrollment::Pending { expires_at } => {
                style.warn(&format!("pending until {}", format_utc(expires_at)))
            }
        };
        let mut table = Table::new(&["", ""]);
        let mut line = |label: &str, value: String| table.row(vec![label.to_owned(), value]);
        line(
            "Platform 2FA",
            if platform.enabled {
                style.good("on")
            } else {
                style.warn("off")
            },
        );
        line("Mode", mode_text(status.mode).to_owned());
        line("Enrollment", enrolled);
        line(
            "Suspended",
            status.suspended_until.map_or_else(
                || "no".to_owned(),
                |t| style.warn(&format!("until {}", format_utc(t))),
            ),
        );
        line(
            "Locked",
            status.locked_until.map_or_else(
                || "no".to_owned(),
                |t| style.bad(&format!("until {}", format_utc(t))),
            ),
        );
        line("Wrong codes", status.failures.to_string());
        line(
            "Last used",
            status
                .last_used
                .map_or_else(|| "never".to_owned(), format_utc),
        );
        line(
            "Recovery codes",
            format!("{} unused", status.recovery_codes),
        );
        line("E-mail", clean(status.email.as_deref().unwrap_or("-"), 256));
        line("Mobile", clean(status.phone.as_deref().unwrap_or("-"), 256));
        if let Some(at) = status.code_expires_at {
            line("Code sent", format!("live until {}", format_utc(at)));
        }
        let mut out = format!("{}\n", style.bold(&name_of(&id)));
        // The label column without its (empty) header row.
        let body = table.render(Style::new(crate::output::ColorChoice::Never), |_, c| {
            c.to_owned()
        });
        for row in body.lines().skip(1) {
            out.push_str("  ");
            out.push_str(row);
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&policies_table(&policies, style));
        Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
    }

    /// The device a command names: its full id, or a prefix of 4 or more
    /// hex digits naming exactly one of the account's devices.
    fn device_of(&self, args: &DeviceArgs) -> Result<(AccountId, DeviceId), Failure> {
        let id = Self::id(&args.account)?;
        let wanted = args.device.trim().to_ascii_lowercase();
        if wanted.len() == 32 {
            return Ok((id, DeviceId::parse(&wanted)?));
        }
        if wanted.len() < 4 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fail(
                USAGE,
                "a device is named by its id (32 hex digits) or its first 4 or more.",
            ));
        }
        let devices = self.engine.devices(&id, self.now).map_err(about(&id))?;
        let mut matching = devices
            .iter()
            .filter(|d| d.id.to_string().starts_with(&wanted));
        match (matching.next(), matching.next()) {
            (Some(device), None) => Ok((id.clone(), device.id)),
            (None, _) => Err(fail(
                NOT_FOUND,
                format!(
                    "{}: no device {wanted} (see `mail2fa device list`).",
                    name_of(&id)
                ),
            )),
            (Some(_), Some(_)) => Err(fail(
                USAGE,
                format!(
                    "{}: several devices start with {wanted}; give more digits.",
                    name_of(&id)
                ),
            )),
        }
    }

    fn device(&self, command: DeviceCommand) -> Result<(), Failure> {
        #[derive(Clone, Copy)]
        enum Action {
            Activate,
            Deactivate,
            Delete,
        }
        let (args, action) = match command {
            DeviceCommand::List(account) => return self.list_devices(&account),
            DeviceCommand::Activate(args) => (args, Action::Activate),
            DeviceCommand::Deactivate(args) => (args, Action::Deactivate),
            DeviceCommand::Delete(args) => (args, Action::Delete),
        };
        let (id, device) = self.device_of(&args)?;
        let now = self.now;
        let verb = match action {
            Action::Activate => "activated",
            Action::Deactivate => "deactivated",
            Action::Delete => "deleted",
        };
        match action {
            Action::Activate => self.engine.activate_device(&id, &device, now),
            Action::Deactivate => self.engine.deactivate_device(&id, &device, now),
            Action::Delete => {
                self.confirm(&format!(
                    "Delete device {device} of {}? Its next login is blocked as a new device.",
                    name_of(&id)
                ))?;
                self.engine.delete_device(&id, &device, now)
            }
        }
        .map_err(about(&id))?;
        self.report(
            &format!("Device {device} of {} {verb}.", name_of(&id)),
            || {
                account_json(
                    &id,
                    vec![
                        ("device", Json::text(&device.to_string())),
                        (verb, Json::Bool(true)),
                    ],
                )
            },
        )
    }

    fn list_devices(&self, account: &AccountArgs) -> Result<(), Failure> {
        let id = Self::id(account)?;
        let devices = self.engine.devices(&id, self.now).map_err(about(&id))?;
        if self.json {
            let list = devices
                .iter()
                .map(|d| {
                    Json::Object(vec![
                        ("id", Json::text(&d.id.to_string())),
                        ("state", Json::text(state_name(d.state))),
                        ("protocol", Json::text(d.protocol.name())),
                        ("device_id", Json::opt_text(d.device_id.as_deref())),
                        ("device_type", Json::opt_text(d.device_type.as_deref())),
                        ("user_agent", Json::opt_text(d.user_agent.as_deref())),
                        ("remote_addr", Json::opt_text(d.remote_addr.as_deref())),
                        ("first_seen", Json::Number(d.first_seen)),
                        ("last_seen", Json::Number(d.last_seen)),
                        ("notified_at", Json::opt_number(d.notified_at)),
                    ])
                })
                .collect();
            return Ok(print_json(&account_json(
                &id,
                vec![("devices", Json::List(list))],
            ))?);
        }
        if devices.is_empty() {
            return self.report(&format!("{} has no device tokens.", name_of(&id)), || {
                Json::Null
            });
        }
        let mut table = Table::new(&[
            "DEVICE",
            "STATE",
            "PROTOCOL",
            "TYPE",
            "USER AGENT",
            "ADDRESS",
            "FIRST SEEN",
            "LAST SEEN",
        ]);
        for d in &devices {
            let short = |t: u64| format_utc(t).get(..16).unwrap_or_default().to_owned();
            table.row(vec![
                d.id.to_string().get(..12).unwrap_or_default().to_owned(),
                state_name(d.state).to_ascii_uppercase(),
                d.protocol.name().to_owned(),
                clean(d.device_type.as_deref().unwrap_or("-"), 24),
                clean(d.user_agent.as_deref().unwrap_or("-"), 40),
                clean(d.remote_addr.as_deref().unwrap_or("-"), 40),
                short(d.first_seen),
                short(d.last_seen),
            ]);
        }
        let style = self.style;
        let out = table.render(style, |column, cell| match (column, cell.trim_end()) {
            (1, "ACTIVE") => style.good(cell),
            (1, _) => style.warn(cell),
            _ => cell.to_owned(),
        });
        Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
    }

    fn app_password(&self, command: AppPasswordCommand) -> Result<(), Failure> {
        match command {
            AppPasswordCommand::Create {
                account,
                name,
                protocols,
            } => {
                let id = Self::id(&account)?;
                let taken = self
                    .engine
                    .app_passwords(&id)
                    .map_err(about(&id))?
                    .iter()
                    .any(|a| a.name == name);
                if taken {
                    return Err(fail(
                        REFUSED,
                        format!(
                            "{}: an application password named {:?} exists; revoke it or choose \
                             another name.",
                            name_of(&id),
                            clean(&name, 64)
                        ),
                    ));
                }
                let (info, password) = self
                    .engine
                    .create_app_password(&id, &name, &protocols, self.now)
                    .map_err(about(&id))?;
                if self.json {
                    return Ok(print_json(&account_json(
                        &id,
                        vec![
                            ("id", Json::Number(u64::from(info.id))),
                            ("name", Json::text(&info.name)),
                            ("password", Json::text(&password)),
                            ("scope", scope_json(&info.scope)),
                            ("created", Json::Number(info.created)),
                        ],
                    ))?);
                }
                let out = Zeroizing::new(format!(
                    "Application password {} (id {}) for {}, shown once:\n\n    {}\n\n\
                     Use it in place of the account password, on {}.\n",
                    clean(&info.name, 64),
                    info.id,
                    name_of(&id),
                    password.as_str(),
                    scope_text(&info.scope)
                ));
                Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
            }
            AppPasswordCommand::List(account) => {
                let id = Self::id(&account)?;
                let apps = self.engine.app_passwords(&id).map_err(about(&id))?;
                if self.json {
                    let list = apps
                        .iter()
                        .map(|a| {
                            Json::Object(vec![
                                ("id", Json::Number(u64::from(a.id))),
                                ("name", Json::text(&a.name)),
                                ("scope", scope_json(&a.scope)),
                                ("created", Json::Number(a.created)),
                                ("last_used", Json::opt_number(a.last_used)),
                            ])
                        })
                        .collect();
                    return Ok(print_json(&account_json(
                        &id,
                        vec![("app_passwords", Json::List(list))],
                    ))?);
                }
                if apps.is_empty() {
                    return self.report(
                        &format!("{} has no application passwords.", name_of(&id)),
                        || Json::Null,
                    );
                }
                let mut table = Table::new(&["ID", "NAME", "SCOPE", "CREATED", "LAST USED"]);
                for a in &apps {
                    table.row(vec![
                        a.id.to_string(),
                        clean(&a.name, 32),
                        scope_text(&a.scope),
                        format_utc(a.created),
                        when(a.last_used),
                    ]);
                }
                let out = table.render(self.style, |_, cell| cell.to_owned());
                Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
            }
            AppPasswordCommand::Revoke { account, id: app } => {
                let id = Self::id(&account)?;
                let apps = self.engine.app_passwords(&id).map_err(about(&id))?;
                let Some(info) = apps.iter().find(|a| a.id == app) else {
                    return Err(fail(
                        NOT_FOUND,
                        format!("{}: no application password {app}.", name_of(&id)),
                    ));
                };
                self.confirm(&format!(
                    "Revoke application password {} ({}) of {}? Clients using it are refused at once.",
                    app,
                    clean(&info.name, 64),
                    name_of(&id)
                ))?;
                self.engine
                    .revoke_app_password(&id, app)
                    .map_err(about(&id))?;
                self.report(
                    &format!("Application password {app} of {} revoked.", name_of(&id)),
                    || {
                        account_json(
                            &id,
                            vec![
                                ("id", Json::Number(u64::from(app))),
                                ("revoked", Json::Bool(true)),
                            ],
                        )
                    },
                )
            }
        }
    }

    /// The store's own check: SQLite's integrity check, or PostgreSQL's
    /// schema, size and replication settings.
    fn check_store(&self) -> Result<StoreCheck, Failure> {
        let failed = |e| fail(DATABASE, format!("cannot check the database: {e}."));
        Ok(match self.engine.store() {
            Database::Sqlite(store) => {
                let file = store.check().map_err(failed)?;
                StoreCheck {
                    sound: file.is_sound(),
                    path: store.path().to_str().map(str::to_owned),
                    target: None,
                    schema_version: file.schema_version,
                    size_bytes: file.size_bytes,
                    records: file.records,
                    integrity: Some(file.integrity),
                    server_version: None,
                    synchronous_standby: None,
                }
            }
            Database::Postgres(store) => {
                let found = store.check().map_err(failed)?;
                StoreCheck {
                    sound: true,
                    path: None,
                    target: Some(store.target().to_owned()),
                    schema_version: found.schema_version,
                    size_bytes: found.size_bytes,
                    records: found.records,
                    integrity: None,
                    server_version: Some(found.server_version),
                    synchronous_standby: Some(found.synchronous_standby),
                }
            }
        })
    }

    fn db(&self, command: DbCommand) -> Result<(), Failure> {
        match command {
            DbCommand::Purge => {
                let (mut examined, mut changed) = (0usize, 0usize);
                loop {
                    let batch = self.engine.maintain(self.now, 1000)?;
                    examined += batch.examined;
                    changed += batch.changed;
                    if batch.finished {
                        break;
                    }
                }
                self.report(
                    &format!("Purged: {examined} records examined, {changed} tidied or removed."),
                    || {
                        Json::Object(vec![
                            ("examined", Json::Number(examined as u64)),
                            ("changed", Json::Number(changed as u64)),
                        ])
                    },
                )
            }
            DbCommand::Check => self.check(),
            DbCommand::Seal => {
                if !self.sealing {
                    return Err(fail(
                        KEY,
                        "`db seal` needs the encryption keys: give --key-file (or MAIL2FA_KEY_FILE).",
                    ));
                }
                let sealed = self.engine.seal_records()?;
                self.report(
                    &format!(
                        "Sealed {} with the current key.",
                        count(
                            usize::try_from(sealed).unwrap_or(usize::MAX),
                            "account or devices record"
                        )
                    ),
                    || Json::Object(vec![("sealed", Json::Number(sealed))]),
                )
            }
            DbCommand::Copy { to } => {
                let target = database::open(&Location::new(&to), true)?;
                let copied = database::copy(self.engine.store(), &target)?;
                self.report(
                    &format!(
                        "Copied {} from {} to {}; read back and compared.",
                        count(
                            usize::try_from(copied.records).unwrap_or(usize::MAX),
                            "record"
                        ),
                        self.engine.store().describe(),
                        target.describe()
                    ),
                    || {
                        Json::Object(vec![
                            ("copied", Json::Number(copied.records)),
                            ("from", Json::text(&self.engine.store().describe())),
                            ("to", Json::text(&target.describe())),
                        ])
                    },
                )
            }
        }
    }

    fn check(&self) -> Result<(), Failure> {
        let checked = self.check_store()?;
        let records = self.engine.check_records()?;
        let sound = checked.sound && records.unreadable == 0;
        if self.json {
            let problems = records
                .problems
                .iter()
                .map(|(what, error)| {
                    Json::Object(vec![
                        ("record", Json::text(what)),
                        ("error", Json::text(&error.to_string())),
                    ])
                })
                .collect();
            print_json(&Json::Object(vec![
                ("path", Json::opt_text(checked.path.as_deref())),
                ("postgres", Json::opt_text(checked.target.as_deref())),
                (
                    "schema_version",
                    Json::Number(u64::try_from(checked.schema_version).unwrap_or(0)),
                ),
                ("size_bytes", Json::Number(checked.size_bytes)),
                ("records", Json::Number(checked.records)),
                (
                    "integrity",
                    match &checked.integrity {
                        Some(lines) => Json::List(lines.iter().map(|s| Json::text(s)).collect()),
                        None => Json::Null,
                    },
                ),
                (
                    "server_version",
                    Json::opt_text(checked.server_version.as_deref()),
                ),
                (
                    "synchronous_standby",
                    checked.synchronous_standby.map_or(Json::Null, Json::Bool),
                ),
                ("platforms", Json::Number(records.platforms as u64)),
                ("accounts", Json::Number(records.accounts as u64)),
                (
                    "encrypted_accounts",
                    Json::Number(records.sealed_accounts as u64),
                ),
                ("client_records", Json::Number(records.clients as u64)),
                ("unreadable", Json::Number(records.unreadable as u64)),
                ("problems", Json::List(problems)),
                ("ok", Json::Bool(sound)),
            ]))?;
        } else {
            let style = self.style;
            let mut out = format!(
                "Database     {} (schema {}, {}, {} bytes)\n",
                self.engine.store().describe(),
                checked.schema_version,
                count(
                    usize::try_from(checked.records).unwrap_or(usize::MAX),
                    "record"
                ),
                checked.size_bytes
            );
            match (&checked.integrity, &checked.server_version) {
                (Some(_), _) if checked.sound => {
                    out.push_str(&format!("SQLite       {}\n", style.good("ok")));
                }
                (Some(lines), _) => {
                    out.push_str(&format!("SQLite       {}\n", style.bad("DAMAGED")));
                    for line in lines {
                        out.push_str(&format!("  {}\n", clean(line, 200)));
                    }
                }
                (None, version) => {
                    let standby = if checked.synchronous_standby == Some(true) {
                        style.good("yes")
                    } else {
                        style.bad("no (a failover may lose the last commits)")
                    };
                    out.push_str(&format!(
                        "PostgreSQL   {}, synchronous standby: {standby}\n",
                        clean(version.as_deref().unwrap_or("?"), 100)
                    ));
                }
            }
            out.push_str(&format!(
                "Readable     {}, {} ({} encrypted), {}\n",
                count(records.platforms, "platform"),
                count(records.accounts, "account"),
                records.sealed_accounts,
                count(records.clients, "device/app-password record")
            ));
            if records.unreadable == 0 {
                out.push_str(&format!("Unreadable   {}\n", style.good("none")));
            } else {
                out.push_str(&format!(
                    "Unreadable   {}\n",
                    style.bad(&records.unreadable.to_string())
                ));
                for (what, error) in &records.problems {
                    out.push_str(&format!("  {what}: {error}\n"));
                }
            }
            std::io::stdout().lock().write_all(out.as_bytes())?;
        }
        if sound {
            return Ok(());
        }
        let keys_only = checked.sound
            && records
                .problems
                .iter()
                .all(|(_, e)| matches!(e, Error::Encryption(_)));
        Err(if keys_only {
            fail(
                KEY,
                format!(
                    "{} cannot be opened with the configured keys.",
                    count(records.unreadable, "record")
                ),
            )
        } else {
            fail(DATABASE, "the database is damaged (see above).")
        })
    }
}

/// `1 record`, `2 records`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn account_json(id: &AccountId, mut fields: Vec<(&'static str, Json)>) -> Json {
    let mut all = vec![
        ("platform", Json::text(id.platform())),
        ("account", Json::text(id.account())),
    ];
    all.append(&mut fields);
    Json::Object(all)
}

/// Every standard protocol and any other one with an override: its
/// policy, and where it comes from.
fn policy_rows(
    account: Option<&AccountStatus>,
    platform: &PlatformStatus,
) -> Vec<(Protocol, ProtocolPolicy, &'static str)> {
    let mut protocols: Vec<Protocol> = Protocol::STANDARD.to_vec();
    let overrides = account
        .map(|a| a.policies.as_slice())
        .unwrap_or_default()
        .iter()
        .chain(&platform.policies);
    for (protocol, _) in overrides {
        if !protocols.contains(protocol) {
            protocols.push(protocol.clone());
        }
    }
    protocols
        .into_iter()
        .map(|protocol| {
            let own = account.and_then(|a| a.policies.iter().find(|(p, _)| *p == protocol));
            let (policy, source) = match own {
                Some(&(_, policy)) => (policy, "account"),
                None if platform.policies.iter().any(|(p, _)| *p == protocol) => {
                    (platform.policy(&protocol), "platform")
                }
                None => (protocol.default_policy(), "default"),
            };
            (protocol, policy, source)
        })
        .collect()
}

fn policies_table(rows: &[(Protocol, ProtocolPolicy, &'static str)], style: Style) -> String {
    let mut table = Table::new(&["PROTOCOL", "POLICY", "SET BY"]);
    for (protocol, policy, source) in rows {
        table.row(vec![
            protocol.name().to_owned(),
            policy_name(*policy).to_owned(),
            (*source).to_owned(),
        ]);
    }
    table.render(style, |column, cell| match (column, cell.trim_end()) {
        (1, "refused") => style.bad(cell),
        _ => cell.to_owned(),
    })
}

fn policies_json(rows: &[(Protocol, ProtocolPolicy, &'static str)]) -> Json {
    Json::List(
        rows.iter()
            .map(|(protocol, policy, source)| {
                Json::Object(vec![
                    ("protocol", Json::text(protocol.name())),
                    ("policy", Json::text(policy_name(*policy))),
                    ("set_by", Json::text(source)),
                ])
            })
            .collect(),
    )
}

fn policy_name(policy: ProtocolPolicy) -> &'static str {
    match policy {
        ProtocolPolicy::CodeInLogin => "code-in-login",
        ProtocolPolicy::DeviceAuthorization => "device-authorization",
        ProtocolPolicy::AppPasswordOnly => "app-password-only",
        ProtocolPolicy::Refused => "refused",
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Totp => "totp",
        Mode::Email => "email",
        Mode::Sms => "sms",
    }
}

fn mode_text(mode: Mode) -> &'static str {
    match mode {
        Mode::Totp => "authenticator app (TOTP)",
        Mode::Email => "code by e-mail",
        Mode::Sms => "code by SMS",
    }
}

fn state_name(state: DeviceState) -> &'static str {
    match state {
        DeviceState::Active => "active",
        DeviceState::Inactive => "inactive",
    }
}

fn scope_text(scope: &[Protocol]) -> String {
    if scope.is_empty() {
        "any".to_owned()
    } else {
        scope
            .iter()
            .map(Protocol::name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn scope_json(scope: &[Protocol]) -> Json {
    Json::List(scope.iter().map(|p| Json::text(p.name())).collect())
}

fn deny_text(reason: DenyReason) -> String {
    match reason {
        DenyReason::MalformedCode => "not a code of the right number of digits".to_owned(),
        DenyReason::WrongCode => "wrong code".to_owned(),
        DenyReason::ClockSkew { steps } => format!(
            "the app's clock is off by {} s; set the phone's time automatically",
            steps.saturating_mul(30)
        ),
        DenyReason::Replayed => "that code was already used; wait for the next one".to_owned(),
        DenyReason::Locked { until } => format!("locked until {}", format_utc(until)),
        DenyReason::EnrollmentExpired => "the enrollment expired".to_owned(),
        other => format!("{other:?}"),
    }
}

/// A name as it can be pasted into a shell.
fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@._-+=/:,".contains(&b))
    {
        text.to_owned()
    } else {
        format!("'{}'", clean(text, 256).replace('\'', r"'\''"))
    }
}
