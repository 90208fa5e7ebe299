//! mail2fa's PostgreSQL plugin, `libmail2fa-postgres.so`: the PostgreSQL
//! store (`mail2fa::store::PostgresStore`, with its client: tokio-postgres,
//! Tokio, rustls) in a shared object of its own, which the C library and
//! the PAM and Lua modules load only when a PostgreSQL store is asked for
//! (`m2fa_engine_open_postgres`, a configuration file naming
//! `store.postgres_connection`). Without it they carry no PostgreSQL
//! client: a SQLite installation does not ship one.
//!
//! The plugin exports one function, `m2fa_postgres_plugin_v1`, defined in
//! the library (`src/ffi/plugin/export.rs`, feature
//! `postgres-plugin-export`) with the table it hands to the loader; this
//! crate only links it into a `cdylib`. Built by `scripts/build-capi.sh`.

#![forbid(unsafe_code)]

// Linked for its `#[no_mangle]` entry point, which nothing here names.
extern crate mail2fa;
