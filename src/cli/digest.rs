//! `yjsend digest`: the triage digest on demand. `--print` shows it; `--now` sends it through
//! the outbox and the configured transport. While the daemon runs it holds the store, so
//! `--now` then leaves a request file beside the store and the daemon sends the digest within
//! a few seconds.

use super::exit;
use super::run::{context, digest_request_path, open_transport};
use crate::adapters::store::Store;
use crate::compose::wording::Wording;
use crate::config::Config;
use crate::pipeline::{Evaluator, delivery, digest};
use jiff::Timestamp;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    /// Send the digest now (the daily one still goes at `digest.at`)
    #[arg(long)]
    pub now: bool,
    /// Print the digest's plain text instead of sending it
    #[arg(long, conflicts_with = "now")]
    pub print: bool,
}

pub fn run(args: &DigestArgs, config: &Config) -> ExitCode {
    if !args.now && !args.print {
        eprintln!("yjsend digest: say --now (send it) or --print (show it)");
        return ExitCode::from(exit::USAGE);
    }
    if args.now && config.digest.to.is_empty() {
        eprintln!("yjsend digest: digest.to is empty, so there is no one to send it to");
        return ExitCode::from(exit::USAGE);
    }
    let wording = match Wording::open(&config.replies.templates) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("yjsend: the wording templates: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let store = match Store::open(&config.storage.path) {
        Ok(s) => s,
        Err(e) if args.now => {
            let request = digest_request_path(config);
            return match std::fs::write(&request, b"") {
                Ok(()) => {
                    println!(
                        "The store is in use ({e}): the running daemon sends the digest within a few seconds."
                    );
                    ExitCode::from(exit::OK)
                }
                Err(w) => {
                    eprintln!(
                        "yjsend: cannot open the store ({e}) nor leave a request at {}: {w}",
                        request.display()
                    );
                    ExitCode::from(exit::IO)
                }
            };
        }
        Err(e) => {
            eprintln!(
                "yjsend: cannot open the store {} ({e}); while the daemon runs, use --now",
                config.storage.path.display()
            );
            return ExitCode::from(exit::IO);
        }
    };
    let ctx = context(config, store, Evaluator::InProcess, wording);
    let now = Timestamp::now();
    if args.print {
        let shown = digest::next_record(&ctx)
            .and_then(|first| digest::view(&ctx, now, first, false))
            .map_err(|e| e.to_string())
            .and_then(|built| {
                ctx.wording
                    .render("digest.txt.j2", &built.view)
                    .map_err(|e| e.to_string())
            });
        return match shown {
            Ok(text) => {
                print!("{text}");
                ExitCode::from(exit::OK)
            }
            Err(e) => {
                eprintln!("yjsend digest: {e}");
                ExitCode::from(exit::IO)
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("yjsend: cannot start the runtime: {e}");
            return ExitCode::from(exit::IO);
        }
    };
    // The SMTP transport's pool lives on the runtime: made and dropped inside it.
    let result = runtime.block_on(async {
        let tokens = super::run::token_source(config, &ctx.store).map_err(|e| (exit::USAGE, e))?;
        let transport = match open_transport(config, tokens) {
            Ok(t) => t,
            Err((code, message)) => return Err((code, message)),
        };
        let sent = async {
            if !digest::queue(&ctx, now, None)? {
                return Ok(false);
            }
            delivery::tick(&ctx, &transport, now).await?;
            ctx.store.flush().await?;
            Ok::<_, crate::adapters::store::StoreError>(true)
        };
        sent.await.map_err(|e| (exit::IO, e.to_string()))
    });
    match result {
        Ok(true) => {
            println!("Digest sent to {}.", config.digest.to.join(", "));
            ExitCode::from(exit::OK)
        }
        Ok(false) => {
            eprintln!("yjsend digest: the digest could not be built (see the log)");
            ExitCode::from(exit::IO)
        }
        Err((code, message)) => {
            eprintln!("yjsend digest: {message}");
            ExitCode::from(code)
        }
    }
}
