//! The daemon end to end on a real mail stack (Dovecot IMAP + submission, OpenSMTPD): a
//! partnership sends a submission over SMTP, it lands in the project INBOX, `yjsend run`
//! answers over submission (STARTTLS + AUTH), the answer lands in the partnership's INBOX,
//! threaded, and the original sits in Processed.
//!
//! Needs root and the stack's Debian packages (`tests/mailstack/mailstack.sh install`); skipped
//! with a message otherwise, unless `YJSEND_REQUIRE_MAILSTACK=1` (CI) makes that a failure.

#[path = "support/mailstack.rs"]
mod mailstack;

use mail_parser::MimeHeaders;
use mailstack::MailStack;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A configuration for the stack in `dir`: IMAP with STARTTLS, submission with STARTTLS.
fn config(dir: &Path, stack: &MailStack) -> PathBuf {
    config_with(dir, stack, "")
}

/// The same with more sections appended (`[replies]` for the cap, say).
fn config_with(dir: &Path, stack: &MailStack, extra: &str) -> PathBuf {
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
panel_meets = "late February to early March 2018"
outcomes_by = "2018-03-16"

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
{extra}
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
            .env("YJSEND_LOG", "warn")
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
        .find(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l.as_bytes()[name.len()] == b':'
        })
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
    // What it says: the scores as read with the baseline, the verdicts criterion by
    // criterion, the dates; an HTML alternative with the profile chart inline.
    let parsed = mail_parser::MessageParser::default()
        .parse(reply.as_bytes())
        .expect("the reply parses");
    let text = parsed.body_text(0).expect("a plain-text part").into_owned();
    for want in [
        "THE SCORES WE READ from Grid.xlsx",
        "  4a   7  (baseline 6, +1)  Timely information exchange",
        "QUALITY MARK: provisionally met",
        "QUALITY LEAD: not met on these scores",
        "[not met] A score of 7 or higher in every statement",
        "Statements 1 and 3 are below 7 (1: 6, 3: 6).",
        "  - Grid.xlsx: the scoring grid",
        "Outcomes are sent by 16 March 2018.",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    let html = parsed.body_html(0).expect("an HTML part").into_owned();
    assert!(html.contains("src=\"cid:profile@yjsend\""), "{html}");
    let chart = parsed
        .parts
        .iter()
        .find(|p| p.content_id() == Some("profile@yjsend"))
        .expect("the chart part");
    assert!(chart.contents().starts_with(b"\x89PNG\r\n\x1a\n"));
    // The other lead is copied in.
    eventually(30, "the copy to the YOS lead", || {
        let inbox = stack
            .fetch_all("yjs.manager@oxfordshire.example", "INBOX")
            .ok()?;
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

/// Fixture 001 as a different message: its own Message-ID and subject (so a different hash).
fn variant(n: usize) -> Vec<u8> {
    let raw = std::fs::read_to_string(root().join("fixtures/eml/001-xlsx-plain.eml")).unwrap();
    raw.replace(
        "Message-ID: <001-xlsx-plain@mail.oxfordshire.example>",
        &format!("Message-ID: <variant-{n}@mail.oxfordshire.example>"),
    )
    .replace(
        "Subject: Oxfordshire re-score grid",
        &format!("Subject: Oxfordshire re-score grid {n}"),
    )
    .into_bytes()
}

/// Replies in the LA SEND lead's INBOX, by the Message-ID they answer.
fn replies_by_original(stack: &MailStack) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for m in stack
        .fetch_all("send.lead@oxfordshire.example", "INBOX")
        .unwrap_or_default()
    {
        let text = String::from_utf8_lossy(&m).into_owned();
        if let Some(id) = header(&text, "In-Reply-To") {
            *out.entry(id.to_string()).or_insert(0) += 1;
        }
    }
    out
}

#[test]
fn the_daemon_reconnects_after_the_servers_restart() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&config(dir.path(), &stack));
    stack
        .deliver_smtp(
            "send.lead@oxfordshire.example",
            "youthjusticesend@example.org",
            &variant(1),
        )
        .unwrap();
    eventually(30, "the first reply", || {
        (replies_by_original(&stack).len() == 1).then_some(())
    });
    // Both servers go away and come back (the daemon is in IDLE meanwhile).
    stack.restart();
    stack
        .deliver_smtp(
            "send.lead@oxfordshire.example",
            "youthjusticesend@example.org",
            &variant(2),
        )
        .unwrap();
    eventually(60, "the reply after the restart", || {
        (replies_by_original(&stack).len() == 2).then_some(())
    });
    assert!(replies_by_original(&stack).values().all(|&n| n == 1));
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn a_rebuilt_folder_with_a_handled_message_back_in_it_is_not_answered_again() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &stack);
    let daemon = Daemon::start(&cfg);
    stack
        .deliver_smtp(
            "send.lead@oxfordshire.example",
            "youthjusticesend@example.org",
            &variant(1),
        )
        .unwrap();
    eventually(30, "the reply", || {
        (replies_by_original(&stack).len() == 1).then_some(())
    });
    eventually(30, "the move to Processed", || {
        stack
            .fetch_all("youthjusticesend", "INBOX")
            .ok()?
            .is_empty()
            .then_some(())
    });
    assert_eq!(daemon.stop(), Some(0));
    // Someone puts the message back, and the INBOX's UIDVALIDITY changes (its index rebuilt).
    stack
        .append_seen("youthjusticesend", "INBOX", &variant(1))
        .unwrap();
    let maildir = stack.dir.join("mail/example.org/youthjusticesend/Maildir");
    for entry in std::fs::read_dir(&maildir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("dovecot-uidlist") || name.starts_with("dovecot.index") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let daemon = Daemon::start(&cfg);
    eventually(30, "the repeat filed without a reply", || {
        stack
            .fetch_all("youthjusticesend", "INBOX")
            .ok()?
            .is_empty()
            .then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        replies_by_original(&stack)
            .values()
            .copied()
            .collect::<Vec<_>>(),
        vec![1],
        "answered once"
    );
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn a_responder_that_keeps_sending_stops_getting_replies_at_the_cap() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_with(
        dir.path(),
        &stack,
        "[replies]\nmax_per_sender = 3\nwindow_hours = 3\n",
    );
    let daemon = Daemon::start(&cfg);
    for n in 0..6 {
        stack
            .deliver_smtp(
                "send.lead@oxfordshire.example",
                "youthjusticesend@example.org",
                &variant(n),
            )
            .unwrap();
    }
    eventually(60, "all six filed", || {
        let p = stack.fetch_all("youthjusticesend", "Processed").ok()?;
        (p.len() == 6).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(replies_by_original(&stack).len(), 3);
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn kill_9_during_a_backlog_loses_nothing() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    const N: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_with(dir.path(), &stack, "[replies]\nmax_per_sender = 10000\n");
    for n in 0..N {
        stack
            .append_seen("youthjusticesend", "INBOX", &variant(n))
            .unwrap();
    }
    let mut daemon = Daemon::start(&cfg);
    eventually(60, "some replies", || {
        (stack.fetch_all("youthjusticesend", "Processed").ok()?.len() >= 30).then_some(())
    });
    let _ = daemon.0.kill(); // SIGKILL
    let _ = daemon.0.wait();
    let daemon = Daemon::start(&cfg);
    eventually(120, "the whole backlog filed", || {
        stack
            .fetch_all("youthjusticesend", "INBOX")
            .ok()?
            .is_empty()
            .then_some(())
    });
    let replies = eventually(60, "every reply delivered", || {
        let r = replies_by_original(&stack);
        (r.len() == N).then_some(r)
    });
    let doubles: usize = replies.values().map(|&n| n - 1).sum();
    eprintln!("backlog of {N} with a kill -9: {doubles} reply sent twice");
    // Only a reply accepted by the server in the instant before the kill, and not yet marked
    // sent, may go twice.
    assert!(doubles <= 2, "{doubles} replies went twice");
    assert_eq!(
        stack
            .fetch_all("youthjusticesend", "Processed")
            .unwrap()
            .len(),
        N,
        "every message filed once"
    );
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn the_outbox_catches_up_after_the_smtp_server_was_down() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_with(dir.path(), &stack, "");
    // The first retry after a second (the default is 30 s), doubling.
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[storage]", "retry_seconds = 1\n\n[storage]");
    std::fs::write(&cfg, text).unwrap();
    stack.stop_smtp();
    for n in 1..=5 {
        stack
            .append("youthjusticesend", "INBOX", "", &variant(n))
            .unwrap();
    }
    let daemon = Daemon::start(&cfg);
    // Intake goes on without the SMTP server: every submission is stored, its reply queued,
    // and the message filed.
    eventually(60, "the submissions filed while SMTP is down", || {
        let p = stack.fetch_all("youthjusticesend", "Processed").ok()?;
        (p.len() == 5).then_some(())
    });
    // A few failed attempts.
    std::thread::sleep(Duration::from_secs(4));
    assert!(replies_by_original(&stack).is_empty());
    stack.start_smtp();
    eventually(60, "every reply once SMTP is back", || {
        (replies_by_original(&stack).len() == 5).then_some(())
    });
    assert!(
        replies_by_original(&stack).values().all(|&n| n == 1),
        "{:?}",
        replies_by_original(&stack)
    );
    assert_eq!(daemon.stop(), Some(0));
}

#[test]
fn a_message_without_a_grid_gets_the_formats_and_a_template_with_the_baseline() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&config(dir.path(), &stack));
    let raw = std::fs::read(root().join("fixtures/eml/034-question-without-grid.eml")).unwrap();
    stack
        .deliver_smtp(
            "send.lead@oxfordshire.example",
            "youthjusticesend@example.org",
            &raw,
        )
        .unwrap();
    let reply = eventually(30, "the reply", || {
        stack
            .fetch_all("send.lead@oxfordshire.example", "INBOX")
            .ok()?
            .into_iter()
            .find(|m| String::from_utf8_lossy(m).contains("[YJS-2018-0001]"))
    });
    let parsed = mail_parser::MessageParser::default()
        .parse(&reply)
        .expect("the reply parses");
    let text = parsed.body_text(0).unwrap().into_owned();
    assert!(text.contains("could not read a scoring grid"), "{text}");
    assert!(text.contains("scores typed in the email"), "{text}");
    assert!(
        text.contains("attached a grid template for Oxfordshire"),
        "{text}"
    );
    let attachment = parsed.attachment(0).expect("the template");
    assert_eq!(
        attachment.attachment_name(),
        Some("Grid template - Oxfordshire.xlsx")
    );
    // The workbook carries the partnership's baseline: in the roster, Oxfordshire's
    // statement 1 is 5 and statement 3 is 4.
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(attachment.contents().to_vec())).expect("an xlsx");
    let range = book.worksheet_range("Rescore").expect("the Rescore sheet");
    let row_of = |label: &str| {
        range
            .rows()
            .find(|r| r.first() == Some(&Data::String(label.into())))
            .map(|r| r.to_vec())
            .unwrap_or_else(|| panic!("no row {label}"))
    };
    assert_eq!(row_of("1")[2], Data::Float(5.0));
    assert_eq!(row_of("3")[2], Data::Float(4.0));
    assert_eq!(daemon.stop(), Some(0));
}

fn digest_config(dir: &Path, stack: &MailStack) -> PathBuf {
    config_with(
        dir,
        stack,
        "[digest]\nto = [\"projectteam@example.org\"]\nat = \"08:00\"\n",
    )
}

fn digests(stack: &MailStack) -> Vec<String> {
    stack
        .fetch_all("projectteam@example.org", "INBOX")
        .unwrap_or_default()
        .into_iter()
        .map(|m| String::from_utf8_lossy(&m).into_owned())
        .filter(|m| m.contains("[yjsend] Digest for"))
        .collect()
}

#[test]
fn the_digest_on_demand_reaches_the_team_with_counts_lines_charts_and_the_chase_list() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = digest_config(dir.path(), &stack);
    let daemon = Daemon::start(&cfg);
    for fixture in ["001-xlsx-plain", "034-question-without-grid"] {
        let raw = std::fs::read(root().join(format!("fixtures/eml/{fixture}.eml"))).unwrap();
        stack
            .deliver_smtp(
                "send.lead@oxfordshire.example",
                "youthjusticesend@example.org",
                &raw,
            )
            .unwrap();
    }
    eventually(30, "both answered", || {
        let n = stack
            .fetch_all("send.lead@oxfordshire.example", "INBOX")
            .ok()?
            .len();
        (n == 2).then_some(())
    });
    // While the daemon holds the store, `digest --now` leaves it a request.
    let out = Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(&cfg)
        .args(["digest", "--now"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let digest = eventually(30, "the digest in the team's INBOX", || {
        digests(&stack).into_iter().next()
    });
    let parsed = mail_parser::MessageParser::default()
        .parse(digest.as_bytes())
        .unwrap();
    assert_eq!(
        parsed.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-generated")
    );
    let text = parsed.body_text(0).unwrap().into_owned();
    for want in [
        "Received from 1 of 6 partnerships",
        "Quality Mark, provisionally eligible: 1",
        "YJS-2018-0001  Oxfordshire",
        "Quality Mark: eligible; Quality Lead: not eligible; sign-off: verified",
        "YJS-2018-0002  No readable grid from send.lead@oxfordshire.example",
        "SERVICE: All well.",
        "Swindon, Warwickshire",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    let html = parsed.body_html(0).unwrap().into_owned();
    assert!(html.contains("cid:chart-YJS-2018-0001@yjsend"), "{html}");
    assert!(
        parsed
            .parts
            .iter()
            .any(|p| p.content_id() == Some("chart-YJS-2018-0001@yjsend"))
    );
    assert_eq!(daemon.stop(), Some(0));
    // With the daemon stopped, `digest --now` sends it itself; nothing new since the last.
    let out = Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(&cfg)
        .args(["digest", "--now"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second = eventually(30, "the second digest", || {
        let all = digests(&stack);
        (all.len() == 2).then(|| all.into_iter().find(|d| d != &digest).unwrap())
    });
    let text = mail_parser::MessageParser::default()
        .parse(second.as_bytes())
        .unwrap()
        .body_text(0)
        .unwrap()
        .replace("\r\n", "\n");
    assert!(
        text.contains("NEW SUBMISSIONS SINCE THE LAST DIGEST\n  None."),
        "{text}"
    );
}

/// The relay refuses a reply for good (5xx: the sender's domain is not one it delivers to):
/// the reply is kept as failed, the team is alerted at once, `yjsend outbox` lists it and
/// `yjsend outbox retry` puts it back in line.
#[test]
fn a_reply_refused_for_good_is_kept_and_the_team_alerted() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_with(
        dir.path(),
        &stack,
        "\n[alerts]\nto = [\"projectteam@example.org\"]\n",
    );
    let daemon = Daemon::start(&cfg);
    let question = b"From: Someone <someone@unrouted.example>\r\n\
To: youthjusticesend@example.org\r\nSubject: A question about the Quality Mark\r\n\
Message-ID: <q-unrouted@unrouted.example>\r\nDate: Tue, 20 Feb 2018 09:59:00 +0000\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nWhen is the deadline?\r\n";
    stack
        .deliver_smtp(
            "someone@unrouted.example",
            "youthjusticesend@example.org",
            question,
        )
        .unwrap();
    let alert = eventually(60, "the alert to the team", || {
        stack
            .fetch_all("projectteam@example.org", "INBOX")
            .ok()?
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .find(|m| m.contains("messages could not be delivered"))
    });
    assert!(alert.contains("yjsend outbox retry"), "{alert}");
    assert_eq!(daemon.stop(), Some(0));

    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_yjsend"))
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let listed = run(&["outbox"]);
    assert!(
        listed.contains("failed reply") && listed.contains("someone@unrouted.example"),
        "{listed}"
    );
    assert!(listed.contains("1 could not be delivered"), "{listed}");
    let retried = run(&["outbox", "retry"]);
    assert!(
        retried.starts_with("1 undelivered message(s) put back in line"),
        "{retried}"
    );
    assert!(run(&["outbox"]).contains("pending reply"));
}
