//! Architecture checks that keep the layers honest: every source file says what it is for in
//! a `//!` comment, and the pure core names no I/O, async or storage crate.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_module_has_a_doc_comment() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let missing: Vec<String> = files
        .iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a //! comment: {missing:?}"
    );
}

#[test]
fn the_core_does_no_io() {
    let banned = [
        "std::fs",
        "std::net",
        "tokio",
        "sled",
        "lettre",
        "async_imap",
        "axum",
        "reqwest",
        "Timestamp::now",
        "SystemTime::now",
        "Zoned::now",
    ];
    let mut files = Vec::new();
    rust_files(&src().join("domain"), &mut files);
    rust_files(&src().join("extract"), &mut files);
    let mut offences = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        // Comments may name what the code must not use; only code lines count.
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for b in banned {
            if code.contains(b) {
                offences.push(format!("{} uses {b}", f.display()));
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}

#[test]
fn files_stay_small() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let big: Vec<String> = files
        .iter()
        .filter_map(|p| {
            let lines = std::fs::read_to_string(p).ok()?.lines().count();
            (lines > 800).then(|| format!("{} has {lines} lines", p.display()))
        })
        .collect();
    assert!(big.is_empty(), "split these: {big:?}");
}
