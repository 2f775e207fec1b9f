//! Evaluation in a separate worker process, so that a hostile attachment cannot take the
//! daemon down with it.
//!
//! A parser can do worse than fail: a library can abort the process on a huge allocation,
//! overflow the stack on deep nesting, or spin on the CPU where a tokio timeout cannot reach
//! it. The daemon therefore runs `yjsend worker` (its own binary, re-executed) with an address
//! space limit, sends it one message at a time over a pipe, and kills and restarts it when it
//! dies or overruns the time limit. The worker calls the same `evaluate` as `yjsend check`.
//!
//! Frames: to the worker `u64 received_at (unix seconds, BE) | u32 length | message bytes`;
//! back `u32 length | Evaluation as JSON`.

use crate::domain::evaluation::Evaluation;
use jiff::Timestamp;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tracing::warn;

/// Why a worker evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the evaluation took longer than {0:?}")]
    Timeout(Duration),
    #[error("the worker process failed: {0}")]
    Crashed(String),
}

/// How to start the worker.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// The yjsend binary (normally the running one).
    pub program: PathBuf,
    /// The configuration file the worker loads (round, roster, limits).
    pub config: PathBuf,
    /// Address-space limit for the worker, bytes (0: none).
    pub memory_limit: u64,
}

/// One worker process, started on first use and after every failure.
pub struct Worker {
    spec: WorkerSpec,
    running: Option<Running>,
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

impl Worker {
    pub fn new(spec: WorkerSpec) -> Worker {
        Worker {
            spec,
            running: None,
        }
    }

    fn start(&self) -> Result<Running, WorkerError> {
        let mut cmd = Command::new(&self.spec.program);
        cmd.arg("--config")
            .arg(&self.spec.config)
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let limit = self.spec.memory_limit;
        if limit > 0 {
            // SAFETY: only async-signal-safe work happens between fork and exec: one
            // setrlimit call on values computed before the fork.
            unsafe {
                cmd.pre_exec(move || {
                    let rl = libc::rlimit {
                        rlim_cur: limit as libc::rlim_t,
                        rlim_max: limit as libc::rlim_t,
                    };
                    if libc::setrlimit(libc::RLIMIT_AS, &rl) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().map_err(|e| {
            WorkerError::Crashed(format!("cannot start {}: {e}", self.spec.program.display()))
        })?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| WorkerError::Crashed("no stdin".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| WorkerError::Crashed("no stdout".into()))?;
        Ok(Running {
            child,
            stdin,
            stdout,
        })
    }

    /// Ends the worker process; the next evaluation starts a fresh one (which reads the
    /// configuration again: after a reload).
    pub fn restart(&mut self) {
        self.running = None;
    }

    /// Evaluates one message in the worker within `limit`.
    pub async fn evaluate(
        &mut self,
        raw: &[u8],
        received_at: Timestamp,
        limit: Duration,
    ) -> Result<Evaluation, WorkerError> {
        if self.running.is_none() {
            self.running = Some(self.start()?);
        }
        let Some(running) = self.running.as_mut() else {
            return Err(WorkerError::Crashed("not running".into()));
        };
        let exchange = async {
            let mut frame = Vec::with_capacity(raw.len() + 12);
            frame.extend_from_slice(&received_at.as_second().to_be_bytes());
            frame.extend_from_slice(&(raw.len() as u32).to_be_bytes());
            frame.extend_from_slice(raw);
            running.stdin.write_all(&frame).await?;
            running.stdin.flush().await?;
            let len = running.stdout.read_u32().await? as usize;
            let mut json = vec![0u8; len];
            running.stdout.read_exact(&mut json).await?;
            Ok::<_, std::io::Error>(json)
        };
        let result = tokio::time::timeout(limit, exchange).await;
        match result {
            Ok(Ok(json)) => serde_json::from_slice(&json).map_err(|e| {
                self.stop();
                WorkerError::Crashed(format!("unreadable answer: {e}"))
            }),
            Ok(Err(e)) => {
                let status = self.stop_and_status().await;
                Err(WorkerError::Crashed(format!("{e} ({status})")))
            }
            Err(_) => {
                warn!(?limit, "Evaluation overran its time; killing the worker.");
                self.stop();
                Err(WorkerError::Timeout(limit))
            }
        }
    }

    fn stop(&mut self) {
        if let Some(mut r) = self.running.take() {
            let _ = r.child.start_kill();
        }
    }

    async fn stop_and_status(&mut self) -> String {
        match self.running.take() {
            Some(mut r) => {
                let _ = r.child.start_kill();
                match tokio::time::timeout(Duration::from_secs(5), r.child.wait()).await {
                    Ok(Ok(status)) => status.to_string(),
                    _ => "no exit status".into(),
                }
            }
            None => "not running".into(),
        }
    }
}

/// The worker's side: reads frames from stdin, answers on stdout, until stdin closes.
/// `evaluate` is the same function `check` uses, with the settings already bound.
pub fn serve(mut evaluate: impl FnMut(&[u8], Timestamp) -> Evaluation) -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut input = stdin.lock();
    let mut output = stdout.lock();
    loop {
        let mut head = [0u8; 12];
        match input.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let secs = i64::from_be_bytes(head[..8].try_into().unwrap_or_default());
        let len = u32::from_be_bytes(head[8..].try_into().unwrap_or_default()) as usize;
        let mut raw = vec![0u8; len];
        input.read_exact(&mut raw)?;
        let received_at = Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH);
        let evaluation = evaluate(&raw, received_at);
        let json = serde_json::to_vec(&evaluation).map_err(std::io::Error::other)?;
        output.write_all(&(json.len() as u32).to_be_bytes())?;
        output.write_all(&json)?;
        output.flush()?;
    }
}
