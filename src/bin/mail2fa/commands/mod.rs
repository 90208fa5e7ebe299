//! What each command does, on the library's public API: one file per
//! command family, each adding its methods to [`crate::context::Context`].

mod account;
mod app_password;
pub(crate) mod config;
mod db;
mod device;
mod enrollment;
mod login;
mod platform;
