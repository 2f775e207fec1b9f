//! The pipeline: the one evaluation shared by `check` and the daemon, and the daemon's steps
//! (intake, delivery) that join the mailbox, the store and the transport.

pub mod alert;
pub mod delivery;
pub mod digest;
pub mod evaluate;
pub mod follow_up;
pub mod guards;
pub mod intake;
pub mod panel;
pub mod ports;
pub mod reply_policy;
pub mod retention;
pub mod scheduler;
pub mod worker;

use crate::adapters::store::Store;
use crate::domain::roster::Roster;
use crate::domain::round::Round;
use crate::extract::Limits;

/// What the daemon's steps share.
pub struct Ctx {
    pub store: Store,
    /// The current round and roster: swapped whole when the configuration is reloaded, so
    /// a step sees one consistent version (`ctx.round.load()`).
    pub round: arc_swap::ArcSwap<Round>,
    pub roster: arc_swap::ArcSwap<Roster>,
    pub trusted_authserv_id: Option<String>,
    pub limits: Limits,
    pub max_message_bytes: u64,
    /// Seconds allowed to evaluate one message.
    pub message_seconds: u64,
    /// Our From header ("Youth Justice SEND <youthjusticesend@example.org>").
    pub from: String,
    /// Our own addresses, lower case: never answered.
    pub own_addresses: Vec<String>,
    /// Replies per sender within `window_hours` before we stop answering them.
    pub max_per_sender: usize,
    pub window_hours: i64,
    /// Evaluations started before a message is quarantined.
    pub max_attempts: u32,
    /// Evidence without a grid joins the partnership's current submission when it arrives
    /// within this many days of it (`replies.evidence_window_days`).
    pub evidence_window_days: i64,
    /// Who hears of the service's own failures (`alerts.to`; empty: no one, only the log).
    pub alerts_to: Vec<String>,
    /// How long the mailbox may keep failing before the team is alerted
    /// (`alerts.intake_failing_minutes`).
    pub intake_failing_after: std::time::Duration,
    /// The outbox's first retry delay in seconds (doubling, capped at an hour).
    pub retry_seconds: i64,
    /// Who gets the daily digest (`digest.to`; empty: no digest), and when (`digest.at`, in
    /// the round's time zone).
    pub digest_to: Vec<String>,
    pub digest_at: jiff::civil::Time,
    /// A file whose appearance asks the running daemon for a digest now (`yjsend digest
    /// --now` while the daemon holds the store).
    pub digest_request: Option<std::path::PathBuf>,
    /// When the OAuth2 client secret expires (`oauth2.client_secret_expires`), if known.
    pub secret_expires: Option<jiff::civil::Date>,
    /// Pipeline steps hold it shared; a backup holds it alone, so it sees no step half done.
    pub pause: tokio::sync::RwLock<()>,
    /// Wakes delivery when something is queued (by intake, the digest, the panel API).
    pub outbox_wake: tokio::sync::Notify,
    /// How long a panel member's claim on a case lasts untouched (`panel.claim_minutes`).
    pub claim_seconds: i64,
    /// The wording of replies and the digest (`config/templates/`, reloaded on change).
    pub wording: crate::compose::wording::Wording,
    /// Where evaluation runs.
    pub evaluator: Evaluator,
    /// Retention (`[retention]`); `None`: nothing is purged automatically.
    pub retention: Option<retention::Schedule>,
    /// Asks the daemon to stop and start itself again (after a retention purge, so that the
    /// store is rewritten before it carries on).
    pub restart: tokio::sync::Notify,
}

impl Ctx {
    /// Where a record stands now: derived from its facts against the live round and roster
    /// (see [`crate::domain::submission::Record::standing`]).
    pub fn standing(
        &self,
        record: &crate::domain::submission::Record,
    ) -> crate::domain::standing::Standing {
        let roster = self.roster.load();
        let round = self.round.load();
        record.standing(self.judge(&roster, &round))
    }

    /// The live round and roster as a [`crate::domain::submission::Judge`].
    pub fn judge<'a>(
        &self,
        roster: &'a Roster,
        round: &'a Round,
    ) -> crate::domain::submission::Judge<'a> {
        crate::domain::submission::Judge {
            roster,
            round: &round.reference_prefix,
        }
    }
}

/// Where messages are evaluated: in a worker process with limits (the daemon), or on a thread
/// of this process (tests, and where the binary cannot re-execute itself).
pub enum Evaluator {
    InProcess,
    Worker(Box<tokio::sync::Mutex<worker::Worker>>),
}

impl Ctx {
    pub fn settings<'a>(&'a self, round: &'a Round, roster: &'a Roster) -> evaluate::Settings<'a> {
        evaluate::Settings {
            round,
            roster,
            trusted_authserv_id: self.trusted_authserv_id.as_deref(),
            limits: self.limits,
            max_message_bytes: self.max_message_bytes,
        }
    }
}

/// What one step did: the run loop sleeps or waits for mail only after an idle step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    Idle,
    Worked(usize),
}
