//! A raw message to the facts the evaluation needs: addresses, ids, times, bodies, and every
//! attached file with containers unpacked (forwarded messages, zip, winmail.dat, .msg).
//!
//! mail-parser does the MIME work (nested multiparts, RFC 2047/2231 names, legacy charsets);
//! this module decides what counts as an attachment, names files that came without a name,
//! and opens the containers Outlook and people wrap files in.

use super::authres::{self, AuthVerdict};
use super::{Budget, FileKind, Part, archive, automatic, file, msg, tnef};
use crate::domain::problem::{Problem, ProblemCode};
use jiff::Timestamp;
use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};

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
    let message = MessageParser::default().parse(raw)?;
    if message.headers().is_empty() {
        return None;
    }
    let headers: Vec<(String, String)> = message
        .headers_raw()
        .map(|(n, v)| (n.to_string(), unfold(v)))
        .collect();
    let from_addr = message.from().and_then(Address::first);
    let from = from_addr.and_then(|a| a.address()).map(lower);
    let content_type = message
        .content_type()
        .map(|ct| {
            format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()).to_ascii_lowercase()
        })
        .unwrap_or_else(|| "text/plain".into());
    let auth_headers: Vec<String> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, v)| v.clone())
        .collect();
    let mut facts = MailFacts {
        message_id: message.message_id().map(|id| format!("<{id}>")),
        subject: message.subject().map(str::to_string),
        from_name: from_addr
            .and_then(|a| a.name())
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        sender: message
            .sender()
            .and_then(Address::first)
            .and_then(|a| a.address())
            .map(lower),
        reply_to: addresses(message.reply_to()),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        received_header_at: message
            .received_all()
            .next()
            .and_then(|r| r.date.as_ref())
            .and_then(|d| Timestamp::from_second(d.to_timestamp()).ok()),
        date: message
            .date()
            .and_then(|d| Timestamp::from_second(d.to_timestamp()).ok()),
        automatic: automatic::reason(&headers, from.as_deref(), &content_type),
        auth: Some(authres::verdict(&auth_headers, trusted_authserv_id)),
        from,
        ..MailFacts::default()
    };
    bodies(&message, &mut facts);
    let mut walker = Walker {
        budget,
        parts: Vec::new(),
        problems: Vec::new(),
        unnamed: 0,
    };
    walker.message(&message, "", 0);
    facts.parts = walker.parts;
    facts.problems = walker.problems;
    Some(facts)
}

fn lower(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// Raw header values keep their folding; the readers of raw headers want one line.
fn unfold(v: &str) -> String {
    v.split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn addresses(a: Option<&Address>) -> Vec<String> {
    a.map(|a| a.iter().filter_map(|x| x.address()).map(lower).collect())
        .unwrap_or_default()
}

fn ids(v: &HeaderValue) -> Vec<String> {
    let list: Vec<String> = match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    list.into_iter().map(|id| format!("<{id}>")).collect()
}

/// The first text and HTML bodies, only where the sender really wrote them (mail-parser
/// converts one into the other when a part is missing; a converted body is not a real one).
fn bodies(message: &Message, facts: &mut MailFacts) {
    let real_html = message
        .html_part(0)
        .is_some_and(|p| matches!(p.body, PartType::Html(_)));
    let real_text = message
        .text_part(0)
        .is_some_and(|p| matches!(p.body, PartType::Text(_)));
    if real_html {
        facts.body_html = message.body_html(0).map(|b| b.into_owned());
    }
    if real_text {
        facts.body_text = match message.text_part(0) {
            // Base64 the parser refused (a stray character): kept undecoded by it.
            Some(p) if p.is_encoding_problem && is_base64(p) => {
                String::from_utf8_lossy(&lenient_base64(p.contents())).into_owned()
            }
            _ => message
                .body_text(0)
                .map(|b| b.into_owned())
                .unwrap_or_default(),
        };
    }
}

fn is_base64(part: &mail_parser::MessagePart) -> bool {
    part.content_transfer_encoding()
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"))
}

struct Walker<'b> {
    budget: &'b mut Budget,
    parts: Vec<Part>,
    problems: Vec<Problem>,
    unnamed: usize,
}

impl Walker<'_> {
    fn message(&mut self, message: &Message, prefix: &str, depth: u32) {
        for part in message.attachments() {
            if self.parts.len() >= self.budget.limits.max_parts {
                self.problems.push(Problem::new(
                    ProblemCode::DecompressionLimit,
                    format!(
                        "The email carries more than {} files; the rest were not read.",
                        self.budget.limits.max_parts
                    ),
                ));
                return;
            }
            match &part.body {
                PartType::Message(inner) => {
                    if depth >= self.budget.limits.max_depth {
                        self.too_deep();
                        continue;
                    }
                    let subject = inner
                        .subject()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "forwarded message".into());
                    let inner_prefix = format!("{prefix}{}/", subject.replace('/', "-"));
                    self.message(inner, &inner_prefix, depth + 1);
                }
                PartType::Multipart(_) => {}
                _ => {
                    let content_type = part
                        .content_type()
                        .map(|ct| {
                            format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
                                .to_ascii_lowercase()
                        })
                        .unwrap_or_else(|| "application/octet-stream".into());
                    let name = match part.attachment_name() {
                        Some(n) if !n.trim().is_empty() => clean_name(n),
                        _ => self.invent_name(&content_type),
                    };
                    let bytes = if part.is_encoding_problem && is_base64(part) {
                        lenient_base64(part.contents())
                    } else {
                        part.contents().to_vec()
                    };
                    self.file(
                        Part {
                            path: format!("{prefix}{name}"),
                            name,
                            content_type,
                            bytes,
                        },
                        depth,
                    );
                }
            }
        }
    }

    fn invent_name(&mut self, content_type: &str) -> String {
        self.unnamed += 1;
        let ext = match content_type {
            "image/png" => "png",
            "image/jpeg" | "image/jpg" => "jpg",
            "image/gif" => "gif",
            "application/pdf" => "pdf",
            "text/plain" => "txt",
            "text/html" => "html",
            "text/csv" => "csv",
            "message/rfc822" => "eml",
            "application/ms-tnef" | "application/vnd.ms-tnef" => "dat",
            _ => "bin",
        };
        format!("attachment {}.{ext}", self.unnamed)
    }

    /// A file: opened when it is a container, kept as a part otherwise.
    fn file(&mut self, part: Part, depth: u32) {
        let kind = file::sniff(&part.name, &part.content_type, &part.bytes);
        let prefix = format!("{}/", part.path);
        let unpacked = match kind {
            FileKind::Zip => Some(archive::unpack_zip(&prefix, &part.bytes, self.budget)),
            FileKind::Tnef => Some(tnef::unpack(&prefix, &part.bytes, self.budget)),
            FileKind::OutlookMsg => Some(msg::unpack(&prefix, &part.bytes, self.budget)),
            FileKind::Eml if depth >= self.budget.limits.max_depth => {
                self.too_deep();
                None
            }
            FileKind::Eml => {
                if let Some(inner) = MessageParser::default().parse(&part.bytes[..]) {
                    self.message(&inner, &prefix, depth + 1);
                    return;
                }
                None
            }
            _ => None,
        };
        let Some((inner, problems)) = unpacked else {
            self.parts.push(part);
            return;
        };
        let failed = !problems.is_empty() && inner.is_empty();
        self.problems.extend(problems);
        if failed {
            // Keep the container itself so the evidence list shows what could not be opened.
            self.parts.push(part);
            return;
        }
        for p in inner {
            if self.parts.len() >= self.budget.limits.max_parts {
                break;
            }
            if depth + 1 < self.budget.limits.max_depth {
                self.file(p, depth + 1);
            } else {
                // Listed, not opened.
                self.too_deep();
                self.parts.push(p);
            }
        }
    }

    /// Says once that something was nested too deep to open (an archive in an archive in …,
    /// or forwarded messages within forwarded messages): a cap, not a silent gap.
    fn too_deep(&mut self) {
        let said = self
            .problems
            .iter()
            .any(|p| p.code == ProblemCode::DecompressionLimit && p.detail.contains("nested"));
        if !said {
            self.problems.push(Problem::new(
                ProblemCode::DecompressionLimit,
                format!(
                    "Some files were nested more than {} deep (an attachment inside an attachment inside …) and were not opened; please send them directly.",
                    self.budget.limits.max_depth
                ),
            ));
        }
    }
}

/// Base64 that the MIME parser refused (it then keeps the text undecoded): a stray character
/// from a mail gateway or a hand-edited message. Everything outside the alphabet is skipped
/// and padding is not insisted on, as most mail clients do; text that still does not decode
/// is kept as it was.
fn lenient_base64(text: &[u8]) -> Vec<u8> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let mut clean: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    if clean.len() % 4 == 1 {
        // One lone character cannot carry a byte.
        clean.pop();
    }
    LENIENT.decode(&clean).unwrap_or_else(|_| text.to_vec())
}

/// File names as people see them: no folders, no control characters.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests;
