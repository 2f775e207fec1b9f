//! PDF: the text layer (a grid typed or exported to PDF) and fillable form fields.
//!
//! A scan has no text layer: that is `unreadable_document`, not an empty grid. lopdf can
//! panic on malformed files, so every call into it is behind `catch_unwind`, and text
//! extraction is capped at the file's decompression allowance.

use super::{Budget, FileContent};
use crate::domain::grid::GridFormat;
use crate::domain::problem::{Problem, ProblemCode};
use crate::domain::table::Table;
use lopdf::{Document, Object, ObjectId};
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

const MAX_PAGES: u32 = 200;
const MAX_FIELDS: usize = 2000;

/// Reads a PDF's text and form fields (fields become a two-column table: name, value).
pub fn read_pdf(name: &str, bytes: &[u8], budget: &mut Budget) -> FileContent {
    let mut content = FileContent {
        format: Some(GridFormat::Pdf),
        ..FileContent::default()
    };
    let allowance = budget.allowance();
    if bytes.len() as u64 > allowance {
        content
            .problems
            .push(super::zipguard::limit_problem(name, budget));
        return content;
    }
    let loaded = catch_unwind(AssertUnwindSafe(|| Document::load_mem(bytes)));
    let doc = match loaded {
        Ok(Ok(d)) => d,
        Ok(Err(lopdf::Error::Decryption(_))) | Ok(Err(lopdf::Error::InvalidPassword)) => {
            content.problems.push(encrypted(name));
            return content;
        }
        Ok(Err(e)) => {
            content.problems.push(Problem::new(
                ProblemCode::CorruptAttachment,
                format!("'{name}' is damaged or is not a real PDF, so we could not open it ({e})."),
            ));
            return content;
        }
        Err(_) => {
            content.problems.push(Problem::new(
                ProblemCode::CorruptAttachment,
                format!("'{name}' is damaged or is not a real PDF, so we could not open it."),
            ));
            return content;
        }
    };
    if doc.is_encrypted() && doc.trailer.get(b"Encrypt").is_ok() {
        // lopdf opens files with an empty user password; a real password leaves no text.
        let probe = catch_unwind(AssertUnwindSafe(|| doc.extract_text(&[1])));
        if !matches!(probe, Ok(Ok(ref t)) if !t.trim().is_empty()) {
            content.problems.push(encrypted(name));
            return content;
        }
    }
    let pages: Vec<u32> = doc
        .get_pages()
        .keys()
        .copied()
        .take(MAX_PAGES as usize)
        .collect();
    let mut text = String::new();
    for p in pages {
        let cap = allowance.saturating_sub(text.len() as u64) as usize;
        if cap == 0 {
            break;
        }
        if let Ok(Ok(t)) = catch_unwind(AssertUnwindSafe(|| doc.extract_text_with_limit(&[p], cap)))
        {
            text.push_str(&t);
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
    }
    if let Ok(fields) = catch_unwind(AssertUnwindSafe(|| form_fields(&doc)))
        && !fields.is_empty()
    {
        content.tables.push(Table::from_text_rows(
            "form fields",
            &fields
                .into_iter()
                .map(|(k, v)| vec![k, v])
                .collect::<Vec<_>>(),
        ));
    }
    content.title = catch_unwind(AssertUnwindSafe(|| info_title(&doc)))
        .ok()
        .flatten();
    if text.trim().is_empty() && content.tables.is_empty() {
        content.problems.push(Problem::new(
            ProblemCode::UnreadableDocument,
            format!(
                "'{name}' has no text we can read: it looks like a scan or a photo. Please send the grid as a spreadsheet, a Word document or a PDF saved from one."
            ),
        ));
    }
    content.text = text;
    content
}

fn encrypted(name: &str) -> Problem {
    Problem::new(
        ProblemCode::EncryptedAttachment,
        format!(
            "'{name}' is password-protected, so we could not open it. Please send it again without a password."
        ),
    )
}

/// A PDF string as text: UTF-16BE with a byte-order mark, else PDFDocEncoding (close enough
/// to Latin-1 for what forms hold).
fn pdf_string(bytes: &[u8]) -> String {
    if bytes.starts_with(&[0xFE, 0xFF]) {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(&bytes[3..]).into_owned();
    }
    bytes.iter().map(|&b| b as char).collect()
}

fn value_text(doc: &Document, v: &Object) -> Option<String> {
    let v = doc.dereference(v).ok()?.1;
    match v {
        Object::String(s, _) => Some(pdf_string(s)),
        Object::Name(n) => Some(String::from_utf8_lossy(n).into_owned()),
        Object::Integer(i) => Some(i.to_string()),
        Object::Real(r) => Some(r.to_string()),
        Object::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| value_text(doc, i))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    }
}

/// Every filled form field as (label, value): the tooltip (`/TU`) when there is one, as it is
/// what the form shows people, else the full field name.
fn form_fields(doc: &Document) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(root) = doc.catalog() else { return out };
    let Ok(form) = root.get(b"AcroForm").and_then(|f| doc.dereference(f)) else {
        return out;
    };
    let Ok(form) = form.1.as_dict() else {
        return out;
    };
    let Ok(fields) = form.get(b"Fields").and_then(|f| doc.dereference(f)) else {
        return out;
    };
    let Ok(fields) = fields.1.as_array() else {
        return out;
    };
    let mut seen = HashSet::new();
    for f in fields {
        walk_field(doc, f, "", 0, &mut seen, &mut out);
    }
    out
}

fn walk_field(
    doc: &Document,
    obj: &Object,
    parent: &str,
    depth: u32,
    seen: &mut HashSet<ObjectId>,
    out: &mut Vec<(String, String)>,
) {
    if depth > 16 || out.len() >= MAX_FIELDS {
        return;
    }
    if let Object::Reference(id) = obj
        && !seen.insert(*id)
    {
        return;
    }
    let Ok((_, obj)) = doc.dereference(obj) else {
        return;
    };
    let Ok(dict) = obj.as_dict() else { return };
    let own = dict
        .get(b"T")
        .ok()
        .and_then(|t| value_text(doc, t))
        .unwrap_or_default();
    let full = match (parent.is_empty(), own.is_empty()) {
        (true, _) => own.clone(),
        (false, true) => parent.to_string(),
        (false, false) => format!("{parent}.{own}"),
    };
    if let Ok(kids) = dict.get(b"Kids").and_then(|k| doc.dereference(k))
        && let Ok(kids) = kids.1.as_array()
    {
        for k in kids {
            walk_field(doc, k, &full, depth + 1, seen, out);
        }
    }
    let Some(value) = dict.get(b"V").ok().and_then(|v| value_text(doc, v)) else {
        return;
    };
    let value = value.trim().to_string();
    if value.is_empty() || value == "Off" {
        return;
    }
    let label = dict
        .get(b"TU")
        .ok()
        .and_then(|t| value_text(doc, t))
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(full);
    out.push((label, value));
}

fn info_title(doc: &Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let info = doc.dereference(info).ok()?.1.as_dict().ok()?;
    let t = value_text(doc, info.get(b"Title").ok()?)?;
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Limits;

    const FROM_DOCX: &[u8] =
        include_bytes!("../../fixtures/files/016-pdf-from-docx/Swindon re-scoring signed.pdf");
    const FROM_XLSX: &[u8] =
        include_bytes!("../../fixtures/files/017-pdf-from-xlsx/St Helens grid print.pdf");

    #[test]
    fn text_of_a_pdf_printed_from_a_spreadsheet() {
        let mut b = Budget::new(Limits::default());
        let c = read_pdf("g.pdf", FROM_XLSX, &mut b);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert!(c.text.contains("KS4a"), "{}", c.text);
    }

    /// A one-page PDF with a fillable form: field `KS1` (tooltip "Key Statement 1") = 7, and
    /// so on, built with lopdf itself.
    fn form_pdf(values: &[(&str, &str)]) -> Vec<u8> {
        use lopdf::{Stream, dictionary};
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let content = doc.add_object(Stream::new(dictionary! {}, b"".to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Contents" => content,
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(
                dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
            ),
        );
        let mut fields = Vec::new();
        for (k, v) in values {
            let id = doc.add_object(dictionary! {
                "FT" => "Tx",
                "T" => Object::string_literal(*k),
                "TU" => Object::string_literal(format!("Key Statement {}", k.trim_start_matches("KS"))),
                "V" => Object::string_literal(*v),
            });
            fields.push(Object::Reference(id));
        }
        let form = doc.add_object(dictionary! { "Fields" => fields });
        let catalog = doc.add_object(
            dictionary! { "Type" => "Catalog", "Pages" => pages_id, "AcroForm" => form },
        );
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn form_fields_become_a_table_the_grid_reader_can_use() {
        let values = [
            ("KS1", "7"),
            ("KS2", "6"),
            ("KS3", "7"),
            ("KS4a", "8"),
            ("KS4b", "7"),
            ("KS5", "7"),
            ("KS6", "7"),
            ("KS7", "7"),
            ("KS8", "9"),
            ("KS9", "7"),
            ("KS10", "7"),
        ];
        let mut b = Budget::new(Limits::default());
        let c = read_pdf("form.pdf", &form_pdf(&values), &mut b);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.tables.len(), 1);
        assert_eq!(c.tables[0].cells[0].value.to_text(), "Key Statement 1");
        let g = crate::domain::grid::read_tables(&c.tables, "form.pdf").unwrap();
        assert_eq!(g.scores.len(), 11);
        assert_eq!(
            g.scores[&crate::domain::statement::StatementId::S8].value(),
            9
        );
    }

    #[test]
    fn junk_and_truncation_are_problems_not_panics() {
        let mut b = Budget::new(Limits::default());
        let c = read_pdf("x.pdf", b"%PDF-1.4\n garbage", &mut b);
        assert_eq!(c.problems.len(), 1);
        let pdf = FROM_DOCX;
        for cut in [10, pdf.len() / 3, pdf.len() / 2, pdf.len() - 20] {
            let _ = read_pdf("x.pdf", &pdf[..cut], &mut b);
        }
    }
}
