//! The `yjsend` binary: parse the command line and hand over to [`yjsend::cli::run`].

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match yjsend::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout with exit 0, usage errors with exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                yjsend::cli::exit::USAGE
            } else {
                0
            });
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("YJSEND_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Colours only for a person at a terminal, never in a file or the journal.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if cli.log_format == "json" {
        logs.json().init();
    } else {
        logs.init();
    }
    yjsend::cli::run(cli)
}
