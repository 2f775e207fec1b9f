//! `yjsend panel …`: the panel's client of the daemon's API. The address comes from
//! `YJSEND_PANEL_URL` (else `http://` + `panel.listen`), the member's token from
//! `YJSEND_PANEL_TOKEN`. Every API error becomes one clear line; `--json` prints what the API
//! returned, for scripts.

use super::exit;
use crate::config::Config;
use crate::domain::panel::members::token_hash;
use clap::{Args, Subcommand};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct PanelArgs {
    #[command(subcommand)]
    pub command: PanelCommand,
    /// Print the API's JSON instead of a summary
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PanelCommand {
    /// The cases ready for the panel
    Queue,
    /// Claim the oldest case you may review and write its case pack
    Pull {
        /// Where to write the case pack [default: a folder named after the case]
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// A case, its history and audit trail
    Show { reference: String },
    /// Record a decision on a case you hold
    Decide {
        reference: String,
        /// quality_mark, quality_lead, not_yet, request_info or visit
        #[arg(long)]
        outcome: String,
        /// child_first, with an award
        #[arg(long)]
        commendation: Option<String>,
        /// A file with the feedback (needed for not_yet and request_info)
        #[arg(long)]
        feedback: Option<PathBuf>,
    },
    /// Send every drafted outcome email (project team)
    Release,
    /// Tokens for members
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new token once, and the lines to add to the tokens file
    New {
        #[arg(long)]
        name: String,
        /// panel or team
        #[arg(long)]
        role: String,
    },
}

/// A failure, said in one line.
struct Fail(u8, String);

pub fn run(args: &PanelArgs, config: &Config) -> ExitCode {
    let result = match &args.command {
        PanelCommand::Token {
            command: TokenCommand::New { name, role },
        } => new_token(name, role),
        other => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(call(other, args.json, config)),
            Err(e) => Err(Fail(exit::IO, format!("cannot start the runtime: {e}"))),
        },
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(Fail(code, message)) => {
            eprintln!("yjsend panel: {message}");
            ExitCode::from(code)
        }
    }
}

fn new_token(name: &str, role: &str) -> Result<(), Fail> {
    if role != "panel" && role != "team" {
        return Err(Fail(exit::USAGE, "--role is panel or team".into()));
    }
    let bytes: [u8; 32] = rand::random();
    let token = hex::encode(bytes);
    println!("Token for {name} (shown once; give it to them privately):\n\n  {token}\n");
    println!("Add to the tokens file:\n");
    println!(
        "[[member]]\nname = {}\nrole = \"{role}\"\ntoken_sha256 = \"{}\"\nconflicts = []",
        toml_string(name),
        token_hash(&token)
    );
    Ok(())
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
}

/// Where the running daemon's API is and the member's token: `YJSEND_PANEL_URL` (else
/// `http://` + `panel.listen`, without a trailing slash) and `YJSEND_PANEL_TOKEN`. Every
/// command that talks to the daemon reads them here.
pub fn daemon_address(config: &Config) -> Result<(String, String), String> {
    let base = std::env::var("YJSEND_PANEL_URL")
        .ok()
        .or_else(|| config.panel.listen.as_ref().map(|l| format!("http://{l}")))
        .ok_or("set YJSEND_PANEL_URL (panel.listen is empty)")?;
    let token =
        std::env::var("YJSEND_PANEL_TOKEN").map_err(|_| "set YJSEND_PANEL_TOKEN to your token")?;
    Ok((base.trim_end_matches('/').to_string(), token))
}

impl Api {
    fn new(config: &Config) -> Result<Api, Fail> {
        let (base, token) = daemon_address(config).map_err(|e| Fail(exit::USAGE, e))?;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| Fail(exit::IO, e.to_string()))?;
        Ok(Api {
            base,
            token,
            client,
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, Fail> {
        let response = request.bearer_auth(&self.token).send().await.map_err(|e| {
            Fail(
                exit::IO,
                format!("cannot reach the daemon at {}: {e}", self.base),
            )
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let said = response
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string));
        Err(Fail(
            exit::IO,
            match (status.as_u16(), said) {
                (401, _) => "the daemon does not accept this token (YJSEND_PANEL_TOKEN)".into(),
                (_, Some(message)) => message,
                (code, None) => format!("the daemon answered {code}"),
            },
        ))
    }

    async fn get(&self, path: &str) -> Result<reqwest::Response, Fail> {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post(&self, path: &str, body: Option<Value>) -> Result<reqwest::Response, Fail> {
        let mut r = self.client.post(format!("{}{path}", self.base));
        if let Some(b) = body {
            r = r.json(&b);
        }
        self.send(r).await
    }
}

/// One JSON call to the running daemon, for the commands other than `panel` (a POST when
/// `body` is given): its answer, or what went wrong in words.
pub(super) async fn daemon_json(
    config: &Config,
    path: &str,
    post: Option<Value>,
) -> Result<Value, String> {
    let api = Api::new(config).map_err(|f| f.1)?;
    let r = match post {
        Some(body) => api.post(path, Some(body)).await,
        None => api.get(path).await,
    }
    .map_err(|f| f.1)?;
    json(r).await.map_err(|f| f.1)
}

async fn json(r: reqwest::Response) -> Result<Value, Fail> {
    r.json()
        .await
        .map_err(|e| Fail(exit::IO, format!("the daemon's answer is not JSON: {e}")))
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(|x| x.as_str()).unwrap_or("-")
}

async fn call(command: &PanelCommand, as_json: bool, config: &Config) -> Result<(), Fail> {
    let api = Api::new(config)?;
    match command {
        PanelCommand::Queue => {
            let v = json(api.get("/api/queue").await?).await?;
            if as_json {
                println!("{v:#}");
                return Ok(());
            }
            let items = v.as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("The queue is empty.");
            }
            for q in items {
                println!(
                    "{}  {:<20} {:<10} QM {:<12} QL {:<12} {}{}",
                    s(&q, "reference"),
                    s(&q, "name"),
                    s(&q, "state"),
                    s(&q, "quality_mark"),
                    s(&q, "quality_lead"),
                    q.get("claimed_by")
                        .and_then(|c| c.as_str())
                        .map(|c| format!("claimed by {c}"))
                        .unwrap_or_default(),
                    if q.get("incomplete").and_then(|b| b.as_bool()) == Some(true) {
                        "  (incomplete)"
                    } else {
                        ""
                    }
                );
            }
        }
        PanelCommand::Pull { dir } => {
            let r = api.post("/api/pull", None).await?;
            if r.status().as_u16() == 204 {
                println!("No case is waiting for you.");
                return Ok(());
            }
            let v = json(r).await?;
            let reference = s(&v["case"], "reference").to_string();
            let dir = dir.clone().unwrap_or_else(|| PathBuf::from(&reference));
            write_pack(&api, &v, &reference, &dir).await?;
            if as_json {
                println!("{v:#}");
            } else {
                println!(
                    "You hold {reference} ({}). Case pack: {}",
                    s(&v, "name"),
                    dir.display()
                );
            }
        }
        PanelCommand::Show { reference } => {
            let v = json(api.get(&format!("/api/cases/{reference}")).await?).await?;
            if as_json {
                println!("{v:#}");
            } else {
                print!("{}", summary_text(&v));
            }
        }
        PanelCommand::Decide {
            reference,
            outcome,
            commendation,
            feedback,
        } => {
            let feedback = match feedback {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|e| Fail(exit::IO, format!("cannot read {}: {e}", path.display())))?,
                None => String::new(),
            };
            let body = serde_json::json!({
                "outcome": outcome,
                "commendation": commendation,
                "feedback": feedback,
            });
            let v = json(
                api.post(&format!("/api/cases/{reference}/decision"), Some(body))
                    .await?,
            )
            .await?;
            if as_json {
                println!("{v:#}");
            } else {
                println!("Recorded: {reference} {outcome}.");
            }
        }
        PanelCommand::Release => {
            let v = json(api.post("/api/release", None).await?).await?;
            if as_json {
                println!("{v:#}");
            } else {
                println!(
                    "Released {} outcome email(s).",
                    v.get("released").and_then(|n| n.as_u64()).unwrap_or(0)
                );
            }
        }
        PanelCommand::Token { .. } => unreachable!("handled without the API"),
    }
    Ok(())
}

/// The case pack: summary.html, profile.png, the original message and its attachments.
async fn write_pack(api: &Api, v: &Value, reference: &str, dir: &PathBuf) -> Result<(), Fail> {
    let io = |e: std::io::Error| Fail(exit::IO, format!("cannot write {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::write(dir.join("summary.html"), summary_html(v)).map_err(io)?;
    for name in v["files"].as_array().cloned().unwrap_or_default() {
        let Some(name) = name.as_str() else { continue };
        let encoded: String = name
            .split('/')
            .map(super::urlencode)
            .collect::<Vec<_>>()
            .join("/");
        let bytes = api
            .get(&format!("/api/cases/{reference}/files/{encoded}"))
            .await?
            .bytes()
            .await
            .map_err(|e| Fail(exit::IO, e.to_string()))?;
        // Attachments inside containers keep a flat, safe name in the pack.
        let safe: String = name
            .chars()
            .map(|c| {
                if c == '/' || c == '\\' || c == '\0' {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let safe = safe.trim_start_matches('.').to_string();
        std::fs::write(
            dir.join(if safe.is_empty() { "file" } else { &safe }),
            &bytes,
        )
        .map_err(io)?;
    }
    Ok(())
}

fn summary_text(v: &Value) -> String {
    let case = &v["case"];
    let mut out = format!(
        "{} — {} ({})\nState: {}{}\n",
        s(case, "reference"),
        s(v, "name"),
        v.get("region")
            .and_then(|r| r.as_str())
            .unwrap_or("no region"),
        s(case, "state"),
        case.get("claim")
            .and_then(|c| c.get("member"))
            .and_then(|m| m.as_str())
            .map(|m| format!(", held by {m}"))
            .unwrap_or_default()
    );
    if v.get("redesignation").and_then(|b| b.as_bool()) == Some(true) {
        out.push_str("Holds a Quality Lead: a Quality Lead now is a redesignation.\n");
    }
    for sub in v["submissions"].as_array().cloned().unwrap_or_default() {
        out.push_str(&format!(
            "\n{}  received {}  QM {}  QL {}  sign-off {}\n  scores: {}\n",
            s(&sub, "reference"),
            s(&sub, "received_at"),
            s(&sub, "quality_mark"),
            s(&sub, "quality_lead"),
            if sub["signoff_verified"].as_bool() == Some(true) {
                "verified"
            } else {
                "not verified"
            },
            sub["scores"]
                .as_object()
                .map(|m| {
                    crate::domain::statement::StatementId::ALL
                        .iter()
                        .map(|id| {
                            format!(
                                "{}={}",
                                id.as_str(),
                                m.get(id.as_str()).map_or("-".into(), |x| x.to_string())
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        ));
    }
    for d in case["decisions"].as_array().cloned().unwrap_or_default() {
        out.push_str(&format!(
            "\nDecision by {}: {} {}\n",
            s(&d, "by"),
            s(&d, "outcome"),
            s(&d, "feedback")
        ));
    }
    out.push_str(&format!(
        "\nFiles: {}\n",
        v["files"]
            .as_array()
            .map(|f| f
                .iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default()
    ));
    out
}

fn summary_html(v: &Value) -> String {
    let text = summary_text(v)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head><body style=\"font-family:Arial,sans-serif;max-width:800px;margin:auto;padding:16px\"><img src=\"profile.png\" alt=\"Profile\" style=\"max-width:100%\"><pre style=\"white-space:pre-wrap\">{text}</pre></body></html>",
        s(&v["case"], "reference")
    )
}
