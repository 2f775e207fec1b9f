//! Bytes to facts: the readers of mail and of attached files.
//!
//! Everything here is pure (bytes in, values out: no files, no clock, no network) but, unlike
//! `domain`, uses the format crates (mail-parser, calamine, zip, quick-xml, lopdf). Every
//! decompression is bounded by [`Limits`] and a shared [`Budget`], and nothing here may panic
//! on hostile input: failures become [`Problem`]s.

pub mod archive;
pub mod authres;
pub mod automatic;
pub mod docx;
pub mod file;
pub mod html;
pub mod links;
pub mod message;
pub mod msg;
pub mod odf;
pub mod pdf;
pub mod sheet;
pub mod text;
pub mod tnef;
pub mod zipguard;

use crate::domain::grid::GridFormat;
use crate::domain::problem::Problem;
use crate::domain::table::Table;

/// Caps on what reading one message may unpack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Per attachment, after decompression (`limits.max_unpacked_bytes`).
    pub max_unpacked_bytes: u64,
    /// Per message, all attachments together (`limits.max_unpacked_total_bytes`).
    pub max_unpacked_total_bytes: u64,
    /// How deep containers may nest (zip in a forwarded message in winmail.dat …).
    pub max_depth: u32,
    /// How many files one message may carry, containers unpacked.
    pub max_parts: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_unpacked_bytes: 64 * 1024 * 1024,
            max_unpacked_total_bytes: 128 * 1024 * 1024,
            max_depth: 8,
            max_parts: 500,
        }
    }
}

/// What is left of the per-message unpacking allowance; shared by every reader of a message.
#[derive(Debug, Clone)]
pub struct Budget {
    pub limits: Limits,
    remaining: u64,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            remaining: limits.max_unpacked_total_bytes,
        }
    }

    /// The most one more decompression may produce: the per-file cap or what the message has
    /// left, whichever is smaller.
    pub fn allowance(&self) -> u64 {
        self.limits.max_unpacked_bytes.min(self.remaining)
    }

    /// Records `bytes` as unpacked. Returns false (and takes nothing) when they do not fit.
    pub fn take(&mut self, bytes: u64) -> bool {
        if bytes > self.allowance() {
            return false;
        }
        self.remaining -= bytes;
        true
    }
}

/// One file carried by a message, containers already unpacked.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The path through containers: `Grid.xlsx`, `winmail.dat/Grid.xlsx`,
    /// `evidence.zip/Grid.xlsx`, or a forwarded message's subject then `/Grid.xlsx`.
    pub path: String,
    /// The file name alone (decoded; may be invented from the type when the sender gave none).
    pub name: String,
    /// The declared MIME type, lower case (`application/octet-stream` when unknown).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What a file turned out to be, from its bytes first and its name second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Xlsx,
    Xlsm,
    Xlsb,
    Xls,
    Ods,
    Csv,
    Docx,
    Doc,
    Odt,
    Rtf,
    Pdf,
    Html,
    PlainText,
    Image,
    Zip,
    Tnef,
    OutlookMsg,
    Eml,
    /// A CFB (OLE) container holding an `EncryptionInfo` stream: a password-protected OOXML file.
    EncryptedOffice,
    Unknown,
}

/// What could be read from one file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileContent {
    /// The grid format this file would give, when it is a grid-bearing kind.
    pub format: Option<GridFormat>,
    /// Tables found (sheets, document tables), for grid reading.
    pub tables: Vec<Table>,
    /// Plain text of the document (PDF text, document paragraphs), for grid reading from text
    /// and for case-study linking (title and first lines).
    pub text: String,
    /// The document's title (core properties / PDF info), when it has one.
    pub title: Option<String>,
    /// Problems reading it: encrypted, corrupt, decompression_limit, unreadable_document …
    pub problems: Vec<Problem>,
}
