//! Sample values for every template: `config check` and a wording reload render each template
//! against all of them, so an edit that breaks any kind of reply is caught before it is used.

use super::digest::{AttentionLine, Counts, DigestView, SelfCheck, SubmissionLine};
use super::view::{Award, CHART_CID, Change, CriterionRow, EvidenceRow, ReplyView, ScoreRow};
use crate::domain::statement::StatementId;

fn criterion(text: &str, status: &'static str, action: &str) -> CriterionRow {
    CriterionRow {
        text: text.into(),
        status,
        status_text: match status {
            "met" => "met",
            "not_met" => "not met",
            _ => "missing",
        },
        action: action.into(),
    }
}

fn submission() -> ReplyView {
    let scores = [7, 7, 6, 7, 6, 7, 8, 7, 8, 6, 7];
    let baseline = [5, 6, 4, 6, 5, 6, 7, 6, 7, 5, 6];
    ReplyView {
        kind: "submission",
        headline: "Thank you: on a first reading your submission meets the Quality Mark criteria."
            .into(),
        reference: "YJS-2018-0042".into(),
        round_name: "Quality Mark and Quality Lead 2018".into(),
        partnership: Some("Oxfordshire".into()),
        no_baseline: false,
        replaces: Some("YJS-2018-0017".into()),
        joins: None,
        received: Some("20 February 2018 at 10:04".into()),
        on_time: Some(true),
        deadline: "23 February 2018 at 23:59".into(),
        grid_source: Some("Oxfordshire rescore.xlsx".into()),
        scores: StatementId::ALL
            .iter()
            .zip(scores.iter().zip(baseline))
            .map(|(id, (s, b))| ScoreRow {
                id: id.as_str(),
                title: id.short_title(),
                score: Some(*s),
                baseline: Some(b),
                change: Some(format!("+{}", s - b)),
            })
            .collect(),
        has_baseline: true,
        changed_since_last: vec![Change {
            id: "4a",
            before: Some(6),
            after: Some(7),
        }],
        quality_mark: Award {
            name: "Quality Mark",
            status: "eligible",
            status_text: "provisionally met",
            criteria: vec![
                criterion("A score of 6 or higher in every statement", "met", ""),
                criterion(
                    "Joint sign-off by the LA SEND lead and the YOS lead",
                    "met",
                    "",
                ),
            ],
        },
        quality_lead: Award {
            name: "Quality Lead",
            status: "not_eligible",
            status_text: "not met on these scores",
            criteria: vec![
                criterion(
                    "A score of 7 or higher in every statement",
                    "not_met",
                    "Statements 3, 4b and 9 are below 7 (3: 6, 4b: 6, 9: 6).",
                ),
                criterion("At least two statements scored 8 or higher", "met", ""),
                criterion(
                    "A case study for each statement scored 8 or higher",
                    "missing",
                    "Please send a case study for statement 8.",
                ),
            ],
        },
        evidence: vec![
            EvidenceRow {
                file: "Oxfordshire rescore.xlsx".into(),
                taken_as: "the scoring grid".into(),
                unused: false,
            },
            EvidenceRow {
                file: "Case study - Statement 6.docx".into(),
                taken_as: "a case study for statement 6".into(),
                unused: false,
            },
            EvidenceRow {
                file: "logo.png".into(),
                taken_as: "not used".into(),
                unused: true,
            },
        ],
        notes: vec!["Grid.xlsx, sheet 'Rescore', D9: the comment cell was not read.".into()],
        chart: true,
        chart_cid: CHART_CID,
        template_attached: false,
        panel_meets: Some("late February to early March 2018".into()),
        outcomes_by: Some("16 March 2018".into()),
        changes: Vec::new(),
        carried: Vec::new(),
        show_awards: true,
        quality_lead_call: false,
    }
}

/// One sample of each kind of reply, with and without the optional parts.
pub fn replies() -> Vec<ReplyView> {
    let full = submission();
    let mut bare = submission();
    bare.partnership = None;
    bare.replaces = None;
    bare.received = None;
    bare.on_time = None;
    bare.has_baseline = false;
    for r in &mut bare.scores {
        r.baseline = None;
        r.change = None;
        r.score = None;
    }
    bare.changed_since_last.clear();
    bare.evidence.clear();
    bare.notes.clear();
    bare.chart = false;
    bare.panel_meets = None;
    bare.outcomes_by = None;
    bare.quality_lead_call = true;
    bare.no_baseline = true;
    let mut late = submission();
    late.on_time = Some(false);
    let mut no_grid = submission();
    no_grid.kind = "no_grid";
    no_grid.headline = "We received your email, but could not read a scoring grid from it.".into();
    no_grid.scores.clear();
    no_grid.grid_source = None;
    no_grid.quality_mark.criteria.clear();
    no_grid.show_awards = false;
    no_grid.quality_lead.criteria.clear();
    no_grid.chart = false;
    no_grid.template_attached = true;
    let mut too_large = no_grid.clone();
    too_large.kind = "too_large";
    too_large.template_attached = false;
    let mut evidence = no_grid.clone();
    evidence.kind = "evidence_added";
    evidence.joins = Some("YJS-2018-0042".into());
    evidence.template_attached = false;
    let mut update = full.clone();
    update.kind = "evidence_added";
    update.joins = Some("YJS-2018-0042".into());
    update.headline = "Thank you: we have added this to your submission YJS-2018-0042.".into();
    update.changes = vec![
        "David Okafor (yjs.manager@oxfordshire.example) confirmed the YOS sign-off.".into(),
        "Quality Mark: not complete yet → provisionally met".into(),
    ];
    update.evidence.clear();
    let mut carried = full.clone();
    carried.carried = vec!["KS8 case study.pdf (sent with YJS-2018-0017)".into()];
    vec![
        full, bare, late, no_grid, too_large, evidence, update, carried,
    ]
}

/// A digest with a line of every kind.
pub fn digest() -> DigestView {
    DigestView {
        round_name: "Quality Mark and Quality Lead 2018".into(),
        date: "Tuesday 20 February 2018".into(),
        deadline: "23 February 2018 at 23:59".into(),
        days_to_deadline: 3,
        counts: Counts {
            partnerships: 7,
            received: 2,
            quality_mark: 1,
            quality_lead: 0,
            incomplete: 1,
            late: 0,
            attention: 2,
        },
        submissions: vec![
            SubmissionLine {
                reference: "YJS-2018-0042".into(),
                partnership: "Oxfordshire".into(),
                received: "20 Feb 10:04".into(),
                quality_mark: "eligible".into(),
                quality_lead: "not eligible".into(),
                signoff: true,
                on_time: Some(true),
                problems: vec!["case_study_missing".into()],
                replaces: Some("YJS-2018-0017".into()),
                chart_cid: Some("chart-YJS-2018-0042@yjsend".into()),
                redesignation: true,
            },
            SubmissionLine {
                reference: "YJS-2018-0043".into(),
                partnership: "Swindon".into(),
                received: "20 Feb 11:30".into(),
                quality_mark: "incomplete".into(),
                quality_lead: "incomplete".into(),
                signoff: false,
                on_time: None,
                problems: vec![],
                replaces: None,
                chart_cid: None,
                redesignation: false,
            },
        ],
        attention: vec![
            AttentionLine {
                reference: Some("YJS-2018-0044".into()),
                what: "No readable grid".into(),
                from: Some("someone@warwickshire.example".into()),
                subject: Some("Our grid".into()),
                detail: "A photo of the paper grid.".into(),
            },
            AttentionLine {
                reference: None,
                what: "Quarantined".into(),
                from: None,
                subject: None,
                detail: "Evaluation failed 3 times.".into(),
            },
        ],
        self_check: SelfCheck {
            mailbox_last_ok: Some("20 February 2018 at 07:59".into()),
            mailbox_waiting: Some(0),
            ledger: 44,
            outbox_pending: 0,
            outbox_failed: 1,
            credentials_expire: None,
            retention: "personal data kept 24 months after a round closes".into(),
            summary: "1 reply could not be delivered.".into(),
        },
        chase: vec!["Newshire".into(), "Lowshire".into()],
        redesignation: vec!["Swindon: Quality Lead since 1 July 2017, due July 2020".into()],
    }
}

/// One panel email of each kind.
pub fn outcomes() -> Vec<super::outcome::OutcomeView> {
    [
        "quality_mark",
        "quality_lead",
        "not_yet",
        "request_info",
        "visit",
    ]
    .iter()
    .map(|o| super::outcome::OutcomeView {
        outcome: o.to_string(),
        award: match *o {
            "quality_mark" => Some("Quality Mark".into()),
            "quality_lead" => Some("Quality Lead".into()),
            _ => None,
        },
        partnership: "Oxfordshire".into(),
        reference: "YJS-2018-0042".into(),
        round_name: "Quality Mark and Quality Lead 2018".into(),
        feedback: if *o == "quality_mark" {
            String::new()
        } else {
            "Please send the case study for statement 8.".into()
        },
        child_first: *o == "quality_lead",
        redesignation: *o == "quality_lead",
        outcomes_by: Some("16 March 2018".into()),
    })
    .collect()
}
