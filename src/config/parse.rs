//! Reading a configuration: the file's checks, TOML, then the checks of
//! the values, each error placed at its line and column.

use std::path::Path;

use super::error::ConfigError;
use super::file::Config;
use super::location;
use super::permissions::read_config_file;
use super::validate;

impl Config {
    /// Reads, checks and parses the configuration file at `path`
    /// (typically [`DEFAULT_PATH`](super::DEFAULT_PATH)). The file must be
    /// a regular file of at most 1 MiB, writable by nobody but its owner,
    /// owned by the process's effective user or root.
    ///
    /// # Errors
    /// [`ConfigError::File`] for a file that cannot be read or that another
    /// user controls; else as [`Config::parse`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = read_config_file(path)?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks `text`; `origin` names it in messages (the file's
    /// path). Reads no file.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`], at the line and column of the problem: not
    /// TOML, an unknown key, a value of the wrong type, no store or two, a
    /// path that is not absolute, a PostgreSQL connection string that
    /// carries a password (use `store.postgres.password_file`) or that
    /// mail2fa refuses, a store this build does not have, or a value the
    /// engine refuses.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|error| ConfigError::Invalid {
            location: location::at_offset(text, origin, error.span().map_or(0, |s| s.start)),
            message: error.message().trim_end().to_owned(),
        })?;
        config.origin = origin.to_owned();
        let invalid = |(path, message): (&[&str], String)| ConfigError::Invalid {
            location: location::of_key(text, origin, path),
            message,
        };
        validate::sections(&config).map_err(invalid)?;
        config.policies = validate::policies(&config).map_err(invalid)?;
        Ok(config)
    }
}
