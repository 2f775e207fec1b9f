//! Findings about a message: data, not errors.
//!
//! A broken attachment or an odd grid is an ordinary outcome of reading mail, so it travels in
//! the evaluation as a [`Problem`] with a stable [`ProblemCode`] (the word scripts match on) and
//! a detail for people that names the place (file, sheet, cell) where there is one.

use std::fmt;

/// The stable codes of `check --json`'s `problems[].code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemCode {
    NoGridFound,
    AmbiguousGrid,
    AmbiguousScore,
    ScoreOutOfRange,
    StatementMissing,
    BaselineMismatch,
    EncryptedAttachment,
    CorruptAttachment,
    UnsupportedFormat,
    AttachmentTooLarge,
    DecompressionLimit,
    UnreadableDocument,
    LinkInsteadOfAttachment,
    MessageTooLarge,
    EvaluationTimeout,
    UnknownPartnership,
    SignoffMissing,
    SenderAuthenticationFailed,
    CaseStudyMissing,
    NoBaseline,
    /// The message could not be parsed as mail at all.
    MalformedMessage,
}

impl ProblemCode {
    /// The stable word used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::NoGridFound => "no_grid_found",
            ProblemCode::AmbiguousGrid => "ambiguous_grid",
            ProblemCode::AmbiguousScore => "ambiguous_score",
            ProblemCode::ScoreOutOfRange => "score_out_of_range",
            ProblemCode::StatementMissing => "statement_missing",
            ProblemCode::BaselineMismatch => "baseline_mismatch",
            ProblemCode::EncryptedAttachment => "encrypted_attachment",
            ProblemCode::CorruptAttachment => "corrupt_attachment",
            ProblemCode::UnsupportedFormat => "unsupported_format",
            ProblemCode::AttachmentTooLarge => "attachment_too_large",
            ProblemCode::DecompressionLimit => "decompression_limit",
            ProblemCode::UnreadableDocument => "unreadable_document",
            ProblemCode::LinkInsteadOfAttachment => "link_instead_of_attachment",
            ProblemCode::MessageTooLarge => "message_too_large",
            ProblemCode::EvaluationTimeout => "evaluation_timeout",
            ProblemCode::UnknownPartnership => "unknown_partnership",
            ProblemCode::SignoffMissing => "signoff_missing",
            ProblemCode::SenderAuthenticationFailed => "sender_authentication_failed",
            ProblemCode::CaseStudyMissing => "case_study_missing",
            ProblemCode::NoBaseline => "no_baseline",
            ProblemCode::MalformedMessage => "malformed_message",
        }
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: ProblemCode,
    pub detail: String,
}

impl Problem {
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Problem {
        Problem {
            code,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}
