//! The edges the pipeline talks through, defined by what it needs: a mailbox to take messages
//! from and a transport to send through. Each has two adapters (IMAP or a local Maildir; SMTP
//! or a folder of .eml files), so the embedded defaults double as test doubles.

use jiff::Timestamp;

/// Where a message sits in the mailbox, stable across restarts: the ledger's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageKey {
    /// An IMAP message: the folder's UIDVALIDITY and the message's UID.
    Imap { uidvalidity: u32, uid: u32 },
    /// A Maildir file's unique name (the part before `:2,`).
    Maildir { unique: String },
}

impl MessageKey {
    /// The ledger key: `imap:<uidvalidity>:<uid>` or `maildir:<unique>`.
    pub fn ledger_key(&self) -> String {
        match self {
            MessageKey::Imap { uidvalidity, uid } => format!("imap:{uidvalidity}:{uid}"),
            MessageKey::Maildir { unique } => format!("maildir:{unique}"),
        }
    }
}

/// A message as the mailbox holds it.
#[derive(Debug, Clone)]
pub struct RawMessage {
    pub key: MessageKey,
    /// The server's receipt time: IMAP INTERNALDATE, or the Maildir file's modification time.
    pub received_at: Timestamp,
    /// The message, possibly cut at the size limit (`truncated` says so).
    pub bytes: Vec<u8>,
    /// The full size as the mailbox reports it.
    pub size: u64,
}

/// Failures of a mailbox operation.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// Connection lost, timeout, server restart: reconnect and try again.
    #[error("mailbox unavailable: {0}")]
    Unavailable(String),
    /// Anything else (permissions, a missing folder that cannot be created).
    #[error("mailbox error: {0}")]
    Other(String),
}

/// The project's mailbox.
#[allow(async_fn_in_trait)]
pub trait Mailbox {
    /// The oldest `limit` messages in the intake folder (the ledger decides which are new;
    /// handled ones leave the folder, so the next call sees the next ones). Messages larger
    /// than `max_bytes` come cut at that size with their real `size`. The limit keeps memory
    /// bounded through a backlog of thousands.
    async fn list(&mut self, max_bytes: u64, limit: usize)
    -> Result<Vec<RawMessage>, MailboxError>;
    /// Moves handled messages to the processed folder (one command for many where the
    /// mailbox allows: a backlog moves in batches, not one round trip a message).
    async fn mark_processed(&mut self, keys: &[MessageKey]) -> Result<(), MailboxError>;
    /// Moves a message that keeps failing to the quarantine folder.
    async fn quarantine(&mut self, key: &MessageKey) -> Result<(), MailboxError>;
    /// How many messages the intake folder held at the last listing (for the digest's
    /// self-check: mail waiting against mail handled), when known.
    fn waiting(&self) -> Option<usize> {
        None
    }
    /// Waits until the folder may have changed, or `timeout` passes (IDLE, or a sleep).
    async fn wait(&mut self, timeout: std::time::Duration) -> Result<(), MailboxError>;
}

/// Why a send failed: the outbox retries transient failures and gives up on permanent ones.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("temporary failure: {0}")]
    Transient(String),
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// One outgoing message: envelope and the exact bytes (kept in the outbox, so a resend is the
/// same message with the same Message-ID).
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub id: u64,
    pub envelope_from: &'a str,
    pub recipients: &'a [String],
    pub bytes: &'a [u8],
}

/// The way out.
#[allow(async_fn_in_trait)]
pub trait Transport {
    async fn send(&self, message: Outgoing<'_>) -> Result<(), SendError>;
}
