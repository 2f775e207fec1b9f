//! Where a submission stands: its sign-off, both provisional verdicts and the problems that
//! follow from them, worked out from the facts it holds. `check` calls this for one message;
//! the daemon calls it for a submission and every message joined to it since (the other
//! lead's confirmation, case studies sent later, evidence carried over from an earlier
//! version). One function for both, so a verdict can never be stored stale or disagree with
//! what `check` would say.

use super::eligibility::{self, Input, Provisional, Verdict};
use super::problem::{Problem, ProblemCode};
use super::roster::Partnership;
use super::signoff::SignOff;
use super::statement::{Scores, StatementId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Which of the partnership's two leads a person is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadRole {
    LaSend,
    Yos,
}

impl LeadRole {
    /// The role of `address` (any case) in `partnership`, LA SEND first.
    pub fn of(partnership: &Partnership, address: &str) -> Option<LeadRole> {
        let address = address.to_ascii_lowercase();
        if partnership.la_send_leads.contains(&address) {
            Some(LeadRole::LaSend)
        } else if partnership.yos_leads.contains(&address) {
            Some(LeadRole::Yos)
        } else {
            None
        }
    }

    /// "the LA SEND sign-off", "the YOS sign-off".
    pub fn signoff_words(self) -> &'static str {
        match self {
            LeadRole::LaSend => "the LA SEND sign-off",
            LeadRole::Yos => "the YOS sign-off",
        }
    }
}

/// What the verdicts are worked out from.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The scores read (or as the team corrected them); `None` when no grid was read.
    pub scores: Option<&'a Scores>,
    pub partnership: Option<&'a Partnership>,
    /// Automatic mail (a bounce, an out-of-office): nothing about sign-off is asked of it.
    pub automatic: bool,
    /// Which leads were on the submission message itself.
    pub on_message: (bool, bool),
    /// The trusted server reported `dmarc=fail` for the submission message.
    pub dmarc_failed: bool,
    /// Leads who confirmed later, each from their roster address, in the thread, not failed
    /// by the trusted header (the caller admits only such confirmations).
    pub confirmed: &'a [LeadRole],
    /// Statements with at least one case study linked, from every message that counts.
    pub case_studies: &'a BTreeSet<StatementId>,
}

/// The verdicts and what follows from them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    pub signoff: SignOff,
    pub quality_mark: Verdict,
    pub quality_lead: Verdict,
    /// `signoff_missing` and `no_baseline` (for a known partnership): what the partnership is
    /// asked for whatever its scores.
    pub partnership_problems: Vec<Problem>,
    /// `case_study_missing` and `no_baseline` again, only while the Quality Lead is in reach.
    pub quality_lead_problems: Vec<Problem>,
}

impl Standing {
    /// Both lists of derived problems, in the order `check` reports them.
    pub fn derived_problems(&self) -> impl Iterator<Item = &Problem> {
        self.partnership_problems
            .iter()
            .chain(&self.quality_lead_problems)
    }
}

/// Problem codes that are worked out from the facts rather than found by reading: a stored
/// record keeps only the others, and these are derived again whenever the facts change.
pub const DERIVED_CODES: [ProblemCode; 3] = [
    ProblemCode::SignoffMissing,
    ProblemCode::CaseStudyMissing,
    ProblemCode::NoBaseline,
];

/// Sign-off from the submission message and the confirmations that followed. The message's
/// own leads count only when the trusted header did not fail it; each confirmation counts for
/// its lead's role.
pub fn signoff(facts: &Facts) -> SignOff {
    if facts.partnership.is_none() {
        return SignOff::default();
    }
    let confirmed_la = facts.confirmed.contains(&LeadRole::LaSend);
    let confirmed_yos = facts.confirmed.contains(&LeadRole::Yos);
    let (la_msg, yos_msg) = facts.on_message;
    let trusted = !facts.dmarc_failed;
    SignOff {
        la_send: la_msg || confirmed_la,
        yos: yos_msg || confirmed_yos,
        verified: (la_msg && trusted || confirmed_la) && (yos_msg && trusted || confirmed_yos),
    }
}

/// Works out where a submission stands from its facts.
pub fn derive(facts: &Facts) -> Standing {
    let signoff = signoff(facts);
    let baseline = facts.partnership.and_then(|p| p.baseline.as_ref());
    let input = Input {
        scores: facts.scores,
        signoff,
        partnership_known: facts.partnership.is_some(),
        // A failed sender check no longer matters once both leads have confirmed.
        dmarc_failed: facts.dmarc_failed && !signoff.verified,
        case_studies: facts.case_studies,
        baseline,
    };
    let quality_mark = eligibility::quality_mark(&input);
    let quality_lead = eligibility::quality_lead(&input);
    let mut partnership_problems = Vec::new();
    if let Some(p) = facts.partnership.filter(|_| !facts.automatic) {
        signoff_missing(p, &signoff, &mut partnership_problems);
        if p.baseline.is_none() {
            partnership_problems.push(Problem::new(
                ProblemCode::NoBaseline,
                format!("{} has no initial benchmarking scores on record.", p.name),
            ));
        }
    }
    // What only the Quality Lead asks for is a problem only when the Quality Lead is still
    // within reach: a missing case study does not matter to a grid with a 6 in it.
    let mut quality_lead_problems = Vec::new();
    if quality_lead.provisional != Provisional::NotEligible {
        if let Some(scores) = facts.scores {
            case_studies_missing(scores, facts.case_studies, &mut quality_lead_problems);
        }
        if let Some(p) = facts.partnership.filter(|p| p.baseline.is_none()) {
            quality_lead_problems.push(Problem::new(
                ProblemCode::NoBaseline,
                format!(
                    "{} did not take part in the initial benchmarking, so there are no baseline scores on record for the Quality Lead.",
                    p.name
                ),
            ));
        }
    }
    Standing {
        signoff,
        quality_mark,
        quality_lead,
        partnership_problems,
        quality_lead_problems,
    }
}

fn signoff_missing(p: &Partnership, signoff: &SignOff, problems: &mut Vec<Problem>) {
    let mut missing = Vec::new();
    if !signoff.la_send {
        missing.push(format!(
            "the LA SEND lead ({})",
            p.la_send_leads.join(" or ")
        ));
    }
    if !signoff.yos {
        missing.push(format!("the YOS lead ({})", p.yos_leads.join(" or ")));
    }
    if !missing.is_empty() {
        problems.push(Problem::new(
            ProblemCode::SignoffMissing,
            format!(
                "Joint sign-off needs both leads of {} on the email: {} is not on it.",
                p.name,
                missing.join(" and ")
            ),
        ));
    }
}

fn case_studies_missing(
    scores: &Scores,
    linked: &BTreeSet<StatementId>,
    problems: &mut Vec<Problem>,
) {
    let without: Vec<StatementId> = scores
        .iter()
        .filter(|(s, v)| v.value() >= 8 && !linked.contains(s))
        .map(|(s, _)| *s)
        .collect();
    if !without.is_empty() {
        problems.push(Problem::new(
            ProblemCode::CaseStudyMissing,
            format!(
                "No case study was found for {} {}, scored 8 or higher.",
                if without.len() == 1 {
                    "statement"
                } else {
                    "statements"
                },
                eligibility::list(&without)
            ),
        ));
    }
}

/// What moved between two standings, in sentences for the partnership ("Quality Mark:
/// incomplete → eligible"). Empty when neither verdict moved.
pub fn moved(before: &Standing, after: &Standing) -> Vec<String> {
    let mut out = Vec::new();
    for (award, b, a) in [
        ("Quality Mark", &before.quality_mark, &after.quality_mark),
        ("Quality Lead", &before.quality_lead, &after.quality_lead),
    ] {
        if b.provisional != a.provisional {
            out.push(format!(
                "{award}: {} → {}",
                words(b.provisional),
                words(a.provisional)
            ));
        }
    }
    out
}

/// A verdict in the words the replies use.
pub fn words(p: Provisional) -> &'static str {
    match p {
        Provisional::Eligible => "provisionally met",
        Provisional::NotEligible => "not met",
        Provisional::Incomplete => "not complete yet",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::statement::Score;

    fn oxon(baseline: bool) -> Partnership {
        Partnership {
            id: "oxfordshire".into(),
            name: "Oxfordshire".into(),
            region: None,
            domains: vec!["oxfordshire.example".into()],
            la_send_leads: vec!["send.lead@oxfordshire.example".into()],
            yos_leads: vec!["yjs.manager@oxfordshire.example".into()],
            baseline: baseline.then(|| all(6)),
            awards: vec![],
        }
    }

    fn all(v: u8) -> Scores {
        StatementId::ALL
            .into_iter()
            .map(|s| (s, Score::new(v).unwrap()))
            .collect()
    }

    fn facts<'a>(
        p: &'a Partnership,
        scores: &'a Scores,
        on_message: (bool, bool),
        confirmed: &'a [LeadRole],
        studies: &'a BTreeSet<StatementId>,
    ) -> Facts<'a> {
        Facts {
            scores: Some(scores),
            partnership: Some(p),
            automatic: false,
            on_message,
            dmarc_failed: false,
            confirmed,
            case_studies: studies,
        }
    }

    #[test]
    fn the_other_leads_confirmation_completes_the_signoff_and_the_quality_mark() {
        let p = oxon(true);
        let scores = all(7);
        let none = BTreeSet::new();
        let before = derive(&facts(&p, &scores, (true, false), &[], &none));
        assert_eq!(before.quality_mark.provisional, Provisional::Incomplete);
        assert!(
            before
                .partnership_problems
                .iter()
                .any(|p| p.code == ProblemCode::SignoffMissing)
        );
        let after = derive(&facts(&p, &scores, (true, false), &[LeadRole::Yos], &none));
        assert!(after.signoff.verified);
        assert_eq!(after.quality_mark.provisional, Provisional::Eligible);
        assert!(
            !after
                .derived_problems()
                .any(|p| p.code == ProblemCode::SignoffMissing)
        );
        assert_eq!(
            moved(&before, &after),
            vec!["Quality Mark: not complete yet → provisionally met".to_string()]
        );
    }

    #[test]
    fn the_same_lead_writing_again_confirms_nothing() {
        let p = oxon(true);
        let scores = all(7);
        let none = BTreeSet::new();
        let s = derive(&facts(
            &p,
            &scores,
            (true, false),
            &[LeadRole::LaSend],
            &none,
        ));
        assert!(!s.signoff.verified);
        assert_eq!(s.quality_mark.provisional, Provisional::Incomplete);
    }

    #[test]
    fn a_failed_sender_check_counts_only_what_was_confirmed_later() {
        let p = oxon(true);
        let scores = all(7);
        let none = BTreeSet::new();
        let mut f = facts(&p, &scores, (true, true), &[], &none);
        f.dmarc_failed = true;
        let s = derive(&f);
        assert!(!s.signoff.verified);
        assert!(s.quality_mark.reasons.iter().any(|r| r.contains("DMARC")));
        let confirmed = [LeadRole::Yos];
        f.confirmed = &confirmed;
        assert!(!derive(&f).signoff.verified, "the LA SEND lead is unproven");
        let both = [LeadRole::Yos, LeadRole::LaSend];
        f.confirmed = &both;
        assert!(derive(&f).signoff.verified);
    }

    #[test]
    fn a_case_study_joined_later_moves_the_quality_lead() {
        let p = oxon(true);
        let mut scores = all(7);
        scores.insert(StatementId::S5, Score::new(8).unwrap());
        scores.insert(StatementId::S8, Score::new(9).unwrap());
        let only5: BTreeSet<_> = [StatementId::S5].into();
        let both: BTreeSet<_> = [StatementId::S5, StatementId::S8].into();
        let before = derive(&facts(&p, &scores, (true, true), &[], &only5));
        assert_eq!(before.quality_lead.provisional, Provisional::Incomplete);
        assert_eq!(
            before.quality_lead_problems[0].code,
            ProblemCode::CaseStudyMissing
        );
        let after = derive(&facts(&p, &scores, (true, true), &[], &both));
        assert_eq!(after.quality_lead.provisional, Provisional::Eligible);
        assert!(after.quality_lead_problems.is_empty());
    }

    #[test]
    fn no_partnership_no_signoff_and_no_partnership_problems() {
        let scores = all(7);
        let none = BTreeSet::new();
        let s = derive(&Facts {
            scores: Some(&scores),
            partnership: None,
            automatic: false,
            on_message: (true, true),
            dmarc_failed: false,
            confirmed: &[LeadRole::Yos],
            case_studies: &none,
        });
        assert_eq!(s.signoff, SignOff::default());
        assert!(s.partnership_problems.is_empty());
    }
}
