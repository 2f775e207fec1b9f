//! Message reading on hand-written MIME: addresses, times, bodies, names and containers.

use super::*;
use crate::extract::Limits;

fn read(raw: &str) -> MailFacts {
    let mut budget = Budget::new(Limits::default());
    parse(raw.as_bytes(), &mut budget, Some("mx.example.org")).expect("parsed")
}

const HEAD: &str = "Received: from a.example by mx.example.org; Tue, 20 Feb 2018 10:00:05 +0000\r\n\
Received: from b by a.example; Tue, 20 Feb 2018 09:59:00 +0000\r\n\
Authentication-Results: mx.example.org; dmarc=fail header.from=x.example\r\n\
From: \"Sam Lead\" <SEND.Lead@Oxfordshire.Example>\r\n\
To: youthjusticesend@example.org\r\n\
Cc: a@x.example, \"B\" <b@y.example>\r\n\
Reply-To: pa@oxfordshire.example\r\n\
Subject: =?utf-8?B?R3JpZCDigJMgT3hmb3Jkc2hpcmU=?=\r\n\
Date: Tue, 20 Feb 2018 09:58:00 +0000\r\n\
Message-ID: <abc@oxfordshire.example>\r\n\
In-Reply-To: <r1@example.org>\r\n\
References: <r0@example.org> <r1@example.org>\r\n";

#[test]
fn headers_become_facts() {
    let f = read(&format!("{HEAD}Content-Type: text/plain\r\n\r\nHello\r\n"));
    assert_eq!(f.from.as_deref(), Some("send.lead@oxfordshire.example"));
    assert_eq!(f.from_name.as_deref(), Some("Sam Lead"));
    assert_eq!(f.cc, vec!["a@x.example", "b@y.example"]);
    assert_eq!(f.reply_to, vec!["pa@oxfordshire.example"]);
    assert_eq!(f.subject.as_deref(), Some("Grid – Oxfordshire"));
    assert_eq!(f.message_id.as_deref(), Some("<abc@oxfordshire.example>"));
    assert_eq!(f.in_reply_to, vec!["<r1@example.org>"]);
    assert_eq!(f.references, vec!["<r0@example.org>", "<r1@example.org>"]);
    assert_eq!(
        f.received_header_at.unwrap().to_string(),
        "2018-02-20T10:00:05Z"
    );
    assert_eq!(f.date.unwrap().to_string(), "2018-02-20T09:58:00Z");
    assert_eq!(f.auth, Some(AuthVerdict::DmarcFail));
    assert_eq!(f.body_text.trim(), "Hello");
    assert!(f.body_html.is_none());
    assert!(f.parts.is_empty());
}

#[test]
fn attachments_keep_decoded_names_and_forwarded_messages_nest() {
    let raw = format!(
        "{HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nStatement 1 =96 6\r\n\
--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=utf-8''Grid%20%E2%80%93%20final.csv\r\n\r\n1,7\r\n\
--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y.example\r\nSubject: St Helens grid\r\nContent-Type: multipart/mixed; boundary=\"b2\"\r\n\r\n\
--b2\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
--b2\r\nContent-Type: text/csv; name=\"Grid.csv\"\r\nContent-Disposition: attachment\r\n\r\n2,8\r\n\
--b2--\r\n\
--b1--\r\n"
    );
    let f = read(&raw);
    assert_eq!(f.body_text.trim(), "Statement 1 – 6");
    let paths: Vec<&str> = f.parts.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, vec!["Grid – final.csv", "St Helens grid/Grid.csv"]);
    assert_eq!(f.parts[1].bytes, b"2,8");
}

#[test]
fn junk_never_panics() {
    let mut budget = Budget::new(Limits::default());
    for raw in [
        &b""[..],
        b"\0\0\0",
        b"From: \r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x",
    ] {
        let _ = parse(raw, &mut budget, None);
    }
}

#[test]
fn nesting_past_the_cap_is_said_not_skipped() {
    // Twelve forwarded messages, one inside the next, the grid in the innermost.
    let mut inner = "From: x@y.example\r\nSubject: level 12\r\nContent-Type: text/csv; name=\"Grid.csv\"\r\nContent-Disposition: attachment\r\n\r\n1,7\r\n".to_string();
    for level in (1..12).rev() {
        inner = format!(
            "From: x@y.example\r\nSubject: level {level}\r\nContent-Type: multipart/mixed; boundary=\"n{level}\"\r\n\r\n\
--n{level}\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--n{level}--\r\n"
        );
    }
    let raw = format!(
        "{HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"top\"\r\n\r\n\
--top\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--top--\r\n"
    );
    let f = read(&raw);
    let said: Vec<_> = f
        .problems
        .iter()
        .filter(|p| p.code == ProblemCode::DecompressionLimit)
        .collect();
    assert_eq!(said.len(), 1, "{:?}", f.problems);
    assert!(said[0].detail.contains("nested more than 8 deep"));
}

#[test]
fn a_base64_attachment_with_a_stray_character_is_still_read() {
    let raw = format!(
        "{HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nGrid attached\r\n\
--b\r\nContent-Type: text/csv; name=\"Grid.csv\"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n\
MSw3CjIs*OAo=\r\n\
--b--\r\n"
    );
    let f = read(&raw);
    assert_eq!(f.parts.len(), 1, "{:?}", f.problems);
    assert_eq!(f.parts[0].bytes, b"1,7\n2,8\n");
}

#[test]
fn a_base64_body_with_stray_characters_is_still_read() {
    let raw = format!(
        "{HEAD}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\
U3Rh!dGVtZW50*IDEg~OiA3\r\n"
    );
    assert_eq!(read(&raw).body_text, "Statement 1 : 7");
}
