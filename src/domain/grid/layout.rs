//! Finding the grid in one table: which column holds the statement labels, which the score
//! (or the baseline, or the 0–10 circles), read cell by cell with every doubt a problem.
//!
//! Partnerships edit the template freely, so nothing is found by position: the label column
//! is the one naming the most statements, the header row above the first statement names the
//! columns' roles, and a column is a score column because its cells read as scores.

use super::GridRead;
use super::label::{self, LabelKind};
use super::value::{self, Parsed};
use crate::domain::problem::{Problem, ProblemCode};
use crate::domain::statement::{Score, StatementId};
use crate::domain::table::{CellValue, Table, a1};
use std::collections::{BTreeMap, HashMap};

/// Fewer labelled statements than this and a table is not a grid (a scoring guide, a list).
const MIN_LABELLED: usize = 6;
/// Fewer scores (or marks) than this and a labelled table is a blank template, not a grid.
const MIN_SCORED: usize = 3;

/// What a column's header says it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Ignore,
    Unknown,
    Baseline,
    Score,
    Rescore,
}

fn role(header: Option<&str>) -> Role {
    let Some(h) = header else {
        return Role::Unknown;
    };
    let h = h.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| h.contains(w));
    if has(&[
        "re-score",
        "rescore",
        "re score",
        "re-scor",
        "new score",
        "current",
        "agreed",
        "final",
        "updated",
        "revised",
        "2018",
    ]) {
        Role::Rescore
    } else if has(&[
        "baseline",
        "2017",
        "initial",
        "benchmark",
        "previous",
        "original",
        "last year",
    ]) {
        Role::Baseline
    } else if has(&[
        "comment",
        "evidence",
        "note",
        "description",
        "action",
        "narrative",
        "explanation",
    ]) {
        Role::Ignore
    } else if has(&[
        "score",
        "rating",
        "self-assessment",
        "self assessment",
        "grade",
        "level",
        "mark",
    ]) {
        Role::Score
    } else {
        Role::Unknown
    }
}

/// A table's cells by position, possibly transposed (statements across a header row).
struct Grid<'t> {
    cells: HashMap<(u32, u32), &'t CellValue>,
    transposed: bool,
    file: &'t str,
    name: &'t str,
}

impl Grid<'_> {
    fn get(&self, row: u32, col: u32) -> Option<&CellValue> {
        self.cells.get(&(row, col)).copied()
    }

    fn text(&self, row: u32, col: u32) -> Option<String> {
        self.get(row, col).map(CellValue::to_text)
    }

    /// "Grid.xlsx, sheet 'Rescore', D9" (the original address when transposed).
    fn place(&self, row: u32, col: u32) -> String {
        let (r, c) = if self.transposed {
            (col, row)
        } else {
            (row, col)
        };
        place(self.file, self.name, Some((r, c)))
    }
}

/// Where a finding is, for problem details.
pub fn place(file: &str, table: &str, at: Option<(u32, u32)>) -> String {
    let base = if table.starts_with("table ") {
        format!("{file}, {table}")
    } else if file.to_ascii_lowercase().ends_with(".csv") || table.is_empty() || table == file {
        file.to_string()
    } else {
        format!("{file}, sheet '{table}'")
    };
    match at {
        Some((r, _)) if table.starts_with("table ") => format!("{base}, row {}", r + 1),
        Some((r, c)) => format!("{base}, {}", a1(r, c)),
        None => base,
    }
}

/// A label cell.
struct Found {
    row: u32,
    statement: StatementId,
    kind: LabelKind,
}

/// Reads a grid from one table, trying its rows as statements first, then its columns.
pub fn read(table: &Table, file: &str) -> Option<GridRead> {
    let cells: HashMap<(u32, u32), &CellValue> = table
        .cells
        .iter()
        .map(|c| ((c.row, c.col), &c.value))
        .collect();
    let grid = Grid {
        cells,
        transposed: false,
        file,
        name: &table.name,
    };
    if let Some(read) = analyse(&grid) {
        return Some(read);
    }
    let transposed = Grid {
        cells: table
            .cells
            .iter()
            .map(|c| ((c.col, c.row), &c.value))
            .collect(),
        transposed: true,
        file,
        name: &table.name,
    };
    analyse(&transposed)
}

fn labels_by_column(grid: &Grid) -> BTreeMap<u32, Vec<Found>> {
    let mut by_col: BTreeMap<u32, Vec<Found>> = BTreeMap::new();
    let mut scale_like: HashMap<u32, bool> = HashMap::new();
    let mut keys: Vec<&(u32, u32)> = grid.cells.keys().collect();
    keys.sort();
    for &(row, col) in keys {
        let Some(v) = grid.get(row, col) else {
            continue;
        };
        let text = v.to_text();
        if matches!(text.as_str(), "0" | "4") {
            scale_like.insert(col, true);
        }
        if let Some(l) = label::parse(&text) {
            by_col.entry(col).or_default().push(Found {
                row,
                statement: l.statement,
                kind: l.kind,
            });
        }
    }
    // A column listing 0 or a bare 4 is a 0–10 scale (a scoring guide), not statements.
    for (col, found) in by_col.iter_mut() {
        if scale_like.get(col).copied().unwrap_or(false) {
            found.retain(|f| f.kind != LabelKind::Bare);
        }
    }
    by_col
}

fn distinct(found: &[Found]) -> usize {
    let mut s: Vec<StatementId> = found.iter().map(|f| f.statement).collect();
    s.sort();
    s.dedup();
    s.len()
}

fn analyse(grid: &Grid) -> Option<GridRead> {
    let by_col = labels_by_column(grid);
    let (_, found) = by_col
        .iter()
        .filter(|(_, f)| distinct(f) >= MIN_LABELLED)
        .max_by_key(|(col, f)| (distinct(f), std::cmp::Reverse(**col)))?;
    // Each statement's rows, in order (a statement listed twice is looked at twice).
    let mut rows: BTreeMap<StatementId, Vec<u32>> = BTreeMap::new();
    for f in found {
        rows.entry(f.statement).or_default().push(f.row);
    }
    let first_row = found.iter().map(|f| f.row).min()?;
    let header = header_row(grid, first_row);
    let header_text = |col: u32| header.and_then(|h| grid.text(h, col));

    let label_cols: Vec<u32> = by_col
        .iter()
        .filter(|(_, f)| distinct(f) >= MIN_LABELLED)
        .map(|(c, _)| *c)
        .collect();
    let mut columns: Vec<u32> = grid
        .cells
        .keys()
        .filter(|(r, c)| rows.values().any(|rs| rs.contains(r)) && !label_cols.contains(c))
        .map(|(_, c)| *c)
        .collect();
    columns.sort();
    columns.dedup();

    let scale: BTreeMap<u32, u8> = columns
        .iter()
        .filter_map(|&c| {
            let t = header_text(c)?;
            let n: u8 = t.trim().parse().ok()?;
            (n <= 10).then_some((c, n))
        })
        .collect();
    let mut distinct_points: Vec<u8> = scale.values().copied().collect();
    distinct_points.sort();
    distinct_points.dedup();
    if distinct_points.len() >= 8 {
        return circles(grid, &rows, &scale);
    }
    score_columns(grid, &rows, &columns, &header_text)
}

/// The nearest row above the first statement that has something in it: the column headings.
fn header_row(grid: &Grid, first_row: u32) -> Option<u32> {
    (first_row.saturating_sub(6)..first_row)
        .rev()
        .find(|&r| grid.cells.keys().any(|(row, _)| *row == r))
}

/// The summary sheet: columns 0–10 with one mark per statement row.
fn circles(
    grid: &Grid,
    rows: &BTreeMap<StatementId, Vec<u32>>,
    scale: &BTreeMap<u32, u8>,
) -> Option<GridRead> {
    let mut read = GridRead::default();
    let mut marked_rows = 0;
    for s in StatementId::ALL {
        let Some(rs) = rows.get(&s) else {
            read.problems
                .push(missing(grid, s, None, "the grid has no row for it"));
            continue;
        };
        let row = rs
            .iter()
            .copied()
            .find(|&r| {
                scale
                    .keys()
                    .any(|&c| grid.get(r, c).is_some_and(value::is_mark))
            })
            .unwrap_or(rs[0]);
        let marks: Vec<(u32, u8)> = scale
            .iter()
            .filter(|(c, _)| grid.get(row, **c).is_some_and(value::is_mark))
            .map(|(c, n)| (*c, *n))
            .collect();
        match marks.as_slice() {
            [] => {
                let first_col = scale.keys().next().copied().unwrap_or(0);
                read.problems
                    .push(missing(grid, s, Some((row, first_col)), "no box is marked"))
            }
            [(_, n)] => {
                marked_rows += 1;
                if let Some(score) = Score::new(*n) {
                    read.scores.insert(s, score);
                }
            }
            many => {
                marked_rows += 1;
                let points: Vec<String> = many.iter().map(|(_, n)| n.to_string()).collect();
                read.problems.push(Problem::new(
                    ProblemCode::AmbiguousScore,
                    format!(
                        "{}: {} marks for statement {s} (at {}), so we could not tell which score you meant.",
                        grid.place(row, many[0].0),
                        words(many.len()),
                        points.join(" and ")
                    ),
                ));
            }
        }
    }
    (marked_rows >= MIN_SCORED).then_some(read)
}

fn words(n: usize) -> String {
    match n {
        2 => "two".into(),
        3 => "three".into(),
        n => n.to_string(),
    }
}

fn missing(grid: &Grid, s: StatementId, at: Option<(u32, u32)>, why: &str) -> Problem {
    let where_ = match at {
        Some((r, c)) => grid.place(r, c),
        None => place(grid.file, grid.name, None),
    };
    Problem::new(
        ProblemCode::StatementMissing,
        format!("{where_}: no score for statement {s} ({why})."),
    )
}

/// Statistics of one candidate column over the statement rows.
#[derive(Default)]
struct Column {
    numeric: usize,
    text: usize,
}

fn score_columns(
    grid: &Grid,
    rows: &BTreeMap<StatementId, Vec<u32>>,
    columns: &[u32],
    header_text: &dyn Fn(u32) -> Option<String>,
) -> Option<GridRead> {
    let all_rows: Vec<u32> = rows.values().flatten().copied().collect();
    let mut candidates: Vec<(u32, Role)> = Vec::new();
    for &c in columns {
        let mut stats = Column::default();
        for &r in &all_rows {
            match grid.get(r, c).map(value::parse) {
                Some(Parsed::Score(_)) | Some(Parsed::OutOfRange(_)) => stats.numeric += 1,
                Some(Parsed::NotAScore(_)) => stats.text += 1,
                _ => {}
            }
        }
        let role = role(header_text(c).as_deref());
        if role != Role::Ignore && stats.numeric >= MIN_SCORED && stats.numeric > stats.text {
            candidates.push((c, role));
        }
    }
    // The current score: the best-named column, the rightmost among equals (a baseline comes
    // before a re-score in every layout seen). A lone baseline column is still a grid: the
    // workbook decides what its sheet means.
    let main = candidates
        .iter()
        .filter(|(_, r)| *r != Role::Baseline)
        .max_by_key(|(c, r)| (*r, *c))
        .or_else(|| candidates.iter().max_by_key(|(c, _)| *c))
        .map(|(c, _)| *c)?;
    let baseline = candidates
        .iter()
        .find(|(c, r)| *r == Role::Baseline && *c != main)
        .map(|(c, _)| *c);

    let mut read = GridRead::default();
    for s in StatementId::ALL {
        let Some(rs) = rows.get(&s) else {
            read.problems
                .push(missing(grid, s, None, "the grid has no row for it"));
            continue;
        };
        let row = rs
            .iter()
            .copied()
            .find(|&r| matches!(grid.get(r, main).map(value::parse), Some(Parsed::Score(_))))
            .unwrap_or(rs[0]);
        match grid
            .get(row, main)
            .map(value::parse)
            .unwrap_or(Parsed::Empty)
        {
            Parsed::Score(v) => {
                read.scores.insert(s, v);
            }
            Parsed::OutOfRange(w) => read.problems.push(Problem::new(
                ProblemCode::ScoreOutOfRange,
                format!(
                    "{}: {w} for statement {s} is not a score from 0 to 10, so it was left out.",
                    grid.place(row, main)
                ),
            )),
            Parsed::NotAScore(t) => read.problems.push(missing(
                grid,
                s,
                Some((row, main)),
                &format!("'{t}' is not a score"),
            )),
            Parsed::Empty => {
                read.problems
                    .push(missing(grid, s, Some((row, main)), "the cell is empty"))
            }
        }
        if let Some(b) = baseline
            && let Some(Parsed::Score(v)) = grid.get(row, b).map(value::parse)
        {
            read.baseline.insert(s, v);
        }
    }
    Some(read)
}
