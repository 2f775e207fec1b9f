//! The embedded default mailbox: a local Maildir.
//!
//! Reads both `new/` and `cur/` (a person's mail client moves what it opens into `cur/`; our
//! ledger, not the file's place or flags, decides what is new), takes the file's modification
//! time as the receipt time (as Dovecot does for INTERNALDATE), and moves what it handled into
//! the Maildir++ folders `.Processed/` and `.Quarantine/`.

use crate::pipeline::ports::{Mailbox, MailboxError, MessageKey, RawMessage};
use jiff::Timestamp;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A Maildir at `root` (with `new/`, `cur/`, `tmp/`).
#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
    processed: String,
    quarantine: String,
    /// Files in new/ and cur/ at the last listing.
    waiting: Option<usize>,
}

fn io(e: std::io::Error, what: &str, path: &Path) -> MailboxError {
    MailboxError::Other(format!("{what} {}: {e}", path.display()))
}

/// The unique part of a Maildir file name (before the `:2,FLAGS` info).
fn unique(name: &str) -> &str {
    name.split_once(':').map_or(name, |(u, _)| u)
}

impl Maildir {
    /// Opens (and creates when missing) the Maildir and its processed and quarantine folders.
    pub fn open(root: &Path, processed: &str, quarantine: &str) -> Result<Maildir, MailboxError> {
        let md = Maildir {
            root: root.to_path_buf(),
            processed: processed.to_string(),
            quarantine: quarantine.to_string(),
            waiting: None,
        };
        for dir in [md.root.clone(), md.folder(processed), md.folder(quarantine)] {
            for sub in ["new", "cur", "tmp"] {
                let p = dir.join(sub);
                std::fs::create_dir_all(&p).map_err(|e| io(e, "Failed to create", &p))?;
            }
        }
        Ok(md)
    }

    /// A Maildir++ subfolder: `.Processed`.
    fn folder(&self, name: &str) -> PathBuf {
        self.root.join(format!(".{name}"))
    }

    /// The file currently holding `unique` in new/ or cur/ of the inbox.
    fn find(&self, unique_name: &str) -> Option<(PathBuf, String)> {
        for sub in ["new", "cur"] {
            let dir = self.root.join(sub);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if unique(&name) == unique_name {
                    return Some((entry.path(), name));
                }
            }
        }
        None
    }

    fn move_to(&self, key: &MessageKey, folder: &str) -> Result<(), MailboxError> {
        let MessageKey::Maildir { unique: u } = key else {
            return Err(MailboxError::Other("not a Maildir message".into()));
        };
        // Already moved (a repeat after a crash): nothing to do.
        let Some((from, name)) = self.find(u) else {
            return Ok(());
        };
        let name = if name.contains(':') {
            name
        } else {
            format!("{name}:2,")
        };
        let to = self.folder(folder).join("cur").join(name);
        std::fs::rename(&from, &to).map_err(|e| io(e, "Failed to move", &from))
    }
}

impl Mailbox for Maildir {
    async fn list(
        &mut self,
        max_bytes: u64,
        limit: usize,
    ) -> Result<Vec<RawMessage>, MailboxError> {
        // Names and times first; only the oldest `limit` files are read.
        let mut found = Vec::new();
        for sub in ["new", "cur"] {
            let dir = self.root.join(sub);
            let entries = std::fs::read_dir(&dir).map_err(|e| io(e, "Failed to read", &dir))?;
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let Ok(meta) = entry.metadata() else { continue };
                if !meta.is_file() {
                    continue;
                }
                let received_at = meta
                    .modified()
                    .ok()
                    .and_then(|m| Timestamp::try_from(m).ok())
                    .unwrap_or(Timestamp::UNIX_EPOCH);
                let key = MessageKey::Maildir {
                    unique: unique(&name).to_string(),
                };
                found.push((received_at, key, path, meta.len()));
            }
        }
        self.waiting = Some(found.len());
        found.sort_by_key(|a| (a.0, a.1.ledger_key()));
        let mut out = Vec::new();
        for (received_at, key, path, size) in found.into_iter().take(limit) {
            let mut bytes = Vec::new();
            // The file may vanish between listing and reading (moved by a person): skip it.
            let Ok(file) = std::fs::File::open(&path) else {
                continue;
            };
            if file
                .take(max_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
                .is_err()
            {
                continue;
            }
            out.push(RawMessage {
                key,
                received_at,
                bytes,
                size,
            });
        }
        Ok(out)
    }

    async fn mark_processed(&mut self, keys: &[MessageKey]) -> Result<(), MailboxError> {
        let folder = self.processed.clone();
        for key in keys {
            self.move_to(key, &folder)?;
        }
        Ok(())
    }

    async fn quarantine(&mut self, key: &MessageKey) -> Result<(), MailboxError> {
        let folder = self.quarantine.clone();
        self.move_to(key, &folder)
    }

    fn waiting(&self) -> Option<usize> {
        self.waiting
    }

    async fn wait(&mut self, timeout: Duration) -> Result<(), MailboxError> {
        // A local folder has no IDLE; a short poll is cheap.
        tokio::time::sleep(timeout.min(Duration::from_secs(2))).await;
        Ok(())
    }
}
