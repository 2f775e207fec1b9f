//! The panel's operations on the store: the queue, pulling, a case with its history and files,
//! deciding, releasing outcomes; and the two ways mail reaches a case (a new submission, an
//! answer to a request for information). The HTTP adapter authenticates and calls these; every
//! change to cases happens under the store's case lock, so two members pulling at the same
//! moment never get the same case, and every read of a case or a file is audited.

use super::Ctx;
use crate::adapters::store::{AuditEntry, NewOutgoing, Record, StoreError};
use crate::compose::outcome::{self, OutcomeView};
use crate::domain::eligibility::Provisional;
use crate::domain::panel::case::{self, Case, CaseError, CaseState, Commendation, Outcome};
use crate::domain::panel::members::{Member, Role};
use crate::domain::roster::AwardKind;

use serde::{Deserialize, Serialize};
use tracing::{info, warn};

mod correct;
pub use correct::{Correction, correct, judge, reevaluate, scores_of};

/// Why a panel operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PanelError {
    #[error("no case {0}")]
    NotFound(String),
    #[error("only the project team may do that")]
    TeamOnly,
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A case in the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub reference: String,
    /// The current submission (the case's latest).
    pub current: String,
    pub partnership: String,
    pub name: String,
    pub region: Option<String>,
    pub state: CaseState,
    pub claimed_by: Option<String>,
    pub quality_mark: Option<String>,
    pub quality_lead: Option<String>,
    pub signoff_verified: bool,
    pub on_time: Option<bool>,
    /// The provisional check found something missing (flagged, still in the queue).
    pub incomplete: bool,
    pub received_at: String,
    /// Days since the case entered the queue.
    pub age_days: i64,
    pub submissions: usize,
}

/// One submission of a case, for its history.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionView {
    pub reference: String,
    pub received_at: String,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub scores: std::collections::BTreeMap<String, u8>,
    pub quality_mark: Option<String>,
    pub quality_lead: Option<String>,
    pub signoff_verified: bool,
    pub on_time: Option<bool>,
    pub problems: Vec<(String, String)>,
}

/// Everything about a case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub case: Case,
    pub name: String,
    pub region: Option<String>,
    pub baseline: std::collections::BTreeMap<String, u8>,
    /// Awards held, as the roster records them ("quality_lead 2018-07-01, child first").
    pub awards_held: Vec<String>,
    /// The partnership holds a Quality Lead: a Quality Lead now is a redesignation.
    pub redesignation: bool,
    /// Newest first.
    pub submissions: Vec<SubmissionView>,
    /// What `files/{name}` serves for the current submission.
    pub files: Vec<String>,
    pub audit: Vec<AuditEntry>,
}

/// A decision as the API receives it.
#[derive(Debug, Clone, Deserialize)]
pub struct DecisionRequest {
    pub outcome: Outcome,
    #[serde(default)]
    pub commendation: Option<Commendation>,
    #[serde(default)]
    pub feedback: String,
}

fn audit(ctx: &Ctx, who: &str, action: &str, case: Option<&str>, detail: String) {
    let entry = AuditEntry {
        at: jiff::Timestamp::now().as_second(),
        who: who.to_string(),
        action: action.to_string(),
        case: case.map(str::to_string),
        detail,
    };
    if let Err(e) = ctx.store.audit(&entry) {
        warn!(error = %e, "The audit trail could not be written.");
    }
}

fn record_by_reference(ctx: &Ctx, reference: &str) -> Result<Option<Record>, StoreError> {
    ctx.store.record_by_reference(reference)
}

/// A time as the API shows it: RFC 3339 in UTC, whole seconds.
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Whether two references belong to one round (`YJS-2018-0001`, `YJS-2018-0042`).
pub fn same_round(a: &str, b: &str) -> bool {
    a.rsplit_once('-').map(|x| x.0) == b.rsplit_once('-').map(|x| x.0)
}

fn conflicted(ctx: &Ctx, member: &Member, case: &Case) -> bool {
    let roster = ctx.roster.load();
    let region = roster
        .get(&case.partnership)
        .and_then(|p| p.region.as_deref());
    member.conflicted(&case.partnership, region)
}

fn conflicts_key(member: &str) -> String {
    format!("conflicts:{member}")
}

/// Conflicts a member declared through the API.
pub fn declared_conflicts(
    ctx: &Ctx,
    member: &str,
) -> Result<Vec<crate::domain::panel::members::Conflict>, StoreError> {
    Ok(ctx
        .store
        .meta_get(&conflicts_key(member))?
        .and_then(|v| serde_json::from_str::<Vec<String>>(&v).ok())
        .unwrap_or_default()
        .iter()
        .map(|c| crate::domain::panel::members::Conflict::parse(c))
        .collect())
}

/// Adds declared conflicts (audited); returns the member's declared list.
pub fn declare_conflicts(
    ctx: &Ctx,
    member: &str,
    add: &[String],
) -> Result<Vec<String>, PanelError> {
    let mut list: Vec<String> = declared_conflicts(ctx, member)?
        .iter()
        .map(|c| c.as_string())
        .collect();
    for a in add {
        let c = crate::domain::panel::members::Conflict::parse(a).as_string();
        if c.is_empty() || c == "region:" {
            return Err(
                CaseError::Invalid(format!("{a:?} is not a partnership or region:NAME")).into(),
            );
        }
        if !list.contains(&c) {
            list.push(c);
        }
    }
    ctx.store.meta_set(
        &conflicts_key(member),
        &serde_json::to_string(&list).unwrap_or_default(),
    )?;
    audit(ctx, member, "declare_conflict", None, add.join(", "));
    Ok(list)
}

/// A new submission from a known partnership: joins its open case, or opens a new one.
pub fn on_submission(ctx: &Ctx, record: &Record, now: i64) -> Result<(), StoreError> {
    let (Some(reference), Some(partnership)) = (&record.reference, &record.partnership) else {
        return Ok(());
    };
    let _lock = ctx.store.lock_cases();
    // A resubmission joins the partnership's open case of the same round; a new round opens
    // a new case (the old one stays in the history).
    let open = ctx
        .store
        .cases()?
        .into_iter()
        .filter(|c| {
            c.partnership == *partnership && c.is_open() && same_round(&c.reference, reference)
        })
        .max_by_key(|c| c.opened_at);
    let case = match open {
        Some(mut c) => {
            c.add_submission(reference, now);
            c
        }
        None => Case::open(reference, partnership, now),
    };
    ctx.store.save_case(&case)?;
    audit(
        ctx,
        "yjsend",
        "submission",
        Some(&case.reference),
        format!("{reference} from {}", record.from.as_deref().unwrap_or("?")),
    );
    Ok(())
}

/// A message in the thread of a submission whose case waits for information: it is the
/// answer. Returns whether it landed on a case.
pub fn on_answer(
    ctx: &Ctx,
    submission: &Record,
    answer: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(reference) = &submission.reference else {
        return Ok(false);
    };
    let _lock = ctx.store.lock_cases();
    let Some(mut case) = ctx.store.case(reference)? else {
        return Ok(false);
    };
    if case.state != CaseState::WaitingForInfo {
        return Ok(false);
    }
    case.add_answer(answer, now);
    ctx.store.save_case(&case)?;
    audit(
        ctx,
        "yjsend",
        "answer",
        Some(&case.reference),
        answer.to_string(),
    );
    info!(
        case = case.reference,
        "An answer to the panel's request landed on its case."
    );
    Ok(true)
}

/// The queue as `member` sees it: open cases, ready ones first, without the member's
/// conflicts.
pub fn queue(ctx: &Ctx, member: &Member, now: i64) -> Result<Vec<QueueItem>, PanelError> {
    let mut out = Vec::new();
    let prefix = format!("{}-", ctx.round.load().reference_prefix);
    // Each case's current submission, from one pass over the records (newest wins).
    let mut current_records: std::collections::HashMap<String, Record> = Default::default();
    for r in ctx.store.records()? {
        if let Some(reference) = r.reference.clone()
            && current_records
                .get(&reference)
                .is_none_or(|old| old.id < r.id)
        {
            current_records.insert(reference, r);
        }
    }
    for c in ctx.store.cases()? {
        // The queue is the current round's (earlier rounds' cases stay in the history).
        if !c.is_open() || !c.reference.starts_with(&prefix) {
            continue;
        }
        if conflicted(ctx, member, &c) {
            continue;
        }
        let roster = ctx.roster.load();
        let part = roster.get(&c.partnership);
        let current = current_records.get(c.current());
        let lapsed = c.claim_lapsed(now, ctx.claim_seconds);
        let standing = current.as_ref().map(|r| ctx.standing(r));
        out.push(QueueItem {
            reference: c.reference.clone(),
            current: c.current().to_string(),
            partnership: c.partnership.clone(),
            name: part.map_or_else(|| c.partnership.clone(), |p| p.name.clone()),
            region: part.and_then(|p| p.region.clone()),
            state: if lapsed { CaseState::Ready } else { c.state },
            claimed_by: c
                .claim
                .as_ref()
                .filter(|_| !lapsed)
                .map(|cl| cl.member.clone()),
            quality_mark: standing
                .as_ref()
                .map(|s| s.quality_mark.provisional.as_str().to_string()),
            quality_lead: standing
                .as_ref()
                .map(|s| s.quality_lead.provisional.as_str().to_string()),
            signoff_verified: standing.as_ref().is_some_and(|s| s.signoff.verified),
            on_time: current.as_ref().and_then(|r| r.on_time),
            incomplete: standing
                .as_ref()
                .is_some_and(|s| s.quality_mark.provisional == Provisional::Incomplete),
            received_at: current
                .as_ref()
                .map(|r| rfc3339(r.received_at))
                .unwrap_or_default(),
            age_days: (now - c.queued_at) / 86_400,
            submissions: c.submissions.len(),
        });
    }
    out.sort_by_key(|q| (q.state != CaseState::Ready, q.reference.clone()));
    Ok(out)
}

/// Claims the oldest ready case the member has no conflict with.
pub fn pull(ctx: &Ctx, member: &Member, now: i64) -> Result<Option<CaseView>, PanelError> {
    if member.role != Role::Panel && member.role != Role::Team {
        return Ok(None);
    }
    let reference = {
        let _lock = ctx.store.lock_cases();
        let cases = ctx.store.cases()?;
        let mut passed = Vec::new();
        let picked = case::pick(&cases, now, ctx.claim_seconds, |c| {
            let conflict = conflicted(ctx, member, c);
            if conflict && c.is_ready(now, ctx.claim_seconds) {
                passed.push(c.reference.clone());
            }
            conflict
        })
        .cloned();
        for r in passed {
            audit(
                ctx,
                &member.name,
                "skip_conflict",
                Some(&r),
                "passed by: a declared conflict of interest".into(),
            );
        }
        let Some(mut case) = picked else {
            return Ok(None);
        };
        case.claim_for(&member.name, now);
        ctx.store.save_case(&case)?;
        audit(
            ctx,
            &member.name,
            "pull",
            Some(&case.reference),
            String::new(),
        );
        case.reference
    };
    view(ctx, member, &reference)
}

/// A case with its history, files and audit trail (the read is audited).
pub fn view(ctx: &Ctx, member: &Member, reference: &str) -> Result<Option<CaseView>, PanelError> {
    let Some(case) = ctx.store.case(reference)? else {
        return Ok(None);
    };
    if conflicted(ctx, member, &case) && member.role != Role::Team {
        return Err(CaseError::Conflict.into());
    }
    audit(
        ctx,
        &member.name,
        "open_case",
        Some(&case.reference),
        String::new(),
    );
    let roster = ctx.roster.load();
    let part = roster.get(&case.partnership);
    let mut submissions = Vec::new();
    for r in case.submissions.iter().rev() {
        if let Some(rec) = record_by_reference(ctx, r)? {
            let standing = ctx.standing(&rec);
            submissions.push(SubmissionView {
                reference: r.clone(),
                received_at: rfc3339(rec.received_at),
                from: rec.from.clone(),
                subject: rec.subject.clone(),
                scores: rec.scores.clone(),
                quality_mark: Some(standing.quality_mark.provisional.as_str().to_string()),
                quality_lead: Some(standing.quality_lead.provisional.as_str().to_string()),
                signoff_verified: standing.signoff.verified,
                on_time: rec.on_time,
                problems: rec
                    .all_problems(&standing)
                    .into_iter()
                    .map(|p| (p.code.as_str().to_string(), p.detail))
                    .collect(),
            });
        }
    }
    let mut files = vec!["message.eml".to_string(), "profile.png".to_string()];
    if let Some(rec) = record_by_reference(ctx, case.current())?
        && let Some(raw) = ctx.store.raw(rec.id)?
    {
        files.extend(attachments(ctx, &raw).into_iter().map(|p| p.path));
    }
    let awards_held: Vec<String> = part
        .map(|p| {
            p.awards
                .iter()
                .map(|a| {
                    format!(
                        "{} {}{}",
                        a.kind.as_str(),
                        a.date,
                        if a.child_first { ", Child First" } else { "" }
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let redesignation =
        part.is_some_and(|p| p.awards.iter().any(|a| a.kind == AwardKind::QualityLead));
    let audit = ctx.store.audit_trail(Some(&case.reference))?;
    Ok(Some(CaseView {
        name: part.map_or_else(|| case.partnership.clone(), |p| p.name.clone()),
        region: part.and_then(|p| p.region.clone()),
        baseline: part
            .and_then(|p| p.baseline.as_ref())
            .map(|b| {
                b.iter()
                    .map(|(s, v)| (s.as_str().to_string(), v.value()))
                    .collect()
            })
            .unwrap_or_default(),
        awards_held,
        redesignation,
        submissions,
        files,
        audit,
        case,
    }))
}

fn attachments(ctx: &Ctx, raw: &[u8]) -> Vec<crate::extract::Part> {
    let mut budget = crate::extract::Budget::new(ctx.limits);
    crate::extract::message::parse(raw, &mut budget, None)
        .map(|f| f.parts)
        .unwrap_or_default()
}

/// A file of a case's current submission: `message.eml`, `profile.png`, or an attachment by
/// its path. Returns its content type and bytes (the read is audited).
pub fn file(
    ctx: &Ctx,
    member: &Member,
    reference: &str,
    name: &str,
) -> Result<Option<(String, Vec<u8>)>, PanelError> {
    let Some(case) = ctx.store.case(reference)? else {
        return Ok(None);
    };
    if conflicted(ctx, member, &case) && member.role != Role::Team {
        return Err(CaseError::Conflict.into());
    }
    let Some(rec) = record_by_reference(ctx, case.current())? else {
        return Ok(None);
    };
    let Some(raw) = ctx.store.raw(rec.id)? else {
        return Ok(None);
    };
    let found = match name {
        "message.eml" => Some(("message/rfc822".to_string(), raw)),
        "profile.png" => {
            let (scores, _) = scores_of(&rec);
            let roster = ctx.roster.load();
            let part = roster.get(&case.partnership);
            let title = part.map_or_else(|| case.partnership.clone(), |p| p.name.clone());
            crate::compose::chart::profile_png(
                &title,
                part.and_then(|p| p.baseline.as_ref()),
                &scores,
            )
            .ok()
            .map(|png| ("image/png".to_string(), png))
        }
        _ => attachments(ctx, &raw)
            .into_iter()
            .find(|p| p.path == name)
            .map(|p| (p.content_type, p.bytes)),
    };
    if found.is_some() {
        audit(
            ctx,
            &member.name,
            "read_file",
            Some(&case.reference),
            name.to_string(),
        );
    }
    Ok(found)
}

/// Records a decision; drafts the outcome email (final outcomes, held for release) or sends
/// the request for information at once.
pub fn decide(
    ctx: &Ctx,
    member: &Member,
    reference: &str,
    request: &DecisionRequest,
    now: i64,
) -> Result<CaseView, PanelError> {
    let case_ref = {
        let _lock = ctx.store.lock_cases();
        let Some(mut case) = ctx.store.case(reference)? else {
            return Err(PanelError::NotFound(reference.to_string()));
        };
        let roster = ctx.roster.load();
        let part = roster.get(&case.partnership);
        let held_ql =
            part.is_some_and(|p| p.awards.iter().any(|a| a.kind == AwardKind::QualityLead));
        let conflict = conflicted(ctx, member, &case);
        let decision = case
            .decide(
                member,
                conflict,
                request.outcome,
                request.commendation,
                &request.feedback,
                held_ql,
                now,
                ctx.claim_seconds,
            )?
            .clone();
        ctx.store.save_case(&case)?;
        audit(
            ctx,
            &member.name,
            "decide",
            Some(&case.reference),
            format!(
                "{}{}{}",
                decision.outcome.as_str(),
                if decision.commendation.is_some() {
                    " with a Child First Commendation"
                } else {
                    ""
                },
                if decision.redesignation {
                    " (redesignation)"
                } else {
                    ""
                }
            ),
        );
        draft_email(ctx, &case, &decision, now)?;
        case.reference
    };
    view(ctx, member, &case_ref)?.ok_or(PanelError::NotFound(case_ref))
}

fn draft_email(
    ctx: &Ctx,
    case: &Case,
    decision: &case::Decision,
    now: i64,
) -> Result<(), StoreError> {
    if decision.outcome == Outcome::Visit {
        // The team arranges the call or visit; nothing goes out automatically.
        return Ok(());
    }
    let roster = ctx.roster.load();
    let part = roster.get(&case.partnership);
    let to: Vec<String> = part.map(|p| p.leads()).unwrap_or_default();
    let record = record_by_reference(ctx, case.current())?;
    let view = OutcomeView {
        outcome: decision.outcome.as_str().to_string(),
        award: match decision.outcome {
            Outcome::QualityMark => Some("Quality Mark".into()),
            Outcome::QualityLead => Some("Quality Lead".into()),
            _ => None,
        },
        partnership: part.map_or_else(|| case.partnership.clone(), |p| p.name.clone()),
        reference: case.current().to_string(),
        round_name: ctx.round.load().name.clone(),
        feedback: decision.feedback.clone(),
        child_first: decision.commendation == Some(Commendation::ChildFirst),
        redesignation: decision.redesignation,
        outcomes_by: ctx
            .round
            .load()
            .outcomes_by
            .map(|d| d.strftime("%-d %B %Y").to_string()),
    };
    let built = match outcome::build(
        &view,
        &ctx.from,
        &to,
        record.as_ref().and_then(|r| r.message_id.as_deref()),
        &ctx.wording,
        jiff::Timestamp::from_second(now).unwrap_or_else(|_| jiff::Timestamp::now()),
    ) {
        Ok(b) => b,
        Err(e) => {
            warn!(error = %e, case = case.reference, "The outcome email could not be drafted.");
            return Ok(());
        }
    };
    // A request for information goes at once; an outcome waits for the team's release.
    let held = decision.outcome.is_final();
    ctx.store.queue_for_record(
        NewOutgoing {
            kind: if held { "outcome" } else { "request_info" }.into(),
            message_id: Some(built.message_id),
            envelope_from: ctx.own_addresses.first().cloned().unwrap_or_default(),
            recipients: built.to,
            bytes: built.bytes,
        },
        record.map(|r| r.id),
        held,
        now,
    )?;
    Ok(())
}

/// Sends every drafted outcome (team only). Returns how many were released.
pub fn release(ctx: &Ctx, member: &Member, now: i64) -> Result<usize, PanelError> {
    if member.role != Role::Team {
        return Err(PanelError::TeamOnly);
    }
    let released = ctx.store.release_held(now)?;
    audit(
        ctx,
        &member.name,
        "release",
        None,
        format!("{} outcome emails", released.len()),
    );
    Ok(released.len())
}

/// One message not (yet) delivered, as the team sees it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Undelivered {
    pub id: u64,
    pub kind: String,
    pub reference: Option<String>,
    pub recipients: Vec<String>,
    /// `pending` (will be tried again) or `failed` (given up: `yjsend outbox retry`).
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// Everything pending or failed in the outbox.
pub fn undelivered(ctx: &Ctx) -> Result<Vec<Undelivered>, StoreError> {
    use crate::adapters::store::OutboxState;
    let mut out = Vec::new();
    for item in ctx.store.outbox_items()? {
        let state = match item.state {
            OutboxState::Pending => "pending",
            OutboxState::Failed => "failed",
            _ => continue,
        };
        let reference = match item.record_id {
            Some(id) => ctx.store.record(id)?.and_then(|r| r.reference),
            None => None,
        };
        out.push(Undelivered {
            id: item.id,
            kind: item.kind,
            reference,
            recipients: item.recipients,
            state: state.into(),
            attempts: item.attempts,
            last_error: item.last_error,
        });
    }
    Ok(out)
}

/// Sends again what could not be delivered (team only), once the cause is fixed.
pub fn retry_failed(ctx: &Ctx, member: &Member, now: i64) -> Result<usize, PanelError> {
    if member.role != Role::Team {
        return Err(PanelError::TeamOnly);
    }
    let ids = ctx.store.retry_failed(now)?;
    audit(
        ctx,
        &member.name,
        "retry_outbox",
        None,
        format!("{} undelivered message(s) put back in line", ids.len()),
    );
    Ok(ids.len())
}

/// The funder report from the store (see `compose::report`).
pub fn report(
    store: &crate::adapters::store::Store,
    round: &crate::domain::round::Round,
    roster: &crate::domain::roster::Roster,
    round_prefix: Option<&str>,
) -> Result<Vec<u8>, String> {
    let records = store.records().map_err(|e| e.to_string())?;
    let cases = store.cases().map_err(|e| e.to_string())?;
    let audit = store.audit_trail(None).map_err(|e| e.to_string())?;
    crate::compose::report::build(&crate::compose::report::ReportInput {
        round_name: &round.name,
        live_round: &round.reference_prefix,
        roster,
        records: &records,
        cases: &cases,
        audit: &audit,
        round_prefix,
    })
    .map_err(|e| e.to_string())
}

/// The submission record a reference names.
pub fn record(ctx: &Ctx, reference: &str) -> Result<Option<Record>, StoreError> {
    record_by_reference(ctx, reference)
}

/// A consistent backup of the whole store while the daemon runs: every pipeline step and
/// case change waits until it is written.
pub async fn backup(ctx: &Ctx) -> Result<Vec<u8>, StoreError> {
    let _paused = ctx.pause.write().await;
    ctx.store.flush().await?;
    let _cases = ctx.store.lock_cases();
    let mut out = Vec::new();
    ctx.store.backup(&mut out)?;
    Ok(out)
}
