//! Loading the configuration: defaults, relative paths, and errors with file, line and key.

use super::*;
use std::fs;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

const ROUND: &str = r#"[round]
name = "Quality Mark and Quality Lead 2018"
reference_prefix = "YJS-2018"
deadline = "2018-02-23T23:59:59"
timezone = "Europe/London"
roster = "partnerships.toml"
"#;

const ROSTER: &str = r#"[[partnership]]
id = "oxfordshire"
name = "Oxfordshire"
domains = ["oxfordshire.example"]
la_send_leads = ["send.lead@oxfordshire.example"]
yos_leads = ["yjs.manager@oxfordshire.example"]
"#;

#[test]
fn the_round_alone_is_enough_and_the_rest_defaults() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "partnerships.toml", ROSTER);
    let cfg = load(&write(dir.path(), "yjsend.toml", ROUND)).unwrap();
    assert_eq!(cfg.round.deadline.to_string(), "2018-02-23T23:59:59Z");
    assert_eq!(cfg.roster.partnerships.len(), 1);
    assert_eq!(
        cfg.mailbox,
        MailboxConfig::Maildir {
            path: dir.path().join("../var/mail"),
            trusted_authserv_id: None
        }
    );
    assert_eq!(cfg.storage.path, dir.path().join("../var/yjsend.db"));
    assert_eq!(cfg.max_message_bytes, 26_214_400);
    assert_eq!(cfg.limits.max_unpacked_bytes, 67_108_864);
    assert_eq!(cfg.message_seconds, 30);
    assert_eq!(cfg.replies.max_per_sender, 10);
    assert_eq!(cfg.digest.at, jiff::civil::time(8, 0, 0, 0));
}

#[test]
fn summer_deadline_resolves_in_the_round_time_zone() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "partnerships.toml", ROSTER);
    let text = ROUND.replace("2018-02-23T23:59:59", "2018-06-01T17:00:00");
    let cfg = load(&write(dir.path(), "yjsend.toml", &text)).unwrap();
    assert_eq!(cfg.round.deadline.to_string(), "2018-06-01T16:00:00Z");
}

#[test]
fn every_error_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "partnerships.toml", ROSTER);
    let text = format!(
        "{}\n[mailbox]\nkind = \"imap\"\nhots = \"x\"\nport = 99999\n[limits]\nmessage_seconds = \"30\"\n[colour]\n",
        ROUND.replace("Europe/London", "Europe/Londn")
    );
    let path = write(dir.path(), "yjsend.toml", &text);
    let errs: Vec<String> = load(&path)
        .unwrap_err()
        .iter()
        .map(|e| e.to_string().replace(&format!("{}", path.display()), "F"))
        .collect();
    for want in [
        "F:5: round.timezone: \"Europe/Londn\" is not a known time zone (e.g. \"Europe/London\")",
        "F:8: mailbox.host: is required",
        "F:11: mailbox.port: must be a whole number from 0 to 65535",
        "F:13: limits.message_seconds: expected a whole number, found string",
        "F:14: colour: unknown key",
    ] {
        assert!(
            errs.iter().any(|e| e.starts_with(want)),
            "{want} not in {errs:#?}"
        );
    }
    assert!(
        errs.iter()
            .any(|e| e.starts_with("F:10: mailbox.hots: unknown key")),
        "{errs:#?}"
    );
}

#[test]
fn roster_errors_name_the_roster_file() {
    let dir = tempfile::tempdir().unwrap();
    let roster = format!("{ROSTER}baseline = {{ \"4c\" = 5 }}\n");
    let rpath = write(dir.path(), "partnerships.toml", &roster);
    let errs = load(&write(dir.path(), "yjsend.toml", ROUND)).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].file, rpath);
    assert_eq!(errs[0].line, 7);
    assert_eq!(errs[0].key, "partnership[1].baseline.4c");
}

#[test]
fn a_syntax_error_has_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let errs = from_str(
        &dir.path().join("y.toml"),
        "[round]\nname = \"x\nother = 1\n",
    )
    .unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].line, 2, "{errs:?}");
}

#[test]
fn the_committed_configurations_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for p in [
        "config/yjsend.toml",
        "config/examples/imap-smtp.toml",
        "fixtures/config/yjsend.toml",
    ] {
        if let Err(e) = load(&root.join(p)) {
            panic!("{p}: {e:?}");
        }
    }
}

#[test]
fn the_outbox_retry_delay_defaults_and_must_be_positive() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "partnerships.toml", ROSTER);
    let path = write(dir.path(), "yjsend.toml", ROUND);
    assert_eq!(load(&path).unwrap().retry_seconds, 30);
    let text = format!("{ROUND}[smtp]\nkind = \"dir\"\nretry_seconds = 5\n");
    let path = write(dir.path(), "yjsend.toml", &text);
    assert_eq!(load(&path).unwrap().retry_seconds, 5);
    let text = format!("{ROUND}[smtp]\nkind = \"dir\"\nretry_seconds = 0\n");
    let path = write(dir.path(), "yjsend.toml", &text);
    let errs = load(&path).unwrap_err();
    assert!(
        errs.iter().any(|e| e.key == "smtp.retry_seconds"),
        "{errs:?}"
    );
}
