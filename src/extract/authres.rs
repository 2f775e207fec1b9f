//! `Authentication-Results` (RFC 8601): only the topmost header from our trusted server counts.
//!
//! Anyone can write an Authentication-Results header into a message before it reaches us, so
//! only the one our own server added (topmost with our authserv-id) is believed, and of its
//! results only `dmarc=fail` stops sign-off being verified.

/// The sender-authentication verdict the trusted server gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVerdict {
    /// No trusted header, or one without `dmarc=fail`.
    NotFailed,
    /// The trusted header says `dmarc=fail`.
    DmarcFail,
}

/// Removes RFC 5322 comments (nested parentheses), leaving quoted strings alone.
fn strip_comments(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut depth = 0u32;
    let mut quoted = false;
    let mut escaped = false;
    for c in v.chars() {
        if escaped {
            if depth == 0 {
                out.push(c);
            }
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth = depth.saturating_add(1),
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The authserv-id of a header value (the token before the first `;`, version dropped).
fn authserv_id(v: &str) -> String {
    let head = v.split(';').next().unwrap_or("");
    head.split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn dmarc_failed(v: &str) -> bool {
    v.split(';').skip(1).any(|result| {
        let mut words = result.split_whitespace();
        words.next().is_some_and(|mr| {
            let mr = mr.to_ascii_lowercase();
            let (method, res) = mr.split_once('=').unwrap_or((&mr, ""));
            method == "dmarc" && res == "fail"
        })
    })
}

/// `headers` are the raw Authentication-Results values, topmost first.
pub fn verdict(headers: &[String], trusted_authserv_id: Option<&str>) -> AuthVerdict {
    let Some(trusted) = trusted_authserv_id.map(|t| t.trim().to_ascii_lowercase()) else {
        return AuthVerdict::NotFailed;
    };
    if trusted.is_empty() {
        return AuthVerdict::NotFailed;
    }
    let ours = headers
        .iter()
        .map(|h| strip_comments(&h.replace(['\r', '\n'], " ")))
        .find(|h| authserv_id(h) == trusted);
    match ours {
        Some(h) if dmarc_failed(&h) => AuthVerdict::DmarcFail,
        _ => AuthVerdict::NotFailed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(hs: &[&str], trusted: Option<&str>) -> AuthVerdict {
        verdict(
            &hs.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            trusted,
        )
    }

    #[test]
    fn only_the_topmost_trusted_header_counts() {
        use AuthVerdict::*;
        let fail = "mx.example.org; spf=pass smtp.mailfrom=x; dmarc=fail (p=none) header.from=x";
        let pass = "mx.example.org;\r\n\tdkim=fail; dmarc=pass header.from=x";
        assert_eq!(v(&[fail], Some("mx.example.org")), DmarcFail);
        assert_eq!(v(&[fail], Some("MX.Example.Org")), DmarcFail);
        assert_eq!(v(&[pass, fail], Some("mx.example.org")), NotFailed);
        assert_eq!(
            v(&["other.example; dmarc=fail", pass], Some("mx.example.org")),
            NotFailed
        );
        assert_eq!(v(&[fail], None), NotFailed);
        assert_eq!(
            v(&["mx.example.org 1; dmarc=FAIL"], Some("mx.example.org")),
            DmarcFail
        );
        assert_eq!(
            v(&["mx.example.org; none"], Some("mx.example.org")),
            NotFailed
        );
        assert_eq!(
            v(
                &["mx.example.org (our mx); dkim=pass (dmarc=fail looks odd)"],
                Some("mx.example.org")
            ),
            NotFailed
        );
    }
}
