//! Taking up a changed configuration without a restart: the round (a new round starts when
//! `[round]` changes) and the roster. Checked every few seconds and at once on SIGHUP; a file
//! that does not validate is refused with every error in the log and an alert to the team,
//! and the old configuration stays in force. Other sections (mailbox, SMTP, panel) take
//! effect at the next restart.

use crate::config::Config;
use crate::pipeline::{Ctx, Evaluator, alert};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tracing::{error, info};

fn stamps(files: &[PathBuf]) -> Vec<Option<SystemTime>> {
    files
        .iter()
        .map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
        .collect()
}

/// Reloads the configuration at `path` into `ctx` if it validates. Returns whether the round
/// or roster changed.
pub async fn reload(ctx: &Ctx, path: &Path) -> Result<bool, Vec<String>> {
    let config = crate::config::load(path)
        .map_err(|errors| errors.iter().map(|e| e.to_string()).collect::<Vec<_>>())?;
    let changed = **ctx.round.load() != config.round || **ctx.roster.load() != config.roster;
    if changed {
        // Retention dates a round's records from its deadline, long after it was replaced.
        let _ = ctx
            .store
            .remember_round(&config.round.reference_prefix, config.round.deadline);
        ctx.round.store(Arc::new(config.round.clone()));
        ctx.roster.store(Arc::new(config.roster.clone()));
        // The worker read the old configuration when it started: start a new one.
        if let Evaluator::Worker(worker) = &ctx.evaluator {
            worker.lock().await.restart();
        }
        info!(
            round = config.round.name,
            partnerships = config.roster.partnerships.len(),
            "Configuration reloaded."
        );
    }
    Ok(changed)
}

/// Watches the configuration and the roster until the daemon stops.
pub async fn watch(ctx: Arc<Ctx>, config: Config, mut stop: tokio::sync::watch::Receiver<bool>) {
    let files = vec![config.path.clone(), config.roster_path.clone()];
    let mut seen = stamps(&files);
    #[cfg(unix)]
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        #[cfg(unix)]
        let hup_recv = async {
            match hup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let hup_recv = std::future::pending::<()>();
        let forced = tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3)) => false,
            _ = hup_recv => true,
            _ = stop.changed() => return,
        };
        let now = stamps(&files);
        if !forced && now == seen {
            continue;
        }
        seen = now;
        if let Err(errors) = reload(&ctx, &config.path).await {
            for e in &errors {
                error!(error = %e, "The changed configuration is refused; the old one stays in force.");
            }
            let body = format!(
                "A change to yjsend's configuration was refused, so the previous configuration is \
                 still in force. Fix these and save again:\n\n{}",
                errors.join("\n")
            );
            let queued = alert::queue(
                &ctx,
                "configuration change refused",
                &body,
                jiff::Timestamp::now(),
            );
            if matches!(queued, Ok(true)) {
                ctx.outbox_wake.notify_one();
            }
        }
    }
}
