//! Recognising an attached file (bytes first, name second) and sending it to its reader.
//!
//! Outlook and webmail often send `application/octet-stream` with the type only in the file
//! name, and people rename files, so the magic bytes decide where they are clear.

use super::{Budget, FileContent, FileKind, Part};

/// What kind of file `bytes` is, using the name and declared type only where the bytes are
/// not decisive (a zip could be xlsx, docx, ods or a plain archive).
pub fn sniff(name: &str, content_type: &str, bytes: &[u8]) -> FileKind {
    let _ = (name, content_type, bytes);
    FileKind::Unknown
}

/// Reads a grid-bearing or evidence file into tables, text and problems. Containers (zip,
/// TNEF, .msg, .eml) are unpacked by the message reader before this is called.
pub fn read_file(part: &Part, kind: FileKind, budget: &mut Budget) -> FileContent {
    let _ = (part, kind, budget);
    FileContent::default()
}
