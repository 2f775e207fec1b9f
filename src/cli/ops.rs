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

#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    /// Delete the personal data of everything received before this date (YYYY-MM-DD)
    #[arg(long)]
    pub before: String,
    /// Say what would be deleted, and delete nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct SubjectArgs {
    /// The email address (or partnership id) the request is about
    pub who: String,
    /// Write everything held to this folder (records.json and the original messages)
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// Erase it (keeping only anonymous figures)
    #[arg(long)]
    pub erase: bool,
    /// With --erase: say what would go, and erase nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// The store for an offline operation; the daemon must be stopped (it holds the store).
fn offline_store(config: &Config) -> Result<Store, ExitCode> {
    Store::open(&config.storage.path).map_err(|e| {
        eprintln!(
            "yjsend: cannot open the store {} ({e}): stop the daemon first (systemctl stop yjsend)",
            config.storage.path.display()
        );
        ExitCode::from(exit::IO)
    })
}

pub(super) fn who_ran() -> String {
    format!(
        "{} (command line)",
        std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "someone".into())
    )
}

fn audit(store: &Store, action: &str, detail: String) {
    let _ = store.audit(&crate::adapters::store::AuditEntry {
        at: jiff::Timestamp::now().as_second(),
        who: who_ran(),
        action: action.into(),
        case: None,
        detail,
    });
}

fn report(what: &str, r: &crate::adapters::store::PurgeReport, dry_run: bool) {
    let verb = if dry_run { "would delete" } else { "deleted" };
    println!(
        "{what}: {verb} the personal data of {} record(s): {} message(s), {} outgoing message(s), {} audit detail(s), {} sender counter(s).",
        r.records.len(),
        r.messages,
        r.outgoing,
        r.audit_entries,
        r.senders
    );
    if !r.records.is_empty() {
        println!("  {}", r.records.join(", "));
    }
}

/// The live round's roster, which a purge freezes the verdicts with.
fn judge(config: &Config) -> crate::domain::submission::Judge<'_> {
    crate::domain::submission::Judge {
        roster: &config.roster,
        round: &config.round.reference_prefix,
    }
}

pub fn purge(args: &PurgeArgs, config: &Config) -> ExitCode {
    let Ok(before) = args
        .before
        .parse::<jiff::civil::Date>()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
        .map(|z| z.timestamp())
    else {
        eprintln!("yjsend purge: --before wants a date like 2019-03-31");
        return ExitCode::from(exit::USAGE);
    };
    let store = match offline_store(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let old: Vec<_> = match store.records_before(before) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("yjsend purge: {e}");
            return ExitCode::from(exit::IO);
        }
    };
    let ids: Vec<u64> = old.iter().map(|r| r.id).collect();
    let senders: Vec<String> = old.iter().filter_map(|r| r.from.clone()).collect();
    match store.erase(&ids, &senders, args.dry_run, judge(config)) {
        Ok(r) => {
            report(&format!("Before {}", args.before), &r, args.dry_run);
            if args.dry_run {
                return ExitCode::from(exit::OK);
            }
            audit(
                &store,
                "purge",
                format!("before {}: {} records", args.before, r.records.len()),
            );
            match store.rewrite(&config.storage.path) {
                Ok(()) => ExitCode::from(exit::OK),
                Err(e) => {
                    eprintln!("yjsend purge: {e}");
                    ExitCode::from(exit::IO)
                }
            }
        }
        Err(e) => {
            eprintln!("yjsend purge: {e}");
            ExitCode::from(exit::IO)
        }
    }
}

pub fn subject(args: &SubjectArgs, config: &Config) -> ExitCode {
    let store = match offline_store(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let held = match store.held_about(&args.who) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("yjsend subject: {e}");
            return ExitCode::from(exit::IO);
        }
    };
    println!(
        "{}: {} record(s), {} message(s), {} audit entr(ies).",
        args.who,
        held.records.len(),
        held.messages.len(),
        held.audit.len()
    );
    if let Some(dir) = &args.export {
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| {
                std::fs::write(
                    dir.join("records.json"),
                    serde_json::to_vec_pretty(&held).unwrap_or_default(),
                )
            })
            .and_then(|()| {
                held.messages.iter().try_for_each(|(id, raw)| {
                    std::fs::write(dir.join(format!("message-{id}.eml")), raw)
                })
            });
        if let Err(e) = written {
            eprintln!("yjsend subject: cannot write {}: {e}", dir.display());
            return ExitCode::from(exit::IO);
        }
        audit(
            &store,
            "subject_access",
            format!("export of what is held about {}", args.who),
        );
        println!("Exported to {}.", dir.display());
    }
    if args.erase {
        let ids: Vec<u64> = held.records.iter().map(|r| r.id).collect();
        match store.erase(
            &ids,
            std::slice::from_ref(&args.who),
            args.dry_run,
            judge(config),
        ) {
            Ok(r) => {
                report(&args.who, &r, args.dry_run);
                if !args.dry_run {
                    audit(&store, "erase", format!("{} records", r.records.len()));
                    if let Err(e) = store.rewrite(&config.storage.path) {
                        eprintln!("yjsend subject: {e}");
                        return ExitCode::from(exit::IO);
                    }
                }
            }
            Err(e) => {
                eprintln!("yjsend subject: {e}");
                return ExitCode::from(exit::IO);
            }
        }
    }
    ExitCode::from(exit::OK)
}

#[derive(Debug, clap::Args)]
pub struct ReevaluateArgs {
    /// The reference of the message to read again (YJS-2018-0042)
    pub reference: String,
    /// Send the partnership the reply as it now stands
    #[arg(long)]
    pub send: bool,
}

/// `yjsend reevaluate REF [--send]`: through the running daemon (a team token), or on the
/// store directly when no daemon holds it.
pub fn reevaluate(args: &ReevaluateArgs, config: &Config) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("yjsend reevaluate: {e}");
            return ExitCode::from(exit::IO);
        }
    };
    let result: Result<String, String> = match Store::open(&config.storage.path) {
        Ok(store) => rt.block_on(async {
            let wording = crate::compose::wording::Wording::open(&config.replies.templates)
                .map_err(|e| e.to_string())?;
            let ctx = super::run::context(
                config,
                store,
                crate::pipeline::Evaluator::InProcess,
                wording,
            );
            let member = crate::domain::panel::members::Member {
                name: who_ran(),
                role: crate::domain::panel::members::Role::Team,
                token_sha256: [0; 32],
                conflicts: Vec::new(),
            };
            crate::pipeline::panel::reevaluate(
                &ctx,
                &member,
                &args.reference,
                args.send,
                jiff::Timestamp::now().as_second(),
            )
            .await
            .map_err(|e| e.to_string())?;
            ctx.store.flush().await.map_err(|e| e.to_string())?;
            let r =
                crate::pipeline::panel::record(&ctx, &args.reference).map_err(|e| e.to_string())?;
            let standing = r.as_ref().map(|r| ctx.standing(r));
            Ok(format!(
                "{}: Quality Mark {}, Quality Lead {}{}",
                args.reference,
                standing
                    .as_ref()
                    .map_or("", |s| s.quality_mark.provisional.as_str()),
                standing
                    .as_ref()
                    .map_or("", |s| s.quality_lead.provisional.as_str()),
                if args.send {
                    " (the reply is queued; the daemon sends it when it next runs)"
                } else {
                    ""
                }
            ))
        }),
        Err(_) => rt.block_on(async {
            let v = super::panel::daemon_json(
                config,
                &format!("/api/cases/{}/reevaluate", args.reference),
                Some(serde_json::json!({ "send_reply": args.send })),
            )
            .await
            .map_err(|e| format!("the daemon holds the store, and its API: {e}"))?;
            Ok(format!(
                "{}: Quality Mark {}, Quality Lead {}",
                args.reference,
                v["quality_mark"].as_str().unwrap_or("-"),
                v["quality_lead"].as_str().unwrap_or("-")
            ))
        }),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            eprintln!("yjsend reevaluate: {e}");
            ExitCode::from(exit::IO)
        }
    }
}
