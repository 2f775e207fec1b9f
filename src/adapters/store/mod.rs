//! The durable store (sled): the ledger of handled messages, the raw messages, the submission
//! records, the outbox, and the intake position.
//!
//! sled makes writes durable only on flush, so the pipeline flushes before anything the
//! outside world sees depends on a write (before sending, before moving a message). A record
//! and the replies it causes are written in one transaction, so a crash leaves both or neither.

mod backup;
mod privacy;
mod upgrade;
pub use privacy::{Held, PurgeReport};
pub use upgrade::{SCHEMA, backup_path as upgrade_backup_path};

use crate::domain::panel::case::Case;
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::path::Path;

/// A store failure: intake stops and the team is alerted rather than carrying on half-written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store error: {0}")]
    Sled(#[from] sled::Error),
    #[error("store record is unreadable: {0}")]
    Corrupt(String),
    /// The disk did not confirm a write in time (full, failing, or hung): nothing the outside
    /// world depends on may go ahead.
    #[error("the store did not finish writing to disk within {0:?}")]
    FlushTimeout(std::time::Duration),
    /// Another process holds the store (sled's file lock): a second copy, not a failure.
    #[error("in use by another process (is another yjsend running?)")]
    Locked,
}

/// How long a flush may take before the store is treated as failed.
pub const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> StoreError {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        }
    }
}

pub use crate::domain::submission::{Record, RecordState};

/// Delivery state of an outgoing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    Pending,
    /// Drafted and held until the team releases it (panel outcome emails).
    Held,
    Sent,
    /// Permanently refused, or failed too often: kept and shown to the team, never dropped.
    Failed,
}

/// One outgoing message in the outbox (its bytes are kept beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: u64,
    pub record_id: Option<u64>,
    /// `reply`, `digest`, `alert`.
    pub kind: String,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub attempts: u32,
    pub state: OutboxState,
    /// Unix seconds before which no further attempt is made.
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
}

/// A reply to queue with its record.
#[derive(Debug, Clone)]
pub struct NewOutgoing {
    pub kind: String,
    /// Our Message-ID for it, remembered so that answers in our threads are recognised.
    pub message_id: Option<String>,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub bytes: Vec<u8>,
}

impl OutboxItem {
    /// A new item for `out`, not yet attempted.
    fn new(
        id: u64,
        out: &NewOutgoing,
        record_id: Option<u64>,
        state: OutboxState,
        now: i64,
    ) -> OutboxItem {
        OutboxItem {
            id,
            record_id,
            kind: out.kind.clone(),
            envelope_from: out.envelope_from.clone(),
            recipients: out.recipients.clone(),
            attempts: 0,
            state,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
        }
    }
}

/// The sled database and its trees.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    ledger: sled::Tree,
    raw: sled::Tree,
    records: sled::Tree,
    by_message_id: sled::Tree,
    by_hash: sled::Tree,
    outbox: sled::Tree,
    outbox_bytes: sled::Tree,
    /// The ids of pending outbox items: what delivery looks at, so its cost does not grow
    /// with the years of sent replies kept beside them.
    outbox_pending: sled::Tree,
    meta: sled::Tree,
    sender_replies: sled::Tree,
    /// Panel cases by reference, and each submission's reference → its case's.
    cases: sled::Tree,
    case_of: sled::Tree,
    /// Who did what, when: append-only, keyed by a rising id.
    audit: sled::Tree,
    /// Serialises read-modify-write of cases (one process; pulls must never collide).
    case_lock: std::sync::Arc<std::sync::Mutex<()>>,
    /// Added to sled's id generator: a restored store's generator starts again from zero, so
    /// its new ids start above the highest one restored (see [`Store::restore`]).
    id_floor: u64,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    pub who: String,
    /// `pull`, `open_case`, `read_file`, `decide`, `release`, `skip_conflict`, …
    pub action: String,
    pub case: Option<String>,
    pub detail: String,
}

fn be(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

fn from_be(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// sled's page cache. Its default (1 GiB) lets a long-running daemon's memory grow with every
/// message stored; the store's working set (recent records, the pending outbox) is far
/// smaller, and reads of older records are rare (the digest, the panel, reports).
const CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Opens sled at `path`. sled releases its file lock from a background thread a moment after
/// the last handle is dropped, so opening a store this process has just closed (a restore, a
/// rewrite, a restart in place) can find it still locked: that case is tried again for up to
/// three seconds. A lock held by another process stays refused.
fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .open()
        {
            // sled words it "could not acquire lock on …" (kind Other).
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                if std::time::Instant::now() >= deadline {
                    return Err(StoreError::Locked);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return Ok(other?),
        }
    }
}

/// Meta key of [`Store::next_id`]'s floor.
const ID_FLOOR: &str = "id_floor";

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

impl Store {
    /// Opens (or creates) the store at `path`. sled holds a lock: one process at a time.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = open_db(path)?;
        let store = Store {
            ledger: db.open_tree("ledger")?,
            raw: db.open_tree("raw")?,
            records: db.open_tree("records")?,
            by_message_id: db.open_tree("by_message_id")?,
            by_hash: db.open_tree("by_hash")?,
            outbox: db.open_tree("outbox")?,
            outbox_bytes: db.open_tree("outbox_bytes")?,
            outbox_pending: db.open_tree("outbox_pending")?,
            meta: db.open_tree("meta")?,
            sender_replies: db.open_tree("sender_replies")?,
            cases: db.open_tree("cases")?,
            case_of: db.open_tree("case_of")?,
            audit: db.open_tree("audit")?,
            case_lock: Default::default(),
            id_floor: 0,
            db,
        };
        let store = Store {
            id_floor: store
                .meta
                .get(ID_FLOOR)?
                .and_then(|v| from_be(&v))
                .unwrap_or(0),
            ..store
        };
        store.index_pending()?;
        store.upgrade_schema(Some(&upgrade::backup_path(path)))?;
        Ok(store)
    }

    /// A new id for a record, an outgoing message or an audit line: unique and rising.
    fn next_id(&self) -> Result<u64, StoreError> {
        let id = self.db.generate_id()?;
        self.id_floor
            .checked_add(id)
            .ok_or_else(|| StoreError::Corrupt("the id counter has run out".into()))
    }

    /// Builds the pending index once for a store written before it existed.
    fn index_pending(&self) -> Result<(), StoreError> {
        const MARK: &str = "index:outbox_pending";
        if self.meta.contains_key(MARK)? {
            return Ok(());
        }
        for entry in self.outbox.iter() {
            let (k, v) = entry?;
            let item: OutboxItem = decode(&v)?;
            if item.state == OutboxState::Pending {
                self.outbox_pending.insert(k, &[])?;
            }
        }
        self.meta.insert(MARK, &[])?;
        Ok(())
    }

    /// Makes every write so far durable, or fails after [`FLUSH_TIMEOUT`] (a flush on a full
    /// or failing disk can hang: intake must stop and say so rather than wait for ever).
    pub async fn flush(&self) -> Result<(), StoreError> {
        match tokio::time::timeout(FLUSH_TIMEOUT, self.db.flush_async()).await {
            Ok(r) => {
                r?;
                Ok(())
            }
            Err(_) => Err(StoreError::FlushTimeout(FLUSH_TIMEOUT)),
        }
    }

    /// The record handled under this mailbox key, if any.
    pub fn ledger(&self, key: &str) -> Result<Option<Record>, StoreError> {
        match self.ledger.get(key)? {
            Some(id) => self.record(from_be(&id).unwrap_or(0)),
            None => Ok(None),
        }
    }

    pub fn record(&self, id: u64) -> Result<Option<Record>, StoreError> {
        self.records.get(be(id))?.map(|v| decode(&v)).transpose()
    }

    /// An earlier record of the same message (same Message-ID, or the same bytes).
    pub fn find_duplicate(
        &self,
        message_id: Option<&str>,
        hash: &str,
    ) -> Result<Option<Record>, StoreError> {
        if let Some(mid) = message_id
            && let Some(id) = self.by_message_id.get(mid)?
            && let Some(r) = self.record(from_be(&id).unwrap_or(0))?
        {
            return Ok(Some(r));
        }
        match self.by_hash.get(hash)? {
            Some(id) => self.record(from_be(&id).unwrap_or(0)),
            None => Ok(None),
        }
    }

    /// Stores a newly seen message (raw bytes and a `Received` record) under its ledger key.
    /// The caller flushes before evaluating, so the message is safe before anything else.
    pub fn receive(&self, mut record: Record, raw: &[u8]) -> Result<Record, StoreError> {
        record.id = self.next_id()?;
        let id = be(record.id);
        (&self.ledger, &self.raw, &self.records).transaction(|(ledger, raws, records)| {
            ledger.insert(record.ledger_key.as_bytes(), &id)?;
            raws.insert(&id, raw)?;
            records.insert(&id, encode(&record))?;
            Ok::<_, ConflictableTransactionError<StoreError>>(())
        })?;
        Ok(record)
    }

    /// Records a repeat of an already handled message under a new mailbox key (after a
    /// UIDVALIDITY change, or a copy in the folder): it maps to the earlier record.
    pub fn alias(&self, ledger_key: &str, record_id: u64) -> Result<(), StoreError> {
        self.ledger.insert(ledger_key, &be(record_id))?;
        Ok(())
    }

    /// Saves a record as it is.
    pub fn update(&self, record: &Record) -> Result<(), StoreError> {
        self.records.insert(be(record.id), encode(record))?;
        Ok(())
    }

    pub fn raw(&self, id: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.raw.get(be(id))?.map(|v| v.to_vec()))
    }

    /// Writes the evaluated record, its dedupe indexes and its outgoing messages in one
    /// transaction; assigns the reference from the round's counter when `reference_prefix` is
    /// given. Returns the record as stored.
    /// `expected_reference` is the reference the caller rendered into the reply (from
    /// [`Store::peek_reference`]); the transaction aborts if another writer took it meanwhile.
    /// `joined_to` is the submission this message was joined to, saved in the same
    /// transaction so a crash never leaves the one without the other.
    pub fn complete(
        &self,
        mut record: Record,
        expected_reference: Option<&str>,
        outgoing: Vec<NewOutgoing>,
        joined_to: Option<&Record>,
        now: i64,
    ) -> Result<Record, StoreError> {
        let ids: Vec<u64> = outgoing
            .iter()
            .map(|_| self.next_id())
            .collect::<Result<_, _>>()?;
        let result = (
            &self.records,
            &self.by_message_id,
            &self.by_hash,
            &self.outbox,
            &self.outbox_bytes,
            &self.outbox_pending,
            &self.meta,
        )
            .transaction(
                |(records, by_mid, by_hash, outbox, outbox_bytes, pending, meta)| {
                    let mut record = record.clone();
                    if let Some(expected) = expected_reference {
                        let (prefix, _) = expected.rsplit_once('-').unwrap_or((expected, ""));
                        let key = format!("ref:{prefix}");
                        let next = meta
                            .get(key.as_bytes())?
                            .and_then(|v| from_be(&v))
                            .unwrap_or(0)
                            + 1;
                        let reference = format!("{prefix}-{next:04}");
                        if reference != expected {
                            return Err(ConflictableTransactionError::Abort(StoreError::Corrupt(
                                format!("reference {expected} was taken; the next is {reference}"),
                            )));
                        }
                        meta.insert(key.as_bytes(), &be(next))?;
                        record.reference = Some(reference);
                        if let (Some(p), true) = (&record.partnership, record.is_submission()) {
                            meta.insert(format!("latest:{p}").as_bytes(), &be(record.id))?;
                        }
                    }
                    for out in &outgoing {
                        if let Some(mid) = &out.message_id {
                            meta.insert(format!("ours:{mid}").as_bytes(), &be(record.id))?;
                        }
                    }
                    record.state = RecordState::Evaluated;
                    let id = be(record.id);
                    if let Some(mid) = &record.message_id {
                        by_mid.insert(mid.as_bytes(), &id)?;
                    }
                    by_hash.insert(record.hash.as_bytes(), &id)?;
                    for (out, oid) in outgoing.iter().zip(&ids) {
                        let item = OutboxItem {
                            id: *oid,
                            record_id: Some(record.id),
                            kind: out.kind.clone(),
                            envelope_from: out.envelope_from.clone(),
                            recipients: out.recipients.clone(),
                            attempts: 0,
                            state: OutboxState::Pending,
                            next_attempt_at: now,
                            last_error: None,
                            created_at: now,
                        };
                        outbox.insert(&be(*oid), encode(&item))?;
                        outbox_bytes.insert(&be(*oid), out.bytes.as_slice())?;
                        pending.insert(&be(*oid), &[])?;
                    }
                    records.insert(&id, encode(&record))?;
                    if let Some(target) = joined_to {
                        records.insert(&be(target.id), encode(target))?;
                    }
                    Ok::<_, ConflictableTransactionError<StoreError>>(record)
                },
            )?;
        record = result;
        Ok(record)
    }

    /// Records with an id of `first` or above, oldest first (what arrived since the last
    /// digest).
    pub fn records_from(&self, first: u64) -> Result<Vec<Record>, StoreError> {
        self.records
            .range(be(first)..)
            .map(|e| decode(&e?.1))
            .collect()
    }

    /// How many records the ledger holds.
    pub fn record_count(&self) -> usize {
        self.records.len()
    }

    /// Queues a message like [`Store::enqueue`] and sets meta values in the same transaction:
    /// the digest records the period it covered with its queuing, so it is never sent twice.
    pub fn enqueue_with_meta(
        &self,
        out: NewOutgoing,
        now: i64,
        meta: &[(&str, String)],
    ) -> Result<u64, StoreError> {
        self.queue(out, None, false, now, meta)
    }

    /// Holds case changes to one at a time: take it around a read-modify-write of cases.
    pub fn lock_cases(&self) -> std::sync::MutexGuard<'_, ()> {
        self.case_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The case a submission reference belongs to (the case's own reference works too).
    pub fn case(&self, reference: &str) -> Result<Option<Case>, StoreError> {
        let key = match self.case_of.get(reference)? {
            Some(k) => k.to_vec(),
            None => reference.as_bytes().to_vec(),
        };
        self.cases.get(key)?.map(|v| decode(&v)).transpose()
    }

    /// Every case.
    pub fn cases(&self) -> Result<Vec<Case>, StoreError> {
        self.cases.iter().map(|e| decode(&e?.1)).collect()
    }

    /// Saves a case and indexes its submissions (take [`Store::lock_cases`] around it).
    pub fn save_case(&self, case: &Case) -> Result<(), StoreError> {
        (&self.cases, &self.case_of).transaction(|(cases, case_of)| {
            cases.insert(case.reference.as_bytes(), encode(case))?;
            for s in &case.submissions {
                case_of.insert(s.as_bytes(), case.reference.as_bytes())?;
            }
            Ok::<_, ConflictableTransactionError<StoreError>>(())
        })?;
        Ok(())
    }

    /// Appends to the audit trail.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let id = self.next_id()?;
        self.audit.insert(be(id), encode(entry))?;
        Ok(())
    }

    /// The audit trail, oldest first; of one case when `case` is given.
    pub fn audit_trail(&self, case: Option<&str>) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        for e in self.audit.iter() {
            let entry: AuditEntry = decode(&e?.1)?;
            if case.is_none() || entry.case.as_deref() == case {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// Releases every held message (drafted outcomes) to be sent; returns their ids.
    pub fn release_held(&self, now: i64) -> Result<Vec<u64>, StoreError> {
        let mut released = Vec::new();
        for item in self.outbox_items()? {
            if item.state == OutboxState::Held {
                let mut item = item;
                item.state = OutboxState::Pending;
                item.next_attempt_at = now;
                self.save_outbox(&item)?;
                released.push(item.id);
            }
        }
        Ok(released)
    }

    /// Queues a message that belongs to no submission (an alert, the digest) in the outbox.
    pub fn enqueue(&self, out: NewOutgoing, now: i64) -> Result<u64, StoreError> {
        self.enqueue_with_meta(out, now, &[])
    }

    /// Queues a message about a record (a panel email), remembering its Message-ID as ours
    /// so that answers to it thread back to the record; `held`: drafted, sent only when the
    /// team releases it ([`Store::release_held`]).
    pub fn queue_for_record(
        &self,
        out: NewOutgoing,
        record_id: Option<u64>,
        held: bool,
        now: i64,
    ) -> Result<u64, StoreError> {
        self.queue(out, record_id, held, now, &[])
    }

    /// The one way into the outbox: the message, its bytes, its place in the pending index
    /// (unless held), the record its Message-ID answers for, and `meta`, in one transaction.
    fn queue(
        &self,
        out: NewOutgoing,
        record_id: Option<u64>,
        held: bool,
        now: i64,
        meta: &[(&str, String)],
    ) -> Result<u64, StoreError> {
        let id = self.next_id()?;
        let state = if held {
            OutboxState::Held
        } else {
            OutboxState::Pending
        };
        let item = OutboxItem::new(id, &out, record_id, state, now);
        (
            &self.outbox,
            &self.outbox_bytes,
            &self.outbox_pending,
            &self.meta,
        )
            .transaction(|(outbox, bytes, pending, meta_tree)| {
                outbox.insert(&be(id), encode(&item))?;
                bytes.insert(&be(id), out.bytes.as_slice())?;
                if !held {
                    pending.insert(&be(id), &[])?;
                }
                if let Some(mid) = &out.message_id
                    && let Some(r) = record_id
                {
                    meta_tree.insert(format!("ours:{mid}").as_bytes(), &be(r))?;
                }
                for (k, v) in meta {
                    meta_tree.insert(k.as_bytes(), v.as_bytes())?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })?;
        Ok(id)
    }

    /// The reference the next submission would get (for rendering a reply before storing).
    pub fn peek_reference(&self, prefix: &str) -> Result<String, StoreError> {
        let next = self
            .meta
            .get(format!("ref:{prefix}"))?
            .and_then(|v| from_be(&v))
            .unwrap_or(0)
            + 1;
        Ok(format!("{prefix}-{next:04}"))
    }

    /// Outgoing messages whose next attempt is due, oldest first.
    pub fn due_outbox(&self, now: i64) -> Result<Vec<OutboxItem>, StoreError> {
        Ok(self
            .pending_outbox()?
            .into_iter()
            .filter(|item| item.next_attempt_at <= now)
            .collect())
    }

    /// When the next pending item falls due (None: nothing is pending).
    pub fn next_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .pending_outbox()?
            .iter()
            .map(|item| item.next_attempt_at)
            .min())
    }

    fn pending_outbox(&self) -> Result<Vec<OutboxItem>, StoreError> {
        let mut items = Vec::new();
        for entry in self.outbox_pending.iter() {
            let (k, _) = entry?;
            match self.outbox.get(&k)? {
                Some(v) => items.push(decode::<OutboxItem>(&v)?),
                None => {
                    self.outbox_pending.remove(&k)?;
                }
            }
        }
        Ok(items)
    }

    /// Every outbox item (for the digest, metrics and tests).
    pub fn outbox_items(&self) -> Result<Vec<OutboxItem>, StoreError> {
        self.outbox.iter().map(|e| decode(&e?.1)).collect()
    }

    /// Puts every message that could not be delivered back in line, due now with its attempts
    /// counted from zero (after the relay or an address was fixed). Returns their ids.
    pub fn retry_failed(&self, now: i64) -> Result<Vec<u64>, StoreError> {
        let mut ids = Vec::new();
        for mut item in self.outbox_items()? {
            if item.state != OutboxState::Failed || !self.outbox_bytes.contains_key(be(item.id))? {
                continue;
            }
            item.state = OutboxState::Pending;
            item.attempts = 0;
            item.next_attempt_at = now;
            self.save_outbox(&item)?;
            ids.push(item.id);
        }
        Ok(ids)
    }

    pub fn outbox_bytes(&self, id: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.outbox_bytes.get(be(id))?.map(|v| v.to_vec()))
    }

    pub fn save_outbox(&self, item: &OutboxItem) -> Result<(), StoreError> {
        (&self.outbox, &self.outbox_pending).transaction(|(outbox, pending)| {
            outbox.insert(&be(item.id), encode(item))?;
            if item.state == OutboxState::Pending {
                pending.insert(&be(item.id), &[])?;
            } else {
                pending.remove(&be(item.id))?;
            }
            Ok::<_, ConflictableTransactionError<StoreError>>(())
        })?;
        Ok(())
    }

    /// Every record (tests, the digest).
    pub fn records(&self) -> Result<Vec<Record>, StoreError> {
        self.records.iter().map(|e| decode(&e?.1)).collect()
    }

    /// Counts the replies sent to `sender` since `since` (unix seconds), and when `record` is
    /// true, records one more at `now`. Old entries are dropped as they age out.
    pub fn sender_replies(
        &self,
        sender: &str,
        since: i64,
        now: i64,
        record: bool,
    ) -> Result<usize, StoreError> {
        let key = sender.to_ascii_lowercase();
        let mut times: Vec<i64> = match self.sender_replies.get(&key)? {
            Some(v) => decode(&v)?,
            None => Vec::new(),
        };
        times.retain(|t| *t >= since);
        let count = times.len();
        if record {
            times.push(now);
        }
        self.sender_replies.insert(key.as_bytes(), encode(&times))?;
        Ok(count)
    }

    /// True when `message_id` is one of the messages we sent (an answer in our thread).
    pub fn is_ours(&self, message_id: &str) -> Result<bool, StoreError> {
        Ok(self.meta.contains_key(format!("ours:{message_id}"))?)
    }

    /// The record of a message we received with this Message-ID (a partnership's own earlier
    /// message, which a later one of theirs may answer).
    pub fn record_by_message_id(&self, message_id: &str) -> Result<Option<Record>, StoreError> {
        match self.by_message_id.get(message_id)? {
            Some(id) => self.record(from_be(&id).unwrap_or(0)),
            None => Ok(None),
        }
    }

    /// The submission quoted to a partnership under `reference` (the newest record with it).
    pub fn record_by_reference(&self, reference: &str) -> Result<Option<Record>, StoreError> {
        Ok(self
            .records()?
            .into_iter()
            .filter(|r| r.reference.as_deref() == Some(reference))
            .max_by_key(|r| r.id))
    }

    /// The record our message `message_id` answered (for a message in one of our threads).
    pub fn answered_by(&self, message_id: &str) -> Result<Option<Record>, StoreError> {
        match self.meta.get(format!("ours:{message_id}"))? {
            Some(v) => match from_be(&v) {
                Some(id) => self.record(id),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// The partnership's current (newest answered) submission.
    pub fn latest_submission(&self, partnership: &str) -> Result<Option<Record>, StoreError> {
        match self.meta.get(format!("latest:{partnership}"))? {
            Some(id) => self.record(from_be(&id).unwrap_or(0)),
            None => Ok(None),
        }
    }

    /// A small value in the meta tree (IMAP UIDVALIDITY and last UID, digest times).
    pub fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .meta
            .get(key)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.meta.insert(key, value.as_bytes())?;
        Ok(())
    }
}
