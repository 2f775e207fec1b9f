//! The report for the funder (`yjsend report --xlsx`): one row per partnership with its
//! baseline and latest scores, the change in each area, the provisional verdicts and the
//! panel's outcome with dates; a sheet of every submission; a sheet of the audit trail.

use crate::adapters::store::AuditEntry;
use crate::domain::panel::case::Case;
use crate::domain::roster::Roster;
use crate::domain::statement::StatementId;
use crate::domain::submission::{Judge, Record};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// What the report is made from.
pub struct ReportInput<'a> {
    pub round_name: &'a str,
    pub roster: &'a Roster,
    /// Every record (the submissions are picked out).
    pub records: &'a [Record],
    pub cases: &'a [Case],
    pub audit: &'a [AuditEntry],
    /// Only this round's submissions and cases (`YJS-2018`); `None`: every round.
    pub round_prefix: Option<&'a str>,
    /// The live round's prefix: its records' verdicts are derived with `roster`, earlier
    /// rounds' keep the verdicts frozen when their round ended.
    pub live_round: &'a str,
}

fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn date(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Builds the workbook.
pub fn build(input: &ReportInput) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let judge = Judge {
        roster: input.roster,
        round: input.live_round,
    };
    let bold = Format::new().set_bold();
    let in_round = |reference: &str| {
        input
            .round_prefix
            .is_none_or(|p| reference.starts_with(&format!("{p}-")))
    };
    let submissions: Vec<&Record> = input
        .records
        .iter()
        .filter(|r| {
            r.is_submission()
                && r.reference.as_deref().is_some_and(in_round)
                && r.duplicate_of.is_none()
        })
        .collect();

    // Partnerships.
    let sheet = book.add_worksheet().set_name("Partnerships")?;
    sheet.write_string_with_format(0, 0, input.round_name, &bold)?;
    let mut headers = vec!["Partnership".to_string(), "Region".to_string()];
    for id in StatementId::ALL {
        headers.push(format!("{} baseline", id.as_str()));
        headers.push(format!("{} latest", id.as_str()));
        headers.push(format!("{} change", id.as_str()));
    }
    for h in [
        "Latest submission",
        "Received",
        "Quality Mark (provisional)",
        "Quality Lead (provisional)",
        "Panel outcome",
        "Commendation",
        "Decided by",
        "Decided on",
    ] {
        headers.push(h.to_string());
    }
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, h, &bold)?;
    }
    for (i, p) in input.roster.partnerships.iter().enumerate() {
        let row = 3 + i as u32;
        sheet.write_string(row, 0, &p.name)?;
        sheet.write_string(row, 1, p.region.as_deref().unwrap_or(""))?;
        let latest = submissions
            .iter()
            .filter(|r| r.partnership.as_deref() == Some(p.id.as_str()))
            .max_by_key(|r| r.id);
        let mut col = 2u16;
        for id in StatementId::ALL {
            let base = p
                .baseline
                .as_ref()
                .and_then(|b| b.get(&id))
                .map(|s| s.value());
            let now = latest.and_then(|r| r.scores.get(id.as_str()).copied());
            if let Some(b) = base {
                sheet.write_number(row, col, b as f64)?;
            }
            if let Some(n) = now {
                sheet.write_number(row, col + 1, n as f64)?;
            }
            if let (Some(b), Some(n)) = (base, now) {
                sheet.write_number(row, col + 2, n as f64 - b as f64)?;
            }
            col += 3;
        }
        if let Some(r) = latest {
            let standing = r.standing(judge);
            sheet.write_string(row, col, r.reference.as_deref().unwrap_or(""))?;
            sheet.write_string(row, col + 1, rfc3339(r.received_at))?;
            sheet.write_string(row, col + 2, standing.quality_mark.provisional.as_str())?;
            sheet.write_string(row, col + 3, standing.quality_lead.provisional.as_str())?;
        }
        let decision = input
            .cases
            .iter()
            .filter(|c| c.partnership == p.id && in_round(&c.reference))
            .flat_map(|c| c.decisions.iter())
            .filter(|d| d.outcome.is_final())
            .max_by_key(|d| d.at);
        if let Some(d) = decision {
            sheet.write_string(row, col + 4, d.outcome.as_str())?;
            if d.commendation.is_some() {
                sheet.write_string(row, col + 5, "Child First")?;
            }
            sheet.write_string(row, col + 6, &d.by)?;
            sheet.write_string(row, col + 7, date(d.at))?;
        }
    }

    // Every submission.
    let sheet = book.add_worksheet().set_name("Submissions")?;
    let mut headers = vec![
        "Reference",
        "Partnership",
        "From",
        "Received",
        "On time",
        "Sign-off verified",
        "Quality Mark",
        "Quality Lead",
    ];
    let ids: Vec<&str> = StatementId::ALL.iter().map(|s| s.as_str()).collect();
    headers.extend(ids.iter());
    headers.push("Problems");
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, r) in submissions.iter().enumerate() {
        let row = 1 + i as u32;
        sheet.write_string(row, 0, r.reference.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 1, r.partnership.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 2, r.from.as_deref().unwrap_or(""))?;
        let standing = r.standing(judge);
        sheet.write_string(row, 3, rfc3339(r.received_at))?;
        sheet.write_string(
            row,
            4,
            match r.on_time {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            },
        )?;
        let verified = standing.signoff.verified;
        sheet.write_string(row, 5, if verified { "yes" } else { "no" })?;
        sheet.write_string(row, 6, standing.quality_mark.provisional.as_str())?;
        sheet.write_string(row, 7, standing.quality_lead.provisional.as_str())?;
        for (k, id) in ids.iter().enumerate() {
            if let Some(v) = r.scores.get(*id) {
                sheet.write_number(row, 8 + k as u16, *v as f64)?;
            }
        }
        let problems: Vec<&str> = r
            .all_problems(&standing)
            .iter()
            .map(|p| p.code.as_str())
            .collect();
        sheet.write_string(row, 8 + ids.len() as u16, problems.join(", "))?;
    }

    // The audit trail.
    let sheet = book.add_worksheet().set_name("Audit trail")?;
    for (c, h) in ["When", "Who", "Action", "Case", "Detail"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let audit: Vec<&AuditEntry> = input
        .audit
        .iter()
        .filter(|a| a.case.as_deref().is_none_or(in_round))
        .collect();
    for (i, a) in audit.iter().enumerate() {
        let row = 1 + i as u32;
        sheet.write_string(row, 0, date(a.at))?;
        sheet.write_string(row, 1, &a.who)?;
        sheet.write_string(row, 2, &a.action)?;
        sheet.write_string(row, 3, a.case.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 4, &a.detail)?;
    }
    book.save_to_buffer()
}
