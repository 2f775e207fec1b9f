//! The run loop: intake and delivery as two loops side by side, until shutdown. Intake takes
//! mail (then waits for more: IDLE or a poll) and wakes delivery whenever it has queued
//! replies; delivery sends what is due, then sleeps until woken or until the next retry falls
//! due. Side by side, a backlog's replies go out while the next batch is being read, and the
//! outbox keeps draining while the mailbox is down. `--once` runs intake until the mailbox is
//! empty, then delivery until nothing is due, and returns.
//!
//! Shutdown is observed between steps (and between delivery's groups) and during waits, so a
//! message in flight is always finished (stored, answered, moved) before the daemon exits.

use super::ports::{Mailbox, MailboxError, Transport};
use super::{Ctx, Tick, alert, delivery, digest, intake, retention};
use crate::adapters::store::StoreError;
use jiff::Timestamp;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tracing::{error, info, warn};

/// Why the loop stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store failed: intake stops rather than carry on half-written.
    #[error("stopped because the store failed: {0}")]
    Store(#[from] StoreError),
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
            max_backoff: Duration::from_secs(60),
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
    shutdown: watch::Receiver<bool>,
) -> Result<(), RunError> {
    let queued = &ctx.outbox_wake;
    // Set when intake has ended (shutdown, `--once` done, or a failure); and when delivery
    // has failed, so that intake stops too.
    let (intake_over, intake_over_rx) = watch::channel(false);
    let (failed, failed_rx) = watch::channel(false);
    let intake = async {
        let stop = Stop {
            shutdown: shutdown.clone(),
            failed: failed_rx,
        };
        let result = intake_loop(ctx, mailbox, once, pace, stop, queued).await;
        intake_over.send_replace(true);
        result
    };
    let delivery = async {
        let result =
            delivery_loop(ctx, transport, once, pace, intake_over_rx.clone(), queued).await;
        if result.is_err() {
            failed.send_replace(true);
        }
        result
    };
    let digest = async {
        let result = digest_loop(ctx, once, intake_over_rx.clone(), queued).await;
        if result.is_err() {
            failed.send_replace(true);
        }
        result
    };
    let retention = async {
        let result = retention_loop(ctx, once, intake_over_rx.clone()).await;
        if result.is_err() {
            failed.send_replace(true);
        }
        result
    };
    // The digest first: with `--once`, a missed digest is queued before delivery drains.
    let (c, a, b, r) = tokio::join!(digest, intake, delivery, retention);
    c.and(a).and(b).and(r)
}

/// Applies retention at start and then daily at `retention.at`; after a purge, asks for the
/// restart that rewrites the store (see [`retention`]).
async fn retention_loop(
    ctx: &Ctx,
    once: bool,
    mut intake_over: watch::Receiver<bool>,
) -> Result<(), RunError> {
    let Some(schedule) = &ctx.retention else {
        return Ok(());
    };
    loop {
        if retention::apply(ctx, schedule, Timestamp::now())
            .await?
            .is_some()
        {
            ctx.restart.notify_one();
            return Ok(());
        }
        if once {
            return Ok(());
        }
        // The next slot, looked at again every minute (the round's time zone may change).
        loop {
            let now = Timestamp::now();
            let next = digest::next_slot(schedule.at, &ctx.round.load().timezone, now);
            let wait = (next.as_second() - now.as_second()).clamp(0, 60) as u64;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(wait)) => {}
                _ = intake_over.changed() => {}
            }
            if *intake_over.borrow() {
                return Ok(());
            }
            if Timestamp::now() >= next {
                break;
            }
        }
    }
}

/// Queues the digest when its time comes (and a missed one at start), or when asked for
/// one through the request file (looked for every few seconds).
async fn digest_loop(
    ctx: &Ctx,
    once: bool,
    mut intake_over: watch::Receiver<bool>,
    queued: &Notify,
) -> Result<(), RunError> {
    if ctx.digest_to.is_empty() {
        return Ok(());
    }
    loop {
        let now = Timestamp::now();
        let _step = ctx.pause.read().await;
        let mut sent = digest::catch_up(ctx, now)?;
        if let Some(request) = &ctx.digest_request
            && request.exists()
        {
            sent |= digest::queue(ctx, now, None)?;
            let _ = std::fs::remove_file(request);
        }
        sent |= expiry_alert(ctx, now)?;
        drop(_step);
        if sent {
            queued.notify_one();
        }
        if once || *intake_over.borrow() {
            return Ok(());
        }
        let next = digest::next_slot(ctx.digest_at, &ctx.round.load().timezone, now);
        let wait = Duration::from_secs((next.as_second() - now.as_second()).clamp(1, 5) as u64);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = intake_over.changed() => {}
        }
    }
}

/// What stops intake: the daemon's shutdown, or the failure of delivery or the digest.
struct Stop {
    shutdown: watch::Receiver<bool>,
    failed: watch::Receiver<bool>,
}

impl Stop {
    fn now(&self) -> bool {
        *self.shutdown.borrow() || *self.failed.borrow()
    }

    /// Sleeps; true when a stop came meanwhile.
    async fn sleep(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.shutdown.changed() => {}
            _ = self.failed.changed() => {}
        }
        self.now()
    }
}

async fn intake_loop<M: Mailbox>(
    ctx: &Ctx,
    mailbox: &mut M,
    once: bool,
    pace: Pace,
    mut stop: Stop,
    queued: &Notify,
) -> Result<(), RunError> {
    let mut backoff = pace.min_backoff;
    let mut health = Health::default();
    loop {
        if stop.now() {
            info!("Intake stops: nothing in flight.");
            return Ok(());
        }
        let result = {
            let _step = ctx.pause.read().await;
            intake::tick(ctx, mailbox, Timestamp::now()).await
        };
        if health.observe(ctx, &result, mailbox.waiting())? {
            queued.notify_one();
        }
        match result {
            Ok(Tick::Worked(_)) => {
                backoff = pace.min_backoff;
                queued.notify_one();
                continue;
            }
            Ok(Tick::Idle) => backoff = pace.min_backoff,
            Err(intake::IntakeError::Store(e)) => {
                error!(error = %e, "Store failure: intake stops.");
                return Err(RunError::Store(e));
            }
            Err(intake::IntakeError::Mailbox(e)) => {
                warn!(error = %e, retry_in = ?backoff, "Mailbox unavailable.");
                // Delivery goes on meanwhile; `--once` leaves it to finish what is queued.
                if once || stop.sleep(jitter(backoff)).await {
                    return Ok(());
                }
                backoff = (backoff * 2).min(pace.max_backoff);
                continue;
            }
        }
        if once {
            return Ok(());
        }
        tokio::select! {
            r = mailbox.wait(pace.backstop) => {
                if let Err(MailboxError::Unavailable(e) | MailboxError::Other(e)) = r {
                    warn!(error = %e, "Waiting for mail failed; polling instead.");
                    if stop.sleep(jitter(backoff)).await {
                        return Ok(());
                    }
                }
            }
            _ = stop.shutdown.changed() => {}
            _ = stop.failed.changed() => {}
        }
    }
}

/// Alerts the team, once a day, when the mailbox sign-in expires within 30 days.
fn expiry_alert(ctx: &Ctx, now: Timestamp) -> Result<bool, StoreError> {
    let Some((date, what)) = digest::credentials_expire(ctx)? else {
        return Ok(false);
    };
    let today = now.to_zoned(ctx.round.load().timezone.clone()).date();
    let days = (date - today).get_days();
    if days > 30 || ctx.store.meta_get("oauth2:expiry_alerted")? == Some(today.to_string()) {
        return Ok(false);
    }
    ctx.store
        .meta_set("oauth2:expiry_alerted", &today.to_string())?;
    let body = format!(
        "The {what} that lets yjsend sign in to the project mailbox expires on {} ({days} days). \
         When it expires, intake stops. Renew it with the provider and update the file or \
         environment variable the configuration names.",
        date.strftime("%-d %B %Y")
    );
    alert::queue(ctx, "mailbox sign-in expires soon", &body, now)
}

/// Whether the mailbox answers: remembered in the store (`mailbox_last_ok` and
/// `mailbox_waiting`, for the digest's self-check) at most once a minute, and said to the team by an alert once it has failed for
/// longer than `alerts.intake_failing_minutes`, and again when it recovers.
#[derive(Default)]
struct Health {
    failing_since: Option<Timestamp>,
    alerted: bool,
    last_recorded: Option<Timestamp>,
    last_waiting: Option<usize>,
}

impl Health {
    /// Notes one intake step; true when an alert was queued.
    fn observe(
        &mut self,
        ctx: &Ctx,
        result: &Result<Tick, intake::IntakeError>,
        waiting: Option<usize>,
    ) -> Result<bool, StoreError> {
        let now = Timestamp::now();
        match result {
            Err(intake::IntakeError::Mailbox(e)) => {
                let since = *self.failing_since.get_or_insert(now);
                let failing = now.duration_since(since).unsigned_abs();
                if !self.alerted && failing >= ctx.intake_failing_after {
                    self.alerted = true;
                    let body = format!(
                        "yjsend has not been able to read the project mailbox since {since} \
                         ({} minutes). Submissions are not being answered meanwhile; they stay \
                         in the mailbox and will be answered once it can be read again.\n\n\
                         The last error: {e}\n\n\
                         Check the mailbox's password or sign-in, and that the mail server is up.",
                        failing.as_secs() / 60
                    );
                    return alert::queue(
                        ctx,
                        "intake failing: the mailbox cannot be read",
                        &body,
                        now,
                    );
                }
                Ok(false)
            }
            Err(intake::IntakeError::Store(_)) => Ok(false),
            Ok(_) => {
                let recovered = self.failing_since.take().is_some() && self.alerted;
                self.alerted = false;
                if self
                    .last_recorded
                    .is_none_or(|t| now.duration_since(t).as_secs() >= 60)
                {
                    self.last_recorded = Some(now);
                    ctx.store.meta_set("mailbox_last_ok", &now.to_string())?;
                }
                if waiting.is_some() && waiting != self.last_waiting {
                    self.last_waiting = waiting;
                    let n = waiting.unwrap_or_default();
                    ctx.store.meta_set("mailbox_waiting", &n.to_string())?;
                }
                if recovered {
                    let body = format!(
                        "yjsend can read the project mailbox again (since {now}); anything that \
                         arrived meanwhile is being answered now."
                    );
                    return alert::queue(ctx, "intake recovered", &body, now);
                }
                Ok(false)
            }
        }
    }
}

async fn delivery_loop<T: Transport>(
    ctx: &Ctx,
    transport: &T,
    once: bool,
    pace: Pace,
    mut intake_over: watch::Receiver<bool>,
    queued: &Notify,
) -> Result<(), RunError> {
    loop {
        // After a shutdown, stop between groups; with `--once`, send all that is due.
        let over = *intake_over.borrow();
        let stop = || !once && *intake_over.borrow();
        let tick = {
            let _step = ctx.pause.read().await;
            delivery::tick_until(ctx, transport, Timestamp::now(), stop).await?
        };
        if over && (tick == Tick::Idle || !once) {
            return Ok(());
        }
        if tick != Tick::Idle {
            continue;
        }
        let wait = match ctx.store.next_due()? {
            Some(at) => Duration::from_secs(
                (at - Timestamp::now().as_second()).clamp(1, pace.backstop.as_secs() as i64) as u64,
            ),
            None => pace.backstop,
        };
        tokio::select! {
            _ = queued.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = intake_over.changed() => {}
        }
    }
}

/// ±20 % so that many clients do not reconnect in step.
fn jitter(d: Duration) -> Duration {
    let factor = 0.8 + rand::random::<f64>() * 0.4;
    d.mul_f64(factor)
}
