//! Score values as cells hold them: 7, 7.0, "7", "7 - Widespread effective practice", "7/10";
//! and the marks of the circle grid (●, X, ✓ …) against the unmarked ○.

use crate::domain::statement::Score;
use crate::domain::table::CellValue;
use regex::Regex;
use std::sync::LazyLock;

/// What one cell says as a score.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Score(Score),
    /// A number outside 0–10, or not a whole number (kept as written for the detail).
    OutOfRange(String),
    /// Text that is not a score ("tbc", a comment).
    NotAScore(String),
    /// Nothing there (or a placeholder such as "-" or "n/a").
    Empty,
}

static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(?:score\s*[:=]?\s*)?
          (-?\d{1,3}(?:[.,]\d+)?)
          \s*(?:/\s*10|out\s+of\s+10)?
          \s*(?:$|[-–—:,;(]|\s+[a-z])",
    )
    .expect("valid regex")
});

fn from_number(n: f64, written: &str) -> Parsed {
    if n.fract() == 0.0 && (0.0..=10.0).contains(&n) {
        Score::new(n as u8).map_or(Parsed::OutOfRange(written.to_string()), Parsed::Score)
    } else {
        Parsed::OutOfRange(written.to_string())
    }
}

/// Reads a cell as a score.
pub fn parse(v: &CellValue) -> Parsed {
    match v {
        CellValue::Number(n) => from_number(*n, &v.to_text()),
        CellValue::Bool(b) => Parsed::NotAScore(b.to_string()),
        CellValue::Text(t) => parse_text(t),
    }
}

/// Reads text as a score ("7", "7.0", "7 - Widespread effective practice").
pub fn parse_text(t: &str) -> Parsed {
    let t = t.trim();
    if t.is_empty() || matches!(t, "-" | "–" | "—" | "n/a" | "N/A" | "NA" | "na") {
        return Parsed::Empty;
    }
    match NUMBER.captures(t).and_then(|c| c.get(1)) {
        Some(m) => {
            let written = m.as_str().replace(',', ".");
            match written.parse::<f64>() {
                Ok(n) => from_number(n, m.as_str()),
                Err(_) => Parsed::NotAScore(t.to_string()),
            }
        }
        None => Parsed::NotAScore(t.chars().take(40).collect()),
    }
}

/// Whether a cell of the circle grid is marked. ○ (and its look-alikes) is the unmarked
/// circle the template prints in every box.
pub fn is_mark(v: &CellValue) -> bool {
    let t = match v {
        CellValue::Text(t) => t.trim(),
        CellValue::Bool(b) => return *b,
        CellValue::Number(_) => return false,
    };
    if t.is_empty() {
        return false;
    }
    let unmarked = ['○', '◯', '⚪', '☐', '□', 'o', 'O', '0', '◦'];
    if t.chars()
        .all(|c| unmarked.contains(&c) || c.is_whitespace())
    {
        return false;
    }
    let lower = t.to_lowercase();
    matches!(lower.as_str(), "x" | "y" | "yes" | "*" | "•" | "√" | "v")
        || t.chars().any(|c| {
            matches!(
                c,
                '●' | '⬤'
                    | '◉'
                    | '◎'
                    | '⦿'
                    | '■'
                    | '▪'
                    | '█'
                    | '✓'
                    | '✔'
                    | '☑'
                    | '☒'
                    | '✗'
                    | '✘'
                    | '✕'
                    | '✖'
                    | '❌'
                    | '⊗'
                    | '⊠'
                    | '⚫'
                    | '★'
                    | '✅'
                    | '🗸'
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: u8) -> Parsed {
        Parsed::Score(Score::new(v).unwrap())
    }

    #[test]
    fn values_as_written() {
        assert_eq!(parse(&CellValue::Number(7.0)), n(7));
        assert_eq!(parse(&CellValue::Number(0.0)), n(0));
        assert_eq!(parse_text("7"), n(7));
        assert_eq!(parse_text(" 7.0 "), n(7));
        assert_eq!(parse_text("7 - Widespread effective practice"), n(7));
        assert_eq!(parse_text("7 – Widespread"), n(7));
        assert_eq!(parse_text("7/10"), n(7));
        assert_eq!(parse_text("8 (case study attached)"), n(8));
        assert_eq!(parse_text("Score: 6"), n(6));
    }

    #[test]
    fn out_of_range_and_not_scores() {
        assert_eq!(
            parse(&CellValue::Number(11.0)),
            Parsed::OutOfRange("11".into())
        );
        assert_eq!(
            parse(&CellValue::Number(6.5)),
            Parsed::OutOfRange("6.5".into())
        );
        assert_eq!(parse_text("-1"), Parsed::OutOfRange("-1".into()));
        assert_eq!(parse_text("tbc"), Parsed::NotAScore("tbc".into()));
        assert_eq!(
            parse_text("12 of 14 trained"),
            Parsed::OutOfRange("12".into())
        );
        assert_eq!(
            parse_text("Up from 5"),
            Parsed::NotAScore("Up from 5".into())
        );
        assert_eq!(parse_text(""), Parsed::Empty);
        assert_eq!(parse_text("n/a"), Parsed::Empty);
        assert_eq!(parse_text("2017-18"), Parsed::NotAScore("2017-18".into()));
    }

    #[test]
    fn marks() {
        for m in ["●", "X", "x", "✓", "✔", "☒", "■", "Y"] {
            assert!(is_mark(&CellValue::Text(m.into())), "{m}");
        }
        for m in ["○", "", " ", "◯", "☐"] {
            assert!(!is_mark(&CellValue::Text(m.into())), "{m}");
        }
    }
}
