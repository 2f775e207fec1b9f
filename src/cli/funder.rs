//! `yjsend report --xlsx FILE`: the funder report. Opens the store directly when no daemon
//! holds it; otherwise asks the running daemon's API for it with a team token
//! (`YJSEND_PANEL_URL`, `YJSEND_PANEL_TOKEN`).

use super::exit;
use crate::adapters::store::Store;
use crate::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Where to write the workbook
    #[arg(long, value_name = "FILE")]
    pub xlsx: PathBuf,
    /// The round, by its reference prefix (`YJS-2018`), or `all` [default: the current round]
    #[arg(long, value_name = "PREFIX")]
    pub round: Option<String>,
}

pub fn run(args: &ReportArgs, config: &Config) -> ExitCode {
    let bytes = match Store::open(&config.storage.path) {
        Ok(store) => {
            let prefix = match args.round.as_deref() {
                Some("all") => None,
                Some(p) => Some(p),
                None => Some(config.round.reference_prefix.as_str()),
            };
            crate::pipeline::panel::report(&store, &config.round, &config.roster, prefix)
        }
        Err(open_error) => from_daemon(config, "/api/report").map_err(|e| {
            format!("the store is in use ({open_error}) and the daemon's API did not help: {e}")
        }),
    };
    match bytes.and_then(|b| {
        std::fs::write(&args.xlsx, b)
            .map_err(|e| format!("cannot write {}: {e}", args.xlsx.display()))
    }) {
        Ok(()) => {
            println!("Wrote {}.", args.xlsx.display());
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("yjsend report: {e}");
            ExitCode::from(exit::IO)
        }
    }
}

/// A file the running daemon makes (`path`: `/api/report`, `/api/backup`), with a team token.
pub fn from_daemon(config: &Config, path: &str) -> Result<Vec<u8>, String> {
    let (base, token) = super::panel::daemon_address(config)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let r = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!("the daemon answered {}", r.status().as_u16()));
        }
        r.bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| e.to_string())
    })
}
