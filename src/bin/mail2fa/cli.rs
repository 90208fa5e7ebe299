//! The command line: every command, option and argument, as clap reads
//! them, and the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mail2fa::engine::{Mode, Protocol, ProtocolPolicy};

use crate::output::ColorChoice;

const EXIT_CODES: &str = "\
Exit status:
  0  done
  1  refused: a wrong code, an action the account's state does not allow,
     a limit reached, or a confirmation not given
  2  bad command line or argument value
  3  not found: no 2FA for the account, no such device or app password
  4  database: cannot be opened, read or written, or found damaged
  5  encryption key: missing, wrong, or its file unreadable
  6  configuration file: missing, unreadable, open to others, or invalid

The configuration file (--config, else /etc/mail2fa/mail2fa.toml) is the one
the mail servers read: its store, keys and policies. --db, --key-file and
--issuer override it. With no file at the default path and none named, --db
alone works with the library's default policies.

Environment: MAIL2FA_CONFIG (configuration file), MAIL2FA_DB (database path or
URL), MAIL2FA_KEY_FILE (encryption keys), MAIL2FA_ISSUER (name shown in
authenticator apps), NO_COLOR.";

/// Manage two-factor authentication for mail accounts: platforms,
/// enrollment, devices and application passwords.
#[derive(Debug, Parser)]
#[command(name = "mail2fa", version, after_help = EXIT_CODES, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The configuration file the mail servers read (default
    /// /etc/mail2fa/mail2fa.toml): the store, the encryption keys and every
    /// policy (TOTP digits, lockout, binding...) come from it.
    #[arg(long, global = true, env = "MAIL2FA_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Overrides the configuration's store (or, with no configuration
    /// file, names it): a SQLite file, or a PostgreSQL URL (`postgres://USER@HOST/DB?sslmode=verify-full…`;
    /// give one with a password through MAIL2FA_DB rather than the command
    /// line, which other users can see). Help never shows the variable's
    /// value; messages show URLs with the password as `***`.
    #[arg(
        long,
        global = true,
        env = "MAIL2FA_DB",
        hide_env_values = true,
        value_name = "PATH|URL"
    )]
    pub(crate) db: Option<PathBuf>,
    /// Overrides the configuration's key file. Encryption keys of account
    /// records: one `ID:KEY` per line (KEY: 64
    /// hex digits), the current key first; the file must not be readable
    /// or writable by group or others (mode 0600 or 0400).
    #[arg(long, global = true, env = "MAIL2FA_KEY_FILE", value_name = "FILE")]
    pub(crate) key_file: Option<PathBuf>,
    /// Overrides the configuration's issuer: the name authenticator apps
    /// show for new enrollments (default: the platform).
    #[arg(long, global = true, env = "MAIL2FA_ISSUER", value_name = "NAME")]
    pub(crate) issuer: Option<String>,
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Do not ask before destructive actions.
    #[arg(short, long, global = true)]
    pub(crate) yes: bool,
    /// When to use colours.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub(crate) color: ColorChoice,
    /// Act as if it were this Unix time (for tests and rehearsals).
    #[arg(long, global = true, hide = true, value_name = "UNIX_TIME")]
    pub(crate) now: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Turn 2FA on or off for a platform (domain), and set its protocol
    /// policies.
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// Enroll, inspect, suspend, reset or remove an account's 2FA.
    #[command(subcommand)]
    Account(AccountCommand),
    /// List and authorize the devices (mail clients) of a mailbox.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Create, list and revoke application passwords.
    #[command(subcommand, name = "app-password")]
    AppPassword(AppPasswordCommand),
    /// Purge expired state; check the database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Check the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Log in as a mail server would and show the decision: the login
    /// string (as the client types it: the password followed by the code,
    /// or an application password) is read from standard input. A real
    /// login: a code it accepts is used up, a wrong one counts toward the
    /// lockout. mail2fa holds no mailbox passwords: the password part is
    /// taken as right (or, with --password wrong, as wrong), as the mail
    /// server's own check would answer. Exit status 0: let in; 1: not.
    Login(LoginArgs),
    /// Print the shell completion script for bash, zsh or fish.
    ///
    /// For example `mail2fa completions bash >
    /// /etc/bash_completion.d/mail2fa` (the Debian package installs all
    /// three).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Write the manual pages (mail2fa.1 and one per command) into a
    /// directory; for packagers.
    #[command(name = "generate-man", hide = true)]
    GenerateMan {
        /// The directory to write into (it must exist).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// The shells `mail2fa completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompletionShell {
    /// GNU bash (bash-completion).
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

/// A login to try: who, over which protocol, from which client.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    #[command(flatten)]
    pub(crate) account: AccountArgs,
    /// The protocol the client uses: imap, pop3, smtp, activesync,
    /// outlook, webmail, portal, rpc-over-http, or another name your
    /// servers use.
    #[arg(long, value_parser = parse_protocol, value_name = "PROTOCOL")]
    pub(crate) protocol: Protocol,
    /// What the mail server's password check answers for the password part.
    #[arg(long, value_enum, default_value = "right", value_name = "ANSWER")]
    pub(crate) password: PasswordAnswer,
    /// The client's IP address, as the server sees it.
    #[arg(long, value_name = "IP")]
    pub(crate) address: Option<String>,
    /// The client's device id (ActiveSync's DeviceId, or IMAP ID's).
    #[arg(long, value_name = "ID")]
    pub(crate) device_id: Option<String>,
    /// The client's device type (ActiveSync's DeviceType).
    #[arg(long, value_name = "TYPE")]
    pub(crate) device_type: Option<String>,
    /// The client's User-Agent (or IMAP ID's name and version).
    #[arg(long, value_name = "TEXT")]
    pub(crate) user_agent: Option<String>,
}

/// What the mail server's password check answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PasswordAnswer {
    /// The password part is right.
    Right,
    /// The password part is wrong (the input may still be an application
    /// password).
    Wrong,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Read and check the configuration file as the mail servers do, open
    /// its store without changing it, and print what a login would use:
    /// the store, its schema, the key ids and every policy. Checks the file
    /// alone: --db, --key-file and --issuer do not apply.
    Check,
}

/// A platform (service or mail domain).
#[derive(Debug, Args)]
pub(crate) struct PlatformArg {
    /// The platform (service or mail domain), e.g. example.com.
    pub(crate) platform: String,
}

/// An account of a platform.
#[derive(Debug, Args)]
pub(crate) struct AccountArgs {
    /// The platform (service or mail domain), e.g. example.com.
    pub(crate) platform: String,
    /// The account (mailbox) name, e.g. alice@example.com.
    pub(crate) account: String,
}

/// Where to show a new provisioning URI.
#[derive(Debug, Args)]
pub(crate) struct QrArgs {
    /// Also write the QR code as an SVG file (created 0600, never
    /// overwritten).
    #[arg(long, value_name = "FILE")]
    pub(crate) svg: Option<PathBuf>,
    /// Do not draw the QR code in the terminal.
    #[arg(long)]
    pub(crate) no_qr: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PlatformCommand {
    /// Turn 2FA on: its accounts may enroll, and enrolled ones need a
    /// second factor.
    Enable(PlatformArg),
    /// Turn 2FA off: no account of the platform needs a second factor
    /// (enrollments are kept for when it is on again).
    Disable(PlatformArg),
    /// Show whether 2FA is on and the policy of every protocol.
    Show(PlatformArg),
    /// Set what 2FA asks of clients on a protocol, for the whole platform.
    Policy {
        #[command(flatten)]
        platform: PlatformArg,
        #[command(flatten)]
        policy: PolicyArgs,
    },
}

/// A protocol and what to ask of it.
#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    /// webmail, portal, activesync, outlook, imap, pop3, smtp,
    /// rpc-over-http, or another name your servers use.
    #[arg(value_parser = parse_protocol)]
    pub(crate) protocol: Protocol,
    /// code-in-login, device-authorization, app-password-only, refused, or
    /// default (remove the override).
    pub(crate) policy: PolicyChoice,
}

/// A protocol policy, or the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PolicyChoice {
    /// The password with a one-time code.
    CodeInLogin,
    /// The password from an authorized device, or an app password.
    DeviceAuthorization,
    /// Only an application password.
    AppPasswordOnly,
    /// Refused.
    Refused,
    /// Remove the override: inherit.
    Default,
}

impl PolicyChoice {
    pub(crate) fn policy(self) -> Option<ProtocolPolicy> {
        match self {
            Self::CodeInLogin => Some(ProtocolPolicy::CodeInLogin),
            Self::DeviceAuthorization => Some(ProtocolPolicy::DeviceAuthorization),
            Self::AppPasswordOnly => Some(ProtocolPolicy::AppPasswordOnly),
            Self::Refused => Some(ProtocolPolicy::Refused),
            Self::Default => None,
        }
    }
}

/// How an account proves the second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ModeChoice {
    /// An authenticator app (recommended).
    Totp,
    /// A code sent by e-mail.
    Email,
    /// A code sent by SMS.
    Sms,
}

impl ModeChoice {
    pub(crate) fn mode(self) -> Mode {
        match self {
            Self::Totp => Mode::Totp,
            Self::Email => Mode::Email,
            Self::Sms => Mode::Sms,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Enable 2FA: prints the provisioning URI and its QR code, pending
    /// until confirmed with a first code.
    Enable {
        #[command(flatten)]
        account: AccountArgs,
        #[command(flatten)]
        qr: QrArgs,
    },
    /// Confirm an enrollment with a code from the authenticator app.
    Confirm {
        #[command(flatten)]
        account: AccountArgs,
        /// The code the app shows.
        code: String,
    },
    /// Show the account's 2FA state (never its secret).
    Show(AccountArgs),
    /// Let the account in without a second factor for a while (lost
    /// phone); 2FA re-arms by itself.
    Suspend {
        #[command(flatten)]
        account: AccountArgs,
        /// How long, in hours (1 to 720; 0 ends a running suspension).
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=720))]
        hours: u64,
    },
    /// New secret (new phone): the old app stops working; prints the new
    /// URI and QR code.
    Reset {
        #[command(flatten)]
        account: AccountArgs,
        #[command(flatten)]
        qr: QrArgs,
    },
    /// Remove 2FA: the secret is destroyed, device tokens and application
    /// passwords are revoked.
    Remove(AccountArgs),
    /// Lift a lockout after too many wrong codes.
    Unlock(AccountArgs),
    /// Choose how the account proves the second factor.
    Mode {
        #[command(flatten)]
        account: AccountArgs,
        /// totp (recommended), email or sms.
        mode: ModeChoice,
    },
    /// Set or remove where e-mail and SMS codes go.
    Contact {
        #[command(flatten)]
        account: AccountArgs,
        /// E-mail address for codes.
        #[arg(long, conflicts_with = "no_email")]
        email: Option<String>,
        /// Remove the e-mail address.
        #[arg(long)]
        no_email: bool,
        /// Mobile number for SMS codes.
        #[arg(long, conflicts_with = "no_phone")]
        phone: Option<String>,
        /// Remove the mobile number.
        #[arg(long)]
        no_phone: bool,
    },
    /// Replace the recovery codes with new ones, shown once.
    RecoveryCodes {
        #[command(flatten)]
        account: AccountArgs,
        /// How many (1 to 32).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=32))]
        count: u64,
    },
    /// Set what 2FA asks of this account's clients on a protocol
    /// (overrides the platform).
    Policy {
        #[command(flatten)]
        account: AccountArgs,
        #[command(flatten)]
        policy: PolicyArgs,
    },
}

/// A device token of an account.
#[derive(Debug, Args)]
pub(crate) struct DeviceArgs {
    #[command(flatten)]
    pub(crate) account: AccountArgs,
    /// The device id from `device list` (or its first 4+ hex digits, if
    /// they name one device).
    pub(crate) device: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DeviceCommand {
    /// List the mailbox's device tokens (blocked and authorized).
    List(AccountArgs),
    /// Authorize a device: it gets in with the password.
    Activate(DeviceArgs),
    /// Block a device again.
    Deactivate(DeviceArgs),
    /// Forget a device: its next login makes a new blocked token.
    Delete(DeviceArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum AppPasswordCommand {
    /// Create an application password, shown once.
    Create {
        #[command(flatten)]
        account: AccountArgs,
        /// What it is for (shown in lists), e.g. "iPhone mail".
        #[arg(long)]
        name: String,
        /// Only on this protocol (repeat for several; default: any that
        /// takes application passwords).
        #[arg(long = "protocol", value_parser = parse_protocol, value_name = "PROTOCOL")]
        protocols: Vec<Protocol>,
    },
    /// List application passwords (never the passwords).
    List(AccountArgs),
    /// Revoke an application password at once.
    Revoke {
        #[command(flatten)]
        account: AccountArgs,
        /// Its id, from `app-password list`.
        id: u32,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Remove expired codes, pending devices, device bindings and the
    /// leftovers of removed accounts.
    Purge,
    /// Check the database file and that every record can be read (with the
    /// configured keys). Changes nothing.
    Check,
    /// Copy every record into another, empty database — from a SQLite file
    /// to PostgreSQL when a cluster outgrows one host, or back. Stop the
    /// mail servers first; the copy is read back and compared.
    Copy {
        /// The target: a SQLite file (created) or a PostgreSQL URL (its
        /// schema created in an empty database).
        #[arg(long, value_name = "PATH|URL")]
        to: PathBuf,
    },
    /// Encrypt, with the current key of --key-file, every account and
    /// devices record still stored in clear: run once when turning
    /// encryption on, since servers with keys refuse logins on plain
    /// records.
    Seal,
}

fn parse_protocol(text: &str) -> Result<Protocol, String> {
    Protocol::from_name(text).map_err(|e| e.to_string())
}
