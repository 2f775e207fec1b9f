//! A real Dovecot + OpenSMTPD stack for integration tests, started by
//! `tests/mailstack/mailstack.sh` in its own folder on its own ports, stopped on drop; and
//! tiny SMTP and IMAP clients (std::net, plain on loopback) to put mail in and read it back.
//!
//! Without root or the packages, [`MailStack::start`] says why and returns `None` so the test
//! can skip; with `YJSEND_REQUIRE_MAILSTACK=1` (CI) that is a failure instead.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

pub struct MailStack {
    pub dir: PathBuf,
    pub smtp_port: u16,
    pub submission_port: u16,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub ca_file: PathBuf,
    /// The OAuth2 token server's port (started with [`MailStack::start_with_oauth2`]).
    pub oauth2_port: Option<u16>,
}

static NEXT: AtomicU16 = AtomicU16::new(0);

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mailstack/mailstack.sh")
}

fn unavailable(why: &str) -> Option<MailStack> {
    if std::env::var("YJSEND_REQUIRE_MAILSTACK").is_ok_and(|v| v == "1") {
        panic!("the mail stack is required but unavailable: {why}");
    }
    eprintln!("skipping: no mail stack ({why}); run tests/mailstack/mailstack.sh install as root");
    None
}

impl MailStack {
    /// Starts a fresh stack on ports no other test in this process uses.
    pub fn start() -> Option<MailStack> {
        Self::start_inner(false)
    }

    /// The same, with the OAuth2 token server and Dovecot's XOAUTH2 / OAUTHBEARER sign-in.
    #[allow(dead_code)]
    pub fn start_with_oauth2() -> Option<MailStack> {
        Self::start_inner(true)
    }

    fn start_inner(oauth2: bool) -> Option<MailStack> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return unavailable("not root");
        }
        if !Path::new("/usr/sbin/dovecot").exists() || !Path::new("/usr/sbin/smtpd").exists() {
            return unavailable("dovecot or smtpd not installed");
        }
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        // Below 32768, where Linux starts handing out ephemeral ports: a client's outgoing
        // connection must never hold a port a restarted server wants back.
        let base = 20_000 + (std::process::id() % 150) as u16 * 80 + n * 5;
        let dir = PathBuf::from(format!("/tmp/yjs-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let stack = MailStack {
            ca_file: dir.join("ssl/ca.pem"),
            dir,
            smtp_port: base,
            submission_port: base + 1,
            imap_port: base + 2,
            imaps_port: base + 3,
            oauth2_port: oauth2.then_some(base + 4),
        };
        let out = stack.script_output("start");
        if !out.status.success() {
            return unavailable(&String::from_utf8_lossy(&out.stderr));
        }
        Some(stack)
    }

    /// Stops both servers and starts them again (the daemon sees its connections drop).
    pub fn restart(&self) {
        self.script("start");
    }

    /// A request to the token server's admin side (`POST /admin/expire`, `GET /admin/stats`);
    /// returns the body.
    #[allow(dead_code)]
    pub fn token_admin(&self, method: &str, path: &str) -> String {
        let port = self.oauth2_port.expect("a stack with OAuth2");
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("the token server");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.split_once("\r\n\r\n")
            .map(|x| x.1.to_string())
            .unwrap_or_default()
    }

    /// Stops the SMTP server (OpenSMTPD) alone: the submission service then cannot relay.
    pub fn stop_smtp(&self) {
        self.script("stop-smtp");
    }

    /// Starts the SMTP server again after [`MailStack::stop_smtp`].
    pub fn start_smtp(&self) {
        self.script("start-smtp");
    }

    fn script(&self, command: &str) {
        let out = self.script_output(command);
        assert!(
            out.status.success(),
            "mailstack.sh {command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn script_output(&self, command: &str) -> std::process::Output {
        let mut c = Command::new(script());
        if let Some(p) = self.oauth2_port {
            c.env("MAILSTACK_OAUTH2_PORT", p.to_string());
        }
        c.arg(command)
            .arg(&self.dir)
            .env("MAILSTACK_SMTP_PORT", self.smtp_port.to_string())
            .env(
                "MAILSTACK_SUBMISSION_PORT",
                self.submission_port.to_string(),
            )
            .env("MAILSTACK_IMAP_PORT", self.imap_port.to_string())
            .env("MAILSTACK_IMAPS_PORT", self.imaps_port.to_string())
            .output()
            .expect("mailstack.sh runs")
    }

    /// Sends `raw` over plain SMTP to the stack's MTA (as a partnership's server would).
    pub fn deliver_smtp(&self, from: &str, to: &str, raw: &[u8]) -> std::io::Result<()> {
        let s = TcpStream::connect(("127.0.0.1", self.smtp_port))?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        let mut r = BufReader::new(s.try_clone()?);
        let mut w = s;
        let expect = |r: &mut BufReader<TcpStream>, code: &str| -> std::io::Result<()> {
            loop {
                let mut line = String::new();
                r.read_line(&mut line)?;
                if !line.starts_with(code) {
                    return Err(std::io::Error::other(format!(
                        "SMTP: wanted {code}, got {line:?}"
                    )));
                }
                if line.as_bytes().get(3) != Some(&b'-') {
                    return Ok(());
                }
            }
        };
        expect(&mut r, "220")?;
        for (cmd, code) in [
            ("EHLO test.example\r\n".to_string(), "250"),
            (format!("MAIL FROM:<{from}>\r\n"), "250"),
            (format!("RCPT TO:<{to}>\r\n"), "250"),
            ("DATA\r\n".to_string(), "354"),
        ] {
            w.write_all(cmd.as_bytes())?;
            expect(&mut r, code)?;
        }
        let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
        for line in text.split('\n') {
            if line.starts_with('.') {
                w.write_all(b".")?;
            }
            w.write_all(line.as_bytes())?;
            w.write_all(b"\r\n")?;
        }
        w.write_all(b".\r\n")?;
        expect(&mut r, "250")?;
        w.write_all(b"QUIT\r\n")?;
        Ok(())
    }

    fn imap(&self, user: &str) -> std::io::Result<Imap> {
        let s = TcpStream::connect(("127.0.0.1", self.imap_port))?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        let mut c = Imap {
            r: BufReader::new(s.try_clone()?),
            w: s,
            tag: 0,
        };
        let mut greeting = String::new();
        c.r.read_line(&mut greeting)?;
        c.command(&format!("LOGIN \"{user}\" secret"))?;
        Ok(c)
    }

    /// Puts a message in a folder already flagged \Seen (a person opened it in Outlook).
    pub fn append_seen(&self, user: &str, folder: &str, raw: &[u8]) -> std::io::Result<()> {
        self.append(user, folder, "\\Seen", raw)
    }

    /// Puts a message in a folder with IMAP APPEND (no SMTP needed) and these flags.
    pub fn append(&self, user: &str, folder: &str, flags: &str, raw: &[u8]) -> std::io::Result<()> {
        let mut c = self.imap(user)?;
        c.tag += 1;
        let tag = format!("a{}", c.tag);
        c.w.write_all(format!("{tag} APPEND {folder} ({flags}) {{{}}}\r\n", raw.len()).as_bytes())?;
        let mut cont = String::new();
        c.r.read_line(&mut cont)?;
        if !cont.starts_with('+') {
            return Err(std::io::Error::other(format!("APPEND refused: {cont}")));
        }
        c.w.write_all(raw)?;
        c.w.write_all(b"\r\n")?;
        c.finish(&tag)?;
        c.command("LOGOUT")?;
        Ok(())
    }

    /// Every message in `folder` (empty when the folder does not exist).
    pub fn fetch_all(&self, user: &str, folder: &str) -> std::io::Result<Vec<Vec<u8>>> {
        let mut c = self.imap(user)?;
        if c.command(&format!("SELECT {folder}")).is_err() {
            return Ok(Vec::new());
        }
        c.tag += 1;
        let tag = format!("a{}", c.tag);
        c.w.write_all(format!("{tag} FETCH 1:* BODY.PEEK[]\r\n").as_bytes())?;
        let mut out = Vec::new();
        loop {
            let mut line = String::new();
            if c.r.read_line(&mut line)? == 0 {
                break;
            }
            if line.starts_with(&format!("{tag} ")) {
                break;
            }
            // "* 1 FETCH (BODY[] {123}"
            if let Some(n) = line
                .trim_end()
                .strip_suffix('}')
                .and_then(|l| l.rsplit_once('{'))
                .and_then(|(_, n)| n.parse::<usize>().ok())
            {
                let mut body = vec![0u8; n];
                c.r.read_exact(&mut body)?;
                out.push(body);
            }
        }
        let _ = c.command("LOGOUT");
        Ok(out)
    }
}

struct Imap {
    r: BufReader<TcpStream>,
    w: TcpStream,
    tag: u32,
}

impl Imap {
    fn command(&mut self, cmd: &str) -> std::io::Result<()> {
        self.tag += 1;
        let tag = format!("a{}", self.tag);
        self.w.write_all(format!("{tag} {cmd}\r\n").as_bytes())?;
        self.finish(&tag)
    }

    fn finish(&mut self, tag: &str) -> std::io::Result<()> {
        loop {
            let mut line = String::new();
            if self.r.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("IMAP connection closed"));
            }
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                return if rest.starts_with("OK") {
                    Ok(())
                } else {
                    Err(std::io::Error::other(format!("IMAP: {line}")))
                };
            }
        }
    }
}

impl Drop for MailStack {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).output();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
