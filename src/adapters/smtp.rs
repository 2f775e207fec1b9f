//! Sending through an SMTP server (submission with STARTTLS, implicit TLS, or plain on
//! loopback) with lettre, keeping lettre's distinction between a temporary refusal (4xx, a
//! dropped connection: the outbox retries) and a permanent one (5xx: the outbox gives up and
//! the team hears of it).

use crate::config::{Secret, Tls};
use crate::pipeline::ports::{Outgoing, SendError, Transport};
use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls as LettreTls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// What the SMTP adapter needs from the configuration.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub ca_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Sign in with XOAUTH2 and tokens from here instead of a password.
    pub oauth2: Option<std::sync::Arc<crate::adapters::oauth2::TokenSource>>,
    /// Time allowed for each SMTP command.
    pub timeout: Duration,
}

/// Why the transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error("cannot read the CA file {0}: {1}")]
    CaFile(PathBuf, std::io::Error),
    #[error("invalid TLS settings: {0}")]
    Tls(String),
}

/// An SMTP transport with a small connection pool. With OAuth2, the pool is rebuilt when the
/// token changes (lettre takes credentials when it is built).
pub struct SmtpTransport {
    settings: SmtpSettings,
    inner: std::sync::Mutex<(Option<String>, AsyncSmtpTransport<Tokio1Executor>)>,
}

impl SmtpTransport {
    pub fn new(s: &SmtpSettings) -> Result<SmtpTransport, SmtpSetupError> {
        let inner = build(s, None)?;
        Ok(SmtpTransport {
            settings: s.clone(),
            inner: std::sync::Mutex::new((None, inner)),
        })
    }

    /// The transport for this token (the current one, or a new pool for a new token).
    fn with_token(
        &self,
        token: Option<&str>,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.0.as_deref() != token {
            let fresh =
                build(&self.settings, token).map_err(|e| SendError::Transient(e.to_string()))?;
            *inner = (token.map(str::to_string), fresh);
        }
        Ok(inner.1.clone())
    }
}

fn build(
    s: &SmtpSettings,
    token: Option<&str>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, SmtpSetupError> {
    let tls_params = || -> Result<TlsParameters, SmtpSetupError> {
        let mut b = TlsParameters::builder(s.host.clone());
        if let Some(ca) = &s.ca_file {
            let pem = std::fs::read(ca).map_err(|e| SmtpSetupError::CaFile(ca.clone(), e))?;
            let cert =
                Certificate::from_pem(&pem).map_err(|e| SmtpSetupError::Tls(e.to_string()))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .map_err(|e| SmtpSetupError::Tls(e.to_string()))
    };
    let tls = match s.tls {
        Tls::Implicit => LettreTls::Wrapper(tls_params()?),
        Tls::Starttls => LettreTls::Required(tls_params()?),
        Tls::None => LettreTls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
        .port(s.port)
        .tls(tls)
        .timeout(Some(s.timeout))
        .pool_config(
            PoolConfig::new()
                .max_size(2)
                .idle_timeout(Duration::from_secs(60)),
        );
    match (&s.oauth2, token) {
        (Some(source), Some(token)) => {
            builder = builder
                .credentials(Credentials::new(
                    source.user().to_string(),
                    token.to_string(),
                ))
                .authentication(vec![Mechanism::Xoauth2]);
        }
        _ => {
            if let (Some(u), Some(p)) = (&s.username, &s.password) {
                builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
            }
        }
    }
    Ok(builder.build())
}

impl Transport for SmtpTransport {
    async fn send(&self, message: Outgoing<'_>) -> Result<(), SendError> {
        let from: Option<Address> = message.envelope_from.parse().ok();
        let to: Vec<Address> = message
            .recipients
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect();
        if to.is_empty() {
            return Err(SendError::Permanent(format!(
                "no valid recipient among {:?}",
                message.recipients
            )));
        }
        let envelope = Envelope::new(from, to).map_err(|e| SendError::Permanent(e.to_string()))?;
        let Some(source) = &self.settings.oauth2 else {
            let transport = self.with_token(None)?;
            return classify(transport.send_raw(&envelope, message.bytes).await);
        };
        let token = source
            .token()
            .await
            .map_err(|e| SendError::Transient(e.to_string()))?;
        let transport = self.with_token(Some(&token))?;
        match transport.send_raw(&envelope, message.bytes).await {
            // The token was refused (expired early, revoked): 535, or (Dovecot) an error sent
            // as a SASL challenge, which lettre reports as a client error. Refresh once and
            // retry.
            Err(e) if e.is_client() || e.status().is_some_and(|c| c.to_string() == "535") => {
                tracing::warn!("The SMTP server rejected the OAuth2 token; refreshing it.");
                let fresh = source
                    .refresh(&token)
                    .await
                    .map_err(|r| SendError::Transient(format!("{e}; and no new token: {r}")))?;
                let transport = self.with_token(Some(&fresh))?;
                // A refused sign-in is never permanent for the message itself.
                match classify(transport.send_raw(&envelope, message.bytes).await) {
                    Err(SendError::Permanent(m)) if m.contains("535") => {
                        Err(SendError::Transient(m))
                    }
                    other => other,
                }
            }
            other => classify(other),
        }
    }
}

fn classify<T>(r: Result<T, lettre::transport::smtp::Error>) -> Result<(), SendError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
        Err(e) => Err(SendError::Transient(e.to_string())),
    }
}

/// Reads a secret from where the configuration says it is.
pub fn read_secret(secret: &Secret) -> Result<Option<String>, String> {
    match secret {
        Secret::None => Ok(None),
        Secret::Env(name) => std::env::var(name)
            .map(Some)
            .map_err(|_| format!("the environment variable {name} is not set")),
        Secret::File(path) => std::fs::read_to_string(path)
            .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_string()))
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
    }
}
