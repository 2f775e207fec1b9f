//! The binary on a local Maildir with .eml files out, as a user runs it: a configuration in a
//! temporary folder, fixtures delivered at a chosen time, the daemon as a child process.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `[round]` 2018, a Maildir in `mail/`, replies in `outbox/`, the store at `store_path`,
/// then `extra` (more sections).
pub fn setup(dir: &Path, store_path: &str, extra: &str) -> PathBuf {
    std::fs::copy(
        root().join("fixtures/config/partnerships.toml"),
        dir.join("partnerships.toml"),
    )
    .unwrap();
    let config = dir.join("yjsend.toml");
    std::fs::write(
        &config,
        format!(
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
path = "{store_path}"

[panel]
listen = ""
{extra}"#
        ),
    )
    .unwrap();
    config
}

pub fn yjsend(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("yjsend runs")
}

/// The standard output of a command that must succeed.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Puts a fixture in the Maildir, delivered at `at` (the file's time: the receipt time).
pub fn deliver(dir: &Path, fixture: &str, at: &str) {
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

/// The messages written to `outbox/`, as text.
pub fn sent(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("outbox"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// The replies among them (alerts and digests left out).
pub fn replies(dir: &Path) -> usize {
    sent(dir)
        .iter()
        .filter(|m| m.contains("\nIn-Reply-To: "))
        .count()
}

/// Whether any file under `dir` holds `needle`.
pub fn files_contain(dir: &Path, needle: &[u8]) -> bool {
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

/// Waits for `f`; on a timeout, fails showing the daemon's log.
pub fn eventually(secs: u64, what: &str, log: &Path, mut f: impl FnMut() -> bool) {
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

/// `yjsend run` in the background, logging at info to `log`; killed when dropped.
pub struct Daemon(pub Child);

impl Daemon {
    pub fn start(config: &Path, log: &Path) -> Daemon {
        Daemon(
            Command::new(env!("CARGO_BIN_EXE_yjsend"))
                .arg("--config")
                .arg(config)
                .args(["run", "--in-process"])
                .env("YJSEND_LOG", "info")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(log).unwrap())
                .spawn()
                .unwrap(),
        )
    }

    /// Its exit status once it has stopped on its own within `secs`.
    pub fn exited_within(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    /// SIGTERM, as systemd stops it; its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        self.exited_within(30)
            .expect("the daemon did not stop on SIGTERM")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
