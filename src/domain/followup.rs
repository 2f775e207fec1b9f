//! What a later message in a submission's thread says: a lead confirming the joint sign-off,
//! a lead disputing what was read, or neither. A dispute must never count as a confirmation
//! ("I do not agree these scores" contains "agree"), so disputes are looked for first and win.

use regex::Regex;
use std::sync::LazyLock;

/// What a follow-up says about the submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// "I confirm the YOS sign-off", "Agreed", "Happy to sign this off".
    Confirms,
    /// "I do not agree these scores", "you misread 4a", "this is wrong".
    Disputes,
    /// A thank-you, a question, anything else.
    Neither,
}

static DISPUTES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)
        \b(?:do\s*n[o']?t|don't|does\s*n[o']?t|doesn't|can\s*not|cannot|can't|won't|will\s+not|am\s+not|are\s+not|is\s+not|not)\s+
          (?:\w+\s+){0,2}(?:agree|confirm|sign|endorse|approve|happy|support|accept|correct|right)
        | \bdisagree | \bdispute | \bmis-?read | \bincorrect | \bwrong\b | \berror\b | \bmistake
        | \bobject | \bwithdraw | \bchallenge | \bnot\s+yet\s+(?:agreed|signed)
    ",
    )
    .expect("valid regex")
});

/// An apology for the writer's own slip ("sorry, my mistake earlier") is not a dispute of
/// the scores: it is taken out before the dispute words are looked for.
static APOLOGY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:my|our)\s+(?:own\s+)?(?:mistake|error)s?\b").expect("valid regex")
});

static CONFIRMS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)
        \bconfirm | \bagree | \bsign(?:ed|ing)?[\s-]*(?:it\s+|this\s+|these\s+)?off\b | \bsign-off\b
        | \bendorse | \bapprove | \bhappy\s+(?:with|to\s+(?:sign|confirm|support|endorse|agree)) | \bsupport\s+(?:this|the)
        | \bcountersign | \bjointly | \bon\s+behalf\s+of\s+the\s+(?:yos|yjs|youth)
        | \bsatisfied\b | \baccept
    ",
    )
    .expect("valid regex")
});

/// What `note` (the sender's own words, quotes removed) says.
pub fn intent(note: &str) -> Intent {
    // Only the first lines matter: a signature block can carry anything ("Confirmation of
    // attendance", legal disclaimers).
    let head: String = note
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join(" ");
    let head = APOLOGY.replace_all(&head, " ");
    if DISPUTES.is_match(&head) {
        Intent::Disputes
    } else if CONFIRMS.is_match(&head) {
        Intent::Confirms
    } else {
        Intent::Neither
    }
}

/// The first reference of the round (`YJS-2018-0042`) named in a subject, if any.
pub fn reference_in(subject: &str, prefix: &str) -> Option<String> {
    let upper = subject.to_ascii_uppercase();
    let want = format!("{}-", prefix.to_ascii_uppercase());
    let mut from = 0;
    while let Some(at) = upper[from..].find(&want) {
        let start = from + at;
        let digits: String = upper[start + want.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let before_ok = start == 0 || !upper.as_bytes()[start - 1].is_ascii_alphanumeric();
        if before_ok && (4..=6).contains(&digits.len()) {
            return Some(format!("{prefix}-{digits}"));
        }
        from = start + want.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmations_as_leads_write_them() {
        for text in [
            "I confirm the YOS sign-off.",
            "Confirmed - happy with these scores.\n\nDavid",
            "I agree with the scores submitted by Jane.",
            "Agreed.",
            "Happy to sign this off on behalf of the YOS.",
            "I can confirm that the Youth Justice Service has signed off the grid.",
            "Signed off. Thanks",
            "I endorse this submission.",
            "Please take this email as the YOS sign off",
            "Sorry, my mistake earlier: I confirm the YOS sign-off.",
            "Apologies, our error - we agree the scores.",
        ] {
            assert_eq!(intent(text), Intent::Confirms, "{text}");
        }
    }

    #[test]
    fn disputes_win_over_the_words_they_contain() {
        for text in [
            "I do not agree these scores.",
            "I don't agree with 4a, it should be 6.",
            "We cannot confirm this yet.",
            "You misread 4a.",
            "The score for 8 is wrong.",
            "I disagree with the grid Jane sent.",
            "Not happy to sign this off until we have met.",
            "I am not able to confirm this grid",
            "Sorry, my mistake: I do not agree these scores.",
            "There is a mistake in 4a.",
        ] {
            assert_eq!(intent(text), Intent::Disputes, "{text}");
        }
    }

    #[test]
    fn thanks_and_questions_are_neither() {
        for text in [
            "Thank you!",
            "When will the panel meet?",
            "Please find attached the case study for statement 8.",
            "",
        ] {
            assert_eq!(intent(text), Intent::Neither, "{text}");
        }
    }

    #[test]
    fn a_signature_far_below_does_not_confirm() {
        let text = "Thanks\n\nDavid\nYOS Manager\nTel 01234\nOffice\nAddress 1\nTown\nCounty\nThis email is confirmed free of viruses.";
        assert_eq!(intent(text), Intent::Neither);
    }

    #[test]
    fn references_are_found_in_subjects() {
        assert_eq!(
            reference_in("Re: Grid [YJS-2018-0001]", "YJS-2018").as_deref(),
            Some("YJS-2018-0001")
        );
        assert_eq!(
            reference_in("case study for yjs-2018-0042 attached", "YJS-2018").as_deref(),
            Some("YJS-2018-0042")
        );
        assert_eq!(reference_in("Re: Grid [YJS-2017-0001]", "YJS-2018"), None);
        assert_eq!(reference_in("XYJS-2018-0001", "YJS-2018"), None);
        assert_eq!(reference_in("YJS-2018-01", "YJS-2018"), None);
    }
}
