//! The command line: parse arguments, load the configuration, dispatch. The commands' work
//! lives in their own files; this one only wires them.

pub mod auth;
pub mod check;
pub mod digest;
pub mod funder;
pub mod human;
pub mod ops;
pub mod outbox;
pub mod panel;
pub mod reload;
pub mod report;
pub mod round;
pub mod run;
pub mod template;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// yjsend: the intake of the Youth Justice SEND Quality Mark and Quality Lead awards.
#[derive(Debug, Parser)]
#[command(name = "yjsend", version, about, long_about = None)]
pub struct Cli {
    /// The configuration file [default: $YJSEND_CONFIG, else config/yjsend.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log lines as `text`, or as `json` (one object a line, for journald or a log shipper)
    #[arg(long, global = true, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate messages offline with the daemon's own code: sends nothing, stores nothing
    Check(check::CheckArgs),
    /// The daemon: intake, auto-replies and delivery (`--once`: what is waiting, then exit)
    Run(run::RunArgs),
    /// One-off OAuth2 consent: `auth google` saves a Google Workspace refresh token
    Auth(auth::AuthArgs),
    /// A consistent backup of the store (through the running daemon, if there is one)
    Backup(ops::FileArg),
    /// Restore a backup into an empty store
    Restore(ops::FileArg),
    /// Delete the personal data of everything received before a date (retention)
    Purge(ops::PurgeArgs),
    /// Subject access: find, export or erase everything held about an address
    Subject(ops::SubjectArgs),
    /// Read a stored message again (after a roster fix), optionally sending the new reply
    Reevaluate(ops::ReevaluateArgs),
    /// Rounds: `round new` starts the next one
    Round(round::RoundArgs),
    /// Undelivered mail: `outbox` lists it, `outbox retry` sends it again
    Outbox(outbox::OutboxArgs),
    /// The triage digest on demand: `--now` sends it, `--print` shows it
    Digest(digest::DigestArgs),
    /// The panel's client of the daemon's API: queue, pull, show, decide, release, token
    Panel(panel::PanelArgs),
    /// The funder report: one row per partnership, every submission, the audit trail
    Report(funder::ReportArgs),
    /// Write the grid template (xlsx), filled with a partnership's baseline when given
    Template(template::TemplateArgs),
    /// Validate the configuration and the roster
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The evaluation process the daemon starts (frames on stdin, answers on stdout)
    #[command(hide = true)]
    Worker,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate yjsend.toml and the roster; every error names file, line and key
    Check,
}

/// Percent-encodes everything but RFC 3986's unreserved characters: safe in a query value and
/// in a path segment alike (the Google consent address, case file names in the API).
pub(crate) fn urlencode(s: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(s, RESERVED).to_string()
}

/// Exit status as the spec gives it.
pub mod exit {
    /// Done, whatever the verdicts.
    pub const OK: u8 = 0;
    /// A file could not be read.
    pub const IO: u8 = 1;
    /// Bad usage or bad configuration.
    pub const USAGE: u8 = 2;
}

/// The configuration path: `--config`, else `$YJSEND_CONFIG`, else `config/yjsend.toml`.
pub fn config_path(cli: &Cli) -> PathBuf {
    cli.config
        .clone()
        .or_else(|| std::env::var_os("YJSEND_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("config/yjsend.toml"))
}

/// Loads the configuration or prints every error and gives the usage exit status.
pub fn load_config(cli: &Cli) -> Result<crate::config::Config, ExitCode> {
    let path = config_path(cli);
    crate::config::load(&path).map_err(|errors| {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!(
            "yjsend: the configuration in {} has {} error{}",
            path.display(),
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
        ExitCode::from(exit::USAGE)
    })
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> ExitCode {
    match &cli.command {
        Command::Check(args) => match load_config(&cli) {
            Ok(config) => check::run(args, &config),
            Err(code) => code,
        },
        Command::Run(args) => match load_config(&cli) {
            Ok(config) => run::run(args, &config, &config_path(&cli)),
            Err(code) => code,
        },
        Command::Worker => match load_config(&cli) {
            Ok(config) => run::worker(&config),
            Err(code) => code,
        },
        Command::Auth(args) => match load_config(&cli) {
            Ok(config) => auth::run(args, &config),
            Err(code) => code,
        },
        Command::Backup(args) => match load_config(&cli) {
            Ok(config) => ops::backup(args, &config),
            Err(code) => code,
        },
        Command::Restore(args) => match load_config(&cli) {
            Ok(config) => ops::restore(args, &config),
            Err(code) => code,
        },
        Command::Purge(args) => match load_config(&cli) {
            Ok(config) => ops::purge(args, &config),
            Err(code) => code,
        },
        Command::Subject(args) => match load_config(&cli) {
            Ok(config) => ops::subject(args, &config),
            Err(code) => code,
        },
        Command::Outbox(args) => match load_config(&cli) {
            Ok(config) => outbox::run(args, &config),
            Err(code) => code,
        },
        Command::Reevaluate(args) => match load_config(&cli) {
            Ok(config) => ops::reevaluate(args, &config),
            Err(code) => code,
        },
        Command::Round(args) => match load_config(&cli) {
            Ok(config) => round::run(args, &config),
            Err(code) => code,
        },
        Command::Digest(args) => match load_config(&cli) {
            Ok(config) => digest::run(args, &config),
            Err(code) => code,
        },
        Command::Panel(args) => match load_config(&cli) {
            Ok(config) => panel::run(args, &config),
            Err(code) => code,
        },
        Command::Report(args) => match load_config(&cli) {
            Ok(config) => funder::run(args, &config),
            Err(code) => code,
        },
        Command::Template(args) => match load_config(&cli) {
            Ok(config) => template::run(args, &config),
            Err(code) => code,
        },
        Command::Config {
            command: ConfigCommand::Check,
        } => match load_config(&cli) {
            Ok(config) => {
                // Every template is rendered against samples of every kind of reply and a
                // digest: a wording edit that breaks one is caught here, not in a reply.
                let dir = &config.replies.templates;
                if let Err(e) = crate::compose::wording::Wording::open(dir) {
                    eprintln!("{}: {e}", dir.display());
                    return ExitCode::from(exit::USAGE);
                }
                let tokens = &config.panel.tokens_file;
                if tokens.exists() {
                    let checked = std::fs::read_to_string(tokens)
                        .map_err(|e| e.to_string())
                        .and_then(|t| {
                            crate::domain::panel::members::parse(&t).map_err(|e| e.to_string())
                        });
                    if let Err(e) = checked {
                        eprintln!("{}: {e}", tokens.display());
                        return ExitCode::from(exit::USAGE);
                    }
                }
                // A certificate or service account key that does not load would stop sign-in
                // at the first token: say so now.
                if let Some(o) = &config.oauth2 {
                    use crate::adapters::oauth2::{Certificate, ServiceAccount};
                    let loaded = match (&o.certificate_file, &o.service_account_file) {
                        (Some(c), _) => {
                            Certificate::load(c, o.private_key_file.as_deref()).map(drop)
                        }
                        (None, Some(a)) => ServiceAccount::load(a).map(drop),
                        (None, None) => Ok(()),
                    };
                    if let Err(e) = loaded {
                        eprintln!("{}: [oauth2] {e}", config.path.display());
                        return ExitCode::from(exit::USAGE);
                    }
                }
                println!(
                    "{}: OK ({} partnerships, deadline {}; wording from {})",
                    config.path.display(),
                    config.roster.partnerships.len(),
                    config.round.deadline,
                    if dir.is_dir() {
                        dir.display().to_string()
                    } else {
                        "the built-in templates".to_string()
                    }
                );
                ExitCode::from(exit::OK)
            }
            Err(code) => code,
        },
    }
}
