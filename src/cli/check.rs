//! `yjsend check`: evaluate .eml files with the daemon's own code; never stores or sends.

use super::exit;
use crate::config::Config;
use crate::pipeline::evaluate::{Settings, evaluate};
use clap::Args;
use jiff::Timestamp;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The time the mailbox received the message(s), RFC 3339 (overrides the Received header)
    #[arg(long, value_name = "RFC3339")]
    pub received_at: Option<Timestamp>,
    /// One JSON object per message (JSON Lines)
    #[arg(long)]
    pub json: bool,
    /// The messages to evaluate
    #[arg(required = true, value_name = "MESSAGE.eml")]
    pub messages: Vec<PathBuf>,
}

/// Evaluates each file in turn; a file that cannot be read gets its own line and exit 1.
pub fn run(args: &CheckArgs, config: &Config) -> ExitCode {
    let settings = Settings::from_config(config);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    for (i, path) in args.messages.iter().enumerate() {
        let shown = path.display().to_string();
        let line = match read_bounded(path, settings.max_message_bytes) {
            Ok(raw) => {
                let evaluation = evaluate(&raw, args.received_at, &settings);
                if args.json {
                    super::report::to_json_line(&shown, &evaluation)
                } else {
                    let sep = if i > 0 { "\n" } else { "" };
                    format!("{sep}{}", super::human::render(&shown, &evaluation, config))
                }
            }
            Err(e) => {
                failed = true;
                if args.json {
                    super::report::error_line(&shown, &e.to_string())
                } else {
                    eprintln!("yjsend: cannot read {shown}: {e}");
                    continue;
                }
            }
        };
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    let _ = out.flush();
    ExitCode::from(if failed { exit::IO } else { exit::OK })
}

/// Reads a message file. An oversized file is read only so far that the evaluation can see it
/// is too large (its headers plus one byte past the limit), never whole into memory.
fn read_bounded(path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let mut raw = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut raw)?;
    Ok(raw)
}
