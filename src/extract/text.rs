//! Plain-text helpers: the part of a body that the sender wrote (quotes removed), and text from
//! legacy documents (.rtf, .doc) good enough for case-study linking.

use regex::Regex;
use std::sync::LazyLock;

static ON_WROTE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*on\b.{0,200}\bwrote:\s*$").expect("valid regex"));
static OUTLOOK_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*\*?(from|van|von|de)\s*:\*?\s").expect("valid regex"));
static OUTLOOK_NEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*\*?(sent|date|to|subject|verzonden|gesendet|envoyé)\s*:")
        .expect("valid regex")
});

/// The sender's own words: drops `>` quoted lines and everything after a reply header
/// ("On … wrote:", "-----Original Message-----", an Outlook "From:" block) and after our own
/// earlier reply (a line carrying `our_marker`, e.g. the reference prefix).
pub fn own_words(body: &str, our_marker: Option<&str>) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with('>') {
            continue;
        }
        let lower = t.to_ascii_lowercase();
        if lower.contains("-----original message-----")
            || lower.starts_with("-----forwarded message")
            || lower.starts_with("---------- forwarded message")
            || lower.starts_with("begin forwarded message")
        {
            break;
        }
        if ON_WROTE.is_match(t) {
            break;
        }
        // "On Tue, 20 Feb 2018 at 10:00, Jane Carter <…>" wrapped before "wrote:".
        if lower.starts_with("on ")
            && lines
                .get(i + 1)
                .is_some_and(|n| n.trim().to_ascii_lowercase().ends_with("wrote:"))
        {
            break;
        }
        if OUTLOOK_HEADER.is_match(t)
            && lines
                .iter()
                .skip(i + 1)
                .take(4)
                .any(|n| OUTLOOK_NEXT.is_match(n))
        {
            break;
        }
        if t.starts_with("________________________________")
            && lines
                .iter()
                .skip(i + 1)
                .take(3)
                .any(|n| OUTLOOK_HEADER.is_match(n))
        {
            break;
        }
        if let Some(m) = our_marker
            && t.contains(m)
        {
            break;
        }
        out.push(*line);
    }
    out.join("\n")
}

/// Visible text of an RTF document (control words and groups dropped).
pub fn rtf_to_text(bytes: &[u8]) -> String {
    const SKIP: &[&str] = &[
        "fonttbl",
        "colortbl",
        "stylesheet",
        "info",
        "pict",
        "header",
        "footer",
        "headerl",
        "headerr",
        "footerl",
        "footerr",
        "listtable",
        "listoverridetable",
        "rsidtbl",
        "generator",
        "xmlnstbl",
        "themedata",
        "colorschememapping",
        "latentstyles",
        "datastore",
        "object",
        "fldinst",
    ];
    let mut out = String::new();
    // Per group: whether its text is skipped, and the \uc fallback count.
    let mut stack: Vec<(bool, usize)> = vec![(false, 1)];
    let mut skip_fallback = 0usize;
    let mut i = 0;
    let n = bytes.len().min(64 * 1024 * 1024);
    while i < n {
        let c = bytes[i];
        let (skipping, uc) = stack.last().copied().unwrap_or((false, 1));
        match c {
            b'{' => {
                if stack.len() < 256 {
                    stack.push((skipping, uc));
                }
                i += 1;
            }
            b'}' => {
                if stack.len() > 1 {
                    stack.pop();
                }
                i += 1;
            }
            b'\\' => {
                i += 1;
                let Some(&next) = bytes.get(i) else { break };
                if next == b'\'' {
                    let hex = bytes
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok());
                    i += 3;
                    if skip_fallback > 0 {
                        skip_fallback -= 1;
                    } else if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
                        && !skipping
                    {
                        let one = [b];
                        let (s, _, _) = encoding_rs::WINDOWS_1252.decode(&one);
                        out.push_str(&s);
                    }
                    continue;
                }
                if next == b'*' {
                    if let Some(top) = stack.last_mut() {
                        top.0 = true;
                    }
                    i += 1;
                    continue;
                }
                if !next.is_ascii_alphabetic() {
                    // An escaped symbol: \\ \{ \} \~ (non-breaking space) and the like.
                    if !skipping {
                        match next {
                            b'\\' | b'{' | b'}' => out.push(next as char),
                            b'~' => out.push(' '),
                            _ => {}
                        }
                    }
                    i += 1;
                    continue;
                }
                let start = i;
                while i < n && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                let word = std::str::from_utf8(&bytes[start..i]).unwrap_or("");
                let num_start = i;
                if i < n && (bytes[i] == b'-' || bytes[i].is_ascii_digit()) {
                    i += 1;
                    while i < n && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                let num: Option<i64> = std::str::from_utf8(&bytes[num_start..i])
                    .ok()
                    .and_then(|s| s.parse().ok());
                if i < n && bytes[i] == b' ' {
                    i += 1;
                }
                if SKIP.contains(&word) {
                    if let Some(top) = stack.last_mut() {
                        top.0 = true;
                    }
                    continue;
                }
                if skipping {
                    continue;
                }
                match word {
                    "par" | "line" | "row" | "sect" | "page" => out.push('\n'),
                    "cell" | "tab" => out.push('\t'),
                    "uc" => {
                        if let (Some(top), Some(v)) = (stack.last_mut(), num) {
                            top.1 = v.clamp(0, 10) as usize;
                        }
                    }
                    "u" => {
                        if let Some(v) = num {
                            let code = if v < 0 { v + 65536 } else { v };
                            if let Some(ch) = u32::try_from(code).ok().and_then(char::from_u32) {
                                out.push(ch);
                            }
                            skip_fallback = uc;
                        }
                    }
                    _ => {}
                }
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                if skip_fallback > 0 {
                    skip_fallback -= 1;
                } else if !skipping {
                    out.push(c as char);
                }
                i += 1;
            }
        }
    }
    out
}

/// Best-effort text of a legacy Word .doc: runs of readable characters in the WordDocument
/// stream (UTF-16 or 8-bit), enough to see a title and the first lines.
pub fn doc_to_text(bytes: &[u8]) -> String {
    use std::io::Read;
    let Ok(mut file) = cfb::CompoundFile::open(std::io::Cursor::new(bytes)) else {
        return String::new();
    };
    let mut stream = Vec::new();
    match file.open_stream("/WordDocument") {
        Ok(s) => {
            if s.take(32 * 1024 * 1024).read_to_end(&mut stream).is_err() {
                return String::new();
            }
        }
        Err(_) => return String::new(),
    }
    // The text starts after the 0x600-byte FIB area in files Word writes.
    let body = stream.get(0x200..).unwrap_or(&[]);
    let utf16 = runs_utf16(body);
    if utf16.len() >= 20 {
        return utf16;
    }
    runs_8bit(body)
}

fn runs_utf16(b: &[u8]) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for pair in b.chunks_exact(2) {
        let u = u16::from_le_bytes([pair[0], pair[1]]);
        let ch = char::from_u32(u as u32).filter(|c| !c.is_control() || *c == '\r');
        match ch {
            Some('\r') => {
                run.push('\n');
            }
            Some(c) if c.is_alphanumeric() || " .,;:'\"()-–&/?!%£".contains(c) => run.push(c),
            _ => {
                if run.trim().chars().count() >= 4 {
                    out.push_str(&run);
                    out.push('\n');
                }
                run.clear();
            }
        }
    }
    if run.trim().chars().count() >= 4 {
        out.push_str(&run);
    }
    out
}

fn runs_8bit(b: &[u8]) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for &c in b {
        if c == b'\r' {
            run.push('\n');
        } else if c.is_ascii_alphanumeric() || b" .,;:'\"()-&/?!%".contains(&c) {
            run.push(c as char);
        } else {
            if run.trim().len() >= 4 {
                out.push_str(&run);
                out.push('\n');
            }
            run.clear();
        }
    }
    if run.trim().len() >= 4 {
        out.push_str(&run);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_reply_headers_are_dropped() {
        let b = "KS 1 - 7\nKS 2 - 7\n\n-----Original Message-----\nFrom: x\nKS 1 - 5\n";
        assert_eq!(own_words(b, None), "KS 1 - 7\nKS 2 - 7\n");
        let g = "Scores below\nStatement 1: 7\n\nOn Tue, 20 Feb 2018 at 10:00, Youth Justice SEND <y@example.org>\nwrote:\n> Statement 1: 5";
        assert_eq!(own_words(g, None), "Scores below\nStatement 1: 7\n");
        let o = "Thanks!\n\nFrom: Youth Justice SEND <y@example.org>\nSent: 20 February 2018 10:00\nTo: me\nStatement 1: 5";
        assert_eq!(own_words(o, None), "Thanks!\n");
        let q = "ok\n> Statement 1: 5\n>> Statement 2: 5\nbye";
        assert_eq!(own_words(q, None), "ok\nbye");
        let ours = "thanks\nReference: [YJS-2018-0001]\n 1 7";
        assert_eq!(own_words(ours, Some("[YJS-2018-")), "thanks");
        let from_in_text = "From: our point of view the scores are\nStatement 1: 7";
        assert_eq!(own_words(from_in_text, None), from_in_text);
    }

    #[test]
    fn rtf_text() {
        let rtf = br"{\rtf1\ansi{\fonttbl{\f0 Arial;}}{\*\generator x;}\f0 Case study \'96 Key Statement 8\par Caf\'e9 \u8217?s\par}";
        assert_eq!(rtf_to_text(rtf), "Case study – Key Statement 8\nCafé ’s\n");
        let _ = rtf_to_text(b"{\\rtf1 {{{{\\u-10000");
    }

    #[test]
    fn doc_junk_is_empty() {
        assert_eq!(doc_to_text(b"not a doc"), "");
    }
}
