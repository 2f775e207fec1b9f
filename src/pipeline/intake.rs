//! One intake step: take what is waiting in the mailbox, store it, evaluate it, queue its
//! reply, and move it out of the intake folder — in that order, with a flush between each
//! step the outside world depends on, so a crash at any point loses nothing and answers
//! nothing twice.
//!
//! The ledger (not the server's \Seen flag or the Maildir subfolder) decides what is new: a
//! person may open the mailbox in Outlook before we see a message.

use super::ports::{Mailbox, MailboxError, RawMessage};
use super::reply_policy::{self, PolicyInput};
use super::worker::WorkerError;
use super::{Ctx, Evaluator, Tick};
use crate::adapters::store::{NewOutgoing, Record, RecordState, StoreError};
use crate::compose::reply::{self, ReplyParams};
use crate::domain::evaluation::{Classification, Evaluation, TakenAs};
use crate::domain::problem::{Problem, ProblemCode};
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tracing::{info, warn};

/// Why intake stopped.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Mailbox(#[from] MailboxError),
    /// The store failed: intake stops rather than carry on half-written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Messages taken per step: enough to amortise a mailbox round trip, few enough that replies
/// start going out early in a backlog and memory stays bounded.
const BATCH: usize = 50;

/// Handles up to [`BATCH`] waiting messages, in three phases with one flush between each:
/// every new message is stored (and every retry's attempt counted) before any is evaluated;
/// every reply is queued before any message leaves the intake folder. One flush per phase
/// instead of one per message is what lets a backlog go at the mail servers' pace.
pub async fn tick<M: Mailbox>(
    ctx: &Ctx,
    mailbox: &mut M,
    now: Timestamp,
) -> Result<Tick, IntakeError> {
    let messages = mailbox.list(ctx.max_message_bytes, BATCH).await?;
    let mut worked = 0;
    let mut pending = Vec::new();
    for message in messages {
        match prepare(ctx, mailbox, message).await? {
            Prepared::Handled => worked += 1,
            Prepared::Evaluate(message, record) => pending.push((message, *record)),
        }
    }
    if pending.is_empty() {
        return Ok(if worked == 0 {
            Tick::Idle
        } else {
            Tick::Worked(worked)
        });
    }
    // The messages (and the attempts) are durable before evaluation starts.
    ctx.store.flush().await?;
    let mut to_move = Vec::new();
    for (message, record) in pending {
        if let Some(record) = evaluate_and_store(ctx, mailbox, &message, record, now).await? {
            to_move.push((message.key, record));
        }
        worked += 1;
    }
    // The replies are durable before the messages leave the intake folder.
    ctx.store.flush().await?;
    let keys: Vec<_> = to_move.iter().map(|(key, _)| key.clone()).collect();
    mailbox.mark_processed(&keys).await?;
    for (_, mut record) in to_move {
        // No flush of its own: a message found `Evaluated` after a crash is moved again.
        record.state = RecordState::Done;
        ctx.store.update(&record)?;
    }
    Ok(Tick::Worked(worked))
}

/// What the ledger says to do with a listed message.
enum Prepared {
    /// Already handled (moved again, or quarantined): nothing to evaluate.
    Handled,
    /// Stored (or its attempt counted), not yet flushed: evaluate it.
    Evaluate(RawMessage, Box<Record>),
}

/// Looks a message up in the ledger and records it (or its new attempt).
async fn prepare<M: Mailbox>(
    ctx: &Ctx,
    mailbox: &mut M,
    message: RawMessage,
) -> Result<Prepared, IntakeError> {
    let key = message.key.ledger_key();
    let record = match ctx.store.ledger(&key)? {
        Some(r) => match r.state {
            // Handled before a crash or a failed move: finish the move, answer nothing again.
            RecordState::Evaluated | RecordState::Done => {
                mailbox
                    .mark_processed(std::slice::from_ref(&message.key))
                    .await?;
                mark(ctx, r, RecordState::Done).await?;
                return Ok(Prepared::Handled);
            }
            RecordState::Quarantined => {
                mailbox.quarantine(&message.key).await?;
                return Ok(Prepared::Handled);
            }
            // Failed too often (the worker died on it, or, evaluating in process, the daemon
            // died in it): give up on a message that keeps killing us.
            RecordState::Received if r.attempts >= ctx.max_attempts => {
                warn!(
                    key,
                    attempts = r.attempts,
                    "Quarantining a message that failed repeatedly."
                );
                mailbox.quarantine(&message.key).await?;
                mark(ctx, r, RecordState::Quarantined).await?;
                return Ok(Prepared::Handled);
            }
            RecordState::Received => {
                let mut r = r;
                // In process, the daemon itself may have died in this evaluation: count it.
                // With the worker, a daemon that died (killed, restarted) says nothing about
                // the message, and a worker failure is counted where it happens.
                if in_process(ctx) {
                    r.attempts += 1;
                    ctx.store.update(&r)?;
                }
                r
            }
        },
        None => {
            let hash = hex::encode(Sha256::digest(&message.bytes));
            let record = Record {
                id: 0,
                ledger_key: key.clone(),
                message_id: None,
                hash,
                received_at: crate::cli::report::rfc3339(message.received_at),
                size: message.size,
                attempts: u32::from(in_process(ctx)),
                state: RecordState::Received,
                reference: None,
                from: None,
                subject: None,
                classification: None,
                partnership: None,
                scores: Default::default(),
                quality_mark: None,
                quality_lead: None,
                on_time: None,
                problems: vec![],
                no_reply_reason: None,
                duplicate_of: None,
                signoff_verified: false,
                signoff_confirmed_by: None,
                added_evidence: Vec::new(),
                signoff_leads: (false, false),
                case_studies: Vec::new(),
                corrections: Vec::new(),
                round: Some(ctx.round.load().reference_prefix.clone()),
                purged: false,
            };
            ctx.store.receive(record, &message.bytes)?
        }
    };
    Ok(Prepared::Evaluate(message, Box::new(record)))
}

/// Evaluates a stored message and stores the result with its reply (not yet flushed).
/// Returns the record to move to the processed folder, or `None` when the message was
/// quarantined or is to be retried.
async fn evaluate_and_store<M: Mailbox>(
    ctx: &Ctx,
    mailbox: &mut M,
    message: &RawMessage,
    record: Record,
    now: Timestamp,
) -> Result<Option<Record>, IntakeError> {
    // An oversized message arrives cut one byte past the limit, so evaluate() sees that it
    // is too large and reads only its headers.
    let evaluation = match evaluate_isolated(ctx, &message.bytes, message.received_at).await {
        Ok(e) => e,
        Err(Failure::Timeout(detail)) => {
            warn!(
                key = record.ledger_key,
                detail, "Evaluation overran its time; quarantining."
            );
            let mut r = record;
            r.problems
                .push((ProblemCode::EvaluationTimeout.as_str().into(), detail));
            mailbox.quarantine(&message.key).await?;
            mark(ctx, r, RecordState::Quarantined).await?;
            return Ok(None);
        }
        Err(Failure::Crashed(detail)) => {
            // Left `Received` with the failure counted: retried on the next pass, and
            // quarantined once it has failed `max_attempts` times.
            let mut record = record;
            if !in_process(ctx) {
                record.attempts += 1;
                ctx.store.update(&record)?;
            }
            warn!(
                key = record.ledger_key,
                attempts = record.attempts,
                detail,
                "Evaluation failed."
            );
            return Ok(None);
        }
    };
    store_result(ctx, record, evaluation, now).map(Some)
}

fn in_process(ctx: &Ctx) -> bool {
    matches!(ctx.evaluator, Evaluator::InProcess)
}

/// Why an evaluation gave no result.
pub(crate) enum Failure {
    Timeout(String),
    Crashed(String),
}

/// Evaluates in the worker process, or on a blocking thread with a time limit and panics
/// caught: one bad message never stops the rest.
pub(crate) async fn evaluate_isolated(
    ctx: &Ctx,
    raw: &[u8],
    received_at: Timestamp,
) -> Result<Evaluation, Failure> {
    let limit = Duration::from_secs(ctx.message_seconds);
    if let Evaluator::Worker(worker) = &ctx.evaluator {
        return worker
            .lock()
            .await
            .evaluate(raw, received_at, limit)
            .await
            .map_err(|e| match e {
                WorkerError::Timeout(_) => Failure::Timeout(e.to_string()),
                WorkerError::Crashed(_) => Failure::Crashed(e.to_string()),
            });
    }
    let round = ctx.round.load().clone();
    let roster = ctx.roster.load().clone();
    let trusted = ctx.trusted_authserv_id.clone();
    let limits = ctx.limits;
    let max = ctx.max_message_bytes;
    let raw = raw.to_vec();
    let job = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(|| {
            let settings = super::evaluate::Settings {
                round: &round,
                roster: &roster,
                trusted_authserv_id: trusted.as_deref(),
                limits,
                max_message_bytes: max,
            };
            super::evaluate::evaluate(&raw, Some(received_at), &settings)
        })
    });
    match tokio::time::timeout(limit, job).await {
        Ok(Ok(Ok(e))) => Ok(e),
        Ok(_) => Err(Failure::Crashed("the evaluation panicked".into())),
        Err(_) => Err(Failure::Timeout(format!(
            "the evaluation took longer than {limit:?}"
        ))),
    }
}

/// Stores the evaluation and its reply in one transaction (the caller flushes).
fn store_result(
    ctx: &Ctx,
    mut record: Record,
    evaluation: Evaluation,
    now: Timestamp,
) -> Result<Record, IntakeError> {
    summarise(&mut record, &evaluation);
    let duplicate = ctx
        .store
        .find_duplicate(evaluation.message_id.as_deref(), &record.hash)?
        .filter(|d| d.id != record.id);
    let mut outgoing = Vec::new();
    let mut reference = None;
    let follow_up = match duplicate {
        Some(_) => None,
        None => follow_up(ctx, &mut record, &evaluation, now)?,
    };
    if let Some(d) = duplicate {
        info!(
            key = record.ledger_key,
            earlier = d.id,
            "Repeat of a handled message; not answering again."
        );
        record.duplicate_of = Some(d.id);
        record.no_reply_reason = Some("a repeat of a message already handled".into());
    } else if let Some(joined) = follow_up {
        // Evidence for an earlier submission: acknowledged under that submission's reference.
        let mut input = policy_input(ctx, &evaluation, now)?;
        input.in_our_thread = false;
        match reply_policy::decide(&evaluation, input) {
            Err(reason) => record.no_reply_reason = Some(reason),
            Ok(()) => match build_reply(ctx, &evaluation, &joined, now, Some(&joined)) {
                Ok(out) => outgoing.push(out),
                Err(e) => {
                    record.no_reply_reason = Some(format!("the reply could not be built: {e}"))
                }
            },
        }
    } else if record.no_reply_reason.is_none() {
        match reply_policy::decide(&evaluation, policy_input(ctx, &evaluation, now)?) {
            Err(reason) => {
                info!(key = record.ledger_key, reason, "No automatic reply.");
                record.no_reply_reason = Some(reason);
            }
            Ok(()) => {
                let r = ctx
                    .store
                    .peek_reference(&ctx.round.load().reference_prefix)?;
                match build_reply(ctx, &evaluation, &r, now, None) {
                    Ok(out) => {
                        outgoing.push(out);
                        reference = Some(r);
                    }
                    Err(e) => {
                        warn!(key = record.ledger_key, error = %e, "Failed to build the reply.");
                        record.no_reply_reason = Some(format!("the reply could not be built: {e}"));
                    }
                }
            }
        }
    }
    let sender = evaluation.from.clone().unwrap_or_default();
    let replying = !outgoing.is_empty();
    let mut record = ctx
        .store
        .complete(record, reference.as_deref(), outgoing, now.as_second())?;
    // The panel's side: a submission opens or joins its case; a message in the thread of a
    // case waiting for information is the answer.
    if record.duplicate_of.is_none() {
        if evaluation.classification == Classification::Submission {
            super::panel::on_submission(ctx, &record, now.as_second())?;
        } else if let Some(case_ref) = panel_answer(ctx, &evaluation, &record, now)? {
            record.no_reply_reason = Some(format!(
                "an answer to the panel's request for information on {case_ref}: added to its case"
            ));
            ctx.store.update(&record)?;
        }
    }
    if replying {
        let since = now.as_second() - ctx.window_hours * 3600;
        ctx.store
            .sender_replies(&sender, since, now.as_second(), true)?;
    }
    Ok(record)
}

/// Lands a message on the case whose request for information it answers (it replies in the
/// thread of the case's submission). Returns the case's reference.
fn panel_answer(
    ctx: &Ctx,
    e: &Evaluation,
    record: &Record,
    now: Timestamp,
) -> Result<Option<String>, StoreError> {
    for id in e
        .envelope
        .in_reply_to
        .iter()
        .chain(e.envelope.references.iter().rev())
    {
        if let Some(submission) = ctx.store.answered_by(id)? {
            let answer = record
                .message_id
                .clone()
                .unwrap_or_else(|| record.ledger_key.clone());
            if super::panel::on_answer(ctx, &submission, &answer, now.as_second())? {
                return Ok(submission.reference);
            }
            return Ok(None);
        }
    }
    Ok(None)
}

fn policy_input(ctx: &Ctx, e: &Evaluation, now: Timestamp) -> Result<PolicyInput, StoreError> {
    let mut in_our_thread = false;
    for id in e.envelope.in_reply_to.iter().chain(&e.envelope.references) {
        if ctx.store.is_ours(id)? {
            in_our_thread = true;
            break;
        }
    }
    let sender = e.from.clone().unwrap_or_default();
    let since = now.as_second() - ctx.window_hours * 3600;
    Ok(PolicyInput {
        in_our_thread,
        recent_replies: ctx
            .store
            .sender_replies(&sender, since, now.as_second(), false)?,
        max_per_sender: ctx.max_per_sender,
        is_own_address: ctx
            .own_addresses
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&sender)),
    })
}

pub(crate) fn build_reply(
    ctx: &Ctx,
    e: &Evaluation,
    reference: &str,
    now: Timestamp,
    joins: Option<&str>,
) -> Result<NewOutgoing, crate::compose::reply::ComposeError> {
    build_reply_as(ctx, e, reference, now, joins, reply::Revision::None)
}

/// [`build_reply`], or a reply sent again after a correction or a re-reading (`revision`).
pub(crate) fn build_reply_as(
    ctx: &Ctx,
    e: &Evaluation,
    reference: &str,
    now: Timestamp,
    joins: Option<&str>,
    revision: reply::Revision,
) -> Result<NewOutgoing, crate::compose::reply::ComposeError> {
    let roster = ctx.roster.load();
    let partnership = e.partnership.as_ref().and_then(|p| roster.get(&p.id));
    let leads: Vec<String> = partnership.map(|p| p.leads()).unwrap_or_default();
    let earlier = match (&e.partnership, e.classification) {
        (Some(p), Classification::Submission) if revision == reply::Revision::None => {
            ctx.store.latest_submission(&p.id).ok().flatten()
        }
        _ => None,
    };
    // A reply about a missing grid to a partnership on the roster carries the grid template,
    // filled with their baseline (senders not on the roster get no attachments).
    let template = match partnership {
        Some(part)
            if joins.is_none()
                && e.classification == Classification::NoGrid
                && !e.has_problem(ProblemCode::MessageTooLarge) =>
        {
            crate::compose::template::build(&ctx.round.load(), Some(part))
                .map_err(|err| warn!(error = %err, "The grid template was not built."))
                .ok()
        }
        _ => None,
    };
    let params = ReplyParams {
        from: &ctx.from,
        reference,
        now,
        round: &ctx.round.load(),
        leads: &leads,
        replaces: earlier.as_ref().and_then(|r| r.reference.as_deref()),
        joins,
        baseline: partnership.and_then(|part| part.baseline.as_ref()),
        previous: earlier.as_ref().map(|r| &r.scores),
        template: template.as_deref(),
        revision,
    };
    let built = reply::build(e, &params, &ctx.wording)?;
    let envelope_from = ctx.own_addresses.first().cloned().unwrap_or_default();
    Ok(NewOutgoing {
        kind: "reply".into(),
        message_id: Some(built.message_id),
        envelope_from,
        recipients: built.to.into_iter().chain(built.cc).collect(),
        bytes: built.bytes,
    })
}

/// A grid-less message from a known partnership that belongs to its current submission: the
/// other lead confirming the sign-off in our thread, or evidence sent separately (in our
/// thread, or within `evidence_window_days`). Updates that submission and returns its
/// reference when there is evidence to acknowledge; a confirmation alone gets no reply (it
/// goes to the team) and is noted on this message's record.
fn follow_up(
    ctx: &Ctx,
    record: &mut Record,
    e: &Evaluation,
    now: Timestamp,
) -> Result<Option<String>, StoreError> {
    if e.classification != Classification::NoGrid {
        return Ok(None);
    }
    let Some(p) = &e.partnership else {
        return Ok(None);
    };
    let mut target = None;
    let mut in_thread = false;
    for id in e
        .envelope
        .in_reply_to
        .iter()
        .chain(e.envelope.references.iter().rev())
    {
        if let Some(r) = ctx.store.answered_by(id)? {
            in_thread = true;
            if r.partnership.as_deref() == Some(p.id.as_str())
                && r.classification.as_deref() == Some("submission")
            {
                target = Some(r);
            }
            break;
        }
    }
    if target.is_none() {
        let window = ctx.evidence_window_days * 86_400;
        target = ctx.store.latest_submission(&p.id)?.filter(|r| {
            r.received_at
                .parse::<Timestamp>()
                .is_ok_and(|t| now.as_second() - t.as_second() <= window)
        });
    }
    let Some(mut target) = target else {
        return Ok(None);
    };
    let Some(target_ref) = target.reference.clone() else {
        return Ok(None);
    };
    let sender = e.from.clone().unwrap_or_default();
    let lead = ctx
        .roster
        .load()
        .get(&p.id)
        .is_some_and(|part| part.is_lead(&sender));
    let dmarc_failed =
        e.has_problem(crate::domain::problem::ProblemCode::SenderAuthenticationFailed);
    let mut changed = false;
    if in_thread && lead && !dmarc_failed && !target.signoff_verified {
        target.signoff_verified = true;
        target.signoff_confirmed_by = Some(sender.clone());
        record.no_reply_reason = Some(format!(
            "{sender} confirms the joint sign-off of {target_ref} (for the team)"
        ));
        changed = true;
    }
    let evidence: Vec<String> = e
        .evidence
        .iter()
        .filter(|i| {
            matches!(
                i.taken_as,
                TakenAs::CaseStudy(_) | TakenAs::CaseStudyUnlinked | TakenAs::WitnessTestimony
            )
        })
        .map(|i| i.path.clone())
        .collect();
    let has_evidence = !evidence.is_empty();
    if has_evidence && !target.added_evidence.iter().any(|(id, _)| *id == record.id) {
        target.added_evidence.push((record.id, evidence));
        changed = true;
    }
    if changed {
        info!(
            submission = target_ref,
            "Follow-up joined to its submission."
        );
        ctx.store.update(&target)?;
    }
    Ok(has_evidence.then_some(target_ref))
}

/// Copies what the team and the digest need from the evaluation into the record.
pub(crate) fn summarise(record: &mut Record, e: &Evaluation) {
    record.message_id = e.message_id.clone();
    record.from = e.from.clone();
    record.subject = e.subject.clone();
    record.classification = Some(e.classification.as_str().into());
    record.partnership = e.partnership.as_ref().map(|p| p.id.clone());
    record.scores = e
        .grid
        .as_ref()
        .map(|g| {
            g.scores
                .iter()
                .map(|(s, v)| (s.as_str().to_string(), v.value()))
                .collect()
        })
        .unwrap_or_default();
    record.quality_mark = Some(e.quality_mark.provisional.as_str().into());
    record.quality_lead = Some(e.quality_lead.provisional.as_str().into());
    record.on_time = e.deadline.on_time;
    record.signoff_verified = e.signoff.verified;
    record.signoff_leads = (e.signoff.la_send, e.signoff.yos);
    record.case_studies = e
        .case_studies
        .keys()
        .map(|s| s.as_str().to_string())
        .collect();
    record.problems = e
        .problems
        .iter()
        .map(|Problem { code, detail }| (code.as_str().to_string(), detail.clone()))
        .collect();
}

async fn mark(ctx: &Ctx, mut record: Record, state: RecordState) -> Result<(), IntakeError> {
    record.state = state;
    ctx.store.update(&record)?;
    ctx.store.flush().await?;
    Ok(())
}
