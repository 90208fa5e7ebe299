//! From a [`Config`] to what a login uses: the engine configuration with
//! its secrets loaded, the store it names, the engine on that store.

use zeroize::Zeroizing;

use super::error::ConfigError;
use super::file::Config;
use super::permissions::read_secret_file;
use crate::engine::{DeviceKey, EncryptionKeys, Engine, EngineConfig};
use crate::store::Store;

impl Config {
    /// The engine configuration: [`Config::policies`] with the encryption
    /// keys read from `encryption.key_file` and the device key from
    /// `devices.device_key_file`, when they are set.
    ///
    /// # Errors
    /// [`ConfigError::File`]: a key file or device key file that cannot
    /// be read, is open to group or others, belongs to another user, or
    /// does not hold a key.
    pub fn engine_config(&self) -> Result<EngineConfig, ConfigError> {
        let mut config = self.policies().clone();
        if let Some(path) = &self.encryption().key_file {
            let keys = EncryptionKeys::from_key_file(path).map_err(|error| {
                let problem = match error {
                    crate::Error::KeyFile { problem, .. } => problem.to_string(),
                    other => other.to_string(),
                };
                ConfigError::File {
                    what: "key file (encryption.key_file)",
                    path: path.clone(),
                    problem,
                }
            })?;
            config = config.with_encryption(keys);
        }
        if let Some(path) = &self.devices().device_key_file {
            config = config.with_device_key(read_device_key(path)?);
        }
        Ok(config)
    }

    /// Opens the store the configuration names, creating it only where
    /// `store.create` allows.
    ///
    /// # Errors
    /// [`ConfigError::File`] for the password file;
    /// [`ConfigError::Store`]: the store cannot be opened (missing and not
    /// to be created, of another schema, unreachable, refused by its own
    /// permission checks).
    pub fn open_store(&self) -> Result<Box<dyn Store>, ConfigError> {
        self.open_store_with(self.store().create)
    }

    /// Opens the store as a check does: never creating or migrating it,
    /// whatever `store.create` says.
    ///
    /// # Errors
    /// As [`Config::open_store`], and a store that does not exist yet.
    pub fn open_existing_store(&self) -> Result<Box<dyn Store>, ConfigError> {
        self.open_store_with(false)
    }

    /// The engine a login uses: [`Config::engine_config`] on
    /// [`Config::open_store`].
    ///
    /// ```no_run
    /// use mail2fa::config::{Config, DEFAULT_PATH};
    /// use mail2fa::engine::AccountId;
    ///
    /// let engine = Config::from_file(DEFAULT_PATH)?.open_engine()?;
    /// let alice = AccountId::new("example.com", "alice@example.com")?;
    /// let decision = engine.login(&alice, Some("123456"), 1_800_000_000)?;
    /// # let _ = decision;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Config::engine_config`] and [`Config::open_store`];
    /// [`ConfigError::Engine`] when the engine cannot start on the store.
    pub fn open_engine(&self) -> Result<Engine<Box<dyn Store>>, ConfigError> {
        let config = self.engine_config()?;
        let store = self.open_store()?;
        Engine::new(store, config).map_err(|source| ConfigError::Engine {
            origin: self.origin().to_owned(),
            source,
        })
    }

    /// `store.postgres_connection` with the password of
    /// `store.postgres.password_file` added, held in memory wiped on drop;
    /// `None` when the store is not PostgreSQL. For a program that opens
    /// the store itself (the operator tool): never print it (see
    /// [`redact_connection_string`](crate::store::redact_connection_string)).
    ///
    /// # Errors
    /// [`ConfigError::File`]: the password file cannot be read, is open to
    /// others, belongs to another user, or holds no password.
    #[cfg(feature = "postgres")]
    pub fn postgres_connection(&self) -> Result<Option<Zeroizing<String>>, ConfigError> {
        self.store()
            .postgres_connection
            .as_deref()
            .map(|connection| self.postgres_connection_string(connection))
            .transpose()
    }

    fn open_store_with(&self, create: bool) -> Result<Box<dyn Store>, ConfigError> {
        let section = self.store();
        if let Some(path) = &section.sqlite_path {
            return self.open_sqlite(path, create);
        }
        match &section.postgres_connection {
            Some(connection) => self.open_postgres(connection, create),
            // `Config::parse` refuses a file without a store.
            None => Err(self.store_error(crate::store::StoreError::Backend(
                "no store configured".into(),
            ))),
        }
    }

    pub(super) fn store_error(&self, source: crate::store::StoreError) -> ConfigError {
        ConfigError::Store {
            origin: self.origin().to_owned(),
            source,
        }
    }

    /// The SQLite options `[store.sqlite]` gives (synchronous, busy
    /// timeout, size limit), with `create` as given: for a program that
    /// opens the store itself (the operator tool).
    #[cfg(feature = "sqlite")]
    pub fn sqlite_options(&self, create: bool) -> crate::store::SqliteOptions {
        use super::sections::SyncMode;
        use crate::store::{SqliteOptions, Synchronous};
        let sqlite = &self.store().sqlite;
        SqliteOptions::default()
            .with_create(create)
            .with_synchronous(match sqlite.synchronous {
                SyncMode::Normal => Synchronous::Normal,
                SyncMode::Full => Synchronous::Full,
            })
            .with_busy_timeout(std::time::Duration::from_secs(sqlite.busy_timeout_seconds))
            .with_max_size((sqlite.max_size_bytes > 0).then_some(sqlite.max_size_bytes))
    }

    #[cfg(feature = "sqlite")]
    fn open_sqlite(
        &self,
        path: &std::path::Path,
        create: bool,
    ) -> Result<Box<dyn Store>, ConfigError> {
        let store = crate::store::SqliteStore::open_with(path, &self.sqlite_options(create))
            .map_err(|e| self.store_error(e))?;
        Ok(Box::new(store))
    }

    #[cfg(not(feature = "sqlite"))]
    fn open_sqlite(
        &self,
        _path: &std::path::Path,
        _create: bool,
    ) -> Result<Box<dyn Store>, ConfigError> {
        // `Config::parse` refuses SQLite in a build without it.
        Err(self.store_error(crate::store::StoreError::Backend(
            "this build has no SQLite store".into(),
        )))
    }

    #[cfg(feature = "postgres")]
    fn open_postgres(&self, connection: &str, create: bool) -> Result<Box<dyn Store>, ConfigError> {
        let connection = self.postgres_connection_string(connection)?;
        let store =
            crate::store::PostgresStore::open_with(&connection, &self.postgres_options(create))
                .map_err(|e| self.store_error(e))?;
        Ok(Box::new(store))
    }

    /// Through the C library's plugin, `libmail2fa-postgres.so` (loaded on
    /// the first call; a missing or refused plugin is a store error that
    /// names the paths looked at and the package to install).
    #[cfg(all(feature = "postgres-plugin", not(feature = "postgres")))]
    fn open_postgres(&self, connection: &str, create: bool) -> Result<Box<dyn Store>, ConfigError> {
        let connection = self.postgres_connection_string(connection)?;
        let postgres = &self.store().postgres;
        let options = crate::ffi::plugin::PostgresOptions {
            max_connections: postgres.max_connections,
            timeout: std::time::Duration::from_secs(postgres.timeout_seconds),
            create,
        };
        let store = crate::ffi::plugin::open_postgres(&connection, &options)
            .map_err(|e| self.store_error(e.into()))?;
        Ok(Box::new(store))
    }

    #[cfg(not(any(feature = "postgres", feature = "postgres-plugin")))]
    fn open_postgres(
        &self,
        _connection: &str,
        _create: bool,
    ) -> Result<Box<dyn Store>, ConfigError> {
        // `Config::parse` refuses PostgreSQL in a build without it.
        Err(self.store_error(crate::store::StoreError::Backend(
            "this build has no PostgreSQL store".into(),
        )))
    }

    /// The PostgreSQL options `[store.postgres]` gives (pool size,
    /// timeout), with `create` as given: for a program that opens the
    /// store itself (the operator tool).
    #[cfg(feature = "postgres")]
    pub fn postgres_options(&self, create: bool) -> crate::store::PostgresOptions {
        let postgres = &self.store().postgres;
        crate::store::PostgresOptions::default()
            .with_create(create)
            .with_max_connections(postgres.max_connections)
            .with_timeout(std::time::Duration::from_secs(postgres.timeout_seconds))
    }

    /// The connection string with the password of `password_file` added
    /// (the file's first line), held in memory wiped on drop.
    #[cfg(any(feature = "postgres", feature = "postgres-plugin"))]
    pub(super) fn postgres_connection_string(
        &self,
        connection: &str,
    ) -> Result<Zeroizing<String>, ConfigError> {
        let Some(path) = &self.store().postgres.password_file else {
            return Ok(Zeroizing::new(connection.to_owned()));
        };
        let what = "password file (store.postgres.password_file)";
        let bytes = read_secret_file(path, what)?;
        let problem = |problem: &str| ConfigError::File {
            what,
            path: path.clone(),
            problem: problem.to_owned(),
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| problem("is not UTF-8"))?;
        let password = text.lines().next().unwrap_or_default();
        if password.is_empty() {
            return Err(problem("holds no password (its first line is empty)"));
        }
        Ok(with_password(connection, password))
    }
}

/// `connection` (which holds no password: `Config::parse` refuses one)
/// with `password` added as a setting, in the string's own form.
#[cfg(any(feature = "postgres", feature = "postgres-plugin"))]
pub(super) fn with_password(connection: &str, password: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(
        connection.len() + 3 * password.len() + 16,
    ));
    out.push_str(connection);
    if connection.starts_with("postgres://") || connection.starts_with("postgresql://") {
        // The settings begin at the first `?` after the user part, as the
        // store reads a URL.
        let start = connection.find("://").map_or(0, |i| i + 3);
        let after_user = connection[start..].find('@').map_or(start, |at| start + at);
        out.push(if connection[after_user..].contains('?') {
            '&'
        } else {
            '?'
        });
        out.push_str("password=");
        for byte in password.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    } else {
        out.push_str(" password='");
        for c in password.chars() {
            if c == '\'' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('\'');
    }
    out
}

/// The device key: 64 hex digits on the file's first line.
fn read_device_key(path: &std::path::Path) -> Result<DeviceKey, ConfigError> {
    let what = "device key file (devices.device_key_file)";
    let bytes = read_secret_file(path, what)?;
    let line = bytes
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    let mut key = Zeroizing::new([0u8; 32]);
    let valid = line.len() == 64
        && key
            .iter_mut()
            .zip(line.chunks_exact(2))
            .all(|(byte, pair)| match (hex(pair[0]), hex(pair[1])) {
                (Some(high), Some(low)) => {
                    *byte = high << 4 | low;
                    true
                }
                _ => false,
            });
    if !valid {
        return Err(ConfigError::File {
            what,
            path: path.to_path_buf(),
            problem: "its first line is not a key of 64 hex digits".into(),
        });
    }
    Ok(DeviceKey::from_bytes(*key))
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;
    use crate::store::{PostgresStore, redact_connection_string};

    #[test]
    fn a_password_is_added_in_the_strings_own_form() {
        let hard = "p a'ss\\w&o=r%d?";
        for connection in [
            "host=db.example dbname=mail2fa user=m",
            "postgres://m@db.example/mail2fa",
            "postgres://m@db.example/mail2fa?sslmode=verify-full",
        ] {
            let full = with_password(connection, hard);
            assert!(full.starts_with(connection));
            assert!(!full.contains(hard), "{}", redact_connection_string(&full));
            // The store reads it (and asks for channel binding: a password over TLS).
            let plan = PostgresStore::plan(&full).map_err(|e| e.to_string());
            assert!(
                plan.is_ok_and(|plan| plan.channel_binding_required),
                "{connection}"
            );
            // And it is the password that is hidden.
            assert!(redact_connection_string(&full).ends_with("password=***"));
        }
    }
}
