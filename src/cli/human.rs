//! `yjsend check` without `--json`: a report a partnership lead could read.

use crate::config::Config;
use crate::domain::eligibility::{Provisional, Verdict};
use crate::domain::evaluation::{Classification, Evaluation};
use crate::domain::statement::StatementId;
use std::fmt::Write;

fn verdict_word(v: &Verdict) -> &'static str {
    match v.provisional {
        Provisional::Eligible => "provisionally eligible",
        Provisional::NotEligible => "not eligible yet",
        Provisional::Incomplete => "incomplete",
    }
}

fn local(t: jiff::Timestamp, config: &Config) -> String {
    t.to_zoned(config.round.timezone.clone())
        .strftime("%A %-d %B %Y, %H:%M:%S %Z")
        .to_string()
}

/// Renders one evaluation as plain text.
pub fn render(file: &str, e: &Evaluation, config: &Config) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{file}");
    let _ = writeln!(s, "{}", "=".repeat(file.chars().count().min(78)));
    let who = e
        .partnership
        .as_ref()
        .map(|p| p.name.as_str())
        .unwrap_or("an unknown partnership");
    let _ = writeln!(
        s,
        "From:        {} ({who})",
        e.from.as_deref().unwrap_or("no sender")
    );
    if let Some(subject) = &e.subject {
        let _ = writeln!(s, "Subject:     {subject}");
    }
    match e.received_at {
        Some(t) => {
            let when = if e.deadline.on_time == Some(true) {
                "on time"
            } else {
                "after the deadline (late submissions are still considered)"
            };
            let _ = writeln!(s, "Received:    {} — {when}", local(t, config));
        }
        None => {
            let _ = writeln!(s, "Received:    unknown (the message carries no date)");
        }
    }
    let kind = match e.classification {
        Classification::Submission => "a submission".to_string(),
        Classification::NoGrid => "no scoring grid could be read".to_string(),
        Classification::Automatic => format!(
            "automatic mail ({}), never answered",
            e.automatic_reason.as_deref().unwrap_or("automatic")
        ),
    };
    let _ = writeln!(s, "Taken as:    {kind}");

    if let Some(g) = &e.grid {
        let _ = writeln!(
            s,
            "\nScores read from {} ({}):",
            g.source,
            g.format.as_str()
        );
        // The baseline on record (the roster's), else the one the file shows, beside each
        // score, so a misread or an odd change stands out.
        let roster_baseline = e
            .partnership
            .as_ref()
            .and_then(|p| config.roster.get(&p.id))
            .and_then(|p| p.baseline.as_ref());
        let baseline = roster_baseline.or((!g.baseline.is_empty()).then_some(&g.baseline));
        if baseline.is_some() {
            let _ = writeln!(s, "  area score  baseline");
        }
        for id in StatementId::ALL {
            let score = g.scores.get(&id).map_or("—".to_string(), |v| v.to_string());
            let base = match baseline {
                Some(b) => format!(
                    "  {:>8}",
                    b.get(&id).map_or("—".to_string(), |v| v.to_string())
                ),
                None => String::new(),
            };
            let _ = writeln!(
                s,
                "  {:>4}  {:>4}{base}  {}",
                id.as_str(),
                score,
                id.short_title()
            );
        }
    }
    let _ = writeln!(
        s,
        "\nJoint sign-off: LA SEND lead {}, YOS lead {}{}",
        yes_no(e.signoff.la_send),
        yes_no(e.signoff.yos),
        if e.signoff.verified {
            " (verified)"
        } else {
            " (not verified)"
        }
    );
    for (name, v) in [
        ("Quality Mark", &e.quality_mark),
        ("Quality Lead", &e.quality_lead),
    ] {
        let _ = writeln!(s, "\n{name}: {}", verdict_word(v));
        for r in &v.reasons {
            let _ = writeln!(s, "  - {r}");
        }
    }
    if !e.evidence.is_empty() {
        let _ = writeln!(s, "\nAttachments:");
        for item in &e.evidence {
            let _ = writeln!(
                s,
                "  - {}: {}",
                item.path,
                crate::compose::view::taken_as(&item.taken_as)
            );
        }
    }
    if !e.problems.is_empty() {
        let _ = writeln!(s, "\nTo look at:");
        for p in &e.problems {
            let _ = writeln!(s, "  - [{}] {}", p.code, p.detail);
        }
    }
    s
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
