//! Guards in front of the MIME parser against messages built to exhaust it. mail-parser keeps
//! a few hundred bytes for every header line and every part, so a message of millions of tiny
//! header lines or parts (well inside the message size limit) can take over a gigabyte. No
//! mail program writes more than a few hundred header lines or thousands of parts: past
//! [`MAX_LINES`] header lines only the fields anything here reads are kept, and past
//! [`MAX_PARTS`] part delimiters only the headers are read.

use std::borrow::Cow;

/// Header lines (with continuations) beyond which the section is cut down.
pub const MAX_LINES: usize = 5_000;
/// Header bytes beyond which the section is cut down.
pub const MAX_BYTES: usize = 1 << 20;

/// Part delimiter lines (`--boundary`) beyond which a message is read for its headers only.
pub const MAX_PARTS: usize = 200_000;

/// Whether the message has more part delimiters than any mail program writes.
pub fn too_many_parts(raw: &[u8]) -> bool {
    let mut n = 0;
    for line in raw.split(|b| *b == b'\n') {
        if line.starts_with(b"--") {
            n += 1;
            if n > MAX_PARTS {
                return true;
            }
        }
    }
    false
}

/// The fields kept from an oversized header section (`Received` only its first few).
const KEEP: &[&str] = &[
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "auto-submitted",
    "authentication-results",
    "list-id",
    "list-unsubscribe",
    "precedence",
    "x-auto-response-suppress",
    "x-autoreply",
    "x-autorespond",
    "return-path",
    "received",
];
const MAX_RECEIVED: usize = 30;

/// `raw` itself, or a copy whose header section keeps only the fields that matter.
pub fn tame(raw: &[u8]) -> Cow<'_, [u8]> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 2)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 1))
        .unwrap_or(raw.len());
    let head = &raw[..end];
    let lines = head.iter().filter(|b| **b == b'\n').count();
    if lines <= MAX_LINES && head.len() <= MAX_BYTES {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len().min(64 << 20));
    let mut keeping = false;
    let mut received = 0;
    let mut kept = 0usize;
    for line in head.split_inclusive(|b| *b == b'\n') {
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continuation {
            let name = line.iter().position(|b| *b == b':').map(|i| {
                String::from_utf8_lossy(&line[..i])
                    .trim()
                    .to_ascii_lowercase()
            });
            keeping = name.as_deref().is_some_and(|n| {
                KEEP.contains(&n)
                    && (n != "received" || {
                        received += 1;
                        received <= MAX_RECEIVED
                    })
            });
        }
        // A single field folded over millions of lines is cut too.
        if keeping && kept < MAX_BYTES {
            kept += line.len();
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(&raw[end..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_bombs_are_recognised() {
        let mut raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
        for _ in 0..1_000 {
            raw.extend_from_slice(b"--b\r\n\r\nx\r\n");
        }
        assert!(!too_many_parts(&raw));
        for _ in 0..100_000 {
            raw.extend_from_slice(b"--b\r\n\r\nx\r\n");
        }
        assert!(!too_many_parts(&raw));
        for _ in 0..MAX_PARTS {
            raw.extend_from_slice(b"--b\r\n\r\nx\r\n");
        }
        assert!(too_many_parts(&raw));
    }

    #[test]
    fn ordinary_headers_pass_untouched() {
        let raw = b"From: a@b.example\r\nSubject: x\r\n\r\nbody";
        assert!(matches!(tame(raw), Cow::Borrowed(_)));
    }

    #[test]
    fn millions_of_lines_are_cut_to_the_fields_that_matter() {
        let mut raw =
            b"From: Sam <send.lead@oxfordshire.example>\r\nSubject: Our\r\n grid\r\n".to_vec();
        for _ in 0..20_000 {
            raw.extend_from_slice(b"X:a\r\n");
        }
        raw.extend_from_slice(b"Message-ID: <m@x>\r\n\r\nStatement 1: 7\r\n");
        let tamed = tame(&raw);
        let text = String::from_utf8_lossy(&tamed);
        assert!(text.starts_with("From: Sam <send.lead@oxfordshire.example>\r\nSubject: Our\r\n grid\r\nMessage-ID: <m@x>\r\n\r\nStatement 1: 7"), "{text}");
        assert!(!text.contains("X:a"));
    }
}
