//! The daemon takes up a changed roster (and round) without a restart, and refuses a broken
//! one with an alert while the old one stays in force.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn outbox(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("outbox"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .map(|m| m.replace("=\r\n", "").replace("=\n", ""))
                .collect()
        })
        .unwrap_or_default()
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

fn message(n: usize) -> String {
    format!(
        "From: Pat Lead <send.lead@newpartner.example>\r\nTo: youthjusticesend@example.org\r\n\
         Cc: yjs.manager@newpartner.example\r\nSubject: Our grid {n}\r\n\
         Message-ID: <reload-{n}@newpartner.example>\r\nDate: Tue, 20 Feb 2018 09:59:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Statement 1: 7\r\nStatement 2: 7\r\nStatement 3: 7\r\nStatement 4a: 7\r\n\
         Statement 4b: 7\r\nStatement 5: 7\r\nStatement 6: 7\r\nStatement 7: 7\r\n\
         Statement 8: 7\r\nStatement 9: 7\r\nStatement 10: 7\r\n"
    )
}

const NEW_PARTNERSHIP: &str = r#"
[[partnership]]
id = "newpartner"
name = "Newpartner"
domains = ["newpartner.example"]
la_send_leads = ["send.lead@newpartner.example"]
yos_leads = ["yjs.manager@newpartner.example"]
"#;

#[test]
fn a_changed_roster_is_taken_up_and_a_broken_one_refused_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("partnerships.toml");
    std::fs::copy(root().join("fixtures/config/partnerships.toml"), &roster).unwrap();
    let config = dir.path().join("yjsend.toml");
    std::fs::write(
        &config,
        "[round]\nname = \"Quality Mark and Quality Lead 2018\"\nreference_prefix = \"YJS-2018\"\n\
         deadline = \"2018-02-23T23:59:59\"\ntimezone = \"Europe/London\"\nroster = \"partnerships.toml\"\n\n\
         [mailbox]\nkind = \"maildir\"\npath = \"mail\"\n\n[smtp]\nkind = \"dir\"\npath = \"outbox\"\n\n\
         [alerts]\nto = [\"project.team@example.org\"]\n\n[storage]\npath = \"yjsend.db\"\n\n[panel]\nlisten = \"\"\n",
    )
    .unwrap();
    let new = dir.path().join("mail/new");
    std::fs::create_dir_all(&new).unwrap();
    let daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_yjsend"))
            .arg("--config")
            .arg(&config)
            .arg("run")
            .env("YJSEND_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Not on the roster yet: an unknown sender.
    std::fs::write(new.join("1.eml"), message(1)).unwrap();
    let first = eventually(30, "the first reply", || {
        outbox(dir.path())
            .into_iter()
            .find(|m| m.contains("Our grid 1"))
    });
    assert!(!first.contains("(Newpartner)"), "{first}");

    // The team adds the partnership: taken up without a restart.
    let mut text = std::fs::read_to_string(&roster).unwrap();
    text.push_str(NEW_PARTNERSHIP);
    std::fs::write(&roster, &text).unwrap();
    std::thread::sleep(Duration::from_secs(5));
    std::fs::write(new.join("2.eml"), message(2)).unwrap();
    let second = eventually(30, "the second reply", || {
        outbox(dir.path())
            .into_iter()
            .find(|m| m.contains("Our grid 2"))
    });
    assert!(second.contains("(Newpartner)"), "{second}");

    // A broken edit (a score of 11): refused, an alert, the last good roster stays.
    std::fs::write(
        &roster,
        text.replace(
            "id = \"newpartner\"",
            "id = \"newpartner\"\nbaseline = { \"1\" = 11 }",
        ),
    )
    .unwrap();
    let alert = eventually(30, "the alert", || {
        outbox(dir.path())
            .into_iter()
            .find(|m| m.contains("[yjsend] configuration change refused"))
    });
    assert!(alert.contains("partnerships.toml"), "{alert}");
    std::fs::write(new.join("3.eml"), message(3)).unwrap();
    let third = eventually(30, "the third reply", || {
        outbox(dir.path())
            .into_iter()
            .find(|m| m.contains("Our grid 3"))
    });
    assert!(third.contains("(Newpartner)"), "{third}");

    // A new round: the team fixes the roster and changes [round]; the next submission is
    // numbered in it, and the earlier round's stay in the history.
    std::fs::write(&roster, &text).unwrap();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            "reference_prefix = \"YJS-2018\"",
            "reference_prefix = \"YJS-2019\"",
        )
        .replace("2018-02-23T23:59:59", "2019-02-22T23:59:59");
    std::fs::write(&config, text).unwrap();
    std::thread::sleep(Duration::from_secs(5));
    std::fs::write(new.join("4.eml"), message(4)).unwrap();
    let fourth = eventually(30, "the reply in the new round", || {
        outbox(dir.path())
            .into_iter()
            .find(|m| m.contains("Our grid 4"))
    });
    assert!(fourth.contains("[YJS-2019-0001]"), "{fourth}");
    drop(daemon);
    std::thread::sleep(Duration::from_millis(500));
    // The funder report for either round.
    for (round, rows) in [("YJS-2018", 3), ("YJS-2019", 1), ("all", 4)] {
        let xlsx = dir.path().join(format!("{round}.xlsx"));
        let out = Command::new(env!("CARGO_BIN_EXE_yjsend"))
            .arg("--config")
            .arg(&config)
            .args(["report", "--round", round, "--xlsx"])
            .arg(&xlsx)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        use calamine::{Reader, Xlsx, open_workbook};
        let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
        let subs = book.worksheet_range("Submissions").unwrap();
        assert_eq!(subs.rows().count(), 1 + rows, "{round}");
    }

    // The first message came before Newpartner was on the roster: read it again now, and
    // send the partnership the reply as it now stands.
    let out = Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(&config)
        .args(["reevaluate", "YJS-2018-0001", "--send"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(line.contains("Quality Mark"), "{line}");
    let out = Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(&config)
        .args(["run", "--once"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = outbox(dir.path())
        .into_iter()
        .find(|m| m.contains("looked at your email again"))
        .expect("the reply as it now stands");
    assert!(again.contains("[YJS-2018-0001]"), "{again}");
    assert!(again.contains("(Newpartner)"), "{again}");
}
