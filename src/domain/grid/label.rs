//! Statement labels as partnerships write them: "1", "Statement 1", "KS1", "Key Statement
//! 4(a)", "4A", "Statement 4 b", "1 All Local Authority SEND Team staff…", or the statement's
//! own words with no number at all.

use crate::domain::statement::StatementId;
use regex::Regex;
use std::sync::LazyLock;

/// How a label named its statement; bare numbers are weaker evidence than the rest (a
/// scoring guide lists 0–10 too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    /// With a statement word: "Statement 4a", "KS 10".
    Explicit,
    /// A number alone: "1", "4a".
    Bare,
    /// A number followed by words: "1 All Local Authority…", "4b. Proactive…".
    Leading,
    /// The statement's own words.
    Text,
}

/// A label found at the start of a string, and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label<'a> {
    pub statement: StatementId,
    pub kind: LabelKind,
    /// The text after the label (for a typed line: "Statement 4a: 7" gives ": 7").
    pub rest: &'a str,
}

static EXPLICIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(?:key\s*statement|statement|k\.?\s?s\.?t?|kst|ks)\s*(?:no\.?|number|\#)?\s*[-:.]?\s*
          (10|[1-9])
          (?:\s*\(\s*([ab])\s*\)|\s*[.\-]?\s*([ab])\b)?
          (?:[^0-9a-z]|$)",
    )
    .expect("valid regex")
});

static LEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(10|[1-9])
          (?:\s*\(\s*([ab])\s*\)|\s*[.\-]?\s*([ab])\b)?
          (?:\s*[.):\-–—]\s*|\s+|$)",
    )
    .expect("valid regex")
});

fn id(number: &str, part: Option<&str>) -> Option<StatementId> {
    let part = part.map(|p| p.to_ascii_lowercase());
    match (number, part.as_deref()) {
        ("4", Some("a")) => Some(StatementId::S4a),
        ("4", Some("b")) => Some(StatementId::S4b),
        ("4", _) | (_, Some(_)) => None,
        (n, None) => StatementId::from_key(n),
    }
}

/// Reads the label at the start of `s`, if there is one.
pub fn parse(s: &str) -> Option<Label<'_>> {
    if let Some(c) = EXPLICIT.captures(s) {
        let part = c.get(2).or(c.get(3)).map(|m| m.as_str());
        let statement = id(c.get(1)?.as_str(), part)?;
        let end = c.get(3).or(c.get(2)).or(c.get(1))?.end();
        let rest = s.get(end..).unwrap_or("").trim_start_matches([')', ' ']);
        return Some(Label {
            statement,
            kind: LabelKind::Explicit,
            rest,
        });
    }
    if let Some(c) = LEADING.captures(s) {
        let part = c.get(2).or(c.get(3)).map(|m| m.as_str());
        let statement = id(c.get(1)?.as_str(), part)?;
        let rest = s.get(c.get(0)?.end()..).unwrap_or("");
        let kind = if rest.trim().is_empty() {
            LabelKind::Bare
        } else if rest.trim_start().starts_with(|ch: char| ch.is_alphabetic()) {
            LabelKind::Leading
        } else {
            return None;
        };
        return Some(Label {
            statement,
            kind,
            rest,
        });
    }
    own_words(s).map(|statement| Label {
        statement,
        kind: LabelKind::Text,
        rest: "",
    })
}

/// Lower-case words only, so punctuation and spacing differences do not matter.
fn words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(w.chars().flat_map(char::to_lowercase));
    }
    out
}

static STATEMENT_WORDS: LazyLock<Vec<(StatementId, String)>> = LazyLock::new(|| {
    StatementId::ALL
        .into_iter()
        .map(|s| (s, words(s.full_text())))
        .collect()
});

/// The statement whose own words a cell starts with (at least its first 30 characters, or
/// the whole cell when someone shortened the statement).
fn own_words(s: &str) -> Option<StatementId> {
    if s.len() < 25 {
        return None;
    }
    let cell = words(s);
    if cell.len() < 25 {
        return None;
    }
    STATEMENT_WORDS.iter().find_map(|(id, text)| {
        let n = text.len().min(40);
        let head = text.get(..n)?;
        (cell.starts_with(head) || (text.starts_with(&cell) && cell.len() >= 30)).then_some(*id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatementId::*;

    fn st(s: &str) -> Option<(StatementId, LabelKind)> {
        parse(s).map(|l| (l.statement, l.kind))
    }

    #[test]
    fn the_labels_people_write() {
        use LabelKind::*;
        assert_eq!(st("1"), Some((S1, Bare)));
        assert_eq!(st("10"), Some((S10, Bare)));
        assert_eq!(st("4a"), Some((S4a, Bare)));
        assert_eq!(st("4A"), Some((S4a, Bare)));
        assert_eq!(st("4 b"), Some((S4b, Bare)));
        assert_eq!(st("4(b)"), Some((S4b, Bare)));
        assert_eq!(st("Statement 1"), Some((S1, Explicit)));
        assert_eq!(st("KS1"), Some((S1, Explicit)));
        assert_eq!(st("KS 10"), Some((S10, Explicit)));
        assert_eq!(st("ks4a"), Some((S4a, Explicit)));
        assert_eq!(st("KS 4(a)"), Some((S4a, Explicit)));
        assert_eq!(st("Key Statement 4(a)"), Some((S4a, Explicit)));
        assert_eq!(st("Statement 4 b"), Some((S4b, Explicit)));
        assert_eq!(st("Key statement 8: transition"), Some((S8, Explicit)));
        assert_eq!(
            st("1 All Local Authority SEND Team staff"),
            Some((S1, Leading))
        );
        assert_eq!(
            st("4b. Proactive information exchange"),
            Some((S4b, Leading))
        );
        assert_eq!(
            st(
                "Proactive information exchange and planning between LA SEND, Social, Health and LAC Teams"
            ),
            Some((S4b, Text))
        );
        assert_eq!(
            st("Strategic Commissioners within Local Authority Area Partnerships ensure"),
            Some((S10, Text))
        );
    }

    #[test]
    fn what_is_not_a_label() {
        for s in [
            "4",
            "Statement 4",
            "11",
            "Statement 11",
            "0",
            "Score",
            "1a",
            "KS12",
            "12 of 14",
            "1 7",
            "Statement 4 because",
        ] {
            assert_eq!(st(s), None, "{s}");
        }
    }

    #[test]
    fn the_rest_follows_the_label() {
        assert_eq!(parse("Statement 4a: 7").unwrap().rest, ": 7");
        assert_eq!(parse("KS 10 - 8").unwrap().rest.trim(), "- 8");
        assert_eq!(parse("Key Statement 4(a) 6").unwrap().rest.trim(), "6");
    }
}
