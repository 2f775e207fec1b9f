//! Schema versions of the store, and the upgrade of a store written by an earlier release.
//!
//! Schema 1 (no `schema` key in the meta tree) kept each record's verdicts as words worked out
//! once, at receipt, beside loosely typed facts; schema 2 keeps only facts and derives the
//! verdicts (see [`crate::domain::submission`]). A schema-1 store is upgraded in place when it
//! is opened, after a backup of it is written beside it, so nothing a partnership sent can be
//! lost to the upgrade.

use super::{Store, StoreError, decode, encode};
use crate::domain::evaluation::Classification;
use crate::domain::problem::{Problem, ProblemCode};
use crate::domain::standing::LeadRole;
use crate::domain::statement::StatementId;
use crate::domain::submission::{
    CorrectionNote, EvidenceFile, EvidenceKind, JoinKind, Joined, Record, RecordState, Snapshot,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tracing::info;

/// Meta key holding the schema version.
pub(super) const SCHEMA_KEY: &str = "schema";
/// The schema this release writes.
pub const SCHEMA: u32 = 2;

/// A record as schema 1 stored it.
#[derive(Debug, Deserialize)]
struct RecordV1 {
    id: u64,
    ledger_key: String,
    message_id: Option<String>,
    hash: String,
    received_at: String,
    size: u64,
    attempts: u32,
    state: RecordState,
    reference: Option<String>,
    from: Option<String>,
    subject: Option<String>,
    classification: Option<String>,
    partnership: Option<String>,
    scores: BTreeMap<String, u8>,
    quality_mark: Option<String>,
    quality_lead: Option<String>,
    on_time: Option<bool>,
    problems: Vec<(String, String)>,
    no_reply_reason: Option<String>,
    duplicate_of: Option<u64>,
    #[serde(default)]
    signoff_verified: bool,
    #[serde(default)]
    signoff_confirmed_by: Option<String>,
    #[serde(default)]
    added_evidence: Vec<(u64, Vec<String>)>,
    #[serde(default)]
    signoff_leads: (bool, bool),
    #[serde(default)]
    case_studies: Vec<String>,
    #[serde(default)]
    corrections: Vec<(String, i64, String)>,
    #[serde(default)]
    round: Option<String>,
    #[serde(default)]
    purged: bool,
}

/// Where the backup taken before an upgrade goes: beside the store's folder.
pub fn backup_path(store: &Path) -> PathBuf {
    let mut name = store.file_name().unwrap_or_default().to_os_string();
    name.push(".schema1-backup.gz");
    store.with_file_name(name)
}

fn classification(word: &str) -> Option<Classification> {
    match word {
        "submission" => Some(Classification::Submission),
        "automatic" => Some(Classification::Automatic),
        "no_grid" => Some(Classification::NoGrid),
        _ => None,
    }
}

fn provisional(word: Option<&str>) -> crate::domain::eligibility::Provisional {
    use crate::domain::eligibility::Provisional;
    match word {
        Some("eligible") => Provisional::Eligible,
        Some("not_eligible") => Provisional::NotEligible,
        _ => Provisional::Incomplete,
    }
}

fn statements(words: &[String]) -> Vec<StatementId> {
    words
        .iter()
        .filter_map(|w| StatementId::from_key(w))
        .collect()
}

/// The schema-2 record for a schema-1 one. `all` is every schema-1 record, for what v1 kept
/// only on the other side of a join (which statements a later case study named, which
/// message confirmed a sign-off).
fn upgrade(v1: &RecordV1, all: &BTreeMap<u64, RecordV1>) -> Record {
    let received_at = v1
        .received_at
        .parse()
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let mut evidence = Vec::new();
    // Schema 1 kept the statements a message's case studies named, not which file named
    // which: each is kept as one entry naming them all.
    let own = statements(&v1.case_studies);
    if !own.is_empty() {
        evidence.push(EvidenceFile {
            record_id: v1.id,
            path: "case studies (as read before the upgrade)".into(),
            kind: EvidenceKind::CaseStudy,
            statements: own,
        });
    }
    let mut joined = Vec::new();
    for (record_id, paths) in &v1.added_evidence {
        let source = all.get(record_id);
        let named = source
            .map(|r| statements(&r.case_studies))
            .unwrap_or_default();
        for path in paths {
            evidence.push(EvidenceFile {
                record_id: *record_id,
                path: path.clone(),
                kind: if named.is_empty() {
                    EvidenceKind::CaseStudyUnlinked
                } else {
                    EvidenceKind::CaseStudy
                },
                statements: named.clone(),
            });
        }
        joined.push(Joined {
            record_id: *record_id,
            at: source
                .and_then(|r| r.received_at.parse().ok())
                .unwrap_or(received_at),
            from: source.and_then(|r| r.from.clone()),
            kind: JoinKind::Evidence,
            confirms: None,
        });
    }
    if let Some(by) = &v1.signoff_confirmed_by {
        // Schema 1 counted any lead's word; the lead missing from the message is the one a
        // confirmation stood for.
        let confirms = match v1.signoff_leads {
            (true, false) => Some(LeadRole::Yos),
            (false, true) => Some(LeadRole::LaSend),
            _ => None,
        };
        let reference = v1.reference.as_deref().unwrap_or("\u{0}");
        let source = all.values().find(|r| {
            r.from.as_deref() == Some(by.as_str())
                && r.no_reply_reason
                    .as_deref()
                    .is_some_and(|n| n.contains(reference))
        });
        joined.push(Joined {
            record_id: source.map_or(0, |r| r.id),
            at: source
                .and_then(|r| r.received_at.parse().ok())
                .unwrap_or(received_at),
            from: Some(by.clone()),
            kind: JoinKind::Confirmation,
            confirms,
        });
    }
    let joined_to = all.values().filter(|r| r.id != v1.id).find_map(|r| {
        let by_evidence = r.added_evidence.iter().any(|(id, _)| *id == v1.id);
        let by_confirmation = v1.from.is_some()
            && r.signoff_confirmed_by == v1.from
            && r.reference.as_deref().is_some_and(|reference| {
                v1.no_reply_reason
                    .as_deref()
                    .is_some_and(|n| n.contains(reference))
            });
        (by_evidence || by_confirmation).then_some(r.id)
    });
    let snapshot = v1.purged.then(|| Snapshot {
        quality_mark: provisional(v1.quality_mark.as_deref()),
        quality_lead: provisional(v1.quality_lead.as_deref()),
        signoff_verified: v1.signoff_verified,
        label: "Personal data purged; the verdicts are as they were then.".into(),
    });
    Record {
        id: v1.id,
        ledger_key: v1.ledger_key.clone(),
        message_id: v1.message_id.clone(),
        hash: v1.hash.clone(),
        received_at,
        size: v1.size,
        attempts: v1.attempts,
        state: v1.state,
        reference: v1.reference.clone(),
        from: v1.from.clone(),
        subject: v1.subject.clone(),
        classification: v1.classification.as_deref().and_then(classification),
        partnership: v1.partnership.clone(),
        scores: v1.scores.clone(),
        on_time: v1.on_time,
        problems: v1
            .problems
            .iter()
            .filter_map(|(code, detail)| Some(Problem::new(ProblemCode::parse(code)?, detail)))
            .collect(),
        no_reply_reason: v1.no_reply_reason.clone(),
        duplicate_of: v1.duplicate_of,
        signoff_leads: v1.signoff_leads,
        evidence,
        joined,
        joined_to,
        replaces: None,
        corrections: v1
            .corrections
            .iter()
            .map(|(by, at, reason)| CorrectionNote {
                by: by.clone(),
                at: jiff::Timestamp::from_second(*at).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                reason: reason.clone(),
            })
            .collect(),
        team_case_studies: None,
        round: v1.round.clone(),
        purged: v1.purged,
        snapshot,
    }
}

impl Store {
    /// The store's schema: 1 for a store written before versions were recorded.
    pub fn schema(&self) -> Result<u32, StoreError> {
        Ok(self
            .meta
            .get(SCHEMA_KEY)?
            .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok())
            .unwrap_or(1))
    }

    /// Brings the store to [`SCHEMA`]: a new store is marked, a schema-1 store is backed up to
    /// `backup_to` (when given and not already there) and its records rewritten.
    pub(super) fn upgrade_schema(&self, backup_to: Option<&Path>) -> Result<(), StoreError> {
        if self.meta.contains_key(SCHEMA_KEY)? {
            let found = self.schema()?;
            if found > SCHEMA {
                return Err(StoreError::Corrupt(format!(
                    "the store was written by a newer yjsend (schema {found}; this release reads up to {SCHEMA})"
                )));
            }
            return Ok(());
        }
        if self.records.is_empty() && self.ledger.is_empty() {
            return self.mark_schema();
        }
        if let Some(path) = backup_to.filter(|p| !p.exists()) {
            let io = |e: std::io::Error| {
                StoreError::Corrupt(format!(
                    "writing {} before the upgrade: {e}",
                    path.display()
                ))
            };
            let tmp = path.with_extension("partial");
            let file = std::fs::File::create(&tmp).map_err(io)?;
            self.backup(std::io::BufWriter::new(&file))?;
            file.sync_all().map_err(io)?;
            std::fs::rename(&tmp, path).map_err(io)?;
            info!(backup = %path.display(), "Backed up the store before upgrading it.");
        }
        let mut all = BTreeMap::new();
        for entry in self.records.iter() {
            let (_, v) = entry?;
            let v1: RecordV1 = decode(&v)?;
            all.insert(v1.id, v1);
        }
        let upgraded: Vec<Record> = all.values().map(|v1| upgrade(v1, &all)).collect();
        for r in &upgraded {
            self.records.insert(super::be(r.id), encode(r))?;
        }
        info!(
            records = upgraded.len(),
            "Upgraded the store to schema {SCHEMA}."
        );
        self.mark_schema()?;
        self.db.flush()?;
        Ok(())
    }

    fn mark_schema(&self) -> Result<(), StoreError> {
        self.meta
            .insert(SCHEMA_KEY, SCHEMA.to_string().as_bytes())?;
        Ok(())
    }
}
