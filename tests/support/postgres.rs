//! The PostgreSQL database of the tests (`MAIL2FA_TEST_POSTGRES`, e.g. from
//! `scripts/pg-server.sh start`): a fresh schema per test, dropped with it,
//! and `psql` to look inside.

use std::process::Command;

use super::scratch::unique;

/// The database of the PostgreSQL tests (`MAIL2FA_TEST_POSTGRES`), if set.
pub fn postgres_url() -> Option<String> {
    std::env::var("MAIL2FA_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// A fresh schema in the test database, and a connection string whose
/// `search_path` is that schema. The schema is dropped with the value.
pub struct PostgresSchema {
    pub name: String,
    pub url: String,
    admin: String,
}

impl PostgresSchema {
    /// A fresh schema, or `None` — the test is skipped, saying so — without
    /// a server; CI (`MAIL2FA_REQUIRE_POSTGRES=1`) never skips.
    pub fn or_skip() -> Option<Self> {
        if postgres_url().is_none() {
            assert!(
                std::env::var("MAIL2FA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MAIL2FA_REQUIRE_POSTGRES=1 but MAIL2FA_TEST_POSTGRES is not set"
            );
            eprintln!("SKIPPED: MAIL2FA_TEST_POSTGRES is not set (scripts/pg-server.sh start)");
            return None;
        }
        Some(Self::new())
    }

    /// Panics without `MAIL2FA_TEST_POSTGRES` (callers check first when the
    /// test is optional).
    pub fn new() -> Self {
        let admin = postgres_url().expect("MAIL2FA_TEST_POSTGRES is not set");
        let name = unique("m2fa_t");
        psql(&admin, &format!("CREATE SCHEMA {name}"));
        let separator = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{separator}options=-c%20search_path%3D{name}");
        Self { name, url, admin }
    }

    /// Runs SQL in this schema (through `psql`), returning its output.
    pub fn sql(&self, statement: &str) -> String {
        psql(&self.url, statement)
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([self.admin.as_str(), "-qAtX", "-c"])
            .arg(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
            .output();
    }
}

/// Runs `statement` with `psql` on `url`; panics on failure.
pub fn psql(url: &str, statement: &str) -> String {
    let output = Command::new("psql")
        .args([url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", statement])
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "psql {statement}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
