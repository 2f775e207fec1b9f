//! The web pages in a real browser: the daemon runs on a Maildir holding two submissions
//! (Oxfordshire and Swindon), and `tests/browser/pages.test.mjs` drives Chromium through them
//! as two panel members and the project team: sign-in, the queue, pulling, the case page,
//! decisions, a case held by someone else, the team's score correction and release, the
//! refusals (no session, wrong role, forged CSRF), and an accessibility check (axe) of every
//! page. Screenshots at desktop and phone width go to `target/browser-shots`.
//!
//! Needs `node`, `tests/browser/node_modules` (`cd tests/browser && npm ci`) and
//! `/usr/bin/chromium`; without them the test says why and passes, unless
//! `YJSEND_REQUIRE_BROWSER=1` (as in CI), when it fails.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

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

/// A token nobody could guess, different on every run.
fn random_token(who: &str) -> String {
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    format!("{who}-{}", hex::encode(bytes))
}

/// Whether the browser tests can run here; `Err` says what is missing.
fn prerequisites() -> Result<(), String> {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        return Err("`node` is not on the PATH".into());
    }
    let modules = root().join("tests/browser/node_modules");
    for package in ["playwright-core", "@axe-core/playwright"] {
        if !modules.join(package).join("package.json").is_file() {
            return Err(format!(
                "{} is not installed (run `cd tests/browser && npm ci`)",
                modules.join(package).display()
            ));
        }
    }
    if !Path::new(CHROMIUM).is_file() {
        return Err(format!("{CHROMIUM} is missing (apt-get install chromium)"));
    }
    Ok(())
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A bare HTTP/1.1 GET: the status and the body, or `None` when nothing answers.
fn get(addr: &str, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    Some((status, body.to_string()))
}

fn wait_for<T>(daemon: &mut Daemon, secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if let Ok(Some(status)) = daemon.0.try_wait() {
            panic!("the daemon exited ({status}) while waiting for {what}");
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn pages_in_a_browser() {
    if let Err(why) = prerequisites() {
        if std::env::var("YJSEND_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("browser tests required (YJSEND_REQUIRE_BROWSER=1) but {why}");
        }
        eprintln!("skipping the browser tests: {why}");
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(
        root().join("fixtures/config/partnerships.toml"),
        d.join("partnerships.toml"),
    )
    .unwrap();
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(d.join("mail").join(sub)).unwrap();
    }
    // The Maildir's delivery time (the file's mtime) is when a message arrived: the times the
    // fixtures were received (their .expect.json), before the round's deadline.
    for (i, (fixture, received)) in [
        ("001-xlsx-plain.eml", 1_519_120_800), // 2018-02-20T10:00:00Z
        ("003-xlsx-grid-on-third-sheet.eml", 1_519_203_900), // 2018-02-21T09:05:00Z
    ]
    .into_iter()
    .enumerate()
    {
        let path = d
            .join("mail/new")
            .join(format!("{received}.browser{i}.localhost"));
        std::fs::copy(root().join("fixtures/eml").join(fixture), &path).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(received)))
            .unwrap();
    }
    let alice = random_token("alice");
    let bob = random_token("bob");
    let team = random_token("team");
    std::fs::write(
        d.join("tokens.toml"),
        format!(
            "[[member]]\nname = \"Alice\"\nrole = \"panel\"\ntoken_sha256 = \"{}\"\n\n\
             [[member]]\nname = \"Bob\"\nrole = \"panel\"\ntoken_sha256 = \"{}\"\n\n\
             [[member]]\nname = \"Team\"\nrole = \"team\"\ntoken_sha256 = \"{}\"\n",
            hash(&alice),
            hash(&bob),
            hash(&team)
        ),
    )
    .unwrap();
    let port = free_port();
    let config = d.join("yjsend.toml");
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
kind = "maildir"
path = "mail"
trusted_authserv_id = "mx.example.org"

[smtp]
kind = "dir"
path = "outbox"

[storage]
path = "yjsend.db"

[panel]
listen = "127.0.0.1:{port}"
tokens_file = "tokens.toml"
"#
        ),
    )
    .unwrap();

    let mut daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_yjsend"))
            .arg("--config")
            .arg(&config)
            .arg("run")
            .env("YJSEND_LOG", "warn")
            .current_dir(d)
            .stdin(Stdio::null())
            .spawn()
            .expect("start the daemon"),
    );
    let addr = format!("127.0.0.1:{port}");
    wait_for(&mut daemon, 60, "GET /healthz", || {
        get(&addr, "/healthz", None).filter(|(status, _)| *status == 200)
    });
    wait_for(&mut daemon, 60, "two cases in /api/queue", || {
        get(&addr, "/api/queue", Some(&team))
            .filter(|(status, body)| *status == 200 && body.matches("\"reference\"").count() >= 2)
    });

    let shots = root().join("target/browser-shots");
    std::fs::create_dir_all(&shots).unwrap();
    let started = Instant::now();
    let out = Command::new("node")
        .arg("tests/browser/pages.test.mjs")
        .current_dir(root())
        .env("YJSEND_URL", format!("http://{addr}"))
        .env("TOKEN_ALICE", &alice)
        .env("TOKEN_BOB", &bob)
        .env("TOKEN_TEAM", &team)
        .env("SHOTS_DIR", &shots)
        .stdin(Stdio::null())
        .output()
        .expect("run node");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    println!(
        "browser run: {:.1}s, screenshots in {}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
    assert!(
        out.status.success(),
        "tests/browser/pages.test.mjs failed ({})",
        out.status
    );
    drop(daemon);
}
