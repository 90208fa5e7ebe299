//! Which configuration the tool follows: the file (`--config`,
//! `MAIL2FA_CONFIG`, or the default path) with `--db`, `--key-file` and
//! `--issuer` as overrides, or — when there is no file at the default
//! path and none was named — `--db` alone with the library's defaults.

use std::path::PathBuf;

use mail2fa::config::{Config, ConfigError, DEFAULT_PATH};
use mail2fa::engine::{EncryptionKeys, EngineConfig};

use crate::cli::Global;
use crate::database::{Location, Tuning};
use crate::failure::{CONFIG, DATABASE, Failure, KEY, USAGE, exit_code, fail};

/// What the tool opens, and with which engine settings.
pub(crate) struct Settings {
    /// The store: `--db`, or the file's `[store]`.
    pub(crate) location: Location,
    /// How the store is opened (the file's `[store.sqlite]` and
    /// `[store.postgres]`, or the stores' defaults).
    pub(crate) tuning: Tuning,
    /// Every policy of the file (or the defaults), its keys loaded.
    pub(crate) engine: EngineConfig,
}

/// The configuration file named by `--config` (or `MAIL2FA_CONFIG`), or
/// the one at [`DEFAULT_PATH`] if there is one; `None` when none was named
/// and the default path holds nothing.
pub(crate) fn load(global: &Global) -> Result<Option<Config>, Failure> {
    let path = match &global.config {
        Some(path) => path.clone(),
        None => {
            let default = PathBuf::from(DEFAULT_PATH);
            if std::fs::symlink_metadata(&default).is_err() {
                return Ok(None);
            }
            default
        }
    };
    Config::from_file(&path).map(Some).map_err(failure)
}

/// The configuration file to check: as [`load`], but a missing default
/// file is an error.
pub(crate) fn load_for_check(global: &Global) -> Result<Config, Failure> {
    load(global)?.ok_or_else(|| {
        fail(
            CONFIG,
            format!(
                "no configuration file at {DEFAULT_PATH}: name one with --config FILE \
                 (or MAIL2FA_CONFIG)."
            ),
        )
    })
}

/// What the command line and the configuration file say, together.
pub(crate) fn resolve(global: &Global) -> Result<Settings, Failure> {
    let Some(mut config) = load(global)? else {
        return without_file(global);
    };
    if let Some(path) = &global.key_file {
        config = config.with_key_file(path.clone());
    }
    let mut engine = config.engine_config().map_err(failure)?;
    if global.issuer.is_some() {
        engine = engine.with_issuer(global.issuer.clone());
    }
    let tuning = Tuning {
        sqlite: config.sqlite_options(false),
        postgres: config.postgres_options(false).with_max_connections(1),
    };
    let location = match &global.db {
        Some(db) => Location::new(db),
        None => from_file(&config)?,
    };
    Ok(Settings {
        location,
        tuning,
        engine,
    })
}

/// No file at the default path and none named: `--db` with the library's
/// defaults, as before configuration files.
fn without_file(global: &Global) -> Result<Settings, Failure> {
    let Some(db) = &global.db else {
        return Err(fail(
            USAGE,
            format!(
                "no configuration file at {DEFAULT_PATH} and no database named: give \
                 --config FILE (or MAIL2FA_CONFIG), or --db PATH|URL (or MAIL2FA_DB)."
            ),
        ));
    };
    // Its errors name the file and the line, and exit with KEY.
    let encryption = global
        .key_file
        .as_deref()
        .map(EncryptionKeys::from_key_file)
        .transpose()?;
    Ok(Settings {
        location: Location::new(db),
        tuning: Tuning::default(),
        engine: EngineConfig::default()
            .with_issuer(global.issuer.clone())
            .with_encryption(encryption),
    })
}

/// The store the file's `[store]` names.
fn from_file(config: &Config) -> Result<Location, Failure> {
    if let Some(path) = &config.store().sqlite_path {
        return Ok(Location::File(path.clone()));
    }
    match config.postgres_connection().map_err(failure)? {
        Some(connection) => Ok(Location::Postgres(connection.as_str().to_owned())),
        // `Config::parse` refuses a file without a store.
        None => Err(fail(
            CONFIG,
            format!("{}: no store configured.", config.origin()),
        )),
    }
}

/// A configuration error as the tool reports it: the message names the
/// file (and line and column) and the fix; the status says which part is
/// at fault.
pub(crate) fn failure(error: ConfigError) -> Failure {
    let code = match &error {
        ConfigError::File { what, .. } if what.starts_with("configuration") => CONFIG,
        ConfigError::File { what, .. } if what.starts_with("password") => DATABASE,
        ConfigError::File { .. } => KEY,
        ConfigError::Store { .. } => DATABASE,
        ConfigError::Engine { source, .. } => exit_code(source),
        _ => CONFIG,
    };
    fail(code, format!("{error}."))
}
