//! The wire shape of `check --json`: the public contract, kept in this one file.
//!
//! Field order follows the spec's example so a person comparing the two finds each field where
//! they expect it.

use crate::domain::eligibility::Verdict;
use crate::domain::evaluation::Evaluation;
use crate::domain::statement::Scores;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct Report<'a> {
    file: &'a str,
    message_id: Option<&'a str>,
    from: Option<&'a str>,
    received_at: Option<String>,
    classification: &'static str,
    partnership: Option<PartnershipOut<'a>>,
    grid: Option<GridOut<'a>>,
    case_studies: BTreeMap<&'static str, &'a [String]>,
    case_studies_unlinked: &'a [String],
    witness_testimonies: &'a [String],
    signoff: SignoffOut,
    deadline: DeadlineOut,
    quality_mark: VerdictOut<'a>,
    quality_lead: VerdictOut<'a>,
    problems: Vec<ProblemOut<'a>>,
}

#[derive(Serialize)]
struct PartnershipOut<'a> {
    id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct GridOut<'a> {
    source: &'a str,
    format: &'static str,
    scores: ScoresOut,
    baseline: ScoresOut,
}

/// Scores keyed `1 2 3 4a 4b 5 … 10`, in the framework's order.
struct ScoresOut(Vec<(&'static str, u8)>);

impl ScoresOut {
    fn new(scores: &Scores) -> ScoresOut {
        ScoresOut(
            scores
                .iter()
                .map(|(s, v)| (s.as_str(), v.value()))
                .collect(),
        )
    }
}

impl Serialize for ScoresOut {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct SignoffOut {
    la_send: bool,
    yos: bool,
    verified: bool,
}

#[derive(Serialize)]
struct DeadlineOut {
    at: String,
    on_time: Option<bool>,
}

#[derive(Serialize)]
struct VerdictOut<'a> {
    provisional: &'static str,
    reasons: &'a [String],
}

impl<'a> VerdictOut<'a> {
    fn new(v: &'a Verdict) -> VerdictOut<'a> {
        VerdictOut {
            provisional: v.provisional.as_str(),
            reasons: &v.reasons,
        }
    }
}

#[derive(Serialize)]
struct ProblemOut<'a> {
    code: &'static str,
    detail: &'a str,
}

/// RFC 3339 in UTC, whole seconds ("2018-02-20T10:00:00Z").
pub fn rfc3339(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// One JSON line for an evaluated message.
pub fn to_json_line(file: &str, e: &Evaluation) -> String {
    let report = Report {
        file,
        message_id: e.message_id.as_deref(),
        from: e.from.as_deref(),
        received_at: e.received_at.map(rfc3339),
        classification: e.classification.as_str(),
        partnership: e.partnership.as_ref().map(|p| PartnershipOut {
            id: &p.id,
            name: &p.name,
        }),
        grid: e.grid.as_ref().map(|g| GridOut {
            source: &g.source,
            format: g.format.as_str(),
            scores: ScoresOut::new(&g.scores),
            baseline: ScoresOut::new(&g.baseline),
        }),
        case_studies: e
            .case_studies
            .iter()
            .map(|(s, files)| (s.as_str(), files.as_slice()))
            .collect(),
        case_studies_unlinked: &e.case_studies_unlinked,
        witness_testimonies: &e.witness_testimonies,
        signoff: SignoffOut {
            la_send: e.signoff.la_send,
            yos: e.signoff.yos,
            verified: e.signoff.verified,
        },
        deadline: DeadlineOut {
            at: rfc3339(e.deadline.at),
            on_time: e.deadline.on_time,
        },
        quality_mark: VerdictOut::new(&e.quality_mark),
        quality_lead: VerdictOut::new(&e.quality_lead),
        problems: e
            .problems
            .iter()
            .map(|p| ProblemOut {
                code: p.code.as_str(),
                detail: &p.detail,
            })
            .collect(),
    };
    serde_json::to_string(&report).unwrap_or_else(|e| error_line(file, &e.to_string()))
}

/// The line for a file that could not be read: `{"file": "...", "error": "..."}`.
pub fn error_line(file: &str, error: &str) -> String {
    serde_json::json!({ "file": file, "error": error }).to_string()
}
