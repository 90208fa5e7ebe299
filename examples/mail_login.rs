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
//! The example types the password field as a client would — the account
//! password (or a wrong one with `--wrong-password`), with `--code` appended,
//! or an application password — and hands it to `Engine::check_login` with
//! its own stand-in password check. The database must exist.

use mail2fa::engine::{
    AccountId, ClientInfo, Decision, Engine, EngineConfig, LoginAttempt, Protocol,
};
use mail2fa::store::SqliteStore;

/// The account password in this example's stand-in for the host's
/// directory (a real server checks its own).
const PASSWORD: &str = "T9D3K!px";

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
    // The password field as the client would send it: the account password
    // (this example's stand-in directory knows it as PASSWORD), with a code
    // appended, or an application password instead.
    let password = if wrong_password {
        "not-the-password"
    } else {
        PASSWORD
    };
    let typed = match (get("code"), get("app-password")) {
        (Some(code), _) => format!("{password}{code}"),
        (None, Some(app_password)) => app_password.to_owned(),
        (None, None) => password.to_owned(),
    };
    let attempt = LoginAttempt::new(protocol.clone(), &typed).with_client(
        ClientInfo::new()
            .with_device_id(get("device-id"))
            .with_device_type(get("device-type"))
            .with_user_agent(get("user-agent"))
            .with_remote_addr(get("addr")),
    );
    // One call: the split, the host's password check, the decision.
    let decision = engine.check_login(&id, &attempt, now, |part| part == PASSWORD)?;
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
