//! Whether a message gets an automatic reply: the loop guards, in one place.
//!
//! Never to automatic mail, never to our own address, never past the per-sender cap (so a loop
//! with a misconfigured responder dies out), never to an unknown sender the trusted server
//! failed, and never to a grid-less message in one of our threads (a thank-you, a question,
//! "you misread 4a": that goes to the team instead).

use crate::domain::evaluation::{Classification, Evaluation};
use crate::domain::problem::ProblemCode;

/// The facts the decision needs besides the evaluation.
#[derive(Debug, Clone, Copy)]
pub struct PolicyInput {
    /// The message answers one of ours (In-Reply-To or References names our Message-ID).
    pub in_our_thread: bool,
    /// Replies already sent to this sender within the window.
    pub recent_replies: usize,
    pub max_per_sender: usize,
    pub is_own_address: bool,
}

/// `Ok(())` to reply, or the reason not to.
pub fn decide(e: &Evaluation, input: PolicyInput) -> Result<(), String> {
    if e.classification == Classification::Automatic {
        return Err(format!(
            "automatic mail ({})",
            e.automatic_reason.as_deref().unwrap_or("automatic")
        ));
    }
    if e.from.is_none() {
        return Err("no sender address".into());
    }
    if input.is_own_address {
        return Err("sent from our own address".into());
    }
    if e.partnership.is_none() && e.has_problem(ProblemCode::SenderAuthenticationFailed) {
        return Err("unknown sender failed DMARC at our server".into());
    }
    if input.in_our_thread && e.classification == Classification::NoGrid {
        return Err("a message without a grid in one of our threads: for the team".into());
    }
    if input.recent_replies >= input.max_per_sender {
        return Err(format!(
            "sender reached the cap of {} replies in the window",
            input.max_per_sender
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::eligibility::{Provisional, Verdict};
    use crate::domain::evaluation::{DeadlineStatus, Envelope, PartnershipRef};
    use crate::domain::problem::Problem;

    fn eval(classification: Classification) -> Evaluation {
        let v = Verdict {
            provisional: Provisional::Incomplete,
            reasons: vec!["x".into()],
            criteria: vec![],
        };
        Evaluation {
            message_id: Some("<a@b>".into()),
            subject: None,
            from: Some("send.lead@oxfordshire.example".into()),
            envelope: Envelope::default(),
            received_at: None,
            classification,
            automatic_reason: None,
            partnership: Some(PartnershipRef {
                id: "oxfordshire".into(),
                name: "Oxfordshire".into(),
            }),
            grid: None,
            case_studies: Default::default(),
            case_studies_unlinked: vec![],
            witness_testimonies: vec![],
            evidence: vec![],
            signoff: Default::default(),
            deadline: DeadlineStatus {
                at: jiff::Timestamp::UNIX_EPOCH,
                on_time: None,
            },
            quality_mark: v.clone(),
            quality_lead: v,
            problems: vec![],
            note: String::new(),
        }
    }

    const OPEN: PolicyInput = PolicyInput {
        in_our_thread: false,
        recent_replies: 0,
        max_per_sender: 10,
        is_own_address: false,
    };

    #[test]
    fn answers_people() {
        assert_eq!(decide(&eval(Classification::Submission), OPEN), Ok(()));
        assert_eq!(decide(&eval(Classification::NoGrid), OPEN), Ok(()));
    }

    #[test]
    fn never_answers_automatic_mail_or_ourselves() {
        assert!(decide(&eval(Classification::Automatic), OPEN).is_err());
        let own = PolicyInput {
            is_own_address: true,
            ..OPEN
        };
        assert!(decide(&eval(Classification::Submission), own).is_err());
    }

    #[test]
    fn the_cap_stops_a_loop() {
        let at_cap = PolicyInput {
            recent_replies: 10,
            ..OPEN
        };
        assert!(decide(&eval(Classification::Submission), at_cap).is_err());
        let below = PolicyInput {
            recent_replies: 9,
            ..OPEN
        };
        assert!(decide(&eval(Classification::Submission), below).is_ok());
    }

    #[test]
    fn gridless_answers_in_our_threads_go_to_the_team() {
        let thread = PolicyInput {
            in_our_thread: true,
            ..OPEN
        };
        assert!(decide(&eval(Classification::NoGrid), thread).is_err());
        assert!(decide(&eval(Classification::Submission), thread).is_ok());
    }

    #[test]
    fn unknown_senders_failing_dmarc_get_nothing() {
        let mut e = eval(Classification::NoGrid);
        e.partnership = None;
        e.problems
            .push(Problem::new(ProblemCode::SenderAuthenticationFailed, "x"));
        assert!(decide(&e, OPEN).is_err());
    }
}
