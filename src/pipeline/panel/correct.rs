//! Corrections by the team: when the reader got a grid wrong or could not read it, the scores
//! as they should have been read, the verdicts worked out again by the same rules, the record
//! and its case updated, the correction audited, and if asked a corrected reply.

use super::{Ctx, PanelError, audit, on_submission, record_by_reference};
use crate::adapters::store::{Record, StoreError};
use crate::domain::evaluation::Classification;
use crate::domain::panel::case::CaseError;
use crate::domain::panel::members::{Member, Role};
use crate::domain::problem::ProblemCode;
use crate::domain::standing::Standing;
use crate::domain::statement::{Scores, StatementId};
use crate::domain::submission::CorrectionNote;
use tracing::warn;

/// Where a record would stand with these scores and these statements linked to a case
/// study, by the same rules as intake (what the correction form previews).
pub fn judge(
    ctx: &Ctx,
    record: &Record,
    scores: &Scores,
    linked: &std::collections::BTreeSet<StatementId>,
) -> Standing {
    let mut r = record.clone();
    apply(&mut r, scores, linked);
    ctx.standing(&r)
}

/// Puts the team's reading into a record: its scores, and the statements with a case study
/// among the evidence it holds now (later evidence still adds to them).
fn apply(record: &mut Record, scores: &Scores, linked: &std::collections::BTreeSet<StatementId>) {
    record.scores = scores
        .iter()
        .map(|(s, v)| (s.as_str().to_string(), v.value()))
        .collect();
    let seen = record
        .evidence
        .iter()
        .map(|f| f.record_id)
        .max()
        .unwrap_or(0);
    record.team_case_studies = Some((seen.max(record.id), linked.iter().copied().collect()));
    if !scores.is_empty() {
        record
            .problems
            .retain(|p| p.code != ProblemCode::NoGridFound);
    }
}

/// A record's scores and linked case studies as the core's types.
pub fn scores_of(record: &Record) -> (Scores, std::collections::BTreeSet<StatementId>) {
    (record.typed_scores(), record.case_study_statements())
}

/// A correction by the team: the scores as they should have been read, the statements with a
/// case study, and why.
#[derive(Debug, Clone)]
pub struct Correction {
    pub scores: Scores,
    pub case_studies: Vec<StatementId>,
    pub reason: String,
    /// Send the partnership a reply with the corrected scores and verdicts.
    pub send_reply: bool,
}

/// Corrects how a message's grid was read (team only): the verdicts are recomputed by the
/// same rules, the record and its case updated, the correction audited, and, if asked, the
/// partnership sent a corrected reply under the same reference.
pub async fn correct(
    ctx: &Ctx,
    member: &Member,
    reference: &str,
    c: &Correction,
    now: i64,
) -> Result<(), PanelError> {
    if member.role != Role::Team {
        return Err(PanelError::TeamOnly);
    }
    if c.reason.trim().is_empty() {
        return Err(CaseError::Invalid("say why the scores are corrected".into()).into());
    }
    let Some(mut record) = record_by_reference(ctx, reference)? else {
        return Err(PanelError::NotFound(reference.to_string()));
    };
    let roster = ctx.roster.load();
    let part = record.partnership.as_deref().and_then(|p| roster.get(p));
    let linked: std::collections::BTreeSet<StatementId> = c.case_studies.iter().copied().collect();
    let before: Vec<String> = StatementId::ALL
        .iter()
        .map(|s| {
            format!(
                "{}={}",
                s.as_str(),
                record
                    .scores
                    .get(s.as_str())
                    .map_or("-".to_string(), |v| v.to_string())
            )
        })
        .collect();
    apply(&mut record, &c.scores, &linked);
    let was_submission = record.is_submission();
    if part.is_some() {
        record.classification = Some(Classification::Submission);
    }
    record.corrections.push(CorrectionNote {
        by: member.name.clone(),
        at: jiff::Timestamp::from_second(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        reason: c.reason.trim().to_string(),
    });
    ctx.store.update(&record)?;
    if !was_submission && part.is_some() {
        on_submission(ctx, &record, now)?;
    }
    let case_ref = ctx.store.case(reference)?.map(|k| k.reference);
    audit(
        ctx,
        &member.name,
        "correct",
        case_ref.as_deref().or(Some(reference)),
        format!(
            "{reference}: {} → {}; {}",
            before.join(" "),
            StatementId::ALL
                .iter()
                .map(|s| format!(
                    "{}={}",
                    s.as_str(),
                    c.scores.get(s).map_or("-".to_string(), |v| v.to_string())
                ))
                .collect::<Vec<_>>()
                .join(" "),
            c.reason.trim()
        ),
    );
    if c.send_reply {
        corrected_reply(ctx, &record, now).await?;
    }
    Ok(())
}

/// Re-reads the message (in the worker, as intake does), puts the corrected grid and the
/// verdicts as they now stand in, and queues the reply under the same reference.
async fn corrected_reply(ctx: &Ctx, record: &Record, now: i64) -> Result<(), PanelError> {
    use crate::domain::evaluation::Grid;
    let Some(raw) = ctx.store.raw(record.id)? else {
        return Ok(());
    };
    let mut e =
        match crate::pipeline::intake::evaluate_isolated(ctx, &raw, record.received_at).await {
            Ok(e) => e,
            Err(_) => {
                warn!(
                    reference = record.reference,
                    "The message could not be read again for a corrected reply."
                );
                return Ok(());
            }
        };
    let (source, format, baseline) = match e.grid.take() {
        Some(g) => (g.source, g.format, g.baseline),
        None => (
            "the scores corrected by the project team".to_string(),
            crate::domain::grid::GridFormat::Text,
            Scores::new(),
        ),
    };
    e.grid = Some(Grid {
        source,
        format,
        scores: record.typed_scores(),
        baseline,
    });
    e.classification = Classification::Submission;
    let standing = ctx.standing(record);
    crate::pipeline::follow_up::overlay(&mut e, record, &standing);
    let Some(reference) = &record.reference else {
        return Ok(());
    };
    queue_revised_reply(
        ctx,
        &e,
        reference,
        record.id,
        crate::compose::reply::Revision::Corrected,
        now,
    )?;
    Ok(())
}

/// Reads a stored message again with the current roster and reader (after a fix), updates its
/// record and case, audits it, and if asked sends the partnership the reply as it now stands
/// (team only).
pub async fn reevaluate(
    ctx: &Ctx,
    member: &Member,
    reference: &str,
    send_reply: bool,
    now: i64,
) -> Result<(), PanelError> {
    if member.role != Role::Team {
        return Err(PanelError::TeamOnly);
    }
    let Some(mut record) = record_by_reference(ctx, reference)? else {
        return Err(PanelError::NotFound(reference.to_string()));
    };
    let Some(raw) = ctx.store.raw(record.id)? else {
        return Err(CaseError::Invalid(format!(
            "the message of {reference} is no longer stored (purged)"
        ))
        .into());
    };
    let mut e = crate::pipeline::intake::evaluate_isolated(ctx, &raw, record.received_at)
        .await
        .map_err(|_| CaseError::Invalid("the message could not be read again".into()))?;
    let before = verdicts(&ctx.standing(&record));
    // Read again: the message's own facts are replaced; what was joined to it since (a
    // confirmation, evidence, evidence carried from an earlier version) stays.
    crate::pipeline::intake::summarise(&mut record, &e);
    ctx.store.update(&record)?;
    let standing = ctx.standing(&record);
    crate::pipeline::follow_up::overlay(&mut e, &record, &standing);
    if e.classification == crate::domain::evaluation::Classification::Submission {
        on_submission(ctx, &record, now)?;
    }
    let case_ref = ctx.store.case(reference)?.map(|k| k.reference);
    audit(
        ctx,
        &member.name,
        "reevaluate",
        case_ref.as_deref().or(Some(reference)),
        format!("{reference}: {before} → {}", verdicts(&standing)),
    );
    if send_reply {
        queue_revised_reply(
            ctx,
            &e,
            reference,
            record.id,
            crate::compose::reply::Revision::Reevaluated,
            now,
        )?;
    }
    Ok(())
}

/// "incomplete / not_eligible", for the audit trail.
fn verdicts(s: &Standing) -> String {
    format!(
        "{} / {}",
        s.quality_mark.provisional.as_str(),
        s.quality_lead.provisional.as_str()
    )
}

/// Queues the partnership's reply as it now stands (after a correction or a re-reading),
/// marked as a revision of the one they had. A reply that cannot be built is logged: the
/// change itself stands.
fn queue_revised_reply(
    ctx: &Ctx,
    e: &crate::domain::evaluation::Evaluation,
    reference: &str,
    record_id: u64,
    revision: crate::compose::reply::Revision,
    now: i64,
) -> Result<(), StoreError> {
    let at = jiff::Timestamp::from_second(now).unwrap_or_else(|_| jiff::Timestamp::now());
    let extra = crate::pipeline::intake::Extra {
        revision,
        ..Default::default()
    };
    match crate::pipeline::intake::build_reply_with(ctx, e, reference, at, extra) {
        Ok(out) => {
            ctx.store
                .queue_for_record(out, Some(record_id), false, now)?;
            ctx.outbox_wake.notify_one();
        }
        Err(err) => warn!(error = %err, "The revised reply could not be built."),
    }
    Ok(())
}
