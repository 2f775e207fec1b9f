//! Word documents (.docx): tables (the summary sheet's circle grid), paragraphs and title.
//!
//! The summary sheet marks a score by replacing one ○ with ●, X or ✓, but people also use
//! Wingdings ticks (`w:sym`), check-box content controls and legacy form check boxes; all of
//! these become a mark character in the cell text, so the grid reader sees one convention.

use super::{Budget, FileContent, zipguard};
use crate::domain::grid::GridFormat;
use crate::domain::problem::{Problem, ProblemCode};
use crate::domain::table::Table;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Reads a .docx: every table as a [`Table`], the paragraph text, and the core-properties
/// title.
pub fn read_docx(name: &str, bytes: &[u8], budget: &mut Budget) -> FileContent {
    let mut content = FileContent {
        format: Some(GridFormat::Docx),
        ..FileContent::default()
    };
    if let Err(p) = zipguard::check_zip(bytes, budget, name) {
        content.problems.push(p);
        return content;
    }
    match zipguard::read_entry(bytes, "word/document.xml", budget, name) {
        Ok(Some(xml)) => match parse_document(&String::from_utf8_lossy(&xml)) {
            Ok((tables, text)) => {
                content.tables = tables;
                content.text = text;
            }
            Err(e) => content.problems.push(Problem::new(
                ProblemCode::CorruptAttachment,
                format!("'{name}' is damaged, so we could not read it ({e})."),
            )),
        },
        Ok(None) => content.problems.push(Problem::new(
            ProblemCode::CorruptAttachment,
            format!("'{name}' is not a complete Word document (it has no document.xml)."),
        )),
        Err(p) => content.problems.push(p),
    }
    if let Ok(Some(core)) = zipguard::read_entry(bytes, "docProps/core.xml", budget, name) {
        content.title = core_title(&String::from_utf8_lossy(&core));
    }
    content
}

/// `dc:title` from core properties (Word and LibreOffice both write it), when not empty.
pub fn core_title(xml: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    let mut inside = false;
    let mut title = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "title" => inside = true,
            Ok(Event::End(e)) if e.local_name().as_ref() == "title" => inside = false,
            Ok(Event::Text(t)) if inside => title.push_str(&t),
            Ok(Event::GeneralRef(r)) if inside => title.push_str(entity(&r)),
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    let t = title.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn entity(r: &str) -> &'static str {
    match r {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "quot" => "\"",
        "apos" => "'",
        _ => "",
    }
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

/// A Wingdings / Symbol character (`w:sym w:char="F0FC"`) as the mark it shows.
fn symbol(code: &str) -> &'static str {
    let c = u32::from_str_radix(code.trim(), 16).unwrap_or(0) & 0xFF;
    match c {
        0xFC | 0xFE | 0xFB | 0xFD | 0x78 | 0xD6 => "✓",
        0x6C | 0x6E | 0xA4 | 0xA2 | 0x9F | 0x77 => "●",
        0xA1 | 0x6D | 0x6F | 0xA8 => "○",
        _ => "",
    }
}

/// One table being built: rows of cell texts, and where the current cell is.
#[derive(Default)]
struct Building {
    rows: Vec<Vec<String>>,
    cell: Option<String>,
    /// Columns the current cell spans (`w:gridSpan`).
    span: usize,
}

/// Parses `word/document.xml` into its tables (outer and nested, in order of completion) and
/// its text (one paragraph per line).
pub fn parse_document(xml: &str) -> Result<(Vec<Table>, String), String> {
    let mut reader = Reader::from_str(xml);
    let mut tables: Vec<Table> = Vec::new();
    let mut stack: Vec<Building> = Vec::new();
    let mut text = String::new();
    let mut para = String::new();
    let mut in_text = false;
    let mut in_instr = false;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) => match e.name().as_ref() {
                "w:tbl" if stack.len() < 16 => stack.push(Building::default()),
                "w:tr" => {
                    if let Some(t) = stack.last_mut()
                        && t.rows.len() < 10_000
                    {
                        t.rows.push(Vec::new());
                    }
                }
                "w:tc" => {
                    if let Some(t) = stack.last_mut() {
                        t.cell = Some(String::new());
                        t.span = 1;
                    }
                }
                "w:t" => in_text = true,
                "w:instrText" => in_instr = true,
                _ => {}
            },
            Event::Empty(e) => {
                let piece = match e.name().as_ref() {
                    "w:tab" => "\t".to_string(),
                    "w:br" | "w:cr" => "\n".to_string(),
                    "w:sym" => attr(&e, "w:char")
                        .map(|c| symbol(&c).to_string())
                        .unwrap_or_default(),
                    "w14:checked" => {
                        if attr(&e, "w14:val").is_some_and(|v| v == "1" || v == "true") {
                            "☒".to_string()
                        } else {
                            String::new()
                        }
                    }
                    "w:checked" => {
                        if attr(&e, "w:val").is_none_or(|v| v == "1" || v == "true") {
                            "☒".to_string()
                        } else {
                            String::new()
                        }
                    }
                    "w:gridSpan" => {
                        // A merged cell: pad the row so later cells keep their columns.
                        let span = attr(&e, "w:val")
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(1)
                            .clamp(1, 64);
                        if let Some(t) = stack.last_mut() {
                            t.span = span;
                        }
                        String::new()
                    }
                    "w:tc" => {
                        if let Some(t) = stack.last_mut()
                            && let Some(row) = t.rows.last_mut()
                        {
                            row.push(String::new());
                        }
                        String::new()
                    }
                    _ => String::new(),
                };
                if !piece.is_empty() {
                    push_text(&mut stack, &mut para, &piece);
                }
            }
            Event::Text(t) if in_text && !in_instr => push_text(&mut stack, &mut para, &t),
            Event::GeneralRef(r) if in_text && !in_instr => {
                let s = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => entity(&r).to_string(),
                };
                push_text(&mut stack, &mut para, &s);
            }
            Event::End(e) => match e.name().as_ref() {
                "w:t" => in_text = false,
                "w:instrText" => in_instr = false,
                "w:p" => {
                    if let Some(t) = stack.last_mut()
                        && let Some(cell) = t.cell.as_mut()
                        && !cell.is_empty()
                        && !cell.ends_with('\n')
                    {
                        cell.push('\n');
                    }
                    let line = para.trim();
                    if !line.is_empty() {
                        text.push_str(line);
                        text.push('\n');
                    }
                    para.clear();
                }
                "w:tc" => {
                    if let Some(t) = stack.last_mut()
                        && let Some(cell) = t.cell.take()
                    {
                        let span = std::mem::replace(&mut t.span, 1);
                        if let Some(row) = t.rows.last_mut() {
                            row.push(cell.split_whitespace().collect::<Vec<_>>().join(" "));
                            for _ in 1..span {
                                row.push(String::new());
                            }
                        }
                    }
                }
                "w:tbl" => {
                    if let Some(done) = stack.pop() {
                        let name = format!("table {}", tables.len() + 1);
                        tables.push(Table::from_text_rows(name, &done.rows));
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        if text.len() > 16 * 1024 * 1024 {
            break;
        }
    }
    Ok((tables, text))
}

fn push_text(stack: &mut [Building], para: &mut String, s: &str) {
    if let Some(t) = stack.last_mut()
        && let Some(cell) = t.cell.as_mut()
    {
        cell.push_str(s);
    }
    para.push_str(s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Limits;

    #[test]
    fn tables_marks_and_text() {
        let xml = r#"<w:document xmlns:w="w" xmlns:w14="x"><w:body>
          <w:p><w:r><w:t>Summary sheet</w:t></w:r></w:p>
          <w:tbl><w:tr><w:tc><w:p><w:r><w:t>Key Statement</w:t></w:r></w:p></w:tc><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr><w:p><w:r><w:t>6</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>7</w:t></w:r></w:p></w:tc></w:tr>
          <w:tr><w:tc><w:p><w:r><w:t xml:space="preserve">1 All </w:t></w:r><w:r><w:t>staff &amp; more</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:sym w:font="Wingdings" w:char="F0FC"/></w:r></w:p></w:tc><w:tc/><w:tc><w:sdt><w:sdtPr><w14:checkbox><w14:checked w14:val="1"/></w14:checkbox></w:sdtPr></w:sdt></w:tc></w:tr></w:tbl>
          </w:body></w:document>"#;
        let (tables, text) = parse_document(xml).unwrap();
        assert_eq!(tables.len(), 1);
        let cells: Vec<(String, String)> = tables[0]
            .cells
            .iter()
            .map(|c| (c.a1(), c.value.to_text()))
            .collect();
        assert_eq!(
            cells,
            vec![
                ("A1".into(), "Key Statement".into()),
                ("B1".into(), "6".into()),
                ("D1".into(), "7".into()),
                ("A2".into(), "1 All staff & more".into()),
                ("B2".into(), "✓".into()),
                ("D2".into(), "☒".into()),
            ]
        );
        assert!(text.starts_with("Summary sheet\nKey Statement\n"));
    }

    #[test]
    fn titles_and_junk() {
        assert_eq!(
            core_title(
                "<cp:coreProperties><dc:title>Case study: KS8</dc:title></cp:coreProperties>"
            )
            .as_deref(),
            Some("Case study: KS8")
        );
        assert_eq!(core_title("<x><dc:title> </dc:title></x>"), None);
        let mut b = Budget::new(Limits::default());
        let c = read_docx("a.docx", b"PK\x03\x04nonsense", &mut b);
        assert_eq!(c.problems[0].code, ProblemCode::CorruptAttachment);
    }
}
