//! A store written by the release before schema versions (tests/data/store-v1, made by that
//! release: see its README) opens and is upgraded in place after a backup, and a backup made
//! by that release restores and is upgraded. The verdicts are then derived from the facts the
//! old store held, including what the old release stored stale (a confirmation and a case
//! study joined after the first reading).

use std::path::{Path, PathBuf};
use yjsend::adapters::store::{SCHEMA, Store, upgrade_backup_path};
use yjsend::domain::eligibility::Provisional;
use yjsend::domain::roster::Roster;
use yjsend::domain::standing::LeadRole;
use yjsend::domain::submission::{JoinKind, Judge};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/store-v1")
}

/// The roster the data was made with.
fn roster() -> Roster {
    let source = r#"[round]
name = "Quality Mark and Quality Lead 2018"
reference_prefix = "YJS-2018"
deadline = "2018-02-23T23:59:59"
timezone = "Europe/London"
roster = "partnerships.toml"

[mailbox]
kind = "maildir"
path = "mail"
trusted_authserv_id = "mx.example.org"
"#;
    yjsend::config::from_str(&data().join("yjsend.toml"), source)
        .expect("the test configuration loads")
        .roster
}

fn unpack(dir: &Path) -> PathBuf {
    let status = std::process::Command::new("tar")
        .arg("xzf")
        .arg(data().join("store.tar.gz"))
        .arg("-C")
        .arg(dir)
        .status()
        .expect("tar runs");
    assert!(status.success());
    dir.join("yjsend.db")
}

/// What the earlier release left stale is now derived from the facts it kept.
fn assert_upgraded(store: &Store) {
    assert_eq!(store.schema().unwrap(), SCHEMA);
    let roster = roster();
    let judge = Judge {
        roster: &roster,
        round: "YJS-2018",
    };
    let by_ref = |r: &str| store.record_by_reference(r).unwrap().expect(r);

    // One lead on the grid, then the YOS lead's confirmation in the thread.
    let first = by_ref("YJS-2018-0001");
    assert_eq!(first.joined.len(), 1, "{:?}", first.joined);
    assert_eq!(first.joined[0].kind, JoinKind::Confirmation);
    assert_eq!(first.joined[0].confirms, Some(LeadRole::Yos));
    assert_eq!(
        first.joined[0].from.as_deref(),
        Some("yjs.manager@oxfordshire.example")
    );
    let confirmation = store.record(first.joined[0].record_id).unwrap().unwrap();
    assert_eq!(
        confirmation.message_id.as_deref(),
        Some("<v1-confirm@mail.oxfordshire.example>")
    );
    assert_eq!(confirmation.joined_to, Some(first.id));
    let standing = first.standing(judge);
    assert!(standing.signoff.verified);
    assert_eq!(standing.quality_mark.provisional, Provisional::Eligible);
    assert!(
        !first
            .all_problems(&standing)
            .iter()
            .any(|p| p.code.as_str() == "signoff_missing")
    );

    // A case study for statement 8 sent in the thread: the Quality Lead it was missing.
    let third = by_ref("YJS-2018-0003");
    let ks8 = third
        .evidence
        .iter()
        .find(|f| f.path == "KS8 case study.pdf")
        .expect("the case study sent later");
    assert_eq!(
        ks8.statements
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
        ["8"]
    );
    let standing = third.standing(judge);
    assert!(third.case_study_statements().len() >= 2);
    assert_eq!(standing.quality_lead.provisional, Provisional::Eligible);

    // Times, classifications and problem codes are typed; nothing was lost. (The Maildir's
    // receipt time is the file's, when the data was made.)
    assert_eq!(
        first.received_at,
        "2026-12-06T07:14:06Z".parse::<jiff::Timestamp>().unwrap()
    );
    assert_eq!(store.records().unwrap().len(), 7);
    assert!(store.raw(first.id).unwrap().is_some());
}

#[test]
fn a_store_written_by_the_earlier_release_is_upgraded_in_place_after_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = unpack(dir.path());
    let backup = upgrade_backup_path(&path);
    assert!(!backup.exists());
    {
        let store = Store::open(&path).expect("the old store opens");
        assert_upgraded(&store);
    }
    let kept = std::fs::read(&backup).expect("a backup is written before the upgrade");
    assert_eq!(&kept[..2], &[0x1f, 0x8b], "gzip");
    // The backup is the old store as it was: it restores, and is upgraded in turn.
    let again = dir.path().join("from-backup.db");
    Store::restore(&again, std::fs::File::open(&backup).unwrap()).unwrap();
    assert_upgraded(&Store::open(&again).unwrap());
    // Opening the upgraded store again changes nothing and writes no second backup.
    let before = std::fs::metadata(&backup).unwrap().modified().unwrap();
    let store = Store::open(&path).unwrap();
    assert_upgraded(&store);
    assert_eq!(
        std::fs::metadata(&backup).unwrap().modified().unwrap(),
        before
    );
}

#[test]
fn a_backup_made_by_the_earlier_release_restores_and_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restored.db");
    let n = Store::restore(
        &path,
        std::fs::File::open(data().join("backup.gz")).unwrap(),
    )
    .expect("the old backup restores");
    assert!(n > 0);
    assert_upgraded(&Store::open(&path).unwrap());
}

#[test]
fn a_store_written_by_a_newer_release_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    {
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema().unwrap(), SCHEMA);
        store.meta_set("schema", &(SCHEMA + 1).to_string()).unwrap();
    }
    let err = Store::open(&path).err().expect("refused");
    assert!(err.to_string().contains("newer yjsend"), "{err}");
}
