//! `yjsend auth google`: the one-off consent that gives a Google Workspace mailbox's refresh
//! token. Google blocked the copy-the-code ("out-of-band") flow in 2023, so this uses a
//! loopback redirect with PKCE (RFC 8252, RFC 7636): it prints the consent address, waits on
//! 127.0.0.1 for the browser to come back with the code, exchanges it, and saves the refresh
//! token to a file only its owner can read.

use super::{exit, urlencode};
use crate::adapters::smtp::read_secret;
use crate::config::Config;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub provider: AuthProvider,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuthProvider {
    /// Consent for a Google Workspace mailbox; saves its refresh token
    Google {
        /// Where to save the refresh token [default: oauth2.refresh_token_file]
        #[arg(long)]
        out: Option<PathBuf>,
        /// The consent endpoint (for other providers and tests)
        #[arg(
            long,
            default_value = "https://accounts.google.com/o/oauth2/v2/auth",
            hide = true
        )]
        auth_url: String,
        /// How long to wait for the browser, in seconds
        #[arg(long, default_value_t = 600)]
        wait: u64,
    },
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A query value as browsers send it: `+` for a space, `%XX` for a byte (a malformed `%` is
/// kept as it is).
fn urldecode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

pub fn run(args: &AuthArgs, config: &Config) -> ExitCode {
    let AuthProvider::Google {
        out,
        auth_url,
        wait,
    } = &args.provider;
    match google(config, out.clone(), auth_url, Duration::from_secs(*wait)) {
        Ok(path) => {
            println!(
                "Saved the refresh token to {}. In [oauth2], set refresh_token_file to it.",
                path.display()
            );
            ExitCode::from(exit::OK)
        }
        Err((code, message)) => {
            eprintln!("yjsend auth: {message}");
            ExitCode::from(code)
        }
    }
}

fn google(
    config: &Config,
    out: Option<PathBuf>,
    auth_url: &str,
    wait: Duration,
) -> Result<PathBuf, (u8, String)> {
    let usage = |m: &str| (exit::USAGE, m.to_string());
    let o = config.oauth2.as_ref().ok_or_else(|| {
        usage("add an [oauth2] section with client_id and client_secret_file first")
    })?;
    let out = out
        .or_else(|| match &o.refresh_token {
            crate::config::Secret::File(p) => Some(p.clone()),
            _ => None,
        })
        .ok_or_else(|| {
            usage("say where to save the token: --out FILE (or set oauth2.refresh_token_file)")
        })?;
    let secret =
        read_secret(&o.client_secret).map_err(|e| usage(&format!("client secret: {e}")))?;
    let verifier = b64url(&rand::random::<[u8; 32]>());
    let challenge = b64url(&Sha256::digest(verifier.as_bytes()));
    let state = b64url(&rand::random::<[u8; 16]>());
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| (exit::IO, format!("cannot listen: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| (exit::IO, e.to_string()))?
        .port();
    let redirect = format!("http://127.0.0.1:{port}");
    let scope = if o.scope.is_empty() {
        "https://mail.google.com/"
    } else {
        &o.scope
    };
    println!(
        "Open this address in a browser, signed in as the project mailbox, and allow access:\n\n{auth_url}?response_type=code&access_type=offline&prompt=consent&client_id={}&redirect_uri={}&scope={}&code_challenge={challenge}&code_challenge_method=S256&state={state}\n\nWaiting for the browser to come back to {redirect} …",
        urlencode(&o.client_id),
        urlencode(&redirect),
        urlencode(scope),
    );
    let code = wait_for_code(&listener, &state, wait)?;
    let form = [
        ("grant_type", "authorization_code".to_string()),
        ("code", code),
        ("redirect_uri", redirect),
        ("client_id", o.client_id.clone()),
        ("client_secret", secret.unwrap_or_default()),
        ("code_verifier", verifier),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (exit::IO, e.to_string()))?;
    let body: serde_json::Value = rt
        .block_on(async {
            let r = reqwest::Client::new()
                .post(&o.token_url)
                .form(&form)
                .send()
                .await
                .map_err(|e| e.without_url().to_string())?;
            let status = r.status();
            let v: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
            if status.is_success() {
                Ok(v)
            } else {
                Err(format!(
                    "the token endpoint refused the code: {}",
                    v.get("error").and_then(|e| e.as_str()).unwrap_or("?")
                ))
            }
        })
        .map_err(|e| (exit::IO, e))?;
    let refresh = body
        .get("refresh_token")
        .and_then(|r| r.as_str())
        .ok_or_else(|| {
            (
                exit::IO,
                "no refresh token came back (was prompt=consent honoured?)".to_string(),
            )
        })?;
    write_private(&out, refresh)
        .map_err(|e| (exit::IO, format!("cannot write {}: {e}", out.display())))?;
    Ok(out)
}

/// Waits for the browser's redirect and answers it; returns the code.
fn wait_for_code(
    listener: &TcpListener,
    state: &str,
    wait: Duration,
) -> Result<String, (u8, String)> {
    listener
        .set_nonblocking(true)
        .map_err(|e| (exit::IO, e.to_string()))?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                let query = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|p| p.split_once('?'))
                    .map(|(_, q)| q.to_string())
                    .unwrap_or_default();
                let params: std::collections::HashMap<String, String> = query
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), urldecode(v)))
                    .collect();
                let (page, result) = match (params.get("code"), params.get("state")) {
                    (Some(code), Some(s)) if s == state => (
                        "Done: you can close this window and go back to yjsend.",
                        Ok(code.clone()),
                    ),
                    (_, Some(s)) if s != state => (
                        "This answer does not belong to this sign-in.",
                        Err("the state did not match: try again".to_string()),
                    ),
                    _ => (
                        "Access was not given.",
                        Err(format!(
                            "the provider said: {}",
                            params.get("error").map_or("no code", |e| e.as_str())
                        )),
                    ),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n{page}\n"
                );
                return result.map_err(|m| (exit::IO, m));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if std::time::Instant::now() > deadline {
                    return Err((exit::IO, "no answer from the browser in time".into()));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err((exit::IO, e.to_string())),
        }
    }
}

fn write_private(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    writeln!(f, "{secret}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_decode() {
        assert_eq!(urldecode("4%2F0Ab_c%2Bd+e"), "4/0Ab_c+d e");
        assert_eq!(urldecode("bad%zz"), "bad%zz");
        assert_eq!(urldecode("%é%"), "%é%");
        assert_eq!(
            urlencode("http://127.0.0.1:5"),
            "http%3A%2F%2F127.0.0.1%3A5"
        );
    }
}
