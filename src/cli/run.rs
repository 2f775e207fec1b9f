//! `yjsend run [--once]`: the daemon, and `yjsend worker`, the evaluation process it starts.
//!
//! This file only assembles the pieces the configuration names (mailbox, transport, store,
//! evaluator) and hands them to the run loop; the loop itself is in `pipeline::scheduler`.

use super::exit;
use crate::adapters::dir::DirTransport;
use crate::adapters::maildir::Maildir;
use crate::adapters::store::Store;
use crate::config::{Config, MailboxConfig, SmtpConfig};
use crate::pipeline::evaluate::{Settings, evaluate};
use crate::pipeline::scheduler::{self, Pace};
use crate::pipeline::worker::{Worker, WorkerSpec};
use crate::pipeline::{Ctx, Evaluator};
use std::process::ExitCode;
use std::time::Duration;
use tracing::{error, info};

/// Address-space limit of the evaluation worker: generous for a 25 MB message with 128 MB of
/// unpacked attachments, small enough that a runaway allocation fails in the worker.
const WORKER_MEMORY: u64 = 1024 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Process what is waiting, send what is due, and exit
    #[arg(long)]
    pub once: bool,
    /// Evaluate in this process instead of a worker process (for debugging)
    #[arg(long, hide = true)]
    pub in_process: bool,
}

/// Our own address from the From header ("Name <a@b>" or "a@b"), lower case.
fn address_of(from: &str) -> String {
    let a = match (from.rfind('<'), from.rfind('>')) {
        (Some(l), Some(r)) if l < r => &from[l + 1..r],
        _ => from,
    };
    a.trim().to_ascii_lowercase()
}

fn context(config: &Config, store: Store, evaluator: Evaluator) -> Ctx {
    Ctx {
        store,
        round: config.round.clone(),
        roster: config.roster.clone(),
        trusted_authserv_id: config.trusted_authserv_id.clone(),
        limits: config.limits,
        max_message_bytes: config.max_message_bytes,
        message_seconds: config.message_seconds,
        from: config.smtp.from().to_string(),
        own_addresses: vec![address_of(config.smtp.from())],
        max_per_sender: config.replies.max_per_sender as usize,
        window_hours: config.replies.window_hours as i64,
        max_attempts: 3,
        evaluator,
    }
}

pub fn run(args: &RunArgs, config: &Config, config_path: &std::path::Path) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("yjsend: cannot start the runtime: {e}");
            return ExitCode::from(exit::IO);
        }
    };
    runtime.block_on(run_async(args, config, config_path))
}

async fn run_async(args: &RunArgs, config: &Config, config_path: &std::path::Path) -> ExitCode {
    if let Some(parent) = config.storage.path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let store = match Store::open(&config.storage.path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "yjsend: cannot open the store {}: {e} (is another yjsend running?)",
                config.storage.path.display()
            );
            return ExitCode::from(exit::IO);
        }
    };
    let evaluator = if args.in_process {
        Evaluator::InProcess
    } else {
        match std::env::current_exe() {
            Ok(program) => Evaluator::Worker(Box::new(tokio::sync::Mutex::new(Worker::new(
                WorkerSpec {
                    program,
                    config: config_path.to_path_buf(),
                    memory_limit: WORKER_MEMORY,
                },
            )))),
            Err(_) => Evaluator::InProcess,
        }
    };
    let ctx = context(config, store, evaluator);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("Shutdown requested: finishing the message in flight.");
        let _ = stop_tx.send(true);
    });
    let mut mailbox = match &config.mailbox {
        MailboxConfig::Maildir { path, .. } => match Maildir::open(path, "Processed", "Quarantine") {
            Ok(m) => m,
            Err(e) => {
                eprintln!("yjsend: cannot open the Maildir {}: {e}", path.display());
                return ExitCode::from(exit::IO);
            }
        },
        MailboxConfig::Imap { host, .. } => {
            eprintln!(
                "yjsend: mailbox.kind = \"imap\" ({host}) is not supported by this build; use kind = \"maildir\""
            );
            return ExitCode::from(exit::USAGE);
        }
    };
    let transport = match &config.smtp {
        SmtpConfig::Dir { path, .. } => match DirTransport::new(path.clone()) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("yjsend: cannot use the outbox folder {}: {e}", path.display());
                return ExitCode::from(exit::IO);
            }
        },
        SmtpConfig::Smtp { host, .. } => {
            eprintln!(
                "yjsend: smtp.kind = \"smtp\" ({host}) is not supported by this build; use kind = \"dir\""
            );
            return ExitCode::from(exit::USAGE);
        }
    };
    let pace = Pace {
        backstop: match &config.mailbox {
            MailboxConfig::Imap { poll_seconds, .. } => Duration::from_secs(*poll_seconds),
            MailboxConfig::Maildir { .. } => Duration::from_secs(5),
        },
        ..Pace::default()
    };
    info!(once = args.once, "yjsend running");
    match scheduler::run(&ctx, &mut mailbox, &transport, args.once, pace, stop_rx).await {
        Ok(()) => {
            let _ = ctx.store.flush().await;
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            error!(error = %e, "yjsend stopped");
            eprintln!("yjsend: {e}");
            ExitCode::from(exit::IO)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// `yjsend worker`: evaluates messages framed on stdin until it closes.
pub fn worker(config: &Config) -> ExitCode {
    let settings = Settings::from_config(config);
    match crate::pipeline::worker::serve(|raw, received_at| evaluate(raw, Some(received_at), &settings)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("yjsend worker: {e}");
            ExitCode::from(exit::IO)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn our_address_from_the_from_header() {
        assert_eq!(super::address_of("Youth Justice SEND <YJS@Example.org>"), "yjs@example.org");
        assert_eq!(super::address_of("yjs@example.org"), "yjs@example.org");
    }
}
