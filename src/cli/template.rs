//! `yjsend template [--partnership ID] [--out FILE]`: writes the grid template, filled with
//! the partnership's initial benchmarking when one is named (the same file a reply carries).

use super::exit;
use crate::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct TemplateArgs {
    /// Fill in this partnership's baseline (its id in the roster)
    #[arg(long, value_name = "ID")]
    pub partnership: Option<String>,
    /// Where to write it [default: "Key statements grid.xlsx", or with the partnership's id]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(args: &TemplateArgs, config: &Config) -> ExitCode {
    let partnership = match &args.partnership {
        Some(id) => match config.roster.get(id) {
            Some(p) => Some(p),
            None => {
                let ids: Vec<&str> = config
                    .roster
                    .partnerships
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect();
                eprintln!(
                    "yjsend: no partnership {id:?} in the roster (known: {})",
                    ids.join(", ")
                );
                return ExitCode::from(exit::USAGE);
            }
        },
        None => None,
    };
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(match partnership {
            Some(p) => format!("Key statements grid - {}.xlsx", p.name),
            None => "Key statements grid.xlsx".to_string(),
        })
    });
    let bytes = match crate::compose::template::build(&config.round, partnership) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("yjsend: cannot build the template: {e}");
            return ExitCode::from(exit::IO);
        }
    };
    match std::fs::write(&out, bytes) {
        Ok(()) => {
            println!("{}", out.display());
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("yjsend: cannot write {}: {e}", out.display());
            ExitCode::from(exit::IO)
        }
    }
}
