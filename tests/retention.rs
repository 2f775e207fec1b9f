//! Retention in the running daemon (`[retention] after_round_months`): the personal data of a
//! closed round is purged at start (and daily), the daemon restarts itself in place to rewrite
//! the store, the bytes are gone from the store's files, and it carries on answering.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yjsend(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("yjsend runs")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn store_files_contain(dir: &Path, needle: &[u8]) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                return true;
            }
        }
    }
    false
}

/// Puts a fixture in the Maildir, delivered at `at` (the file's time: the receipt time).
fn deliver(dir: &Path, fixture: &str, at: &str) {
    let new = dir.join("mail/new");
    std::fs::create_dir_all(&new).unwrap();
    let path = new.join(format!("{fixture}.eml"));
    std::fs::copy(root().join(format!("fixtures/eml/{fixture}.eml")), &path).unwrap();
    let at: jiff::Timestamp = at.parse().unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(at.into())
        .unwrap();
}

fn replies(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("outbox"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count()
        })
        .unwrap_or(0)
}

/// Waits for `f`; on a timeout, fails showing the daemon's log.
fn eventually(secs: u64, what: &str, log: &Path, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "timed out waiting for {what}; the log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_closed_round_is_purged_by_the_running_daemon_and_gone_from_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(
        root().join("fixtures/config/partnerships.toml"),
        d.join("partnerships.toml"),
    )
    .unwrap();
    let config = d.join("yjsend.toml");
    std::fs::write(
        &config,
        r#"[round]
name = "Quality Mark and Quality Lead 2018"
reference_prefix = "YJS-2018"
deadline = "2018-02-23T23:59:59"
timezone = "Europe/London"
roster = "partnerships.toml"

[mailbox]
kind = "maildir"
path = "mail"
trusted_authserv_id = "mx.example.org"

[smtp]
kind = "dir"
path = "outbox"
from = "Youth Justice SEND <youthjusticesend@example.org>"

[storage]
path = "yjsend.db"
"#,
    )
    .unwrap();
    // The 2018 round: one submission, answered (the daemon remembers the round's deadline).
    deliver(d, "001-xlsx-plain", "2018-02-20T10:00:00Z");
    ok(yjsend(&config, &["run", "--once"]));
    assert_eq!(replies(d), 1);
    let store = d.join("yjsend.db");
    let first = b"001-xlsx-plain@mail.oxfordshire.example";
    assert!(store_files_contain(&store, first));

    // The next round starts, with retention: 2018 closed more than 12 months ago.
    ok(yjsend(
        &config,
        &[
            "round",
            "new",
            "--name",
            "Quality Mark and Quality Lead 2019",
            "--prefix",
            "YJS-2019",
            "--deadline",
            "2019-02-22T23:59:59",
        ],
    ));
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[retention]\nafter_round_months = 12\n");
    std::fs::write(&config, text).unwrap();
    ok(yjsend(&config, &["config", "check"]));

    // A 2019 submission waits; the daemon starts, purges 2018 and restarts itself in place.
    deliver(d, "002-xlsx-january-layout", "2019-02-19T16:42:17Z");
    let log = d.join("daemon.log");
    let mut daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_yjsend"))
            .arg("--config")
            .arg(&config)
            .args(["run", "--in-process"])
            .env("YJSEND_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    eventually(60, "the store rewritten after the purge", &log, || {
        read_log().contains("The store was rewritten")
    });
    eventually(60, "the reply to the 2019 submission", &log, || {
        replies(d) == 2
    });
    // Still the same process, still answering.
    assert!(daemon.0.try_wait().unwrap().is_none(), "{}", read_log());
    deliver(d, "003-xlsx-grid-on-third-sheet", "2019-02-21T09:05:00Z");
    eventually(60, "the reply after the restart", &log, || replies(d) == 3);
    assert_eq!(
        read_log().matches("Retention: purged").count(),
        1,
        "purged once, not again after the restart: {}",
        read_log()
    );

    // Stopped as systemd stops it.
    let pid = daemon.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let end = Instant::now() + Duration::from_secs(30);
    while daemon.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < end, "the daemon did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !store_files_contain(&store, first),
        "the purged message is still in the store's files"
    );
    assert!(store_files_contain(
        &store,
        b"002-xlsx-january-layout@mail.oxfordshire.example"
    ));
    assert!(!d.join("yjsend.old").exists() && !d.join("yjsend.rewrite").exists());
    let export = d.join("export");
    ok(yjsend(
        &config,
        &[
            "subject",
            "oxfordshire",
            "--export",
            export.to_str().unwrap(),
        ],
    ));
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(export.join("records.json")).unwrap())
            .unwrap();
    let by_reference = |r: &str| {
        records["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["reference"] == r)
            .cloned()
            .unwrap_or_else(|| panic!("{r} in {records}"))
    };
    let old = by_reference("YJS-2018-0001");
    assert_eq!(old["purged"], true);
    assert!(old["from"].is_null());
    assert!(
        !old["scores"].as_object().unwrap().is_empty(),
        "figures kept"
    );
    assert_eq!(by_reference("YJS-2019-0001")["purged"], false);
}
