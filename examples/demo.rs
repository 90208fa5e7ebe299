//! The main job of this release: enroll an authenticator app and verify codes.
//!
//! ```text
//! cargo run --example demo                      # simulates the phone
//! cargo run --example demo -- --interactive     # scan the QR code with your app, type its code
//! ```
//!
//! It generates a secret, prints the provisioning URI and its QR code, then
//! verifies a code the way a mail server would: accept it once, store the
//! matched step, refuse the replay, refuse a wrong code and malformed input.

use std::io::{BufRead, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use mail2fa::{KeyUri, Secret, Totp, TotpConfig};

fn unix_now() -> Result<u64, Box<dyn std::error::Error>> {
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let interactive = std::env::args().any(|a| a == "--interactive");

    // 1. Enrollment: a fresh 160-bit secret and the URI the user scans.
    let secret = Secret::generate()?;
    let config = TotpConfig::default();
    let uri = KeyUri::totp(
        Some("Example Mail"),
        "alice@example.com",
        secret.clone(),
        config,
    )?;
    let text = uri.to_uri();
    println!(
        "Provisioning URI (shown once, it contains the secret):\n  {}\n",
        text.as_str()
    );
    #[cfg(feature = "qr")]
    println!("{}", mail2fa::qr::terminal(&text)?.as_str());

    // 2. Login: the code from the app (or, without --interactive, computed here
    //    exactly as the phone would).
    let totp = Totp::new(&secret, config);
    let now = unix_now()?;
    let typed = if interactive {
        print!("Code shown by your authenticator app: ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let code = totp.generate(now)?;
        println!("The phone shows:           {}", code.as_str());
        code.as_str().to_owned()
    };

    let step = match totp.verify(&typed, now) {
        Ok(Some(step)) => {
            println!(
                "verify:                    accepted, time step {step} (the server stores it as used)"
            );
            step
        }
        Ok(None) => {
            println!(
                "verify:                    refused: wrong code (is the phone's clock right?)"
            );
            return Ok(());
        }
        Err(err) => {
            println!("verify:                    refused: {err}");
            return Ok(());
        }
    };

    // 3. One-time: with the step stored, the same code no longer works.
    let replay = totp.verify_after(&typed, now, step)?;
    println!(
        "replay of the same code:   {}",
        if replay.is_none() {
            "refused"
        } else {
            "ACCEPTED (bug)"
        }
    );

    // 4. A wrong code and malformed input.
    let wrong = if typed == "000000" {
        "111111"
    } else {
        "000000"
    };
    let outcome = totp.verify_after(wrong, now, step)?;
    println!(
        "wrong code:                {}",
        if outcome.is_none() {
            "refused"
        } else {
            "accepted (a 1-in-a-million coincidence)"
        }
    );
    match totp.verify("12 345", now) {
        Err(err) => println!("malformed \"12 345\":        refused: {err}"),
        Ok(_) => println!("malformed \"12 345\":        ACCEPTED (bug)"),
    }
    Ok(())
}
