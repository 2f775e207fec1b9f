//! The one path from a message's bytes to an [`Evaluation`]: `yjsend check` and the daemon
//! both call [`evaluate`], so they cannot disagree.
//!
//! It reads no files, no clock and no network: the received time is an argument.

use crate::domain::case_study::{self, EvidenceKind};
use crate::domain::evaluation::{
    Classification, DeadlineStatus, Envelope, Evaluation, EvidenceItem, Grid, NOTE_CHARS,
    PartnershipRef, TakenAs,
};
use crate::domain::grid::{self, GridFormat, GridRead};
use crate::domain::problem::{Problem, ProblemCode};
use crate::domain::roster::Roster;
use crate::domain::round::Round;
use crate::domain::signoff;
use crate::domain::standing;
use crate::domain::statement::{Scores, StatementId};
use crate::extract::authres::AuthVerdict;
use crate::extract::message::{self, MailFacts};
use crate::extract::{Budget, FileKind, Limits, Part, file, html, links, text};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

/// What evaluation needs besides the message.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub round: &'a Round,
    pub roster: &'a Roster,
    pub trusted_authserv_id: Option<&'a str>,
    pub limits: Limits,
    /// Larger messages are not read (`message_too_large`); only their headers are.
    pub max_message_bytes: u64,
}

impl<'a> Settings<'a> {
    pub fn from_config(config: &'a crate::config::Config) -> Settings<'a> {
        Settings {
            round: &config.round,
            roster: &config.roster,
            trusted_authserv_id: config.trusted_authserv_id.as_deref(),
            limits: config.limits,
            max_message_bytes: config.max_message_bytes,
        }
    }
}

/// A body grid needs at least this many scored statements, so a sentence that mentions
/// "statement 8" is not taken for a grid.
const BODY_MIN_STATEMENTS: usize = 6;

/// Evaluates one message. `received_at` is the mailbox server's time (IMAP INTERNALDATE, a
/// Maildir file's mtime, or `--received-at`); when `None`, the topmost `Received:` header's
/// date is used, else `Date:`.
pub fn evaluate(raw: &[u8], received_at: Option<Timestamp>, settings: &Settings) -> Evaluation {
    let mut budget = Budget::new(settings.limits);
    let mut problems = Vec::new();
    let too_large = raw.len() as u64 > settings.max_message_bytes;
    // A header section of millions of lines costs the parser hundreds of bytes a line:
    // beyond what any mail client writes, only the standard fields are kept.
    let tamed = super::guards::tame(raw);
    if let std::borrow::Cow::Owned(_) = &tamed {
        problems.push(Problem::new(
            ProblemCode::MalformedMessage,
            "The email's header section was far larger than any mail program writes; only its standard fields were read.",
        ));
    }
    let raw: &[u8] = &tamed;
    let part_bomb = !too_large && super::guards::too_many_parts(raw);
    if part_bomb {
        problems.push(Problem::new(
            ProblemCode::MalformedMessage,
            format!(
                "The email is split into more than {} parts; only its header was read. Please send the grid and evidence in a few ordinary attachments.",
                super::guards::MAX_PARTS
            ),
        ));
    }
    if too_large {
        problems.push(Problem::new(
            ProblemCode::MessageTooLarge,
            format!(
                "The email is larger than {} MB, the most we can read.",
                mb(settings.max_message_bytes)
            ),
        ));
    }
    let facts = if too_large || part_bomb {
        message::parse(header_block(raw), &mut budget, settings.trusted_authserv_id)
    } else {
        message::parse(raw, &mut budget, settings.trusted_authserv_id)
    };
    let facts = facts.unwrap_or_else(|| {
        problems.push(Problem::new(
            ProblemCode::MalformedMessage,
            "The message could not be read as email.",
        ));
        MailFacts::default()
    });
    problems.extend(facts.problems.iter().cloned());

    let received_at = received_at
        .or(facts.received_header_at)
        .or(facts.date)
        .map(whole_seconds);
    let our_marker = format!("[{}-", settings.round.reference_prefix);

    let mut files = read_attachments(&facts.parts, &mut budget, &mut problems);
    let grid = choose_grid(&mut files, &facts, &our_marker, &mut problems);
    let evidence = link_evidence(&mut files);

    let addresses = all_addresses(&facts);
    let partnership = settings.roster.identify(&addresses, facts.from.as_deref());
    let dmarc_failed = facts.auth == Some(AuthVerdict::DmarcFail);
    let signoff = signoff::assess(partnership, &addresses, dmarc_failed);
    let automatic = facts.automatic.is_some();

    let classification = if automatic {
        Classification::Automatic
    } else if grid.is_some() {
        Classification::Submission
    } else {
        Classification::NoGrid
    };
    if grid.is_none()
        && !problems
            .iter()
            .any(|p| p.code == ProblemCode::AmbiguousGrid)
    {
        let detail = no_grid_detail(&files, &mut problems);
        problems.push(Problem::new(ProblemCode::NoGridFound, detail));
    }
    let own_words = own_words(&facts, &our_marker);
    shared_links(&own_words, &mut problems);
    if dmarc_failed {
        problems.push(Problem::new(
            ProblemCode::SenderAuthenticationFailed,
            format!(
                "Our mail server could not confirm that this email really came from {} (DMARC failed).",
                facts.from.as_deref().unwrap_or("the sender")
            ),
        ));
    }
    let standing = standing::derive(&standing::Facts {
        scores: grid.as_ref().map(|g| &g.scores),
        partnership,
        automatic,
        on_message: (signoff.la_send, signoff.yos),
        dmarc_failed,
        confirmed: &[],
        case_studies: &evidence.linked,
    });
    if partnership.is_none() && !automatic {
        problems.push(Problem::new(
            ProblemCode::UnknownPartnership,
            format!(
                "The sender {} is not a lead of any partnership on our list, and the domain is not one of theirs.",
                facts.from.as_deref().unwrap_or("(no From address)")
            ),
        ));
    }
    problems.extend(standing.partnership_problems);
    if let (Some(g), Some(base)) = (&grid, partnership.and_then(|p| p.baseline.as_ref())) {
        baseline_mismatch(g, base, &mut problems);
    }
    problems.extend(standing.quality_lead_problems);
    let (signoff, quality_mark, quality_lead) = (
        standing.signoff,
        standing.quality_mark,
        standing.quality_lead,
    );
    Evaluation {
        message_id: facts.message_id.clone(),
        subject: facts.subject.clone(),
        from: facts.from.clone(),
        envelope: Envelope {
            from_name: facts.from_name.clone(),
            sender: facts.sender.clone(),
            reply_to: facts.reply_to.clone(),
            to: facts.to.clone(),
            cc: facts.cc.clone(),
            in_reply_to: facts.in_reply_to.clone(),
            references: facts.references.clone(),
        },
        received_at,
        classification,
        automatic_reason: facts.automatic.clone(),
        partnership: partnership.map(|p| PartnershipRef {
            id: p.id.clone(),
            name: p.name.clone(),
        }),
        quality_mark,
        quality_lead,
        grid,
        case_studies: evidence.case_studies,
        case_studies_unlinked: evidence.unlinked,
        witness_testimonies: evidence.witness,
        evidence: files.iter().map(|f| f.item()).collect(),
        signoff,
        deadline: DeadlineStatus {
            at: settings.round.deadline,
            on_time: received_at.map(|t| settings.round.on_time(t)),
        },
        problems: dedupe(problems),
        note: own_words.chars().take(NOTE_CHARS).collect(),
    }
}

fn mb(bytes: u64) -> String {
    let v = bytes as f64 / (1024.0 * 1024.0);
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// The header section of a message (up to the first empty line), for oversized messages.
fn header_block(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
        .unwrap_or(raw.len().min(256 * 1024));
    &raw[..end.min(raw.len())]
}

/// From, Sender, Reply-To, To, Cc in the spec's order.
fn all_addresses(facts: &MailFacts) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(facts.from.iter().cloned());
    out.extend(facts.sender.iter().cloned());
    out.extend(facts.reply_to.iter().cloned());
    out.extend(facts.to.iter().cloned());
    out.extend(facts.cc.iter().cloned());
    out
}

/// One attached file as read.
struct ReadFile {
    path: String,
    name: String,
    kind: FileKind,
    bytes: u64,
    grid: Option<GridRead>,
    format: Option<GridFormat>,
    title: Option<String>,
    text: String,
    taken_as: TakenAs,
}

impl ReadFile {
    fn item(&self) -> EvidenceItem {
        EvidenceItem {
            path: self.path.clone(),
            bytes: self.bytes,
            taken_as: self.taken_as.clone(),
        }
    }
}

fn read_attachments(
    parts: &[Part],
    budget: &mut Budget,
    problems: &mut Vec<Problem>,
) -> Vec<ReadFile> {
    parts
        .iter()
        .map(|part| {
            let kind = file::sniff(&part.name, &part.content_type, &part.bytes);
            let content = file::read_file(part, kind, budget);
            let unreadable = !content.problems.is_empty();
            problems.extend(content.problems.iter().cloned());
            let mut grid = if content.tables.is_empty() {
                None
            } else {
                grid::read_tables(&content.tables, &part.path)
            };
            let mut format = content.format;
            if grid.is_none() && !content.text.is_empty() && grid_from_text_kind(kind) {
                grid = grid::read_text(&content.text, &part.path, BODY_MIN_STATEMENTS);
            }
            if grid.is_some() && format.is_none() {
                format = text_grid_format(kind);
            }
            ReadFile {
                path: part.path.clone(),
                name: part.name.clone(),
                kind,
                bytes: part.bytes.len() as u64,
                grid,
                format,
                title: content.title,
                text: content.text,
                taken_as: if unreadable {
                    TakenAs::Unreadable
                } else {
                    TakenAs::NotUsed
                },
            }
        })
        .collect()
}

/// Kinds whose plain text may carry a typed grid ("Statement 1: 7" in a PDF or Word file).
fn grid_from_text_kind(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::Pdf | FileKind::Docx | FileKind::Odt | FileKind::PlainText | FileKind::Rtf
    )
}

/// The `grid.format` word for a grid read from a document's text.
fn text_grid_format(kind: FileKind) -> Option<GridFormat> {
    match kind {
        FileKind::Pdf => Some(GridFormat::Pdf),
        FileKind::Docx => Some(GridFormat::Docx),
        FileKind::Html => Some(GridFormat::Html),
        FileKind::Csv => Some(GridFormat::Csv),
        _ => Some(GridFormat::Text),
    }
}

/// Attachments first (two that agree are one grid; two that disagree are `ambiguous_grid`),
/// then the body: an HTML table, then typed scores in the sender's own words.
fn choose_grid(
    files: &mut [ReadFile],
    facts: &MailFacts,
    our_marker: &str,
    problems: &mut Vec<Problem>,
) -> Option<Grid> {
    let found: Vec<usize> = (0..files.len())
        .filter(|&i| {
            files[i]
                .grid
                .as_ref()
                .is_some_and(|g| !g.scores.is_empty() || has_ambiguity(g))
        })
        .collect();
    if !found.is_empty() {
        return attachment_grid(files, &found, problems);
    }
    if let Some(html_body) = &facts.body_html {
        let own_html = html_body.as_str();
        let tables = html::tables(own_html);
        if let Some(read) = grid::read_tables(&tables, "body")
            && read.scores.len() >= BODY_MIN_STATEMENTS
        {
            return Some(into_grid("body".into(), GridFormat::Html, read, problems));
        }
    }
    let body = if facts.body_text.trim().is_empty() {
        facts
            .body_html
            .as_deref()
            .map(html::to_text)
            .unwrap_or_default()
    } else {
        facts.body_text.clone()
    };
    let own = text::own_words(&body, Some(our_marker));
    grid::read_text(&own, "body", BODY_MIN_STATEMENTS)
        .map(|read| into_grid("body".into(), GridFormat::Text, read, problems))
}

fn has_ambiguity(g: &GridRead) -> bool {
    g.problems
        .iter()
        .any(|p| p.code == ProblemCode::AmbiguousGrid)
}

fn attachment_grid(
    files: &mut [ReadFile],
    found: &[usize],
    problems: &mut Vec<Problem>,
) -> Option<Grid> {
    let first = found[0];
    let first_scores = files[first]
        .grid
        .as_ref()
        .map(|g| g.scores.clone())
        .unwrap_or_default();
    let conflicting: Vec<usize> = found[1..]
        .iter()
        .copied()
        .filter(|&i| files[i].grid.as_ref().map(|g| &g.scores) != Some(&first_scores))
        .collect();
    let inner_ambiguity = files[first].grid.as_ref().is_some_and(has_ambiguity);
    if !conflicting.is_empty() || inner_ambiguity {
        if let Some(g) = files[first].grid.as_ref() {
            problems.extend(
                g.problems
                    .iter()
                    .filter(|p| p.code == ProblemCode::AmbiguousGrid)
                    .cloned(),
            );
        }
        if !conflicting.is_empty() {
            let names: Vec<String> = found
                .iter()
                .map(|&i| format!("'{}'", files[i].path))
                .collect();
            problems.push(Problem::new(
                ProblemCode::AmbiguousGrid,
                format!(
                    "The grids in {} give different scores ({}), so we could not tell which one to use; please send just one.",
                    names.join(" and "),
                    first_difference(&first_scores, files[conflicting[0]].grid.as_ref().map(|g| &g.scores))
                ),
            ));
        }
        for &i in found {
            files[i].taken_as = TakenAs::GridConflicting;
        }
        return None;
    }
    for &i in &found[1..] {
        files[i].taken_as = TakenAs::GridDuplicate;
    }
    files[first].taken_as = TakenAs::Grid;
    let f = &mut files[first];
    let read = f.grid.take()?;
    let format = f.format.unwrap_or(GridFormat::Xlsx);
    Some(into_grid(f.path.clone(), format, read, problems))
}

fn first_difference(a: &Scores, b: Option<&Scores>) -> String {
    let empty = Scores::new();
    let b = b.unwrap_or(&empty);
    StatementId::ALL
        .into_iter()
        .find(|s| a.get(s) != b.get(s))
        .map(|s| {
            let show = |v: Option<&crate::domain::statement::Score>| {
                v.map(|x| x.to_string()).unwrap_or_else(|| "none".into())
            };
            format!("statement {s}: {} and {}", show(a.get(&s)), show(b.get(&s)))
        })
        .unwrap_or_else(|| "a statement differs".into())
}

fn into_grid(
    source: String,
    format: GridFormat,
    read: GridRead,
    problems: &mut Vec<Problem>,
) -> Grid {
    problems.extend(read.problems);
    Grid {
        source,
        format,
        scores: read.scores,
        baseline: read.baseline,
    }
}

/// The evidence found among the files that are not the grid.
struct Evidence {
    case_studies: BTreeMap<StatementId, Vec<String>>,
    linked: BTreeSet<StatementId>,
    unlinked: Vec<String>,
    witness: Vec<String>,
}

fn link_evidence(files: &mut [ReadFile]) -> Evidence {
    let mut ev = Evidence {
        case_studies: BTreeMap::new(),
        linked: BTreeSet::new(),
        unlinked: Vec::new(),
        witness: Vec::new(),
    };
    for f in files.iter_mut() {
        // A grid file is never a case study.
        if matches!(
            f.taken_as,
            TakenAs::Grid | TakenAs::GridDuplicate | TakenAs::GridConflicting
        ) {
            continue;
        }
        match case_study::classify(&f.name, f.title.as_deref(), &f.text) {
            EvidenceKind::CaseStudy(statements) => {
                for s in &statements {
                    ev.case_studies.entry(*s).or_default().push(f.name.clone());
                    ev.linked.insert(*s);
                }
                f.taken_as = TakenAs::CaseStudy(statements.into_iter().collect());
            }
            EvidenceKind::CaseStudyUnlinked => {
                ev.unlinked.push(f.name.clone());
                f.taken_as = TakenAs::CaseStudyUnlinked;
            }
            EvidenceKind::WitnessTestimony => {
                ev.witness.push(f.name.clone());
                f.taken_as = TakenAs::WitnessTestimony;
            }
            EvidenceKind::Other => {}
        }
    }
    ev
}

/// Inline pictures that mail programs add to signatures ("image001.png", "Outlook-abc.png"):
/// not a photo of the grid.
fn is_signature_image(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let stem = n.rsplit_once('.').map_or(n.as_str(), |(s, _)| s);
    (stem.starts_with("image") && stem[5..].chars().all(|c| c.is_ascii_digit()))
        || stem.starts_with("outlook-")
        || stem.contains("logo")
        || stem.contains("signature")
        || stem.contains("banner")
}

/// When no grid was read: a picture of it is `unreadable_document`; otherwise the detail
/// says what the email did carry.
fn no_grid_detail(files: &[ReadFile], problems: &mut Vec<Problem>) -> String {
    let pictures: Vec<&ReadFile> = files
        .iter()
        .filter(|f| f.kind == FileKind::Image && !is_signature_image(&f.name))
        .collect();
    for p in &pictures {
        problems.push(Problem::new(
            ProblemCode::UnreadableDocument,
            format!(
                "'{}' is a picture: if it is a photo or scan of the grid, we cannot read scores from it; please send the spreadsheet or Word form, or type the scores in the email.",
                p.path
            ),
        ));
    }
    if files.is_empty() {
        "No scoring grid was found: the email has no attachments and no scores in its text.".into()
    } else {
        let names: Vec<String> = files.iter().map(|f| format!("'{}'", f.path)).collect();
        format!(
            "No scoring grid was found in the attachments ({}) or in the text of the email.",
            names.join(", ")
        )
    }
}

/// What the sender wrote in the body, without quoted parts or our earlier replies.
fn own_words(facts: &MailFacts, our_marker: &str) -> String {
    let body = if facts.body_text.trim().is_empty() {
        facts
            .body_html
            .as_deref()
            .map(html::to_text)
            .unwrap_or_default()
    } else {
        facts.body_text.clone()
    };
    text::own_words(&body, Some(our_marker))
}

fn shared_links(own: &str, problems: &mut Vec<Problem>) {
    let found = links::share_links(own);
    if !found.is_empty() {
        problems.push(Problem::new(
            ProblemCode::LinkInsteadOfAttachment,
            format!(
                "The email links to {} instead of attaching the file; we cannot open shared links, so please attach the files to the email.",
                found.join(", ")
            ),
        ));
    }
}

fn baseline_mismatch(grid: &Grid, baseline: &Scores, problems: &mut Vec<Problem>) {
    let differ: Vec<String> = grid
        .baseline
        .iter()
        .filter_map(|(s, v)| match baseline.get(s) {
            Some(b) if b != v => Some(format!("{s}: {v} in the file, {b} on record")),
            _ => None,
        })
        .collect();
    if !differ.is_empty() {
        problems.push(Problem::new(
            ProblemCode::BaselineMismatch,
            format!(
                "The baseline column in '{}' differs from the initial benchmarking scores on record ({}); the scores on record are used.",
                grid.source,
                differ.join("; ")
            ),
        ));
    }
}

/// The same finding twice (two readers reporting one corrupt file) is shown once.
fn dedupe(problems: Vec<Problem>) -> Vec<Problem> {
    let mut seen = BTreeSet::new();
    problems
        .into_iter()
        .filter(|p| seen.insert((p.code, p.detail.clone())))
        .collect()
}
