//! Scores typed as text: "Statement 4a: 7" and "KS 10 - 8" in a mail body, and the text of a
//! PDF or a pasted table where each cell lands on its own line ("KS1", then "7").

use super::GridRead;
use super::label::{self, LabelKind};
use super::value::{self, Parsed};
use crate::domain::problem::{Problem, ProblemCode};
use crate::domain::statement::{Score, StatementId};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// How many lines after a lone label its score may come (a wrapped statement text between).
const LOOKAHEAD: usize = 4;

/// What one line gave.
enum LineScore {
    Score(Score),
    OutOfRange(String),
}

/// The score written after a label on the same line ("…: 7", "- 8", "scored 6", "… 7/10").
fn score_after(rest: &str) -> Option<LineScore> {
    let t = rest
        .trim_start()
        .trim_start_matches([':', '=', '-', '–', '—', '.', ')', ' ', '\t', '|', ','])
        .trim_start();
    let t = t
        .strip_prefix("scored")
        .or_else(|| t.strip_prefix("score"))
        .or_else(|| t.strip_prefix("is"))
        .map(|x| x.trim_start_matches([' ', ':', '=', '-', '–']))
        .unwrap_or(t);
    match value::parse_text(t) {
        Parsed::Score(s) => return Some(LineScore::Score(s)),
        Parsed::OutOfRange(w) => return Some(LineScore::OutOfRange(w)),
        _ => {}
    }
    // "Statement 1 – LA staff knowledge – 6": the number that ends the line after a dash or colon.
    let tail = t.trim_end().trim_end_matches(['.', ' ']);
    let (cut, sep) = tail
        .char_indices()
        .rev()
        .find(|(_, c)| matches!(c, ':' | '-' | '–' | '—' | '=' | '\t' | '|'))?;
    let last = tail.get(cut + sep.len_utf8()..)?.trim();
    let last = last.strip_suffix("/10").unwrap_or(last).trim();
    if last.is_empty() || !last.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match value::parse_text(last) {
        Parsed::Score(s) => Some(LineScore::Score(s)),
        Parsed::OutOfRange(w) => Some(LineScore::OutOfRange(w)),
        _ => None,
    }
}

/// "4a - 7", "1: 6", "10\t8": a bare statement number, a separator, a score. Only in text,
/// where a grid needs several such lines, so "1 - 2 pm" alone is never taken for one.
static NUMBER_THEN_SCORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(10|[1-9])\s*(?:\(\s*([ab])\s*\)|([ab]))?\s*[:=\-–—.)\t]\s*(\d{1,3})\s*(?:/\s*10)?\s*(?:$|[-–—:,(]|\s+[a-z])",
    )
    .expect("valid regex")
});

fn number_then_score(line: &str) -> Option<(StatementId, LineScore)> {
    let c = NUMBER_THEN_SCORE.captures(line)?;
    let label = format!(
        "{}{}",
        c.get(1)?.as_str(),
        c.get(2).or(c.get(3)).map_or("", |m| m.as_str())
    );
    let statement = label::parse(&label)
        .filter(|l| l.kind == LabelKind::Bare)?
        .statement;
    let score = match value::parse_text(c.get(4)?.as_str()) {
        Parsed::Score(s) => LineScore::Score(s),
        Parsed::OutOfRange(w) => LineScore::OutOfRange(w),
        _ => return None,
    };
    Some((statement, score))
}

/// A line that is only a score ("7", "7 - Widespread effective practice").
fn lone_score(line: &str) -> Option<LineScore> {
    if label::parse(line).is_some_and(|l| l.kind != LabelKind::Bare) {
        return None;
    }
    match value::parse_text(line) {
        Parsed::Score(s) => Some(LineScore::Score(s)),
        Parsed::OutOfRange(w) if w.len() <= 2 => Some(LineScore::OutOfRange(w)),
        _ => None,
    }
}

pub fn read(text: &str, place: &str, min_statements: usize) -> Option<GridRead> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(20_000)
        .collect();
    let mut found: BTreeMap<StatementId, Vec<LineScore>> = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some((statement, score)) = number_then_score(lines[i]) {
            found.entry(statement).or_default().push(score);
            i += 1;
            continue;
        }
        let Some(l) = label::parse(lines[i]) else {
            i += 1;
            continue;
        };
        // A bare number is a label only when a score follows it on its own line.
        if let Some(score) = (l.kind != LabelKind::Bare)
            .then(|| score_after(l.rest))
            .flatten()
        {
            found.entry(l.statement).or_default().push(score);
            i += 1;
            continue;
        }
        let mut taken = false;
        let end = (i + 1 + LOOKAHEAD).min(lines.len());
        for (j, line) in lines.iter().enumerate().take(end).skip(i + 1) {
            if let Some(next) = label::parse(line)
                && next.kind != LabelKind::Bare
            {
                break;
            }
            if let Some(score) = lone_score(line) {
                found.entry(l.statement).or_default().push(score);
                i = j + 1;
                taken = true;
                break;
            }
            if l.kind == LabelKind::Bare {
                break;
            }
        }
        if !taken {
            i += 1;
        }
    }
    if found.len() < min_statements {
        return None;
    }
    let mut read = GridRead::default();
    for s in StatementId::ALL {
        let Some(scores) = found.get(&s) else {
            read.problems.push(Problem::new(
                ProblemCode::StatementMissing,
                format!("{place}: no score for statement {s}."),
            ));
            continue;
        };
        let mut valid: Vec<Score> = scores
            .iter()
            .filter_map(|x| match x {
                LineScore::Score(v) => Some(*v),
                LineScore::OutOfRange(_) => None,
            })
            .collect();
        valid.dedup();
        match valid.as_slice() {
            [v] => {
                read.scores.insert(s, *v);
            }
            [] => {
                let w = scores
                    .iter()
                    .find_map(|x| match x {
                        LineScore::OutOfRange(w) => Some(w.clone()),
                        LineScore::Score(_) => None,
                    })
                    .unwrap_or_default();
                read.problems.push(Problem::new(
                    ProblemCode::ScoreOutOfRange,
                    format!("{place}: {w} for statement {s} is not a score from 0 to 10, so it was left out."),
                ));
            }
            many => {
                let list: Vec<String> = many.iter().map(|v| v.to_string()).collect();
                read.problems.push(Problem::new(
                    ProblemCode::AmbiguousScore,
                    format!(
                        "{place}: statement {s} is given more than one score ({}), so we could not tell which you meant.",
                        list.join(" and ")
                    ),
                ));
            }
        }
    }
    Some(read)
}
