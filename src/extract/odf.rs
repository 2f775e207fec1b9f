//! OpenDocument text (.odt): tables and paragraphs, as for Word documents.

use super::{Budget, FileContent, docx, zipguard};
use crate::domain::problem::{Problem, ProblemCode};
use quick_xml::Reader;
use quick_xml::events::Event;

/// Reads an .odt's tables, text and title.
pub fn read_odt(name: &str, bytes: &[u8], budget: &mut Budget) -> FileContent {
    let mut content = FileContent::default();
    if let Err(p) = zipguard::check_zip(bytes, budget, name) {
        content.problems.push(p);
        return content;
    }
    match zipguard::read_entry(bytes, "content.xml", budget, name) {
        Ok(Some(xml)) => {
            let xml = String::from_utf8_lossy(&xml);
            content.tables = super::sheet::ods::parse(&xml).unwrap_or_default();
            for (i, t) in content.tables.iter_mut().enumerate() {
                t.name = format!("table {}", i + 1);
            }
            content.text = paragraphs(&xml);
        }
        Ok(None) => content.problems.push(Problem::new(
            ProblemCode::CorruptAttachment,
            format!("'{name}' is not a complete OpenDocument file (it has no content.xml)."),
        )),
        Err(p) => content.problems.push(p),
    }
    if let Ok(Some(meta)) = zipguard::read_entry(bytes, "meta.xml", budget, name) {
        content.title = docx::core_title(&String::from_utf8_lossy(&meta));
    }
    content
}

/// Paragraphs and headings, one per line.
fn paragraphs(xml: &str) -> String {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut depth = 0u32;
    let mut line = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if matches!(e.name().as_ref(), "text:p" | "text:h") => depth += 1,
            Ok(Event::End(e)) if matches!(e.name().as_ref(), "text:p" | "text:h") => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let l = line.trim();
                    if !l.is_empty() {
                        out.push_str(l);
                        out.push('\n');
                    }
                    line.clear();
                }
            }
            Ok(Event::Empty(e))
                if depth > 0 && matches!(e.name().as_ref(), "text:s" | "text:tab") =>
            {
                line.push(' ')
            }
            Ok(Event::Text(t)) if depth > 0 => line.push_str(&t),
            Ok(Event::GeneralRef(r)) if depth > 0 => line.push_str(match &*r {
                "amp" => "&",
                "lt" => "<",
                "gt" => ">",
                "quot" => "\"",
                "apos" => "'",
                _ => "",
            }),
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        if out.len() > 16 * 1024 * 1024 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraph_text() {
        let xml = r#"<office:document-content xmlns:text="t"><office:body><office:text><text:h>Case study: Key Statement 8</text:h><text:p>Resettlement <text:span>panel</text:span> &amp; more</text:p></office:text></office:body></office:document-content>"#;
        assert_eq!(
            paragraphs(xml),
            "Case study: Key Statement 8\nResettlement panel & more\n"
        );
    }
}
