//! The daemon end to end on a real mail stack (Dovecot IMAP + submission, OpenSMTPD): a
//! partnership sends a submission over SMTP, it lands in the project INBOX, `yjsend run`
//! answers over submission (STARTTLS + AUTH), the answer lands in the partnership's INBOX,
//! threaded, and the original sits in Processed.
//!
//! Needs root and the stack's Debian packages (`tests/mailstack/mailstack.sh install`); skipped
//! with a message otherwise, unless `YJSEND_REQUIRE_MAILSTACK=1` (CI) makes that a failure.

#[path = "support/mailstack.rs"]
mod mailstack;

use mailstack::MailStack;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A configuration for the stack in `dir`: IMAP with STARTTLS, submission with STARTTLS.
fn config(dir: &Path, stack: &MailStack) -> PathBuf {
    std::fs::copy(
        root().join("fixtures/config/partnerships.toml"),
        dir.join("partnerships.toml"),
    )
    .unwrap();
    std::fs::write(dir.join("password"), "secret\n").unwrap();
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
username = "youthjusticesend"
password_file = "password"
idle = true
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

[storage]
path = "yjsend.db"

[panel]
listen = ""
"#,
        imap = stack.imap_port,
        submission = stack.submission_port,
        ca = stack.ca_file.display(),
    );
    let path = dir.join("yjsend.toml");
    std::fs::write(&path, text).unwrap();
    path
}

struct Daemon(Child);

impl Daemon {
    fn start(config: &Path) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_yjsend"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("YJSEND_LOG", "info")
            .stdout(Stdio::null())
            .spawn()
            .expect("yjsend starts");
        Daemon(child)
    }

    /// SIGTERM, then the exit status.
    fn stop(mut self) -> Option<i32> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.0.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `f` gives something, or panics after `secs`.
fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.lines()
        .find(|l| l.len() > name.len() && l[..name.len()].eq_ignore_ascii_case(name) && l.as_bytes()[name.len()] == b':')
        .map(|l| l[name.len() + 1..].trim())
}

#[test]
fn a_submission_over_smtp_is_answered_threaded_and_filed() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &stack);
    let daemon = Daemon::start(&cfg);

    let raw = std::fs::read(root().join("fixtures/eml/001-xlsx-plain.eml")).unwrap();
    stack
        .deliver_smtp(
            "send.lead@oxfordshire.example",
            "youthjusticesend@example.org",
            &raw,
        )
        .expect("delivered");

    let reply = eventually(30, "the reply in the partnership's INBOX", || {
        stack
            .fetch_all("send.lead@oxfordshire.example", "INBOX")
            .ok()?
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .find(|m| m.contains("[YJS-2018-0001]"))
    });
    assert_eq!(
        header(&reply, "In-Reply-To"),
        Some("<001-xlsx-plain@mail.oxfordshire.example>")
    );
    assert_eq!(header(&reply, "Auto-Submitted"), Some("auto-replied"));
    // The other lead is copied in.
    eventually(30, "the copy to the YOS lead", || {
        let inbox = stack.fetch_all("yjs.manager@oxfordshire.example", "INBOX").ok()?;
        inbox
            .iter()
            .any(|m| String::from_utf8_lossy(m).contains("[YJS-2018-0001]"))
            .then_some(())
    });
    let processed = eventually(30, "the original in Processed", || {
        let p = stack.fetch_all("youthjusticesend", "Processed").ok()?;
        (!p.is_empty()).then_some(p)
    });
    assert_eq!(processed.len(), 1);
    assert!(
        stack
            .fetch_all("youthjusticesend", "INBOX")
            .unwrap()
            .is_empty(),
        "the INBOX is empty once the message is filed"
    );
    assert_eq!(daemon.stop(), Some(0), "SIGTERM ends the daemon cleanly");
}

#[test]
fn a_message_already_read_in_a_mail_client_is_still_answered() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &stack);
    let raw = std::fs::read(root().join("fixtures/eml/003-xlsx-grid-on-third-sheet.eml")).unwrap();
    stack
        .append_seen("youthjusticesend", "INBOX", &raw)
        .expect("appended as \\Seen");
    let daemon = Daemon::start(&cfg);
    eventually(30, "the reply to a \\Seen message", || {
        stack
            .fetch_all("send.lead@swindon.example", "INBOX")
            .ok()?
            .iter()
            .any(|m| String::from_utf8_lossy(m).contains("[YJS-2018-0001]"))
            .then_some(())
    });
    assert_eq!(daemon.stop(), Some(0));
}
