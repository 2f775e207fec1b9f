//! `yjsend backup FILE` and `yjsend restore FILE`. A backup opens the store directly when no
//! daemon holds it, and otherwise asks the running daemon (`GET /api/backup`, a team token in
//! `YJSEND_PANEL_TOKEN`), which pauses its steps so the copy is consistent. A restore goes into
//! an empty store only.

use super::exit;
use crate::adapters::store::Store;
use crate::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct FileArg {
    /// The backup file
    pub file: PathBuf,
}

pub fn backup(args: &FileArg, config: &Config) -> ExitCode {
    let bytes = match Store::open(&config.storage.path) {
        Ok(store) => {
            let mut out = Vec::new();
            store
                .backup(&mut out)
                .map(|_| out)
                .map_err(|e| e.to_string())
        }
        Err(open_error) => super::funder::from_daemon(config, "/api/backup").map_err(|e| {
            format!("the store is in use ({open_error}) and the daemon's API did not help: {e}")
        }),
    };
    match bytes.and_then(|b| {
        std::fs::write(&args.file, &b)
            .map(|_| b.len())
            .map_err(|e| format!("cannot write {}: {e}", args.file.display()))
    }) {
        Ok(n) => {
            println!("Wrote {} ({n} bytes).", args.file.display());
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("yjsend backup: {e}");
            ExitCode::from(exit::IO)
        }
    }
}

pub fn restore(args: &FileArg, config: &Config) -> ExitCode {
    let file = match std::fs::File::open(&args.file) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("yjsend restore: cannot read {}: {e}", args.file.display());
            return ExitCode::from(exit::IO);
        }
    };
    if let Some(parent) = config.storage.path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    match Store::restore(&config.storage.path, std::io::BufReader::new(file)) {
        Ok(n) => {
            println!(
                "Restored {n} entries into {}.",
                config.storage.path.display()
            );
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("yjsend restore: {e}");
            ExitCode::from(exit::IO)
        }
    }
}
