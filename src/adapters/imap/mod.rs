//! The project's mailbox over IMAP (async-imap on tokio): IDLE where the server has it, a
//! poll where it has not, MOVE (or COPY + \Deleted + EXPUNGE) to the processed folder.
//!
//! Half-open connections are the classic IDLE failure, so every command runs under a
//! timeout, an IDLE wait ends when the server has been silent too long (its keepalives reset
//! the clock) and is re-issued well before RFC 2177's 29 minutes, and DONE is bounded too.
//! Any failure drops the session; the next call reconnects (the run loop backs off).

mod stream;

use crate::config::Tls;
use crate::pipeline::ports::{Mailbox, MailboxError, MessageKey, RawMessage};
use async_imap::{Client, Session};
use futures::TryStreamExt;
use jiff::Timestamp;
use std::path::PathBuf;
use std::time::Duration;
use stream::Stream;
use tokio::net::TcpStream;
use tracing::{debug, info, warn};

/// How to log in.
#[derive(Clone)]
pub enum Auth {
    /// The IMAP LOGIN command.
    Login,
    /// AUTHENTICATE PLAIN (RFC 4616).
    Plain,
    /// AUTHENTICATE OAUTHBEARER (RFC 7628) where the server offers it, else XOAUTH2 (always
    /// XOAUTH2 when the flag is set), with a token from the source (refreshed when the server
    /// rejects it).
    OAuth2(std::sync::Arc<crate::adapters::oauth2::TokenSource>, bool),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::Login => "Login",
            Auth::Plain => "Plain",
            Auth::OAuth2(..) => "OAuth2",
        })
    }
}

/// A SASL exchange with one initial response: after it, an empty answer to whatever the
/// server says (a failed XOAUTH2 sends its error as a challenge and waits for one).
struct OneShot(Option<Vec<u8>>);

impl async_imap::Authenticator for OneShot {
    type Response = Vec<u8>;
    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        self.0.take().unwrap_or_default()
    }
}

/// What the IMAP adapter needs from the configuration.
#[derive(Debug, Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub ca_file: Option<PathBuf>,
    pub username: String,
    pub password: String,
    pub auth: Auth,
    pub folder: String,
    pub processed_folder: String,
    pub quarantine_folder: String,
    /// Use IDLE when the server offers it.
    pub idle: bool,
    /// Time allowed for any one command (and for connecting).
    pub command_timeout: Duration,
    /// An IDLE with no word from the server for this long is presumed dead (servers send
    /// keepalives every few minutes: Dovecot every 2).
    pub idle_silence: Duration,
}

impl ImapSettings {
    /// Defaults for the timeouts, for a configuration's connection settings.
    pub fn timeouts() -> (Duration, Duration) {
        (Duration::from_secs(60), Duration::from_secs(5 * 60))
    }
}

/// RFC 2177: clients should re-issue IDLE at least every 29 minutes.
const IDLE_REISSUE: Duration = Duration::from_secs(25 * 60);

struct Connected {
    session: Session<Stream>,
    uidvalidity: u32,
    exists: u32,
    can_move: bool,
    can_idle: bool,
    uidplus: bool,
}

pub struct ImapMailbox {
    settings: ImapSettings,
    conn: Option<Connected>,
}

struct PlainAuth<'a> {
    user: &'a str,
    pass: &'a str,
}

impl async_imap::Authenticator for PlainAuth<'_> {
    type Response = Vec<u8>;
    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        format!("\0{}\0{}", self.user, self.pass).into_bytes()
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> MailboxError {
    MailboxError::Unavailable(format!("{what}: {e}"))
}

impl ImapMailbox {
    pub fn new(settings: ImapSettings) -> ImapMailbox {
        ImapMailbox {
            settings,
            conn: None,
        }
    }

    async fn connect(&self) -> Result<Connected, MailboxError> {
        let s = &self.settings;
        let t = s.command_timeout;
        let tcp = tokio::time::timeout(t, TcpStream::connect((s.host.as_str(), s.port)))
            .await
            .map_err(|_| unavailable("connect", "timed out"))?
            .map_err(|e| unavailable(&format!("connect to {}:{}", s.host, s.port), e))?;
        let _ = tcp.set_nodelay(true);
        let stream = match s.tls {
            Tls::None => Stream::Plain(tcp),
            Tls::Implicit => {
                let c = stream::connector(s.ca_file.as_deref()).map_err(MailboxError::Other)?;
                tokio::time::timeout(t, stream::tls(&c, &s.host, tcp))
                    .await
                    .map_err(|_| unavailable("TLS", "timed out"))?
                    .map_err(|e| unavailable("TLS", e))?
            }
            Tls::Starttls => {
                let mut client = Client::new(Stream::Plain(tcp));
                let bearer = greeting(&mut client, t).await?;
                tokio::time::timeout(t, client.run_command_and_check_ok("STARTTLS", None))
                    .await
                    .map_err(|_| unavailable("STARTTLS", "timed out"))?
                    .map_err(|e| unavailable("STARTTLS", e))?;
                let Stream::Plain(tcp) = client.into_inner() else {
                    return Err(MailboxError::Other("STARTTLS on a TLS stream".into()));
                };
                let c = stream::connector(s.ca_file.as_deref()).map_err(MailboxError::Other)?;
                let tls = tokio::time::timeout(t, stream::tls(&c, &s.host, tcp))
                    .await
                    .map_err(|_| unavailable("TLS", "timed out"))?
                    .map_err(|e| unavailable("TLS", e))?;
                return self.login(Client::new(tls), false, bearer).await;
            }
        };
        self.login(Client::new(stream), true, false).await
    }

    async fn login(
        &self,
        mut client: Client<Stream>,
        read_greeting: bool,
        mut oauthbearer: bool,
    ) -> Result<Connected, MailboxError> {
        let s = &self.settings;
        let t = s.command_timeout;
        if read_greeting {
            oauthbearer = greeting(&mut client, t).await?;
        }
        let session = match &s.auth {
            Auth::Login => tokio::time::timeout(t, client.login(&s.username, &s.password))
                .await
                .map_err(|_| unavailable("login", "timed out"))?
                .map_err(|(e, _)| {
                    MailboxError::Other(format!("login as {} refused: {e}", s.username))
                })?,
            Auth::Plain => {
                let auth = PlainAuth {
                    user: &s.username,
                    pass: &s.password,
                };
                tokio::time::timeout(t, client.authenticate("PLAIN", auth))
                    .await
                    .map_err(|_| unavailable("authenticate", "timed out"))?
                    .map_err(|(e, _)| {
                        MailboxError::Other(format!("login as {} refused: {e}", s.username))
                    })?
            }
            Auth::OAuth2(source, xoauth2_only) => {
                self.oauth2(client, source, oauthbearer && !xoauth2_only)
                    .await?
            }
        };
        let mut session = session;
        let caps = tokio::time::timeout(t, session.capabilities())
            .await
            .map_err(|_| unavailable("CAPABILITY", "timed out"))?
            .map_err(|e| unavailable("CAPABILITY", e))?;
        let (can_move, can_idle, uidplus) = (
            caps.has_str("MOVE"),
            caps.has_str("IDLE"),
            caps.has_str("UIDPLUS"),
        );
        for folder in [&s.processed_folder, &s.quarantine_folder] {
            // Creating an existing folder fails harmlessly; the result does not matter.
            let _ = tokio::time::timeout(t, session.create(folder)).await;
        }
        let mailbox = tokio::time::timeout(t, session.select(&s.folder))
            .await
            .map_err(|_| unavailable("SELECT", "timed out"))?
            .map_err(|e| MailboxError::Other(format!("cannot open folder {}: {e}", s.folder)))?;
        info!(host = %s.host, folder = %s.folder, can_move, can_idle, "IMAP connected");
        Ok(Connected {
            session,
            uidvalidity: mailbox.uid_validity.unwrap_or(0),
            exists: mailbox.exists,
            can_move,
            can_idle,
            uidplus,
        })
    }

    /// Signs in with a token; a rejected token is refreshed once and tried again on a new
    /// connection (a token can expire between two sessions, or be revoked).
    async fn oauth2(
        &self,
        client: Client<Stream>,
        source: &crate::adapters::oauth2::TokenSource,
        oauthbearer: bool,
    ) -> Result<Session<Stream>, MailboxError> {
        use crate::adapters::oauth2::{OAuthError, oauthbearer as bearer, xoauth2};
        let s = &self.settings;
        let t = s.command_timeout;
        let token = source.token().await.map_err(|e| match e {
            OAuthError::Refused(m) => MailboxError::Other(format!("OAuth2 sign-in: {m}")),
            OAuthError::Unavailable(m) => unavailable("OAuth2 token", m),
        })?;
        let (mechanism, initial) = if oauthbearer {
            (
                "OAUTHBEARER",
                bearer(source.user(), &s.host, s.port, &token),
            )
        } else {
            ("XOAUTH2", xoauth2(source.user(), &token))
        };
        match tokio::time::timeout(
            t,
            client.authenticate(mechanism, OneShot(Some(initial.into_bytes()))),
        )
        .await
        {
            Err(_) => Err(unavailable("authenticate", "timed out")),
            Ok(Ok(session)) => Ok(session),
            Ok(Err((e, _))) => {
                warn!(error = %e, mechanism, "The IMAP server rejected the OAuth2 token; refreshing it.");
                // Refresh so the next connection (after the usual backoff) has a new token.
                if let Err(r) = source.refresh(&token).await {
                    return Err(MailboxError::Other(format!(
                        "OAuth2 sign-in as {} refused ({e}), and a new token could not be had: {r}",
                        source.user()
                    )));
                }
                Err(unavailable(
                    &format!("OAuth2 sign-in as {}", source.user()),
                    format!("{e}; a new token is ready for the next attempt"),
                ))
            }
        }
    }

    async fn ensure(&mut self) -> Result<(), MailboxError> {
        if self.conn.is_none() {
            self.conn = Some(self.connect().await?);
        }
        Ok(())
    }

    /// Moves messages to `folder` with one UID command (or one COPY, STORE and EXPUNGE).
    async fn move_to(&mut self, keys: &[MessageKey], folder: String) -> Result<(), MailboxError> {
        self.ensure().await?;
        let t = self.settings.command_timeout;
        let Some(c) = self.conn.as_mut() else {
            return Err(unavailable("move", "not connected"));
        };
        let mut uids = Vec::with_capacity(keys.len());
        for key in keys {
            let MessageKey::Imap { uidvalidity, uid } = key else {
                return Err(MailboxError::Other("not an IMAP message".into()));
            };
            // After a UIDVALIDITY change the old UID means nothing: the ledger dedupes.
            if c.uidvalidity == *uidvalidity {
                uids.push(*uid);
            }
        }
        if uids.is_empty() {
            return Ok(());
        }
        let uid = uid_set(&mut uids);
        let result: Result<(), String> = async {
            if c.can_move {
                tokio::time::timeout(t, c.session.uid_mv(&uid, &folder))
                    .await
                    .map_err(|_| "MOVE timed out".to_string())?
                    .map_err(|e| e.to_string())?;
                return Ok(());
            }
            tokio::time::timeout(t, c.session.uid_copy(&uid, &folder))
                .await
                .map_err(|_| "COPY timed out".to_string())?
                .map_err(|e| e.to_string())?;
            let store = async {
                let s = c
                    .session
                    .uid_store(&uid, "+FLAGS.SILENT (\\Deleted)")
                    .await?;
                s.try_collect::<Vec<_>>().await?;
                Ok::<_, async_imap::error::Error>(())
            };
            tokio::time::timeout(t, store)
                .await
                .map_err(|_| "STORE timed out".to_string())?
                .map_err(|e| e.to_string())?;
            let expunge = async {
                if c.uidplus {
                    let s = c.session.uid_expunge(&uid).await?;
                    s.try_collect::<Vec<_>>().await?;
                } else {
                    let s = c.session.expunge().await?;
                    s.try_collect::<Vec<_>>().await?;
                }
                Ok::<_, async_imap::error::Error>(())
            };
            tokio::time::timeout(t, expunge)
                .await
                .map_err(|_| "EXPUNGE timed out".to_string())?
                .map_err(|e| e.to_string())
        }
        .await;
        result.map_err(|e| {
            self.conn = None;
            unavailable(&format!("move to {folder}"), e)
        })
    }
}

/// An IMAP sequence set of UIDs with runs folded into ranges: `3:5,9`.
fn uid_set(uids: &mut [u32]) -> String {
    uids.sort_unstable();
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] <= end.saturating_add(1) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// Reads the greeting; true when it advertises AUTH=OAUTHBEARER.
async fn greeting(client: &mut Client<Stream>, t: Duration) -> Result<bool, MailboxError> {
    match tokio::time::timeout(t, client.read_response()).await {
        Ok(Ok(Some(r))) => Ok(offers_oauthbearer(r.parsed())),
        Ok(Ok(None)) => Err(unavailable("greeting", "connection closed")),
        Ok(Err(e)) => Err(unavailable("greeting", e)),
        Err(_) => Err(unavailable("greeting", "timed out")),
    }
}

fn offers_oauthbearer(r: &async_imap::imap_proto::Response<'_>) -> bool {
    use async_imap::imap_proto::{Capability, Response, ResponseCode};
    let caps = match r {
        Response::Data { outcome, .. } => match &outcome.code {
            Some(ResponseCode::Capabilities(c)) => c,
            _ => return false,
        },
        Response::Capabilities(c) => c,
        _ => return false,
    };
    caps.iter()
        .any(|c| matches!(c, Capability::Auth(m) if m.eq_ignore_ascii_case("OAUTHBEARER")))
}

impl Mailbox for ImapMailbox {
    async fn list(
        &mut self,
        max_bytes: u64,
        limit: usize,
    ) -> Result<Vec<RawMessage>, MailboxError> {
        self.ensure().await?;
        let folder = self.settings.folder.clone();
        let Some(c) = self.conn.as_mut() else {
            return Err(unavailable("list", "not connected"));
        };
        // SELECT again: it refreshes EXISTS and notices a changed UIDVALIDITY.
        let t = self.settings.command_timeout;
        let selected = tokio::time::timeout(t, c.session.select(&folder)).await;
        let mailbox = match selected {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => {
                self.conn = None;
                return Err(unavailable("SELECT", e));
            }
            Err(_) => {
                self.conn = None;
                return Err(unavailable("SELECT", "timed out"));
            }
        };
        let uidvalidity = mailbox.uid_validity.unwrap_or(0);
        if uidvalidity != c.uidvalidity {
            warn!(
                old = c.uidvalidity,
                new = uidvalidity,
                "UIDVALIDITY changed: rescanning the folder (answered messages are recognised by Message-ID and content)"
            );
            c.uidvalidity = uidvalidity;
        }
        c.exists = mailbox.exists;
        if mailbox.exists == 0 {
            return Ok(Vec::new());
        }
        let query = format!(
            "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[]<0.{}>)",
            max_bytes.saturating_add(1)
        );
        // The oldest messages by sequence number: handled ones have left the folder.
        let last = mailbox.exists.min(limit.max(1) as u32);
        let fetch = async {
            let s = c.session.fetch(format!("1:{last}"), &query).await?;
            s.try_collect::<Vec<_>>().await
        };
        let fetched = match tokio::time::timeout(t * 4, fetch).await {
            Ok(Ok(f)) => f,
            Ok(Err(e)) => {
                self.conn = None;
                return Err(unavailable("FETCH", e));
            }
            Err(_) => {
                self.conn = None;
                return Err(unavailable("FETCH", "timed out"));
            }
        };
        let mut out: Vec<RawMessage> = fetched
            .iter()
            .filter_map(|f| {
                let uid = f.uid?;
                let received_at = f
                    .internal_date()
                    .and_then(|d| Timestamp::from_second(d.timestamp()).ok())
                    .unwrap_or_else(Timestamp::now);
                let bytes = f.body().unwrap_or_default().to_vec();
                Some(RawMessage {
                    key: MessageKey::Imap { uidvalidity, uid },
                    received_at,
                    size: f.size.map(u64::from).unwrap_or(bytes.len() as u64),
                    bytes,
                })
            })
            .collect();
        out.sort_by_key(|m| match m.key {
            MessageKey::Imap { uid, .. } => uid,
            MessageKey::Maildir { .. } => 0,
        });
        debug!(count = out.len(), "IMAP listed");
        Ok(out)
    }

    async fn mark_processed(&mut self, keys: &[MessageKey]) -> Result<(), MailboxError> {
        let folder = self.settings.processed_folder.clone();
        self.move_to(keys, folder).await
    }

    async fn quarantine(&mut self, key: &MessageKey) -> Result<(), MailboxError> {
        let folder = self.settings.quarantine_folder.clone();
        self.move_to(std::slice::from_ref(key), folder).await
    }

    fn waiting(&self) -> Option<usize> {
        self.conn.as_ref().map(|c| c.exists as usize)
    }

    async fn wait(&mut self, timeout: Duration) -> Result<(), MailboxError> {
        self.ensure().await?;
        let use_idle = self.settings.idle && self.conn.as_ref().is_some_and(|c| c.can_idle);
        if !use_idle {
            tokio::time::sleep(timeout).await;
            return Ok(());
        }
        let t = self.settings.command_timeout;
        let silence = self.settings.idle_silence;
        let Some(c) = self.conn.take() else {
            return Err(unavailable("IDLE", "not connected"));
        };
        let Connected {
            session,
            uidvalidity,
            exists,
            can_move,
            can_idle,
            uidplus,
        } = c;
        let mut handle = session.idle();
        match tokio::time::timeout(t, handle.init()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(unavailable("IDLE", e)),
            Err(_) => return Err(unavailable("IDLE", "timed out")),
        }
        {
            let (wait, _stop) = handle.wait_with_timeout(silence);
            let limit = timeout.min(IDLE_REISSUE);
            match tokio::time::timeout(limit, wait).await {
                Ok(Ok(async_imap::extensions::idle::IdleResponse::NewData(_))) => {
                    debug!("IDLE: the folder changed");
                }
                Ok(Ok(async_imap::extensions::idle::IdleResponse::Timeout)) => {
                    warn!(
                        ?silence,
                        "IDLE: the server has been silent too long; reconnecting"
                    );
                    return Err(unavailable("IDLE", "server silent"));
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(unavailable("IDLE", e)),
                Err(_) => debug!("IDLE: re-issuing"),
            }
        }
        let session = match tokio::time::timeout(t, handle.done()).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(unavailable("DONE", e)),
            Err(_) => return Err(unavailable("DONE", "timed out")),
        };
        self.conn = Some(Connected {
            session,
            uidvalidity,
            exists,
            can_move,
            can_idle,
            uidplus,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_fold_runs_and_skip_repeats() {
        assert_eq!(uid_set(&mut [7]), "7");
        assert_eq!(uid_set(&mut [5, 3, 4, 9, 11, 10, 4]), "3:5,9:11");
        assert_eq!(uid_set(&mut [1, 3, 5]), "1,3,5");
        assert_eq!(
            uid_set(&mut [u32::MAX, u32::MAX - 1]),
            "4294967294:4294967295"
        );
    }
}
