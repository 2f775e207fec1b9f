//! Configuration: `yjsend.toml` and the roster it names, read into resolved values with every
//! error naming file, line and key.
//!
//! Paths are relative to the folder of the file that names them, unknown keys are errors, and
//! every key but the round and its roster has a default, so the committed embedded default
//! stays short. `check` needs only the round and `mailbox.trusted_authserv_id`.

mod reader;
mod roster_file;
mod sections;

pub use sections::{
    Alerts, Digest, ImapAuth, MailboxConfig, OAuth2Config, PanelConfig, Replies, Secret,
    SmtpConfig, Storage, Tls,
};

use crate::domain::roster::Roster;
use crate::domain::round::Round;
use reader::{Errors, Section};
use std::path::{Path, PathBuf};

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    pub round: Round,
    /// Where the roster was read from.
    pub roster_path: PathBuf,
    pub roster: Roster,
    pub mailbox: MailboxConfig,
    /// `mailbox.trusted_authserv_id`: the only Authentication-Results header that counts.
    pub trusted_authserv_id: Option<String>,
    pub smtp: SmtpConfig,
    /// `[oauth2]`: where sign-in tokens come from, when `mailbox.auth` or `smtp.auth` is
    /// `oauth2`.
    pub oauth2: Option<sections::OAuth2Config>,
    /// `smtp.retry_seconds`: the outbox's first retry delay after a failed send.
    pub retry_seconds: u64,
    pub replies: Replies,
    pub digest: Digest,
    pub alerts: Alerts,
    /// Unpacking caps for one message.
    pub limits: crate::extract::Limits,
    /// Messages larger than this are not evaluated; they get a reply saying so.
    pub max_message_bytes: u64,
    /// Time allowed to evaluate one message.
    pub message_seconds: u64,
    pub storage: Storage,
    pub retention: sections::Retention,
    pub panel: PanelConfig,
}

/// One configuration error: `file:line: key: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {}{message}", file.display(), key_prefix(key))]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the error is about the file as a whole.
    pub line: usize,
    pub key: String,
    pub message: String,
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("{key}: ")
    }
}

/// Loads and validates the configuration and the roster it names: every error, not the first.
pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let source = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError {
            file: path.to_path_buf(),
            line: 0,
            key: String::new(),
            message: format!("cannot read the configuration: {e}"),
        }]
    })?;
    from_str(path, &source)
}

/// Reads a configuration from its text; `path` places relative paths and names errors.
pub fn from_str(path: &Path, source: &str) -> Result<Config, Vec<ConfigError>> {
    let mut errors = Errors::new(path, source);
    let Some(doc) = reader::parse(source, &mut errors) else {
        return Err(errors.list);
    };
    let mut top = Section::new("", Some(doc.get_ref()), 0);

    let round_section = top.table("round", &mut errors);
    if !round_section.present() {
        errors.push(0, "round", "the [round] section is required");
    }
    let (round, roster_rel) = sections::round(round_section, &mut errors);
    let mailbox = sections::mailbox(top.table("mailbox", &mut errors), path, &mut errors);
    let oauth2 = sections::oauth2(top.table("oauth2", &mut errors), path, &mut errors);
    let (smtp, retry_seconds) = sections::smtp(top.table("smtp", &mut errors), path, &mut errors);
    let wants_oauth2 = matches!(
        mailbox,
        MailboxConfig::Imap {
            auth: ImapAuth::OAuth2 | ImapAuth::Xoauth2,
            ..
        }
    ) || matches!(smtp, SmtpConfig::Smtp { oauth2: true, .. });
    if wants_oauth2 && oauth2.is_none() {
        errors.push(
            0,
            "oauth2",
            "mailbox.auth or smtp.auth is oauth2: add an [oauth2] section (provider, client_id, …)",
        );
    }
    let replies = sections::replies(top.table("replies", &mut errors), path, &mut errors);
    let digest = sections::digest(top.table("digest", &mut errors), &mut errors);
    let alerts = sections::alerts(top.table("alerts", &mut errors), &mut errors);
    let limits = sections::limits(top.table("limits", &mut errors), &mut errors);
    let storage = sections::storage(top.table("storage", &mut errors), path, &mut errors);
    let retention = sections::retention(top.table("retention", &mut errors), &mut errors);
    let panel = sections::panel(top.table("panel", &mut errors), path, &mut errors);
    top.finish(&mut errors);

    let mut all = errors.list;
    let mut roster = Roster::default();
    let mut roster_path = PathBuf::new();
    if let Some(rel) = roster_rel {
        roster_path = reader::relative_to(path, rel.get_ref());
        match std::fs::read_to_string(&roster_path) {
            Ok(text) => {
                let mut roster_errors = Errors::new(&roster_path, &text);
                roster = roster_file::read(&text, &mut roster_errors);
                all.extend(roster_errors.list);
            }
            Err(e) => all.push(ConfigError {
                file: path.to_path_buf(),
                line: Errors::new(path, source).line_of(rel.span().start),
                key: "round.roster".into(),
                message: format!("cannot read {}: {e}", roster_path.display()),
            }),
        }
    }
    match (round, all.is_empty()) {
        (Some(round), true) => Ok(Config {
            path: path.to_path_buf(),
            round,
            roster_path,
            roster,
            trusted_authserv_id: mailbox.trusted_authserv_id().map(str::to_string),
            mailbox,
            smtp,
            oauth2,
            retry_seconds,
            replies,
            digest,
            alerts,
            limits: crate::extract::Limits {
                max_unpacked_bytes: limits.max_unpacked_bytes,
                max_unpacked_total_bytes: limits.max_unpacked_total_bytes,
                ..crate::extract::Limits::default()
            },
            max_message_bytes: limits.max_message_bytes,
            message_seconds: limits.message_seconds,
            storage,
            retention,
            panel,
        }),
        _ => Err(all),
    }
}

#[cfg(test)]
mod tests;
