//! The main job: a mail server's 2FA flow on the embedded default store, a
//! SQLite database file — enable 2FA, enroll an authenticator app from the
//! QR code, log in with password+code once (one `Engine::check_login` call
//! per login), and see the replay, a wrong code and a wrong password
//! refused, also after the server restarts.
//!
//! ```text
//! cargo run --example demo                      # simulates the phone
//! cargo run --example demo -- --interactive     # scan the QR code with your app, type its code
//! cargo run --example demo -- --db state.db     # keep the database (default: a temporary file)
//! ```

use std::io::{BufRead, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use mail2fa::Totp;
use mail2fa::engine::{AccountId, Decision, Engine, EngineConfig, LoginAttempt, Protocol};
use mail2fa::store::SqliteStore;

/// Alice's account password, as the mail server's own directory checks it.
const PASSWORD: &str = "hunter2";

fn unix_now() -> Result<u64, Box<dyn std::error::Error>> {
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())
}

/// What the client is told, and in brackets what the host logs.
fn show(label: &str, decision: &Decision) {
    let client = match decision.client_answer() {
        mail2fa::engine::ClientAnswer::Allowed => "allowed",
        mail2fa::engine::ClientAnswer::EnrollmentRequired => "enrollment required",
        mail2fa::engine::ClientAnswer::SecondFactorRequired => "code required",
        mail2fa::engine::ClientAnswer::DevicePending => "device pending",
        _ => "refused",
    };
    let host = match decision {
        Decision::Allow { reason, .. } => format!("{reason:?}"),
        Decision::Deny { reason } => format!("{reason:?}"),
        Decision::EnrollmentRequired { .. } => "show the QR code".to_owned(),
        Decision::SecondFactorRequired { mode } => format!("ask for a {mode:?} code"),
        _ => String::new(),
    };
    println!("{label:<27}{client}  [host log: {host}]");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let interactive = args.iter().any(|a| a == "--interactive");
    let kept = args
        .iter()
        .position(|a| a == "--db")
        .map(|i| args.get(i + 1).cloned().ok_or("--db needs a path"))
        .transpose()?;
    let path = match &kept {
        Some(path) => std::path::PathBuf::from(path),
        None => {
            let path = std::env::temp_dir().join(format!("mail2fa-demo-{}.db", std::process::id()));
            remove_database(&path);
            path
        }
    };
    let config = EngineConfig::default().with_issuer("Example Mail".to_owned());
    // Creating the database is the administrator's act; mail servers then
    // only open it.
    let engine = Engine::new(SqliteStore::create(&path)?, config.clone())?;
    println!("Database: {}", path.display());
    let alice = AccountId::new("example.com", "alice@example.com")?;
    let now = unix_now()?;

    // Each login is one call, as a mail server makes it: the password field
    // as typed (here on webmail, which takes the code after the password),
    // and the server's own password check.
    let login = |engine: &Engine<SqliteStore>, typed: &str, now: u64| {
        let attempt = LoginAttempt::new(Protocol::Webmail, typed);
        engine.check_login(&alice, &attempt, now, |password| password == PASSWORD)
    };

    // The operator turns 2FA on for the domain, then for Alice: a fresh
    // 160-bit secret, pending until her first code.
    engine.enable_platform("example.com", true)?;
    let uri = engine.enable_account(&alice, now)?;
    show("login, password only:", &login(&engine, PASSWORD, now)?);
    println!(
        "\nProvisioning URI (shown once, it contains the secret):\n  {}\n",
        uri.as_str()
    );
    #[cfg(feature = "qr")]
    println!("{}", mail2fa::qr::terminal(&uri)?.as_str());

    // The codes from the app — or, without --interactive, computed here
    // exactly as the phone that scanned the URI would.
    let phone = Totp::from_uri(&uri)?;
    let code_at = |prompt: &str, now: u64| -> Result<String, Box<dyn std::error::Error>> {
        if interactive {
            print!("{prompt}");
            std::io::stdout().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            Ok(line.trim_end_matches(['\r', '\n']).to_owned())
        } else {
            let code = phone.generate(now)?;
            println!("The phone shows:           {}", code.as_str());
            Ok(code.as_str().to_owned())
        }
    };
    let first = code_at("Code shown by your authenticator app: ", now)?;
    let now = unix_now()?;
    show(
        "first code confirms:",
        &engine.confirm_enrollment(&alice, &first, now)?,
    );

    // Logins type the password and the code of the moment in one field.
    let later = if interactive { now } else { now + 30 };
    let next = code_at("Next code (wait for the app to show a new one): ", later)?;
    let later = if interactive { unix_now()? } else { later };
    let typed = format!("{PASSWORD}{next}");
    show("login, password+code:", &login(&engine, &typed, later)?);
    show("the same string again:", &login(&engine, &typed, later)?);
    let wrong = if next == "000000" { "111111" } else { "000000" };
    show(
        "password+wrong code:",
        &login(&engine, &format!("{PASSWORD}{wrong}"), later)?,
    );
    show(
        "wrong password+code:",
        &login(&engine, &format!("hunter3{next}"), later)?,
    );

    // The mail server restarts: a new engine on the same file still knows
    // the code was used.
    drop(engine);
    let engine = Engine::new(SqliteStore::open(&path)?, config)?;
    show(
        "again, after a restart:",
        &login(&engine, &typed, later.max(unix_now()?))?,
    );
    if kept.is_none() {
        drop(engine);
        remove_database(&path);
    }
    Ok(())
}

/// Removes a demo database and its WAL files.
fn remove_database(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}
