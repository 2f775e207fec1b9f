//! A case: one partnership's submission on its way through the panel. It opens with the
//! partnership's submission, takes its resubmissions while it is open, is pulled (claimed) by
//! one member at a time, may wait for more information or a visit, and ends with a decision
//! whose outcome email is drafted and sent when the team releases it. Decisions are appended,
//! never overwritten.

use super::members::{Member, Role};
use serde::{Deserialize, Serialize};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// In the queue for a member to pull.
    Ready,
    /// Pulled by a member (see `claim`).
    Claimed,
    /// More information was asked for; the partnership's answer brings it back.
    WaitingForInfo,
    /// A visit or call is to verify a Quality Lead.
    Visit,
    /// Decided: the outcome is drafted (and sent once released).
    Decided,
}

/// A panel outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    QualityMark,
    QualityLead,
    NotYet,
    RequestInfo,
    Visit,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::QualityMark => "quality_mark",
            Outcome::QualityLead => "quality_lead",
            Outcome::NotYet => "not_yet",
            Outcome::RequestInfo => "request_info",
            Outcome::Visit => "visit",
        }
    }

    /// Whether it closes the case (and drafts an outcome email).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Outcome::QualityMark | Outcome::QualityLead | Outcome::NotYet
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Commendation {
    ChildFirst,
}

/// One decision, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: String,
    pub at: i64,
    pub outcome: Outcome,
    pub commendation: Option<Commendation>,
    /// Feedback for `not_yet`, what is needed for `request_info`, notes otherwise.
    pub feedback: String,
    /// The partnership already held a Quality Lead: this is its redesignation.
    pub redesignation: bool,
}

/// Who holds a case, since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub member: String,
    pub at: i64,
}

/// A case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// The reference of the submission that opened it (YJS-2018-0042).
    pub reference: String,
    pub partnership: String,
    /// The submissions' references, oldest first; the last is current.
    pub submissions: Vec<String>,
    pub state: CaseState,
    pub claim: Option<Claim>,
    pub decisions: Vec<Decision>,
    /// Messages that answered a request for information (their references or Message-IDs).
    pub answers: Vec<String>,
    pub opened_at: i64,
    /// When it last entered the queue (pulls take the oldest first).
    pub queued_at: i64,
    pub updated_at: i64,
}

/// Why an action on a case was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("this case is claimed by {0}")]
    ClaimedByOther(String),
    #[error("pull the case before deciding it")]
    NotClaimed,
    #[error("this case has been decided")]
    Decided,
    #[error("you have a conflict of interest with this partnership")]
    Conflict,
    #[error("{0}")]
    Invalid(String),
}

impl Case {
    /// A new case for a submission.
    pub fn open(reference: &str, partnership: &str, now: i64) -> Case {
        Case {
            reference: reference.to_string(),
            partnership: partnership.to_string(),
            submissions: vec![reference.to_string()],
            state: CaseState::Ready,
            claim: None,
            decisions: Vec::new(),
            answers: Vec::new(),
            opened_at: now,
            queued_at: now,
            updated_at: now,
        }
    }

    /// The current submission's reference.
    pub fn current(&self) -> &str {
        self.submissions.last().map_or(&self.reference, |s| s)
    }

    pub fn is_open(&self) -> bool {
        self.state != CaseState::Decided
    }

    /// A claim older than `claim_seconds` lapses: the case returns to the queue.
    pub fn claim_lapsed(&self, now: i64, claim_seconds: i64) -> bool {
        self.state == CaseState::Claimed
            && self
                .claim
                .as_ref()
                .is_some_and(|c| now - c.at >= claim_seconds)
    }

    /// In the queue: ready, or claimed and left untouched too long.
    pub fn is_ready(&self, now: i64, claim_seconds: i64) -> bool {
        self.state == CaseState::Ready || self.claim_lapsed(now, claim_seconds)
    }

    /// A resubmission joins the open case; the claimant (if any) keeps it.
    pub fn add_submission(&mut self, reference: &str, now: i64) {
        if !self.submissions.iter().any(|s| s == reference) {
            self.submissions.push(reference.to_string());
        }
        if self.state == CaseState::WaitingForInfo {
            self.back_from_waiting(now);
        }
        self.updated_at = now;
    }

    /// The partnership answered a request for information.
    pub fn add_answer(&mut self, message: &str, now: i64) {
        self.answers.push(message.to_string());
        if self.state == CaseState::WaitingForInfo {
            self.back_from_waiting(now);
        }
        self.updated_at = now;
    }

    fn back_from_waiting(&mut self, now: i64) {
        match &mut self.claim {
            // The claimant keeps it, with a fresh claim time.
            Some(c) => {
                c.at = now;
                self.state = CaseState::Claimed;
            }
            None => {
                self.state = CaseState::Ready;
                self.queued_at = now;
            }
        }
    }

    /// Claims the case for `member`.
    pub fn claim_for(&mut self, member: &str, now: i64) {
        self.claim = Some(Claim {
            member: member.to_string(),
            at: now,
        });
        self.state = CaseState::Claimed;
        self.updated_at = now;
    }

    /// Records a decision. The claimant or a team member may decide; a final outcome closes
    /// the case. `redesignation`: the partnership already holds a Quality Lead.
    #[allow(clippy::too_many_arguments)]
    pub fn decide(
        &mut self,
        member: &Member,
        conflicted: bool,
        outcome: Outcome,
        commendation: Option<Commendation>,
        feedback: &str,
        redesignation: bool,
        now: i64,
        claim_seconds: i64,
    ) -> Result<&Decision, CaseError> {
        if !self.is_open() {
            return Err(CaseError::Decided);
        }
        if conflicted {
            return Err(CaseError::Conflict);
        }
        let claimant = self
            .claim
            .as_ref()
            .filter(|_| !self.claim_lapsed(now, claim_seconds))
            .map(|c| c.member.clone());
        match (&claimant, member.role) {
            (Some(c), _) if *c == member.name => {}
            (_, Role::Team) => {}
            (Some(c), Role::Panel) => return Err(CaseError::ClaimedByOther(c.clone())),
            (None, Role::Panel) => return Err(CaseError::NotClaimed),
        }
        if matches!(outcome, Outcome::NotYet | Outcome::RequestInfo) && feedback.trim().is_empty() {
            return Err(CaseError::Invalid(format!(
                "{} needs feedback: say what the partnership should do",
                outcome.as_str()
            )));
        }
        if commendation.is_some() && !matches!(outcome, Outcome::QualityMark | Outcome::QualityLead)
        {
            return Err(CaseError::Invalid(
                "a commendation goes with an award".into(),
            ));
        }
        self.state = match outcome {
            Outcome::RequestInfo => CaseState::WaitingForInfo,
            Outcome::Visit => CaseState::Visit,
            _ => CaseState::Decided,
        };
        if self.claim.is_none() {
            self.claim = Some(Claim {
                member: member.name.clone(),
                at: now,
            });
        }
        self.updated_at = now;
        self.decisions.push(Decision {
            by: member.name.clone(),
            at: now,
            outcome,
            commendation,
            feedback: feedback.trim().to_string(),
            redesignation: redesignation && outcome == Outcome::QualityLead,
        });
        Ok(self.decisions.last().expect("just pushed"))
    }
}

/// Picks the case a member pulls: the one longest in the queue that the member has no
/// conflict with. `conflicted` says whether the member must not review a case.
pub fn pick(
    cases: &[Case],
    now: i64,
    claim_seconds: i64,
    mut conflicted: impl FnMut(&Case) -> bool,
) -> Option<&Case> {
    cases
        .iter()
        .filter(|c| c.is_ready(now, claim_seconds) && !conflicted(c))
        .min_by_key(|c| (c.queued_at, c.reference.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, role: Role) -> Member {
        Member {
            name: name.into(),
            role,
            token_sha256: [0; 32],
            conflicts: vec![],
        }
    }

    const CLAIM: i64 = 3600;

    #[test]
    fn pulls_take_the_oldest_ready_case_and_skip_conflicts() {
        let a = Case::open("YJS-1", "oxfordshire", 10);
        let b = Case::open("YJS-2", "swindon", 5);
        let mut c = Case::open("YJS-3", "leeds", 1);
        c.claim_for("someone", 2);
        let cases = vec![a, b, c];
        let picked = pick(&cases, 100, CLAIM, |_| false).unwrap();
        assert_eq!(picked.reference, "YJS-2");
        let picked = pick(&cases, 100, CLAIM, |c| c.partnership == "swindon").unwrap();
        assert_eq!(picked.reference, "YJS-1");
        // A claim left too long returns to the queue.
        let picked = pick(&cases, 2 + CLAIM, CLAIM, |_| false).unwrap();
        assert_eq!(picked.reference, "YJS-3");
    }

    #[test]
    fn only_the_claimant_or_the_team_decides_and_decisions_accumulate() {
        let mut case = Case::open("YJS-1", "oxfordshire", 0);
        let alice = member("Alice", Role::Panel);
        let bob = member("Bob", Role::Panel);
        let team = member("Team", Role::Team);
        assert_eq!(
            case.decide(
                &alice,
                false,
                Outcome::QualityMark,
                None,
                "",
                false,
                1,
                CLAIM
            )
            .unwrap_err(),
            CaseError::NotClaimed
        );
        case.claim_for("Alice", 1);
        assert_eq!(
            case.decide(&bob, false, Outcome::QualityMark, None, "", false, 2, CLAIM)
                .unwrap_err(),
            CaseError::ClaimedByOther("Alice".into())
        );
        assert_eq!(
            case.decide(
                &alice,
                true,
                Outcome::QualityMark,
                None,
                "",
                false,
                2,
                CLAIM
            )
            .unwrap_err(),
            CaseError::Conflict
        );
        assert!(matches!(
            case.decide(&alice, false, Outcome::NotYet, None, " ", false, 2, CLAIM),
            Err(CaseError::Invalid(_))
        ));
        case.decide(
            &alice,
            false,
            Outcome::RequestInfo,
            None,
            "Send the case study for 8",
            false,
            3,
            CLAIM,
        )
        .unwrap();
        assert_eq!(case.state, CaseState::WaitingForInfo);
        case.add_answer("<answer@oxfordshire.example>", 4);
        assert_eq!(case.state, CaseState::Claimed);
        assert_eq!(case.claim.as_ref().unwrap().member, "Alice");
        case.decide(
            &team,
            false,
            Outcome::QualityLead,
            Some(Commendation::ChildFirst),
            "",
            true,
            5,
            CLAIM,
        )
        .unwrap();
        assert_eq!(case.state, CaseState::Decided);
        assert_eq!(case.decisions.len(), 2);
        assert!(case.decisions[1].redesignation);
        assert_eq!(
            case.decide(&alice, false, Outcome::NotYet, None, "x", false, 6, CLAIM)
                .unwrap_err(),
            CaseError::Decided
        );
    }

    #[test]
    fn a_resubmission_joins_the_open_case_and_the_claimant_keeps_it() {
        let mut case = Case::open("YJS-1", "oxfordshire", 0);
        case.claim_for("Alice", 1);
        case.add_submission("YJS-7", 50);
        assert_eq!(case.current(), "YJS-7");
        assert_eq!(case.state, CaseState::Claimed);
        assert_eq!(case.claim.unwrap().member, "Alice");
    }
}
