//! The bearer tokens of the configuration: the panel API's
//! (`server.api_token_file`) and the SMS gateway's
//! (`notifications.sms_gateway_token_file`), read with the checks of every
//! secret file.

use zeroize::Zeroizing;

use super::error::ConfigError;
use super::file::Config;
use super::permissions::read_secret_file;

/// The shortest token accepted, in characters: a token is a password
/// that no person types, so it can be long (`openssl rand -hex 32`).
pub const MIN_API_TOKEN_LEN: usize = 32;

impl Config {
    /// The panel API's tokens from `server.api_token_file`: one a line,
    /// blank lines and lines starting with `#` skipped; `None` when the
    /// file is not set (the API accepts nobody). Each token is at least
    /// [`MIN_API_TOKEN_LEN`] printable ASCII characters without spaces;
    /// the tokens are wiped from memory when dropped.
    ///
    /// ```no_run
    /// use mail2fa::config::Config;
    ///
    /// let config = Config::from_file("/etc/mail2fa/mail2fa.toml")?;
    /// let tokens = config.api_tokens()?.unwrap_or_default();
    /// println!("{} panel API token(s)", tokens.len());
    /// # Ok::<(), mail2fa::config::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::File`]: the file cannot be read, is open to group or
    /// others, belongs to another user, is not UTF-8, holds no token, or a
    /// line that is not a token (its number is named, never its text).
    pub fn api_tokens(&self) -> Result<Option<Vec<Zeroizing<String>>>, ConfigError> {
        let Some(path) = &self.server().api_token_file else {
            return Ok(None);
        };
        let what = "token file (server.api_token_file)";
        let bytes = read_secret_file(path, what)?;
        let problem = |problem: String| ConfigError::File {
            what,
            path: path.clone(),
            problem,
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| problem("is not UTF-8".to_owned()))?;
        let mut tokens = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.len() < MIN_API_TOKEN_LEN || !line.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(problem(format!(
                    "line {} is not a token: {MIN_API_TOKEN_LEN} or more printable ASCII \
                     characters without spaces (`openssl rand -hex 32` makes one)",
                    number + 1
                )));
            }
            tokens.push(Zeroizing::new(line.to_owned()));
        }
        if tokens.is_empty() {
            return Err(problem("holds no token".to_owned()));
        }
        Ok(Some(tokens))
    }

    /// The SMS gateway's bearer token from
    /// `notifications.sms_gateway_token_file`: the file's one line
    /// (surrounding white space and a final line break dropped) of
    /// printable ASCII characters without spaces, wiped from memory when
    /// dropped; `None` when the file is not set (requests to the gateway
    /// carry no `Authorization`).
    ///
    /// # Errors
    /// [`ConfigError::File`]: the file cannot be read, is open to group or
    /// others, belongs to another user, is not UTF-8, is empty, or holds
    /// more than one line or characters a header cannot carry (never
    /// quoted).
    pub fn sms_gateway_token(&self) -> Result<Option<Zeroizing<String>>, ConfigError> {
        let Some(path) = &self.notifications().sms_gateway_token_file else {
            return Ok(None);
        };
        one_line_secret(path, "token file (notifications.sms_gateway_token_file)", 1).map(Some)
    }

    /// The secret nginx sends in `X-Mail2fa-Secret`, from
    /// `nginx.secret_file`: one line of at least [`MIN_API_TOKEN_LEN`]
    /// printable ASCII characters without spaces, wiped when dropped;
    /// `None` when the file is not set (the endpoints for nginx refuse
    /// every request).
    ///
    /// # Errors
    /// As [`Config::sms_gateway_token`], and a secret that is too short.
    pub fn nginx_secret(&self) -> Result<Option<Zeroizing<String>>, ConfigError> {
        let Some(path) = &self.nginx().secret_file else {
            return Ok(None);
        };
        one_line_secret(path, "secret file (nginx.secret_file)", MIN_API_TOKEN_LEN).map(Some)
    }

    /// The password of `nginx.master_user`, from
    /// `nginx.master_password_file`: one line of at least
    /// [`MIN_API_TOKEN_LEN`] printable ASCII characters (it opens every
    /// mailbox of the backend: no person types it); `None` when the file
    /// is not set.
    ///
    /// # Errors
    /// As [`Config::nginx_secret`].
    pub fn nginx_master_password(&self) -> Result<Option<Zeroizing<String>>, ConfigError> {
        let Some(path) = &self.nginx().master_password_file else {
            return Ok(None);
        };
        one_line_secret(
            path,
            "password file (nginx.master_password_file)",
            MIN_API_TOKEN_LEN,
        )
        .map(Some)
    }
}

/// The one line of a secret file (surrounding white space and a final
/// line break dropped): printable ASCII without spaces, at least `min`
/// characters, read with the checks of every secret file; never quoted in
/// an error.
fn one_line_secret(
    path: &std::path::Path,
    what: &'static str,
    min: usize,
) -> Result<Zeroizing<String>, ConfigError> {
    let bytes = read_secret_file(path, what)?;
    let problem = |problem: String| ConfigError::File {
        what,
        path: path.to_path_buf(),
        problem,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| problem("is not UTF-8".to_owned()))?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(problem("holds nothing".to_owned()));
    }
    if !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(problem(
            "must hold one line: printable ASCII characters without spaces".to_owned(),
        ));
    }
    if secret.len() < min {
        return Err(problem(format!(
            "must hold {min} or more characters (`openssl rand -hex 32` makes a secret)"
        )));
    }
    Ok(Zeroizing::new(secret.to_owned()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn config_with(dir: &std::path::Path, tokens: &str, mode: u32) -> Config {
        let file = dir.join("tokens");
        std::fs::write(&file, tokens).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let text = format!(
            "[store]\nsqlite_path = \"/nonexistent/db\"\n[server]\napi_token_file = {:?}\n",
            file.display().to_string()
        );
        Config::parse(&text, "test.toml").unwrap()
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mail2fa-tokens-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn tokens_are_read_one_a_line_and_bad_lines_are_named_not_shown() {
        let dir = scratch("read");
        let a = "a".repeat(32);
        let b = "0123456789abcdef0123456789abcdef0123";
        let config = config_with(&dir, &format!("# the panel\n{a}\n\n  {b}  \n"), 0o600);
        let tokens = config.api_tokens().unwrap().unwrap();
        let tokens: Vec<&str> = tokens.iter().map(|t| t.as_str()).collect();
        assert_eq!(tokens, [a.as_str(), b]);

        let short = config_with(&dir, &format!("{a}\nshort-secret-token\n"), 0o600);
        let message = short.api_tokens().unwrap_err().to_string();
        assert!(message.contains("line 2 is not a token"), "{message}");
        assert!(!message.contains("short-secret-token"), "{message}");
        let spaced = config_with(
            &dir,
            "a token with spaces in it that is long enough\n",
            0o600,
        );
        assert!(
            spaced
                .api_tokens()
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
        let empty = config_with(&dir, "# nothing yet\n\n", 0o600);
        assert!(
            empty
                .api_tokens()
                .unwrap_err()
                .to_string()
                .contains("holds no token")
        );
        let open = config_with(&dir, &format!("{a}\n"), 0o644);
        let message = open.api_tokens().unwrap_err().to_string();
        assert!(message.contains("chmod 600"), "{message}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn no_file_configured_is_none() {
        let config =
            Config::parse("[store]\nsqlite_path = \"/nonexistent/db\"\n", "t.toml").unwrap();
        assert!(config.api_tokens().unwrap().is_none());
        assert!(config.sms_gateway_token().unwrap().is_none());
    }

    fn gateway_config(dir: &std::path::Path, token: &str, mode: u32) -> Config {
        let file = dir.join("sms-token");
        std::fs::write(&file, token).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let text = format!(
            "[store]\nsqlite_path = \"/nonexistent/db\"\n[notifications]\n\
             sms_gateway_url = \"http://127.0.0.1:9/send\"\nsms_gateway_token_file = {:?}\n",
            file.display().to_string()
        );
        Config::parse(&text, "test.toml").unwrap()
    }

    #[test]
    fn the_gateway_token_is_one_line_read_with_the_secret_file_checks() {
        let dir = scratch("sms");
        let config = gateway_config(&dir, "  gw-Token.42/xyz\n", 0o600);
        assert_eq!(
            config.sms_gateway_token().unwrap().unwrap().as_str(),
            "gw-Token.42/xyz"
        );

        let two_lines = gateway_config(&dir, "first-secret\nInjected: header\n", 0o600);
        let message = two_lines.sms_gateway_token().unwrap_err().to_string();
        assert!(message.contains("must hold one line"), "{message}");
        assert!(!message.contains("first-secret"), "{message}");
        let spaced = gateway_config(&dir, "two words\n", 0o600);
        assert!(
            spaced
                .sms_gateway_token()
                .unwrap_err()
                .to_string()
                .contains("must hold one line")
        );
        let empty = gateway_config(&dir, " \n", 0o600);
        assert!(
            empty
                .sms_gateway_token()
                .unwrap_err()
                .to_string()
                .contains("holds nothing")
        );
        let open = gateway_config(&dir, "gw-token\n", 0o640);
        let message = open.sms_gateway_token().unwrap_err().to_string();
        assert!(message.contains("chmod 600"), "{message}");
        assert!(
            message.contains("notifications.sms_gateway_token_file"),
            "{message}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_nginx_secret_and_master_password_are_read_with_the_secret_checks() {
        let dir = std::env::temp_dir().join(format!("m2fa-nginx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: &str, mode: u32| {
            let file = dir.join(name);
            std::fs::write(&file, text).unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            file.display().to_string()
        };
        let config = |secret: &str, master: &str| {
            let text = format!(
                "[store]\nsqlite_path = \"/nonexistent/db\"\n[nginx]\nsecret_file = {secret:?}\n\
                 imap_backend = \"127.0.0.1:1143\"\nmaster_user = \"proxy\"\n\
                 master_password_file = {master:?}\n"
            );
            Config::parse(&text, "test.toml").unwrap()
        };
        let long = "0123456789abcdef0123456789abcdef";
        let good = config(
            &write("secret", &format!("{long}\n"), 0o600),
            &write(
                "master",
                "Master-Pass.1-0123456789abcdef0123456789\n",
                0o600,
            ),
        );
        assert_eq!(good.nginx_secret().unwrap().unwrap().as_str(), long);
        assert_eq!(
            good.nginx_master_password().unwrap().unwrap().as_str(),
            "Master-Pass.1-0123456789abcdef0123456789"
        );
        let short = config(
            &write("short", "too-short-secret\n", 0o600),
            &write("master2", "x\n", 0o600),
        );
        let message = short.nginx_secret().unwrap_err().to_string();
        assert!(message.contains("32 or more"), "{message}");
        let message = short.nginx_master_password().unwrap_err().to_string();
        assert!(message.contains("nginx.master_password_file"), "{message}");
        assert!(!message.contains("too-short-secret"), "{message}");
        let open = config(
            &write("open", &format!("{long}\n"), 0o644),
            &write("master3", "x\n", 0o600),
        );
        let message = open.nginx_secret().unwrap_err().to_string();
        assert!(message.contains("nginx.secret_file"), "{message}");
        // Not set: none.
        let none = Config::parse("[store]\nsqlite_path = \"/nonexistent/db\"\n", "t").unwrap();
        assert!(none.nginx_secret().unwrap().is_none());
        assert!(none.nginx_master_password().unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
