//! The run loop: intake and delivery steps, then a wait for mail (IDLE or a poll), until
//! shutdown. `--once` runs the steps until both are idle and returns.
//!
//! Shutdown is only observed between steps and during the wait, so a message in flight is
//! always finished (stored, answered, moved) before the daemon exits.

use super::ports::{Mailbox, MailboxError, Transport};
use super::{Ctx, Tick, delivery, intake};
use jiff::Timestamp;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{error, info, warn};

/// Why the loop stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store failed: intake stops rather than carry on half-written.
    #[error("stopped because the store failed: {0}")]
    Store(#[from] crate::adapters::store::StoreError),
}

/// How the loop waits.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// The longest wait between passes even when the mailbox signals nothing (backstop poll).
    pub backstop: Duration,
    /// The first delay after a mailbox failure; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Pace {
    fn default() -> Pace {
        Pace {
            backstop: Duration::from_secs(60),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
        }
    }
}

/// Runs until `shutdown` turns true (or, with `once`, until there is nothing left to do).
pub async fn run<M: Mailbox, T: Transport>(
    ctx: &Ctx,
    mailbox: &mut M,
    transport: &T,
    once: bool,
    pace: Pace,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), RunError> {
    let mut backoff = pace.min_backoff;
    loop {
        if *shutdown.borrow() {
            info!("Shutting down: nothing in flight.");
            return Ok(());
        }
        let now = Timestamp::now();
        let intake = match intake::tick(ctx, mailbox, now).await {
            Ok(t) => {
                backoff = pace.min_backoff;
                t
            }
            Err(intake::IntakeError::Store(e)) => {
                error!(error = %e, "Store failure: intake stops.");
                return Err(RunError::Store(e));
            }
            Err(intake::IntakeError::Mailbox(e)) => {
                warn!(error = %e, retry_in = ?backoff, "Mailbox unavailable.");
                if once {
                    // Still send what is queued before giving up.
                    delivery::tick(ctx, transport, Timestamp::now()).await?;
                    return Ok(());
                }
                if sleep_or_shutdown(jitter(backoff), &mut shutdown).await {
                    return Ok(());
                }
                backoff = (backoff * 2).min(pace.max_backoff);
                // Sends still go out while the mailbox is down.
                delivery::tick(ctx, transport, Timestamp::now()).await?;
                continue;
            }
        };
        let delivery = delivery::tick(ctx, transport, Timestamp::now()).await?;
        if intake != Tick::Idle || delivery != Tick::Idle {
            continue;
        }
        if once {
            return Ok(());
        }
        tokio::select! {
            r = mailbox.wait(pace.backstop) => {
                if let Err(MailboxError::Unavailable(e) | MailboxError::Other(e)) = r {
                    warn!(error = %e, "Waiting for mail failed; polling instead.");
                    if sleep_or_shutdown(jitter(backoff), &mut shutdown).await {
                        return Ok(());
                    }
                }
            }
            _ = shutdown.changed() => {}
        }
    }
}

/// Sleeps; true when shutdown was asked for meanwhile.
async fn sleep_or_shutdown(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => *shutdown.borrow(),
        _ = shutdown.changed() => true,
    }
}

/// ±20 % so that many clients do not reconnect in step.
fn jitter(d: Duration) -> Duration {
    let factor = 0.8 + rand::random::<f64>() * 0.4;
    d.mul_f64(factor)
}
