//! `yjsend run [--once]`: the daemon, and `yjsend worker`, the evaluation process it starts.
//!
//! This file only assembles the pieces the configuration names (mailbox, transport, store,
//! evaluator) and hands them to the run loop; the loop itself is in `pipeline::scheduler`.

use super::exit;
use crate::adapters::dir::DirTransport;
use crate::adapters::imap::{Auth, ImapMailbox, ImapSettings};
use crate::adapters::maildir::Maildir;
use crate::adapters::smtp::{SmtpSettings, SmtpTransport, read_secret};
use crate::adapters::store::Store;
use crate::compose::wording::Wording;
use crate::config::{Config, MailboxConfig, SmtpConfig};
use crate::pipeline::evaluate::{Settings, evaluate};
use crate::pipeline::ports::{Outgoing, SendError, Transport};
use crate::pipeline::scheduler::{self, Pace};
use crate::pipeline::worker::{Worker, WorkerSpec};
use crate::pipeline::{Ctx, Evaluator};
use std::process::ExitCode;
use std::time::Duration;
use tracing::{error, info};

/// Address-space limit of the evaluation worker: generous for a 25 MB message with 128 MB of
/// unpacked attachments, small enough that a runaway allocation fails in the worker.
const WORKER_MEMORY: u64 = 1024 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Process what is waiting, send what is due, and exit
    #[arg(long)]
    pub once: bool,
    /// Evaluate in this process instead of a worker process (for debugging)
    #[arg(long, hide = true)]
    pub in_process: bool,
}

/// Our own address from the From header ("Name <a@b>" or "a@b"), lower case.
fn address_of(from: &str) -> String {
    let a = match (from.rfind('<'), from.rfind('>')) {
        (Some(l), Some(r)) if l < r => &from[l + 1..r],
        _ => from,
    };
    a.trim().to_ascii_lowercase()
}

/// The file `yjsend digest --now` leaves for a running daemon: beside the store.
pub fn digest_request_path(config: &Config) -> std::path::PathBuf {
    let mut name = config
        .storage
        .path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".digest-request");
    config.storage.path.with_file_name(name)
}

pub fn context(config: &Config, store: Store, evaluator: Evaluator, wording: Wording) -> Ctx {
    Ctx {
        wording,
        store,
        round: arc_swap::ArcSwap::from_pointee(config.round.clone()),
        roster: arc_swap::ArcSwap::from_pointee(config.roster.clone()),
        trusted_authserv_id: config.trusted_authserv_id.clone(),
        limits: config.limits,
        max_message_bytes: config.max_message_bytes,
        message_seconds: config.message_seconds,
        from: config.smtp.from().to_string(),
        own_addresses: vec![address_of(config.smtp.from())],
        max_per_sender: config.replies.max_per_sender as usize,
        window_hours: config.replies.window_hours as i64,
        max_attempts: 3,
        evidence_window_days: config.replies.evidence_window_days as i64,
        retry_seconds: config.retry_seconds as i64,
        alerts_to: config.alerts.to.clone(),
        digest_to: config.digest.to.clone(),
        digest_at: config.digest.at,
        digest_request: Some(digest_request_path(config)),
        outbox_wake: Default::default(),
        pause: Default::default(),
        secret_expires: config.oauth2.as_ref().and_then(|o| o.client_secret_expires),
        claim_seconds: (config.panel.claim_minutes * 60) as i64,
        intake_failing_after: Duration::from_secs(config.alerts.intake_failing_minutes * 60),
        evaluator,
        retention: config.retention.after_round_months.map(|months| {
            crate::pipeline::retention::Schedule {
                policy: crate::domain::retention::Policy {
                    after_round_months: months,
                },
                at: config.retention.at,
                store_path: config.storage.path.clone(),
            }
        }),
        restart: Default::default(),
    }
}

pub fn run(args: &RunArgs, config: &Config, config_path: &std::path::Path) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("yjsend: cannot start the runtime: {e}");
            return ExitCode::from(exit::IO);
        }
    };
    let (code, restart) = runtime.block_on(run_async(args, config, config_path));
    // Every task (and with them every handle on the store) ends with the runtime.
    runtime.shutdown_timeout(Duration::from_secs(10));
    if restart {
        return restart_self(config, args.once);
    }
    code
}

/// Starts the daemon again in this process (same pid, so systemd sees no restart): the new
/// start rewrites the store a retention purge asked for. With `--once` (nothing to restart)
/// the rewrite is done here instead.
fn restart_self(config: &Config, once: bool) -> ExitCode {
    if once {
        return match Store::rewrite_if_pending(&config.storage.path) {
            Ok(_) => ExitCode::from(exit::OK),
            Err(e) => {
                eprintln!("yjsend: rewriting the store after a purge: {e}");
                ExitCode::from(exit::IO)
            }
        };
    }
    info!("Restarting to rewrite the store after the retention purge.");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let program = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
        let e = std::process::Command::new(program)
            .args(std::env::args_os().skip(1))
            .exec();
        error!(error = %e, "Could not restart; the store will be rewritten at the next start.");
    }
    ExitCode::from(exit::IO)
}

/// The daemon's life; the flag says it stopped to be restarted.
async fn run_async(
    args: &RunArgs,
    config: &Config,
    config_path: &std::path::Path,
) -> (ExitCode, bool) {
    let code = |c: u8| (ExitCode::from(c), false);
    if let Some(parent) = config.storage.path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    match Store::rewrite_if_pending(&config.storage.path) {
        Ok(true) => info!("The store was rewritten: purged data is gone from its files."),
        Ok(false) => {}
        Err(e) => {
            eprintln!(
                "yjsend: cannot rewrite the store {} after a purge: {e}",
                config.storage.path.display()
            );
            return code(exit::IO);
        }
    }
    let store = match Store::open(&config.storage.path) {
        Ok(s) => s,
        Err(e) => {
            let what = format!(
                "cannot open the store {}: {e}",
                config.storage.path.display()
            );
            eprintln!("yjsend: {what}");
            if !matches!(e, crate::adapters::store::StoreError::Locked) {
                alert_store_unusable(config, &what).await;
            }
            return code(exit::IO);
        }
    };
    // Retention dates a round's records from its deadline, long after it was replaced.
    if let Err(e) = store.remember_round(&config.round.reference_prefix, config.round.deadline) {
        eprintln!("yjsend: the store: {e}");
        return code(exit::IO);
    }
    let evaluator = if args.in_process {
        Evaluator::InProcess
    } else {
        match std::env::current_exe() {
            Ok(program) => {
                Evaluator::Worker(Box::new(tokio::sync::Mutex::new(Worker::new(WorkerSpec {
                    program,
                    config: config_path.to_path_buf(),
                    memory_limit: WORKER_MEMORY,
                }))))
            }
            Err(_) => Evaluator::InProcess,
        }
    };
    let wording = match Wording::open(&config.replies.templates) {
        Ok(w) => w,
        Err(e) => {
            eprintln!(
                "yjsend: the wording templates in {}: {e}",
                config.replies.templates.display()
            );
            return code(exit::USAGE);
        }
    };
    let ctx = std::sync::Arc::new(context(config, store, evaluator, wording));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let restarting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (ctx, restarting) = (ctx.clone(), restarting.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown_signal() => {
                    info!("Shutdown requested: finishing the message in flight.");
                }
                _ = ctx.restart.notified() => {
                    info!("Restart requested: finishing the message in flight.");
                    restarting.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            let _ = stop_tx.send(true);
        });
    }
    let pace = Pace {
        backstop: match &config.mailbox {
            MailboxConfig::Imap { poll_seconds, .. } => Duration::from_secs(*poll_seconds),
            MailboxConfig::Maildir { .. } => Duration::from_secs(5),
        },
        ..Pace::default()
    };
    let tokens = match token_source(config, &ctx.store) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("yjsend: {e}");
            return code(exit::USAGE);
        }
    };
    let mailbox = match open_mailbox(&config.mailbox, tokens.clone()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("yjsend: {e}");
            return code(exit::USAGE);
        }
    };
    let transport = match open_transport(config, tokens) {
        Ok(t) => t,
        Err((code, message)) => {
            eprintln!("yjsend: {message}");
            return (ExitCode::from(code), false);
        }
    };
    let server = if args.once {
        None
    } else {
        match start_panel(config, ctx.clone(), stop_rx.clone()).await {
            Ok(s) => s,
            Err(message) => {
                eprintln!("yjsend: {message}");
                return code(exit::USAGE);
            }
        }
    };
    if !args.once {
        tokio::spawn(super::reload::watch(
            ctx.clone(),
            config.clone(),
            stop_rx.clone(),
        ));
    }
    crate::adapters::systemd::notify("READY=1");
    let result = drive(&ctx, mailbox, &transport, args.once, pace, stop_rx).await;
    // A restart in place is, to systemd, a reload: READY=1 from the new start ends it.
    crate::adapters::systemd::notify(if restarting.load(std::sync::atomic::Ordering::SeqCst) {
        "RELOADING=1"
    } else {
        "STOPPING=1"
    });
    if let Some(server) = server {
        // Stops with the same signal; give in-flight requests a moment.
        let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    }
    let restart = restarting.load(std::sync::atomic::Ordering::SeqCst)
        || (args.once && Store::rewrite_marker(&config.storage.path).exists());
    match result {
        Ok(()) => {
            let _ = ctx.store.flush().await;
            (ExitCode::from(exit::OK), restart)
        }
        Err(e) => {
            error!(error = %e, "yjsend stopped");
            eprintln!("yjsend: {e}");
            code(exit::IO)
        }
    }
}

/// Tells the team the daemon cannot start because its store cannot be opened (a read-only or
/// full disk, wrong ownership): straight through the transport, since the outbox is in the
/// store. Not for a store locked by another yjsend, which is a second copy, not a failure.
async fn alert_store_unusable(config: &Config, what: &str) {
    if config.alerts.to.is_empty() {
        return;
    }
    // Without the store there is no token cache: an OAuth2 transport cannot be built.
    let Ok(transport) = open_transport(config, None) else {
        return;
    };
    let body = format!(
        "yjsend cannot start: it {what}.\n\n\
         Nothing has been lost: messages stay in the mailbox until they are handled. Check \
         the disk (space, a read-only mount, ownership) and the service log, then start \
         yjsend again."
    );
    crate::pipeline::alert::send_without_store(
        &transport,
        config.smtp.from(),
        &address_of(config.smtp.from()),
        &config.alerts.to,
        "cannot start: the store cannot be opened",
        &body,
    )
    .await;
}

/// Starts the panel API on `panel.listen` (none when it is empty).
async fn start_panel(
    config: &Config,
    ctx: std::sync::Arc<Ctx>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Option<tokio::task::JoinHandle<()>>, String> {
    let Some(listen) = &config.panel.listen else {
        return Ok(None);
    };
    let members = crate::adapters::http::MembersFile::open(config.panel.tokens_file.clone())?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen} (panel.listen): {e}"))?;
    info!(listen, "Panel API listening.");
    let state = std::sync::Arc::new(crate::adapters::http::AppState {
        ctx,
        members,
        pages: crate::adapters::http::pages::Pages::new(config.panel.session_hours),
    });
    Ok(Some(tokio::spawn(async move {
        let shutdown = async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = crate::adapters::http::serve(listener, state, shutdown).await {
            error!(error = %e, "The panel API stopped.");
        }
    })))
}

/// The configured way out, either kind.
pub enum AnyTransport {
    Dir(DirTransport),
    Smtp(SmtpTransport),
}

impl Transport for AnyTransport {
    async fn send(&self, message: Outgoing<'_>) -> Result<(), SendError> {
        match self {
            AnyTransport::Dir(t) => t.send(message).await,
            AnyTransport::Smtp(t) => t.send(message).await,
        }
    }
}

/// Sets up the transport `[smtp]` describes; on failure, the exit status and a message.
pub fn open_transport(
    config: &Config,
    tokens: Option<std::sync::Arc<crate::adapters::oauth2::TokenSource>>,
) -> Result<AnyTransport, (u8, String)> {
    match &config.smtp {
        SmtpConfig::Dir { path, .. } => DirTransport::new(path.clone())
            .map(AnyTransport::Dir)
            .map_err(|e| {
                (
                    exit::IO,
                    format!("cannot use the outbox folder {}: {e}", path.display()),
                )
            }),
        SmtpConfig::Smtp {
            host,
            port,
            tls,
            ca_file,
            username,
            password,
            oauth2,
            ..
        } => {
            let tokens = match (oauth2, tokens) {
                (true, None) => {
                    return Err((
                        exit::USAGE,
                        "smtp.auth is oauth2: add an [oauth2] section".into(),
                    ));
                }
                (true, t) => t,
                (false, _) => None,
            };
            let password = if tokens.is_some() {
                None
            } else {
                read_secret(password).map_err(|e| (exit::USAGE, format!("smtp password: {e}")))?
            };
            let settings = SmtpSettings {
                host: host.clone(),
                port: *port,
                tls: *tls,
                ca_file: ca_file.clone(),
                username: username.clone(),
                password,
                oauth2: tokens,
                timeout: Duration::from_secs(60),
            };
            SmtpTransport::new(&settings)
                .map(AnyTransport::Smtp)
                .map_err(|e| (exit::USAGE, e.to_string()))
        }
    }
}

/// The configured mailbox, either kind.
enum AnyMailbox {
    Maildir(Maildir),
    Imap(Box<ImapMailbox>),
}

/// The OAuth2 token source when `mailbox.auth` or `smtp.auth` is `oauth2`.
pub fn token_source(
    config: &Config,
    store: &Store,
) -> Result<Option<std::sync::Arc<crate::adapters::oauth2::TokenSource>>, String> {
    use crate::adapters::oauth2::{
        Certificate, Grant, OAuth2Settings, ServiceAccount, TokenSource,
    };
    let wanted = matches!(
        &config.mailbox,
        MailboxConfig::Imap {
            auth: crate::config::ImapAuth::OAuth2 | crate::config::ImapAuth::Xoauth2,
            ..
        }
    ) || matches!(&config.smtp, SmtpConfig::Smtp { oauth2: true, .. });
    let Some(o) = config.oauth2.as_ref().filter(|_| wanted) else {
        return Ok(None);
    };
    let client_secret =
        read_secret(&o.client_secret).map_err(|e| format!("oauth2 client secret: {e}"))?;
    let refresh =
        read_secret(&o.refresh_token).map_err(|e| format!("oauth2 refresh token: {e}"))?;
    let user = if o.user.is_empty() {
        match &config.mailbox {
            MailboxConfig::Imap { username, .. } => username.clone(),
            MailboxConfig::Maildir { .. } => String::new(),
        }
    } else {
        o.user.clone()
    };
    let certificate = match &o.certificate_file {
        Some(cert) => Some(std::sync::Arc::new(
            Certificate::load(cert, o.private_key_file.as_deref())
                .map_err(|e| format!("oauth2 certificate: {e}"))?,
        )),
        None => None,
    };
    let account = match &o.service_account_file {
        Some(path) => Some(std::sync::Arc::new(
            ServiceAccount::load(path).map_err(|e| format!("oauth2 service account: {e}"))?,
        )),
        None => None,
    };
    let token_url = match &account {
        Some(a) if !o.token_url_given => a.token_uri.clone().unwrap_or(o.token_url.clone()),
        _ => o.token_url.clone(),
    };
    let settings = OAuth2Settings {
        token_url,
        client_id: o.client_id.clone(),
        client_secret,
        certificate,
        scope: o.scope.clone(),
        grant: match (account, refresh) {
            (Some(a), _) => Grant::ServiceAccount(a),
            (None, Some(r)) => Grant::RefreshToken(r),
            (None, None) => Grant::ClientCredentials,
        },
        user,
        client_secret_expires: o.client_secret_expires,
        basic_auth: false,
    };
    TokenSource::new(settings, store.clone())
        .map(|t| Some(std::sync::Arc::new(t)))
        .map_err(|e| e.to_string())
}

fn open_mailbox(
    cfg: &MailboxConfig,
    tokens: Option<std::sync::Arc<crate::adapters::oauth2::TokenSource>>,
) -> Result<AnyMailbox, String> {
    match cfg {
        MailboxConfig::Maildir { path, .. } => Maildir::open(path, "Processed", "Quarantine")
            .map(AnyMailbox::Maildir)
            .map_err(|e| format!("cannot open the Maildir {}: {e}", path.display())),
        MailboxConfig::Imap {
            host,
            port,
            tls,
            ca_file,
            username,
            password,
            auth,
            folder,
            processed_folder,
            quarantine_folder,
            idle,
            ..
        } => {
            let auth = match (auth, tokens) {
                (crate::config::ImapAuth::OAuth2, Some(t)) => Auth::OAuth2(t, false),
                (crate::config::ImapAuth::Xoauth2, Some(t)) => Auth::OAuth2(t, true),
                (crate::config::ImapAuth::OAuth2 | crate::config::ImapAuth::Xoauth2, None) => {
                    return Err("mailbox.auth is oauth2: add an [oauth2] section".into());
                }
                (crate::config::ImapAuth::Plain, _) => Auth::Plain,
                (crate::config::ImapAuth::Login, _) => Auth::Login,
            };
            let password = match auth {
                Auth::OAuth2(..) => String::new(),
                _ => read_secret(password)
                    .map_err(|e| format!("imap password: {e}"))?
                    .ok_or("mailbox: set password_env or password_file")?,
            };
            let (command_timeout, idle_silence) = ImapSettings::timeouts();
            Ok(AnyMailbox::Imap(Box::new(ImapMailbox::new(ImapSettings {
                host: host.clone(),
                port: *port,
                tls: *tls,
                ca_file: ca_file.clone(),
                username: username.clone(),
                password,
                auth,
                folder: folder.clone(),
                processed_folder: processed_folder.clone(),
                quarantine_folder: quarantine_folder.clone(),
                idle: *idle,
                command_timeout,
                idle_silence,
            }))))
        }
    }
}

async fn drive<T: Transport>(
    ctx: &Ctx,
    mailbox: AnyMailbox,
    transport: &T,
    once: bool,
    pace: Pace,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), scheduler::RunError> {
    info!(once, "yjsend running");
    let result = match mailbox {
        AnyMailbox::Maildir(mut m) => {
            scheduler::run(ctx, &mut m, transport, once, pace, stop).await
        }
        AnyMailbox::Imap(mut m) => {
            scheduler::run(ctx, m.as_mut(), transport, once, pace, stop).await
        }
    };
    if let Err(e) = &result {
        // The outbox is in the store, so this one goes straight out.
        let body = format!(
            "yjsend has stopped taking mail because its store failed:\n\n  {e}\n\n\
             Nothing has been lost: messages stay in the mailbox until they are handled. \
             Check the disk and the service log, then start yjsend again."
        );
        crate::pipeline::alert::send_now(ctx, transport, "intake stopped: the store failed", &body)
            .await;
    }
    result
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// `yjsend worker`: evaluates messages framed on stdin until it closes.
pub fn worker(config: &Config) -> ExitCode {
    let settings = Settings::from_config(config);
    match crate::pipeline::worker::serve(|raw, received_at| {
        evaluate(raw, Some(received_at), &settings)
    }) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("yjsend worker: {e}");
            ExitCode::from(exit::IO)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn our_address_from_the_from_header() {
        assert_eq!(
            super::address_of("Youth Justice SEND <YJS@Example.org>"),
            "yjs@example.org"
        );
        assert_eq!(super::address_of("yjs@example.org"), "yjs@example.org");
    }
}
