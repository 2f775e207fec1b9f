//! The panel end to end on the real daemon and mail stack: submissions arrive over SMTP and
//! open cases; two members pull at the same moment and get different cases; a member asks for
//! more information and the partnership's answer lands on the case; decisions are drafted and
//! go out only when the team releases them; every API route refuses a request without a valid
//! token.
//!
//! Needs root and the stack's packages, like `daemon_imap.rs`.

#[path = "support/mailstack.rs"]
mod mailstack;

use mailstack::MailStack;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn hash(token: &str) -> String {
    yjsend::domain::panel::members::token_hash(token)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    url: String,
}

fn setup(stack: &MailStack) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let roster = std::fs::read_to_string(root().join("fixtures/config/partnerships.toml"))
        .unwrap()
        // Swindon already holds a Quality Lead: a new one is a redesignation.
        .replacen(
            "id = \"swindon\"",
            "id = \"swindon\"\nawards = [{ kind = \"quality_lead\", date = \"2017-07-01\" }]",
            1,
        );
    std::fs::write(dir.path().join("partnerships.toml"), roster).unwrap();
    std::fs::write(dir.path().join("password"), "secret\n").unwrap();
    std::fs::write(
        dir.path().join("tokens.toml"),
        format!(
            "[[member]]\nname = \"Alice\"\nrole = \"panel\"\ntoken_sha256 = \"{}\"\n\n\
             [[member]]\nname = \"Bob\"\nrole = \"panel\"\ntoken_sha256 = \"{}\"\n\n\
             [[member]]\nname = \"Carol\"\nrole = \"panel\"\ntoken_sha256 = \"{}\"\nconflicts = [\"region:South East\", \"swindon\"]\n\n\
             [[member]]\nname = \"Team\"\nrole = \"team\"\ntoken_sha256 = \"{}\"\n",
            hash("alice-token"),
            hash("bob-token"),
            hash("carol-token"),
            hash("team-token")
        ),
    )
    .unwrap();
    let port = free_port();
    let text = format!(
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

[storage]
path = "yjsend.db"

[panel]
listen = "127.0.0.1:{port}"
tokens_file = "tokens.toml"
"#,
        imap = stack.imap_port,
        submission = stack.submission_port,
        ca = stack.ca_file.display(),
    );
    let config = dir.path().join("yjsend.toml");
    std::fs::write(&config, text).unwrap();
    Setup {
        _dir: dir,
        config,
        url: format!("http://127.0.0.1:{port}"),
    }
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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

/// A bare HTTP/1.1 request: the status and the body.
fn http(url: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
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
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_string();
    (status, body)
}

fn panel(setup: &Setup, token: &str, args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(&setup.config)
        .arg("panel")
        .args(args)
        .env("YJSEND_PANEL_URL", &setup.url)
        .env("YJSEND_PANEL_TOKEN", token)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn inbox_texts(stack: &MailStack, user: &str) -> Vec<String> {
    stack
        .fetch_all(user, "INBOX")
        .unwrap_or_default()
        .into_iter()
        .map(|m| String::from_utf8_lossy(&m).replace("=\r\n", ""))
        .collect()
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
fn the_panel_pulls_asks_decides_and_releases_over_the_real_stack() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let setup = setup(&stack);
    let daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_yjsend"))
            .arg("--config")
            .arg(&setup.config)
            .arg("run")
            .env("YJSEND_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    eventually(30, "the API", || {
        TcpStream::connect(setup.url.trim_start_matches("http://")).ok()
    });

    // Every route refuses a missing or wrong token, and says nothing else.
    for (method, path) in [
        ("GET", "/api/queue"),
        ("POST", "/api/pull"),
        ("GET", "/api/cases/YJS-2018-0001"),
        ("GET", "/api/cases/YJS-2018-0001/files/message.eml"),
        ("POST", "/api/cases/YJS-2018-0001/decision"),
        ("POST", "/api/release"),
        ("POST", "/api/digest"),
        ("GET", "/api/report"),
        ("GET", "/api/conflicts"),
        ("POST", "/api/conflicts"),
        ("GET", "/api/backup"),
        ("POST", "/api/cases/YJS-2018-0001/reevaluate"),
        ("GET", "/api/outbox"),
        ("POST", "/api/outbox/retry"),
    ] {
        for token in [None, Some("wrong-token")] {
            let (status, body) = http(&setup.url, method, path, token, "{}");
            assert_eq!(status, 401, "{method} {path} with {token:?}");
            assert!(body.is_empty(), "{method} {path}: {body}");
        }
    }
    // The team's own routes refuse a panel member.
    for (method, path) in [
        ("GET", "/api/outbox"),
        ("POST", "/api/outbox/retry"),
        ("GET", "/api/backup"),
        ("GET", "/api/report"),
    ] {
        let (status, body) = http(&setup.url, method, path, Some("carol-token"), "{}");
        assert_eq!(status, 403, "{method} {path} as a member: {body}");
    }
    let (status, body) = http(&setup.url, "GET", "/api/outbox", Some("team-token"), "");
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(&setup.url, "GET", "/healthz", None, "");
    assert_eq!(status, 200);
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    let (status, body) = http(&setup.url, "GET", "/metrics", None, "");
    assert_eq!(status, 200, "metrics from loopback");
    assert!(body.contains("yjsend_messages_processed"), "{body}");

    // Two submissions open two cases.
    for (fixture, from) in [
        ("001-xlsx-plain", "send.lead@oxfordshire.example"),
        ("003-xlsx-grid-on-third-sheet", "send.lead@swindon.example"),
    ] {
        let raw = std::fs::read(root().join(format!("fixtures/eml/{fixture}.eml"))).unwrap();
        stack
            .deliver_smtp(from, "youthjusticesend@example.org", &raw)
            .unwrap();
    }
    eventually(30, "two cases in the queue", || {
        let (status, body) = http(&setup.url, "GET", "/api/queue", Some("team-token"), "");
        (status == 200 && body.matches("\"reference\"").count() == 2).then_some(())
    });

    // Filters.
    let count = |query: &str| {
        let (status, body) = http(
            &setup.url,
            "GET",
            &format!("/api/queue{query}"),
            Some("team-token"),
            "",
        );
        assert_eq!(status, 200, "{query}: {body}");
        body.matches("\"reference\"").count()
    };
    assert_eq!(count("?partnership=swindon"), 1);
    assert_eq!(count("?region=South%20East"), 1);
    assert_eq!(count("?state=ready"), 2);
    assert_eq!(count("?state=claimed"), 0);
    // Conflicts declared through the API join those in the tokens file (and are audited).
    let (status, body) = http(
        &setup.url,
        "POST",
        "/api/conflicts",
        Some("carol-token"),
        r#"{"add":["lowshire"]}"#,
    );
    assert_eq!(status, 200, "{body}");
    let (_, body) = http(&setup.url, "GET", "/api/conflicts", Some("carol-token"), "");
    for c in ["lowshire", "swindon", "region:South East"] {
        assert!(body.contains(c), "{c} in {body}");
    }
    // The queue Carol sees leaves out her conflicts.
    let (_, body) = http(&setup.url, "GET", "/api/queue", Some("carol-token"), "");
    assert_eq!(body.trim(), "[]", "{body}");

    // Carol's conflicts cover both: nothing for her.
    let work = tempfile::tempdir().unwrap();
    let out = panel(&setup, "carol-token", &["pull"], work.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("No case is waiting"));

    // Alice and Bob pull at the same moment: different cases.
    let pull = |token: &'static str, dir: PathBuf| {
        let setup_config = setup.config.clone();
        let url = setup.url.clone();
        std::thread::spawn(move || {
            Command::new(env!("CARGO_BIN_EXE_yjsend"))
                .arg("--config")
                .arg(setup_config)
                .args(["panel", "pull", "--dir"])
                .arg(&dir)
                .env("YJSEND_PANEL_URL", url)
                .env("YJSEND_PANEL_TOKEN", token)
                .output()
                .unwrap()
        })
    };
    let a = pull("alice-token", work.path().join("alice"));
    let b = pull("bob-token", work.path().join("bob"));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let held = |o: &Output| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.split_whitespace()
            .nth(2)
            .unwrap_or_default()
            .to_string()
    };
    let (alice_case, bob_case) = (held(&a), held(&b));
    assert_ne!(alice_case, bob_case, "{alice_case} {bob_case}");
    // The case pack.
    for f in ["summary.html", "profile.png", "message.eml"] {
        assert!(work.path().join("alice").join(f).exists(), "{f}");
    }
    assert!(
        work.path().join("alice").join("Grid.xlsx").exists()
            || work.path().join("bob").join("Grid.xlsx").exists()
    );

    let (ox, sw) = if alice_case == "YJS-2018-0001" {
        ("alice-token", "bob-token")
    } else {
        ("bob-token", "alice-token")
    };
    // The other member cannot decide a case they do not hold.
    let (status, _) = http(
        &setup.url,
        "POST",
        "/api/cases/YJS-2018-0001/decision",
        Some(sw),
        r#"{"outcome":"quality_mark"}"#,
    );
    assert_eq!(status, 409);

    // Bad input to the API: refused, with nothing of the case in the answer.
    let (status, body) = http(
        &setup.url,
        "POST",
        "/api/cases/YJS-2018-0001/decision",
        Some(ox),
        "{not json",
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        !body.contains("Oxfordshire") && !body.contains("send.lead"),
        "{body}"
    );
    let (status, body) = http(
        &setup.url,
        "POST",
        "/api/cases/YJS-2018-0001/decision",
        Some(ox),
        r#"{"outcome":"make_it_so"}"#,
    );
    assert_eq!(status, 422, "{body}");
    let big = format!(
        r#"{{"outcome":"not_yet","feedback":"{}"}}"#,
        "x".repeat(3 << 20)
    );
    let (status, _) = http(
        &setup.url,
        "POST",
        "/api/cases/YJS-2018-0001/decision",
        Some(ox),
        &big,
    );
    assert_eq!(status, 413, "an oversized body");
    for path in [
        "/api/cases/YJS-2018-0001/files/..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/cases/YJS-2018-0001/files/../../etc/passwd",
        "/api/cases/YJS-2018-0001/files/%2Fetc%2Fpasswd",
        "/api/cases/..%2FYJS-2018-0001/files/message.eml",
    ] {
        let (status, body) = http(&setup.url, "GET", path, Some(ox), "");
        assert!(status == 404 || status == 400, "{path}: {status}");
        assert!(!body.contains("root:"), "{path}: {body}");
    }

    // Oxfordshire: more information, answered by the partnership.
    let feedback = work.path().join("need.txt");
    std::fs::write(&feedback, "Please send a case study for statement 6.").unwrap();
    let out = panel(
        &setup,
        ox,
        &[
            "decide",
            "YJS-2018-0001",
            "--outcome",
            "request_info",
            "--feedback",
            feedback.to_str().unwrap(),
        ],
        work.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let request = eventually(30, "the request for information", || {
        inbox_texts(&stack, "send.lead@oxfordshire.example")
            .into_iter()
            .find(|m| m.contains("asks for more information"))
    });
    assert!(request.contains("Please send a case study for statement 6."));
    let request_id = header(&request, "Message-ID").unwrap().to_string();
    let answer = format!(
        "From: Sam Lead <send.lead@oxfordshire.example>\r\nTo: youthjusticesend@example.org\r\n\
         Subject: Re: Your submission [YJS-2018-0001]\r\nMessage-ID: <answer-1@oxfordshire.example>\r\n\
         In-Reply-To: {request_id}\r\nReferences: {request_id}\r\nDate: Tue, 6 Mar 2018 10:00:00 +0000\r\n\r\n\
         We will send it by Friday.\r\n"
    );
    stack
        .deliver_smtp(
            "send.lead@oxfordshire.example",
            "youthjusticesend@example.org",
            answer.as_bytes(),
        )
        .unwrap();
    eventually(30, "the answer on the case", || {
        let (_, body) = http(
            &setup.url,
            "GET",
            "/api/cases/YJS-2018-0001",
            Some("team-token"),
            "",
        );
        body.contains("answer-1@oxfordshire.example").then_some(())
    });

    // Decisions: drafted, not sent until released.
    let out = panel(
        &setup,
        ox,
        &["decide", "YJS-2018-0001", "--outcome", "quality_mark"],
        work.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = panel(
        &setup,
        sw,
        &[
            "decide",
            "YJS-2018-0002",
            "--outcome",
            "quality_lead",
            "--commendation",
            "child_first",
        ],
        work.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !inbox_texts(&stack, "send.lead@oxfordshire.example")
            .iter()
            .any(|m| m.contains("the panel's decision")),
        "an outcome went out before release"
    );
    // Only the team releases.
    let out = panel(&setup, ox, &["release"], work.path());
    assert!(!out.status.success());
    let out = panel(&setup, "team-token", &["release"], work.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Released 2"));
    let ox_outcome = eventually(30, "Oxfordshire's outcome", || {
        inbox_texts(&stack, "yjs.manager@oxfordshire.example")
            .into_iter()
            .find(|m| m.contains("Quality Mark: the panel's decision"))
    });
    assert!(
        ox_outcome.contains("awarded Oxfordshire the\r\nQuality Mark")
            || ox_outcome.contains("Quality Mark."),
        "{ox_outcome}"
    );
    let sw_outcome = eventually(30, "Swindon's outcome", || {
        inbox_texts(&stack, "send.lead@swindon.example")
            .into_iter()
            .find(|m| m.contains("Quality Lead: the panel's decision"))
    });
    assert!(
        sw_outcome.contains("designation is renewed"),
        "{sw_outcome}"
    );
    assert!(
        sw_outcome.contains("Child First Commendation"),
        "{sw_outcome}"
    );

    // The audit trail has who did what.
    let (_, body) = http(
        &setup.url,
        "GET",
        "/api/cases/YJS-2018-0002",
        Some("team-token"),
        "",
    );
    for action in ["\"pull\"", "\"read_file\"", "\"decide\"", "\"open_case\""] {
        assert!(body.contains(action), "{action} in {body}");
    }
    assert!(body.contains("(redesignation)"), "{body}");

    // The funder report, through the running daemon (it holds the store).
    let xlsx = work.path().join("report.xlsx");
    let out = Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(&setup.config)
        .args(["report", "--xlsx"])
        .arg(&xlsx)
        .env("YJSEND_PANEL_URL", &setup.url)
        .env("YJSEND_PANEL_TOKEN", "team-token")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_report(&xlsx);
    drop(daemon);
    // And straight from the store once the daemon has stopped.
    std::thread::sleep(Duration::from_millis(500));
    let out = Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(&setup.config)
        .args(["report", "--xlsx"])
        .arg(&xlsx)
        .env_remove("YJSEND_PANEL_TOKEN")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_report(&xlsx);
}

/// The report's rows: Oxfordshire's baseline, latest score and change for statement 1, its
/// outcome; Swindon's Quality Lead with the commendation; the submissions and the audit trail.
fn check_report(path: &Path) {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let mut book: Xlsx<_> = open_workbook(path).expect("the report opens");
    let sheet = book.worksheet_range("Partnerships").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .nth(2)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let row = |name: &str| {
        sheet
            .rows()
            .find(|r| r.first() == Some(&Data::String(name.into())))
            .unwrap_or_else(|| panic!("{name}"))
            .to_vec()
    };
    let ox = row("Oxfordshire");
    assert_eq!(ox[col("1 baseline")], Data::Float(5.0));
    assert_eq!(ox[col("1 latest")], Data::Float(6.0));
    assert_eq!(ox[col("1 change")], Data::Float(1.0));
    assert_eq!(
        ox[col("Panel outcome")],
        Data::String("quality_mark".into())
    );
    let sw = row("Swindon");
    assert_eq!(
        sw[col("Panel outcome")],
        Data::String("quality_lead".into())
    );
    assert_eq!(sw[col("Commendation")], Data::String("Child First".into()));
    let subs = book.worksheet_range("Submissions").unwrap();
    assert_eq!(subs.rows().count(), 3, "a header and two submissions");
    let audit = book.worksheet_range("Audit trail").unwrap();
    assert!(
        audit
            .rows()
            .any(|r| r.get(2) == Some(&Data::String("release".into()))),
        "the release is in the audit trail"
    );
}
