//! `yjsend outbox [list|retry]`: what could not be delivered, and sending it again once the
//! cause is fixed (a relay refusing for good, a mistyped address corrected in the roster).
//! Through the running daemon's API (a team token in `YJSEND_PANEL_TOKEN`), or on the store
//! directly when no daemon holds it.

use super::exit;
use crate::adapters::store::Store;
use crate::config::Config;
use crate::domain::panel::members::{Member, Role};
use crate::pipeline::panel::Undelivered;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct OutboxArgs {
    #[command(subcommand)]
    pub command: Option<OutboxCommand>,
}

#[derive(Debug, Clone, Copy, clap::Subcommand)]
pub enum OutboxCommand {
    /// What is waiting to go out or could not be delivered (the default)
    List,
    /// Put every undelivered message back in line, due now
    Retry,
}

pub fn run(args: &OutboxArgs, config: &Config) -> ExitCode {
    let command = args.command.unwrap_or(OutboxCommand::List);
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| {
            rt.block_on(async {
                match Store::open(&config.storage.path) {
                    Ok(store) => offline(command, config, store).await,
                    Err(_) => through_daemon(command, config).await,
                }
            })
        });
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("yjsend outbox: {e}");
            ExitCode::from(exit::IO)
        }
    }
}

async fn offline(command: OutboxCommand, config: &Config, store: Store) -> Result<String, String> {
    let ctx = super::run::context(
        config,
        store,
        crate::pipeline::Evaluator::InProcess,
        crate::compose::wording::Wording::builtin(),
    );
    match command {
        OutboxCommand::List => crate::pipeline::panel::undelivered(&ctx)
            .map(|items| listing(&items))
            .map_err(|e| e.to_string()),
        OutboxCommand::Retry => {
            let member = Member {
                name: super::ops::who_ran(),
                role: Role::Team,
                token_sha256: [0; 32],
                conflicts: Vec::new(),
            };
            let n = crate::pipeline::panel::retry_failed(
                &ctx,
                &member,
                jiff::Timestamp::now().as_second(),
            )
            .map_err(|e| e.to_string())?;
            ctx.store.flush().await.map_err(|e| e.to_string())?;
            Ok(format!(
                "{n} undelivered message(s) put back in line; the daemon sends them when it next runs.\n"
            ))
        }
    }
}

async fn through_daemon(command: OutboxCommand, config: &Config) -> Result<String, String> {
    let held = |e: String| format!("the daemon holds the store, and its API: {e}");
    match command {
        OutboxCommand::List => {
            let v = super::panel::daemon_json(config, "/api/outbox", None)
                .await
                .map_err(held)?;
            serde_json::from_value::<Vec<Undelivered>>(v)
                .map(|items| listing(&items))
                .map_err(|e| e.to_string())
        }
        OutboxCommand::Retry => {
            let v =
                super::panel::daemon_json(config, "/api/outbox/retry", Some(serde_json::json!({})))
                    .await
                    .map_err(held)?;
            Ok(format!(
                "{} undelivered message(s) put back in line.\n",
                v["requeued"].as_u64().unwrap_or(0)
            ))
        }
    }
}

fn listing(items: &[Undelivered]) -> String {
    if items.is_empty() {
        return "Nothing waiting: everything has been delivered.\n".into();
    }
    let mut out = String::new();
    for i in items {
        out.push_str(&format!(
            "{} {} {}{} to {} ({} attempt(s)){}\n",
            i.state,
            i.kind,
            i.id,
            i.reference
                .as_ref()
                .map(|r| format!(" [{r}]"))
                .unwrap_or_default(),
            i.recipients.join(", "),
            i.attempts,
            i.last_error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ));
    }
    let failed = items.iter().filter(|i| i.state == "failed").count();
    if failed > 0 {
        out.push_str(&format!(
            "{failed} could not be delivered: fix the cause, then `yjsend outbox retry`.\n"
        ));
    }
    out
}
