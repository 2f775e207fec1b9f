//! Forged sign-off is never counted: a display name that is a lead's address over another
//! address, a look-alike domain, a lead's domain as a prefix of another, and a lead's address
//! with `dmarc=fail` from the trusted server (fixture 036 covers that one end to end).

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn message(from: &str, cc: &str, extra: &str) -> String {
    format!(
        "From: {from}\r\nTo: youthjusticesend@example.org\r\nCc: {cc}\r\n{extra}Subject: grid\r\n\
         Message-ID: <forged@x.example>\r\nDate: Tue, 20 Feb 2018 09:59:00 +0000\r\n\
         Content-Type: text/plain\r\n\r\n\
         Statement 1: 7\r\nStatement 2: 7\r\nStatement 3: 7\r\nStatement 4a: 7\r\n\
         Statement 4b: 7\r\nStatement 5: 7\r\nStatement 6: 7\r\nStatement 7: 7\r\n\
         Statement 8: 7\r\nStatement 9: 7\r\nStatement 10: 7\r\n"
    )
}

#[test]
fn look_alikes_and_display_names_never_sign_off() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "display-name",
            message(
                "\"send.lead@oxfordshire.example\" <attacker@evil.example>",
                "\"yjs.manager@oxfordshire.example\" <other@evil.example>",
                "",
            ),
        ),
        (
            "look-alike",
            message(
                "Sam Lead <send.lead@oxfordshlre.example>",
                "yjs.manager@oxfordshlre.example",
                "",
            ),
        ),
        (
            "prefix-domain",
            message(
                "Sam Lead <send.lead@oxfordshire.example.evil.example>",
                "yjs.manager@oxfordshire.example.evil.example",
                "",
            ),
        ),
        (
            "dmarc-fail",
            message(
                "Sam Lead <send.lead@oxfordshire.example>",
                "yjs.manager@oxfordshire.example",
                "Authentication-Results: mx.example.org; dmarc=fail header.from=oxfordshire.example\r\n",
            ),
        ),
    ];
    for (name, text) in cases {
        let path = dir.path().join(format!("{name}.eml"));
        std::fs::write(&path, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_yjsend"))
            .arg("--config")
            .arg(root().join("fixtures/config/yjsend.toml"))
            .args(["check", "--json"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["signoff"]["verified"], false, "{name}: {v}");
        assert_ne!(v["quality_mark"], "eligible", "{name}: {v}");
        if name != "dmarc-fail" {
            assert!(v["partnership"].is_null(), "{name}: {v}");
        }
    }
}
