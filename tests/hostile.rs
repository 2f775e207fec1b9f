//! Regressions from the hostile-input bench (bench/hostile.py): messages built to exhaust the
//! MIME parser's memory are read within a tight address-space limit, with a clear problem.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `yjsend check --json` on `raw` with at most `limit_mb` of address space.
fn check_within(raw: &[u8], limit_mb: u64) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.eml");
    std::fs::write(&path, raw).unwrap();
    let limit = limit_mb << 20;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yjsend"));
    cmd.arg("--config")
        .arg(root().join("fixtures/config/yjsend.toml"))
        .args(["check", "--json"])
        .arg(&path);
    // SAFETY: one setrlimit call between fork and exec, on values computed before.
    unsafe {
        cmd.pre_exec(move || {
            let rl = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &rl) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const GRID: &str = "Statement 1: 7\r\nStatement 2: 7\r\nStatement 3: 7\r\nStatement 4a: 7\r\n\
                    Statement 4b: 7\r\nStatement 5: 7\r\nStatement 6: 7\r\nStatement 7: 7\r\n\
                    Statement 8: 7\r\nStatement 9: 7\r\nStatement 10: 7\r\n";

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn millions_of_header_lines_are_cut_and_the_grid_still_read() {
    let mut raw = b"From: Sam <send.lead@oxfordshire.example>\r\nTo: youthjusticesend@example.org\r\n\
                    Subject: grid\r\nMessage-ID: <h@x>\r\nDate: Tue, 20 Feb 2018 09:59:00 +0000\r\n"
        .to_vec();
    for _ in 0..2_000_000 {
        raw.extend_from_slice(b"X:a\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(GRID.as_bytes());
    // Unguarded, the parser took about 460 MB for this; the worker's limit is 1 GiB.
    let v = check_within(&raw, 300);
    assert_eq!(v["classification"], "submission", "{v}");
    assert!(codes(&v).contains(&"malformed_message".to_string()), "{v}");
}

#[test]
fn millions_of_parts_are_not_parsed() {
    let mut raw = b"From: Sam <send.lead@oxfordshire.example>\r\nTo: youthjusticesend@example.org\r\n\
                    Subject: parts\r\nMessage-ID: <p@x>\r\nDate: Tue, 20 Feb 2018 09:59:00 +0000\r\n\
                    MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        .to_vec();
    for _ in 0..1_000_000 {
        raw.extend_from_slice(b"--b\r\n\r\nx\r\n");
    }
    raw.extend_from_slice(b"--b--\r\n");
    let v = check_within(&raw, 300);
    assert!(codes(&v).contains(&"malformed_message".to_string()), "{v}");
}
