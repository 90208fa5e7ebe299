//! `mail2fa-server`: mail2fa's web service, configured by the shared
//! configuration file (`/etc/mail2fa/mail2fa.toml`) and working on the
//! store it names.
//!
//! It serves the **panel API** ([`api`]): JSON over HTTP under `/api/v1/`,
//! for a hoster's control panel (often PHP) to do what the operator tool
//! does — platforms, enrollment with the provisioning URI and an SVG QR
//! code, account status and changes, devices, application passwords,
//! e-mail/SMS codes. Every call carries a bearer token listed in
//! `server.api_token_file`; every error is a JSON document with a stable
//! code and a sentence. The OpenAPI document is served at
//! `/api/v1/openapi.json`. And the **self-service portal** ([`portal`]):
//! HTML under `/portal/` where users sign in with their mailbox password
//! ([`password`]: the deployment's own check) and second factor, enroll,
//! authorize devices and manage application passwords; codes and
//! notifications go out by mail or SMS ([`deliver`]). And the **endpoints
//! for nginx** ([`nginx`]): `auth_request` before ActiveSync, EWS and
//! Outlook (device tokens), `auth_http` for nginx's IMAP/POP3/SMTP proxy.
//!
//! ```no_run
//! use mail2fa::config::Config;
//! use mail2fa_server::App;
//!
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::from_file("/etc/mail2fa/mail2fa.toml")?;
//! let app = App::from_config(&config)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app.router()).await?;
//! # Ok(())
//! # }
//! ```

pub mod api;
mod app;
pub mod deliver;
mod log;
pub mod nginx;
pub mod password;
pub mod portal;
pub mod try_out;

pub use app::{App, CheckFuture, Clock, PasswordVerifier, StartError};
