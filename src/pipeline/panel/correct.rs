//! Corrections by the team: when the reader got a grid wrong or could not read it, the scores
//! as they should have been read, the verdicts worked out again by the same rules, the record
//! and its case updated, the correction audited, and if asked a corrected reply.

use super::{Ctx, PanelError, audit, on_submission, record_by_reference};
use crate::adapters::store::{Record, StoreError};
use crate::domain::panel::case::CaseError;
use crate::domain::panel::members::{Member, Role};
use crate::domain::statement::{Score, Scores, StatementId};
use tracing::warn;

/// The provisional verdicts (with their criteria) for a record's scores and linked case
/// studies, by the same rules as intake.
pub fn judge(
    ctx: &Ctx,
    record: &Record,
    scores: &Scores,
    linked: &std::collections::BTreeSet<StatementId>,
) -> (
    crate::domain::eligibility::Verdict,
    crate::domain::eligibility::Verdict,
) {
    use crate::domain::eligibility::{Input, quality_lead, quality_mark};
    use crate::domain::signoff::SignOff;
    let roster = ctx.roster.load();
    let part = record.partnership.as_deref().and_then(|p| roster.get(p));
    let input = Input {
        scores: Some(scores),
        signoff: SignOff {
            la_send: record.signoff_leads.0,
            yos: record.signoff_leads.1,
            verified: record.signoff_verified,
        },
        partnership_known: part.is_some(),
        dmarc_failed: record
            .problems
            .iter()
            .any(|(code, _)| code == "sender_authentication_failed"),
        case_studies: linked,
        baseline: part.and_then(|p| p.baseline.as_ref()),
    };
    (quality_mark(&input), quality_lead(&input))
}

/// A record's scores and linked case studies as the core's types.
pub fn scores_of(record: &Record) -> (Scores, std::collections::BTreeSet<StatementId>) {
    let scores = record
        .scores
        .iter()
        .filter_map(|(k, v)| Some((StatementId::from_key(k)?, Score::new(*v)?)))
        .collect();
    let linked = record
        .case_studies
        .iter()
        .filter_map(|k| StatementId::from_key(k))
        .collect();
    (scores, linked)
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
    let (qm, ql) = judge(ctx, &record, &c.scores, &linked);
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
    record.scores = c
        .scores
        .iter()
        .map(|(s, v)| (s.as_str().to_string(), v.value()))
        .collect();
    record.case_studies = linked.iter().map(|s| s.as_str().to_string()).collect();
    record.quality_mark = Some(qm.provisional.as_str().into());
    record.quality_lead = Some(ql.provisional.as_str().into());
    record.problems.retain(|(code, _)| code != "no_grid_found");
    let was_submission = record.classification.as_deref() == Some("submission");
    if part.is_some() {
        record.classification = Some("submission".into());
    }
    record
        .corrections
        .push((member.name.clone(), now, c.reason.trim().to_string()));
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
        corrected_reply(ctx, &record, c, qm, ql, now).await?;
    }
    Ok(())
}

/// Re-reads the message (in the worker, as intake does), puts the corrected grid in, and
/// queues the reply under the same reference.
async fn corrected_reply(
    ctx: &Ctx,
    record: &Record,
    c: &Correction,
    qm: crate::domain::eligibility::Verdict,
    ql: crate::domain::eligibility::Verdict,
    now: i64,
) -> Result<(), PanelError> {
    use crate::domain::evaluation::{Classification, Grid};
    let Some(raw) = ctx.store.raw(record.id)? else {
        return Ok(());
    };
    let received = record
        .received_at
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let mut e = match crate::pipeline::intake::evaluate_isolated(ctx, &raw, received).await {
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
        scores: c.scores.clone(),
        baseline,
    });
    e.classification = Classification::Submission;
    e.case_studies = c
        .case_studies
        .iter()
        .map(|s| (*s, e.case_studies.get(s).cloned().unwrap_or_default()))
        .collect();
    e.quality_mark = qm;
    e.quality_lead = ql;
    e.problems
        .retain(|p| p.code != crate::domain::problem::ProblemCode::NoGridFound);
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
    let received = record
        .received_at
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let e = crate::pipeline::intake::evaluate_isolated(ctx, &raw, received)
        .await
        .map_err(|_| CaseError::Invalid("the message could not be read again".into()))?;
    let before = format!(
        "{} / {}",
        record.quality_mark.as_deref().unwrap_or("-"),
        record.quality_lead.as_deref().unwrap_or("-")
    );
    crate::pipeline::intake::summarise(&mut record, &e);
    ctx.store.update(&record)?;
    if e.classification == crate::domain::evaluation::Classification::Submission {
        on_submission(ctx, &record, now)?;
    }
    let case_ref = ctx.store.case(reference)?.map(|k| k.reference);
    audit(
        ctx,
        &member.name,
        "reevaluate",
        case_ref.as_deref().or(Some(reference)),
        format!(
            "{reference}: {before} → {} / {}",
            record.quality_mark.as_deref().unwrap_or("-"),
            record.quality_lead.as_deref().unwrap_or("-")
        ),
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
    match crate::pipeline::intake::build_reply_as(ctx, e, reference, at, None, revision) {
        Ok(out) => {
            ctx.store
                .queue_for_record(out, Some(record_id), false, now)?;
            ctx.outbox_wake.notify_one();
        }
        Err(err) => warn!(error = %err, "The revised reply could not be built."),
    }
    Ok(())
}
