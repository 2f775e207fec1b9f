//! Recognising an attached file (bytes first, name second) and sending it to its reader.
//!
//! Outlook and webmail often send `application/octet-stream` with the type only in the file
//! name, and people rename files, so the magic bytes decide where they are clear.

use super::{Budget, FileContent, FileKind, Part, docx, html, odf, pdf, sheet, text};
use crate::domain::grid::GridFormat;
use crate::domain::problem::{Problem, ProblemCode};
use std::io::Cursor;

const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const TNEF_MAGIC: &[u8] = &[0x78, 0x9F, 0x3E, 0x22];

/// What kind of file `bytes` is, using the name and declared type only where the bytes are
/// not decisive (a zip could be xlsx, docx, ods or a plain archive).
pub fn sniff(name: &str, content_type: &str, bytes: &[u8]) -> FileKind {
    let ext = extension(name);
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        if let Some(kind) = zip_kind(bytes, &ext, content_type) {
            return kind;
        }
    } else if bytes.starts_with(CFB_MAGIC) {
        return cfb_kind(bytes, &ext);
    } else if bytes.starts_with(TNEF_MAGIC) {
        return FileKind::Tnef;
    } else if bytes.len() >= 5 && memfind(&bytes[..bytes.len().min(1024)], b"%PDF-") {
        return FileKind::Pdf;
    } else if bytes.starts_with(b"{\\rtf") {
        return FileKind::Rtf;
    } else if is_image(bytes) {
        return FileKind::Image;
    }
    by_name(&ext, content_type)
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn is_image(b: &[u8]) -> bool {
    b.starts_with(b"\x89PNG")
        || b.starts_with(&[0xFF, 0xD8, 0xFF])
        || b.starts_with(b"GIF8")
        || b.starts_with(b"II*\0")
        || b.starts_with(b"MM\0*")
        || (b.len() > 12 && &b[4..8] == b"ftyp" && matches!(&b[8..12], b"heic" | b"heix" | b"mif1"))
        || (b.starts_with(b"RIFF") && b.len() > 12 && &b[8..12] == b"WEBP")
}

/// A zip's kind from its entry names (the central directory only: nothing is inflated).
fn zip_kind(bytes: &[u8], ext: &str, content_type: &str) -> Option<FileKind> {
    // ODF puts an uncompressed `mimetype` entry first, so its type is readable in place.
    let head = &bytes[..bytes.len().min(200)];
    if memfind(head, b"application/vnd.oasis.opendocument.spreadsheet") {
        return Some(FileKind::Ods);
    }
    if memfind(head, b"application/vnd.oasis.opendocument.text") {
        return Some(FileKind::Odt);
    }
    let Ok(archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        // A truncated container: trust the name, so the reader reports it as corrupt.
        return None;
    };
    let names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect();
    let has = |n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
    if has("xl/workbook.bin") {
        return Some(FileKind::Xlsb);
    }
    if has("xl/workbook.xml") {
        let macro_enabled = ext == "xlsm" || content_type.contains("macroenabled");
        return Some(if macro_enabled {
            FileKind::Xlsm
        } else {
            FileKind::Xlsx
        });
    }
    if has("word/document.xml") {
        return Some(FileKind::Docx);
    }
    if has("content.xml") && has("mimetype") {
        return Some(match ext {
            "odt" => FileKind::Odt,
            _ => FileKind::Ods,
        });
    }
    Some(FileKind::Zip)
}

/// A CFB (OLE) container: an encrypted OOXML file, a legacy .xls or .doc, or an Outlook item.
fn cfb_kind(bytes: &[u8], ext: &str) -> FileKind {
    let Ok(file) = cfb::CompoundFile::open(Cursor::new(bytes)) else {
        return by_name(ext, "");
    };
    let mut names = Vec::new();
    for entry in file.read_root_storage() {
        names.push(entry.name().to_string());
    }
    let has = |n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
    if has("EncryptionInfo") || has("EncryptedPackage") {
        FileKind::EncryptedOffice
    } else if has("Workbook") || has("Book") {
        FileKind::Xls
    } else if has("WordDocument") {
        FileKind::Doc
    } else if names
        .iter()
        .any(|n| n.starts_with("__substg1.0_") || n.starts_with("__properties_version1.0"))
    {
        FileKind::OutlookMsg
    } else {
        by_name(ext, "")
    }
}

fn by_name(ext: &str, content_type: &str) -> FileKind {
    match ext {
        "xlsx" => FileKind::Xlsx,
        "xlsm" => FileKind::Xlsm,
        "xlsb" => FileKind::Xlsb,
        "xls" => FileKind::Xls,
        "ods" => FileKind::Ods,
        "csv" => FileKind::Csv,
        "docx" | "docm" => FileKind::Docx,
        "doc" => FileKind::Doc,
        "odt" => FileKind::Odt,
        "rtf" => FileKind::Rtf,
        "pdf" => FileKind::Pdf,
        "htm" | "html" => FileKind::Html,
        "txt" | "text" => FileKind::PlainText,
        "zip" => FileKind::Zip,
        "dat" if content_type.contains("tnef") => FileKind::Tnef,
        "msg" => FileKind::OutlookMsg,
        "eml" => FileKind::Eml,
        "png" | "jpg" | "jpeg" | "gif" | "tif" | "tiff" | "bmp" | "heic" | "webp" => {
            FileKind::Image
        }
        _ => match content_type {
            "text/csv" | "text/comma-separated-values" => FileKind::Csv,
            "text/html" => FileKind::Html,
            "text/plain" => FileKind::PlainText,
            "message/rfc822" => FileKind::Eml,
            "application/ms-tnef" | "application/vnd.ms-tnef" => FileKind::Tnef,
            "application/pdf" => FileKind::Pdf,
            t if t.starts_with("image/") => FileKind::Image,
            _ => FileKind::Unknown,
        },
    }
}

/// Formats people use that we cannot read; each gets `unsupported_format` naming it.
fn unsupported(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "numbers" => "Apple Numbers",
        "pages" => "Apple Pages",
        "wps" | "et" => "WPS Office",
        "xps" | "oxps" => "XPS",
        "gsheet" | "gdoc" => "a Google Docs shortcut",
        "7z" | "rar" => "a 7-Zip or RAR archive",
        _ => return None,
    })
}

/// Reads a grid-bearing or evidence file into tables, text and problems. Containers (zip,
/// TNEF, .msg, .eml) are unpacked by the message reader before this is called.
pub fn read_file(part: &Part, kind: FileKind, budget: &mut Budget) -> FileContent {
    if part.bytes.len() as u64 > budget.limits.max_unpacked_bytes {
        return FileContent::problem(Problem::new(
            ProblemCode::AttachmentTooLarge,
            format!(
                "'{}' is {} MB; the largest file we read is {} MB.",
                part.path,
                part.bytes.len() / (1024 * 1024),
                budget.limits.max_unpacked_bytes / (1024 * 1024)
            ),
        ));
    }
    // The readers are written not to panic; this is the second line, for the libraries.
    let mut local = budget.clone();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_kind(part, kind, &mut local)
    }));
    match result {
        Ok(content) => {
            *budget = local;
            content
        }
        Err(_) => FileContent::problem(Problem::new(
            ProblemCode::CorruptAttachment,
            format!("'{}' is damaged and could not be read.", part.path),
        )),
    }
}

fn read_kind(part: &Part, kind: FileKind, budget: &mut Budget) -> FileContent {
    let name = part.path.as_str();
    let bytes = part.bytes.as_slice();
    match kind {
        FileKind::Xlsx | FileKind::Xlsm | FileKind::Xlsb | FileKind::Xls | FileKind::Ods => {
            sheet::read_workbook(name, bytes, kind, budget)
        }
        FileKind::Csv => sheet::read_csv(name, bytes, budget),
        FileKind::Docx => docx::read_docx(name, bytes, budget),
        FileKind::Odt => odf::read_odt(name, bytes, budget),
        FileKind::Pdf => pdf::read_pdf(name, bytes, budget),
        FileKind::Html => {
            let doc = decode_text(bytes);
            FileContent {
                format: Some(GridFormat::Html),
                tables: html::tables(&doc),
                text: html::to_text(&doc),
                ..FileContent::default()
            }
        }
        FileKind::PlainText => FileContent {
            text: decode_text(bytes),
            ..FileContent::default()
        },
        FileKind::Rtf => FileContent {
            text: text::rtf_to_text(bytes),
            ..FileContent::default()
        },
        FileKind::Doc => FileContent {
            text: text::doc_to_text(bytes),
            ..FileContent::default()
        },
        FileKind::EncryptedOffice => FileContent::problem(Problem::new(
            ProblemCode::EncryptedAttachment,
            format!(
                "'{name}' is password-protected, so we could not open it. Please send it again without a password."
            ),
        )),
        FileKind::Unknown => match unsupported(&extension(&part.name)) {
            Some(what) => FileContent::problem(Problem::new(
                ProblemCode::UnsupportedFormat,
                format!(
                    "'{name}' is {what}, which we cannot read. Please send the grid as Excel (.xlsx), OpenDocument (.ods), CSV, Word (.docx) or PDF."
                ),
            )),
            None => FileContent::default(),
        },
        FileKind::Image | FileKind::Zip | FileKind::Tnef | FileKind::OutlookMsg | FileKind::Eml => {
            FileContent::default()
        }
    }
}

/// Text in UTF-8 (with or without BOM), UTF-16 with BOM, else windows-1252.
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc.decode_with_bom_removal(bytes).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

impl FileContent {
    /// A file that gave only a problem.
    pub fn problem(problem: Problem) -> FileContent {
        FileContent {
            problems: vec![problem],
            ..FileContent::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_decide_before_names() {
        assert_eq!(sniff("Grid.xlsx", "", b"%PDF-1.4 ..."), FileKind::Pdf);
        assert_eq!(
            sniff("scan.pdf", "", b"\x89PNG\r\n\x1a\n...."),
            FileKind::Image
        );
        assert_eq!(
            sniff(
                "winmail.dat",
                "application/ms-tnef",
                &[0x78, 0x9F, 0x3E, 0x22, 1]
            ),
            FileKind::Tnef
        );
        assert_eq!(sniff("notes", "", b"{\\rtf1\\ansi hello}"), FileKind::Rtf);
    }

    #[test]
    fn names_and_types_decide_for_text_and_broken_files() {
        assert_eq!(
            sniff("Grid.xlsx", "application/octet-stream", b"junk junk"),
            FileKind::Xlsx
        );
        assert_eq!(
            sniff("scores.CSV", "application/octet-stream", b"1,7"),
            FileKind::Csv
        );
        assert_eq!(sniff("attachment 1", "text/csv", b"1,7"), FileKind::Csv);
        assert_eq!(sniff("Grid.numbers", "", b"??"), FileKind::Unknown);
    }

    #[test]
    fn a_plain_zip_is_an_archive() {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            w.start_file("a.txt", zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut w, b"hi").unwrap();
            w.finish().unwrap();
        }
        assert_eq!(sniff("evidence.zip", "", buf.get_ref()), FileKind::Zip);
    }

    #[test]
    fn unsupported_formats_are_named() {
        let part = Part {
            path: "Grid.numbers".into(),
            name: "Grid.numbers".into(),
            content_type: "application/octet-stream".into(),
            bytes: b"??".to_vec(),
        };
        let mut budget = Budget::new(super::super::Limits::default());
        let c = read_file(&part, FileKind::Unknown, &mut budget);
        assert_eq!(c.problems[0].code, ProblemCode::UnsupportedFormat);
    }

    #[test]
    fn legacy_text_decodes() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFok"), "ok");
        assert_eq!(decode_text(b"caf\xE9 \x96 7"), "café – 7");
    }
}
