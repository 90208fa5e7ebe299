//! The example mail server:
//!
//! ```text
//! mail2fa-example-tokio --store /var/lib/mail2fa/state.db --users users.txt \
//!     [--imap 127.0.0.1:1143] [--smtp 127.0.0.1:1587] [--create]
//! ```
//!
//! `--store` is a SQLite file or a `postgres://` connection string (made by
//! the operator's `mail2fa` tool, or by `--create`); `--users` holds lines
//! `user@domain password`.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use mail2fa::engine::Protocol;
use mail2fa_example_tokio::{Directory, MailServer, StoreConfig};
use tokio::net::TcpListener;

struct Options {
    store: String,
    users: String,
    imap: String,
    smtp: String,
    create: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        store: String::new(),
        users: String::new(),
        imap: "127.0.0.1:1143".into(),
        smtp: "127.0.0.1:1587".into(),
        create: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--store" => options.store = value()?,
            "--users" => options.users = value()?,
            "--imap" => options.imap = value()?,
            "--smtp" => options.smtp = value()?,
            "--create" => options.create = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if options.store.is_empty() || options.users.is_empty() {
        return Err("--store and --users are required".into());
    }
    Ok(options)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

async fn run(options: Options) -> Result<(), String> {
    let users =
        std::fs::read_to_string(&options.users).map_err(|e| format!("{}: {e}", options.users))?;
    let server = MailServer::start(
        StoreConfig::parse(&options.store),
        options.create,
        Directory::parse(&users),
        unix_now,
    )
    .await
    .map_err(|e| format!("store: {e}"))?;
    let imap = TcpListener::bind(&options.imap)
        .await
        .map_err(|e| format!("{}: {e}", options.imap))?;
    let smtp = TcpListener::bind(&options.smtp)
        .await
        .map_err(|e| format!("{}: {e}", options.smtp))?;
    eprintln!(
        "listening: IMAP-like on {}, SMTP-like on {}",
        options.imap, options.smtp
    );
    let submission = tokio::spawn(std::sync::Arc::clone(&server).serve(smtp, Protocol::Smtp));
    let result = server.serve(imap, Protocol::Imap).await;
    submission.abort();
    result.map_err(|e| format!("accept: {e}"))
}

fn main() -> ExitCode {
    let result = options().and_then(|options| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("runtime: {e}"))?
            .block_on(run(options))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mail2fa-example-tokio: {message}");
            ExitCode::FAILURE
        }
    }
}
