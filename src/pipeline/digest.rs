//! The daily triage digest: built from the store at `digest.at` (the round's local time),
//! queued in the outbox like every other message, and recorded in the same transaction as the
//! period it covers, so it is never lost and never sent twice. A digest whose time passed
//! while the daemon was down is sent when it starts, once; on the very first start none counts
//! as missed.

use super::Ctx;
use crate::adapters::store::{NewOutgoing, OutboxState, Record, RecordState, StoreError};
use crate::compose::digest::{
    AttentionLine, Counts, DigestView, SelfCheck, SubmissionLine, message,
};

use crate::domain::eligibility::Provisional;
use crate::domain::evaluation::Classification;
use crate::domain::problem::ProblemCode;
use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use tracing::{info, warn};

/// Meta keys: the last slot covered, the first record the next digest includes.
const SLOT: &str = "digest_slot";
const NEXT_RECORD: &str = "digest_next_record";

/// Charts per digest at most: a busy day's digest stays a sensible size.
const MAX_CHARTS: usize = 20;

/// The latest time of day `at` (in `tz`) at or before `now`.
pub fn latest_slot(at: Time, tz: &TimeZone, now: Timestamp) -> Timestamp {
    let local = now.to_zoned(tz.clone());
    let today = local.date().to_datetime(at);
    let candidate = tz
        .to_ambiguous_zoned(today)
        .compatible()
        .map(|z| z.timestamp())
        .unwrap_or(now);
    if candidate <= now {
        return candidate;
    }
    let yesterday = local
        .date()
        .yesterday()
        .map(|d| d.to_datetime(at))
        .unwrap_or(today);
    tz.to_ambiguous_zoned(yesterday)
        .compatible()
        .map(|z| z.timestamp())
        .unwrap_or(now)
}

/// The next time of day `at` after `now`.
pub fn next_slot(at: Time, tz: &TimeZone, now: Timestamp) -> Timestamp {
    let local = now.to_zoned(tz.clone());
    for date in [Some(local.date()), local.date().tomorrow().ok()]
        .into_iter()
        .flatten()
    {
        if let Ok(z) = tz.to_ambiguous_zoned(date.to_datetime(at)).compatible()
            && z.timestamp() > now
        {
            return z.timestamp();
        }
    }
    now + jiff::SignedDuration::from_hours(24)
}

/// Queues the digest if a slot has passed since the last one. Returns whether one was queued.
pub fn catch_up(ctx: &Ctx, now: Timestamp) -> Result<bool, StoreError> {
    if ctx.digest_to.is_empty() {
        return Ok(false);
    }
    let slot = latest_slot(ctx.digest_at, &ctx.round.load().timezone, now);
    match ctx.store.meta_get(SLOT)? {
        None => {
            // The first start: nothing was missed; the first digest is the next slot's.
            ctx.store.meta_set(SLOT, &slot.to_string())?;
            Ok(false)
        }
        Some(last) if last.parse::<Timestamp>().is_ok_and(|l| l >= slot) => Ok(false),
        Some(_) => queue(ctx, now, Some(slot)),
    }
}

/// The first record the next digest covers (0: every record).
pub fn next_record(ctx: &Ctx) -> Result<u64, StoreError> {
    Ok(ctx
        .store
        .meta_get(NEXT_RECORD)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Builds and queues a digest now (`slot`: the scheduled time it stands for, if any).
pub fn queue(ctx: &Ctx, now: Timestamp, slot: Option<Timestamp>) -> Result<bool, StoreError> {
    let Built {
        view,
        charts,
        next_record,
    } = view(ctx, now, next_record(ctx)?, true)?;
    let subject = format!(
        "[yjsend] Digest for {}: {} new, {} needing attention",
        view.date,
        view.submissions.len(),
        view.attention.len()
    );
    let rendered = ctx
        .wording
        .render("digest.txt.j2", &view)
        .and_then(|text| Ok((text, ctx.wording.render("digest.html.j2", &view)?)));
    let (text, html) = match rendered {
        Ok(t) => t,
        Err(e) => {
            warn!(error = %e, "The digest could not be rendered.");
            return Ok(false);
        }
    };
    let built = match message(&ctx.from, &ctx.digest_to, &subject, text, html, charts, now) {
        Ok(m) => m,
        Err(e) => {
            warn!(error = %e, "The digest could not be built.");
            return Ok(false);
        }
    };
    let mut meta = vec![(NEXT_RECORD, next_record.to_string())];
    if let Some(slot) = slot {
        meta.push((SLOT, slot.to_string()));
    }
    ctx.store.enqueue_with_meta(
        NewOutgoing {
            kind: "digest".into(),
            message_id: Some(built.message_id),
            envelope_from: ctx.own_addresses.first().cloned().unwrap_or_default(),
            recipients: ctx.digest_to.clone(),
            bytes: built.bytes,
        },
        now.as_second(),
        &meta,
    )?;
    info!(
        submissions = view.submissions.len(),
        attention = view.attention.len(),
        "Digest queued."
    );
    Ok(true)
}

fn verdict_words(v: Provisional) -> String {
    match v {
        Provisional::Eligible => "eligible".into(),
        Provisional::NotEligible => "not eligible".into(),
        Provisional::Incomplete => "incomplete".into(),
    }
}

/// Problem codes that mean a file or the message could not be read as sent.
const READING_PROBLEMS: [ProblemCode; 9] = [
    ProblemCode::EncryptedAttachment,
    ProblemCode::CorruptAttachment,
    ProblemCode::UnsupportedFormat,
    ProblemCode::UnreadableDocument,
    ProblemCode::LinkInsteadOfAttachment,
    ProblemCode::AmbiguousGrid,
    ProblemCode::AmbiguousScore,
    ProblemCode::EvaluationTimeout,
    ProblemCode::MalformedMessage,
];

/// What about this record needs a person, if anything.
fn attention(r: &Record) -> Option<(String, String)> {
    let first_problem = || {
        r.problems
            .first()
            .map(|p| p.detail.clone())
            .unwrap_or_default()
    };
    if r.state == RecordState::Quarantined {
        let detail = r
            .problems
            .first()
            .map(|p| p.detail.clone())
            .unwrap_or_else(|| format!("Evaluation failed {} times.", r.attempts));
        return Some(("Quarantined".into(), detail));
    }
    if r.duplicate_of.is_some() || r.classification == Some(Classification::Automatic) {
        return None;
    }
    if r.classification == Some(Classification::NoGrid) {
        return Some(match &r.no_reply_reason {
            Some(reason) => ("For the team".into(), reason.clone()),
            None if r.partnership.is_none() => ("Unknown sender, no grid".into(), first_problem()),
            None => ("No readable grid".into(), first_problem()),
        });
    }
    if r.partnership.is_none() {
        return Some(("Unknown sender".into(), first_problem()));
    }
    if let Some(p) = r
        .problems
        .iter()
        .find(|p| READING_PROBLEMS.contains(&p.code))
    {
        return Some(("Problems reading".into(), p.detail.clone()));
    }
    r.no_reply_reason
        .as_ref()
        .map(|reason| ("Not answered".into(), reason.clone()))
}

/// A digest's content before it is rendered.
pub struct Built {
    pub view: DigestView,
    /// Content-ID and PNG of each new submission's profile chart.
    pub charts: Vec<(String, Vec<u8>)>,
    /// The first record the digest after this one covers.
    pub next_record: u64,
}

/// Builds the digest's view of the records from `first` on; the profile charts only when
/// `draw_charts` (the email has them; the team's page does not).
pub fn view(ctx: &Ctx, now: Timestamp, first: u64, draw_charts: bool) -> Result<Built, StoreError> {
    let tz = &ctx.round.load().timezone;
    let local = |t: Timestamp, f: &str| t.to_zoned(tz.clone()).strftime(f).to_string();
    let today = now.to_zoned(tz.clone()).date();
    let deadline_day = ctx.round.load().deadline.to_zoned(tz.clone()).date();
    let days_to_deadline = today
        .until(deadline_day)
        .map(|s| s.get_days() as i64)
        .unwrap_or(0);

    let mut counts = Counts {
        partnerships: ctx.roster.load().partnerships.len(),
        ..Counts::default()
    };
    let mut chase = Vec::new();
    let prefix = format!("{}-", ctx.round.load().reference_prefix);
    for p in &ctx.roster.load().partnerships {
        // Counts are the current round's.
        let latest = ctx.store.latest_submission(&p.id)?.filter(|r| {
            r.reference
                .as_deref()
                .is_some_and(|x| x.starts_with(&prefix))
        });
        match latest {
            Some(r) => {
                let standing = ctx.standing(&r);
                let (qm, ql) = (
                    standing.quality_mark.provisional,
                    standing.quality_lead.provisional,
                );
                counts.received += 1;
                counts.quality_mark += usize::from(qm == Provisional::Eligible);
                counts.quality_lead += usize::from(ql == Provisional::Eligible);
                counts.incomplete += usize::from(qm == Provisional::Incomplete);
                counts.late += usize::from(r.on_time == Some(false));
            }
            None => chase.push(p.name.clone()),
        }
    }

    let records = ctx.store.records_from(first)?;
    let next_record = records.iter().map(|r| r.id + 1).max().unwrap_or(first);
    let mut submissions = Vec::new();
    let mut attention_lines = Vec::new();
    let mut charts = Vec::new();
    let mut last_reference: std::collections::HashMap<String, String> = Default::default();
    for r in &records {
        let is_submission = r.is_submission() && r.duplicate_of.is_none();
        if is_submission && let Some(reference) = &r.reference {
            let partnership = r.partnership.as_deref().unwrap_or("");
            let roster = ctx.roster.load();
            let part = roster.get(partnership);
            let name = part.map_or_else(|| "(unknown)".to_string(), |p| p.name.clone());
            let mut chart_cid = None;
            if draw_charts && charts.len() < MAX_CHARTS && !r.scores.is_empty() {
                let scores = r.typed_scores();
                let baseline = part.and_then(|p| p.baseline.as_ref());
                if let Ok(png) = crate::compose::chart::profile_png(&name, baseline, &scores) {
                    let cid = format!("chart-{reference}@yjsend");
                    charts.push((cid.clone(), png));
                    chart_cid = Some(cid);
                }
            }
            let standing = ctx.standing(r);
            // An earlier submission of the same partnership in this digest is replaced.
            let replaces = last_reference.insert(partnership.to_string(), reference.clone());
            submissions.push(SubmissionLine {
                reference: reference.clone(),
                partnership: name,
                received: local(r.received_at, "%-d %b %H:%M"),
                quality_mark: verdict_words(standing.quality_mark.provisional),
                quality_lead: verdict_words(standing.quality_lead.provisional),
                signoff: standing.signoff.verified,
                on_time: r.on_time,
                problems: r
                    .all_problems(&standing)
                    .iter()
                    .map(|p| p.code.as_str().to_string())
                    .collect(),
                replaces,
                chart_cid,
                redesignation: part.is_some_and(|p| {
                    p.awards
                        .iter()
                        .any(|a| a.kind == crate::domain::roster::AwardKind::QualityLead)
                }),
            });
        }
        if let Some((what, detail)) = attention(r) {
            attention_lines.push(AttentionLine {
                reference: r.reference.clone(),
                what,
                from: r.from.clone(),
                subject: r.subject.clone(),
                detail,
            });
        }
    }
    submissions.reverse();

    let outbox = ctx.store.outbox_items()?;
    let failed: Vec<_> = outbox
        .iter()
        .filter(|i| i.state == OutboxState::Failed)
        .collect();
    let pending = outbox
        .iter()
        .filter(|i| i.state == OutboxState::Pending)
        .count();
    for item in &failed {
        let record = item
            .record_id
            .map(|id| ctx.store.record(id))
            .transpose()?
            .flatten();
        attention_lines.push(AttentionLine {
            reference: record.as_ref().and_then(|r| r.reference.clone()),
            what: format!("{} not delivered", capitalised(&item.kind)),
            from: None,
            subject: record.and_then(|r| r.subject),
            detail: format!(
                "To {}: {}",
                item.recipients.join(", "),
                item.last_error.clone().unwrap_or_default()
            ),
        });
    }
    attention_lines.extend(unusual_access(ctx, now)?);
    counts.attention = attention_lines.len();

    let last_ok = ctx
        .store
        .meta_get("mailbox_last_ok")?
        .and_then(|s| s.parse::<Timestamp>().ok());
    let mut problems = Vec::new();
    match last_ok {
        None => problems.push("The mailbox has not been read yet.".to_string()),
        Some(t) if now.duration_since(t).as_secs() > 3600 => problems.push(format!(
            "The mailbox has not been read since {}.",
            local(t, "%-d %B %Y at %H:%M")
        )),
        Some(_) => {}
    }
    let expires = credentials_expire(ctx)?;
    if let Some((date, what)) = &expires
        && (*date - today).get_days() <= 30
    {
        problems.push(format!(
            "The mailbox sign-in ({what}) expires on {}: renew it before then.",
            date.strftime("%-d %B %Y")
        ));
    }
    if let Some(e) = ctx.store.meta_get(crate::adapters::oauth2::LAST_ERROR)?
        && ctx
            .store
            .meta_get(crate::adapters::oauth2::LAST_OK)?
            .is_none_or(|ok| ok < e)
    {
        problems.push(format!("Mailbox sign-in is failing: {e}"));
    }
    if !failed.is_empty() {
        problems.push(format!(
            "{} message{} could not be delivered.",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" }
        ));
    }
    let self_check = SelfCheck {
        mailbox_last_ok: last_ok.map(|t| local(t, "%-d %B %Y at %H:%M")),
        mailbox_waiting: ctx
            .store
            .meta_get("mailbox_waiting")?
            .and_then(|s| s.parse().ok()),
        ledger: ctx.store.record_count(),
        outbox_pending: pending,
        outbox_failed: failed.len(),
        credentials_expire: expires
            .map(|(d, what)| format!("{} ({what})", d.strftime("%-d %B %Y"))),
        retention: super::retention::summary(ctx)?,
        summary: if problems.is_empty() {
            "All well.".into()
        } else {
            problems.join(" ")
        },
    };
    // Quality Leads are redesignated about three years on: listed from six months before.
    let mut due: Vec<(jiff::civil::Date, String)> = Vec::new();
    for p in &ctx.roster.load().partnerships {
        for a in &p.awards {
            if a.kind != crate::domain::roster::AwardKind::QualityLead {
                continue;
            }
            let Ok(when) = a.date.checked_add(jiff::Span::new().years(3)) else {
                continue;
            };
            if let Ok(soon) = today.checked_add(jiff::Span::new().months(6))
                && when <= soon
            {
                due.push((
                    when,
                    format!(
                        "{}: Quality Lead since {}, due {}",
                        p.name,
                        a.date.strftime("%-d %B %Y"),
                        when.strftime("%B %Y")
                    ),
                ));
            }
        }
    }
    due.sort();
    let view = DigestView {
        round_name: ctx.round.load().name.clone(),
        date: local(now, "%A %-d %B %Y"),
        deadline: local(ctx.round.load().deadline, "%-d %B %Y at %H:%M"),
        days_to_deadline,
        counts,
        submissions,
        attention: attention_lines,
        self_check,
        chase,
        redesignation: due.into_iter().map(|(_, line)| line).collect(),
    };
    Ok(Built {
        view,
        charts,
        next_record,
    })
}

/// The earliest known expiry of the mailbox's sign-in: the OAuth2 client secret (from the
/// configuration) or the refresh token (where the provider said so).
pub fn credentials_expire(
    ctx: &Ctx,
) -> Result<Option<(jiff::civil::Date, &'static str)>, StoreError> {
    let refresh = ctx
        .store
        .meta_get(crate::adapters::oauth2::REFRESH_EXPIRES)?
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(|t| Timestamp::from_second(t).ok())
        .map(|t| {
            (
                t.to_zoned(ctx.round.load().timezone.clone()).date(),
                "OAuth2 refresh token",
            )
        });
    let secret = ctx.secret_expires.map(|d| (d, "OAuth2 client secret"));
    Ok([refresh, secret]
        .into_iter()
        .flatten()
        .min_by_key(|(d, _)| *d))
}

/// Cases opened in a day, by a member, that they did not hold: more than this is reported.
const UNUSUAL_CASES: usize = 5;

/// Members who opened many cases outside their claims in the last day (these are case studies
/// about children: who looks at what is watched).
fn unusual_access(ctx: &Ctx, now: Timestamp) -> Result<Vec<AttentionLine>, StoreError> {
    let since = now.as_second() - 86_400;
    let cases: std::collections::HashMap<String, Option<String>> = ctx
        .store
        .cases()?
        .into_iter()
        .map(|c| (c.reference, c.claim.map(|k| k.member)))
        .collect();
    let mut outside: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for a in ctx.store.audit_trail(None)? {
        if a.at < since || !matches!(a.action.as_str(), "open_case" | "read_file") {
            continue;
        }
        let Some(case) = &a.case else { continue };
        if cases.get(case).and_then(|c| c.as_deref()) != Some(a.who.as_str()) {
            outside
                .entry(a.who.clone())
                .or_default()
                .insert(case.clone());
        }
    }
    Ok(outside
        .into_iter()
        .filter(|(_, cases)| cases.len() > UNUSUAL_CASES)
        .map(|(who, cases)| AttentionLine {
            reference: None,
            what: "Unusual access".into(),
            from: None,
            subject: None,
            detail: format!(
                "{who} opened {} cases in the last day that they do not hold: {}",
                cases.len(),
                cases.into_iter().collect::<Vec<_>>().join(", ")
            ),
        })
        .collect())
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> TimeZone {
        TimeZone::get("Europe/London").unwrap()
    }

    #[test]
    fn the_slot_is_today_once_the_time_has_passed_and_yesterday_before() {
        let at = jiff::civil::time(8, 0, 0, 0);
        let after: Timestamp = "2018-02-20T08:30:00Z".parse().unwrap();
        assert_eq!(
            latest_slot(at, &tz(), after).to_string(),
            "2018-02-20T08:00:00Z"
        );
        let before: Timestamp = "2018-02-20T07:30:00Z".parse().unwrap();
        assert_eq!(
            latest_slot(at, &tz(), before).to_string(),
            "2018-02-19T08:00:00Z"
        );
        assert_eq!(
            next_slot(at, &tz(), before).to_string(),
            "2018-02-20T08:00:00Z"
        );
        assert_eq!(
            next_slot(at, &tz(), after).to_string(),
            "2018-02-21T08:00:00Z"
        );
    }

    #[test]
    fn slots_follow_local_time_across_the_clock_change() {
        // British Summer Time began on 25 March 2018: 08:00 local is 07:00 UTC from then.
        let at = jiff::civil::time(8, 0, 0, 0);
        let now: Timestamp = "2018-03-26T12:00:00Z".parse().unwrap();
        assert_eq!(
            latest_slot(at, &tz(), now).to_string(),
            "2018-03-26T07:00:00Z"
        );
    }
}
