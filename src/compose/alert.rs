//! An alert to the project team: a short plain-text message about the service itself (intake
//! failing, the store failing), marked `Auto-Submitted: auto-generated` (RFC 3834).

use jiff::Timestamp;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, Mailboxes, SinglePart, header};

/// A built alert: its recipients, Message-ID and bytes.
#[derive(Debug, Clone)]
pub struct Alert {
    pub to: Vec<String>,
    pub message_id: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("no one to alert (alerts.to is empty)")]
    NoRecipient,
    #[error("invalid address {0:?}: {1}")]
    Address(String, String),
    #[error("failed to build the alert: {0}")]
    Build(String),
}

/// The head of a message to the team (an alert, the digest): From, To, Subject, a fresh
/// Message-ID (`<kind>.<time>.<random>@<our domain>`), Date, and `Auto-Submitted:
/// auto-generated`. Returns the builder and the Message-ID.
pub fn team_message(
    kind: &str,
    from: &str,
    to: &[String],
    subject: &str,
    now: Timestamp,
) -> Result<(lettre::message::MessageBuilder, String), AlertError> {
    if to.is_empty() {
        return Err(AlertError::NoRecipient);
    }
    let parse = |a: &str| {
        a.parse::<Mailbox>()
            .map_err(|e| AlertError::Address(a.to_string(), e.to_string()))
    };
    let from = parse(from)?;
    let message_id = format!(
        "<{kind}.{}.{:08x}@{}>",
        now.as_second(),
        rand::random::<u32>(),
        from.email.domain()
    );
    let mut boxes = Mailboxes::new();
    for t in to {
        boxes.push(parse(t)?);
    }
    let builder = lettre::Message::builder()
        .from(from)
        .mailbox(header::To::from(boxes))
        .subject(subject)
        .message_id(Some(message_id.clone()))
        .date(std::time::SystemTime::from(now))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_string(),
        ));
    Ok((builder, message_id))
}

/// Builds an alert from `from` to `to` with "[yjsend] " before the subject.
pub fn build(
    from: &str,
    to: &[String],
    subject: &str,
    body: &str,
    now: Timestamp,
) -> Result<Alert, AlertError> {
    let (builder, message_id) =
        team_message("alert", from, to, &format!("[yjsend] {subject}"), now)?;
    let message = builder
        .singlepart(SinglePart::plain(body.to_string()))
        .map_err(|e| AlertError::Build(e.to_string()))?;
    Ok(Alert {
        to: to.to_vec(),
        message_id,
        bytes: message.formatted(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_is_automatic_and_says_what_it_is() {
        let a = build(
            "Youth Justice SEND <yjs@example.org>",
            &["team@example.org".into()],
            "intake failing",
            "The mailbox has not answered for 31 minutes.",
            "2026-12-01T09:00:00Z".parse().unwrap(),
        )
        .unwrap();
        let text = String::from_utf8(a.bytes).unwrap();
        assert!(text.contains("Subject: [yjsend] intake failing"), "{text}");
        assert!(text.contains("Auto-Submitted: auto-generated"));
        assert!(text.contains("To: team@example.org"));
        assert!(text.contains("has not answered for 31 minutes"));
        assert!(a.message_id.ends_with("@example.org>"));
    }

    #[test]
    fn no_recipients_is_an_error_not_a_silent_drop() {
        let r = build("yjs@example.org", &[], "x", "y", Timestamp::UNIX_EPOCH);
        assert!(matches!(r, Err(AlertError::NoRecipient)));
    }
}
