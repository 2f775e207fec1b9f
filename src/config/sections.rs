//! The sections of `yjsend.toml`, each read with its defaults.

use super::reader::{Errors, Section, relative_to};
use crate::domain::round::Round;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Implicit,
    /// Plain first, then STARTTLS (required, never optional).
    Starttls,
    /// No TLS: only for a server on the loopback interface.
    None,
}

fn tls(s: &mut Section, default: Tls, errors: &mut Errors) -> Tls {
    match s.choice("tls", &["implicit", "starttls", "none"], errors) {
        Some("implicit") => Tls::Implicit,
        Some("starttls") => Tls::Starttls,
        Some(_) => Tls::None,
        None => default,
    }
}

/// Where a password comes from: secrets are never in the toml itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    None,
    Env(String),
    File(PathBuf),
}

fn secret(s: &mut Section, file: &Path, errors: &mut Errors) -> Secret {
    named_secret(
        s,
        ["password", "password_env", "password_file"],
        file,
        errors,
    )
}

/// A secret `[NAME, NAME_env, NAME_file]` given by environment variable or file; a value
/// written in the config itself is refused.
fn named_secret(
    s: &mut Section,
    [name_key, env_key, file_key]: [&'static str; 3],
    file: &Path,
    errors: &mut Errors,
) -> Secret {
    let env = s.string(env_key, errors);
    let path = s.string(file_key, errors);
    if let Some(p) = s.raw(name_key) {
        errors.push(
            p.span().start,
            &s.key(name_key),
            format!("secrets are never written in the config: use {env_key} or {file_key}"),
        );
    }
    match (env, path) {
        (Some(e), None) => Secret::Env(e.into_inner()),
        (None, Some(p)) => Secret::File(relative_to(file, p.get_ref())),
        (Some(e), Some(_)) => {
            errors.push(
                e.span().start,
                &s.key(env_key),
                format!("give {env_key} or {file_key}, not both"),
            );
            Secret::None
        }
        (None, None) => Secret::None,
    }
}

/// How the daemon signs in to IMAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapAuth {
    /// The IMAP LOGIN command (`auth = "password"` or `"login"`).
    Login,
    /// AUTHENTICATE PLAIN.
    Plain,
    /// A token from `[oauth2]`, by OAUTHBEARER where the server offers it, else XOAUTH2.
    OAuth2,
    /// The same, always by XOAUTH2 (`auth = "xoauth2"`).
    Xoauth2,
}

/// Where OAuth2 tokens come from (`[oauth2]`).
#[derive(Debug, Clone, PartialEq)]
pub struct OAuth2Config {
    /// `microsoft`, `google` or `generic`.
    pub provider: String,
    pub token_url: String,
    /// `token_url` was written in the config (else it is the provider's, and a service
    /// account key file's own `token_uri` is preferred).
    pub token_url_given: bool,
    pub client_id: String,
    pub client_secret: Secret,
    /// A certificate registered with the app, used instead of a client secret (PEM; the key
    /// in the same file unless `private_key_file` says where).
    pub certificate_file: Option<PathBuf>,
    pub private_key_file: Option<PathBuf>,
    /// A Google service account key (JSON) with domain-wide delegation for the mailbox.
    pub service_account_file: Option<PathBuf>,
    /// Set: the refresh-token grant (Google, and generic providers); else client credentials.
    pub refresh_token: Secret,
    pub scope: String,
    /// The address to sign in as; empty: `mailbox.username`.
    pub user: String,
    /// When the client secret expires, if the team knows (warned 30 days ahead).
    pub client_secret_expires: Option<jiff::civil::Date>,
}

pub(super) fn oauth2(mut s: Section, file: &Path, errors: &mut Errors) -> Option<OAuth2Config> {
    if !s.present() {
        return None;
    }
    let provider = s
        .choice("provider", &["microsoft", "google", "generic"], errors)
        .unwrap_or("generic")
        .to_string();
    let tenant = s.string("tenant", errors).map(|t| t.into_inner());
    let given_url = s.string("token_url", errors);
    let token_url_given = given_url.is_some();
    let token_url = match (provider.as_str(), given_url) {
        (_, Some(u)) => u.into_inner(),
        ("microsoft", None) => match &tenant {
            Some(t) => format!("https://login.microsoftonline.com/{t}/oauth2/v2.0/token"),
            None => {
                errors.push(s.offset, &s.key("tenant"), "is required for microsoft");
                String::new()
            }
        },
        ("google", None) => "https://oauth2.googleapis.com/token".into(),
        _ => {
            errors.push(
                s.offset,
                &s.key("token_url"),
                "is required for a generic provider",
            );
            String::new()
        }
    };
    let mut path = |key: &'static str| {
        s.string(key, errors)
            .map(|p| relative_to(file, p.get_ref()))
    };
    let certificate_file = path("certificate_file");
    let private_key_file = path("private_key_file");
    let service_account_file = path("service_account_file");
    let client_id = if service_account_file.is_some() {
        // The key file names the service account; a client id is not needed.
        s.string("client_id", errors)
            .map(|c| c.into_inner())
            .unwrap_or_default()
    } else {
        s.required_string("client_id", errors)
            .map(|c| c.into_inner())
            .unwrap_or_default()
    };
    let client_secret = named_secret(
        &mut s,
        ["client_secret", "client_secret_env", "client_secret_file"],
        file,
        errors,
    );
    let refresh_token = named_secret(
        &mut s,
        ["refresh_token", "refresh_token_env", "refresh_token_file"],
        file,
        errors,
    );
    if certificate_file.is_some() && client_secret != Secret::None {
        errors.push(
            s.offset,
            &s.key("certificate_file"),
            "give a client secret or a certificate, not both",
        );
    }
    if private_key_file.is_some() && certificate_file.is_none() {
        errors.push(
            s.offset,
            &s.key("private_key_file"),
            "is the key of certificate_file: set certificate_file too",
        );
    }
    if service_account_file.is_some() && provider != "google" {
        errors.push(
            s.offset,
            &s.key("service_account_file"),
            "service accounts are Google's: set provider = \"google\"",
        );
    }
    if provider == "google" && refresh_token == Secret::None && service_account_file.is_none() {
        errors.push(
            s.offset,
            &s.key("refresh_token_file"),
            "google needs a refresh token (run `yjsend auth google` once and point refresh_token_file at what it saves) or a service account with domain-wide delegation (service_account_file)",
        );
    }
    let scope = s.string("scope", errors).map_or_else(
        || match provider.as_str() {
            "microsoft" => "https://outlook.office365.com/.default".to_string(),
            "google" => "https://mail.google.com/".to_string(),
            _ => String::new(),
        },
        |v| v.into_inner(),
    );
    let user = s
        .string("user", errors)
        .map_or(String::new(), |v| v.into_inner());
    let client_secret_expires = s.string("client_secret_expires", errors).and_then(|v| {
        match v.get_ref().parse::<jiff::civil::Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(
                    v.span().start,
                    &s.key("client_secret_expires"),
                    "expected a date like 2027-06-30",
                );
                None
            }
        }
    });
    s.finish(errors);
    Some(OAuth2Config {
        provider,
        token_url,
        token_url_given,
        client_id,
        client_secret,
        certificate_file,
        private_key_file,
        service_account_file,
        refresh_token,
        scope,
        user,
        client_secret_expires,
    })
}

/// `[mailbox]`: where submissions arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum MailboxConfig {
    Maildir {
        path: PathBuf,
        trusted_authserv_id: Option<String>,
    },
    Imap {
        host: String,
        port: u16,
        tls: Tls,
        ca_file: Option<PathBuf>,
        username: String,
        password: Secret,
        /// AUTHENTICATE PLAIN instead of LOGIN.
        auth: ImapAuth,
        folder: String,
        processed_folder: String,
        quarantine_folder: String,
        idle: bool,
        poll_seconds: u64,
        trusted_authserv_id: Option<String>,
    },
}

impl MailboxConfig {
    /// `trusted_authserv_id`, whichever kind of mailbox.
    pub fn trusted_authserv_id(&self) -> Option<&str> {
        match self {
            MailboxConfig::Maildir {
                trusted_authserv_id,
                ..
            }
            | MailboxConfig::Imap {
                trusted_authserv_id,
                ..
            } => trusted_authserv_id.as_deref(),
        }
    }
}

/// `[smtp]`: where replies go.
#[derive(Debug, Clone, PartialEq)]
pub enum SmtpConfig {
    Dir {
        path: PathBuf,
        from: String,
    },
    Smtp {
        host: String,
        port: u16,
        tls: Tls,
        ca_file: Option<PathBuf>,
        username: Option<String>,
        password: Secret,
        /// Sign in with XOAUTH2 and a token from `[oauth2]` (`auth = "oauth2"`).
        oauth2: bool,
        from: String,
    },
}

impl SmtpConfig {
    /// The From header of everything we send.
    pub fn from(&self) -> &str {
        match self {
            SmtpConfig::Dir { from, .. } | SmtpConfig::Smtp { from, .. } => from,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Replies {
    pub max_per_sender: u64,
    pub window_hours: u64,
    pub evidence_window_days: u64,
    /// `replies.templates`: the folder of wording templates (default `templates`, beside the
    /// configuration); templates missing from it use the built-in wording.
    pub templates: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    /// Empty: no digest.
    pub to: Vec<String>,
    /// Local time of day in the round's time zone.
    pub at: jiff::civil::Time,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alerts {
    pub to: Vec<String>,
    pub intake_failing_minutes: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Storage {
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PanelConfig {
    /// Where the panel API and pages listen; `None` turns them off.
    pub listen: Option<String>,
    pub tokens_file: PathBuf,
    pub claim_minutes: u64,
    pub session_hours: u64,
}

pub(super) struct LimitsConfig {
    pub max_message_bytes: u64,
    pub max_unpacked_bytes: u64,
    pub max_unpacked_total_bytes: u64,
    pub message_seconds: u64,
}

pub(super) fn round(
    mut s: Section,
    errors: &mut Errors,
) -> (Option<Round>, Option<Spanned<String>>) {
    let name = s.required_string("name", errors);
    let prefix = s.required_string("reference_prefix", errors);
    let deadline = s.required_string("deadline", errors);
    let tz_name = s.required_string("timezone", errors);
    let roster = s.required_string("roster", errors);
    let panel_meets = s.string("panel_meets", errors).map(|v| v.into_inner());
    let outcomes_by = s.string("outcomes_by", errors).and_then(|v| {
        v.get_ref().parse::<jiff::civil::Date>().ok().or_else(|| {
            errors.push(
                v.span().start,
                &s.key("outcomes_by"),
                "expected a date like 2018-03-16",
            );
            None
        })
    });
    if let Some(p) = &prefix {
        let ok = !p.get_ref().is_empty()
            && p.get_ref()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            errors.push(
                p.span().start,
                &s.key("reference_prefix"),
                "use letters, digits and '-' only (it goes in subject lines)",
            );
        }
    }
    let tz = tz_name.and_then(|t| match jiff::tz::TimeZone::get(t.get_ref()) {
        Ok(tz) => Some(tz),
        Err(_) => {
            errors.push(
                t.span().start,
                &s.key("timezone"),
                format!(
                    "{:?} is not a known time zone (e.g. \"Europe/London\")",
                    t.get_ref()
                ),
            );
            None
        }
    });
    let local = deadline.and_then(|d| match d.get_ref().parse::<jiff::civil::DateTime>() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push(
                d.span().start,
                &s.key("deadline"),
                "expected a local date and time like 2018-02-23T23:59:59",
            );
            None
        }
    });
    s.finish(errors);
    let round = match (name, prefix, tz, local) {
        (Some(name), Some(prefix), Some(tz), Some(local)) => Round::resolve_deadline(local, &tz)
            .ok()
            .map(|deadline| Round {
                name: name.into_inner(),
                reference_prefix: prefix.into_inner(),
                deadline,
                timezone: tz,
                panel_meets,
                outcomes_by,
            }),
        _ => None,
    };
    (round, roster)
}

fn port(s: &mut Section, default: u16, errors: &mut Errors) -> u16 {
    s.uint("port", u16::MAX as u64, errors)
        .map(|p| p as u16)
        .unwrap_or(default)
}

pub(super) fn mailbox(mut s: Section, file: &Path, errors: &mut Errors) -> MailboxConfig {
    let kind = s
        .choice("kind", &["maildir", "imap"], errors)
        .unwrap_or(if s.present() { "imap" } else { "maildir" });
    let trusted = s
        .string("trusted_authserv_id", errors)
        .map(|v| v.into_inner());
    let cfg = if kind == "maildir" {
        let path = s.string("path", errors);
        MailboxConfig::Maildir {
            path: relative_to(file, path.as_ref().map_or("../var/mail", |p| p.get_ref())),
            trusted_authserv_id: trusted,
        }
    } else {
        let host = s.required_string("host", errors).map(|h| h.into_inner());
        let tls = tls(&mut s, Tls::Implicit, errors);
        let default_port = if tls == Tls::Implicit { 993 } else { 143 };
        let port = port(&mut s, default_port, errors);
        let ca_file = s
            .string("ca_file", errors)
            .map(|p| relative_to(file, p.get_ref()));
        let username = s
            .required_string("username", errors)
            .map(|u| u.into_inner());
        let password = secret(&mut s, file, errors);
        let auth = match s.choice(
            "auth",
            &["password", "login", "plain", "oauth2", "xoauth2"],
            errors,
        ) {
            Some("plain") => ImapAuth::Plain,
            Some("oauth2") => ImapAuth::OAuth2,
            Some("xoauth2") => ImapAuth::Xoauth2,
            _ => ImapAuth::Login,
        };
        MailboxConfig::Imap {
            auth,
            host: host.unwrap_or_default(),
            port,
            tls,
            ca_file,
            username: username.unwrap_or_default(),
            password,
            folder: s
                .string("folder", errors)
                .map_or("INBOX".into(), |v| v.into_inner()),
            processed_folder: s
                .string("processed_folder", errors)
                .map_or("Processed".into(), |v| v.into_inner()),
            quarantine_folder: s
                .string("quarantine_folder", errors)
                .map_or("Quarantine".into(), |v| v.into_inner()),
            idle: s.bool("idle", errors).unwrap_or(true),
            poll_seconds: s.uint("poll_seconds", 86_400, errors).unwrap_or(60).max(1),
            trusted_authserv_id: trusted,
        }
    };
    // Keys of the other kind are still known (switching kind should not need a cleanup).
    for k in [
        "path",
        "host",
        "port",
        "tls",
        "ca_file",
        "username",
        "folder",
        "processed_folder",
        "quarantine_folder",
        "idle",
        "poll_seconds",
    ] {
        s.raw(k);
    }
    s.finish(errors);
    cfg
}

/// `[smtp]`: the transport, and `retry_seconds` (the outbox's first retry delay, doubling up
/// to an hour; either transport can fail for a while).
pub(super) fn smtp(mut s: Section, file: &Path, errors: &mut Errors) -> (SmtpConfig, u64) {
    let retry_seconds = match s.uint("retry_seconds", 3600, errors) {
        Some(0) => {
            errors.push(s.offset, &s.key("retry_seconds"), "must be at least 1");
            30
        }
        Some(n) => n,
        None => 30,
    };
    let kind = s.choice("kind", &["dir", "smtp"], errors).unwrap_or(
        if s.present() && s.raw("host").is_some() {
            "smtp"
        } else {
            "dir"
        },
    );
    let from = s.string("from", errors).map_or(
        "Youth Justice SEND <youthjusticesend@example.org>".into(),
        |v| v.into_inner(),
    );
    if !from.contains('@') {
        errors.push(s.offset, &s.key("from"), "needs an email address");
    }
    let cfg = if kind == "dir" {
        let path = s.string("path", errors);
        SmtpConfig::Dir {
            path: relative_to(file, path.as_ref().map_or("../var/outbox", |p| p.get_ref())),
            from,
        }
    } else {
        let host = s.required_string("host", errors).map(|h| h.into_inner());
        let tls = tls(&mut s, Tls::Starttls, errors);
        let default_port = match tls {
            Tls::Implicit => 465,
            Tls::Starttls => 587,
            Tls::None => 25,
        };
        SmtpConfig::Smtp {
            host: host.unwrap_or_default(),
            port: port(&mut s, default_port, errors),
            tls,
            ca_file: s
                .string("ca_file", errors)
                .map(|p| relative_to(file, p.get_ref())),
            username: s.string("username", errors).map(|u| u.into_inner()),
            password: secret(&mut s, file, errors),
            oauth2: s.choice("auth", &["password", "oauth2"], errors) == Some("oauth2"),
            from,
        }
    };
    for k in ["path", "host", "port", "tls", "ca_file", "username"] {
        s.raw(k);
    }
    s.finish(errors);
    (cfg, retry_seconds)
}

pub(super) fn replies(mut s: Section, file: &Path, errors: &mut Errors) -> Replies {
    let r = Replies {
        max_per_sender: s.uint("max_per_sender", 10_000, errors).unwrap_or(10),
        window_hours: s.uint("window_hours", 24 * 365, errors).unwrap_or(3),
        evidence_window_days: s.uint("evidence_window_days", 3650, errors).unwrap_or(14),
        templates: relative_to(
            file,
            s.string("templates", errors)
                .as_ref()
                .map_or("templates", |p| p.get_ref()),
        ),
    };
    s.finish(errors);
    r
}

fn addresses(s: &mut Section, errors: &mut Errors) -> Vec<String> {
    let key = s.key("to");
    let mut out = Vec::new();
    for a in s.strings("to", errors).unwrap_or_default() {
        if a.get_ref().contains('@') {
            out.push(a.into_inner());
        } else {
            errors.push(
                a.span().start,
                &key,
                format!("{:?} is not an email address", a.get_ref()),
            );
        }
    }
    out
}

/// A time of day (`"08:00"`) under `key`.
fn time_of_day(
    s: &mut Section,
    key: &'static str,
    errors: &mut Errors,
) -> Option<jiff::civil::Time> {
    s.string(key, errors)
        .and_then(|v| match v.get_ref().parse::<jiff::civil::Time>() {
            Ok(t) => Some(t),
            Err(_) => {
                errors.push(
                    v.span().start,
                    &s.key(key),
                    "expected a time of day like \"08:00\"",
                );
                None
            }
        })
}

pub(super) fn digest(mut s: Section, errors: &mut Errors) -> Digest {
    let to = addresses(&mut s, errors);
    let at = time_of_day(&mut s, "at", errors);
    s.finish(errors);
    Digest {
        to,
        at: at.unwrap_or(jiff::civil::time(8, 0, 0, 0)),
    }
}

pub(super) fn alerts(mut s: Section, errors: &mut Errors) -> Alerts {
    let a = Alerts {
        to: addresses(&mut s, errors),
        intake_failing_minutes: s
            .uint("intake_failing_minutes", 10_080, errors)
            .unwrap_or(30),
    };
    s.finish(errors);
    a
}

pub(super) fn limits(mut s: Section, errors: &mut Errors) -> LimitsConfig {
    const GIB: u64 = 1024 * 1024 * 1024;
    let l = LimitsConfig {
        max_message_bytes: s
            .uint("max_message_bytes", 4 * GIB, errors)
            .unwrap_or(26_214_400),
        max_unpacked_bytes: s
            .uint("max_unpacked_bytes", 4 * GIB, errors)
            .unwrap_or(67_108_864),
        max_unpacked_total_bytes: s
            .uint("max_unpacked_total_bytes", 16 * GIB, errors)
            .unwrap_or(134_217_728),
        message_seconds: s.uint("message_seconds", 3600, errors).unwrap_or(30).max(1),
    };
    s.finish(errors);
    l
}

/// `[retention]`: personal data is purged this many months after its round closed.
#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    /// `None` (the key absent): nothing is purged automatically; `yjsend purge` still works.
    pub after_round_months: Option<u32>,
    /// When the daemon looks each day (in the round's time zone); also once at start.
    pub at: jiff::civil::Time,
}

pub(super) fn retention(mut s: Section, errors: &mut Errors) -> Retention {
    let months = s.uint("after_round_months", 1200, errors);
    if months == Some(0) {
        errors.push(
            s.offset,
            &s.key("after_round_months"),
            "must be at least 1 (leave it out to keep everything until `yjsend purge`)",
        );
    }
    let at = time_of_day(&mut s, "at", errors);
    s.finish(errors);
    Retention {
        after_round_months: months.filter(|m| *m > 0).map(|m| m as u32),
        at: at.unwrap_or(jiff::civil::time(3, 0, 0, 0)),
    }
}

pub(super) fn storage(mut s: Section, file: &Path, errors: &mut Errors) -> Storage {
    let path = s.string("path", errors);
    s.finish(errors);
    Storage {
        path: relative_to(
            file,
            path.as_ref().map_or("../var/yjsend.db", |p| p.get_ref()),
        ),
    }
}

pub(super) fn panel(mut s: Section, file: &Path, errors: &mut Errors) -> PanelConfig {
    let listen = s.string("listen", errors).map(|v| v.into_inner());
    let listen = match listen {
        Some(l) if l.is_empty() => None,
        Some(l) => {
            if l.parse::<std::net::SocketAddr>().is_err() {
                errors.push(
                    s.offset,
                    &s.key("listen"),
                    format!("{l:?} is not an address like 127.0.0.1:8080"),
                );
            }
            Some(l)
        }
        None => Some("127.0.0.1:8080".into()),
    };
    let tokens = s.string("tokens_file", errors);
    let p = PanelConfig {
        listen,
        tokens_file: relative_to(
            file,
            tokens.as_ref().map_or("panel-tokens.toml", |p| p.get_ref()),
        ),
        claim_minutes: s.uint("claim_minutes", 525_600, errors).unwrap_or(2880),
        session_hours: s.uint("session_hours", 8760, errors).unwrap_or(12),
    };
    s.finish(errors);
    p
}
