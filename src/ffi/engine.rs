//! `m2fa_engine`: the 2FA engine for C hosts, and its openers — over the
//! in-memory store, a SQLite file or a PostgreSQL database (a host's own
//! store: `store.rs`).
//!
//! Every engine call is thread-safe: one `m2fa_engine` serves all the auth
//! threads of a process. Accounts are named by `(platform, account)`
//! strings. Answers come back as `m2fa_decision` handles, read with getters,
//! so that new kinds of answers never change a struct layout.

use core::ffi::c_char;
use std::sync::Arc;

use super::boundary::{
    ffi_boundary, free_handle, handle, out_ptr, str_arg, write_handle, write_text_cut,
};
use super::config::m2fa_engine_config;
use super::status::m2fa_status;
use crate::engine::{AccountId, Engine, EngineConfig};
use crate::store::{MemoryStore, Store};

/// The engine behind an `m2fa_engine`: the store is chosen when it is made.
pub(super) type HostEngine = Engine<Box<dyn Store>>;

/// An engine over a store (opaque): the in-memory store
/// (`m2fa_engine_new`; state lives as long as the handle), a SQLite
/// database file (`m2fa_engine_open`), a PostgreSQL database shared by a
/// cluster (`m2fa_engine_open_postgres`) or the host's own store
/// (`m2fa_engine_with_store`), or as a configuration file says
/// (`m2fa_engine_open_config`). Thread-safe: share one handle between
/// all threads, for the life of the process; free it once, when no thread
/// uses it. Not across `fork`: a child process must neither use nor free
/// its parent's engine (the store's threads and connections stay the
/// parent's); it opens its own.
pub struct m2fa_engine {
    /// Shared with the pending logins begun on it (`m2fa_pending_login`),
    /// which keep the store open until they are freed.
    pub(super) engine: Arc<HostEngine>,
}

impl m2fa_engine {
    /// The handle of a new engine.
    pub(super) fn new(engine: HostEngine) -> Self {
        Self {
            engine: Arc::new(engine),
        }
    }
}

/// Creates an engine over a new in-memory store (NULL config: defaults).
/// Release with `m2fa_engine_free`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_CONFIG`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_new(
    config: *const m2fa_engine_config,
    out: *mut *mut m2fa_engine,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: config is NULL or a live handle.
        let config =
            unsafe { config.as_ref() }.map_or_else(EngineConfig::default, |c| c.config.clone());
        let store: Box<dyn Store> = Box::new(MemoryStore::new());
        let engine = Engine::new(store, config)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_engine::new(engine)) };
        Ok(())
    })
}

/// Creates an engine over the existing SQLite database at `path` (NULL
/// config: defaults), shared safely with other threads and processes that
/// open the same file, durable across restarts. Nothing is created unless
/// `m2fa_engine_config_set_sqlite` said `create` ≠ 0: a missing file, an
/// empty (0-byte) file or one without the mail2fa schema is refused, as are
/// a symbolic link, a file that is not a mail2fa database, one written by a
/// newer mail2fa, and a file, `-wal`/`-shm` file or directory that group or
/// others may write or that belongs to a user other than this process's
/// effective user and root. Without a device key in the
/// configuration, the engine keeps one in the database. Release with
/// `m2fa_engine_free` (which closes the database; its state stays).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_CONFIG`,
/// `M2FA_STORAGE_FAILURE` (the file is missing, empty, without the schema,
/// cannot be opened or is refused), `M2FA_CORRUPT_RECORD`,
/// `M2FA_UNSUPPORTED` (built without SQLite).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_open(
    path: *const c_char,
    config: *const m2fa_engine_config,
    out: *mut *mut m2fa_engine,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: path is NUL-terminated; config is NULL or a live handle.
        let (path, config) = unsafe { (str_arg(path)?, config.as_ref()) };
        #[cfg(feature = "sqlite")]
        {
            let (settings, options) = config.map_or_else(
                || {
                    (
                        EngineConfig::default(),
                        crate::store::SqliteOptions::default(),
                    )
                },
                |c| (c.config.clone(), c.sqlite.clone()),
            );
            let store =
                crate::store::SqliteStore::open_with(path, &options).map_err(crate::Error::from)?;
            let store: Box<dyn Store> = Box::new(store);
            let engine = Engine::new(store, settings)?;
            // SAFETY: out checked non-NULL.
            unsafe { write_handle(out, m2fa_engine::new(engine)) };
            Ok(())
        }
        #[cfg(not(feature = "sqlite"))]
        {
            let _ = (out, path, config);
            Err(m2fa_status::M2FA_UNSUPPORTED)
        }
    })
}

/// Creates an engine over the PostgreSQL database named by `conninfo`
/// (NULL config: defaults), shared with every other host that opens it: a
/// code consumed through one host is refused by all the others. `conninfo`
/// takes libpq's forms (`postgres://user:password@host/db?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem`
/// or `host=/run/postgresql dbname=mail2fa`). Over TCP the connection is
/// TLS with the server's certificate and name verified, whatever `sslmode`
/// says, and never falls back to plain text (a server without TLS gets no
/// password: `M2FA_STORAGE_FAILURE`); plain only with `sslmode=disable`,
/// and over Unix sockets. With TLS and a password, SCRAM channel binding is
/// required unless the string says `channel_binding=`. The mail2fa schema
/// must exist (in the connection's `search_path` schema): nothing is
/// created unless `m2fa_engine_config_set_postgres` said `create` ≠ 0, so
/// a database without it refuses every login (`M2FA_STORAGE_FAILURE`); a
/// database of an older or newer schema, or tables that are not mail2fa's,
/// are refused too. Every later call fails closed (`M2FA_STORAGE_FAILURE`, the
/// login refused) while the server cannot be reached, within the timeout.
/// Release with `m2fa_engine_free` (which closes the connections).
///
/// The C library built by scripts/build-capi.sh (and the PAM and Lua
/// modules) carries no PostgreSQL client: the first call loads the plugin
/// `libmail2fa-postgres.so` (package mail2fa-postgres), once per process,
/// from `mail2fa/` beside the library (or the module or program it is
/// linked into), else from the directory fixed at build time (by default
/// `/usr/lib/<multiarch>/mail2fa`); never from an environment variable.
/// The plugin and every directory above it must belong to root or to this
/// process's effective user and must not be writable by group or others (a
/// sticky directory such as /tmp only above a directory of theirs), and it
/// must be of this library's version. Opened through a configuration file
/// instead, `m2fa_engine_open_config_message` says what is wrong in words
/// (the paths looked at, the package to install, the fix).
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`, `M2FA_INVALID_CONFIG`,
/// `M2FA_STORAGE_FAILURE` (a bad string, no server, failed authentication,
/// no mail2fa schema, a refused schema; messages never carry the password;
/// a plugin refused: controlled by another user, writable by others, of
/// another version), `M2FA_CORRUPT_RECORD`, `M2FA_UNSUPPORTED` (built
/// without PostgreSQL, or the plugin is not installed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_open_postgres(
    conninfo: *const c_char,
    config: *const m2fa_engine_config,
    out: *mut *mut m2fa_engine,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: conninfo is NUL-terminated; config is NULL or a live handle.
        let (conninfo, config) = unsafe { (str_arg(conninfo)?, config.as_ref()) };
        #[cfg(feature = "postgres")]
        {
            let (settings, options) = config.map_or_else(
                || {
                    (
                        EngineConfig::default(),
                        crate::store::PostgresOptions::default(),
                    )
                },
                |c| (c.config.clone(), c.postgres.clone()),
            );
            let store = crate::store::PostgresStore::open_with(conninfo, &options)
                .map_err(crate::Error::from)?;
            let store: Box<dyn Store> = Box::new(store);
            let engine = Engine::new(store, settings)?;
            // SAFETY: out checked non-NULL.
            unsafe { write_handle(out, m2fa_engine::new(engine)) };
            Ok(())
        }
        #[cfg(all(feature = "postgres-plugin", not(feature = "postgres")))]
        {
            use super::plugin::{OpenError, open_postgres};
            let (settings, options) = config.map_or_else(
                || (EngineConfig::default(), Default::default()),
                |c| (c.config.clone(), c.postgres.clone()),
            );
            let store = open_postgres(conninfo, &options).map_err(|error| match error {
                OpenError::Plugin(super::plugin::PluginError::Missing { .. }) => {
                    m2fa_status::M2FA_UNSUPPORTED
                }
                other => {
                    m2fa_status::from(crate::Error::from(crate::store::StoreError::from(other)))
                }
            })?;
            let store: Box<dyn Store> = Box::new(store);
            let engine = Engine::new(store, settings)?;
            // SAFETY: out checked non-NULL.
            unsafe { write_handle(out, m2fa_engine::new(engine)) };
            Ok(())
        }
        #[cfg(not(any(feature = "postgres", feature = "postgres-plugin")))]
        {
            let _ = (out, conninfo, config);
            Err(m2fa_status::M2FA_UNSUPPORTED)
        }
    })
}

/// Creates an engine as the configuration file at `path` says (the
/// TOML file every mail2fa component reads; by default
/// `/etc/mail2fa/mail2fa.toml`, the commented example is
/// `integrations/mail2fa.toml`): its store (a SQLite file or a PostgreSQL
/// database, created only if the file says `create = true`), its
/// encryption key file, database password file and device key file, and
/// its policies (TOTP parameters, lockout, codes, devices). The
/// configuration must not be writable by group or others, the files of
/// secrets not readable by them, and each must belong to this process's
/// effective user or root. Release with `m2fa_engine_free`.
///
/// To tell the administrator what is wrong (the file, the line and column,
/// the fix), use `m2fa_engine_open_config_message`.
///
/// Errors: `M2FA_NULL_ARGUMENT`, `M2FA_INVALID_UTF8`,
/// `M2FA_INVALID_CONFIG_FILE` (the configuration or a file it names),
/// `M2FA_STORAGE_FAILURE` and the other storage statuses (the store cannot
/// be opened), `M2FA_CORRUPT_RECORD`, `M2FA_UNSUPPORTED` (built without
/// the configuration file).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_open_config(
    path: *const c_char,
    out: *mut *mut m2fa_engine,
) -> m2fa_status {
    ffi_boundary!({
        let out = out_ptr(out)?;
        // SAFETY: path is NUL-terminated.
        let path = unsafe { str_arg(path)? };
        let engine = open_config(path).map_err(|(status, _)| status)?;
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_engine::new(engine)) };
        Ok(())
    })
}

/// As `m2fa_engine_open_config`; on a failure other than a NULL `out` or
/// `needed`, also writes why, in one line of English, into `(buf, len)`
/// (cut to fit, always NUL-terminated when `len` > 0) and the message's
/// whole size into `*needed`, while the status stays the failure's: the
/// file (and, for the configuration itself, `path:line:column`) and what
/// to do, never a secret or a connection string. The one exception to the
/// out-parameter rule: this text is written on failure, and `buf` is left
/// alone on success. `buf` may be NULL with `len` 0. 512 bytes are enough
/// for any message but the longest paths.
///
/// Errors: as `m2fa_engine_open_config`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_open_config_message(
    path: *const c_char,
    out: *mut *mut m2fa_engine,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> m2fa_status {
    ffi_boundary!({
        let (out, needed) = (out_ptr(out)?, out_ptr(needed)?);
        let fail = |status: m2fa_status, message: &str| {
            // SAFETY: buf is NULL or writable for len bytes; needed checked.
            unsafe { write_text_cut(message, buf, len, needed) };
            status
        };
        // SAFETY: path is NULL or NUL-terminated.
        let path = unsafe { str_arg(path) }.map_err(|status| fail(status, status.message()))?;
        let engine = open_config(path).map_err(|(status, message)| fail(status, &message))?;
        // SAFETY: out checked non-NULL.
        unsafe { write_handle(out, m2fa_engine::new(engine)) };
        Ok(())
    })
}

/// The engine a configuration file names, or the status and the message
/// of why not.
#[cfg(feature = "config")]
fn open_config(path: &str) -> Result<HostEngine, (m2fa_status, String)> {
    use crate::config::{Config, ConfigError};
    let opened = Config::from_file(path).and_then(|config| config.open_engine());
    opened.map_err(|error| {
        let message = error.to_string();
        let status = match error {
            ConfigError::Store { source, .. } => m2fa_status::from(crate::Error::from(source)),
            ConfigError::Engine { source, .. } => m2fa_status::from(source),
            _ => m2fa_status::M2FA_INVALID_CONFIG_FILE,
        };
        (status, message)
    })
}

/// Without the configuration file: unsupported.
#[cfg(not(feature = "config"))]
fn open_config(_path: &str) -> Result<HostEngine, (m2fa_status, String)> {
    Err((
        m2fa_status::M2FA_UNSUPPORTED,
        "this build of mail2fa reads no configuration file (feature `config`)".into(),
    ))
}

/// Frees an engine: an in-memory engine's state goes with it; a database
/// is closed and keeps its state — once the pending logins begun on it
/// (`m2fa_engine_begin_login`) are freed too. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn m2fa_engine_free(engine: *mut m2fa_engine) {
    let _ = ffi_boundary!({
        // SAFETY: NULL or a live handle freed once.
        unsafe { free_handle(engine) };
        Ok(())
    });
}

/// The engine and the account named by two C strings.
///
/// # Safety
/// `engine` is NULL or live; the strings are NULL or NUL-terminated.
pub(super) unsafe fn engine_and_account<'a>(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
) -> Result<(&'a HostEngine, AccountId), m2fa_status> {
    // SAFETY: forwarded contract.
    let (engine, platform, account) =
        unsafe { (handle(engine)?, str_arg(platform)?, str_arg(account)?) };
    Ok((&*engine.engine, AccountId::new(platform, account)?))
}

/// Runs an account operation that returns nothing.
///
/// # Safety
/// Pointer contracts of `m2fa_engine_remove`.
pub(super) unsafe fn account_call(
    engine: *const m2fa_engine,
    platform: *const c_char,
    account: *const c_char,
    call: impl FnOnce(&HostEngine, &AccountId) -> crate::Result<()>,
) -> m2fa_status {
    ffi_boundary!({
        // SAFETY: forwarded pointer contracts.
        let (engine, id) = unsafe { engine_and_account(engine, platform, account) }?;
        call(engine, &id)?;
        Ok(())
    })
}
