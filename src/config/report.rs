//! What `mail2fa config check` prints: what a login would use.

use std::path::PathBuf;

use super::error::ConfigError;
use super::file::Config;
use crate::engine::EngineConfig;

/// What a login on this configuration would use, found by
/// [`Config::check`]: the store (opened, never created, checked by the
/// store itself, which writes nothing), the keys and the policies. Its
/// `Display` is the report for operators; it never shows a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckReport {
    /// The configuration file.
    pub origin: String,
    /// `SQLite /path` or `PostgreSQL user@host:port/db` (never a password).
    pub store: String,
    /// Whether the configuration lets a process create the store.
    pub create_allowed: bool,
    /// The store's schema version.
    pub schema_version: i32,
    /// Records in the store.
    pub records: u64,
    /// What the store's own check found wrong (empty: nothing).
    pub problems: Vec<String>,
    /// The key file and the id of its current key, when records are sealed.
    pub encryption: Option<(PathBuf, u32)>,
    /// The device key file, when fingerprints use one (else a key kept in
    /// the store).
    pub device_key_file: Option<PathBuf>,
    /// The engine's settings (secrets included, never shown).
    pub engine: EngineConfig,
}

impl CheckReport {
    /// Whether the store's check found nothing wrong.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Config {
    /// Everything a login needs, checked: the key files read, the store
    /// opened as it exists (never created or migrated, whatever
    /// `store.create` says) and checked by the store itself.
    ///
    /// ```no_run
    /// use mail2fa::config::{Config, DEFAULT_PATH};
    ///
    /// let report = Config::from_file(DEFAULT_PATH)?.check()?;
    /// println!("{report}");
    /// assert!(report.is_sound());
    /// # Ok::<(), mail2fa::config::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Config::engine_config`] and [`Config::open_existing_store`];
    /// [`ConfigError::Store`] when the store's check cannot run.
    pub fn check(&self) -> Result<CheckReport, ConfigError> {
        let engine = self.engine_config()?;
        let (store, schema_version, records, problems) = self.check_store()?;
        Ok(CheckReport {
            origin: self.origin().to_owned(),
            store,
            create_allowed: self.store().create,
            schema_version,
            records,
            problems,
            encryption: self
                .encryption()
                .key_file
                .clone()
                .zip(engine.encryption.as_ref().map(|keys| keys.current_id())),
            device_key_file: self.devices().device_key_file.clone(),
            engine,
        })
    }

    fn check_store(&self) -> Result<(String, i32, u64, Vec<String>), ConfigError> {
        #[cfg(feature = "sqlite")]
        if let Some(path) = &self.store().sqlite_path {
            let store = crate::store::SqliteStore::open_with(path, &self.sqlite_options(false))
                .map_err(|e| self.store_error(e))?;
            let check = store.check().map_err(|e| self.store_error(e))?;
            let problems = if check.is_sound() {
                Vec::new()
            } else {
                check.integrity.clone()
            };
            let name = format!("SQLite {}", path.display());
            return Ok((name, check.schema_version, check.records, problems));
        }
        #[cfg(feature = "postgres")]
        if let Some(connection) = &self.store().postgres_connection {
            let full = self.postgres_connection_string(connection)?;
            let store =
                crate::store::PostgresStore::open_with(&full, &self.postgres_options(false))
                    .map_err(|e| self.store_error(e))?;
            let check = store.check().map_err(|e| self.store_error(e))?;
            let name = format!(
                "PostgreSQL {} (server {})",
                store.target(),
                check.server_version
            );
            return Ok((name, check.schema_version, check.records, Vec::new()));
        }
        // `Config::parse` refuses a file without a store this build has.
        Err(self.store_error(crate::store::StoreError::Backend(
            "no store this build can open".into(),
        )))
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

impl core::fmt::Display for CheckReport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let e = &self.engine;
        writeln!(f, "configuration: {}", self.origin)?;
        writeln!(
            f,
            "store: {} (schema {}, {} records; creation allowed: {})",
            self.store,
            self.schema_version,
            self.records,
            yes_no(self.create_allowed)
        )?;
        for problem in &self.problems {
            writeln!(f, "store problem: {problem}")?;
        }
        match &self.encryption {
            Some((path, id)) => writeln!(
                f,
                "encryption: key file {}, current key id {id}; records in clear refused: {}",
                path.display(),
                yes_no(e.require_sealed)
            )?,
            None => writeln!(f, "encryption: none (records in clear, integrity-checked)")?,
        }
        match &self.device_key_file {
            Some(path) => writeln!(f, "device key: from {}", path.display())?,
            None => writeln!(f, "device key: kept in the store")?,
        }
        let t = e.totp;
        writeln!(
            f,
            "totp (new enrollments): {}, {} digits, {} s, window ±{}; clock diagnosis ±{} steps",
            t.algorithm().name(),
            t.digits().get(),
            t.period(),
            t.window(),
            e.diagnostic_window
        )?;
        let l = e.lockout;
        writeln!(
            f,
            "lockout: after {} wrong codes, first lock {} s, longest {} s",
            l.max_failures, l.first_lock, l.max_lock
        )?;
        let c = e.delivered_codes;
        writeln!(
            f,
            "delivered codes: {} digits, valid {} s, dead after {} wrong, resend after {} s",
            c.digits, c.lifetime, c.max_wrong, c.resend_interval
        )?;
        let d = e.devices;
        writeln!(
            f,
            "devices: {} pending at most, pending for {} s, notify every {} s, \
             last seen written every {} s, binding {} s, reset revokes clients: {}",
            d.max_pending,
            d.pending_ttl,
            d.notify_interval,
            d.seen_interval,
            d.binding_period,
            yes_no(d.reset_revokes_clients)
        )?;
        writeln!(
            f,
            "enrollment valid {} s; longest suspension {} s",
            e.enrollment_ttl, e.max_suspension
        )?;
        let mandatory = if e.mandatory_platforms.is_empty() {
            "none".to_owned()
        } else {
            e.mandatory_platforms.join(", ")
        };
        writeln!(f, "mandatory platforms: {mandatory}")?;
        writeln!(
            f,
            "issuer: {}",
            e.issuer.as_deref().unwrap_or("(the platform name)")
        )?;
        write!(
            f,
            "portal link: {}",
            e.portal_link.as_deref().unwrap_or("none")
        )
    }
}
