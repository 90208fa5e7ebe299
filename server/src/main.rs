//! `mail2fa-server`: serves the panel API on the addresses of
//! `server.listen`, with the store, keys and policies of the configuration
//! file.
//!
//! ```text
//! mail2fa-server [--config FILE]     (default /etc/mail2fa/mail2fa.toml,
//!                                     or $MAIL2FA_CONFIG)
//! mail2fa-server --try-out DIR [--listen IP:PORT]
//!                                    a local try-out on a SQLite file in DIR
//! ```
//!
//! Exit status: 0 after SIGTERM or SIGINT (requests in flight finish
//! first), 2 for a bad command line, 6 for a configuration that cannot be
//! used (or names no address), 1 when an address cannot be listened on.

use std::process::ExitCode;

use mail2fa::config::{Config, DEFAULT_PATH};
use mail2fa_server::try_out::{self, PasswordTable};
use mail2fa_server::{App, StartError};

const USAGE: &str =
    "usage: mail2fa-server [--config FILE]\n       mail2fa-server --try-out DIR [--listen IP:PORT]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut path = std::env::var_os("MAIL2FA_CONFIG").map(std::path::PathBuf::from);
    let mut try_out: Option<std::path::PathBuf> = None;
    let mut listen = "127.0.0.1:8080".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => match args.next() {
                Some(file) => path = Some(file.into()),
                None => return usage(),
            },
            "--try-out" => match args.next() {
                Some(dir) => try_out = Some(dir.into()),
                None => return usage(),
            },
            "--listen" => match args.next() {
                Some(address) => listen = address,
                None => return usage(),
            },
            "--help" | "-h" => {
                println!(
                    "{USAGE}\nServes mail2fa's panel API on server.listen of the configuration file."
                );
                return ExitCode::SUCCESS;
            }
            "--version" | "-V" => {
                println!("mail2fa-server {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
    }
    let mut users = None;
    if let Some(dir) = try_out {
        let prepared = match try_out::prepare(&dir, &listen) {
            Ok(prepared) => prepared,
            Err(error) => {
                eprintln!("mail2fa-server: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "A try-out of mail2fa-server, on {}",
            prepared.config.display()
        );
        println!("Panel API token: {}", prepared.token.as_str());
        for (user, password) in &prepared.users {
            println!("Mailbox {user}, password {}", password.as_str());
        }
        println!("2FA is on for example.com; admin@example.com administers it.");
        path = Some(prepared.config.clone());
        users = Some(prepared.users);
    }
    let path = path.unwrap_or_else(|| DEFAULT_PATH.into());
    let config = match Config::from_file(&path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("mail2fa-server: {error}");
            return ExitCode::from(6);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mail2fa-server: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let table =
        users.map(|users| PasswordTable::new(users.iter().map(|(u, p)| (u.as_str(), p.as_str()))));
    match runtime.block_on(serve(&config, table)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(
            error @ (StartError::Config(_) | StartError::NoListenAddress | StartError::Delivery(_)),
        ) => {
            eprintln!("mail2fa-server: {error}");
            ExitCode::from(6)
        }
        Err(error) => {
            eprintln!("mail2fa-server: {error}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(2)
}

/// Opens everything first (a configuration that cannot be used stops the
/// service before it listens), then serves every address until a signal.
async fn serve(config: &Config, try_out: Option<PasswordTable>) -> Result<(), StartError> {
    let addresses = config.server().listen.clone();
    if addresses.is_empty() {
        return Err(StartError::NoListenAddress);
    }
    let mut app = App::from_config(config)?;
    if let Some(table) = try_out {
        app = app.with_password_verifier(table);
        app.enable_platform_now("example.com").await?;
    }
    let mut listeners = Vec::new();
    for address in &addresses {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|source| StartError::Listen {
                address: address.clone(),
                source,
            })?;
        let bound = listener
            .local_addr()
            .map_or_else(|_| address.clone(), |a| a.to_string());
        eprintln!("mail2fa-server: listening on {bound} (portal: http://{bound}/portal/)");
        listeners.push(listener);
    }
    // After the listening lines (the first line says where the service is).
    eprintln!("mail2fa-server: {}", app.gate().describe());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut servers = tokio::task::JoinSet::new();
    for listener in listeners {
        let router = app.router();
        let mut stopped = stopped.clone();
        servers.spawn(async move {
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, service)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await
        });
    }
    shutdown_signal().await;
    eprintln!("mail2fa-server: stopping");
    let _ = stop.send(true);
    while let Some(done) = servers.join_next().await {
        if let Ok(Err(error)) = done {
            eprintln!("mail2fa-server: {error}");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
