//! Configuration: `yjsend.toml` and the roster, parsed from text in two stages (raw serde
//! mirrors with spans, then resolved values), with every error naming file, line and key.

use crate::domain::roster::Roster;
use crate::domain::round::Round;
use std::path::{Path, PathBuf};

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    pub round: Round,
    pub roster: Roster,
    pub trusted_authserv_id: Option<String>,
    pub limits: crate::extract::Limits,
    pub max_message_bytes: u64,
}

/// One configuration error: `file:line: key: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the error is about the file as a whole.
    pub line: usize,
    pub key: String,
    pub message: String,
}

/// Loads and validates the configuration and the roster it names; every error, not the first.
pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
    Err(vec![ConfigError {
        file: path.to_path_buf(),
        line: 0,
        key: String::new(),
        message: "not implemented".into(),
    }])
}
