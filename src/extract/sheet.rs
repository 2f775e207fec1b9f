//! Spreadsheets (xlsx, xlsm, xlsb, xls, ods) and CSV, into [`Table`]s.
//!
//! Traps handled here: calamine's dense `worksheet_range` aborts the process on a stray far
//! cell, so xlsx and xlsb cells are streamed; zips are checked by [`super::zipguard`] before
//! calamine sees them; ODS is read by our own streaming reader ([`ods`]) because calamine's
//! expands repeated rows; an encrypted workbook is a CFB container, reported as
//! password-protected by the file sniffer before it gets here.

pub(crate) mod ods;

use super::{Budget, FileContent, FileKind, zipguard};
use crate::domain::grid::GridFormat;
use crate::domain::problem::{Problem, ProblemCode};
use crate::domain::table::{Cell, CellValue, Table};
use calamine::{DataRef, Reader};
use std::io::Cursor;

/// Cells read from one sheet at most: a scoring grid has a few hundred; a sheet with more is
/// data someone pasted, and reading it all would only cost time.
const MAX_CELLS_PER_SHEET: usize = 200_000;
/// Sheets read from one workbook at most.
const MAX_SHEETS: usize = 64;

/// Reads every sheet of a workbook into tables (`kind` is one of the spreadsheet kinds).
pub fn read_workbook(name: &str, bytes: &[u8], kind: FileKind, budget: &mut Budget) -> FileContent {
    let format = match kind {
        FileKind::Xlsx => GridFormat::Xlsx,
        FileKind::Xlsm => GridFormat::Xlsm,
        FileKind::Xlsb => GridFormat::Xlsb,
        FileKind::Xls => GridFormat::Xls,
        _ => GridFormat::Ods,
    };
    let mut content = FileContent {
        format: Some(format),
        ..FileContent::default()
    };
    let result = match kind {
        FileKind::Xls => read_xls(name, bytes),
        FileKind::Ods => {
            zipguard::check_zip(bytes, budget, name).and_then(|()| ods::read(name, bytes, budget))
        }
        _ => zipguard::check_zip(bytes, budget, name).and_then(|()| {
            // The declared sizes fit; charge them, as calamine will inflate what it opens.
            read_ooxml(name, bytes, kind)
        }),
    };
    match result {
        Ok(tables) => content.tables = tables,
        Err(problem) => content.problems.push(problem),
    }
    content
}

fn corrupt(name: &str, why: impl std::fmt::Display) -> Problem {
    Problem::new(
        ProblemCode::CorruptAttachment,
        format!(
            "'{name}' is damaged or is not a real spreadsheet, so we could not open it ({why})."
        ),
    )
}

fn value(v: &DataRef) -> Option<CellValue> {
    match v {
        DataRef::Int(i) => Some(CellValue::Number(*i as f64)),
        DataRef::Float(f) => Some(CellValue::Number(*f)),
        DataRef::String(s) => Some(CellValue::Text(s.clone())),
        DataRef::SharedString(s) => Some(CellValue::Text((*s).to_string())),
        DataRef::Bool(b) => Some(CellValue::Bool(*b)),
        DataRef::DateTime(d) => Some(CellValue::Text(d.as_f64().to_string())),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Some(CellValue::Text(s.clone())),
        DataRef::Error(_) | DataRef::Empty => None,
    }
}

fn data_value(v: &calamine::Data) -> Option<CellValue> {
    use calamine::Data;
    match v {
        Data::Int(i) => Some(CellValue::Number(*i as f64)),
        Data::Float(f) => Some(CellValue::Number(*f)),
        Data::String(s) => Some(CellValue::Text(s.clone())),
        Data::Bool(b) => Some(CellValue::Bool(*b)),
        Data::DateTime(d) => Some(CellValue::Text(d.as_f64().to_string())),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(CellValue::Text(s.clone())),
        Data::Error(_) | Data::Empty => None,
    }
}

fn push(cells: &mut Vec<Cell>, (row, col): (u32, u32), v: Option<CellValue>) {
    if let Some(value) = v {
        if matches!(&value, CellValue::Text(t) if t.trim().is_empty()) {
            return;
        }
        cells.push(Cell { row, col, value });
    }
}

fn finish(name: String, mut cells: Vec<Cell>) -> Table {
    cells.sort_by_key(|c| (c.row, c.col));
    Table { name, cells }
}

/// xlsx, xlsm and xlsb, streaming each sheet's cells.
fn read_ooxml(name: &str, bytes: &[u8], kind: FileKind) -> Result<Vec<Table>, Problem> {
    let mut tables = Vec::new();
    if kind == FileKind::Xlsb {
        let mut book = calamine::Xlsb::new(Cursor::new(bytes)).map_err(|e| corrupt(name, e))?;
        for sheet in book.sheet_names().into_iter().take(MAX_SHEETS) {
            let mut cells = Vec::new();
            if let Ok(mut reader) = book.worksheet_cells_reader(&sheet) {
                while let Ok(Some(cell)) = reader.next_cell() {
                    push(&mut cells, cell.get_position(), value(cell.get_value()));
                    if cells.len() >= MAX_CELLS_PER_SHEET {
                        break;
                    }
                }
            }
            tables.push(finish(sheet, cells));
        }
    } else {
        let mut book = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|e| corrupt(name, e))?;
        for sheet in book.sheet_names().into_iter().take(MAX_SHEETS) {
            let mut cells = Vec::new();
            let mut failed = None;
            match book.worksheet_cells_reader(&sheet) {
                Ok(mut reader) => loop {
                    match reader.next_cell() {
                        Ok(Some(cell)) => {
                            push(&mut cells, cell.get_position(), value(cell.get_value()));
                            if cells.len() >= MAX_CELLS_PER_SHEET {
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            failed = Some(e.to_string());
                            break;
                        }
                    }
                },
                Err(e) => failed = Some(e.to_string()),
            }
            if let Some(e) = failed
                && cells.is_empty()
            {
                return Err(corrupt(name, format!("sheet '{sheet}': {e}")));
            }
            tables.push(finish(sheet, cells));
        }
    }
    Ok(tables)
}

/// Legacy .xls (BIFF): calamine parses whole sheets at open; BIFF caps a sheet at
/// 65,536 × 256 cells, so the dense ranges it builds stay bounded.
fn read_xls(name: &str, bytes: &[u8]) -> Result<Vec<Table>, Problem> {
    // calamine's own CFB reader panics on some damaged containers (found by fuzzing); the
    // cfb crate checks the structure properly first.
    if cfb::CompoundFile::open(Cursor::new(bytes)).is_err() {
        return Err(corrupt(name, "not a valid Excel 97-2003 file"));
    }
    let mut book = match calamine::Xls::new(Cursor::new(bytes)) {
        Ok(b) => b,
        Err(calamine::XlsError::Password) => {
            return Err(Problem::new(
                ProblemCode::EncryptedAttachment,
                format!(
                    "'{name}' is password-protected, so we could not open it. Please send it again without a password."
                ),
            ));
        }
        Err(e) => return Err(corrupt(name, e)),
    };
    let mut tables = Vec::new();
    for sheet in book.sheet_names().into_iter().take(MAX_SHEETS) {
        let mut cells = Vec::new();
        if let Ok(range) = book.worksheet_range(&sheet) {
            for (r, c, v) in range.used_cells().take(MAX_CELLS_PER_SHEET) {
                let (r0, c0) = range.start().unwrap_or((0, 0));
                push(&mut cells, (r as u32 + r0, c as u32 + c0), data_value(v));
            }
        }
        tables.push(finish(sheet, cells));
    }
    Ok(tables)
}

/// Reads a CSV file (comma, semicolon or tab; UTF-8 with or without BOM, or windows-1252).
pub fn read_csv(name: &str, bytes: &[u8], budget: &mut Budget) -> FileContent {
    let _ = budget;
    let text = super::file::decode_text(bytes);
    let delimiter = guess_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut cells = Vec::new();
    for (r, record) in reader.records().enumerate().take(100_000) {
        let Ok(record) = record else { break };
        for (c, field) in record.iter().enumerate().take(1_000) {
            push(
                &mut cells,
                (r as u32, c as u32),
                Some(CellValue::Text(field.to_string())),
            );
        }
        if cells.len() >= MAX_CELLS_PER_SHEET {
            break;
        }
    }
    let stem = name.rsplit('/').next().unwrap_or(name);
    FileContent {
        format: Some(GridFormat::Csv),
        tables: vec![finish(stem.to_string(), cells)],
        text: String::new(),
        ..FileContent::default()
    }
}

/// The delimiter that splits the first lines most consistently (Excel in many European
/// locales writes semicolons; some exports use tabs).
fn guess_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let mut best = (b',', 0usize);
    for d in [b',', b';', b'\t'] {
        let count: usize = lines
            .iter()
            .map(|l| count_outside_quotes(l, d as char))
            .sum();
        if count > best.1 {
            best = (d, count);
        }
    }
    best.0
}

fn count_outside_quotes(line: &str, d: char) -> usize {
    let mut inside = false;
    let mut n = 0;
    for ch in line.chars() {
        if ch == '"' {
            inside = !inside;
        } else if ch == d && !inside {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests;
