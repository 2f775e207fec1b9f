//! What the daily triage digest says, as plain values for `digest.txt.j2` and
//! `digest.html.j2`: where every partnership stands, what needs a person, whether the service
//! itself is healthy, and who has not sent anything yet.

use serde::Serialize;

/// Everything a digest template can use.
#[derive(Debug, Clone, Serialize)]
pub struct DigestView {
    pub round_name: String,
    /// "Tuesday 20 February 2018".
    pub date: String,
    /// "23 February 2018 at 23:59".
    pub deadline: String,
    /// Whole days until the deadline (negative after it).
    pub days_to_deadline: i64,
    pub counts: Counts,
    /// Submissions since the last digest, newest first.
    pub submissions: Vec<SubmissionLine>,
    /// What a person should look at, each with its reference where it has one.
    pub attention: Vec<AttentionLine>,
    pub self_check: SelfCheck,
    /// Roster partnerships with no submission yet.
    pub chase: Vec<String>,
    /// Quality Leads due for redesignation (about three years after the award), soonest
    /// first: "Swindon: Quality Lead since 1 July 2017, due July 2020".
    pub redesignation: Vec<String>,
}

/// Counts over the round so far (current submissions, one per partnership).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub partnerships: usize,
    pub received: usize,
    pub quality_mark: usize,
    pub quality_lead: usize,
    pub incomplete: usize,
    pub late: usize,
    pub attention: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubmissionLine {
    pub reference: String,
    pub partnership: String,
    /// "20 Feb 10:04".
    pub received: String,
    /// "eligible", "not eligible", "incomplete".
    pub quality_mark: String,
    pub quality_lead: String,
    pub signoff: bool,
    pub on_time: Option<bool>,
    /// Problem codes, for the team ("statement_missing, case_study_missing").
    pub problems: Vec<String>,
    /// Replaces an earlier submission.
    pub replaces: Option<String>,
    /// Content-ID of its profile chart in the HTML digest, when drawn.
    pub chart_cid: Option<String>,
    /// The partnership holds a Quality Lead: this is its redesignation.
    #[serde(default)]
    pub redesignation: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttentionLine {
    pub reference: Option<String>,
    /// "No readable grid", "Unknown sender", "Quarantined", "Reply not delivered", …
    pub what: String,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub detail: String,
}

/// The service's own health: silent failure is what users of mail-intake tools fear most.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SelfCheck {
    /// When the mailbox was last read successfully ("1 December 2026 at 07:59"), if ever.
    pub mailbox_last_ok: Option<String>,
    /// Messages waiting in the mailbox's intake folder, when it could be counted.
    pub mailbox_waiting: Option<usize>,
    /// Messages in the ledger (everything ever handled).
    pub ledger: usize,
    /// Replies waiting in the outbox, and those that failed for good.
    pub outbox_pending: usize,
    pub outbox_failed: usize,
    /// When the mailbox credentials expire (OAuth2), if known.
    pub credentials_expire: Option<String>,
    /// How long personal data is kept, and the last purge ("24 months after a round closes;
    /// last purge 1 December 2026 at 03:00, 3 records"), or that nothing is purged.
    pub retention: String,
    /// One line of the overall state: "All well" or what is wrong.
    pub summary: String,
}

/// A built digest message.
#[derive(Debug, Clone)]
pub struct DigestMessage {
    pub message_id: String,
    pub bytes: Vec<u8>,
}

/// Builds the digest: plain text and HTML alternatives, with the profile charts of new
/// submissions inline in the HTML (`charts`: Content-ID and PNG).
pub fn message(
    from: &str,
    to: &[String],
    subject: &str,
    text: String,
    html: String,
    charts: Vec<(String, Vec<u8>)>,
    now: jiff::Timestamp,
) -> Result<DigestMessage, super::alert::AlertError> {
    use super::alert::AlertError;
    use lettre::message::header::ContentType;
    use lettre::message::{Attachment, MultiPart, SinglePart};
    let (builder, message_id) = super::alert::team_message("digest", from, to, subject, now)?;
    let mut related = MultiPart::related().singlepart(SinglePart::html(html));
    for (cid, png) in charts {
        related = related.singlepart(
            Attachment::new_inline(cid)
                .body(png, ContentType::parse("image/png").expect("a valid type")),
        );
    }
    let body = MultiPart::alternative()
        .singlepart(SinglePart::plain(text))
        .multipart(related);
    let message = builder
        .multipart(body)
        .map_err(|e| AlertError::Build(e.to_string()))?;
    Ok(DigestMessage {
        message_id,
        bytes: message.formatted(),
    })
}
