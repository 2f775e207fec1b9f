//! One delivery step: send what is due in the outbox. Attempts are counted (and flushed)
//! before sending, transient failures are retried with backoff, permanent ones are kept as
//! failed for the team to see — never dropped.
//!
//! The one duplicate this allows: the server accepted a message and the process died before
//! its `sent` mark was flushed; it is sent again after restart (same bytes, same Message-ID).
//! Marks are flushed every few messages, so that window holds at most a handful of replies.

use super::ports::{Outgoing, SendError, Transport};
use super::{Ctx, Tick};
use crate::adapters::store::{OutboxState, StoreError};
use jiff::Timestamp;
use tracing::{info, warn};

/// Messages sent between two flushes of the outbox: bounds the replies a crash can resend.
const GROUP: usize = 8;

/// Attempts before a transiently failing message is marked failed.
pub const MAX_ATTEMPTS: u32 = 30;

/// Seconds to wait before attempt `attempts + 1`: `base` (at most an hour, as the
/// configuration checks) doubling, capped at an hour.
pub fn backoff_seconds(attempts: u32, base: i64) -> i64 {
    let exp = attempts.saturating_sub(1).min(12);
    (base << exp).min(3600)
}

/// Sends everything due once.
pub async fn tick<T: Transport>(
    ctx: &Ctx,
    transport: &T,
    now: Timestamp,
) -> Result<Tick, StoreError> {
    tick_until(ctx, transport, now, || false).await
}

/// Sends everything due once, stopping early (between groups) when `stop` says so: a
/// shutdown does not wait for a long queue, which stays safe in the outbox.
pub async fn tick_until<T: Transport>(
    ctx: &Ctx,
    transport: &T,
    now: Timestamp,
    stop: impl Fn() -> bool,
) -> Result<Tick, StoreError> {
    let due = ctx.store.due_outbox(now.as_second())?;
    let mut worked = 0;
    // Messages given up on in this step (not alerts: an alert about an alert would loop).
    let mut given_up: Vec<(String, String)> = Vec::new();
    // In groups: the attempts of a group are counted with one flush before any of it is sent,
    // and its `sent` marks with one flush after. A crash can then resend at most one group's
    // replies (the ones the server accepted before the marks were flushed).
    for group in due.chunks(GROUP) {
        if stop() {
            break;
        }
        let mut items = Vec::with_capacity(group.len());
        for item in group {
            let mut item = item.clone();
            item.attempts += 1;
            ctx.store.save_outbox(&item)?;
            items.push(item);
        }
        ctx.store.flush().await?;
        for mut item in items {
            let Some(bytes) = ctx.store.outbox_bytes(item.id)? else {
                continue;
            };
            let result = transport
                .send(Outgoing {
                    id: item.id,
                    envelope_from: &item.envelope_from,
                    recipients: &item.recipients,
                    bytes: &bytes,
                })
                .await;
            match result {
                Ok(()) => {
                    info!(id = item.id, kind = item.kind, "Sent.");
                    item.state = OutboxState::Sent;
                    item.last_error = None;
                }
                Err(SendError::Transient(e)) => {
                    warn!(id = item.id, attempts = item.attempts, error = %e, "Send failed; will retry.");
                    item.last_error = Some(e);
                    if item.attempts >= MAX_ATTEMPTS {
                        item.state = OutboxState::Failed;
                        given_up.push((
                            item.kind.clone(),
                            item.last_error.clone().unwrap_or_default(),
                        ));
                    } else {
                        item.next_attempt_at =
                            now.as_second() + backoff_seconds(item.attempts, ctx.retry_seconds);
                    }
                }
                Err(SendError::Permanent(e)) => {
                    warn!(id = item.id, error = %e, "Send refused permanently.");
                    given_up.push((item.kind.clone(), e.clone()));
                    item.last_error = Some(e);
                    item.state = OutboxState::Failed;
                }
            }
            ctx.store.save_outbox(&item)?;
            worked += 1;
        }
        ctx.store.flush().await?;
    }
    given_up.retain(|(kind, _)| kind != "alert");
    if !given_up.is_empty() && alert_undelivered(ctx, &given_up, now)? {
        ctx.store.flush().await?;
        ctx.outbox_wake.notify_one();
    }
    Ok(if worked == 0 {
        Tick::Idle
    } else {
        Tick::Worked(worked)
    })
}

/// Tells the team that messages could not be delivered: at once, and at most once an hour
/// (a relay refusing everything would otherwise send one alert per reply).
fn alert_undelivered(
    ctx: &Ctx,
    given_up: &[(String, String)],
    now: Timestamp,
) -> Result<bool, StoreError> {
    const LAST: &str = "alert:undelivered_at";
    let last = ctx
        .store
        .meta_get(LAST)?
        .and_then(|t| t.parse::<i64>().ok());
    if last.is_some_and(|last| now.as_second().saturating_sub(last) < 3600) {
        return Ok(false);
    }
    ctx.store.meta_set(LAST, &now.as_second().to_string())?;
    let (kind, error) = &given_up[given_up.len() - 1];
    let body = format!(
        "{} message(s) could not be delivered and have been set aside (the last, a {kind}: {error}).\n\n\
         Nothing is lost: they are kept. See them with `yjsend outbox`; once the cause is fixed \
         (the mail relay, or an address in the roster), send them again with `yjsend outbox retry`.",
        given_up.len()
    );
    super::alert::queue(ctx, "messages could not be delivered", &body, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_seconds(1, 30), 30);
        assert_eq!(backoff_seconds(2, 30), 60);
        assert_eq!(backoff_seconds(3, 30), 120);
        assert_eq!(backoff_seconds(8, 30), 3600);
        assert_eq!(backoff_seconds(30, 30), 3600);
        assert_eq!(backoff_seconds(1, 1), 1);
        assert_eq!(backoff_seconds(5, 1), 16);
        assert_eq!(backoff_seconds(30, 1), 3600);
    }
}
