//! Inputs the fuzzers found that once made a reader panic: each must now give a clear
//! problem, and `check` must finish normally.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn every_fuzz_finding_gives_a_report() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/data"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("fuzz-"))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let out = Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(root.join("fixtures/config/yjsend.toml"))
        .args(["check", "--json"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), files.len());
    for l in &lines {
        assert!(
            l["problems"].as_array().is_some_and(|p| !p.is_empty()),
            "{l}"
        );
    }
}
