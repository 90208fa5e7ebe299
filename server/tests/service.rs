//! `mail2fa-server` as an operator runs it: one command with the
//! configuration file (the repository's example, paths and the listen
//! address changed), driven by curl over TCP, stopped by SIGTERM; a
//! configuration it cannot use stops it before it listens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const TOKEN: &str = "panel-token-0123456789abcdef0123456789";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mail2fa-service-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The example configuration with the store in `dir` (created on first
/// start), the token file, and `listen`.
fn config(dir: &Path, listen: &str, token_mode: u32) -> PathBuf {
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../integrations/mail2fa.toml"
    ))
    .unwrap();
    let tokens = dir.join("api-tokens");
    std::fs::write(&tokens, format!("# the hoster's panel\n{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(token_mode)).unwrap();
    let mut text = String::new();
    for line in example.lines() {
        let line = match line {
            l if l.starts_with("sqlite_path = ") => {
                format!(
                    "sqlite_path = {:?}",
                    dir.join("mail2fa.db").display().to_string()
                )
            }
            "create = false" => "create = true".to_owned(),
            "listen = []" => format!("listen = [{listen:?}]"),
            l if l.starts_with("#api_token_file = ") => {
                format!("api_token_file = {:?}", tokens.display().to_string())
            }
            l => l.to_owned(),
        };
        text.push_str(&line);
        text.push('\n');
    }
    let path = dir.join("mail2fa.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn start(config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_mail2fa-server"))
        .arg("--config")
        .arg(config)
        .env_remove("MAIL2FA_CONFIG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The address the service says it listens on.
fn listening(child: &mut Child) -> String {
    let stderr = child.stderr.as_mut().unwrap();
    let mut line = String::new();
    BufReader::new(stderr).read_line(&mut line).unwrap();
    line.trim()
        .strip_prefix("mail2fa-server: listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("not a listening line: {line:?}"))
        .to_owned()
}

fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "-o", "-", "-w", "\n%{http_code}", "--max-time", "10"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

#[test]
fn one_command_serves_the_panel_api_until_sigterm() {
    let dir = scratch("serve");
    let conf = config(&dir, "127.0.0.1:0", 0o600);
    let mut child = start(&conf);
    let address = listening(&mut child);
    let base = format!("http://{address}/api/v1");
    let auth = format!("Authorization: Bearer {TOKEN}");

    let (status, body) = curl(&[&format!("{base}/openapi.json")]);
    assert_eq!(status, 200, "{body}");
    let (status, body) = curl(&[&format!("{base}/platforms/example.com")]);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"unauthorized\""), "{body}");
    let (status, body) = curl(&[
        "-X",
        "PUT",
        "-H",
        &auth,
        "-H",
        "Content-Type: application/json",
        "-d",
        "{\"enabled\": true}",
        &format!("{base}/platforms/example.com"),
    ]);
    assert_eq!(
        (status, body.as_str()),
        (200, "{\"enabled\":true,\"platform\":\"example.com\"}")
    );
    let (status, body) = curl(&[
        "-X",
        "POST",
        "-H",
        &auth,
        &format!("{base}/platforms/example.com/accounts/alice@example.com/enrollment"),
    ]);
    assert_eq!(status, 201, "{body}");
    assert!(
        body.contains("otpauth://totp/example.com:alice@example.com?secret="),
        "{body}"
    );

    // SIGTERM: a clean stop.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    // What it wrote is in the store: the operator's view through the library.
    let engine = mail2fa::config::Config::from_file(&conf)
        .unwrap()
        .open_engine()
        .unwrap();
    let alice = mail2fa::engine::AccountId::new("example.com", "alice@example.com").unwrap();
    assert!(engine.account_status(&alice, 1_800_000_000).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_configuration_it_cannot_use_stops_it_before_it_listens() {
    let dir = scratch("refuse");
    // A token file others may read: refused, the fix named.
    let conf = config(&dir, "127.0.0.1:0", 0o644);
    let out = Command::new(env!("CARGO_BIN_EXE_mail2fa-server"))
        .arg("--config")
        .arg(&conf)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains("api-tokens") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN), "{stderr}");
    // No address to listen on.
    let conf = config(&dir, "127.0.0.1:0", 0o600);
    let text = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("listen = [\"127.0.0.1:0\"]", "listen = []");
    std::fs::write(&conf, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mail2fa-server"))
        .arg("--config")
        .arg(&conf)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("server.listen"), "{stderr}");
    // A missing file.
    let out = Command::new(env!("CARGO_BIN_EXE_mail2fa-server"))
        .args(["--config", "/nonexistent/mail2fa.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_try_out_starts_with_one_command_on_a_sqlite_file() {
    let dir = scratch("try-out");
    let place = dir.join("try");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mail2fa-server"))
        .arg("--try-out")
        .arg(&place)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("MAIL2FA_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let address = listening(&mut child);
    let mut said = String::new();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    for _ in 0..5 {
        said.push_str(&lines.next().unwrap().unwrap());
        said.push('\n');
    }
    let token = said
        .lines()
        .find_map(|l| l.strip_prefix("Panel API token: "))
        .unwrap()
        .to_owned();
    assert!(
        said.contains("Mailbox alice@example.com, password "),
        "{said}"
    );
    let mode = std::fs::metadata(&place).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert!(place.join("mail2fa.db").exists());
    let (status, body) = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("http://{address}/api/v1/platforms/example.com"),
    ]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"enabled\":true"), "{body}");
    let (status, body) = curl(&[&format!("http://{address}/portal/sign-in")]);
    assert_eq!(status, 200);
    assert!(body.contains("<h1>Sign in</h1>"), "{body}");
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    // Used once: a second try-out in the same directory is refused.
    let again = Command::new(env!("CARGO_BIN_EXE_mail2fa-server"))
        .arg("--try-out")
        .arg(&place)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("used once"));
    let _ = std::fs::remove_dir_all(&dir);
}
