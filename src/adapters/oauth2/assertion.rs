//! Signed JWT assertions, for the two ways of signing in without a client secret:
//!
//! - a Microsoft 365 app registration with a **certificate** (RFC 7523 client authentication,
//!   "private_key_jwt"): the client-credentials request carries a short-lived JWT signed with
//!   the certificate's key (PS256, with the certificate's SHA-256 and SHA-1 thumbprints in the
//!   header so the tenant can find it);
//! - a Google Workspace **service account** with domain-wide delegation (RFC 7523 grant): the
//!   token request is a JWT signed with the service account's key (RS256), naming the mailbox
//!   to act for as its subject.
//!
//! Both keys are read once at start. Debug output never shows them.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// How long an assertion is valid: Microsoft asks for 5–10 minutes, Google allows an hour.
const LIFETIME_SECONDS: i64 = 600;

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The first RSA private key in PEM text (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY"),
/// wherever it is in the file: a bundle often holds the certificate first.
fn rsa_key(pem: &[u8], what: &str) -> Result<EncodingKey, String> {
    let mut reader = pem;
    for item in rustls_pemfile::read_all(&mut reader) {
        match item.map_err(|e| format!("{what} is not readable PEM: {e}"))? {
            rustls_pemfile::Item::Pkcs1Key(der) => {
                return Ok(EncodingKey::from_rsa_der(der.secret_pkcs1_der()));
            }
            rustls_pemfile::Item::Pkcs8Key(der) => {
                let body = base64::engine::general_purpose::STANDARD.encode(der.secret_pkcs8_der());
                let text =
                    format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
                return EncodingKey::from_rsa_pem(text.as_bytes())
                    .map_err(|e| format!("{what} holds a private key that is not RSA: {e}"));
            }
            rustls_pemfile::Item::Sec1Key(_) => {
                return Err(format!(
                    "{what} holds an EC key: the providers want an RSA key (2048 bits or more)"
                ));
            }
            _ => {}
        }
    }
    Err(format!(
        "{what} holds no private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)"
    ))
}

#[derive(Serialize)]
struct ClientAssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    iat: i64,
    nbf: i64,
    exp: i64,
}

/// A certificate registered with the app (Microsoft Entra "certificates & secrets").
pub struct Certificate {
    key: EncodingKey,
    /// Base64url SHA-1 of the certificate's DER (`x5t`).
    x5t: String,
    /// Base64url SHA-256 of the certificate's DER (`x5t#S256`).
    x5t_s256: String,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("x5t#S256", &self.x5t_s256)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Certificate {
    /// Reads the certificate from `certificate_file` and its key from `private_key_file`, or
    /// from the same file when it holds both (as `openssl req -x509 … -out` and Azure's
    /// exported .pem do).
    pub fn load(certificate_file: &Path, private_key_file: Option<&Path>) -> Result<Self, String> {
        let cert_pem = read(certificate_file)?;
        let mut reader = cert_pem.as_slice();
        let der = rustls_pemfile::certs(&mut reader)
            .next()
            .ok_or_else(|| {
                format!(
                    "{} holds no certificate (BEGIN CERTIFICATE)",
                    certificate_file.display()
                )
            })?
            .map_err(|e| format!("{} is not readable PEM: {e}", certificate_file.display()))?;
        let key = match private_key_file {
            Some(p) => rsa_key(&read(p)?, &p.display().to_string())?,
            None => rsa_key(&cert_pem, &certificate_file.display().to_string())?,
        };
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
        let sha256 = ring::digest::digest(&ring::digest::SHA256, &der);
        Ok(Certificate {
            key,
            x5t: b64url(sha1.as_ref()),
            x5t_s256: b64url(sha256.as_ref()),
        })
    }

    /// The `client_assertion` for one token request: issuer and subject the app's client id,
    /// audience the token endpoint, a fresh id so it cannot be replayed.
    pub fn assertion(&self, client_id: &str, token_url: &str, now: i64) -> Result<String, String> {
        let mut header = Header::new(Algorithm::PS256);
        header.x5t = Some(self.x5t.clone());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        let claims = ClientAssertionClaims {
            aud: token_url,
            iss: client_id,
            sub: client_id,
            jti: random_id(),
            iat: now,
            nbf: now,
            exp: now + LIFETIME_SECONDS,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| format!("cannot sign the client assertion: {e}"))
    }
}

/// The fields of a Google service account key file that sign-in needs.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: Option<String>,
    #[serde(default)]
    token_uri: Option<String>,
}

#[derive(Serialize)]
struct ServiceAccountClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

/// A Google service account key (the JSON file from the Cloud console), used with
/// domain-wide delegation to act for the project's mailbox.
pub struct ServiceAccount {
    key: EncodingKey,
    pub client_email: String,
    key_id: Option<String>,
    /// The token endpoint the key file names (Google's, unless a test or a private cloud).
    pub token_uri: Option<String>,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ServiceAccount {
    pub fn load(path: &Path) -> Result<Self, String> {
        let what = path.display();
        let file: KeyFile = serde_json::from_slice(&read(path)?).map_err(|e| {
            format!(
                "{what} is not a service account key file (the JSON from the Cloud console): {e}"
            )
        })?;
        if file.kind != "service_account" {
            return Err(format!(
                "{what} is a {:?} key file, not a service account's (\"type\": \"service_account\")",
                file.kind
            ));
        }
        Ok(ServiceAccount {
            key: rsa_key(
                file.private_key.as_bytes(),
                &format!("{what} (private_key)"),
            )?,
            client_email: file.client_email,
            key_id: file.private_key_id,
            token_uri: file.token_uri,
        })
    }

    /// The `assertion` of a jwt-bearer grant asking for `scope` on behalf of `subject`.
    pub fn assertion(
        &self,
        subject: &str,
        scope: &str,
        token_url: &str,
        now: i64,
    ) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.key_id.clone();
        let claims = ServiceAccountClaims {
            iss: &self.client_email,
            sub: subject,
            scope,
            aud: token_url,
            iat: now,
            exp: now + LIFETIME_SECONDS,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| format!("cannot sign the service account assertion: {e}"))
    }
}

fn random_id() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway 2048-bit key and self-signed certificate, made by
    /// `openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=yjsend-test -days 3650`.
    const BUNDLE: &str = include_str!("../../../tests/data/oauth2/test-certificate.pem");

    fn decode(part: &str) -> serde_json::Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_certificate_assertion_names_the_app_the_endpoint_and_the_thumbprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert.pem");
        std::fs::write(&path, BUNDLE).unwrap();
        let cert = Certificate::load(&path, None).unwrap();
        let jwt = cert
            .assertion("app-id", "https://login.example/t/token", 1_700_000_000)
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        assert_eq!(header["alg"], "PS256");
        assert_eq!(header["x5t#S256"].as_str().unwrap().len(), 43);
        assert_eq!(header["x5t"].as_str().unwrap().len(), 27);
        let claims = decode(parts[1]);
        assert_eq!(claims["aud"], "https://login.example/t/token");
        assert_eq!(claims["iss"], "app-id");
        assert_eq!(claims["sub"], "app-id");
        assert_eq!(claims["exp"], 1_700_000_000 + LIFETIME_SECONDS);
        let again = cert.assertion("app-id", "https://login.example/t/token", 1_700_000_000);
        assert_ne!(
            decode(again.unwrap().split('.').nth(1).unwrap())["jti"],
            claims["jti"]
        );
        assert!(!format!("{cert:?}").contains("PRIVATE"));
    }

    #[test]
    fn a_service_account_assertion_acts_for_the_mailbox() {
        // The bundle is the certificate, then its key.
        let key = &BUNDLE[BUNDLE.find("-----BEGIN PRIVATE KEY-----").unwrap()..];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sa.json");
        let json = serde_json::json!({
            "type": "service_account",
            "client_email": "yjsend@project.iam.gserviceaccount.com",
            "private_key_id": "k1",
            "private_key": key,
            "token_uri": "https://oauth2.example/token",
        });
        std::fs::write(&path, json.to_string()).unwrap();
        let sa = ServiceAccount::load(&path).unwrap();
        let jwt = sa
            .assertion(
                "send@la.example",
                "https://mail.google.com/",
                "https://oauth2.example/token",
                10,
            )
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(decode(parts[0])["alg"], "RS256");
        assert_eq!(decode(parts[0])["kid"], "k1");
        let claims = decode(parts[1]);
        assert_eq!(claims["iss"], "yjsend@project.iam.gserviceaccount.com");
        assert_eq!(claims["sub"], "send@la.example");
        assert_eq!(claims["scope"], "https://mail.google.com/");
        assert_eq!(
            sa.token_uri.as_deref(),
            Some("https://oauth2.example/token")
        );
    }

    #[test]
    fn wrong_files_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(
            &path,
            r#"{"type":"authorized_user","client_email":"a","private_key":""}"#,
        )
        .unwrap();
        let e = ServiceAccount::load(&path).unwrap_err();
        assert!(e.contains("not a service account"), "{e}");
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = Certificate::load(&path, None).unwrap_err();
        assert!(!e.is_empty());
    }
}
