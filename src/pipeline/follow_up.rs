//! Messages that belong to a submission already answered: the other lead's confirmation, a
//! case study sent later, an answer to the panel, a dispute. They are joined to the
//! submission as facts, the verdicts are derived again from everything it now holds, and the
//! partnership is told what moved (contract: "Replies (the daemon)" and "Joint sign-off").
//!
//! Which submission a message belongs to, in order:
//! 1. its thread: In-Reply-To / References naming our reply, the partnership's own earlier
//!    message, or an email the panel sent;
//! 2. the reference in its subject, only when the sender is one of that partnership's roster
//!    leads or on its roster domain and the trusted header did not fail it;
//! 3. evidence from a known partnership within `replies.evidence_window_days` of its current
//!    submission.
//!
//! A message that answers an earlier version joins the partnership's current version of the
//! same round: the verdict that matters is the current one.

use super::Ctx;
use crate::adapters::store::StoreError;
use crate::domain::evaluation::{Classification, Evaluation, TakenAs};
use crate::domain::followup::{self, Intent};
use crate::domain::problem::ProblemCode;
use crate::domain::roster::Partnership;
use crate::domain::standing::{LeadRole, Standing, moved};
use crate::domain::submission::{EvidenceFile, EvidenceKind, JoinKind, Joined, Record};
use jiff::Timestamp;
use tracing::{info, warn};

/// How a message was found to belong to a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// In-Reply-To / References.
    Thread,
    /// The reference in the subject, from a lead or the partnership's domain.
    Subject,
    /// Evidence within the evidence window of the current submission.
    Window,
}

/// What [`find`] decided.
#[derive(Debug)]
pub enum Found {
    /// Joins this submission.
    Join(Box<Record>, Via),
    /// Names a submission's reference but is not from that partnership: joins nothing (the
    /// team is told).
    Outsider(String),
    /// In one of our threads, but not about a submission (a question answered as such).
    OtherThread,
    None,
}

/// The submission a record stands for: itself, or the one it was joined to.
fn resolve(ctx: &Ctx, r: Record) -> Result<Option<Record>, StoreError> {
    match r.joined_to {
        Some(id) => ctx.store.record(id),
        None => Ok(Some(r)),
    }
}

/// The partnership's current version of `r`'s round, or `r` itself.
fn current_version(ctx: &Ctx, r: Record) -> Result<Record, StoreError> {
    let Some(p) = &r.partnership else {
        return Ok(r);
    };
    match ctx.store.latest_submission(p)? {
        Some(latest) if latest.id > r.id && latest.round == r.round => Ok(latest),
        _ => Ok(r),
    }
}

/// The sender's standing with a partnership: a roster lead, or on its roster domain.
fn from_partnership(p: &Partnership, sender: &str) -> bool {
    let sender = sender.to_ascii_lowercase();
    p.is_lead(&sender)
        || sender
            .rsplit_once('@')
            .is_some_and(|(_, domain)| p.owns_domain(domain))
}

/// Finds the submission a grid-less message belongs to.
pub fn find(ctx: &Ctx, e: &Evaluation) -> Result<Found, StoreError> {
    if e.classification != Classification::NoGrid {
        return Ok(Found::None);
    }
    let dmarc_failed = e.has_problem(ProblemCode::SenderAuthenticationFailed);
    let ids = e
        .envelope
        .in_reply_to
        .iter()
        .chain(e.envelope.references.iter().rev());
    for id in ids {
        let earlier = match ctx.store.answered_by(id)? {
            Some(r) => Some(r),
            None => ctx.store.record_by_message_id(id)?,
        };
        let Some(earlier) = earlier else { continue };
        let Some(target) = resolve(ctx, earlier)? else {
            continue;
        };
        if !target.is_submission() || target.reference.is_none() {
            return Ok(Found::OtherThread);
        }
        let target = current_version(ctx, target)?;
        return Ok(Found::Join(Box::new(target), Via::Thread));
    }
    let prefix = ctx.round.load().reference_prefix.clone();
    if let Some(reference) = e
        .subject
        .as_deref()
        .and_then(|s| followup::reference_in(s, &prefix))
        && let Some(target) = ctx.store.record_by_reference(&reference)?
        && target.is_submission()
    {
        let roster = ctx.roster.load();
        let sender = e.from.as_deref().unwrap_or("");
        let theirs = target
            .partnership
            .as_deref()
            .and_then(|p| roster.get(p))
            .is_some_and(|p| from_partnership(p, sender));
        if !theirs || dmarc_failed {
            return Ok(Found::Outsider(reference));
        }
        let target = current_version(ctx, target)?;
        return Ok(Found::Join(Box::new(target), Via::Subject));
    }
    let Some(p) = &e.partnership else {
        return Ok(Found::None);
    };
    if evidence_of(e, 0).is_empty() {
        return Ok(Found::None);
    }
    let window = ctx.evidence_window_days * 86_400;
    let now = e.received_at.unwrap_or(Timestamp::UNIX_EPOCH).as_second();
    Ok(match ctx.store.latest_submission(&p.id)? {
        Some(r) if now - r.received_at.as_second() <= window => {
            Found::Join(Box::new(r), Via::Window)
        }
        _ => Found::None,
    })
}

/// The case studies and testimonies a message carries, as evidence of `record_id`.
pub fn evidence_of(e: &Evaluation, record_id: u64) -> Vec<EvidenceFile> {
    e.evidence
        .iter()
        .filter_map(|item| {
            let (kind, statements) = match &item.taken_as {
                TakenAs::CaseStudy(ids) => (EvidenceKind::CaseStudy, ids.clone()),
                TakenAs::CaseStudyUnlinked => (EvidenceKind::CaseStudyUnlinked, Vec::new()),
                TakenAs::WitnessTestimony => (EvidenceKind::WitnessTestimony, Vec::new()),
                _ => return None,
            };
            Some(EvidenceFile {
                record_id,
                path: item.path.clone(),
                kind,
                statements,
            })
        })
        .collect()
}

/// What joining a message did.
#[derive(Debug)]
pub struct Joining {
    /// The submission as it now stands (to be saved with the message's record).
    pub target: Record,
    pub kind: JoinKind,
    pub before: Standing,
    pub after: Standing,
    /// Sentences for the acknowledgement: what this message changed, and why.
    pub changes: Vec<String>,
    /// Acknowledge it: evidence and answers always, a confirmation only when it moved a
    /// verdict, a dispute or a note never (they go to the team).
    pub acknowledge: bool,
}

/// Joins the message (`record`, evaluated as `e`) to `target`: works out what it is, adds it
/// to the submission's facts, and derives the verdicts again. Idempotent: a message joined
/// before (a retry after a crash) is not added twice.
pub fn join(
    ctx: &Ctx,
    record: &mut Record,
    e: &Evaluation,
    mut target: Record,
    via: Via,
    answers_panel: bool,
) -> Joining {
    let before = ctx.standing(&without(&target, record.id));
    let roster = ctx.roster.load();
    let partnership = target.partnership.as_deref().and_then(|p| roster.get(p));
    let sender = e.from.clone().unwrap_or_default();
    let dmarc_failed = e.has_problem(ProblemCode::SenderAuthenticationFailed);
    let evidence = evidence_of(e, record.id);
    let intent = followup::intent(&e.note);
    // Only the other lead, from their roster address, in the thread, not failed by the
    // trusted header, and saying so, completes a sign-off.
    let confirms = match (partnership, via, intent, dmarc_failed) {
        (Some(p), Via::Thread, Intent::Confirms, false) => LeadRole::of(p, &sender),
        _ => None,
    };
    let kind = if answers_panel {
        JoinKind::Answer
    } else if intent == Intent::Disputes {
        JoinKind::Dispute
    } else if !evidence.is_empty() {
        JoinKind::Evidence
    } else if confirms.is_some() {
        JoinKind::Confirmation
    } else {
        JoinKind::Note
    };
    let target_id = target.id;
    let already = target.joined.iter().any(|j| j.record_id == record.id);
    if !already {
        target.joined.push(Joined {
            record_id: record.id,
            at: record.received_at,
            from: e.from.clone(),
            kind,
            confirms: confirms.filter(|_| kind != JoinKind::Dispute),
        });
        target.evidence.extend(evidence.iter().cloned());
    }
    record.joined_to = Some(target_id);
    let after = ctx.standing(&target);
    let mut changes = Vec::new();
    let who = match &e.envelope.from_name {
        Some(name) if !name.trim().is_empty() => format!("{} ({sender})", name.trim()),
        _ => sender.clone(),
    };
    if let Some(role) = confirms
        && before.signoff != after.signoff
    {
        changes.push(format!("{who} confirmed {}.", role.signoff_words()));
    }
    if kind == JoinKind::Answer {
        changes.push("The panel has your answer to its request for more information.".into());
    }
    let new_studies: Vec<String> = evidence
        .iter()
        .filter(|f| f.kind == EvidenceKind::CaseStudy)
        .map(|f| {
            format!(
                "A case study for statement {} was added ({}).",
                crate::domain::eligibility::list(&f.statements),
                f.name()
            )
        })
        .collect();
    let verdict_moved = moved(&before, &after);
    if !verdict_moved.is_empty() {
        changes.extend(new_studies);
        changes.extend(verdict_moved.iter().cloned());
    }
    let acknowledge = match kind {
        JoinKind::Evidence | JoinKind::Answer => true,
        JoinKind::Confirmation => !verdict_moved.is_empty(),
        JoinKind::Dispute | JoinKind::Note => false,
    };
    let reference = target.reference.clone().unwrap_or_default();
    record.no_reply_reason = match kind {
        JoinKind::Dispute => Some(format!(
            "{sender} disputes what was read for {reference}: for the team"
        )),
        JoinKind::Note => Some(format!(
            "a message in the thread of {reference} that adds nothing to it: for the team"
        )),
        JoinKind::Confirmation if !acknowledge => Some(format!(
            "{sender} confirms {reference}, which changes nothing: no reply"
        )),
        _ => None,
    };
    info!(
        submission = reference,
        kind = kind.as_str(),
        moved = verdict_moved.join("; "),
        "Joined a message to its submission."
    );
    Joining {
        target,
        kind,
        before,
        after,
        changes,
        acknowledge,
    }
}

/// `target` without what message `record_id` added: how it stood before that message, even
/// when a retry finds it already joined.
fn without(target: &Record, record_id: u64) -> Record {
    let mut r = target.clone();
    r.joined.retain(|j| j.record_id != record_id);
    r.evidence.retain(|f| f.record_id != record_id);
    r
}

/// Evidence of an earlier version of the same round that still counts for `record` (a new
/// version): every file not replaced by one of the same name in the new version.
pub fn carry_evidence(record: &mut Record, earlier: &Record) -> Vec<String> {
    let names: Vec<String> = record
        .evidence
        .iter()
        .map(|f| f.name().to_ascii_lowercase())
        .collect();
    let mut carried = Vec::new();
    for f in &earlier.evidence {
        if names.contains(&f.name().to_ascii_lowercase())
            || record.evidence.iter().any(|mine| mine == f)
        {
            continue;
        }
        carried.push(format!(
            "{} (sent with {})",
            f.name(),
            earlier
                .reference
                .as_deref()
                .unwrap_or("your earlier submission")
        ));
        record.evidence.push(f.clone());
    }
    record.replaces = Some(earlier.id);
    carried
}

/// The reply's recipients for a message about a submission: the sender when a roster lead or
/// on the partnership's roster domain (and not failed by the trusted header), with the
/// roster leads; otherwise the roster leads alone.
pub fn recipients(ctx: &Ctx, e: &Evaluation, target: &Record) -> Vec<String> {
    let roster = ctx.roster.load();
    let Some(p) = target.partnership.as_deref().and_then(|p| roster.get(p)) else {
        return Vec::new();
    };
    let dmarc_failed = e.has_problem(ProblemCode::SenderAuthenticationFailed);
    let mut to: Vec<String> = crate::compose::reply::reply_address(e)
        .into_iter()
        .filter(|a| !dmarc_failed && from_partnership(p, a))
        .collect();
    if to.is_empty() {
        to = p.leads();
    }
    to
}

/// The submission's evaluation as it stands now, for the acknowledgement: its message read
/// again (as intake reads it), with the facts the record holds since (the scores as
/// corrected, the sign-off and evidence joined) and the derived verdicts put in.
pub async fn current_view(ctx: &Ctx, target: &Record, standing: &Standing) -> Option<Evaluation> {
    let raw = ctx.store.raw(target.id).ok().flatten()?;
    let mut view = match super::intake::evaluate_isolated(ctx, &raw, target.received_at).await {
        Ok(v) => v,
        Err(_) => {
            warn!(
                reference = target.reference,
                "The submission could not be read again for an acknowledgement."
            );
            return None;
        }
    };
    overlay(&mut view, target, standing);
    Some(view)
}

/// Puts a record's facts and derived standing into an evaluation of its message.
pub fn overlay(view: &mut Evaluation, record: &Record, standing: &Standing) {
    if let Some(g) = &mut view.grid {
        g.scores = record.typed_scores();
    }
    view.signoff = standing.signoff;
    view.quality_mark = standing.quality_mark.clone();
    view.quality_lead = standing.quality_lead.clone();
    view.case_studies.clear();
    for f in &record.evidence {
        for s in &f.statements {
            view.case_studies
                .entry(*s)
                .or_default()
                .push(f.name().to_string());
        }
    }
    view.problems = record.all_problems(standing);
}
