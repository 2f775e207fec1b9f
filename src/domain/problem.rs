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
    /// Every code, for parsing.
    pub const ALL: [ProblemCode; 21] = [
        ProblemCode::NoGridFound,
        ProblemCode::AmbiguousGrid,
        ProblemCode::AmbiguousScore,
        ProblemCode::ScoreOutOfRange,
        ProblemCode::StatementMissing,
        ProblemCode::BaselineMismatch,
        ProblemCode::EncryptedAttachment,
        ProblemCode::CorruptAttachment,
        ProblemCode::UnsupportedFormat,
        ProblemCode::AttachmentTooLarge,
        ProblemCode::DecompressionLimit,
        ProblemCode::UnreadableDocument,
        ProblemCode::LinkInsteadOfAttachment,
        ProblemCode::MessageTooLarge,
        ProblemCode::EvaluationTimeout,
        ProblemCode::UnknownPartnership,
        ProblemCode::SignoffMissing,
        ProblemCode::SenderAuthenticationFailed,
        ProblemCode::CaseStudyMissing,
        ProblemCode::NoBaseline,
        ProblemCode::MalformedMessage,
    ];

    /// The code for a stable word.
    pub fn parse(word: &str) -> Option<ProblemCode> {
        ProblemCode::ALL.into_iter().find(|c| c.as_str() == word)
    }

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

impl serde::Serialize for ProblemCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ProblemCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let word = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        ProblemCode::parse(&word)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown problem code {word:?}")))
    }
}

/// One finding: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ProblemCode::ALL {
            assert_eq!(ProblemCode::parse(c.as_str()), Some(c));
            assert!(seen.insert(c.as_str()));
        }
    }
}
