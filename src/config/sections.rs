//! The sections of the file that are not engine policies: where the store
//! is, the secrets (by file name only), and what later components read.

use std::path::PathBuf;

use serde::Deserialize;

/// `[store]`: the store every component opens. Exactly one of
/// `sqlite_path` and `postgres_connection`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct StoreSection {
    /// The SQLite database file (an absolute path).
    pub sqlite_path: Option<PathBuf>,
    /// A PostgreSQL connection string (a `postgres://` URL or a libpq
    /// `key=value` list) without a password: the password comes from
    /// [`PostgresSection::password_file`].
    pub postgres_connection: Option<String>,
    /// Whether opening may create the database (SQLite) or the schema
    /// (PostgreSQL) — the administrator's act (default `false`: a missing
    /// store is an error, never an empty store that answers "no 2FA").
    pub create: bool,
    /// `[store.sqlite]`.
    pub sqlite: SqliteSection,
    /// `[store.postgres]`.
    pub postgres: PostgresSection,
}

/// How commits reach the disk (`[store.sqlite] synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SyncMode {
    /// Every commit synced before it returns (the default).
    #[default]
    Full,
    /// Synced at WAL checkpoints only (a power failure may lose the last
    /// commits).
    Normal,
}

/// `[store.sqlite]`: read when `sqlite_path` is set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SqliteSection {
    /// `"full"` (default) or `"normal"`.
    pub synchronous: SyncMode,
    /// How long a writer waits for another process's lock, in seconds
    /// (default 5).
    pub busy_timeout_seconds: u64,
    /// Largest database size in bytes; 0 (the default): no limit but the
    /// disk's.
    pub max_size_bytes: u64,
}

/// `[store.postgres]`: read when `postgres_connection` is set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PostgresSection {
    /// Most connections of each process's pool (default 4).
    pub max_connections: usize,
    /// Bound on connecting, waiting for a connection and each statement,
    /// in seconds (default 5).
    pub timeout_seconds: u64,
    /// A file holding the database password (its first line), mode 0600
    /// or 0400, owned by the process's user or root. None: no password
    /// (a Unix socket with peer authentication).
    pub password_file: Option<PathBuf>,
}

/// `[encryption]`: records sealed at rest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct EncryptionSection {
    /// The key file (`ID:KEY` lines, current key first; see
    /// [`EncryptionKeys::from_key_file`](crate::engine::EncryptionKeys::from_key_file)).
    /// None: records in clear (integrity-checked only).
    pub key_file: Option<PathBuf>,
    /// With a key file, refuse records written in clear (default `true`).
    pub require_sealed: bool,
}

/// `[server]`: read by `mail2fa-server` (the panel API, the portal).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerSection {
    /// Addresses to listen on, `"IP:PORT"` (default none).
    pub listen: Vec<String>,
    /// A file holding the panel API's tokens, one a line (mode 0600).
    pub api_token_file: Option<PathBuf>,
    /// How long a portal sign-in lasts without use, in seconds (default
    /// 1800; 60 to 86400).
    pub session_seconds: u64,
    /// The portal's administrators: mailbox addresses, each an
    /// administrator of its own platform (the domain after `@`).
    pub admins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed: addresses or
    /// networks (`"127.0.0.1"`, `"10.0.0.0/8"`, `"::1"`). A request from
    /// anyone else is taken to come from its TCP peer, whatever it says.
    pub trusted_proxies: Vec<String>,
}

/// `[password_check]`: how `mail2fa-server` checks a mailbox password
/// (portal sign-in): with the deployment's own authentication.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PasswordCheckSection {
    /// `"dovecot"` (Dovecot's authentication socket, the default) or
    /// `"pam"`.
    pub method: PasswordMethod,
    /// Dovecot's authentication client socket (default
    /// `/run/dovecot/auth-client`).
    pub dovecot_socket: PathBuf,
    /// The PAM service (default `mail2fa-portal`: `/etc/pam.d/mail2fa-portal`).
    pub pam_service: String,
    /// Bound on one check, in seconds (default 5).
    pub timeout_seconds: u64,
}

/// Which authentication checks mailbox passwords (`[password_check] method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PasswordMethod {
    /// Dovecot's authentication socket (the protocol Postfix's SASL uses).
    #[default]
    Dovecot,
    /// PAM, with [`PasswordCheckSection::pam_service`].
    Pam,
}

/// `[notifications]`: read by `mail2fa-server`, which delivers codes and
/// the engine's notifications by mail and SMS.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct NotificationsSection {
    /// The SMTP relay, `"HOST:PORT"`.
    pub smtp_relay: Option<String>,
    /// The sender address of notifications.
    pub from: Option<String>,
    /// The SMS gateway: an `http://` or `https://` URL that takes a POST
    /// of `{"to": "+41…", "text": "…"}`.
    pub sms_gateway_url: Option<String>,
    /// A file holding the gateway's bearer token (mode 0600), if it needs
    /// one.
    pub sms_gateway_token_file: Option<PathBuf>,
    /// Bound on one delivery, in seconds (default 10).
    pub timeout_seconds: u64,
}

/// `[nginx]`: read by `mail2fa-server`'s endpoints for nginx —
/// `auth_request` in front of ActiveSync, EWS, MAPI and RPC over HTTP, and
/// the mail proxy's `auth_http` for IMAP, POP3 and SMTP.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct NginxSection {
    /// A file holding the secret nginx sends in `X-Mail2fa-Secret` (one
    /// line of 32 or more printable characters, mode 0600). Unset: both
    /// endpoints refuse every request.
    pub secret_file: Option<PathBuf>,
    /// The realm of the Basic challenge HTTP clients get (default
    /// `"Mail"`).
    pub realm: String,
    /// How long a refused mail-proxy client waits before its next try, in
    /// seconds (`Auth-Wait`; default 3, at most 60).
    pub wait_seconds: u64,
    /// The IMAP backend the mail proxy hands an allowed login to,
    /// `"IP:PORT"`. Unset: IMAP through the proxy is refused.
    pub imap_backend: Option<String>,
    /// The POP3 backend, `"IP:PORT"`. Unset: POP3 is refused.
    pub pop3_backend: Option<String>,
    /// The SMTP backend (it takes nginx's `XCLIENT`), `"IP:PORT"`. Unset:
    /// SMTP is refused.
    pub smtp_backend: Option<String>,
    /// The master user nginx logs in to the IMAP and POP3 backends as, on
    /// behalf of the mailbox (`mailbox*master_user`, Dovecot's master
    /// users): the client's own password+code is spent and never sent
    /// again. Required with an IMAP or POP3 backend.
    pub master_user: Option<String>,
    /// A file holding the master user's password (one line, mode 0600).
    pub master_password_file: Option<PathBuf>,
}

impl Default for NginxSection {
    fn default() -> Self {
        Self {
            secret_file: None,
            realm: "Mail".to_owned(),
            wait_seconds: 3,
            imap_backend: None,
            pop3_backend: None,
            smtp_backend: None,
            master_user: None,
            master_password_file: None,
        }
    }
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: Vec::new(),
            api_token_file: None,
            session_seconds: 1800,
            admins: Vec::new(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for PasswordCheckSection {
    fn default() -> Self {
        Self {
            method: PasswordMethod::Dovecot,
            dovecot_socket: PathBuf::from("/run/dovecot/auth-client"),
            pam_service: "mail2fa-portal".to_owned(),
            timeout_seconds: 5,
        }
    }
}

impl Default for NotificationsSection {
    fn default() -> Self {
        Self {
            smtp_relay: None,
            from: None,
            sms_gateway_url: None,
            sms_gateway_token_file: None,
            timeout_seconds: 10,
        }
    }
}

impl Default for EncryptionSection {
    fn default() -> Self {
        Self {
            key_file: None,
            require_sealed: crate::engine::EngineConfig::default().require_sealed,
        }
    }
}

impl Default for SqliteSection {
    fn default() -> Self {
        // The store's own defaults where the store is built in; the same
        // numbers otherwise (a build without the store never reads them).
        #[cfg(feature = "sqlite")]
        {
            let options = crate::store::SqliteOptions::default();
            Self {
                synchronous: match options.synchronous {
                    crate::store::Synchronous::Normal => SyncMode::Normal,
                    _ => SyncMode::Full,
                },
                busy_timeout_seconds: options.busy_timeout.as_secs(),
                max_size_bytes: options.max_size.unwrap_or(0),
            }
        }
        #[cfg(not(feature = "sqlite"))]
        Self {
            synchronous: SyncMode::Full,
            busy_timeout_seconds: 5,
            max_size_bytes: 0,
        }
    }
}

impl Default for PostgresSection {
    fn default() -> Self {
        #[cfg(feature = "postgres")]
        {
            let options = crate::store::PostgresOptions::default();
            Self {
                max_connections: options.max_connections,
                timeout_seconds: options.timeout.as_secs(),
                password_file: None,
            }
        }
        #[cfg(not(feature = "postgres"))]
        Self {
            max_connections: 4,
            timeout_seconds: 5,
            password_file: None,
        }
    }
}
