//! Mail loops between yjsend and other automatic senders: two yjsend instances (two projects'
//! mailboxes) answering each other, directly and through a gateway that strips every header
//! that marks mail as automatic and every threading header. The first dies at once (each
//! reply says it is automatic); the second dies at the per-sender cap.

#[path = "support/local.rs"]
mod local;

use local::{ok, setup, yjsend};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// One instance: its folder and configuration.
struct Instance {
    dir: tempfile::TempDir,
    config: PathBuf,
    /// Outgoing files already passed on.
    passed: BTreeSet<String>,
}

impl Instance {
    fn new(address: &str) -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let config = setup(
            dir.path(),
            "yjsend.db",
            "\n[replies]\nmax_per_sender = 3\nwindow_hours = 3\n",
        );
        let text = std::fs::read_to_string(&config)
            .unwrap()
            .replace("youthjusticesend@example.org", address);
        std::fs::write(&config, text).unwrap();
        std::fs::create_dir_all(dir.path().join("mail/new")).unwrap();
        Instance {
            dir,
            config,
            passed: BTreeSet::new(),
        }
    }

    fn run(&self) {
        ok(yjsend(&self.config, &["run", "--once", "--in-process"]));
    }

    /// What it sent since the last call, as the receiving server would store it.
    fn take_sent(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("outbox")) else {
            return out;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".eml"))
            .collect();
        names.sort();
        for name in names {
            if self.passed.insert(name.clone()) {
                let raw = std::fs::read(self.dir.path().join("outbox").join(&name)).unwrap();
                out.push(raw);
            }
        }
        out
    }

    fn receive(&self, n: usize, raw: &[u8]) {
        std::fs::write(self.dir.path().join(format!("mail/new/{n}.loop:2,")), raw).unwrap();
    }
}

/// The file as delivered: the dir transport's envelope lines dropped; through the stripping
/// gateway, also every automatic and threading header, and a fresh Message-ID.
fn relay(raw: &[u8], strip: bool, n: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        // Header continuation lines follow their header.
        if (line.starts_with(' ') || line.starts_with('\t')) && !lines.is_empty() {
            let last = lines.last_mut().unwrap();
            last.push_str("\r\n");
            last.push_str(line);
        } else {
            lines.push(line.to_string());
        }
    }
    let dropped = |l: &str| {
        let name = l.split(':').next().unwrap_or("").to_ascii_lowercase();
        name.starts_with("x-envelope-")
            || strip
                && matches!(
                    name.as_str(),
                    "auto-submitted"
                        | "precedence"
                        | "x-auto-response-suppress"
                        | "in-reply-to"
                        | "references"
                        | "message-id"
                        | "list-id"
                        | "list-unsubscribe"
                )
    };
    let mut out: Vec<String> = lines.into_iter().filter(|l| !dropped(l)).collect();
    if strip {
        out.push(format!("Message-ID: <gateway-{n}@gateway.example>"));
    }
    format!("{}\r\n\r\n{body}", out.join("\r\n")).into_bytes()
}

/// Runs A and B in turn, passing each one's mail to the other, until nothing moves (or 40
/// rounds). Returns how many messages each sent.
fn pump(a: &mut Instance, b: &mut Instance, strip: bool) -> (usize, usize) {
    let (mut sent_a, mut sent_b, mut n) = (0, 0, 0);
    for _ in 0..40 {
        a.run();
        let from_a = a.take_sent();
        for raw in &from_a {
            n += 1;
            b.receive(n, &relay(raw, strip, n));
        }
        b.run();
        let from_b = b.take_sent();
        for raw in &from_b {
            n += 1;
            a.receive(n, &relay(raw, strip, n));
        }
        sent_a += from_a.len();
        sent_b += from_b.len();
        if from_a.is_empty() && from_b.is_empty() {
            return (sent_a, sent_b);
        }
    }
    panic!("still looping after 40 rounds: A sent {sent_a}, B sent {sent_b}");
}

fn question(from: &str, to: &str) -> Vec<u8> {
    format!(
        "From: Another project <{from}>\r\nTo: {to}\r\nSubject: Quality Mark question\r\n\
         Message-ID: <q1@two.example>\r\nDate: Tue, 20 Feb 2018 09:59:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nWhen is the deadline?\r\n"
    )
    .into_bytes()
}

fn two(strip: bool) -> (usize, usize) {
    let mut a = Instance::new("youthjusticesend@one.example");
    let mut b = Instance::new("youthjusticesend@two.example");
    // B's address writes to A once, by hand; from then on only the two daemons write.
    a.receive(
        0,
        &question(
            "youthjusticesend@two.example",
            "youthjusticesend@one.example",
        ),
    );
    pump(&mut a, &mut b, strip)
}

#[test]
fn two_instances_answering_each_other_stop_at_once() {
    let (a, b) = two(false);
    // A answers the question; B sees an automatic reply and does not answer it.
    assert_eq!((a, b), (1, 0));
}

#[test]
fn through_a_gateway_that_strips_every_automatic_mark_the_loop_dies_at_the_cap() {
    let (a, b) = two(true);
    eprintln!("through the stripping gateway: A sent {a}, B sent {b}");
    // Each side answers the other at most max_per_sender (3) times in the window.
    assert!(a <= 3 && b <= 3, "A sent {a}, B sent {b}");
    assert!(
        a >= 1 && b >= 1,
        "the gateway made it a loop: A sent {a}, B sent {b}"
    );
}
