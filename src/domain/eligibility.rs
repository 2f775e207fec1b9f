//! The provisional Quality Mark and Quality Lead verdicts, from the seed's criteria as the
//! spec states them. Provisional: the panel decides; this tells a partnership where it stands
//! and what would change it, in sentences it can act on.

use super::signoff::SignOff;
use super::statement::{Scores, StatementId};
use std::collections::BTreeSet;

mod criteria;
pub use criteria::{Criterion, Status};

/// `eligible`, `not_eligible` or `incomplete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provisional {
    Eligible,
    NotEligible,
    Incomplete,
}

impl Provisional {
    pub fn as_str(self) -> &'static str {
        match self {
            Provisional::Eligible => "eligible",
            Provisional::NotEligible => "not_eligible",
            Provisional::Incomplete => "incomplete",
        }
    }
}

/// A verdict and its reasons (empty only when eligible), and the same laid out criterion by
/// criterion for the reply (empty when no grid was read).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    pub provisional: Provisional,
    pub reasons: Vec<String>,
    #[serde(default)]
    pub criteria: Vec<Criterion>,
}

/// What the verdicts are decided from.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The scores read; `None` when no grid could be read.
    pub scores: Option<&'a Scores>,
    pub signoff: SignOff,
    /// Whether a partnership was identified (sign-off can only be checked for one).
    pub partnership_known: bool,
    /// The trusted server reported `dmarc=fail` for the sender.
    pub dmarc_failed: bool,
    /// Statements with at least one linked case study.
    pub case_studies: &'a BTreeSet<StatementId>,
    /// The roster's initial benchmarking scores; `None` when not on record.
    pub baseline: Option<&'a Scores>,
}

const NO_GRID: &str =
    "No scoring grid could be read from this email, so the scores could not be checked.";

/// "4a", "4a and 9", "1, 4a and 9".
pub fn list(ids: &[StatementId]) -> String {
    let names: Vec<&str> = ids.iter().map(|s| s.as_str()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {}", rest.join(", "), last),
    }
}

fn statements_word(n: usize) -> &'static str {
    if n == 1 { "Statement" } else { "Statements" }
}

fn with_scores(scores: &Scores, ids: &[StatementId]) -> String {
    ids.iter()
        .filter_map(|s| scores.get(s).map(|v| format!("{s}: {v}")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn filter(scores: &Scores, keep: impl Fn(u8) -> bool) -> Vec<StatementId> {
    scores
        .iter()
        .filter(|(_, v)| keep(v.value()))
        .map(|(s, _)| *s)
        .collect()
}

/// Areas not scored, or scored 0 ("inapplicable"): neither counts towards an award.
fn unscored(scores: &Scores) -> (Vec<StatementId>, Vec<StatementId>) {
    let missing = StatementId::ALL
        .into_iter()
        .filter(|s| !scores.contains_key(s))
        .collect();
    (missing, filter(scores, |v| v == 0))
}

fn incomplete_scores(scores: &Scores, award: &str, reasons: &mut Vec<String>) {
    let (missing, zeros) = unscored(scores);
    if !missing.is_empty() {
        reasons.push(format!(
            "{} {} could not be read from your grid; the {award} needs a score for every statement.",
            statements_word(missing.len()),
            list(&missing)
        ));
    }
    if !zeros.is_empty() {
        reasons.push(format!(
            "{} {} {} scored 0 (not applicable); the {award} needs every statement scored.",
            statements_word(zeros.len()),
            list(&zeros),
            if zeros.len() == 1 { "is" } else { "are" }
        ));
    }
}

fn signoff_reasons(input: &Input, reasons: &mut Vec<String>) {
    if input.signoff.verified {
        return;
    }
    if !input.partnership_known {
        reasons.push(
            "We could not tell which partnership this is from, so joint sign-off could not be checked; please send from a lead's address on our list."
                .to_string(),
        );
        return;
    }
    let mut who = Vec::new();
    if !input.signoff.la_send {
        who.push("the Local Authority SEND lead");
    }
    if !input.signoff.yos {
        who.push("the YOS lead");
    }
    if !who.is_empty() {
        reasons.push(format!(
            "Joint sign-off is missing: {} should send the email or be copied in.",
            who.join(" and ")
        ));
    } else if input.dmarc_failed {
        reasons.push(
            "Joint sign-off could not be verified because our mail server could not confirm the sender's address (DMARC failed); please send from your organisation's own mail system."
                .to_string(),
        );
    }
}

/// Quality Mark: a consistent 6 or 7 (or higher) across all areas, with joint sign-off.
pub fn quality_mark(input: &Input) -> Verdict {
    Verdict {
        criteria: criteria::quality_mark(input),
        ..quality_mark_verdict(input)
    }
}

/// Quality Lead: 6s and 7s in most areas at initial benchmarking, nothing below 7 now, at
/// least two 8+ each with a case study, joint sign-off; verified later by a call or visit.
pub fn quality_lead(input: &Input) -> Verdict {
    Verdict {
        criteria: criteria::quality_lead(input),
        ..quality_lead_verdict(input)
    }
}

fn no_grid() -> Verdict {
    Verdict {
        provisional: Provisional::Incomplete,
        reasons: vec![NO_GRID.to_string()],
        criteria: Vec::new(),
    }
}

fn quality_mark_verdict(input: &Input) -> Verdict {
    let Some(scores) = input.scores else {
        return no_grid();
    };
    let mut blocking = Vec::new();
    let low = filter(scores, |v| (1..=5).contains(&v));
    if !low.is_empty() {
        blocking.push(format!(
            "{} {} {} below 6 ({}); the Quality Mark needs a 6 or higher in every statement.",
            statements_word(low.len()),
            list(&low),
            if low.len() == 1 {
                "is scored"
            } else {
                "are scored"
            },
            with_scores(scores, &low)
        ));
    }
    let mut open = Vec::new();
    incomplete_scores(scores, "Quality Mark", &mut open);
    signoff_reasons(input, &mut open);
    decide(blocking, open)
}

fn quality_lead_verdict(input: &Input) -> Verdict {
    let Some(scores) = input.scores else {
        return no_grid();
    };
    let mut blocking = Vec::new();
    let low = filter(scores, |v| (1..=6).contains(&v));
    if !low.is_empty() {
        blocking.push(format!(
            "{} {} {} below 7 ({}); the Quality Lead needs 7 or higher in every statement.",
            statements_word(low.len()),
            list(&low),
            if low.len() == 1 {
                "is scored"
            } else {
                "are scored"
            },
            with_scores(scores, &low)
        ));
    }
    let high = filter(scores, |v| v >= 8);
    let (missing, zeros) = unscored(scores);
    if high.len() + missing.len() + zeros.len() < 2 {
        blocking.push(format!(
            "The Quality Lead needs at least two statements scored 8 or higher; {}.",
            match high.len() {
                0 => "none is".to_string(),
                _ => format!("only statement {} is", list(&high)),
            }
        ));
    }
    if let Some(baseline) = input.baseline {
        let strong = baseline.values().filter(|v| v.value() >= 6).count();
        if strong < 6 {
            blocking.push(format!(
                "At initial benchmarking {strong} of the 11 areas were scored 6 or higher; the Quality Lead asks for 6s and 7s in the majority (at least 6) of areas at benchmarking."
            ));
        }
    }

    let mut open = Vec::new();
    incomplete_scores(scores, "Quality Lead", &mut open);
    signoff_reasons(input, &mut open);
    let without: Vec<StatementId> = high
        .iter()
        .copied()
        .filter(|s| !input.case_studies.contains(s))
        .collect();
    if !without.is_empty() {
        open.push(format!(
            "Each score of 8 or higher needs a case study: please send one for {} {}.",
            statements_word(without.len()).to_lowercase(),
            list(&without)
        ));
    }
    if input.baseline.is_none() {
        open.push(
            "We have no initial benchmarking scores on record for your partnership; the Quality Lead builds on them, so the project team will talk to you about the route for areas that did not take part."
                .to_string(),
        );
    }
    decide(blocking, open)
}

/// Not eligible when anything blocks; else incomplete when anything is open; else eligible.
/// The open reasons are kept after the blocking ones, so a reply lists every action.
fn decide(blocking: Vec<String>, open: Vec<String>) -> Verdict {
    let provisional = if !blocking.is_empty() {
        Provisional::NotEligible
    } else if !open.is_empty() {
        Provisional::Incomplete
    } else {
        Provisional::Eligible
    };
    let mut reasons = blocking;
    reasons.extend(open);
    Verdict {
        provisional,
        reasons,
        criteria: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
