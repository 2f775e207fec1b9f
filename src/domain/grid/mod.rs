//! Finding the scoring grid in a table or in text, whatever layout a partnership used.
//!
//! Input is a neutral [`Table`] (from xlsx, xls, ods, csv, docx, html …) or plain text lines
//! (a typed body, a PDF's text). Output is a [`GridRead`]: the scores, any baseline the file
//! shows, and problems pointing at the place. Nothing is guessed: two marks in a row, a score
//! out of range or a missing statement is a problem, never a silent choice.

mod label;
mod layout;
mod text;
mod value;

use super::problem::{Problem, ProblemCode};
use super::statement::Scores;
use super::table::Table;

/// The file formats a grid can come from (`grid.format` in `check --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GridFormat {
    Xlsx,
    Xlsm,
    Xlsb,
    Xls,
    Ods,
    Csv,
    Docx,
    Pdf,
    Text,
    Html,
}

impl GridFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            GridFormat::Xlsx => "xlsx",
            GridFormat::Xlsm => "xlsm",
            GridFormat::Xlsb => "xlsb",
            GridFormat::Xls => "xls",
            GridFormat::Ods => "ods",
            GridFormat::Csv => "csv",
            GridFormat::Docx => "docx",
            GridFormat::Pdf => "pdf",
            GridFormat::Text => "text",
            GridFormat::Html => "html",
        }
    }
}

/// What was read from one source that holds a grid.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GridRead {
    /// The (re-)scores: the current self-assessment.
    pub scores: Scores,
    /// A baseline column the file itself shows, if any (information only).
    pub baseline: Scores,
    /// Problems found while reading (ambiguous_score, score_out_of_range, statement_missing …),
    /// each naming file, sheet and cell.
    pub problems: Vec<Problem>,
}

/// Reads a grid from one table. `file` is the attachment's name for problem details.
/// Returns `None` when the table is not a scoring grid at all.
pub fn read_table(table: &Table, file: &str) -> Option<GridRead> {
    layout::read(table, file)
}

/// What a sheet's name says it holds.
fn sheet_is_baseline(name: &str) -> bool {
    let n = name.to_lowercase();
    [
        "baseline",
        "2017",
        "initial",
        "benchmark",
        "previous",
        "original",
    ]
    .iter()
    .any(|w| n.contains(w))
        && !["re-score", "rescore", "re score", "2018", "current"]
            .iter()
            .any(|w| n.contains(w))
}

/// Reads a grid from all the sheets of one workbook (or all the tables of one document),
/// choosing among them: a sheet named as the baseline supplies the baseline, and two sheets
/// that disagree are `ambiguous_grid`.
pub fn read_tables(tables: &[Table], file: &str) -> Option<GridRead> {
    let found: Vec<(&Table, GridRead)> = tables
        .iter()
        .filter_map(|t| read_table(t, file).map(|g| (t, g)))
        .collect();
    let (baselines, current): (Vec<_>, Vec<_>) = found
        .into_iter()
        .partition(|(t, _)| sheet_is_baseline(&t.name));
    let mut chosen = match current.len() {
        0 => {
            // Only baseline-named sheets: the last is the newest the file has.
            let (_, g) = baselines.last()?;
            return Some(g.clone());
        }
        1 => current.into_iter().next().map(|(_, g)| g)?,
        _ => {
            let first = &current[0].1;
            if current.iter().all(|(_, g)| g.scores == first.scores) {
                current.into_iter().next().map(|(_, g)| g)?
            } else {
                let names: Vec<String> = current
                    .iter()
                    .map(|(t, _)| format!("'{}'", t.name))
                    .collect();
                return Some(GridRead {
                    problems: vec![Problem::new(
                        ProblemCode::AmbiguousGrid,
                        format!(
                            "{file}: the sheets {} give different scores, so we could not tell which one is your grid; please keep just one.",
                            names.join(" and ")
                        ),
                    )],
                    ..GridRead::default()
                });
            }
        }
    };
    if chosen.baseline.is_empty()
        && let Some((_, b)) = baselines.last()
    {
        chosen.baseline = b.scores.clone();
    }
    Some(chosen)
}

/// Reads a grid from plain text lines ("Statement 4a: 7", "KS 10 - 8", a PDF's text).
/// `min_statements` is how many scored statements make it a grid (6 for a mail body).
pub fn read_text(text: &str, place: &str, min_statements: usize) -> Option<GridRead> {
    text::read(text, place, min_statements)
}

#[cfg(test)]
mod tests;
