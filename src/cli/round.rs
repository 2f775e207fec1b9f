//! `yjsend round new`: starts the next round by rewriting `[round]` in the configuration
//! (comments and everything else kept), after checking that the result loads. A running
//! daemon takes it up within seconds; earlier rounds stay in the history.

use super::exit;
use crate::config::Config;
use std::process::ExitCode;
use toml_edit::{DocumentMut, value};

#[derive(Debug, clap::Args)]
pub struct RoundArgs {
    #[command(subcommand)]
    pub command: RoundCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RoundCommand {
    /// Start the next round
    New {
        /// Its name ("Quality Mark and Quality Lead 2019")
        #[arg(long)]
        name: String,
        /// Its reference prefix ("YJS-2019"); must differ from the current one
        #[arg(long)]
        prefix: String,
        /// Its deadline, local time in the round's time zone ("2019-02-22T23:59:59")
        #[arg(long)]
        deadline: String,
        /// Words for the replies' next steps ("late February to early March 2019")
        #[arg(long)]
        panel_meets: Option<String>,
        /// When outcomes are sent ("2019-03-15")
        #[arg(long)]
        outcomes_by: Option<String>,
    },
}

pub fn run(args: &RoundArgs, config: &Config) -> ExitCode {
    let RoundCommand::New {
        name,
        prefix,
        deadline,
        panel_meets,
        outcomes_by,
    } = &args.command;
    if *prefix == config.round.reference_prefix {
        eprintln!(
            "yjsend round: the new round needs its own reference prefix (the current one is {prefix})"
        );
        return ExitCode::from(exit::USAGE);
    }
    let path = &config.path;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("yjsend round: cannot read {}: {e}", path.display());
            return ExitCode::from(exit::IO);
        }
    };
    let mut doc: DocumentMut = match text.parse() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("yjsend round: {}: {e}", path.display());
            return ExitCode::from(exit::USAGE);
        }
    };
    let round = &mut doc["round"];
    round["name"] = value(name.as_str());
    round["reference_prefix"] = value(prefix.as_str());
    round["deadline"] = value(deadline.as_str());
    match panel_meets {
        Some(p) => round["panel_meets"] = value(p.as_str()),
        None => {
            if let Some(t) = round.as_table_like_mut() {
                t.remove("panel_meets");
            }
        }
    }
    match outcomes_by {
        Some(o) => round["outcomes_by"] = value(o.as_str()),
        None => {
            if let Some(t) = round.as_table_like_mut() {
                t.remove("outcomes_by");
            }
        }
    }
    let new_text = doc.to_string();
    // Checked before it replaces the file: a mistake here must not stop a running daemon's
    // next reload (it would refuse it anyway, but the file would be left broken).
    let check = path.with_extension("toml.new");
    let written = std::fs::write(&check, &new_text).map_err(|e| e.to_string());
    let loaded = written.and_then(|()| {
        crate::config::load(&check).map_err(|errors| {
            errors
                .iter()
                .map(|e| {
                    e.to_string()
                        .replace(&check.display().to_string(), &path.display().to_string())
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
    });
    match loaded.and_then(|_| std::fs::rename(&check, path).map_err(|e| e.to_string())) {
        Ok(()) => {
            println!(
                "{}: the round is now {name} ({prefix}, deadline {deadline}). A running daemon takes it up within seconds.",
                path.display()
            );
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&check);
            eprintln!("yjsend round: not changed:\n{e}");
            ExitCode::from(exit::USAGE)
        }
    }
}
