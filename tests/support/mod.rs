//! What the integration tests share, one job per file:
//! [`stores`] (the backend a suite runs on, `MAIL2FA_TEST_STORE`),
//! [`scratch`] (temporary directories, unique names), [`postgres`] (the
//! test database), [`user`] (the user's authenticator app), [`engine`] (an
//! engine on the test store and the suites' clock), [`logins`] (code logins
//! of the S1–S11 scenarios), [`clients`] (mail clients of the S12–S16
//! scenarios), [`records`] (records behind the engine's back) and [`cli`]
//! (the operator tool in a sandbox, feature `cli`); [`logging`] (a store
//! that logs every call). The items
//! most tests use are re-exported here.

#![allow(dead_code, unreachable_pub)]

pub mod cli;
pub mod clients;
pub mod engine;
pub mod logging;
pub mod logins;
pub mod postgres;
pub mod records;
pub mod scratch;
pub mod stores;
pub mod user;

// Each test crate uses some of these re-exports, and only those count as used.
#[allow(unused_imports)]
pub use postgres::{PostgresSchema, postgres_url, psql};
#[allow(unused_imports)]
pub use scratch::{TempDir, unique};
#[allow(unused_imports)]
pub use stores::{TestStore, backend, fresh_store};
#[allow(unused_imports)]
pub use user::{code, enroll, phone, wrong_code};
