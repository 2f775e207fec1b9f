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
                    } else {
                        item.next_attempt_at =
                            now.as_second() + backoff_seconds(item.attempts, ctx.retry_seconds);
                    }
                }
                Err(SendError::Permanent(e)) => {
                    warn!(id = item.id, error = %e, "Send refused permanently.");
                    item.last_error = Some(e);
                    item.state = OutboxState::Failed;
                }
            }
            ctx.store.save_outbox(&item)?;
            worked += 1;
        }
        ctx.store.flush().await?;
    }
    Ok(if worked == 0 {
        Tick::Idle
    } else {
        Tick::Worked(worked)
    })
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
