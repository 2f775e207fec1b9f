//! `yjsend auth google`: the loopback consent. A stand-in browser follows the printed address
//! back to the command with a code; a stand-in token endpoint checks the exchange (the code,
//! the PKCE verifier against the challenge, the redirect) and hands out a refresh token, which
//! must land in the configured file, readable by its owner only.

use base64::Engine;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;

fn query(url: &str) -> std::collections::HashMap<String, String> {
    url.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v.replace("%3A", ":").replace("%2F", "/");
            (k.to_string(), v)
        })
        .collect()
}

#[test]
fn consent_by_loopback_saves_the_refresh_token() {
    let dir = tempfile::tempdir().unwrap();
    // The stand-in token endpoint: one exchange, its form sent back to the test.
    let token_server = TcpListener::bind("127.0.0.1:0").unwrap();
    let token_port = token_server.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut s, _) = token_server.accept().unwrap();
        let mut reader = BufReader::new(s.try_clone().unwrap());
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        tx.send(String::from_utf8(body).unwrap()).unwrap();
        let json = r#"{"access_token":"at-1","expires_in":3600,"refresh_token":"rt-from-consent","token_type":"Bearer"}"#;
        write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
            json.len()
        )
        .unwrap();
    });
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/config/partnerships.toml"
        ),
        dir.path().join("partnerships.toml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("client-secret"), "gcs\n").unwrap();
    std::fs::write(
        dir.path().join("yjsend.toml"),
        format!(
            "[round]\nname = \"R\"\nreference_prefix = \"YJS-2018\"\ndeadline = \"2018-02-23T23:59:59\"\ntimezone = \"Europe/London\"\nroster = \"partnerships.toml\"\n\n\
             [oauth2]\nprovider = \"google\"\ntoken_url = \"http://127.0.0.1:{token_port}/token\"\nclient_id = \"cid.apps.example\"\nclient_secret_file = \"client-secret\"\nrefresh_token_file = \"refresh-token\"\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_yjsend"))
        .arg("--config")
        .arg(dir.path().join("yjsend.toml"))
        .args(["auth", "google", "--wait", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The consent address, as a person would open it.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "no consent address printed"
        );
        if line.starts_with("https://accounts.google.com/") {
            break line.trim().to_string();
        }
    };
    let q = query(&url);
    assert_eq!(q["client_id"], "cid.apps.example");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["access_type"], "offline");
    let redirect = q["redirect_uri"].clone();
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
    // The browser comes back with a code.
    let mut s = TcpStream::connect(redirect.trim_start_matches("http://")).unwrap();
    write!(
        s,
        "GET /?state={}&code=4%2F0Acode&scope=x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        q["state"]
    )
    .unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    assert!(page.contains("you can close this window"), "{page}");
    // The exchange.
    let form = rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
    let f = query(&format!("?{form}"));
    assert_eq!(f["grant_type"], "authorization_code");
    assert_eq!(f["code"], "4/0Acode");
    assert_eq!(f["client_secret"], "gcs");
    let verifier = &f["code_verifier"];
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    assert_eq!(
        challenge, q["code_challenge"],
        "PKCE verifier matches the challenge"
    );
    let status = child.wait().unwrap();
    assert!(status.success());
    let saved = dir.path().join("refresh-token");
    assert_eq!(
        std::fs::read_to_string(&saved).unwrap().trim(),
        "rt-from-consent"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&saved).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by its owner only");
    }
}
