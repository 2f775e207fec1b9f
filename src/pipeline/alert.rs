//! Alerts to the project team about the service itself. Silent failure is what users of
//! mail-intake tools fear most, so a mailbox that keeps failing, or a store that fails, is
//! said at once by email rather than left for the next digest.

use super::Ctx;
use super::ports::{Outgoing, Transport};
use crate::adapters::store::{NewOutgoing, StoreError};
use crate::compose::alert;
use jiff::Timestamp;
use tracing::{error, warn};

/// Queues an alert in the outbox (the store works; delivery sends it like any reply).
/// Returns whether one was queued: with no `alerts.to` there is no one to tell.
pub fn queue(ctx: &Ctx, subject: &str, body: &str, now: Timestamp) -> Result<bool, StoreError> {
    let built = match alert::build(&ctx.from, &ctx.alerts_to, subject, body, now) {
        Ok(a) => a,
        Err(e) => {
            warn!(error = %e, subject, "Alert not sent.");
            return Ok(false);
        }
    };
    ctx.store.enqueue(
        NewOutgoing {
            kind: "alert".into(),
            message_id: Some(built.message_id),
            envelope_from: ctx.own_addresses.first().cloned().unwrap_or_default(),
            recipients: built.to,
            bytes: built.bytes,
        },
        now.as_second(),
    )?;
    Ok(true)
}

/// Sends an alert straight through the transport, bypassing the outbox: for when the store
/// itself has failed. Best effort; the failure is logged either way.
pub async fn send_now<T: Transport>(ctx: &Ctx, transport: &T, subject: &str, body: &str) {
    let envelope_from = ctx.own_addresses.first().cloned().unwrap_or_default();
    send_without_store(
        transport,
        &ctx.from,
        &envelope_from,
        &ctx.alerts_to,
        subject,
        body,
    )
    .await
}

/// The same before there is a context: when the store cannot even be opened at start.
pub async fn send_without_store<T: Transport>(
    transport: &T,
    from: &str,
    envelope_from: &str,
    to: &[String],
    subject: &str,
    body: &str,
) {
    let built = match alert::build(from, to, subject, body, Timestamp::now()) {
        Ok(a) => a,
        Err(e) => {
            error!(error = %e, subject, "Alert not sent.");
            return;
        }
    };
    let send = transport.send(Outgoing {
        id: 0,
        envelope_from,
        recipients: &built.to,
        bytes: &built.bytes,
    });
    match tokio::time::timeout(std::time::Duration::from_secs(60), send).await {
        Ok(Ok(())) => warn!(subject, "Alert sent to the team."),
        Ok(Err(e)) => error!(error = %e, subject, "Alert could not be sent."),
        Err(_) => error!(subject, "Alert could not be sent: the transport timed out."),
    }
}
