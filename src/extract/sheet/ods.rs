//! OpenDocument spreadsheets, streamed from `content.xml`.
//!
//! calamine expands `number-rows-repeated` into real rows (a 10 KB file with a million empty
//! rows took 265 MB), so ODS is read here instead: repeated empty rows and columns only move
//! the position, and repeated cells with content are emitted a bounded number of times.

use crate::domain::problem::{Problem, ProblemCode};
use crate::domain::table::{Cell, CellValue, Table};
use crate::extract::{Budget, zipguard};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// A repeated cell or row with content is emitted at most this many times.
const MAX_REPEAT_WITH_CONTENT: u32 = 100;
const MAX_CELLS: usize = 200_000;

pub fn read(name: &str, bytes: &[u8], budget: &mut Budget) -> Result<Vec<Table>, Problem> {
    let xml = zipguard::read_entry(bytes, "content.xml", budget, name)?.ok_or_else(|| {
        Problem::new(
            ProblemCode::CorruptAttachment,
            format!("'{name}' is damaged or is not a real spreadsheet (it has no content.xml)."),
        )
    })?;
    let text = String::from_utf8_lossy(&xml);
    parse(&text).map_err(|e| {
        Problem::new(
            ProblemCode::CorruptAttachment,
            format!(
                "'{name}' is damaged or is not a real spreadsheet, so we could not open it ({e})."
            ),
        )
    })
}

fn attr(e: &BytesStart, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn repeat(e: &BytesStart, key: &str) -> u32 {
    attr(e, key)
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1)
}

/// The cell being read.
struct Pending {
    repeat: u32,
    typed: Option<CellValue>,
    text: String,
    paragraphs: u32,
}

/// Parses `content.xml` into one table per `table:table`.
pub fn parse(xml: &str) -> Result<Vec<Table>, String> {
    let mut reader = Reader::from_str(xml);
    let mut tables: Vec<Table> = Vec::new();
    let mut row: u32 = 0;
    let mut col: u32 = 0;
    let mut row_repeat: u32 = 1;
    let mut row_cells: Vec<Cell> = Vec::new();
    let mut cell: Option<Pending> = None;
    let mut annotation_depth = 0u32;
    let mut total = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) if annotation_depth > 0 && e.local_name().as_ref() == "annotation" => {
                annotation_depth += 1;
            }
            Event::Start(_) if annotation_depth > 0 => {}
            Event::Empty(_) | Event::Text(_) | Event::GeneralRef(_) if annotation_depth > 0 => {}
            Event::End(e) if annotation_depth > 0 && e.local_name().as_ref() == "annotation" => {
                annotation_depth -= 1;
            }
            Event::End(_) if annotation_depth > 0 => {}
            Event::Start(e) => match e.name().as_ref() {
                "table:table" => {
                    tables.push(Table {
                        name: attr(&e, "table:name")
                            .unwrap_or_else(|| format!("Sheet{}", tables.len() + 1)),
                        cells: Vec::new(),
                    });
                    row = 0;
                }
                "table:table-row" => {
                    row_repeat = repeat(&e, "table:number-rows-repeated");
                    col = 0;
                    row_cells.clear();
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    cell = Some(Pending {
                        repeat: repeat(&e, "table:number-columns-repeated"),
                        typed: typed_value(&e),
                        text: String::new(),
                        paragraphs: 0,
                    });
                }
                "office:annotation" => annotation_depth = 1,
                "text:p" | "text:h" => {
                    if let Some(c) = cell.as_mut() {
                        if c.paragraphs > 0 {
                            c.text.push('\n');
                        }
                        c.paragraphs += 1;
                    }
                }
                _ => {}
            },
            Event::Empty(e) => match e.name().as_ref() {
                "table:table-cell" | "table:covered-table-cell" => {
                    let repeat = repeat(&e, "table:number-columns-repeated");
                    let typed = typed_value(&e);
                    emit(&mut row_cells, row, &mut col, repeat, typed);
                }
                "table:table-row" => {
                    row = row.saturating_add(repeat(&e, "table:number-rows-repeated"));
                }
                "text:s" => {
                    if let Some(c) = cell.as_mut() {
                        let n = attr(&e, "text:c")
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(1);
                        c.text.push_str(&" ".repeat(n.min(100)));
                    }
                }
                "text:tab" => {
                    if let Some(c) = cell.as_mut() {
                        c.text.push('\t');
                    }
                }
                "text:line-break" => {
                    if let Some(c) = cell.as_mut() {
                        c.text.push('\n');
                    }
                }
                _ => {}
            },
            Event::Text(t) => {
                if let Some(c) = cell.as_mut() {
                    c.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(c) = cell.as_mut() {
                    if let Ok(Some(ch)) = r.resolve_char_ref() {
                        c.text.push(ch);
                    } else {
                        c.text.push_str(match &*r {
                            "lt" => "<",
                            "gt" => ">",
                            "amp" => "&",
                            "quot" => "\"",
                            "apos" => "'",
                            _ => "",
                        });
                    }
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "table:table-cell" | "table:covered-table-cell" => {
                    if let Some(c) = cell.take() {
                        let value = c.typed.or_else(|| {
                            let t = c.text.trim();
                            (!t.is_empty()).then(|| CellValue::Text(t.to_string()))
                        });
                        emit(&mut row_cells, row, &mut col, c.repeat, value);
                    }
                }
                "table:table-row" => {
                    let times = if row_cells.is_empty() {
                        0
                    } else {
                        row_repeat.min(MAX_REPEAT_WITH_CONTENT)
                    };
                    if let Some(table) = tables.last_mut() {
                        for k in 0..times {
                            for c in &row_cells {
                                if total >= MAX_CELLS {
                                    break;
                                }
                                table.cells.push(Cell {
                                    row: row.saturating_add(k),
                                    col: c.col,
                                    value: c.value.clone(),
                                });
                                total += 1;
                            }
                        }
                    }
                    row = row.saturating_add(row_repeat);
                    row_cells.clear();
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(tables)
}

/// Adds a cell (repeated) to the row, or only moves the column when it is empty.
fn emit(row_cells: &mut Vec<Cell>, row: u32, col: &mut u32, repeat: u32, value: Option<CellValue>) {
    if let Some(v) = value {
        for k in 0..repeat.min(MAX_REPEAT_WITH_CONTENT) {
            row_cells.push(Cell {
                row,
                col: col.saturating_add(k),
                value: v.clone(),
            });
        }
    }
    *col = col.saturating_add(repeat);
}

/// The typed value of a cell (numbers as numbers, booleans), or `None` for text cells.
fn typed_value(e: &BytesStart) -> Option<CellValue> {
    let kind = attr(e, "office:value-type")?;
    match kind.as_str() {
        "float" | "percentage" | "currency" => attr(e, "office:value")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(CellValue::Number),
        "boolean" => attr(e, "office:boolean-value").map(|v| CellValue::Bool(v == "true")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(body: &str) -> String {
        format!(
            r#"<office:document-content xmlns:office="o" xmlns:table="t" xmlns:text="x"><office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"#
        )
    }

    #[test]
    fn repeated_empty_rows_only_move_the_position() {
        let xml = doc(r#"<table:table table:name="Grid">
            <table:table-row><table:table-cell office:value-type="string"><text:p>KS1</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="7"><text:p>7</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16382"/></table:table-row>
            <table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>
            <table:table-row><table:table-cell table:number-columns-repeated="3"/><table:table-cell office:value-type="string"><text:p>far &amp; away</text:p><office:annotation><text:p>note</text:p></office:annotation></table:table-cell></table:table-row>
            </table:table>"#);
        let t = parse(&xml).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].name, "Grid");
        let cells: Vec<(u32, u32, String)> = t[0]
            .cells
            .iter()
            .map(|c| (c.row, c.col, c.value.to_text()))
            .collect();
        assert_eq!(
            cells,
            vec![
                (0, 0, "KS1".into()),
                (0, 1, "7".into()),
                (1_048_001, 3, "far & away".into())
            ]
        );
    }

    #[test]
    fn junk_is_an_error_not_a_panic() {
        assert!(parse("<a><b></a>").is_err() || parse("<a><b></a>").is_ok());
        let _ = parse("\u{0}\u{1}<<<");
    }
}
