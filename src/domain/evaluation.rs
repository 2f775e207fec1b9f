//! Everything `check` reports about one message, assembled by `pipeline::evaluate`, and the
//! values the daemon stores and the replies are written from.

use super::eligibility::Verdict;
use super::grid::GridFormat;
use super::problem::{Problem, ProblemCode};
use super::signoff::SignOff;
use super::statement::{Scores, StatementId};
use jiff::Timestamp;
use std::collections::BTreeMap;

/// `submission`, `automatic` or `no_grid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// A grid was read.
    Submission,
    /// Auto-reply, bounce, list or bulk mail: never answered, even when it carries a grid.
    Automatic,
    /// A person wrote, but no grid could be read.
    NoGrid,
}

impl Classification {
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Submission => "submission",
            Classification::Automatic => "automatic",
            Classification::NoGrid => "no_grid",
        }
    }
}

/// The grid that was read and where from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Grid {
    /// The attachment's path through containers, or `body`.
    pub source: String,
    #[serde(with = "grid_format")]
    pub format: GridFormat,
    pub scores: Scores,
    /// The baseline column the file itself shows (information only).
    pub baseline: Scores,
}

/// `GridFormat` as its JSON word.
mod grid_format {
    use super::GridFormat;
    use serde::{Deserialize, Deserializer, Serializer};

    const ALL: [GridFormat; 10] = [
        GridFormat::Xlsx,
        GridFormat::Xlsm,
        GridFormat::Xlsb,
        GridFormat::Xls,
        GridFormat::Ods,
        GridFormat::Csv,
        GridFormat::Docx,
        GridFormat::Pdf,
        GridFormat::Text,
        GridFormat::Html,
    ];

    pub fn serialize<S: Serializer>(f: &GridFormat, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(f.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<GridFormat, D::Error> {
        let word = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ALL.into_iter()
            .find(|f| f.as_str() == word)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown grid format {word:?}")))
    }
}

/// What an attached file was taken as (the reply's evidence manifest).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TakenAs {
    Grid,
    /// A second copy of the grid that agrees with the one used.
    GridDuplicate,
    /// A grid that disagrees with another one attached.
    GridConflicting,
    CaseStudy(Vec<StatementId>),
    CaseStudyUnlinked,
    WitnessTestimony,
    /// Could not be read (the problem says why).
    Unreadable,
    /// Read, but not used (a covering letter, an image in a signature …).
    NotUsed,
}

/// One attached file in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EvidenceItem {
    pub path: String,
    pub bytes: u64,
    pub taken_as: TakenAs,
}

/// The deadline and where the message stands against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeadlineStatus {
    pub at: Timestamp,
    /// `None` when the message carries no time at all.
    pub on_time: Option<bool>,
}

/// The identified partnership.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartnershipRef {
    pub id: String,
    pub name: String,
}

/// The message's addresses (lower case) and thread, for replies and thread rules.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    pub from_name: Option<String>,
    pub sender: Option<String>,
    pub reply_to: Vec<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
}

/// The evaluation of one message.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub from: Option<String>,
    pub envelope: Envelope,
    pub received_at: Option<Timestamp>,
    pub classification: Classification,
    /// Why the message is automatic, when it is.
    pub automatic_reason: Option<String>,
    pub partnership: Option<PartnershipRef>,
    pub grid: Option<Grid>,
    pub case_studies: BTreeMap<StatementId, Vec<String>>,
    pub case_studies_unlinked: Vec<String>,
    pub witness_testimonies: Vec<String>,
    pub evidence: Vec<EvidenceItem>,
    pub signoff: SignOff,
    pub deadline: DeadlineStatus,
    pub quality_mark: Verdict,
    pub quality_lead: Verdict,
    pub problems: Vec<Problem>,
    /// The sender's own words in the body (quoted parts and our earlier replies removed), cut
    /// to [`NOTE_CHARS`]: what a later message in a thread says (a confirmation, a dispute).
    #[serde(default)]
    pub note: String,
}

/// The most of a body kept as [`Evaluation::note`].
pub const NOTE_CHARS: usize = 4000;

impl Evaluation {
    /// True when a problem with this code was found.
    pub fn has_problem(&self, code: ProblemCode) -> bool {
        self.problems.iter().any(|p| p.code == code)
    }
}
