//! Plays a mail server's side of one login against a mail2fa database:
//! what would the server decide for this client, on this protocol, with
//! this credential? Handy to rehearse a policy before the real servers use
//! it, and used by the README's operator walk-through.
//!
//! ```text
//! cargo run --example mail_login -- --db PATH [--now UNIX_TIME]
//!     --protocol activesync [--device-id ID] [--device-type TYPE]
//!     [--user-agent UA] [--addr IP]
//!     [--wrong-password | --code CODE | --app-password PW]
//!     PLATFORM ACCOUNT
//! ```
//!
//! Without `--wrong-password`, the account password is taken as right (the
//! server checks it before asking mail2fa). The database must exist.

use mail2fa::engine::{
    AccountId, ClientInfo, Credential, Decision, Engine, EngineConfig, LoginRequest, Protocol,
};
use mail2fa::store::SqliteStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut option = std::collections::HashMap::new();
    let mut names = Vec::new();
    let mut wrong_password = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--wrong-password" => wrong_password = true,
            flag if flag.starts_with("--") => {
                let value = args.next().ok_or(format!("{flag} needs a value"))?;
                option.insert(flag.trim_start_matches("--").to_owned(), value);
            }
            _ => names.push(arg),
        }
    }
    let [platform, account] = names.as_slice() else {
        return Err("give PLATFORM ACCOUNT (see the top of examples/mail_login.rs)".into());
    };
    let get = |name: &str| option.get(name).map(String::as_str);
    let path = get("db").ok_or("--db PATH is required")?;
    // Only opens an existing database: a login never creates one.
    let store = SqliteStore::open(path)?;
    let engine = Engine::new(store, EngineConfig::default())?;
    let now = match get("now") {
        Some(now) => now.parse()?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs(),
    };
    let id = AccountId::new(platform, account)?;
    let protocol = Protocol::from_name(get("protocol").unwrap_or("imap"))?;
    let credential = match (get("code"), get("app-password")) {
        (Some(code), _) => Credential::PasswordAndCode {
            correct: !wrong_password,
            code,
        },
        (None, Some(password)) => Credential::AppPassword(password),
        (None, None) => Credential::Password {
            correct: !wrong_password,
        },
    };
    let request = LoginRequest::new(protocol.clone(), credential).with_client(
        ClientInfo::new()
            .with_device_id(get("device-id"))
            .with_device_type(get("device-type"))
            .with_user_agent(get("user-agent"))
            .with_remote_addr(get("addr")),
    );
    let decision = engine.authenticate(&id, &request, now)?;
    println!(
        "{} over {}: client told {:?}",
        id.account(),
        protocol.name(),
        decision.client_answer()
    );
    match &decision {
        Decision::Allow { reason, .. } => println!("  why: {reason:?}"),
        Decision::Deny { reason } => println!("  why: {reason:?}"),
        Decision::DevicePending {
            device,
            notification,
        } => {
            println!("  device {device} is blocked until the user activates it");
            if let Some(note) = notification {
                println!("  notify by {:?}: {}", note.channel, note.subject);
            }
        }
        other => println!("  {:?}", other.client_answer()),
    }
    Ok(())
}
