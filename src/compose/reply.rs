//! The auto-reply as a complete RFC 5322 message: threaded (In-Reply-To, References, "Re:"),
//! marked `Auto-Submitted: auto-replied` (RFC 3834) so well-behaved responders stay quiet, to
//! the sender (Reply-To first) with the partnership's other leads in Cc.

use super::view::CHART_CID;
use crate::domain::evaluation::Evaluation;
use crate::domain::round::Round;
use jiff::Timestamp;
use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Mailboxes, MultiPart, SinglePart, header};

/// What the reply needs besides the evaluation.
#[derive(Debug, Clone)]
pub struct ReplyParams<'a> {
    /// Our From: "Youth Justice SEND <youthjusticesend@example.org>".
    pub from: &'a str,
    /// The submission's reference (YJS-2018-0042).
    pub reference: &'a str,
    pub now: Timestamp,
    pub round: &'a Round,
    /// The identified partnership's leads (LA SEND and YOS), to copy in.
    pub leads: &'a [String],
    /// The earlier submission this one replaces, when it is a resubmission.
    pub replaces: Option<&'a str>,
    /// For evidence sent separately: the submission it was added to (`reference` is then that
    /// submission's reference, so the thread keeps one number).
    pub joins: Option<&'a str>,
    /// The partnership's initial benchmarking scores from the roster, if on record.
    pub baseline: Option<&'a crate::domain::statement::Scores>,
    /// The scores of the partnership's previous submission, on a resubmission.
    pub previous: Option<&'a std::collections::BTreeMap<String, u8>>,
    /// The grid template workbook to attach (for a reply about a missing grid to a known
    /// partnership: filled with their baseline).
    pub template: Option<&'a [u8]>,
    /// A reply sent again after the team corrected or re-read the message: it says so.
    pub revision: Revision,
    /// For a message joined to a submission: what it changed, one sentence each ("David
    /// Okafor confirmed the YOS sign-off", "Quality Mark: not complete yet → provisionally
    /// met"). Empty when nothing moved.
    pub changes: &'a [String],
    /// Evidence sent with an earlier version that still counts for this one ("KS8 case
    /// study.pdf (sent with YJS-2018-0003)").
    pub carried: &'a [String],
}

/// Why a reply is sent again for a message already answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Revision {
    /// The first reply.
    #[default]
    None,
    /// The team corrected the scores read from the grid.
    Corrected,
    /// The message was read again (after the roster or the reader was fixed).
    Reevaluated,
}

/// A built reply: its recipients and bytes.
#[derive(Debug, Clone)]
pub struct Reply {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub message_id: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("invalid address {0:?}: {1}")]
    Address(String, String),
    #[error("no address to reply to")]
    NoRecipient,
    #[error("failed to build the message: {0}")]
    Build(String),
    #[error("the wording templates failed: {0}")]
    Wording(#[from] super::wording::WordingError),
}

/// "Re: <theirs> [YJS-2018-0042]", without stacking "Re: Re:" or repeating the reference.
pub fn subject(theirs: Option<&str>, reference: &str) -> String {
    let theirs = theirs.map(str::trim).unwrap_or("");
    let base = if theirs.is_empty() {
        "Your submission".to_string()
    } else if theirs.to_ascii_lowercase().starts_with("re:") {
        theirs.to_string()
    } else {
        format!("Re: {theirs}")
    };
    let tag = format!("[{reference}]");
    if base.contains(&tag) {
        base
    } else {
        format!("{base} {tag}")
    }
}

/// The address a reply goes to: Reply-To when present, else From.
pub fn reply_address(e: &Evaluation) -> Vec<String> {
    if !e.envelope.reply_to.is_empty() {
        e.envelope.reply_to.clone()
    } else {
        e.from.iter().cloned().collect()
    }
}

/// "Grid template - Oxfordshire.xlsx".
fn template_file_name(e: &Evaluation) -> String {
    match &e.partnership {
        Some(p) => format!("Grid template - {}.xlsx", p.name),
        None => "Grid template.xlsx".to_string(),
    }
}

fn mailbox(addr: &str) -> Result<Mailbox, ComposeError> {
    addr.parse::<Mailbox>()
        .map_err(|err| ComposeError::Address(addr.to_string(), err.to_string()))
}

/// Builds the reply message: plain text and HTML alternatives from the wording templates, the
/// profile chart inline in the HTML (when a grid was read), and the grid template workbook
/// when one is given.
pub fn build(
    e: &Evaluation,
    p: &ReplyParams,
    wording: &super::wording::Wording,
) -> Result<Reply, ComposeError> {
    let to = reply_address(e);
    if to.is_empty() {
        return Err(ComposeError::NoRecipient);
    }
    let cc: Vec<String> = p
        .leads
        .iter()
        .filter(|l| !to.iter().any(|t| t.eq_ignore_ascii_case(l)))
        .cloned()
        .collect();
    let from = mailbox(p.from)?;
    let domain = from.email.domain().to_string();
    // Unique even for two replies in one second under the same reference.
    let message_id = format!(
        "<{}.{}.{:08x}@{}>",
        p.reference,
        p.now.as_second(),
        rand::random::<u32>(),
        domain
    );

    let mut to_boxes = Mailboxes::new();
    for t in &to {
        to_boxes.push(mailbox(t)?);
    }
    let mut builder = lettre::Message::builder()
        .from(from)
        .mailbox(header::To::from(to_boxes))
        .subject(subject(e.subject.as_deref(), p.reference))
        .message_id(Some(message_id.clone()))
        .date(std::time::SystemTime::from(p.now))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-replied".to_string(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
            "All".to_string(),
        ));
    if !cc.is_empty() {
        let mut cc_boxes = Mailboxes::new();
        for c in &cc {
            cc_boxes.push(mailbox(c)?);
        }
        builder = builder.mailbox(header::Cc::from(cc_boxes));
    }
    if let Some(mid) = &e.message_id {
        builder = builder.in_reply_to(mid.clone());
        let mut refs: Vec<String> = e.envelope.references.clone();
        if !refs.contains(mid) {
            refs.push(mid.clone());
        }
        builder = builder.references(refs.join(" "));
    }
    let chart = e.grid.as_ref().and_then(|g| {
        let title = match &e.partnership {
            Some(pr) => format!("{}: profile", pr.name),
            None => "Your profile".to_string(),
        };
        let baseline = p
            .baseline
            .or((!g.baseline.is_empty()).then_some(&g.baseline));
        super::chart::profile_png(&title, baseline, &g.scores)
            .map_err(|err| tracing::warn!(error = %err, "The profile chart was not drawn."))
            .ok()
    });
    let parts = super::view::Parts {
        chart: chart.is_some(),
        template: p.template.is_some(),
    };
    let view = super::view::reply(e, p, parts);
    let text = wording.render("reply.txt.j2", &view)?;
    let html = wording.render("reply.html.j2", &view)?;
    let html_part = SinglePart::html(html);
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(text))
        .multipart(match chart {
            Some(png) => MultiPart::related().singlepart(html_part).singlepart(
                Attachment::new_inline(CHART_CID.to_string())
                    .body(png, ContentType::parse("image/png").expect("a valid type")),
            ),
            None => MultiPart::related().singlepart(html_part),
        });
    let body = match p.template {
        Some(xlsx) => MultiPart::mixed().multipart(alternative).singlepart(
            Attachment::new(template_file_name(e)).body(
                xlsx.to_vec(),
                ContentType::parse(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
                .expect("a valid type"),
            ),
        ),
        None => alternative,
    };
    let message = builder
        .multipart(body)
        .map_err(|err| ComposeError::Build(err.to_string()))?;
    Ok(Reply {
        to,
        cc,
        message_id,
        bytes: message.formatted(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_thread_without_stacking() {
        assert_eq!(
            subject(Some("Grid"), "YJS-2018-0001"),
            "Re: Grid [YJS-2018-0001]"
        );
        assert_eq!(
            subject(Some("RE: Grid"), "YJS-2018-0001"),
            "RE: Grid [YJS-2018-0001]"
        );
        assert_eq!(
            subject(Some("Re: Grid [YJS-2018-0001]"), "YJS-2018-0001"),
            "Re: Grid [YJS-2018-0001]"
        );
        assert_eq!(
            subject(None, "YJS-2018-0002"),
            "Your submission [YJS-2018-0002]"
        );
    }
}
