//! A small mail server on Tokio that gates every login with mail2fa.
//!
//! It speaks a minimal IMAP-like line protocol over TCP — `a LOGIN user
//! password` answered `a OK` or `a NO`, `a LOGOUT` — one listener per mail
//! protocol, and decides each login with one call of mail2fa's async API,
//! [`AsyncEngine::check_login`]: the password field as the client typed it
//! (a password, a password+code string or an application password), the
//! server's own asynchronous password check, the protocol and the client's
//! address in; the decision out. The engine's reads and writes run on
//! Tokio's blocking threads, so a slow store write (an fsync, another
//! writer's lock, a PostgreSQL round trip) holds up no other connection.
//! The store is chosen by configuration: a SQLite file or a PostgreSQL
//! database; the code is the same for both.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mail2fa::asynchronous::{AsyncEngine, Password};
use mail2fa::engine::{AccountId, ClientInfo, Engine, EngineConfig, LoginAttempt, Protocol};
use mail2fa::store::{PostgresStore, SqliteStore, Store, StoreError};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The longest command line the server reads.
const MAX_LINE: u64 = 4096;

/// The engine the server gates logins with, on the configured store.
pub type Gate = AsyncEngine<Box<dyn Store>>;

/// Where the server keeps its 2FA state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by connection string.
    Postgres(String),
}

impl StoreConfig {
    /// `postgres://…` or `postgresql://…`: PostgreSQL; anything else is the
    /// path of a SQLite file (`sqlite:` in front is allowed).
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Self::Postgres(text.to_owned())
        } else {
            Self::Sqlite(PathBuf::from(text.strip_prefix("sqlite:").unwrap_or(text)))
        }
    }

    /// Opens the store (`create`: makes a new database or schema, the
    /// administrator's act). Blocks: call it off the runtime.
    fn open(&self, create: bool) -> Result<Box<dyn Store>, StoreError> {
        Ok(match (self, create) {
            (Self::Sqlite(path), false) => Box::new(SqliteStore::open(path)?),
            (Self::Sqlite(path), true) => Box::new(SqliteStore::create(path)?),
            (Self::Postgres(url), false) => Box::new(PostgresStore::open(url)?),
            (Self::Postgres(url), true) => Box::new(PostgresStore::create(url)?),
        })
    }
}

/// The server's own account passwords, checked asynchronously as an LDAP
/// bind or an SQL query would be. (A real directory keeps password hashes
/// and compares in constant time.)
#[derive(Debug, Default)]
pub struct Directory {
    passwords: HashMap<String, String>,
    checks: AtomicU64,
}

impl Directory {
    /// The directory with `user`'s password set.
    #[must_use]
    pub fn with_user(mut self, user: &str, password: &str) -> Self {
        self.passwords.insert(user.to_owned(), password.to_owned());
        self
    }

    /// A directory from lines `user password` (blank lines and `#` comments
    /// skipped).
    pub fn parse(text: &str) -> Self {
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| line.split_once(char::is_whitespace))
            .fold(Self::default(), |directory, (user, password)| {
                directory.with_user(user, password.trim())
            })
    }

    /// Whether `password` is `user`'s.
    pub async fn check(&self, user: &str, password: &Password) -> bool {
        // Where a real directory awaits its server.
        tokio::task::yield_now().await;
        let right = self
            .passwords
            .get(user)
            .is_some_and(|known| known.as_str() == password.as_str());
        self.checks.fetch_add(1, Ordering::SeqCst);
        right
    }

    /// How many password checks have completed.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::SeqCst)
    }
}

/// The mail server: the gate, the directory and the clock.
pub struct MailServer {
    gate: Gate,
    directory: Directory,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl MailServer {
    /// Opens the store (creating it if `create`) and the engine, off the
    /// runtime. `clock` gives the time of each login, in Unix seconds.
    ///
    /// # Errors
    /// The store cannot be opened, or the engine refuses it.
    pub async fn start(
        store: StoreConfig,
        create: bool,
        directory: Directory,
        clock: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> Result<Arc<Self>, mail2fa::Error> {
        let engine = tokio::task::spawn_blocking(move || {
            Engine::new(store.open(create)?, EngineConfig::default())
        })
        .await
        .map_err(|_| mail2fa::Error::Interrupted)??;
        Ok(Arc::new(Self {
            gate: AsyncEngine::new(engine),
            directory,
            clock: Box::new(clock),
        }))
    }

    /// The engine, for administration (enrollment, application passwords)
    /// through [`AsyncEngine::run`].
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The server's password directory.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Accepts connections on `listener` for `protocol`, one task each,
    /// until accepting fails.
    ///
    /// # Errors
    /// Accepting a connection fails.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        protocol: Protocol,
    ) -> std::io::Result<()> {
        loop {
            let (stream, peer) = listener.accept().await?;
            let server = Arc::clone(&self);
            let protocol = protocol.clone();
            tokio::spawn(async move {
                // A connection that fails ends alone.
                let _ = server
                    .session(stream, &peer.ip().to_string(), protocol)
                    .await;
            });
        }
    }

    /// One client's connection: a greeting, then a command per line.
    async fn session(
        &self,
        stream: TcpStream,
        peer: &str,
        protocol: Protocol,
    ) -> std::io::Result<()> {
        let (reader, mut writer) = stream.into_split();
        let mut reader = BufReader::new(reader);
        writer.write_all(b"* OK mail2fa example ready\r\n").await?;
        let mut line = String::new();
        loop {
            line.clear();
            if (&mut reader).take(MAX_LINE).read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let mut words = line.split_whitespace();
            let tag = words.next().unwrap_or("*");
            let answer = match (
                words.next().map(str::to_ascii_uppercase).as_deref(),
                words.next(),
                words.next(),
                words.next(),
            ) {
                (Some("LOGIN"), Some(user), Some(input), None) => {
                    if self.login(user, input, peer, &protocol).await {
                        format!("{tag} OK LOGIN completed\r\n")
                    } else {
                        format!("{tag} NO LOGIN failed\r\n")
                    }
                }
                (Some("LOGOUT"), None, _, _) => {
                    writer
                        .write_all(format!("* BYE\r\n{tag} OK LOGOUT completed\r\n").as_bytes())
                        .await?;
                    return Ok(());
                }
                _ => format!("{tag} BAD unknown command\r\n"),
            };
            writer.write_all(answer.as_bytes()).await?;
        }
    }

    /// The gate: whether `user`, typing `input` in the password field over
    /// `protocol` from `peer`, gets in now. One call to mail2fa; every error
    /// (a store that cannot answer, input no client sends) refuses.
    pub async fn login(&self, user: &str, input: &str, peer: &str, protocol: &Protocol) -> bool {
        let Some((_, domain)) = user.rsplit_once('@') else {
            return false;
        };
        let Ok(id) = AccountId::new(domain, user) else {
            return false;
        };
        let attempt = LoginAttempt::new(protocol.clone(), input)
            .with_client(ClientInfo::new().with_remote_addr(peer));
        let now = (self.clock)();
        let check = |password: Password| async move { self.directory.check(user, &password).await };
        match self.gate.check_login(&id, attempt, now, check).await {
            Ok(decision) => decision.is_allowed(),
            Err(error) => {
                // Never the input: the message says what failed, not what was typed.
                eprintln!("login of {user}: refused: {error}");
                false
            }
        }
    }
}
