//! OAuth2 sign-in on the real stack: Dovecot checks bearer tokens at a local token endpoint
//! (`tests/mailstack/token_server.py`), and the daemon signs in to IMAP (OAUTHBEARER, or
//! XOAUTH2) and to the submission service (XOAUTH2) with tokens from it: answering mail, getting
//! a fresh token after the servers restart and the old one is refused, and saying clearly when
//! the client secret is refused.
//!
//! Needs root and the stack's packages, like `daemon_imap.rs`.

#[path = "support/mailstack.rs"]
mod mailstack;

use mailstack::MailStack;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A configuration signing in with OAuth2 (`imap_auth`: `oauth2` or `xoauth2`) and a client
/// secret.
fn config(dir: &Path, stack: &MailStack, imap_auth: &str, secret: &str) -> (PathBuf, u16) {
    std::fs::write(dir.join("client-secret"), format!("{secret}\n")).unwrap();
    let oauth2 = format!(
        r#"provider = "generic"
token_url = "http://127.0.0.1:{oauth}/token"
client_id = "yjsend"
client_secret_file = "client-secret""#,
        oauth = stack.oauth2_port.unwrap()
    );
    config_with(dir, stack, imap_auth, &oauth2)
}

/// The same with another `[oauth2]` section.
fn config_with(dir: &Path, stack: &MailStack, imap_auth: &str, oauth2: &str) -> (PathBuf, u16) {
    std::fs::copy(
        root().join("fixtures/config/partnerships.toml"),
        dir.join("partnerships.toml"),
    )
    .unwrap();
    let panel = free_port();
    let text = format!(
        r#"[round]
name = "Quality Mark and Quality Lead 2018"
reference_prefix = "YJS-2018"
deadline = "2018-02-23T23:59:59"
timezone = "Europe/London"
roster = "partnerships.toml"

[mailbox]
kind = "imap"
host = "localhost"
port = {imap}
tls = "starttls"
ca_file = "{ca}"
username = "youthjusticesend@example.org"
auth = "{imap_auth}"
poll_seconds = 5
trusted_authserv_id = "mx.example.org"

[smtp]
kind = "smtp"
host = "localhost"
port = {submission}
tls = "starttls"
ca_file = "{ca}"
auth = "oauth2"
from = "Youth Justice SEND <youthjusticesend@example.org>"
retry_seconds = 1

[oauth2]
{oauth2}

[storage]
path = "yjsend.db"

[panel]
listen = "127.0.0.1:{panel}"
tokens_file = "tokens.toml"
"#,
        imap = stack.imap_port,
        submission = stack.submission_port,
        ca = stack.ca_file.display(),
    );
    let path = dir.join("yjsend.toml");
    std::fs::write(&path, text).unwrap();
    (path, panel)
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(config: &Path) -> Daemon {
    Daemon(
        Command::new(env!("CARGO_BIN_EXE_yjsend"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("YJSEND_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn variant(n: usize) -> Vec<u8> {
    std::fs::read_to_string(root().join("fixtures/eml/001-xlsx-plain.eml"))
        .unwrap()
        .replace(
            "Message-ID: <001-xlsx-plain@mail.oxfordshire.example>",
            &format!("Message-ID: <oauth-{n}@mail.oxfordshire.example>"),
        )
        .replace(
            "Subject: Oxfordshire re-score grid",
            &format!("Subject: Oxfordshire re-score grid {n}"),
        )
        .into_bytes()
}

fn replies(stack: &MailStack) -> usize {
    stack
        .fetch_all("send.lead@oxfordshire.example", "INBOX")
        .unwrap_or_default()
        .iter()
        .filter(|m| String::from_utf8_lossy(m).contains("Auto-Submitted: auto-replied"))
        .count()
}

fn healthz(port: u16) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn answered_through_restarts(imap_auth: &str) {
    let Some(stack) = MailStack::start_with_oauth2() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cfg, panel) = config(dir.path(), &stack, imap_auth, "client-secret");
    let _daemon = start(&cfg);
    stack
        .deliver_smtp(
            "send.lead@oxfordshire.example",
            "youthjusticesend@example.org",
            &variant(1),
        )
        .unwrap();
    eventually(
        40,
        "the first reply (IMAP and SMTP signed in by token)",
        || (replies(&stack) == 1).then_some(()),
    );
    // Both servers restart; the token server forgets every token, so the daemon's cached one
    // is refused on reconnecting and a fresh one must be fetched.
    stack.restart();
    stack
        .deliver_smtp(
            "send.lead@oxfordshire.example",
            "youthjusticesend@example.org",
            &variant(2),
        )
        .unwrap();
    eventually(90, "the reply after the restart", || {
        (replies(&stack) == 2).then_some(())
    });
    let stats = stack.token_admin("GET", "/admin/stats");
    assert!(stats.contains("client_credentials"), "{stats}");
    let health = healthz(panel);
    assert!(health.contains("oauth2_last_ok"), "{health}");
}

#[test]
fn the_daemon_signs_in_with_oauthbearer_and_xoauth2_and_survives_a_refused_token() {
    answered_through_restarts("oauth2");
}

#[test]
fn the_daemon_signs_in_to_imap_with_xoauth2() {
    answered_through_restarts("xoauth2");
}

/// The first reply arrives with the given `[oauth2]` section; returns the token server's stats.
fn one_reply_with(oauth2: impl Fn(&Path, u16) -> String) -> Option<String> {
    let stack = MailStack::start_with_oauth2()?;
    let dir = tempfile::tempdir().unwrap();
    let section = oauth2(dir.path(), stack.oauth2_port.unwrap());
    let (cfg, _panel) = config_with(dir.path(), &stack, "oauth2", &section);
    let _daemon = start(&cfg);
    stack
        .deliver_smtp(
            "send.lead@oxfordshire.example",
            "youthjusticesend@example.org",
            &variant(1),
        )
        .unwrap();
    eventually(40, "the reply (signed in by a signed assertion)", || {
        (replies(&stack) == 1).then_some(())
    });
    Some(stack.token_admin("GET", "/admin/stats"))
}

fn issued(stats: &str, grant: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_str(stats).unwrap();
    v["issued"][grant].as_u64().unwrap()
}

/// Microsoft 365 with a certificate instead of a client secret: the token endpoint checks the
/// PS256 signature against the certificate, its thumbprint, audience, expiry and jti.
#[test]
fn a_certificate_signs_in_in_place_of_a_client_secret() {
    let cert = root().join("tests/data/oauth2/test-certificate.pem");
    let Some(stats) = one_reply_with(|_, port| {
        format!(
            r#"provider = "microsoft"
tenant = "contoso.example"
token_url = "http://127.0.0.1:{port}/token"
client_id = "yjsend"
certificate_file = "{}""#,
            cert.display()
        )
    }) else {
        return;
    };
    assert!(issued(&stats, "client_assertion") >= 1, "{stats}");
    assert_eq!(issued(&stats, "client_credentials"), 0, "{stats}");
}

/// Google Workspace with a service account and domain-wide delegation: the token endpoint
/// named in the key file (`token_uri`) is used, and the assertion's subject is the mailbox.
#[test]
fn a_google_service_account_acts_for_the_mailbox() {
    let bundle =
        std::fs::read_to_string(root().join("tests/data/oauth2/test-certificate.pem")).unwrap();
    let key = &bundle[bundle.find("-----BEGIN PRIVATE KEY-----").unwrap()..];
    let Some(stats) = one_reply_with(|dir, port| {
        let json = serde_json::json!({
            "type": "service_account",
            "project_id": "yjsend-test",
            "private_key_id": "0123abcd",
            "private_key": key,
            "client_email": "yjsend@yjsend-test.iam.gserviceaccount.com",
            "token_uri": format!("http://127.0.0.1:{port}/token"),
        });
        std::fs::write(dir.join("service-account.json"), json.to_string()).unwrap();
        r#"provider = "google"
service_account_file = "service-account.json""#
            .to_string()
    }) else {
        return;
    };
    assert!(issued(&stats, "jwt_bearer") >= 1, "{stats}");
    assert_eq!(issued(&stats, "refresh_token"), 0, "{stats}");
}

#[test]
fn a_refused_client_secret_is_reported_clearly() {
    let Some(stack) = MailStack::start_with_oauth2() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cfg, panel) = config(dir.path(), &stack, "oauth2", "not-the-secret");
    let _daemon = start(&cfg);
    let health = eventually(30, "healthz to report the refusal", || {
        let h = healthz(panel);
        h.contains("invalid_client").then_some(h)
    });
    assert!(health.contains("oauth2_last_error"), "{health}");
    assert!(
        !health.contains("not-the-secret"),
        "a secret in healthz: {health}"
    );
}

/// No secret in any log line at any level: a full run at `trace`, its log searched for the
/// client secret, the passwords' files' contents, and every access token the endpoint issued.
#[test]
fn no_secret_reaches_the_log_at_any_level() {
    let Some(stack) = MailStack::start_with_oauth2() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _panel) = config(dir.path(), &stack, "oauth2", "client-secret");
    let log = dir.path().join("daemon.log");
    let daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_yjsend"))
            .arg("--config")
            .arg(&cfg)
            .arg("run")
            .env("YJSEND_LOG", "trace")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    stack
        .deliver_smtp(
            "send.lead@oxfordshire.example",
            "youthjusticesend@example.org",
            &variant(1),
        )
        .unwrap();
    eventually(40, "the reply", || (replies(&stack) == 1).then_some(()));
    drop(daemon);
    let stats = stack.token_admin("GET", "/admin/stats");
    let token = stats
        .split("\"last_access_token\":")
        .nth(1)
        .and_then(|s| s.split('"').nth(1))
        .expect("an access token was issued")
        .to_string();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.len() > 1000, "the trace log is written");
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for secret in [
        "client-secret".to_string(),
        token.clone(),
        b64(&yjsend::adapters::oauth2::xoauth2(
            "youthjusticesend@example.org",
            &token,
        )),
    ] {
        assert!(!text.contains(&secret), "a secret is in the log: {secret}");
    }
}
