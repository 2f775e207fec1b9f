//! The words of the auto-reply (plain text): what was read, where the partnership stands,
//! what is missing, and what happens next.

use super::reply::ReplyParams;
use crate::domain::eligibility::{Provisional, Verdict};
use crate::domain::evaluation::{Classification, Evaluation};
use crate::domain::problem::ProblemCode;
use crate::domain::statement::StatementId;
use std::fmt::Write;

fn verdict_line(name: &str, v: &Verdict) -> String {
    match v.provisional {
        Provisional::Eligible => format!("{name}: provisionally eligible"),
        Provisional::NotEligible => format!("{name}: not eligible on these scores"),
        Provisional::Incomplete => format!("{name}: not complete yet"),
    }
}

/// The one-line result the reply opens with.
fn headline(e: &Evaluation) -> String {
    if e.has_problem(ProblemCode::MessageTooLarge) {
        return "Your email was too large for us to read; please send it again in smaller parts."
            .into();
    }
    match e.classification {
        Classification::NoGrid => {
            "We received your email, but could not read a scoring grid from it.".into()
        }
        _ => match (e.quality_mark.provisional, e.quality_lead.provisional) {
            (_, Provisional::Eligible) => {
                "Thank you: your submission meets the Quality Lead criteria on a first reading.".into()
            }
            (Provisional::Eligible, _) => {
                "Thank you: your submission meets the Quality Mark criteria on a first reading.".into()
            }
            _ => "Thank you: we have received your submission; some things are still needed, listed below.".into(),
        },
    }
}

/// The reply to evidence sent after the grid: what was added to which submission.
fn render_added_evidence(e: &Evaluation, p: &ReplyParams, joins: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Thank you: we have added the evidence in this email to your submission {joins}.\n"
    );
    let _ = writeln!(s, "What you sent:");
    for item in &e.evidence {
        let _ = writeln!(
            s,
            "  - {}: {}",
            item.path,
            crate::cli::human::taken_as(&item.taken_as)
        );
    }
    let _ = writeln!(
        s,
        "\nThe panel will see it with your grid. To send more, reply to this email and keep {} in the subject.",
        p.reference
    );
    let _ = writeln!(
        s,
        "\nThis is an automatic acknowledgement.\nYouth Justice SEND project team"
    );
    s
}

/// Renders the reply body.
pub fn render(e: &Evaluation, p: &ReplyParams) -> String {
    if let Some(joins) = p.joins {
        return render_added_evidence(e, p, joins);
    }
    let mut s = String::new();
    let _ = writeln!(s, "{}\n", headline(e));
    let _ = writeln!(s, "Reference: {}", p.reference);
    if let Some(previous) = p.replaces {
        let _ = writeln!(s, "This submission replaces your earlier one, {previous}.");
    }
    if let Some(t) = e.received_at {
        let local = t.to_zoned(p.round.timezone.clone());
        let when = local.strftime("%-d %B %Y at %H:%M").to_string();
        if e.deadline.on_time == Some(false) {
            let _ = writeln!(
                s,
                "Received {when}, after the deadline. Late submissions and re-submissions are still considered."
            );
        } else {
            let _ = writeln!(s, "Received {when}, before the deadline.");
        }
    }
    if let Some(g) = &e.grid {
        let _ = writeln!(s, "\nThe scores we read from {}:", g.source);
        for id in StatementId::ALL {
            let score = g.scores.get(&id).map_or("-".to_string(), |v| v.to_string());
            let _ = writeln!(
                s,
                "  {:<4} {:>2}   {}",
                id.as_str(),
                score,
                id.short_title()
            );
        }
        let _ = writeln!(
            s,
            "If any of these is not what you meant, please reply and tell us."
        );
    }
    for (name, v) in [
        ("Quality Mark", &e.quality_mark),
        ("Quality Lead", &e.quality_lead),
    ] {
        let _ = writeln!(s, "\n{}", verdict_line(name, v));
        for r in &v.reasons {
            let _ = writeln!(s, "  - {r}");
        }
    }
    if !e.evidence.is_empty() {
        let _ = writeln!(s, "\nWhat you sent:");
        for item in &e.evidence {
            let _ = writeln!(
                s,
                "  - {}: {}",
                item.path,
                crate::cli::human::taken_as(&item.taken_as)
            );
        }
    }
    let notes: Vec<&str> = e
        .problems
        .iter()
        .filter(|p| {
            !matches!(
                p.code,
                ProblemCode::NoBaseline | ProblemCode::CaseStudyMissing
            )
        })
        .map(|p| p.detail.as_str())
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(s, "\nPlease note:");
        for n in notes {
            let _ = writeln!(s, "  - {n}");
        }
    }
    if e.classification == Classification::NoGrid {
        let _ = writeln!(
            s,
            "\nWe can read the grid from an Excel, LibreOffice or CSV spreadsheet, the Word summary sheet, a PDF with text, or scores typed in the email (for example \"Statement 4a: 7\", one per line)."
        );
    }
    let _ = writeln!(s, "\nNext steps:");
    if let Some(when) = &p.round.panel_meets {
        let _ = writeln!(s, "  - The panel meets {when} to look at the evidence.");
    }
    if let Some(by) = p.round.outcomes_by {
        let _ = writeln!(s, "  - Outcomes are sent by {}.", by.strftime("%-d %B %Y"));
    }
    if e.quality_lead.provisional != Provisional::NotEligible && e.grid.is_some() {
        let _ = writeln!(
            s,
            "  - A Quality Lead submission is verified by a conference call with a member of the project team, or a visit."
        );
    }
    let _ = writeln!(
        s,
        "  - To send more evidence or a corrected grid, reply to this email and keep {} in the subject.",
        p.reference
    );
    let _ = writeln!(
        s,
        "\nThis is an automatic acknowledgement; the verdicts above are provisional and the panel decides.\nYouth Justice SEND project team"
    );
    s
}
