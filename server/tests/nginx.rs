//! mail2fa-server behind Debian's nginx with the shipped snippet
//! (`integrations/nginx/mail2fa-server.conf`, paths and ports replaced):
//! TLS at nginx, the portal's pages and security headers through it, the
//! panel API through it, and the client's address as nginx saw it —
//! while a client talking to the service directly cannot claim another
//! address with its own `X-Forwarded-For`. Needs root and nginx:
//! SKIPPED without them, unless MAIL2FA_REQUIRE_E2E=1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

const TOKEN: &str = "panel-token-0123456789abcdef0123456789";

/// A child process stopped (SIGTERM, then waited for) when dropped, also
/// when a check fails.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn skip(why: &str) -> bool {
    if std::env::var("MAIL2FA_REQUIRE_E2E").as_deref() == Ok("1") {
        panic!("MAIL2FA_REQUIRE_E2E=1 but {why}");
    }
    eprintln!("SKIPPED: {why} (apt-get install nginx; run as root)");
    true
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The service on `port`, believing 127.0.0.1; its stderr lines collected.
fn service(dir: &Path, port: u16) -> (Running, Arc<Mutex<Vec<String>>>) {
    let tokens = dir.join("api-tokens");
    std::fs::write(&tokens, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600)).unwrap();
    let conf = dir.join("mail2fa.toml");
    std::fs::write(
        &conf,
        format!(
            "[store]\nsqlite_path = {:?}\ncreate = true\n[server]\nlisten = [\"127.0.0.1:{port}\"]\n\
             api_token_file = {:?}\ntrusted_proxies = [\"127.0.0.1\"]\n\
             [password_check]\ndovecot_socket = {:?}\ntimeout_seconds = 1\n",
            dir.join("mail2fa.db").display().to_string(),
            tokens.display().to_string(),
            dir.join("no-dovecot-here").display().to_string(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_mail2fa-server"))
            .arg("--config")
            .arg(&conf)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = Arc::new(Mutex::new(Vec::new()));
    let reader = BufReader::new(child.0.stderr.take().unwrap());
    let sink = Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in reader.lines() {
            let Ok(line) = line else { return };
            sink.lock().unwrap().push(line);
        }
    });
    for _ in 0..100 {
        if lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("listening on"))
        {
            return (child, lines);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the service did not start: {:?}", lines.lock().unwrap());
}

/// nginx with the shipped snippet in front of the service on `upstream`.
fn nginx(dir: &Path, https: u16, upstream: u16) -> Running {
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem")));
    let snippet = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../integrations/nginx/mail2fa-server.conf"
    ))
    .unwrap();
    let mut text = snippet;
    for (from, to) in [
        ("listen 443 ssl;", format!("listen 127.0.0.1:{https} ssl;")),
        ("    listen [::]:443 ssl;\n", String::new()),
        (
            "/etc/ssl/certs/mail.example.com.pem",
            dir.join("cert.pem").display().to_string(),
        ),
        (
            "/etc/ssl/private/mail.example.com.key",
            dir.join("key.pem").display().to_string(),
        ),
        ("127.0.0.1:8080", format!("127.0.0.1:{upstream}")),
    ] {
        assert!(text.contains(from), "the snippet no longer has {from:?}");
        text = text.replace(from, &to);
    }
    std::fs::write(dir.join("mail2fa-server.conf"), text).unwrap();
    let main = format!(
        "daemon off;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\n\
         events {{}}\nhttp {{\n  access_log {dir}/access.log;\n  client_body_temp_path {dir}/body;\n\
         proxy_temp_path {dir}/proxy;\n  include {dir}/mail2fa-server.conf;\n}}\n",
        dir = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let child = Running(
        Command::new("nginx")
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-p")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", https)).is_ok() {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!(
        "nginx did not start: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
}

/// curl: (status, headers, body).
fn curl(args: &[&str]) -> (u16, String, String) {
    let out = Command::new("curl")
        .args(["-sS", "-k", "-D", "-", "--max-time", "10"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap();
    (status, head.to_lowercase(), body.to_owned())
}

/// A sign-in attempt from `source` to `base`, with a wrong password.
fn wrong_password(base: &str, source: &str, extra: &[&str], jar: &Path) {
    let (_, _, form) = curl(&[
        "--interface",
        source,
        "-c",
        jar.to_str().unwrap(),
        &format!("{base}/portal/sign-in"),
    ]);
    let marker = "name=\"csrf\" value=\"";
    let at = form.find(marker).unwrap() + marker.len();
    let csrf = form[at..].split('"').next().unwrap();
    let mut args = vec![
        "--interface",
        source,
        "-b",
        jar.to_str().unwrap(),
        "--data-urlencode",
        "address=alice@example.com",
        "--data-urlencode",
        "password=wrong",
    ];
    let token = format!("csrf={csrf}");
    args.extend(["--data-urlencode", &token]);
    args.extend(extra);
    let url = format!("{base}/portal/sign-in");
    args.push(&url);
    curl(&args);
}

#[test]
fn behind_nginx_the_portal_keeps_its_headers_and_the_client_its_address() {
    let Some(dir) = scratch_root() else { return };
    let (upstream, https) = (free_port(), free_port());
    let (service, log) = service(&dir, upstream);
    let proxy = nginx(&dir, https, upstream);
    let base = format!("https://127.0.0.1:{https}");

    let (status, head, body) = curl(&[&format!("{base}/portal/sign-in")]);
    assert_eq!(status, 200, "{head}{body}");
    assert!(
        head.contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    assert!(head.contains("x-frame-options: deny"), "{head}");
    assert!(
        head.contains("set-cookie: __host-m2fa_pre=")
            && head.contains("secure; httponly; samesite=strict"),
        "{head}"
    );
    let (status, _, body) = curl(&[
        "-H",
        &format!("Authorization: Bearer {TOKEN}"),
        &format!("{base}/api/v1/platforms/example.com"),
    ]);
    assert_eq!(status, 200, "{body}");

    // Through nginx from 127.0.0.5: the service logs 127.0.0.5, whatever
    // the client's own X-Forwarded-For says.
    let jar = dir.join("jar");
    wrong_password(
        &base,
        "127.0.0.5",
        &["-H", "X-Forwarded-For: 203.0.113.66"],
        &jar,
    );
    // Straight to the service from 127.0.0.6 (not a trusted proxy): its
    // header is not believed either.
    let direct = format!("http://127.0.0.1:{upstream}");
    wrong_password(
        &direct,
        "127.0.0.6",
        &["-H", "X-Forwarded-For: 203.0.113.77"],
        &jar,
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let lines = log.lock().unwrap().join("\n");
    assert!(
        lines.contains("portal sign-in alice@example.com from 127.0.0.5: password"),
        "{lines}"
    );
    assert!(
        lines.contains("portal sign-in alice@example.com from 127.0.0.6: password"),
        "{lines}"
    );
    assert!(!lines.contains("203.0.113."), "{lines}");
    drop(proxy);
    drop(service);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scratch directory nginx's workers can read, or `None` (skipped).
fn scratch_root() -> Option<PathBuf> {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if !is_root {
        skip("not root");
        return None;
    }
    if Command::new("nginx").arg("-v").output().is_err() {
        skip("no nginx");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("mail2fa-nginx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    Some(dir)
}
