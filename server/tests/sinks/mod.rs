//! Local stand-ins for a mail relay and an SMS gateway, as tokio tasks on
//! 127.0.0.1: each records what it was sent and answers as the test says.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One message an SMTP sink accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA, dot-unstuffed, lines joined by `\r\n`.
    pub data: String,
    /// The client asked for STARTTLS (recorded then, without data: the
    /// sink refuses it with a 454).
    pub starttls: bool,
}

impl Mail {
    /// The header block (up to the first empty line).
    pub fn head(&self) -> &str {
        self.data.split("\r\n\r\n").next().unwrap()
    }

    /// The body (after the first empty line).
    pub fn body(&self) -> &str {
        self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b)
    }

    /// Header names, in order (continuation lines are not names).
    pub fn header_names(&self) -> Vec<String> {
        self.head()
            .split("\r\n")
            .filter(|l| !l.starts_with([' ', '\t']))
            .filter_map(|l| l.split_once(':').map(|(n, _)| n.to_owned()))
            .collect()
    }

    /// The value of the header `name` (continuations unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let mut found: Option<String> = None;
        for line in self.head().split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(value) = found.as_mut() {
                    value.push_str(line);
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((n, v)) = line.split_once(':') {
                if n.eq_ignore_ascii_case(name) {
                    found = Some(v.trim().to_owned());
                }
            }
        }
        found
    }
}

/// How an SMTP sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    /// Accepts every message.
    Accept,
    /// Refuses every recipient with a 550.
    RefuseRecipients,
    /// Accepts connections and says nothing.
    Silent,
    /// Offers STARTTLS (and refuses it when asked), accepts messages.
    OfferStartTls,
}

/// Starts an SMTP sink on 127.0.0.1; returns its address and the messages
/// it accepts.
pub async fn smtp_sink(mode: SmtpMode) -> (SocketAddr, mpsc::UnboundedReceiver<Mail>) {
    smtp_sink_on("127.0.0.1", mode).await
}

/// Starts an SMTP sink on `ip`.
pub async fn smtp_sink_on(ip: &str, mode: SmtpMode) -> (SocketAddr, mpsc::UnboundedReceiver<Mail>) {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    let address = listener.local_addr().unwrap();
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let sender = sender.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                if mode == SmtpMode::Silent {
                    // Holds the connection open, answering nothing.
                    let mut read = read;
                    let mut buffer = [0u8; 512];
                    while read.read(&mut buffer).await.is_ok_and(|n| n > 0) {}
                    return;
                }
                let mut lines = BufReader::new(read);
                let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
                let mut mail = Mail {
                    mail_from: String::new(),
                    rcpt_to: Vec::new(),
                    data: String::new(),
                    starttls: false,
                };
                loop {
                    let mut line = String::new();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let command = line.trim_end().to_owned();
                    let upper = command.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        if mode == SmtpMode::OfferStartTls {
                            b"250-sink.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
                        } else {
                            b"250-sink.test\r\n250 8BITMIME\r\n"
                        }
                    } else if upper == "STARTTLS" {
                        let mut asked = mail.clone();
                        asked.starttls = true;
                        let _ = sender.send(asked);
                        b"454 4.7.0 TLS not available\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        mail.mail_from = command[10..].trim().to_owned();
                        b"250 2.1.0 ok\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        if mode == SmtpMode::RefuseRecipients {
                            b"550 5.7.1 relay access denied\r\n"
                        } else {
                            mail.rcpt_to.push(command[8..].trim().to_owned());
                            b"250 2.1.5 ok\r\n"
                        }
                    } else if upper == "DATA" {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        let mut data = Vec::new();
                        loop {
                            let mut line = String::new();
                            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let line = line.trim_end_matches(['\r', '\n']);
                            if line == "." {
                                break;
                            }
                            data.push(line.strip_prefix('.').unwrap_or(line).to_owned());
                        }
                        mail.data = data.join("\r\n");
                        let _ = sender.send(mail.clone());
                        b"250 2.0.0 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
                        return;
                    } else if upper == "RSET" || upper == "NOOP" {
                        b"250 2.0.0 ok\r\n"
                    } else {
                        b"502 5.5.2 not implemented\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (address, receiver)
}

/// One request an HTTP sink received.
#[derive(Debug, Clone)]
pub struct Posted {
    /// `METHOD /path HTTP/1.1`.
    pub request_line: String,
    /// `(name in lower case, value)`.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Posted {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Starts an HTTP sink answering every request with `status` and
/// `answer` as its body; returns its address and the requests.
pub async fn http_sink(
    status: u16,
    answer: &'static str,
) -> (SocketAddr, mpsc::UnboundedReceiver<Posted>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let sender = sender.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).await.unwrap_or(0) == 0
                    || !request_line.ends_with("HTTP/1.1\r\n")
                {
                    return;
                }
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end_matches(['\r', '\n']);
                    if line.is_empty() {
                        break;
                    }
                    let Some((name, value)) = line.split_once(':') else {
                        // Not HTTP (a TLS handshake, say): nothing recorded.
                        return;
                    };
                    headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
                }
                let length: usize = headers
                    .iter()
                    .find(|(n, _)| n == "content-length")
                    .map_or(0, |(_, v)| v.parse().unwrap());
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body).await.unwrap();
                let _ = sender.send(Posted {
                    request_line: request_line.trim_end().to_owned(),
                    headers,
                    body,
                });
                let response = format!(
                    "HTTP/1.1 {status} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{answer}",
                    if status < 300 { "OK" } else { "Trouble" },
                    answer.len()
                );
                let _ = write.write_all(response.as_bytes()).await;
                let _ = write.shutdown().await;
            });
        }
    });
    (address, receiver)
}

/// A configuration file's text: `[store]` in `dir`, `[notifications]`
/// with `notifications` (TOML lines).
pub fn config_text(dir: &std::path::Path, notifications: &str) -> String {
    format!(
        "[store]\nsqlite_path = {:?}\n[notifications]\n{notifications}\n",
        dir.join("mail2fa.db").display().to_string()
    )
}
