//! Retention in the running daemon: once at start and then daily at `retention.at`, the
//! personal data of records whose round closed more than `retention.after_round_months` ago
//! is purged (the rule is in [`crate::domain::retention`]). The purge itself is immediate;
//! getting the bytes out of sled's files needs the store rewritten, which cannot be done to a
//! store held open, so the daemon leaves a marker, stops as on SIGTERM and starts itself again,
//! and the start rewrites the store before anything else.

use super::Ctx;
use crate::adapters::store::{AuditEntry, PurgeReport, Store, StoreError};
use crate::domain::retention::{Held, Policy, round_of_reference};
use jiff::Timestamp;
use std::path::PathBuf;
use tracing::info;

/// Meta key: "UNIX-SECONDS RECORDS" of the last purge, for the digest.
pub const LAST_PURGE: &str = "retention:last_purge";

/// The digest's line on retention.
pub fn summary(ctx: &Ctx) -> Result<String, StoreError> {
    let Some(schedule) = &ctx.retention else {
        return Ok("off: nothing is purged until someone runs `yjsend purge`".into());
    };
    let mut line = format!(
        "personal data kept {} months after a round closes",
        schedule.policy.after_round_months
    );
    if let Some(last) = ctx.store.meta_get(LAST_PURGE)? {
        let mut parts = last.split(' ');
        let at = parts
            .next()
            .and_then(|s| s.parse::<i64>().ok())
            .and_then(|s| Timestamp::from_second(s).ok());
        if let (Some(at), Some(n)) = (at, parts.next()) {
            let when = at
                .to_zoned(ctx.round.load().timezone.clone())
                .strftime("%-d %B %Y at %H:%M")
                .to_string();
            line.push_str(&format!("; last purge {when}, {n} record(s)"));
        }
    }
    Ok(line)
}

/// `[retention]` as the daemon runs it.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub policy: Policy,
    /// Local time of day, in the round's time zone.
    pub at: jiff::civil::Time,
    /// The store's directory (`storage.path`): where the rewrite marker goes.
    pub store_path: PathBuf,
}

/// Purges what is due at `now`. Holds every other step off meanwhile (the pause lock), so no
/// step sees a record half purged. Returns what went, if anything did; the caller then
/// restarts the daemon so the store is rewritten.
pub async fn apply(
    ctx: &Ctx,
    schedule: &Schedule,
    now: Timestamp,
) -> Result<Option<PurgeReport>, StoreError> {
    let _alone = ctx.pause.write().await;
    // Every round's deadline is remembered when it starts (at start-up and on a reload).
    let round = ctx.round.load();
    let closes = ctx.store.round_closes()?;
    let mut due = Vec::new();
    for r in ctx.store.records()? {
        if r.purged {
            continue;
        }
        let received_at = r.received_at;
        let held = Held {
            round: r
                .round
                .as_deref()
                .or_else(|| r.reference.as_deref().and_then(round_of_reference)),
            received_at,
        };
        if schedule
            .policy
            .due(held, &round.reference_prefix, &closes, &round.timezone, now)
        {
            due.push(r.id);
        }
    }
    if due.is_empty() {
        return Ok(None);
    }
    // Only what the records themselves hold: an address's reply counter or audit lines about
    // a current submission are not this purge's to touch.
    let roster = ctx.roster.load();
    let report = ctx
        .store
        .erase(&due, &[], false, ctx.judge(&roster, &round))?;
    ctx.store.audit(&AuditEntry {
        at: now.as_second(),
        who: "yjsend (retention)".into(),
        action: "purge".into(),
        case: None,
        detail: format!(
            "{} months after the round closed: {} record(s), {} message(s)",
            schedule.policy.after_round_months,
            report.records.len(),
            report.messages
        ),
    })?;
    ctx.store.meta_set(
        LAST_PURGE,
        &format!("{} {}", now.as_second(), report.records.len()),
    )?;
    ctx.store.flush().await?;
    Store::request_rewrite(&schedule.store_path)?;
    info!(
        records = report.records.len(),
        messages = report.messages,
        outgoing = report.outgoing,
        "Retention: purged the personal data of records past their period; the store will be rewritten."
    );
    Ok(Some(report))
}
