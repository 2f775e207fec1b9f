//! The verdicts criterion by criterion, for the reply: each criterion met, not met or still
//! missing, with the one action that would change it. The verdict itself (and its reasons,
//! which `check --json` reports) is decided in the parent module; this is the same rules laid
//! out as a checklist a partnership lead can work through.

use super::{Input, filter, list, statements_word};
use crate::domain::statement::{Scores, StatementId};

/// Where one criterion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Met,
    NotMet,
    /// Not decided yet: something is still to come (a score, a case study, a sign-off).
    Missing,
}

/// One criterion of an award.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Criterion {
    /// What the award asks, in the seed's terms ("A score of 6 or higher in every statement").
    pub text: String,
    pub status: Status,
    /// What would change it (empty when met).
    pub action: String,
}

fn met(text: &str) -> Criterion {
    Criterion {
        text: text.into(),
        status: Status::Met,
        action: String::new(),
    }
}

fn with(text: &str, status: Status, action: String) -> Criterion {
    Criterion {
        text: text.into(),
        status,
        action,
    }
}

/// Areas that cannot count yet: not read, or scored 0.
fn open_areas(scores: &Scores) -> Vec<StatementId> {
    StatementId::ALL
        .into_iter()
        .filter(|s| scores.get(s).is_none_or(|v| v.value() == 0))
        .collect()
}

/// "Every statement at `min` or higher".
fn every_statement(scores: &Scores, min: u8, text: &str) -> Criterion {
    let low = filter(scores, |v| (1..min).contains(&v));
    let open = open_areas(scores);
    if !low.is_empty() {
        let shown: Vec<String> = low
            .iter()
            .filter_map(|s| scores.get(s).map(|v| format!("{s}: {v}")))
            .collect();
        return with(
            text,
            Status::NotMet,
            format!(
                "{} {} {} below {min} ({}).",
                statements_word(low.len()),
                list(&low),
                if low.len() == 1 { "is" } else { "are" },
                shown.join(", ")
            ),
        );
    }
    if !open.is_empty() {
        return with(
            text,
            Status::Missing,
            format!(
                "We need a score from 1 to 10 for {} {} (not read, or scored 0).",
                statements_word(open.len()).to_lowercase(),
                list(&open)
            ),
        );
    }
    met(text)
}

fn signoff(input: &Input) -> Criterion {
    const TEXT: &str = "Joint sign-off by the LA SEND lead and the YOS lead";
    if input.signoff.verified {
        return met(TEXT);
    }
    let action = if !input.partnership_known {
        "Send from a lead's address on our list, so we can tell which partnership this is.".into()
    } else if input.signoff.la_send && input.signoff.yos {
        "Our mail server could not confirm the sender's address (DMARC failed); please send from your organisation's own mail system.".into()
    } else {
        let mut who = Vec::new();
        if !input.signoff.la_send {
            who.push("the LA SEND lead");
        }
        if !input.signoff.yos {
            who.push("the YOS lead");
        }
        format!(
            "Copy in {} (or they can reply to this email to confirm).",
            who.join(" and ")
        )
    };
    with(TEXT, Status::Missing, action)
}

/// The Quality Mark's criteria (empty when no grid was read).
pub fn quality_mark(input: &Input) -> Vec<Criterion> {
    let Some(scores) = input.scores else {
        return Vec::new();
    };
    vec![
        every_statement(scores, 6, "A score of 6 or higher in every statement"),
        signoff(input),
    ]
}

/// The Quality Lead's criteria (empty when no grid was read).
pub fn quality_lead(input: &Input) -> Vec<Criterion> {
    let Some(scores) = input.scores else {
        return Vec::new();
    };
    let high = filter(scores, |v| v >= 8);
    let open = open_areas(scores);
    const TWO: &str = "At least two statements scored 8 or higher";
    let two = if high.len() >= 2 {
        met(TWO)
    } else if high.len() + open.len() < 2 {
        with(
            TWO,
            Status::NotMet,
            match high.as_slice() {
                [] => "None is scored 8 or higher.".into(),
                _ => format!("Only statement {} is scored 8 or higher.", list(&high)),
            },
        )
    } else {
        with(
            TWO,
            Status::Missing,
            "This depends on the statements still to be scored.".into(),
        )
    };
    const CASES: &str = "A case study for each statement scored 8 or higher";
    let without: Vec<StatementId> = high
        .iter()
        .copied()
        .filter(|s| !input.case_studies.contains(s))
        .collect();
    let cases = if high.is_empty() {
        with(
            CASES,
            Status::Missing,
            "None is scored 8 or higher yet.".into(),
        )
    } else if without.is_empty() {
        met(CASES)
    } else {
        with(
            CASES,
            Status::Missing,
            format!(
                "Please send a case study for {} {} (name the statement in the file name or its first line).",
                statements_word(without.len()).to_lowercase(),
                list(&without)
            ),
        )
    };
    const BASE: &str = "6s and 7s in most areas (at least 6 of 11) at initial benchmarking";
    let base = match input.baseline {
        Some(b) => {
            let strong = b.values().filter(|v| v.value() >= 6).count();
            if strong >= 6 {
                met(BASE)
            } else {
                with(
                    BASE,
                    Status::NotMet,
                    format!("At initial benchmarking {strong} of the 11 areas were at 6 or higher."),
                )
            }
        }
        None => with(
            BASE,
            Status::Missing,
            "We have no initial benchmarking scores on record for your partnership; the project team will talk to you about the route.".into(),
        ),
    };
    vec![
        every_statement(scores, 7, "A score of 7 or higher in every statement"),
        two,
        cases,
        base,
        signoff(input),
    ]
}
