//! What comes after the first reply, on the real daemon and mail stack: the other lead's
//! confirmation (answering our reply, or the partnership's own message), a dispute, a case
//! study sent later in the thread, and a corrected grid that keeps the evidence sent before.
//! Each ends with the same verdict in the partnership's mail, the panel's case, the queue, the
//! funder report and the digest.
//!
//! Needs root and the stack's packages, like `daemon_imap.rs`.

#[path = "support/mailstack.rs"]
mod mailstack;
#[path = "support/panel_stack.rs"]
mod panel_stack;

use mailstack::MailStack;
use panel_stack::{Mail, Panel, eventually, fixture_attachment, replies, send};

const LA: &str = "send.lead@oxfordshire.example";
const YOS: &str = "yjs.manager@oxfordshire.example";

/// The LA SEND lead's grid, sent alone: the joint sign-off is missing.
fn grid_alone(message_id: &str) -> Vec<u8> {
    Mail {
        from: "Jane Carter <send.lead@oxfordshire.example>",
        cc: &[],
        subject: "Our rescore",
        message_id,
        in_reply_to: None,
        references: &[],
        text: "Our re-score is attached.\n\nJane",
        attachments: vec![(
            "Grid.xlsx".into(),
            fixture_attachment("035-one-lead-only.eml", "Grid.xlsx"),
        )],
    }
    .bytes()
}

/// The YOS lead writing in a thread.
fn yos_says(message_id: &str, in_reply_to: &str, references: &[&str], text: &str) -> Vec<u8> {
    Mail {
        from: "David Okafor <yjs.manager@oxfordshire.example>",
        cc: &[],
        subject: "RE: Our rescore [YJS-2018-0001]",
        message_id,
        in_reply_to: Some(in_reply_to),
        references,
        text,
        attachments: vec![],
    }
    .bytes()
}

/// The submission `reference` as the panel's case shows it: (Quality Mark, Quality Lead,
/// sign-off verified, problem codes).
fn case_verdict(panel: &Panel, reference: &str) -> (String, String, bool, Vec<String>) {
    let case = panel.json(&format!("/api/cases/{reference}"));
    let sub = case["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["reference"] == reference)
        .unwrap_or_else(|| panic!("{reference} in {case}"))
        .clone();
    (
        sub["quality_mark"].as_str().unwrap().to_string(),
        sub["quality_lead"].as_str().unwrap().to_string(),
        sub["signoff_verified"].as_bool().unwrap(),
        sub["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[0].as_str().unwrap().to_string())
            .collect(),
    )
}

/// The funder report's row for `reference` on its Submissions sheet, by column heading.
fn report_row(panel: &Panel, reference: &str) -> std::collections::BTreeMap<String, String> {
    use calamine::Reader;
    let (status, bytes) = panel.api("GET", "/api/report", "");
    assert_eq!(status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx report");
    let sheet = book.worksheet_range("Submissions").unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let row = rows
        .iter()
        .find(|r| r[0] == reference)
        .unwrap_or_else(|| panic!("{reference} in the report"));
    rows[0].iter().cloned().zip(row.iter().cloned()).collect()
}

#[test]
fn the_other_leads_confirmation_in_our_thread_completes_the_sign_off_everywhere() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let panel = Panel::start(&stack);
    send(&stack, LA, &grid_alone("<c1-grid@oxfordshire.example>"));
    let (ours, first, _) = eventually(30, "the first reply", || {
        replies(&stack, LA, "YJS-2018-0001").into_iter().next()
    });
    assert!(first.contains("QUALITY MARK: not complete yet"), "{first}");
    assert!(
        first.contains("[missing] Joint sign-off by the LA SEND lead and the YOS lead"),
        "{first}"
    );
    assert_eq!(
        case_verdict(&panel, "YJS-2018-0001").0,
        "incomplete",
        "before the confirmation"
    );

    send(
        &stack,
        YOS,
        &yos_says(
            "<c1-confirm@oxfordshire.example>",
            &ours,
            &["<c1-grid@oxfordshire.example>", &ours],
            "I confirm the YOS sign-off.\n\nDavid Okafor\nYOS Manager",
        ),
    );
    let (_, ack, raw) = eventually(30, "the acknowledgement", || {
        replies(&stack, YOS, "YJS-2018-0001")
            .into_iter()
            .find(|(_, text, _)| text.contains("confirmed the YOS sign-off"))
    });
    for want in [
        "David Okafor (yjs.manager@oxfordshire.example) confirmed the YOS sign-off.",
        "Quality Mark: not complete yet \u{2192} provisionally met",
        "WHERE YOUR SUBMISSION STANDS NOW",
        "QUALITY MARK: provisionally met",
    ] {
        assert!(ack.contains(want), "{want:?} not in:\n{ack}");
    }
    assert!(
        raw.contains("In-Reply-To: <c1-confirm@oxfordshire.example>"),
        "{raw}"
    );
    // Both leads have it: the confirming lead and the one who sent the grid.
    eventually(30, "the copy to the LA SEND lead", || {
        (replies(&stack, LA, "YJS-2018-0001").len() == 2).then_some(())
    });

    // The case, the queue, the report and the digest all say the same.
    let (qm, ql, verified, problems) = case_verdict(&panel, "YJS-2018-0001");
    assert_eq!(
        (qm.as_str(), ql.as_str(), verified),
        ("eligible", "not_eligible", true)
    );
    assert!(
        !problems.contains(&"signoff_missing".to_string()),
        "{problems:?}"
    );
    let queue = panel.json("/api/queue");
    let item = &queue.as_array().unwrap()[0];
    assert_eq!(item["quality_mark"], "eligible", "{queue}");
    assert_eq!(item["signoff_verified"], true, "{queue}");
    let row = report_row(&panel, "YJS-2018-0001");
    assert_eq!(row["Sign-off verified"], "yes", "{row:?}");
    assert_eq!(row["Quality Mark"], "eligible", "{row:?}");
    assert!(!row["Problems"].contains("signoff_missing"), "{row:?}");
    let (status, _) = panel.api("POST", "/api/digest", "{}");
    assert_eq!(status, 200);
    let digest = eventually(30, "the digest", || {
        stack
            .fetch_all("projectteam@example.org", "INBOX")
            .ok()?
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).replace("=\r\n", ""))
            .find(|m| m.contains("YJS-2018-0001"))
    });
    assert!(
        digest.contains("Quality Mark: eligible; Quality Lead: not eligible; sign-off: verified"),
        "{digest}"
    );
    assert!(!digest.contains("signoff_missing"), "{digest}");
}

#[test]
fn a_confirmation_answering_the_partnerships_own_message_joins_it_and_a_dispute_confirms_nothing() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let panel = Panel::start(&stack);
    send(&stack, LA, &grid_alone("<c2-grid@oxfordshire.example>"));
    eventually(30, "the first reply", || {
        replies(&stack, LA, "YJS-2018-0001").into_iter().next()
    });
    // The YOS lead answers the LA lead's own message, not ours: first to dispute, then to
    // confirm.
    send(
        &stack,
        YOS,
        &yos_says(
            "<c2-dispute@oxfordshire.example>",
            "<c2-grid@oxfordshire.example>",
            &["<c2-grid@oxfordshire.example>"],
            "I do not agree these scores: 4a should be a 5.",
        ),
    );
    eventually(30, "the dispute filed", || {
        stack
            .fetch_all("youthjusticesend", "Processed")
            .ok()
            .filter(|p| p.len() == 2)
    });
    let (status, _) = panel.api("GET", "/api/cases/YJS-2018-0002", "");
    assert_eq!(status, 404, "a dispute opens no new reference");
    assert_eq!(case_verdict(&panel, "YJS-2018-0001").0, "incomplete");
    send(
        &stack,
        YOS,
        &yos_says(
            "<c2-confirm@oxfordshire.example>",
            "<c2-grid@oxfordshire.example>",
            &["<c2-grid@oxfordshire.example>"],
            "Sorry, my mistake earlier: I confirm the YOS sign-off.",
        ),
    );
    eventually(30, "the acknowledgement", || {
        replies(&stack, YOS, "YJS-2018-0001")
            .into_iter()
            .find(|(_, text, _)| text.contains("confirmed the YOS sign-off"))
    });
    let (qm, _, verified, _) = case_verdict(&panel, "YJS-2018-0001");
    assert_eq!((qm.as_str(), verified), ("eligible", true));
    // The first reply's copy and the acknowledgement: nothing for the dispute, and never a
    // "we could not read a grid" under a new reference.
    let all: Vec<String> = stack
        .fetch_all(YOS, "INBOX")
        .unwrap()
        .into_iter()
        .map(|m| String::from_utf8_lossy(&m).into_owned())
        .collect();
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(!all.iter().any(|m| m.contains("YJS-2018-0002")));
}

#[test]
fn a_case_study_in_the_thread_moves_the_quality_lead_and_a_corrected_grid_keeps_it() {
    let Some(stack) = MailStack::start() else {
        return;
    };
    let panel = Panel::start(&stack);
    let lead = "send.lead@swindon.example";
    let raw = std::fs::read(panel_stack::root().join("fixtures/eml/048-ql-case-study-missing.eml"))
        .unwrap();
    send(&stack, lead, &raw);
    let (ours, first, _) = eventually(30, "the first reply", || {
        replies(&stack, lead, "YJS-2018-0001").into_iter().next()
    });
    assert!(first.contains("QUALITY LEAD: not complete yet"), "{first}");

    let case_study = Mail {
        from: "Priya Shah <send.lead@swindon.example>",
        cc: &["Tom Reid <yjs.manager@swindon.example>"],
        subject: "Re: Re-score grid [YJS-2018-0001]",
        message_id: "<k8@swindon.example>",
        in_reply_to: Some(&ours),
        references: &[&ours],
        text: "Here is the case study for statement 8.\n\nPriya",
        attachments: vec![(
            "KS8 case study.pdf".into(),
            fixture_attachment("047-ql-eligible.eml", "KS8 case study.pdf"),
        )],
    };
    send(&stack, lead, &case_study.bytes());
    let (_, ack, _) = eventually(30, "the acknowledgement", || {
        replies(&stack, lead, "YJS-2018-0001")
            .into_iter()
            .find(|(_, text, _)| text.contains("What this email carries"))
    });
    for want in [
        "A case study for statement 8 was added (KS8 case study.pdf).",
        "Quality Lead: not complete yet \u{2192} provisionally met",
        "KS8 case study.pdf: a case study for statement 8",
        "QUALITY LEAD: provisionally met",
    ] {
        assert!(ack.contains(want), "{want:?} not in:\n{ack}");
    }
    assert_eq!(case_verdict(&panel, "YJS-2018-0001").1, "eligible");

    // A corrected grid on its own: the case studies sent before still count.
    let corrected = Mail {
        from: "Priya Shah <send.lead@swindon.example>",
        cc: &["Tom Reid <yjs.manager@swindon.example>"],
        subject: "Corrected grid",
        message_id: "<v2@swindon.example>",
        in_reply_to: None,
        references: &[],
        text: "A corrected grid is attached.",
        attachments: vec![(
            "Grid.xlsx".into(),
            fixture_attachment("048-ql-case-study-missing.eml", "Grid.xlsx"),
        )],
    };
    send(&stack, lead, &corrected.bytes());
    let (_, second, _) = eventually(30, "the reply to the corrected grid", || {
        replies(&stack, lead, "YJS-2018-0002").into_iter().next()
    });
    for want in [
        "This submission replaces your earlier one, YJS-2018-0001.",
        "QUALITY LEAD: provisionally met",
        "ALSO COUNTED FROM YOUR EARLIER SUBMISSION",
        "KS8 case study.pdf (sent with YJS-2018-0001)",
        "Case study - statement 5.docx (sent with YJS-2018-0001)",
    ] {
        assert!(second.contains(want), "{want:?} not in:\n{second}");
    }
    assert_eq!(case_verdict(&panel, "YJS-2018-0002").1, "eligible");
}
