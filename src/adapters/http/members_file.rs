//! The tokens file, reloaded when it changes: removing a member revokes their token at the
//! next request. A file that no longer parses keeps the previous members (and says so in the
//! log) rather than locking everyone out or letting anyone in.

use crate::domain::panel::members::{self, Member};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::SystemTime;

pub struct MembersFile {
    path: PathBuf,
    state: Mutex<(Option<SystemTime>, Vec<Member>)>,
}

impl MembersFile {
    /// Reads the file now; a missing file means no members (every request is refused).
    pub fn open(path: PathBuf) -> Result<MembersFile, String> {
        let (stamp, list) = load(&path)?;
        Ok(MembersFile {
            path,
            state: Mutex::new((stamp, list)),
        })
    }

    /// The member holding this token, after reloading the file if it changed.
    pub fn authenticate(&self, token: &str) -> Option<Member> {
        self.authenticate_with(|list| members::authenticate(list, token).cloned())
    }

    fn authenticate_with(&self, find: impl FnOnce(&[Member]) -> Option<Member>) -> Option<Member> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let stamp = modified(&self.path);
        if stamp != state.0 {
            match load(&self.path) {
                Ok(fresh) => {
                    tracing::info!(file = %self.path.display(), members = fresh.1.len(), "Tokens file reloaded.");
                    *state = fresh;
                }
                Err(e) => {
                    tracing::error!(error = %e, "The tokens file does not parse; keeping the previous members.");
                    state.0 = stamp;
                }
            }
        }
        find(&state.1)
    }
}

impl MembersFile {
    /// The member whose token has this hash (a signed-in session's), after reloading the
    /// file if it changed: a member removed from the file is signed out.
    pub fn by_hash(&self, hash: &[u8; 32]) -> Option<Member> {
        self.authenticate_with(|list| list.iter().find(|m| &m.token_sha256 == hash).cloned())
    }
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn load(path: &std::path::Path) -> Result<(Option<SystemTime>, Vec<Member>), String> {
    let stamp = modified(path);
    if stamp.is_none() {
        return Ok((None, Vec::new()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let list = members::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((stamp, list))
}
