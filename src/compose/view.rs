//! What a reply says, as plain values for the wording templates (`config/templates/`): every
//! decision (which verdict, which criterion, which dates, which files) is made here, so the
//! templates only lay it out and the project team can reword them without touching logic.

use super::reply::{ReplyParams, Revision};
use crate::domain::eligibility::{Provisional, Status, Verdict};
use crate::domain::evaluation::{Classification, Evaluation};
use crate::domain::problem::ProblemCode;
use crate::domain::statement::StatementId;
use serde::Serialize;

/// The Content-ID of the inline profile chart in the HTML reply.
pub const CHART_CID: &str = "profile@yjsend";

/// Everything a reply template can use.
#[derive(Debug, Clone, Serialize)]
pub struct ReplyView {
    /// `submission`, `no_grid`, `too_large` or `evidence_added`.
    pub kind: &'static str,
    /// The one-line result the reply opens with.
    pub headline: String,
    pub reference: String,
    pub round_name: String,
    /// The partnership's name, when it was identified.
    pub partnership: Option<String>,
    /// A known partnership with no initial benchmarking scores on record.
    pub no_baseline: bool,
    /// The earlier submission this one replaces.
    pub replaces: Option<String>,
    /// For evidence sent on its own: the submission it joined.
    pub joins: Option<String>,
    /// "20 February 2018 at 10:00", in the round's time zone.
    pub received: Option<String>,
    pub on_time: Option<bool>,
    /// "23 February 2018 at 23:59".
    pub deadline: String,
    /// The file (or "the email body") the grid was read from.
    pub grid_source: Option<String>,
    pub scores: Vec<ScoreRow>,
    /// Whether any row has a baseline (so the column is worth showing).
    pub has_baseline: bool,
    /// On a resubmission: the statements whose score changed since the last one.
    pub changed_since_last: Vec<Change>,
    pub quality_mark: Award,
    pub quality_lead: Award,
    pub evidence: Vec<EvidenceRow>,
    /// Other things the partnership should know (problems found), one sentence each.
    pub notes: Vec<String>,
    /// The inline chart is attached (HTML only).
    pub chart: bool,
    pub chart_cid: &'static str,
    /// A grid template workbook is attached.
    pub template_attached: bool,
    pub panel_meets: Option<String>,
    /// "16 March 2018".
    pub outcomes_by: Option<String>,
    /// The Quality Lead is within reach: say it will be verified by a call or a visit.
    pub quality_lead_call: bool,
    /// For a message joined to a submission: what it changed (see `ReplyParams::changes`).
    pub changes: Vec<String>,
    /// Evidence from an earlier version still counted (see `ReplyParams::carried`).
    pub carried: Vec<String>,
    /// Show both awards criterion by criterion (a submission, or an update to one whose
    /// grid was read).
    pub show_awards: bool,
}

/// One statement as read.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreRow {
    pub id: &'static str,
    pub title: &'static str,
    pub score: Option<u8>,
    pub baseline: Option<u8>,
    /// "+2", "−1", "=" (score against baseline), when both are known.
    pub change: Option<String>,
}

/// A score that changed since the partnership's previous submission.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub id: &'static str,
    pub before: Option<u8>,
    pub after: Option<u8>,
}

/// One award's provisional verdict and checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Award {
    pub name: &'static str,
    /// `eligible`, `not_eligible`, `incomplete`.
    pub status: &'static str,
    /// "provisionally met", "not met on these scores", "not complete yet".
    pub status_text: &'static str,
    pub criteria: Vec<CriterionRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CriterionRow {
    pub text: String,
    /// `met`, `not_met`, `missing`.
    pub status: &'static str,
    /// "met", "not met", "missing".
    pub status_text: &'static str,
    pub action: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRow {
    pub file: String,
    pub taken_as: String,
    /// Not read or not used: worth a second look by the sender.
    pub unused: bool,
}

fn award(name: &'static str, v: &Verdict) -> Award {
    let (status, status_text) = match v.provisional {
        Provisional::Eligible => ("eligible", "provisionally met"),
        Provisional::NotEligible => ("not_eligible", "not met on these scores"),
        Provisional::Incomplete => ("incomplete", "not complete yet"),
    };
    Award {
        name,
        status,
        status_text,
        criteria: v
            .criteria
            .iter()
            .map(|c| {
                let (status, status_text) = match c.status {
                    Status::Met => ("met", "met"),
                    Status::NotMet => ("not_met", "not met"),
                    Status::Missing => ("missing", "missing"),
                };
                CriterionRow {
                    text: c.text.clone(),
                    status,
                    status_text,
                    action: c.action.clone(),
                }
            })
            .collect(),
    }
}

fn headline(e: &Evaluation, kind: &str, joins: Option<&str>, revision: Revision) -> String {
    match revision {
        Revision::Corrected => return "We have looked at your grid again and corrected the scores we read: here is the result with the corrected scores.".into(),
        Revision::Reevaluated => return "We have looked at your email again (our records have been updated): here is the result as it now stands.".into(),
        Revision::None => {}
    }
    match kind {
        "too_large" => {
            "Your email was too large for us to read; please send it again in smaller parts.".into()
        }
        "no_grid" => "We received your email, but could not read a scoring grid from it.".into(),
        "evidence_added" if e.evidence.is_empty() => format!(
            "Thank you: we have added this to your submission {}.",
            joins.unwrap_or_default()
        ),
        "evidence_added" => format!(
            "Thank you: we have added the evidence in this email to your submission {}.",
            joins.unwrap_or_default()
        ),
        _ => match (e.quality_mark.provisional, e.quality_lead.provisional) {
            (_, Provisional::Eligible) => {
                "Thank you: on a first reading your submission meets the Quality Lead criteria.".into()
            }
            (Provisional::Eligible, _) => {
                "Thank you: on a first reading your submission meets the Quality Mark criteria.".into()
            }
            _ => "Thank you for your submission: we have read your grid; what is still needed is listed below.".into(),
        },
    }
}

/// What goes with the reply besides its text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts {
    /// The profile chart is attached inline (to the HTML part).
    pub chart: bool,
    /// A grid template workbook is attached.
    pub template: bool,
}

/// What an attachment was taken as, in the words of replies and reports.
pub fn taken_as(t: &crate::domain::evaluation::TakenAs) -> String {
    match t {
        crate::domain::evaluation::TakenAs::Grid => "the scoring grid".into(),
        crate::domain::evaluation::TakenAs::GridDuplicate => {
            "a second copy of the grid (same scores)".into()
        }
        crate::domain::evaluation::TakenAs::GridConflicting => {
            "a grid that disagrees with another one".into()
        }
        crate::domain::evaluation::TakenAs::CaseStudy(ids) => format!(
            "a case study for statement {}",
            crate::domain::eligibility::list(ids)
        ),
        crate::domain::evaluation::TakenAs::CaseStudyUnlinked => {
            "a case study (no statement named)".into()
        }
        crate::domain::evaluation::TakenAs::WitnessTestimony => "a witness testimony".into(),
        crate::domain::evaluation::TakenAs::Unreadable => "could not be read".into(),
        crate::domain::evaluation::TakenAs::NotUsed => "not used".into(),
    }
}

/// A score against its baseline: "+2", "−1" (a true minus sign), "=", or nothing when
/// either is unknown.
pub fn change(score: Option<u8>, baseline: Option<u8>) -> Option<String> {
    match (score, baseline) {
        (Some(s), Some(b)) if s > b => Some(format!("+{}", s - b)),
        (Some(s), Some(b)) if s < b => Some(format!("\u{2212}{}", b - s)),
        (Some(_), Some(_)) => Some("=".into()),
        _ => None,
    }
}

/// Builds the view of a reply.
pub fn reply(e: &Evaluation, p: &ReplyParams, parts: Parts) -> ReplyView {
    let kind = if p.joins.is_some() {
        "evidence_added"
    } else if e.has_problem(ProblemCode::MessageTooLarge) {
        "too_large"
    } else if e.classification == Classification::NoGrid || e.grid.is_none() {
        "no_grid"
    } else {
        "submission"
    };
    let tz = p.round.timezone.clone();
    let when = |t: jiff::Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%-d %B %Y at %H:%M")
            .to_string()
    };
    let scores: Vec<ScoreRow> = match &e.grid {
        Some(g) => StatementId::ALL
            .into_iter()
            .map(|id| {
                let score = g.scores.get(&id).map(|s| s.value());
                let baseline = p
                    .baseline
                    .and_then(|b| b.get(&id))
                    .or_else(|| g.baseline.get(&id))
                    .map(|s| s.value());
                let change = change(score, baseline);
                ScoreRow {
                    id: id.as_str(),
                    title: id.short_title(),
                    score,
                    baseline,
                    change,
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let changed_since_last = match (p.previous, &e.grid) {
        (Some(prev), Some(g)) => StatementId::ALL
            .into_iter()
            .filter_map(|id| {
                let before = prev.get(id.as_str()).copied();
                let after = g.scores.get(&id).map(|s| s.value());
                (before != after).then_some(Change {
                    id: id.as_str(),
                    before,
                    after,
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let notes = e
        .problems
        .iter()
        .filter(|pr| {
            // Said elsewhere in the reply: by the checklist, the headline or the no-baseline
            // paragraph (sign-off is in the checklist whenever there is one).
            let said = match pr.code {
                ProblemCode::NoBaseline
                | ProblemCode::CaseStudyMissing
                | ProblemCode::NoGridFound
                | ProblemCode::MessageTooLarge => true,
                ProblemCode::SignoffMissing => kind != "no_grid",
                _ => false,
            };
            !said
        })
        .map(|pr| pr.detail.clone())
        .collect();
    let evidence = e
        .evidence
        .iter()
        .map(|item| EvidenceRow {
            file: item.path.clone(),
            taken_as: taken_as(&item.taken_as),
            unused: matches!(
                item.taken_as,
                crate::domain::evaluation::TakenAs::Unreadable
                    | crate::domain::evaluation::TakenAs::NotUsed
            ),
        })
        .collect();
    ReplyView {
        kind,
        headline: headline(e, kind, p.joins, p.revision),
        reference: p.reference.to_string(),
        round_name: p.round.name.clone(),
        partnership: e.partnership.as_ref().map(|pr| pr.name.clone()),
        no_baseline: e.partnership.is_some() && p.baseline.is_none(),
        replaces: p.replaces.map(str::to_string),
        joins: p.joins.map(str::to_string),
        received: e.received_at.map(when),
        on_time: e.deadline.on_time,
        deadline: when(p.round.deadline),
        grid_source: e.grid.as_ref().map(|g| g.source.clone()),
        has_baseline: scores.iter().any(|r| r.baseline.is_some()),
        scores,
        changed_since_last,
        quality_mark: award("Quality Mark", &e.quality_mark),
        quality_lead: award("Quality Lead", &e.quality_lead),
        evidence,
        notes,
        chart: parts.chart,
        chart_cid: CHART_CID,
        template_attached: parts.template,
        panel_meets: p.round.panel_meets.clone(),
        outcomes_by: p
            .round
            .outcomes_by
            .map(|d| d.strftime("%-d %B %Y").to_string()),
        quality_lead_call: e.grid.is_some()
            && e.quality_lead.provisional != Provisional::NotEligible,
        changes: p.changes.to_vec(),
        carried: p.carried.to_vec(),
        show_awards: e.grid.is_some() && matches!(kind, "submission" | "evidence_added"),
    }
}
