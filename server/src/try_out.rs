//! `mail2fa-server --try-out DIR`: the service on the embedded default
//! store for a local try-out — a configuration, a SQLite database, a panel
//! API token and two mailboxes with generated passwords written into DIR,
//! 2FA on for example.com, listening on loopback. Not a deployment: the
//! mailbox passwords are a table of this process, not the mail server's.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::app::{CheckFuture, PasswordVerifier};

/// Mailbox passwords held by this process: the try-out's (and tests')
/// stand-in for the deployment's own check. Compared in constant time.
pub struct PasswordTable(HashMap<String, Zeroizing<String>>);

impl PasswordTable {
    /// A table of `(mailbox, password)` pairs.
    pub fn new<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            entries
                .into_iter()
                .map(|(user, password)| (user.to_owned(), Zeroizing::new(password.to_owned())))
                .collect(),
        )
    }
}

impl PasswordVerifier for PasswordTable {
    fn verify<'a>(
        &'a self,
        account: &'a str,
        password: &'a str,
        _: Option<IpAddr>,
    ) -> CheckFuture<'a> {
        use subtle::ConstantTimeEq;
        let right = self.0.get(account).is_some_and(|known| {
            known.len() == password.len() && bool::from(known.as_bytes().ct_eq(password.as_bytes()))
        });
        Box::pin(async move { Ok(right) })
    }
}

/// What a try-out directory holds.
pub struct TryOut {
    /// The configuration file written.
    pub config: PathBuf,
    /// The panel API's token.
    pub token: Zeroizing<String>,
    /// The mailboxes and their passwords.
    pub users: Vec<(String, Zeroizing<String>)>,
}

/// The mailboxes of a try-out: a user and the platform's administrator.
pub const TRY_OUT_USERS: [&str; 2] = ["alice@example.com", "admin@example.com"];

/// Writes a try-out into `dir` (created, mode 0700; refused if it holds a
/// configuration already), listening on `listen`.
///
/// # Errors
/// The directory or a file cannot be written; no randomness.
pub fn prepare(dir: &Path, listen: &str) -> Result<TryOut, String> {
    let fail = |what: &str, error: std::io::Error| format!("{what} in {}: {error}", dir.display());
    // Plain HTTP and printed passwords: never beyond this machine.
    let loopback = listen
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|address| address.ip().is_loopback());
    if !loopback {
        return Err(format!(
            "a try-out listens on a loopback address only (e.g. 127.0.0.1:8080), not {listen}"
        ));
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| fail("cannot create the directory", e))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| fail("cannot find the directory", e))?;
    let config = dir.join("mail2fa.toml");
    if config.exists() {
        return Err(format!(
            "{} exists: a try-out directory is used once (remove it, or give a new one)",
            config.display()
        ));
    }
    let random = || crate::portal::random_token().ok_or("no randomness from the system".to_owned());
    let token = random()?;
    let write = |name: &str, text: &str| -> Result<PathBuf, String> {
        let path = dir.join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| fail(&format!("cannot create {name}"), e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| fail(&format!("cannot write {name}"), e))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| fail(&format!("cannot protect {name}"), e))?;
        Ok(path)
    };
    let tokens = write("api-tokens", &format!("{}\n", token.as_str()))?;
    let users = TRY_OUT_USERS
        .iter()
        .map(|user| {
            Ok((
                (*user).to_owned(),
                Zeroizing::new(random()?[..16].to_owned()),
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let text = format!(
        "# A try-out of mail2fa-server (mail2fa-server --try-out): not a deployment.\n\
         [store]\nsqlite_path = {db:?}\ncreate = true\n\n\
         [engine]\nissuer = \"mail2fa try-out\"\n\n\
         [server]\nlisten = [{listen:?}]\napi_token_file = {tokens:?}\nadmins = [\"admin@example.com\"]\n",
        db = dir.join("mail2fa.db").display().to_string(),
        tokens = tokens.display().to_string(),
    );
    let config = write("mail2fa.toml", &text)?;
    Ok(TryOut {
        config,
        token,
        users,
    })
}
