//! OAuth2 access tokens for signing in to IMAP and SMTP where passwords are switched off
//! (Microsoft 365, Google Workspace). Two grants: client credentials (a Microsoft 365 shared
//! mailbox, a generic provider) and refresh token (Google, after a one-off consent; a generic
//! provider). Tokens are cached in the store (never logged), refreshed a minute before they
//! expire, refreshed once more when a server rejects one, and a rotated refresh token is saved
//! at once. The state of sign-in (last success, last error, expiry dates) is kept for
//! `/healthz`, the digest and alerts.

pub mod assertion;

use crate::adapters::store::Store;
pub use assertion::{Certificate, ServiceAccount};
use serde::Deserialize;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::{info, warn};

/// How tokens are obtained.
#[derive(Clone)]
pub enum Grant {
    ClientCredentials,
    /// The refresh token configured (the first one; later ones are rotated into the store).
    RefreshToken(String),
    /// A Google service account's signed assertion, acting for [`OAuth2Settings::user`].
    ServiceAccount(Arc<ServiceAccount>),
}

/// Where tokens come from. Debug never shows a secret.
#[derive(Clone)]
pub struct OAuth2Settings {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Set: the client proves itself with a signed assertion instead of the secret.
    pub certificate: Option<Arc<Certificate>>,
    pub scope: String,
    pub grant: Grant,
    /// The address to sign in as.
    pub user: String,
    pub client_secret_expires: Option<jiff::civil::Date>,
    /// `true` for providers whose token endpoint wants the secret in a Basic header.
    pub basic_auth: bool,
}

impl fmt::Debug for OAuth2Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Settings")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("certificate", &self.certificate)
            .field("scope", &self.scope)
            .field(
                "grant",
                &match self.grant {
                    Grant::ClientCredentials => "client_credentials",
                    Grant::RefreshToken(_) => "refresh_token",
                    Grant::ServiceAccount(_) => "service_account",
                },
            )
            .field("user", &self.user)
            .finish()
    }
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider refused the client or the grant (a revoked secret, an expired refresh
    /// token): a person must act.
    #[error("the token endpoint refused sign-in: {0}")]
    Refused(String),
    /// The endpoint could not be reached or answered nonsense: try again later.
    #[error("the token endpoint is unavailable: {0}")]
    Unavailable(String),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_token_expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// RFC 7523's grant type (a Google service account).
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// RFC 7523's client authentication (a certificate in place of a client secret).
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const ACCESS: &str = "oauth2:access_token";
const EXPIRES: &str = "oauth2:expires_at";
const REFRESH: &str = "oauth2:refresh_token";
/// Public state (no secrets): for `/healthz`, the digest and alerts.
pub const LAST_OK: &str = "oauth2:last_ok";
pub const LAST_ERROR: &str = "oauth2:last_error";
pub const REFRESH_EXPIRES: &str = "oauth2:refresh_token_expires_at";

/// A source of access tokens, shared by the IMAP and SMTP adapters.
pub struct TokenSource {
    settings: OAuth2Settings,
    store: Store,
    http: reqwest::Client,
    /// Serialises refreshes: two adapters asking at once get one new token.
    lock: tokio::sync::Mutex<()>,
    cached: Mutex<Option<(String, i64)>>,
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

impl TokenSource {
    pub fn new(settings: OAuth2Settings, store: Store) -> Result<TokenSource, OAuthError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| OAuthError::Unavailable(e.to_string()))?;
        let cached = match (store.meta_get(ACCESS), store.meta_get(EXPIRES)) {
            (Ok(Some(t)), Ok(Some(e))) => e.parse().ok().map(|e| (t, e)),
            _ => None,
        };
        Ok(TokenSource {
            settings,
            store,
            http,
            lock: tokio::sync::Mutex::new(()),
            cached: Mutex::new(cached),
        })
    }

    /// The address tokens sign in as.
    pub fn user(&self) -> &str {
        &self.settings.user
    }

    pub fn settings(&self) -> &OAuth2Settings {
        &self.settings
    }

    fn cached_valid(&self) -> Option<String> {
        let c = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        c.as_ref()
            .filter(|(_, expires)| *expires - 60 > now())
            .map(|(t, _)| t.clone())
    }

    /// A token valid for at least another minute.
    pub async fn token(&self) -> Result<String, OAuthError> {
        if let Some(t) = self.cached_valid() {
            return Ok(t);
        }
        let _guard = self.lock.lock().await;
        if let Some(t) = self.cached_valid() {
            return Ok(t);
        }
        self.fetch().await
    }

    /// A new token, whatever is cached (after a server rejected the cached one).
    pub async fn refresh(&self, rejected: &str) -> Result<String, OAuthError> {
        let _guard = self.lock.lock().await;
        // Another caller may have refreshed while we waited.
        if let Some(t) = self.cached_valid()
            && t != rejected
        {
            return Ok(t);
        }
        self.fetch().await
    }

    async fn fetch(&self) -> Result<String, OAuthError> {
        let s = &self.settings;
        let mut form: Vec<(&str, String)> = Vec::new();
        let signing_failed = |e: String| {
            warn!(error = %e, "OAuth2 sign-in cannot be attempted.");
            let _ = self
                .store
                .meta_set(LAST_ERROR, &format!("{} {e}", jiff::Timestamp::now()));
            OAuthError::Refused(e)
        };
        match &s.grant {
            Grant::ClientCredentials => form.push(("grant_type", "client_credentials".into())),
            Grant::RefreshToken(initial) => {
                let current = self
                    .store
                    .meta_get(REFRESH)
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| initial.clone());
                form.push(("grant_type", "refresh_token".into()));
                form.push(("refresh_token", current));
            }
            Grant::ServiceAccount(account) => {
                // RFC 7523: the signed assertion is the whole request; the scope is inside it.
                let jwt = account
                    .assertion(&s.user, &s.scope, &s.token_url, now())
                    .map_err(signing_failed)?;
                form.push(("grant_type", JWT_BEARER.into()));
                form.push(("assertion", jwt));
            }
        }
        let service_account = matches!(s.grant, Grant::ServiceAccount(_));
        if !s.scope.is_empty() && !service_account {
            form.push(("scope", s.scope.clone()));
        }
        let mut request = self.http.post(&s.token_url);
        if service_account {
            // The assertion identifies and authenticates the client.
        } else if let Some(certificate) = &s.certificate {
            let jwt = certificate
                .assertion(&s.client_id, &s.token_url, now())
                .map_err(signing_failed)?;
            form.push(("client_id", s.client_id.clone()));
            form.push(("client_assertion_type", CLIENT_ASSERTION_TYPE.into()));
            form.push(("client_assertion", jwt));
        } else if s.basic_auth {
            request = request.basic_auth(&s.client_id, s.client_secret.as_deref());
        } else {
            form.push(("client_id", s.client_id.clone()));
            if let Some(secret) = &s.client_secret {
                form.push(("client_secret", secret.clone()));
            }
        }
        let result = async {
            let response = request
                .form(&form)
                .send()
                .await
                .map_err(|e| OAuthError::Unavailable(e.without_url().to_string()))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .map_err(|e| OAuthError::Unavailable(e.to_string()))?;
            if !status.is_success() {
                let said = serde_json::from_slice::<ErrorResponse>(&body)
                    .map(|e| match e.error_description {
                        Some(d) => format!("{}: {d}", e.error),
                        None => e.error,
                    })
                    .unwrap_or_else(|_| format!("HTTP {}", status.as_u16()));
                return Err(if status.is_server_error() {
                    OAuthError::Unavailable(said)
                } else {
                    OAuthError::Refused(said)
                });
            }
            serde_json::from_slice::<TokenResponse>(&body)
                .map_err(|e| OAuthError::Unavailable(format!("an unreadable token response: {e}")))
        }
        .await;
        let t = match result {
            Ok(t) => t,
            Err(e) => {
                warn!(error = %e, "OAuth2 token refresh failed.");
                let _ = self
                    .store
                    .meta_set(LAST_ERROR, &format!("{} {e}", jiff::Timestamp::now()));
                return Err(e);
            }
        };
        let expires_at = now() + t.expires_in.unwrap_or(3600);
        // The rotated refresh token is saved before the access token is used: losing it
        // would mean a new consent.
        if let Some(r) = &t.refresh_token {
            let _ = self.store.meta_set(REFRESH, r);
        }
        if let Some(secs) = t.refresh_token_expires_in {
            let _ = self
                .store
                .meta_set(REFRESH_EXPIRES, &(now() + secs).to_string());
        }
        let _ = self.store.meta_set(ACCESS, &t.access_token);
        let _ = self.store.meta_set(EXPIRES, &expires_at.to_string());
        let _ = self
            .store
            .meta_set(LAST_OK, &jiff::Timestamp::now().to_string());
        let _ = self.store.flush().await;
        info!(expires_in = expires_at - now(), "OAuth2 token refreshed.");
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((t.access_token.clone(), expires_at));
        Ok(t.access_token)
    }
}

/// The SASL XOAUTH2 initial response (Google's and Microsoft's mechanism).
pub fn xoauth2(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

/// The SASL OAUTHBEARER initial response (RFC 7628).
pub fn oauthbearer(user: &str, host: &str, port: u16, token: &str) -> String {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sasl_initial_responses() {
        assert_eq!(
            xoauth2("a@b.example", "tok"),
            "user=a@b.example\x01auth=Bearer tok\x01\x01"
        );
        assert_eq!(
            oauthbearer("a,b=c@d.example", "imap.example", 993, "tok"),
            "n,a=a=2Cb=3Dc@d.example,\x01host=imap.example\x01port=993\x01auth=Bearer tok\x01\x01"
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = OAuth2Settings {
            token_url: "https://login.example/token".into(),
            client_id: "id".into(),
            client_secret: Some("very-secret".into()),
            certificate: None,
            scope: "x".into(),
            grant: Grant::RefreshToken("refresh-secret".into()),
            user: "u@example.org".into(),
            client_secret_expires: None,
            basic_auth: false,
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(!shown.contains("refresh-secret"), "{shown}");
    }
}
