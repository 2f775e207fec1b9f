//! A neutral cell matrix: what every tabular source (a spreadsheet sheet, a Word table, an
//! HTML table, a CSV file) is turned into before the grid is looked for.
//!
//! Readers of file formats stop here; [`crate::domain::grid`] decides what the cells mean, so
//! an xlsx and a docx with the same layout are read by the same rules.

/// A cell's value as the file stores it (a formula gives its cached result).
#[derive(Debug, Clone, PartialEq)]
pub enum CellValue {
    Number(f64),
    Text(String),
    Bool(bool),
}

impl CellValue {
    /// The value as text, trimmed (numbers without a needless `.0`).
    pub fn to_text(&self) -> String {
        match self {
            CellValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            CellValue::Number(n) => n.to_string(),
            CellValue::Text(t) => t.trim().to_string(),
            CellValue::Bool(b) => b.to_string(),
        }
    }
}

/// One non-empty cell, 0-based row and column.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub row: u32,
    pub col: u32,
    pub value: CellValue,
}

impl Cell {
    /// The cell's spreadsheet address ("D9") for problem details.
    pub fn a1(&self) -> String {
        a1(self.row, self.col)
    }
}

/// The spreadsheet address of a 0-based row and column ("A1", "AA10").
pub fn a1(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut c = col as u64 + 1;
    while c > 0 {
        let rem = ((c - 1) % 26) as u8;
        letters.push((b'A' + rem) as char);
        c = (c - 1) / 26;
    }
    letters.reverse();
    let mut s: String = letters.into_iter().collect();
    s.push_str(&(row as u64 + 1).to_string());
    s
}

/// One sheet or table: its name for messages, and its non-empty cells in row-major order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Sheet name ("Rescore"), or "table 2" for a document's second table.
    pub name: String,
    /// Non-empty cells, sorted by (row, col).
    pub cells: Vec<Cell>,
}

impl Table {
    /// Builds a table from a row-major list of rows of optional values (tests, CSV, HTML).
    pub fn from_rows(name: impl Into<String>, rows: Vec<Vec<Option<CellValue>>>) -> Table {
        let mut cells = Vec::new();
        for (r, row) in rows.into_iter().enumerate() {
            for (c, v) in row.into_iter().enumerate() {
                if let Some(value) = v {
                    if matches!(&value, CellValue::Text(t) if t.trim().is_empty()) {
                        continue;
                    }
                    cells.push(Cell {
                        row: r as u32,
                        col: c as u32,
                        value,
                    });
                }
            }
        }
        Table {
            name: name.into(),
            cells,
        }
    }

    /// Builds a table from rows of text (every value as text, blanks skipped).
    pub fn from_text_rows(name: impl Into<String>, rows: &[Vec<String>]) -> Table {
        Table::from_rows(
            name,
            rows.iter()
                .map(|r| {
                    r.iter()
                        .map(|t| Some(CellValue::Text(t.clone())))
                        .collect::<Vec<_>>()
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_addresses() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(8, 3), "D9");
        assert_eq!(a1(0, 25), "Z1");
        assert_eq!(a1(0, 26), "AA1");
        assert_eq!(a1(1048575, 16383), "XFD1048576");
    }

    #[test]
    fn numbers_print_plainly() {
        assert_eq!(CellValue::Number(7.0).to_text(), "7");
        assert_eq!(CellValue::Number(6.5).to_text(), "6.5");
    }
}
