//! The binary as a user runs it: `run --once` on a Maildir with the evaluation worker process,
//! `template`, `config check` and the exit statuses.

use std::path::PathBuf;

#[path = "support/local.rs"]
mod local;

use local::{files_contain as store_files_contain, root, yjsend};

/// A configuration in a temporary folder: the fixture roster, a Maildir, an outbox folder.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = local::setup(dir.path(), "yjsend.db", "");
    (dir, config)
}

#[test]
fn run_once_answers_what_is_waiting_through_the_worker() {
    let (dir, config) = setup();
    let new = dir.path().join("mail/new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::copy(
        root().join("fixtures/eml/001-xlsx-plain.eml"),
        new.join("1.eml"),
    )
    .unwrap();
    let out = yjsend(&config, &["run", "--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: Vec<PathBuf> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let reply = std::fs::read_to_string(&sent[0]).unwrap();
    assert!(
        reply.contains("Subject: Re: Oxfordshire re-score grid [YJS-2018-0001]"),
        "{reply}"
    );
    assert!(reply.contains("Auto-Submitted: auto-replied"));
    assert_eq!(
        std::fs::read_dir(&new).unwrap().count(),
        0,
        "the message left new/"
    );
    // A second pass finds nothing to do and sends nothing more.
    let out = yjsend(&config, &["run", "--once"]);
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn template_is_filled_with_the_baseline() {
    let (dir, config) = setup();
    let file = dir.path().join("t.xlsx");
    let out = yjsend(
        &config,
        &[
            "template",
            "--partnership",
            "oxfordshire",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"PK"));
    let out = yjsend(&config, &["template", "--partnership", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn config_errors_exit_2_with_file_line_and_key() {
    let (dir, config) = setup();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[storage]", "[storage]\npaht = \"x\"");
    std::fs::write(&config, text).unwrap();
    let out = yjsend(&config, &["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("yjsend.toml:19: storage.paht: unknown key"),
        "{err}"
    );
    drop(dir);
}

#[test]
fn unreadable_files_exit_1_and_still_get_a_line() {
    let (_dir, config) = setup();
    let out = yjsend(&config, &["check", "--json", "/nonexistent/x.eml"]);
    assert_eq!(out.status.code(), Some(1));
    let line = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["file"], "/nonexistent/x.eml");
    assert!(v["error"].is_string());
}

#[test]
fn config_check_renders_the_wording_and_names_a_broken_template() {
    let (dir, config) = setup();
    let out = yjsend(&config, &["config", "check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("the built-in templates"));
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("reply.txt.j2"),
        "{{ headline }}\n{% for row in scores %}{{ row.id }}\n",
    )
    .unwrap();
    let out = yjsend(&config, &["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("reply.txt.j2: line"), "{err}");
    // Fixed, it is used.
    std::fs::write(templates.join("reply.txt.j2"), "{{ headline }}\n").unwrap();
    let out = yjsend(&config, &["config", "check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("templates"));
}

#[test]
fn backup_and_restore_from_the_command_line() {
    let (dir, config) = setup();
    let new = dir.path().join("mail/new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::copy(
        root().join("fixtures/eml/001-xlsx-plain.eml"),
        new.join("1.eml"),
    )
    .unwrap();
    assert!(yjsend(&config, &["run", "--once"]).status.success());
    let file = dir.path().join("backup.gz");
    let out = yjsend(&config, &["backup", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Into the same (non-empty) store: refused.
    let out = yjsend(&config, &["restore", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty store"));
    // Into a fresh store: the record is there (a second run answers nothing again).
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("yjsend.db", "restored.db");
    std::fs::write(&config, text).unwrap();
    let out = yjsend(&config, &["restore", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::copy(
        root().join("fixtures/eml/001-xlsx-plain.eml"),
        new.join("2.eml"),
    )
    .unwrap();
    assert!(yjsend(&config, &["run", "--once"]).status.success());
    let replies = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .count();
    assert_eq!(
        replies, 1,
        "the copy of an answered message is not answered again"
    );
}

#[test]
fn purge_and_subject_access_find_export_and_erase_for_good() {
    let (dir, config) = setup();
    let new = dir.path().join("mail/new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::copy(
        root().join("fixtures/eml/001-xlsx-plain.eml"),
        new.join("1.eml"),
    )
    .unwrap();
    assert!(yjsend(&config, &["run", "--once"]).status.success());
    let store = dir.path().join("yjsend.db");
    // The sender's address and the attachment's name are in the stored message.
    let needle = b"send.lead@oxfordshire.example";
    assert!(store_files_contain(&store, needle));

    // Subject access: found and exported.
    let export = dir.path().join("export");
    let out = yjsend(
        &config,
        &[
            "subject",
            "send.lead@oxfordshire.example",
            "--export",
            export.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = std::fs::read_to_string(export.join("records.json")).unwrap();
    assert!(records.contains("YJS-2018-0001"), "{records}");
    assert_eq!(
        std::fs::read_dir(&export).unwrap().count(),
        2,
        "records.json and the message"
    );

    // A dry run deletes nothing.
    let tomorrow = (jiff::Zoned::now().date() + jiff::ToSpan::days(1)).to_string();
    let out = yjsend(&config, &["purge", "--before", &tomorrow, "--dry-run"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("would delete the personal data of 1 record")
    );
    assert!(store_files_contain(&store, needle));

    // The purge: gone from the files, the figures kept.
    let out = yjsend(&config, &["purge", "--before", &tomorrow]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !store_files_contain(&store, needle),
        "the address is still in the store's files"
    );
    let out = yjsend(&config, &["subject", "send.lead@oxfordshire.example"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 message(s)"));
    let report = dir.path().join("report.xlsx");
    let out = yjsend(&config, &["report", "--xlsx", report.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "the anonymous figures still make a report"
    );
}

#[test]
fn round_new_rewrites_the_round_keeping_the_rest_and_refuses_a_bad_one() {
    let (_dir, config) = setup();
    let before = std::fs::read_to_string(&config).unwrap();
    let marked = before.replace("[mailbox]", "# the mailbox, kept as it is\n[mailbox]");
    std::fs::write(&config, &marked).unwrap();
    // The same prefix, and a deadline that is not a time: refused, the file untouched.
    for args in [
        vec![
            "round",
            "new",
            "--name",
            "R",
            "--prefix",
            "YJS-2018",
            "--deadline",
            "2019-02-22T23:59:59",
        ],
        vec![
            "round",
            "new",
            "--name",
            "R",
            "--prefix",
            "YJS-2019",
            "--deadline",
            "next Friday",
        ],
    ] {
        let out = yjsend(&config, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(std::fs::read_to_string(&config).unwrap(), marked);
    }
    let out = yjsend(
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
            "--outcomes-by",
            "2019-03-15",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(after.contains("reference_prefix = \"YJS-2019\""), "{after}");
    assert!(after.contains("outcomes_by = \"2019-03-15\""), "{after}");
    assert!(after.contains("# the mailbox, kept as it is"), "{after}");
    let out = yjsend(&config, &["config", "check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
