//! A raw message to the facts the evaluation needs: addresses, ids, times, bodies, and every
//! attached file with containers unpacked (forwarded messages, zip, winmail.dat, .msg).

use super::authres::AuthVerdict;
use super::{Budget, Part};
use crate::domain::problem::Problem;
use jiff::Timestamp;

/// Everything read from the message itself.
#[derive(Debug, Clone, Default)]
pub struct MailFacts {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    /// Addresses, lower case.
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub sender: Option<String>,
    pub reply_to: Vec<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The date of the topmost `Received:` header (our own server's hop).
    pub received_header_at: Option<Timestamp>,
    /// The sender's `Date:`.
    pub date: Option<Timestamp>,
    /// Why the message is automatic (auto-reply, bounce, list, bulk), when it is.
    pub automatic: Option<String>,
    /// The trusted Authentication-Results verdict.
    pub auth: Option<AuthVerdict>,
    /// The text/plain body (decoded), or the text of the HTML body when there is no plain one.
    pub body_text: String,
    /// The text/html body, when there is one.
    pub body_html: Option<String>,
    /// Every attached file, containers unpacked, in message order.
    pub parts: Vec<Part>,
    /// Problems met unpacking (corrupt zip, decompression limit, too many parts …).
    pub problems: Vec<Problem>,
}

/// Reads a message. Never panics; a message mail-parser cannot make anything of gives `None`.
pub fn parse(
    raw: &[u8],
    budget: &mut Budget,
    trusted_authserv_id: Option<&str>,
) -> Option<MailFacts> {
    let _ = (raw, budget, trusted_authserv_id);
    None
}
