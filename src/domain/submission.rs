//! One received message and what was made of it, as the store keeps it: the facts (the grid
//! read and any correction, who was on it, its evidence, the messages joined to it since),
//! never a verdict worked out from them. Verdicts are derived by [`Record::standing`] with the
//! same [`super::standing::derive`] that `check` uses, so what the reply, the case page, the
//! queue, the digest and the funder report show is always what the facts say now.
//!
//! Only two things freeze a verdict: a purge (the facts are gone, the figures stay) and a
//! record of an earlier round (its roster is no longer loaded). Both keep a labelled
//! [`Snapshot`].

use super::eligibility::{Provisional, Verdict};
use super::evaluation::Classification;
use super::problem::{Problem, ProblemCode};
use super::roster::{Partnership, Roster};
use super::signoff::SignOff;
use super::standing::{self, DERIVED_CODES, Facts, LeadRole, Standing};
use super::statement::{Score, Scores, StatementId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Where a message is in its handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// Stored; evaluation not finished (a crash here is retried, then quarantined).
    Received,
    /// Evaluated and its replies queued; not yet moved out of the intake folder.
    Evaluated,
    /// Moved to the processed folder.
    Done,
    /// Failed repeatedly; moved to the quarantine folder, on the team's attention list.
    Quarantined,
}

/// What a file of a message was taken as, when it is evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A case study linked to statements.
    CaseStudy,
    /// A case study that names no statement.
    CaseStudyUnlinked,
    WitnessTestimony,
}

/// One evidence file and the message it came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFile {
    /// The record of the message that carried it.
    pub record_id: u64,
    /// Its path through containers ("cases.zip/KS8.docx").
    pub path: String,
    pub kind: EvidenceKind,
    #[serde(default)]
    pub statements: Vec<StatementId>,
}

impl EvidenceFile {
    /// The file's own name, without the containers it came in.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// Why a message was joined to a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinKind {
    /// The other lead confirmed the sign-off.
    Confirmation,
    /// Case studies or testimonies sent later.
    Evidence,
    /// An answer to the panel's request for information.
    Answer,
    /// A lead disputes what was read: for the team, confirms nothing.
    Dispute,
    /// Anything else written in the thread (a thank-you, a question): for the team.
    Note,
}

impl JoinKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinKind::Confirmation => "confirmation",
            JoinKind::Evidence => "evidence",
            JoinKind::Answer => "answer",
            JoinKind::Dispute => "dispute",
            JoinKind::Note => "note",
        }
    }
}

/// A later message joined to a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    pub record_id: u64,
    pub at: Timestamp,
    pub from: Option<String>,
    pub kind: JoinKind,
    /// For a confirmation: the confirming lead's role (their roster address, in the thread,
    /// not failed by the trusted header).
    #[serde(default)]
    pub confirms: Option<LeadRole>,
}

/// Verdicts kept when they can no longer be derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub quality_mark: Provisional,
    pub quality_lead: Provisional,
    pub signoff_verified: bool,
    /// Why it is frozen ("personal data purged on 2020-03-01"), shown beside the verdicts.
    pub label: String,
}

/// A correction by the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionNote {
    pub by: String,
    pub at: Timestamp,
    pub reason: String,
}

/// One received message and what was made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: u64,
    pub ledger_key: String,
    pub message_id: Option<String>,
    /// Hex SHA-256 of the raw message.
    pub hash: String,
    pub received_at: Timestamp,
    pub size: u64,
    /// Evaluations started; counted before each, so a message that kills the process is seen.
    pub attempts: u32,
    pub state: RecordState,
    /// The reference quoted to the partnership (YJS-2018-0042), for answered submissions.
    pub reference: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub classification: Option<Classification>,
    pub partnership: Option<String>,
    /// The grid read, or as the team corrected it (see `corrections`).
    pub scores: BTreeMap<String, u8>,
    pub on_time: Option<bool>,
    /// What reading the message found; the problems that follow from the verdicts
    /// ([`DERIVED_CODES`]) are never stored, they are derived.
    pub problems: Vec<Problem>,
    /// Why no reply was sent, when none was (automatic mail, the sender cap, our own address).
    pub no_reply_reason: Option<String>,
    /// This message repeats an earlier one (same Message-ID or same bytes): that record's id.
    pub duplicate_of: Option<u64>,
    /// Which leads were on the message itself (LA SEND, YOS).
    pub signoff_leads: (bool, bool),
    /// Every evidence file that counts for this submission: its own, those of messages joined
    /// to it, and those carried over from an earlier version of the same round.
    #[serde(default)]
    pub evidence: Vec<EvidenceFile>,
    /// Later messages joined to this submission, oldest first.
    #[serde(default)]
    pub joined: Vec<Joined>,
    /// On a message joined to a submission: that submission's record.
    #[serde(default)]
    pub joined_to: Option<u64>,
    /// The version this one replaced (same partnership and round), if any.
    #[serde(default)]
    pub replaces: Option<u64>,
    /// Corrections by the team, newest last.
    #[serde(default)]
    pub corrections: Vec<CorrectionNote>,
    /// The statements the team linked to a case study when it corrected the reading, and the
    /// last record whose evidence it had seen: evidence from later messages still adds.
    #[serde(default)]
    pub team_case_studies: Option<(u64, Vec<StatementId>)>,
    /// The reference prefix of the round in force when it arrived (`YJS-2018`): which roster
    /// its verdicts are derived with, and what retention counts from.
    #[serde(default)]
    pub round: Option<String>,
    /// Its personal data has been purged (retention or erasure): only figures remain.
    #[serde(default)]
    pub purged: bool,
    /// Verdicts frozen when they can no longer be derived (purged, or an earlier round).
    #[serde(default)]
    pub snapshot: Option<Snapshot>,
}

/// What a record is judged against: the live round's roster and its reference prefix.
/// Records of other rounds answer with their snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Judge<'a> {
    pub roster: &'a Roster,
    pub round: &'a str,
}

impl Record {
    /// A newly received message, not yet evaluated.
    pub fn received(
        ledger_key: String,
        hash: String,
        received_at: Timestamp,
        size: u64,
        round: Option<String>,
    ) -> Record {
        Record {
            id: 0,
            ledger_key,
            message_id: None,
            hash,
            received_at,
            size,
            attempts: 0,
            state: RecordState::Received,
            reference: None,
            from: None,
            subject: None,
            classification: None,
            partnership: None,
            scores: BTreeMap::new(),
            on_time: None,
            problems: Vec::new(),
            no_reply_reason: None,
            duplicate_of: None,
            signoff_leads: (false, false),
            evidence: Vec::new(),
            joined: Vec::new(),
            joined_to: None,
            replaces: None,
            corrections: Vec::new(),
            team_case_studies: None,
            round,
            purged: false,
            snapshot: None,
        }
    }

    pub fn is_submission(&self) -> bool {
        self.classification == Some(Classification::Submission)
    }

    pub fn has_problem(&self, code: ProblemCode) -> bool {
        self.problems.iter().any(|p| p.code == code)
    }

    /// The scores as the core's types.
    pub fn typed_scores(&self) -> Scores {
        self.scores
            .iter()
            .filter_map(|(k, v)| Some((StatementId::from_key(k)?, Score::new(*v)?)))
            .collect()
    }

    /// Statements with a case study among the evidence that counts (as the team set them
    /// in a correction, with what came later).
    pub fn case_study_statements(&self) -> BTreeSet<StatementId> {
        // The team's list stands for every file up to the message it was made on; files that
        // came later still count. (Record ids start at 0, so "none seen" is not "seen 0".)
        let (seen, mut out) = match &self.team_case_studies {
            Some((seen, set)) => (Some(*seen), set.iter().copied().collect()),
            None => (None, BTreeSet::new()),
        };
        out.extend(
            self.evidence
                .iter()
                .filter(|e| {
                    e.kind == EvidenceKind::CaseStudy && seen.is_none_or(|s| e.record_id > s)
                })
                .flat_map(|e| e.statements.iter().copied()),
        );
        out
    }

    /// The leads' confirmations joined to it.
    pub fn confirmations(&self) -> Vec<LeadRole> {
        self.joined.iter().filter_map(|j| j.confirms).collect()
    }

    /// Who confirmed the sign-off later, if anyone did.
    pub fn confirmed_by(&self) -> Option<&str> {
        self.joined
            .iter()
            .find(|j| j.confirms.is_some())
            .and_then(|j| j.from.as_deref())
    }

    /// Where it stands now: derived from its facts against the live round's roster, or its
    /// snapshot when it is purged, frozen, or of another round.
    pub fn standing(&self, judge: Judge) -> Standing {
        let live = self.snapshot.is_none()
            && !self.purged
            && self.round.as_deref().is_none_or(|r| r == judge.round);
        if !live && let Some(s) = &self.snapshot {
            return frozen(s);
        }
        self.derive(judge.roster.get(self.partnership.as_deref().unwrap_or("")))
    }

    /// The verdicts from the facts, with `partnership` as the roster has it.
    pub fn derive(&self, partnership: Option<&Partnership>) -> Standing {
        let scores = self.typed_scores();
        let studies = self.case_study_statements();
        let confirmed = self.confirmations();
        let grid = self.is_submission() || !self.scores.is_empty();
        standing::derive(&Facts {
            scores: grid.then_some(&scores),
            partnership,
            automatic: self.classification == Some(Classification::Automatic),
            on_message: self.signoff_leads,
            dmarc_failed: self.has_problem(ProblemCode::SenderAuthenticationFailed),
            confirmed: &confirmed,
            case_studies: &studies,
        })
    }

    /// Every problem: what reading found, then what the standing derives.
    pub fn all_problems(&self, standing: &Standing) -> Vec<Problem> {
        self.problems
            .iter()
            .filter(|p| !DERIVED_CODES.contains(&p.code))
            .chain(standing.derived_problems())
            .cloned()
            .collect()
    }

    /// Freezes the verdicts as they stand, with why.
    pub fn freeze(&mut self, standing: &Standing, label: impl Into<String>) {
        self.snapshot = Some(Snapshot {
            quality_mark: standing.quality_mark.provisional,
            quality_lead: standing.quality_lead.provisional,
            signoff_verified: standing.signoff.verified,
            label: label.into(),
        });
    }
}

/// A snapshot as a standing: the verdicts without their reasons (the facts are gone).
fn frozen(s: &Snapshot) -> Standing {
    let verdict = |p: Provisional| Verdict {
        provisional: p,
        reasons: if p == Provisional::Eligible {
            Vec::new()
        } else {
            vec![s.label.clone()]
        },
        criteria: Vec::new(),
    };
    Standing {
        signoff: SignOff {
            la_send: s.signoff_verified,
            yos: s.signoff_verified,
            verified: s.signoff_verified,
        },
        quality_mark: verdict(s.quality_mark),
        quality_lead: verdict(s.quality_lead),
        partnership_problems: Vec::new(),
        quality_lead_problems: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster() -> Roster {
        Roster {
            partnerships: vec![Partnership {
                id: "oxfordshire".into(),
                name: "Oxfordshire".into(),
                region: None,
                domains: vec!["oxfordshire.example".into()],
                la_send_leads: vec!["send.lead@oxfordshire.example".into()],
                yos_leads: vec!["yjs.manager@oxfordshire.example".into()],
                baseline: Some(
                    StatementId::ALL
                        .into_iter()
                        .map(|s| (s, Score::new(6).unwrap()))
                        .collect(),
                ),
                awards: vec![],
            }],
        }
    }

    fn submission() -> Record {
        let mut r = Record::received(
            "k".into(),
            "h".into(),
            "2018-02-20T14:00:00Z".parse().unwrap(),
            10,
            Some("YJS-2018".into()),
        );
        r.classification = Some(Classification::Submission);
        r.partnership = Some("oxfordshire".into());
        r.scores = StatementId::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), 7))
            .collect();
        r.signoff_leads = (true, false);
        r.problems = vec![Problem::new(ProblemCode::SignoffMissing, "stale")];
        r
    }

    #[test]
    fn a_joined_confirmation_is_what_the_verdict_follows() {
        let roster = roster();
        let judge = Judge {
            roster: &roster,
            round: "YJS-2018",
        };
        let mut r = submission();
        let before = r.standing(judge);
        assert_eq!(before.quality_mark.provisional, Provisional::Incomplete);
        r.joined.push(Joined {
            record_id: 9,
            at: "2018-02-21T09:00:00Z".parse().unwrap(),
            from: Some("yjs.manager@oxfordshire.example".into()),
            kind: JoinKind::Confirmation,
            confirms: Some(LeadRole::Yos),
        });
        let after = r.standing(judge);
        assert_eq!(after.quality_mark.provisional, Provisional::Eligible);
        assert!(
            r.all_problems(&after).is_empty(),
            "the stored signoff_missing is not shown once derived away"
        );
        assert_eq!(r.confirmed_by(), Some("yjs.manager@oxfordshire.example"));
    }

    #[test]
    fn the_first_records_own_case_study_counts_and_the_teams_list_stands_for_earlier_files() {
        let study = |record_id, statement| EvidenceFile {
            record_id,
            path: format!("case study {statement}.docx"),
            kind: EvidenceKind::CaseStudy,
            statements: vec![statement],
        };
        let mut r = submission();
        // The store's first record has id 0: its own files count like any other.
        r.id = 0;
        r.evidence = vec![study(0, StatementId::S5)];
        assert_eq!(r.case_study_statements(), [StatementId::S5].into());
        // The team's corrected list replaces what came before it, not what came after.
        r.team_case_studies = Some((0, vec![StatementId::S8]));
        r.evidence.push(study(3, StatementId::S9));
        assert_eq!(
            r.case_study_statements(),
            [StatementId::S8, StatementId::S9].into()
        );
    }

    #[test]
    fn another_rounds_record_answers_with_its_snapshot() {
        let roster = roster();
        let mut r = submission();
        let s = r.derive(roster.get("oxfordshire"));
        r.freeze(&s, "decided in the 2018 round");
        r.snapshot = None;
        let live = r.standing(Judge {
            roster: &roster,
            round: "YJS-2019",
        });
        assert_eq!(live.quality_mark.provisional, Provisional::Incomplete);
        r.freeze(&s, "from the 2018 round");
        r.scores.clear();
        let frozen = r.standing(Judge {
            roster: &roster,
            round: "YJS-2019",
        });
        assert_eq!(frozen.quality_mark.provisional, Provisional::Incomplete);
        assert_eq!(frozen.quality_mark.reasons, vec!["from the 2018 round"]);
    }

    #[test]
    fn times_and_enums_are_stored_as_words() {
        let r = submission();
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            json.contains("\"received_at\":\"2018-02-20T14:00:00Z\""),
            "{json}"
        );
        assert!(json.contains("\"classification\":\"submission\""), "{json}");
        assert!(json.contains("\"code\":\"signoff_missing\""), "{json}");
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
