//! Retention in the running daemon (`[retention] after_round_months`): the personal data of a
//! closed round is purged at start (and daily), the daemon restarts itself in place to rewrite
//! the store, the bytes are gone from the store's files, and it carries on answering.

#[path = "support/local.rs"]
mod local;

use local::{Daemon, deliver, eventually, files_contain, ok, replies, setup, yjsend};

#[test]
fn a_closed_round_is_purged_by_the_running_daemon_and_gone_from_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = setup(d, "yjsend.db", "");
    // The 2018 round: one submission, answered (the daemon remembers the round's deadline).
    deliver(d, "001-xlsx-plain", "2018-02-20T10:00:00Z");
    ok(yjsend(&config, &["run", "--once"]));
    assert_eq!(replies(d), 1);
    let store = d.join("yjsend.db");
    let first = b"001-xlsx-plain@mail.oxfordshire.example";
    assert!(files_contain(&store, first));

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
    let mut daemon = Daemon::start(&config, &log);
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
    assert!(daemon.terminate().success());

    assert!(
        !files_contain(&store, first),
        "the purged message is still in the store's files"
    );
    assert!(files_contain(
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
    // The team's digest says what the rule is and when it last ran.
    let digest = ok(yjsend(&config, &["digest", "--print"]));
    assert!(
        digest.contains("Retention: personal data kept 12 months after a round closes; last purge")
            && digest.contains(", 1 record(s)"),
        "{digest}"
    );
}
