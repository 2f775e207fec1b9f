//! Golden tests: every `fixtures/eml/NNN-what.eml` is evaluated by the real binary
//! (`yjsend check --json`) and compared with its `NNN-what.expect.json`, which lists the
//! fields that must match exactly (made by hand from the spec's rules when the fixture was
//! generated). Every mismatch is reported, not only the first.

use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> Vec<(PathBuf, Value)> {
    let dir = root().join("fixtures/eml");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures/eml exists") {
        let path = entry.expect("readable dir").path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let expect = path.with_extension("expect.json");
        let text = std::fs::read_to_string(&expect)
            .unwrap_or_else(|e| panic!("{}: {e}", expect.display()));
        let value: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", expect.display()));
        out.push((path, value));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn run_check(files: &[&Path]) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(root().join("fixtures/config/yjsend.toml"))
        .arg("check")
        .arg("--json")
        .args(files)
        .output()
        .expect("yjsend runs");
    assert!(
        output.status.success(),
        "yjsend check failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

/// The value of an expectation key in the actual report.
fn actual_field(report: &Value, key: &str) -> Value {
    let grid = &report["grid"];
    match key {
        "partnership" => report["partnership"]["id"].clone(),
        "grid_format" => grid["format"].clone(),
        "grid_source" => grid["source"].clone(),
        "scores" => grid["scores"].clone(),
        "baseline" => grid["baseline"].clone(),
        "on_time" => report["deadline"]["on_time"].clone(),
        "quality_mark" => report["quality_mark"]["provisional"].clone(),
        "quality_lead" => report["quality_lead"]["provisional"].clone(),
        "problem_codes" => {
            let codes: BTreeSet<String> = report["problems"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p["code"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Value::Array(codes.into_iter().map(Value::String).collect())
        }
        other => report[other].clone(),
    }
}

fn normalise(key: &str, v: &Value) -> Value {
    if key == "problem_codes" {
        let set: BTreeSet<String> = v
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        return Value::Array(set.into_iter().map(Value::String).collect());
    }
    v.clone()
}

#[test]
fn every_fixture_matches_its_expectation() {
    let cases = fixtures();
    assert!(
        cases.len() >= 10,
        "expected a real corpus, found {}",
        cases.len()
    );
    let paths: Vec<&Path> = cases.iter().map(|(p, _)| p.as_path()).collect();
    let reports = run_check(&paths);
    assert_eq!(reports.len(), cases.len(), "one JSON line per message");

    let mut failures = Vec::new();
    for ((path, expect), report) in cases.iter().zip(&reports) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let Some(fields) = expect.as_object() else {
            failures.push(format!("{name}: expectation is not an object"));
            continue;
        };
        let mut wrong = Map::new();
        for (key, want) in fields {
            if key == "note" {
                continue;
            }
            let got = actual_field(report, key);
            if normalise(key, want) != normalise(key, &got) {
                wrong.insert(key.clone(), serde_json::json!({"want": want, "got": got}));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{name}: {}\n    problems: {}",
                Value::Object(wrong),
                report["problems"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
