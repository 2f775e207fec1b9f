//! Every rule at its boundaries.

use super::*;
use crate::domain::statement::Score;
use Provisional::*;
use StatementId::*;

fn scores(values: [u8; 11]) -> Scores {
    StatementId::ALL
        .into_iter()
        .zip(values)
        .map(|(s, v)| (s, Score::new(v).unwrap()))
        .collect()
}

const SIGNED: SignOff = SignOff {
    la_send: true,
    yos: true,
    verified: true,
};

fn input<'a>(s: &'a Scores, cs: &'a BTreeSet<StatementId>, base: Option<&'a Scores>) -> Input<'a> {
    Input {
        scores: Some(s),
        signoff: SIGNED,
        partnership_known: true,
        dmarc_failed: false,
        case_studies: cs,
        baseline: base,
    }
}

fn strong_baseline() -> Scores {
    scores([6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5])
}

#[test]
fn quality_mark_all_six_or_more_with_signoff() {
    let s = scores([6, 7, 6, 7, 10, 6, 6, 6, 6, 6, 6]);
    let cs = BTreeSet::new();
    let v = quality_mark(&input(&s, &cs, None));
    assert_eq!(v.provisional, Eligible);
    assert!(v.reasons.is_empty());
    assert!(v.criteria.iter().all(|c| c.status == Status::Met), "{v:?}");
    assert_eq!(v.criteria.len(), 2);
}

#[test]
fn quality_mark_a_five_is_not_eligible_and_a_zero_incomplete() {
    let cs = BTreeSet::new();
    let five = scores([6, 7, 6, 7, 5, 6, 6, 6, 6, 6, 6]);
    let v = quality_mark(&input(&five, &cs, None));
    assert_eq!(v.provisional, NotEligible);
    assert!(
        v.reasons[0].contains("Statement 4b is scored below 6 (4b: 5)"),
        "{v:?}"
    );

    let one = scores([1, 7, 6, 7, 6, 6, 6, 6, 6, 6, 6]);
    assert_eq!(
        quality_mark(&input(&one, &cs, None)).provisional,
        NotEligible
    );

    let zero = scores([6, 7, 6, 7, 0, 6, 6, 6, 6, 6, 6]);
    let v = quality_mark(&input(&zero, &cs, None));
    assert_eq!(v.provisional, Incomplete);
    assert!(v.reasons[0].contains("4b is scored 0"));

    // A 5 and a 0: not eligible wins, and the 0 is still listed.
    let both = scores([5, 7, 6, 7, 0, 6, 6, 6, 6, 6, 6]);
    let v = quality_mark(&input(&both, &cs, None));
    assert_eq!(v.provisional, NotEligible);
    assert_eq!(v.reasons.len(), 2);
}

#[test]
fn quality_mark_missing_statement_or_signoff_is_incomplete() {
    let cs = BTreeSet::new();
    let mut s = scores([6; 11]);
    s.remove(&S9);
    let v = quality_mark(&input(&s, &cs, None));
    assert_eq!(v.provisional, Incomplete);
    assert!(v.reasons[0].starts_with("Statement 9 could not be read"));

    let s = scores([6; 11]);
    let mut i = input(&s, &cs, None);
    i.signoff = SignOff {
        la_send: true,
        yos: false,
        verified: false,
    };
    let v = quality_mark(&i);
    assert_eq!(v.provisional, Incomplete);
    assert_eq!(
        v.reasons,
        vec!["Joint sign-off is missing: the YOS lead should send the email or be copied in."]
    );

    i.signoff = SignOff {
        la_send: true,
        yos: true,
        verified: false,
    };
    i.dmarc_failed = true;
    let v = quality_mark(&i);
    assert_eq!(v.provisional, Incomplete);
    assert!(v.reasons[0].contains("DMARC"));
}

#[test]
fn no_grid_is_incomplete_for_both() {
    let cs = BTreeSet::new();
    let i = Input {
        scores: None,
        signoff: SIGNED,
        partnership_known: true,
        dmarc_failed: false,
        case_studies: &cs,
        baseline: None,
    };
    assert_eq!(quality_mark(&i).provisional, Incomplete);
    assert_eq!(quality_lead(&i).provisional, Incomplete);
    assert_eq!(quality_lead(&i).reasons.len(), 1);
}

#[test]
fn quality_lead_six_versus_seven() {
    let base = strong_baseline();
    let cs: BTreeSet<_> = [S5, S8].into();
    let ok = scores([7, 7, 7, 7, 7, 8, 7, 7, 8, 7, 7]);
    let v = quality_lead(&input(&ok, &cs, Some(&base)));
    assert_eq!(v.provisional, Eligible);
    assert!(v.reasons.is_empty());
    assert!(v.criteria.iter().all(|c| c.status == Status::Met), "{v:?}");
    assert_eq!(v.criteria.len(), 5);
    let six = scores([7, 7, 7, 7, 6, 8, 7, 7, 8, 7, 7]);
    let v = quality_lead(&input(&six, &cs, Some(&base)));
    assert_eq!(v.provisional, NotEligible);
    assert!(v.reasons[0].contains("4b is scored below 7 (4b: 6)"));
}

#[test]
fn quality_lead_needs_two_eights() {
    let base = strong_baseline();
    let cs: BTreeSet<_> = [S5, S8].into();
    let one = scores([7, 7, 7, 7, 7, 8, 7, 7, 7, 7, 7]);
    let v = quality_lead(&input(&one, &cs, Some(&base)));
    assert_eq!(v.provisional, NotEligible);
    assert!(v.reasons[0].contains("only statement 5 is"));

    // One 8 and one unscored area could still reach two: incomplete, not "not eligible".
    let mut gap = one.clone();
    gap.remove(&S10);
    assert_eq!(
        quality_lead(&input(&gap, &cs, Some(&base))).provisional,
        Incomplete
    );

    // One 8 and a 0: also incomplete.
    let zero = scores([7, 7, 7, 7, 7, 8, 7, 7, 7, 7, 0]);
    assert_eq!(
        quality_lead(&input(&zero, &cs, Some(&base))).provisional,
        Incomplete
    );

    let none = scores([7; 11]);
    let v = quality_lead(&input(&none, &cs, Some(&base)));
    assert!(v.reasons[0].contains("none is"));
}

#[test]
fn quality_lead_each_eight_needs_a_case_study() {
    let base = strong_baseline();
    let s = scores([7, 7, 7, 7, 7, 8, 7, 7, 9, 7, 7]);
    let only5: BTreeSet<_> = [S5].into();
    let v = quality_lead(&input(&s, &only5, Some(&base)));
    assert_eq!(v.provisional, Incomplete);
    assert_eq!(
        v.reasons,
        vec!["Each score of 8 or higher needs a case study: please send one for statement 8."]
    );
}

#[test]
fn quality_lead_baseline_five_versus_six_areas() {
    let cs: BTreeSet<_> = [S5, S8].into();
    let s = scores([7, 7, 7, 7, 7, 8, 7, 7, 8, 7, 7]);
    let six = scores([6, 7, 6, 6, 6, 6, 5, 5, 5, 5, 0]);
    assert_eq!(
        quality_lead(&input(&s, &cs, Some(&six))).provisional,
        Eligible
    );
    let five = scores([6, 7, 6, 6, 6, 5, 5, 5, 5, 5, 0]);
    let v = quality_lead(&input(&s, &cs, Some(&five)));
    assert_eq!(v.provisional, NotEligible);
    assert!(v.reasons[0].contains("5 of the 11 areas"));
}

#[test]
fn quality_lead_without_baseline_is_incomplete() {
    let cs: BTreeSet<_> = [S5, S8].into();
    let s = scores([7, 7, 7, 7, 7, 8, 7, 7, 8, 7, 7]);
    let v = quality_lead(&input(&s, &cs, None));
    assert_eq!(v.provisional, Incomplete);
    assert!(v.reasons[0].contains("no initial benchmarking"));
}

#[test]
fn lists_read_naturally() {
    assert_eq!(list(&[S1]), "1");
    assert_eq!(list(&[S1, S4a]), "1 and 4a");
    assert_eq!(list(&[S1, S4a, S9]), "1, 4a and 9");
}

/// The checklist agrees with the verdict: eligible exactly when every criterion is met; not
/// eligible exactly when one is not met; and each open criterion says what to do.
#[test]
fn criteria_agree_with_the_verdicts() {
    let base = strong_baseline();
    let weak = scores([5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 5]);
    let cases: [(&[u8; 11], &[StatementId], Option<&Scores>); 6] = [
        (&[7, 7, 7, 7, 7, 8, 7, 7, 8, 7, 7], &[S5, S8], Some(&base)),
        (&[7, 7, 7, 7, 7, 8, 7, 7, 8, 7, 7], &[S5], Some(&base)),
        (&[7, 7, 7, 7, 6, 8, 7, 7, 8, 7, 7], &[S5, S8], Some(&base)),
        (&[7, 7, 7, 7, 0, 8, 7, 7, 7, 7, 7], &[S5], Some(&base)),
        (&[7, 7, 7, 7, 7, 8, 7, 7, 8, 7, 7], &[S5, S8], None),
        (&[7, 7, 7, 7, 7, 8, 7, 7, 8, 7, 7], &[S5, S8], Some(&weak)),
    ];
    for (values, linked, baseline) in cases {
        let s = scores(*values);
        let cs: BTreeSet<_> = linked.iter().copied().collect();
        let i = input(&s, &cs, baseline);
        for v in [quality_mark(&i), quality_lead(&i)] {
            let any_not_met = v.criteria.iter().any(|c| c.status == Status::NotMet);
            let all_met = v.criteria.iter().all(|c| c.status == Status::Met);
            assert_eq!(
                v.provisional == NotEligible,
                any_not_met,
                "{values:?} {v:#?}"
            );
            assert_eq!(v.provisional == Eligible, all_met, "{values:?} {v:#?}");
            for c in &v.criteria {
                assert_eq!(c.status == Status::Met, c.action.is_empty(), "{c:?}");
            }
        }
    }
}
