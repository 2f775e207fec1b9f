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
use super::{Ctx, Evaluator, Tick, follow_up};
use crate::adapters::store::{NewOutgoing, Record, RecordState, StoreError};
use crate::compose::reply::{self, ReplyParams};
use crate::domain::evaluation::{Classification, Evaluation};
use crate::domain::problem::{Problem, ProblemCode};
use crate::domain::standing::DERIVED_CODES;
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
            let mut record = Record::received(
                key.clone(),
                hash,
                message.received_at,
                message.size,
                Some(ctx.round.load().reference_prefix.clone()),
            );
            record.attempts = u32::from(in_process(ctx));
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
                .push(Problem::new(ProblemCode::EvaluationTimeout, detail));
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
    store_result(ctx, record, evaluation, now).await.map(Some)
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
async fn store_result(
    ctx: &Ctx,
    mut record: Record,
    mut evaluation: Evaluation,
    now: Timestamp,
) -> Result<Record, IntakeError> {
    summarise(&mut record, &evaluation);
    let duplicate = ctx
        .store
        .find_duplicate(evaluation.message_id.as_deref(), &record.hash)?
        .filter(|d| d.id != record.id);
    if let Some(d) = duplicate {
        info!(
            key = record.ledger_key,
            earlier = d.id,
            "Repeat of a handled message; not answering again."
        );
        record.duplicate_of = Some(d.id);
        record.no_reply_reason = Some("a repeat of a message already handled".into());
        return Ok(ctx
            .store
            .complete(record, None, Vec::new(), None, now.as_second())?);
    }
    match follow_up::find(ctx, &evaluation)? {
        follow_up::Found::Join(target, via) => {
            return join(ctx, record, &evaluation, *target, via, now).await;
        }
        follow_up::Found::Outsider(reference) => {
            warn!(
                key = record.ledger_key,
                reference,
                "A message names a submission's reference but is not from its partnership; read on its own."
            );
            record.problems.push(Problem::new(
                ProblemCode::UnknownPartnership,
                format!(
                    "This email names {reference} in its subject, but it is not from that partnership's leads or domain, so it was not added to that submission."
                ),
            ));
        }
        follow_up::Found::OtherThread | follow_up::Found::None => {}
    }
    let mut carried = Vec::new();
    if evaluation.classification == Classification::Submission
        && let Some(p) = &evaluation.partnership
        && let Some(earlier) = ctx.store.latest_submission(&p.id)?
        && earlier.round == record.round
        && earlier.id != record.id
    {
        carried = follow_up::carry_evidence(&mut record, &earlier);
        if !carried.is_empty() {
            let standing = ctx.standing(&record);
            follow_up::overlay(&mut evaluation, &record, &standing);
        }
    }
    let mut outgoing = Vec::new();
    let mut reference = None;
    if record.no_reply_reason.is_none() {
        match reply_policy::decide(&evaluation, policy_input(ctx, &evaluation, now)?) {
            Err(reason) => {
                info!(key = record.ledger_key, reason, "No automatic reply.");
                record.no_reply_reason = Some(reason);
            }
            Ok(()) => {
                let r = ctx
                    .store
                    .peek_reference(&ctx.round.load().reference_prefix)?;
                let extra = Extra {
                    carried: &carried,
                    ..Extra::default()
                };
                match build_reply_with(ctx, &evaluation, &r, now, extra) {
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
    let record = ctx.store.complete(
        record,
        reference.as_deref(),
        outgoing,
        None,
        now.as_second(),
    )?;
    // The panel's side: a submission opens or joins its case.
    if evaluation.classification == Classification::Submission {
        super::panel::on_submission(ctx, &record, now.as_second())?;
    }
    if replying {
        count_reply(ctx, &sender, now)?;
    }
    Ok(record)
}

fn count_reply(ctx: &Ctx, sender: &str, now: Timestamp) -> Result<(), StoreError> {
    let since = now.as_second() - ctx.window_hours * 3600;
    ctx.store
        .sender_replies(sender, since, now.as_second(), true)?;
    Ok(())
}

/// Joins a grid-less message to the submission it belongs to, saves both in one transaction
/// with the acknowledgement (when one is due), and lands an answer on the panel's case.
async fn join(
    ctx: &Ctx,
    mut record: Record,
    e: &Evaluation,
    target: Record,
    via: follow_up::Via,
    now: Timestamp,
) -> Result<Record, IntakeError> {
    let answers_panel = waiting_for_answer(ctx, &target)?;
    let joining = follow_up::join(ctx, &mut record, e, target, via, answers_panel);
    let target = joining.target;
    let reference = target.reference.clone().unwrap_or_default();
    let mut outgoing = Vec::new();
    if joining.acknowledge {
        let mut input = policy_input(ctx, e, now)?;
        // A message in our thread is answered here: it added something to a submission.
        input.in_our_thread = false;
        match reply_policy::decide(e, input) {
            Err(reason) => record.no_reply_reason = Some(reason),
            Ok(()) => match follow_up::current_view(ctx, &target, &joining.after).await {
                Some(mut view) => {
                    // Threaded under the message being acknowledged, to the right people.
                    view.message_id = e.message_id.clone();
                    view.subject = e.subject.clone().or(view.subject);
                    view.envelope.references = e.envelope.references.clone();
                    view.envelope.reply_to = Vec::new();
                    view.evidence = e.evidence.clone();
                    let to = follow_up::recipients(ctx, e, &target);
                    let extra = Extra {
                        joins: Some(&reference),
                        changes: &joining.changes,
                        to: Some(&to),
                        ..Extra::default()
                    };
                    match build_reply_with(ctx, &view, &reference, now, extra) {
                        Ok(out) => outgoing.push(out),
                        Err(err) => {
                            record.no_reply_reason =
                                Some(format!("the reply could not be built: {err}"))
                        }
                    }
                }
                None => {
                    record.no_reply_reason = Some(format!(
                        "joined to {reference}; its message could not be read again for an acknowledgement"
                    ))
                }
            },
        }
    }
    let replying = !outgoing.is_empty();
    let record = ctx
        .store
        .complete(record, None, outgoing, Some(&target), now.as_second())?;
    if answers_panel {
        let answer = record
            .message_id
            .clone()
            .unwrap_or_else(|| record.ledger_key.clone());
        super::panel::on_answer(ctx, &target, &answer, now.as_second())?;
    }
    if replying {
        count_reply(ctx, e.from.as_deref().unwrap_or(""), now)?;
    }
    Ok(record)
}

/// Whether the submission's case waits for the partnership's answer to the panel.
fn waiting_for_answer(ctx: &Ctx, target: &Record) -> Result<bool, StoreError> {
    let Some(reference) = &target.reference else {
        return Ok(false);
    };
    Ok(ctx
        .store
        .case(reference)?
        .is_some_and(|c| c.state == crate::domain::panel::case::CaseState::WaitingForInfo))
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

/// What a reply may carry besides its evaluation.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Extra<'a> {
    /// The submission a joined message was added to.
    pub joins: Option<&'a str>,
    /// What a joined message changed.
    pub changes: &'a [String],
    /// Evidence counted from an earlier version.
    pub carried: &'a [String],
    /// Who it goes to, when not the message's sender (a joined message from someone who is
    /// not a lead: the roster leads).
    pub to: Option<&'a [String]>,
    pub revision: reply::Revision,
}

/// The reply to a message, with what a follow-up, a new version, a correction or a re-reading
/// adds.
pub(crate) fn build_reply_with(
    ctx: &Ctx,
    e: &Evaluation,
    reference: &str,
    now: Timestamp,
    extra: Extra,
) -> Result<NewOutgoing, crate::compose::reply::ComposeError> {
    let roster = ctx.roster.load();
    let partnership = e.partnership.as_ref().and_then(|p| roster.get(&p.id));
    let leads: Vec<String> = partnership.map(|p| p.leads()).unwrap_or_default();
    let earlier = match (&e.partnership, e.classification) {
        (Some(p), Classification::Submission)
            if extra.revision == reply::Revision::None && extra.joins.is_none() =>
        {
            ctx.store.latest_submission(&p.id).ok().flatten()
        }
        _ => None,
    };
    // A reply about a missing grid to a partnership on the roster carries the grid template,
    // filled with their baseline (senders not on the roster get no attachments).
    let template = match partnership {
        Some(part)
            if extra.joins.is_none()
                && e.classification == Classification::NoGrid
                && !e.has_problem(ProblemCode::MessageTooLarge) =>
        {
            crate::compose::template::build(&ctx.round.load(), Some(part))
                .map_err(|err| warn!(error = %err, "The grid template was not built."))
                .ok()
        }
        _ => None,
    };
    let mut addressed;
    let e = match extra.to {
        Some(to) if !to.is_empty() => {
            addressed = e.clone();
            addressed.from = to.first().cloned();
            addressed.envelope.reply_to = to.to_vec();
            &addressed
        }
        _ => e,
    };
    let params = ReplyParams {
        from: &ctx.from,
        reference,
        now,
        round: &ctx.round.load(),
        leads: &leads,
        replaces: earlier.as_ref().and_then(|r| r.reference.as_deref()),
        joins: extra.joins,
        baseline: partnership.and_then(|part| part.baseline.as_ref()),
        previous: earlier.as_ref().map(|r| &r.scores),
        template: template.as_deref(),
        revision: extra.revision,
        changes: extra.changes,
        carried: extra.carried,
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

/// Copies the facts of the evaluation into the record. The verdicts are not copied: they are
/// derived from these facts (and from whatever is joined to the record later). Evidence that
/// came with other messages (joined, or carried from an earlier version) is kept.
pub(crate) fn summarise(record: &mut Record, e: &Evaluation) {
    record.message_id = e.message_id.clone();
    record.from = e.from.clone();
    record.subject = e.subject.clone();
    record.classification = Some(e.classification);
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
    record.on_time = e.deadline.on_time;
    record.signoff_leads = (e.signoff.la_send, e.signoff.yos);
    let id = record.id;
    record.evidence.retain(|f| f.record_id != id);
    let own = follow_up::evidence_of(e, id);
    record.evidence.splice(0..0, own);
    record.problems = e
        .problems
        .iter()
        .filter(|p| !DERIVED_CODES.contains(&p.code))
        .cloned()
        .collect();
}

async fn mark(ctx: &Ctx, mut record: Record, state: RecordState) -> Result<(), IntakeError> {
    record.state = state;
    ctx.store.update(&record)?;
    ctx.store.flush().await?;
    Ok(())
}
