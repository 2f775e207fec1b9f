//! Data protection (UK GDPR; the messages carry case studies about children): retention,
//! subject access and erasure. A purged record keeps only anonymous figures (its reference,
//! partnership, scores, verdicts and dates); its message, attachments, replies, sender and
//! every free text are deleted, and the store is rewritten so the bytes leave the files too.

use super::{AuditEntry, OutboxItem, Record, Store, StoreError, be, decode, encode};
use crate::domain::submission::Judge;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a purge or erasure removed (or would remove, in a dry run).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PurgeReport {
    /// The records whose personal data went (references where they have one).
    pub records: Vec<String>,
    pub messages: usize,
    pub outgoing: usize,
    pub audit_entries: usize,
    pub senders: usize,
}

/// Everything held about an address: for a subject access request.
#[derive(Debug, Clone, Serialize)]
pub struct Held {
    pub records: Vec<Record>,
    /// Raw messages by record id.
    #[serde(skip)]
    pub messages: Vec<(u64, Vec<u8>)>,
    pub audit: Vec<AuditEntry>,
}

fn mentions(record: &Record, raw: Option<&[u8]>, who: &str) -> bool {
    let who = who.to_ascii_lowercase();
    record
        .from
        .as_deref()
        .is_some_and(|f| f.eq_ignore_ascii_case(&who))
        || record.partnership.as_deref() == Some(who.as_str())
        || raw.is_some_and(|r| {
            // The headers only: an address in To, Cc, Reply-To or Sender.
            let end = r
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .or_else(|| r.windows(2).position(|w| w == b"\n\n"))
                .unwrap_or(r.len());
            String::from_utf8_lossy(&r[..end])
                .to_ascii_lowercase()
                .contains(&who)
        })
}

impl Store {
    /// Everything held about an email address or a partnership id.
    pub fn held_about(&self, who: &str) -> Result<Held, StoreError> {
        let mut records = Vec::new();
        let mut messages = Vec::new();
        for r in self.records()? {
            let raw = self.raw(r.id)?;
            if mentions(&r, raw.as_deref(), who) {
                if let Some(m) = raw {
                    messages.push((r.id, m));
                }
                records.push(r);
            }
        }
        let refs: Vec<String> = records.iter().filter_map(|r| r.reference.clone()).collect();
        let who_lower = who.to_ascii_lowercase();
        let audit = self
            .audit_trail(None)?
            .into_iter()
            .filter(|a| {
                a.case.as_ref().is_some_and(|c| refs.contains(c))
                    || a.detail.to_ascii_lowercase().contains(&who_lower)
            })
            .collect();
        Ok(Held {
            records,
            messages,
            audit,
        })
    }

    /// Deletes the personal data of these records (keeping their anonymous figures), of the
    /// replies to them, of audit entries naming them, and `senders`' reply counters. With
    /// `dry_run`, only reports.
    /// The verdicts are frozen first (`judge`: the live round's roster), since the facts they
    /// are derived from go.
    pub fn erase(
        &self,
        ids: &[u64],
        senders: &[String],
        dry_run: bool,
        judge: Judge,
    ) -> Result<PurgeReport, StoreError> {
        let mut report = PurgeReport::default();
        let mut refs = Vec::new();
        for id in ids {
            let Some(mut r) = self.record(*id)? else {
                continue;
            };
            report.records.push(
                r.reference
                    .clone()
                    .unwrap_or_else(|| format!("record {id}")),
            );
            if let Some(reference) = &r.reference {
                refs.push(reference.clone());
            }
            if self.raw.contains_key(be(*id))? {
                report.messages += 1;
            }
            if dry_run {
                continue;
            }
            self.raw.remove(be(*id))?;
            if let Some(mid) = &r.message_id {
                self.by_message_id.remove(mid.as_bytes())?;
            }
            if r.snapshot.is_none() {
                let standing = r.standing(judge);
                r.freeze(
                    &standing,
                    "Personal data purged; the verdicts are as they stood then.",
                );
            }
            r.purged = true;
            r.message_id = None;
            r.from = None;
            r.subject = None;
            for p in &mut r.problems {
                p.detail.clear();
            }
            r.no_reply_reason = None;
            r.evidence.clear();
            for j in &mut r.joined {
                j.from = None;
            }
            for c in &mut r.corrections {
                c.by.clear();
                c.reason.clear();
            }
            self.records.insert(be(*id), encode(&r))?;
        }
        for entry in self.outbox.iter() {
            let (k, v) = entry?;
            let item: OutboxItem = decode(&v)?;
            if item.record_id.is_some_and(|r| ids.contains(&r))
                && self.outbox_bytes.contains_key(&k)?
            {
                report.outgoing += 1;
                if !dry_run {
                    self.outbox_bytes.remove(&k)?;
                    let mut item = item;
                    item.recipients.clear();
                    item.last_error = None;
                    self.outbox.insert(&k, encode(&item))?;
                }
            }
        }
        for entry in self.audit.iter() {
            let (k, v) = entry?;
            let mut a: AuditEntry = decode(&v)?;
            let named = a.case.as_ref().is_some_and(|c| refs.contains(c))
                || senders.iter().any(|s| {
                    a.detail
                        .to_ascii_lowercase()
                        .contains(&s.to_ascii_lowercase())
                });
            if named && !a.detail.is_empty() {
                report.audit_entries += 1;
                if !dry_run {
                    a.detail = "(erased)".into();
                    self.audit.insert(&k, encode(&a))?;
                }
            }
        }
        for s in senders {
            if self.sender_replies.contains_key(s.to_ascii_lowercase())? {
                report.senders += 1;
                if !dry_run {
                    self.sender_replies.remove(s.to_ascii_lowercase())?;
                }
            }
        }
        Ok(report)
    }

    /// The records received before `before`.
    pub fn records_before(&self, before: jiff::Timestamp) -> Result<Vec<Record>, StoreError> {
        Ok(self
            .records()?
            .into_iter()
            .filter(|r| r.received_at < before)
            .collect())
    }

    /// Remembers when a round closes (its deadline), for retention: kept for every round
    /// the daemon has run, so a record's round can be dated after the configuration moved on.
    pub fn remember_round(
        &self,
        prefix: &str,
        deadline: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.meta_set(&format!("{ROUND_CLOSES}{prefix}"), &deadline.to_string())
    }

    /// Every remembered round's deadline, by reference prefix.
    pub fn round_closes(&self) -> Result<BTreeMap<String, jiff::Timestamp>, StoreError> {
        let mut closes = BTreeMap::new();
        for entry in self.meta.scan_prefix(ROUND_CLOSES) {
            let (k, v) = entry?;
            let prefix = String::from_utf8_lossy(&k[ROUND_CLOSES.len()..]).into_owned();
            if let Ok(at) = String::from_utf8_lossy(&v).parse() {
                closes.insert(prefix, at);
            }
        }
        Ok(closes)
    }

    /// Rewrites the store at `path` from what it holds now, so deleted data is gone from the
    /// files as well (sled keeps old versions in its log until it compacts). Closes `self`.
    ///
    /// Crash-safe: the copy is made beside the store and swapped in by two renames; whatever
    /// point a crash interrupts, [`Store::rewrite_if_pending`] at the next start finds either
    /// the old store whole or the new one whole, and finishes.
    pub fn rewrite(self, path: &Path) -> Result<(), StoreError> {
        let io = |e: std::io::Error| StoreError::Corrupt(format!("rewriting the store: {e}"));
        self.db.flush()?;
        let mut copy = Vec::new();
        self.backup(&mut copy)?;
        drop(self);
        let (fresh, old) = rewrite_paths(path);
        let _ = std::fs::remove_dir_all(&fresh);
        Store::restore(&fresh, std::io::Cursor::new(copy))?;
        std::fs::rename(path, &old).map_err(io)?;
        std::fs::rename(&fresh, path).map_err(io)?;
        std::fs::remove_dir_all(&old).map_err(io)?;
        Ok(())
    }

    /// The file that says a purge is waiting for the store to be rewritten (made by the
    /// daemon's retention, which cannot rewrite the store it holds open; it restarts itself).
    pub fn rewrite_marker(path: &Path) -> PathBuf {
        let mut name = path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".rewrite-pending");
        path.with_file_name(name)
    }

    /// Asks for a rewrite at the next start: the marker is on disk before this returns.
    pub fn request_rewrite(path: &Path) -> Result<(), StoreError> {
        let marker = Store::rewrite_marker(path);
        let io = |e: std::io::Error| StoreError::Corrupt(format!("{}: {e}", marker.display()));
        let file = std::fs::File::create(&marker).map_err(io)?;
        file.sync_all().map_err(io)?;
        if let Some(dir) = marker.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }

    /// At start, before the store is opened: finishes a rewrite a crash cut short, and makes
    /// one that was asked for. Returns whether the store was rewritten.
    pub fn rewrite_if_pending(path: &Path) -> Result<bool, StoreError> {
        let io = |e: std::io::Error| StoreError::Corrupt(format!("rewriting the store: {e}"));
        let (fresh, old) = rewrite_paths(path);
        if !path.exists() && old.exists() {
            // Stopped between the two renames: the old store is whole; start again from it.
            std::fs::rename(&old, path).map_err(io)?;
        } else if path.exists() && old.exists() {
            // Stopped after the swap: the new store is whole; the old one (with the purged
            // data) must still go.
            std::fs::remove_dir_all(&old).map_err(io)?;
        }
        let _ = std::fs::remove_dir_all(&fresh);
        let marker = Store::rewrite_marker(path);
        if !marker.exists() {
            return Ok(false);
        }
        Store::open(path)?.rewrite(path)?;
        std::fs::remove_file(&marker).map_err(io)?;
        Ok(true)
    }
}

const ROUND_CLOSES: &str = "round_closes:";

fn rewrite_paths(path: &Path) -> (PathBuf, PathBuf) {
    (path.with_extension("rewrite"), path.with_extension("old"))
}
