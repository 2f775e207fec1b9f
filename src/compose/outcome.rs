//! The panel's emails to a partnership: the outcome of a decision (drafted when decided, sent
//! when the team releases them) and a request for more information (sent at once, threaded to
//! the submission so the answer comes back to the case).

use jiff::Timestamp;
use lettre::message::SinglePart;
use serde::Serialize;

/// What the outcome template can use.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeView {
    /// `quality_mark`, `quality_lead`, `not_yet`, `request_info`, `visit`.
    pub outcome: String,
    /// "Quality Mark", "Quality Lead" (the award, for an award).
    pub award: Option<String>,
    pub partnership: String,
    pub reference: String,
    pub round_name: String,
    /// Feedback (not yet), what is needed (request info), or the panel's notes.
    pub feedback: String,
    pub child_first: bool,
    /// The partnership already held a Quality Lead: this renews it.
    pub redesignation: bool,
    /// "16 March 2018".
    pub outcomes_by: Option<String>,
}

/// A built panel email.
#[derive(Debug, Clone)]
pub struct OutcomeMessage {
    pub message_id: String,
    pub to: Vec<String>,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum OutcomeError {
    #[error("the partnership has no lead addresses on the roster")]
    NoRecipient,
    #[error("invalid address {0:?}: {1}")]
    Address(String, String),
    #[error("failed to build the message: {0}")]
    Build(String),
    #[error(transparent)]
    Wording(#[from] super::wording::WordingError),
}

/// The subject: "Quality Lead: the panel's decision [YJS-2018-0042]".
pub fn subject(v: &OutcomeView) -> String {
    let what = match v.outcome.as_str() {
        "request_info" => "Your submission: the panel asks for more information".to_string(),
        "visit" => "Your Quality Lead submission: a verification visit".to_string(),
        "not_yet" => "Your submission: the panel's feedback".to_string(),
        _ => format!(
            "{}: the panel's decision",
            v.award.clone().unwrap_or_default()
        ),
    };
    format!("{what} [{}]", v.reference)
}

/// Builds the email to the partnership's leads, threaded to their submission.
pub fn build(
    v: &OutcomeView,
    from: &str,
    to: &[String],
    in_reply_to: Option<&str>,
    wording: &super::wording::Wording,
    now: Timestamp,
) -> Result<OutcomeMessage, OutcomeError> {
    let kind = format!("{}.{}", v.reference, v.outcome);
    let (mut builder, message_id) = super::alert::team_message(&kind, from, to, &subject(v), now)
        .map_err(|e| match e {
        super::alert::AlertError::NoRecipient => OutcomeError::NoRecipient,
        super::alert::AlertError::Address(a, m) => OutcomeError::Address(a, m),
        super::alert::AlertError::Build(m) => OutcomeError::Build(m),
    })?;
    let text = wording.render("outcome.txt.j2", v)?;
    if let Some(id) = in_reply_to {
        builder = builder
            .in_reply_to(id.to_string())
            .references(id.to_string());
    }
    let message = builder
        .singlepart(SinglePart::plain(text))
        .map_err(|e| OutcomeError::Build(e.to_string()))?;
    Ok(OutcomeMessage {
        message_id,
        to: to.to_vec(),
        bytes: message.formatted(),
    })
}
