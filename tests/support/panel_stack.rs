//! The daemon on the real mail stack with its panel API: a configuration in a temporary folder
//! (the fixtures' roster, a tokens file with a team member and a panel member, the API on a
//! free loopback port, the digest to the project team's mailbox), the daemon as a child
//! process, plain HTTP to the API, and messages built and read as a partnership would.
#![allow(dead_code)]

use super::mailstack::MailStack;
use base64::Engine;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub const TEAM: &str = "team-token";
pub const MEMBER: &str = "alice-token";

/// A running daemon with its configuration folder; killed on drop.
pub struct Panel {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub url: String,
    child: Child,
}

impl Drop for Panel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Panel {
    /// Starts the daemon on `stack` and waits for its API.
    pub fn start(stack: &MailStack) -> Panel {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            root().join("fixtures/config/partnerships.toml"),
            dir.path().join("partnerships.toml"),
        )
        .unwrap();
        std::fs::write(dir.path().join("password"), "secret\n").unwrap();
        let hash = yjsend::domain::panel::members::token_hash;
        std::fs::write(
            dir.path().join("tokens.toml"),
            format!(
                "[[member]]\nname = \"Alice\"\nrole = \"panel\"\ntoken_sha256 = \"{}\"\n\n\
                 [[member]]\nname = \"Team\"\nrole = \"team\"\ntoken_sha256 = \"{}\"\n",
                hash(MEMBER),
                hash(TEAM)
            ),
        )
        .unwrap();
        let port = free_port();
        let config = dir.path().join("yjsend.toml");
        std::fs::write(
            &config,
            format!(
                r#"[round]
name = "Quality Mark and Quality Lead 2018"
reference_prefix = "YJS-2018"
deadline = "2018-02-23T23:59:59"
timezone = "Europe/London"
roster = "partnerships.toml"
outcomes_by = "2018-03-16"

[mailbox]
kind = "imap"
host = "localhost"
port = {imap}
tls = "starttls"
ca_file = "{ca}"
username = "youthjusticesend"
password_file = "password"
poll_seconds = 30
trusted_authserv_id = "mx.example.org"

[smtp]
kind = "smtp"
host = "localhost"
port = {submission}
tls = "starttls"
ca_file = "{ca}"
username = "youthjusticesend"
password_file = "password"
from = "Youth Justice SEND <youthjusticesend@example.org>"

[digest]
to = ["projectteam@example.org"]

[storage]
path = "yjsend.db"

[panel]
listen = "127.0.0.1:{port}"
tokens_file = "tokens.toml"
"#,
                imap = stack.imap_port,
                submission = stack.submission_port,
                ca = stack.ca_file.display(),
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_yjsend"))
            .arg("--config")
            .arg(&config)
            .arg("run")
            .env("YJSEND_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("yjsend starts");
        let url = format!("http://127.0.0.1:{port}");
        let panel = Panel {
            dir,
            config,
            url,
            child,
        };
        eventually(30, "the API", || {
            TcpStream::connect(panel.url.trim_start_matches("http://")).ok()
        });
        panel
    }

    /// A request to the API with the team's token: the status and the body.
    pub fn api(&self, method: &str, path: &str, body: &str) -> (u16, Vec<u8>) {
        http(&self.url, method, path, Some(TEAM), body)
    }

    /// `GET path` as JSON.
    pub fn json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.api("GET", path, "");
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).expect("JSON")
    }
}

/// Waits until `f` gives something, or panics after `secs`.
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A bare HTTP/1.1 request: the status and the body.
pub fn http(
    url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Vec<u8>) {
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(out.len());
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut body = out[(split + 4).min(out.len())..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + size]);
        b = &b[end + 2 + size + 2..];
    }
    out
}

/// A message as a mail program writes it: plain text and attachments, from `from` with `cc`
/// copied, optionally in reply to `in_reply_to` (with `references`).
pub struct Mail<'a> {
    pub from: &'a str,
    pub cc: &'a [&'a str],
    pub subject: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub references: &'a [&'a str],
    pub text: &'a str,
    pub attachments: Vec<(String, Vec<u8>)>,
}

impl Mail<'_> {
    pub fn bytes(&self) -> Vec<u8> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let boundary = "----=_Part_yjs_test";
        let domain = self.from.rsplit_once('@').map_or("", |x| x.1);
        let mut m = format!(
            "Authentication-Results: mx.example.org; dkim=pass header.d={domain}; spf=pass; dmarc=pass header.from={domain}\r\n\
             From: {from}\r\nTo: Youth Justice SEND <youthjusticesend@example.org>\r\n",
            from = self.from
        );
        if !self.cc.is_empty() {
            m += &format!("Cc: {}\r\n", self.cc.join(", "));
        }
        m += &format!(
            "Subject: {}\r\nDate: Tue, 20 Feb 2018 10:00:00 +0000\r\nMessage-ID: {}\r\n",
            self.subject, self.message_id
        );
        if let Some(r) = self.in_reply_to {
            m += &format!("In-Reply-To: {r}\r\n");
        }
        if !self.references.is_empty() {
            m += &format!("References: {}\r\n", self.references.join(" "));
        }
        m += &format!(
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n\
             --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
            self.text
        );
        for (name, data) in &self.attachments {
            let encoded = b64.encode(data);
            let lines: Vec<&str> = encoded
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            m += &format!(
                "--{boundary}\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\n\
                 Content-Disposition: attachment; filename=\"{name}\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
                lines.join("\r\n")
            );
        }
        m += &format!("--{boundary}--\r\n");
        m.into_bytes()
    }
}

/// An attachment of a fixture message, by file name.
pub fn fixture_attachment(fixture: &str, name: &str) -> Vec<u8> {
    use mail_parser::MimeHeaders;
    let raw = std::fs::read(root().join("fixtures/eml").join(fixture)).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    parsed
        .attachments()
        .find(|a| a.attachment_name() == Some(name))
        .unwrap_or_else(|| panic!("{name} in {fixture}"))
        .contents()
        .to_vec()
}

/// Every message in `user`'s INBOX whose subject names `reference`, as (Message-ID, plain
/// text, raw), oldest first.
pub fn replies(stack: &MailStack, user: &str, reference: &str) -> Vec<(String, String, String)> {
    stack
        .fetch_all(user, "INBOX")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|raw| {
            let parsed = mail_parser::MessageParser::default().parse(&raw)?;
            if !parsed.subject()?.contains(&format!("[{reference}]")) {
                return None;
            }
            Some((
                format!("<{}>", parsed.message_id()?),
                parsed.body_text(0)?.into_owned(),
                String::from_utf8_lossy(&raw).into_owned(),
            ))
        })
        .collect()
}

/// Sends `raw` to the project's mailbox over SMTP, as `from`.
pub fn send(stack: &MailStack, from: &str, raw: &[u8]) {
    stack
        .deliver_smtp(from, "youthjusticesend@example.org", raw)
        .expect("delivered");
}

/// The path of a file in the panel's folder.
pub fn path_in(panel: &Panel, name: &str) -> PathBuf {
    Path::new(panel.dir.path()).join(name)
}
