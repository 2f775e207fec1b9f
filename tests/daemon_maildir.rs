//! The daemon's steps on the embedded default: a Maildir in, a folder of .eml files out, a
//! real sled store. Covers the order of effects (stored → evaluated → reply queued → moved),
//! threading, never answering twice, automatic mail, the per-sender cap, and recovery of a
//! message whose evaluation was interrupted.

use std::path::{Path, PathBuf};
use yjsend::adapters::dir::DirTransport;
use yjsend::adapters::maildir::Maildir;
use yjsend::adapters::store::{OutboxState, RecordState, Store};
use yjsend::domain::eligibility::Provisional;
use yjsend::domain::evaluation::Classification;
use yjsend::domain::roster::{Partnership, Roster};
use yjsend::domain::round::Round;
use yjsend::domain::statement::{Score, StatementId};
use yjsend::domain::submission::JoinKind;
use yjsend::extract::Limits;
use yjsend::pipeline::{Ctx, Tick, delivery, intake};

struct App {
    _dir: tempfile::TempDir,
    inbox: PathBuf,
    outbox: PathBuf,
    store_path: PathBuf,
    ctx: Ctx,
    mailbox: Maildir,
    transport: DirTransport,
}

fn round() -> Round {
    let tz = jiff::tz::TimeZone::get("Europe/London").unwrap();
    Round {
        name: "Quality Mark and Quality Lead 2018".into(),
        reference_prefix: "YJS-2018".into(),
        deadline: Round::resolve_deadline("2018-02-23T23:59:59".parse().unwrap(), &tz).unwrap(),
        timezone: tz,
        panel_meets: Some("late February to early March 2018".into()),
        outcomes_by: Some("2018-03-16".parse().unwrap()),
    }
}

fn roster() -> Roster {
    let baseline = StatementId::ALL
        .into_iter()
        .map(|s| (s, Score::new(6).unwrap()))
        .collect();
    Roster {
        partnerships: vec![Partnership {
            id: "oxfordshire".into(),
            name: "Oxfordshire".into(),
            region: None,
            domains: vec!["oxfordshire.example".into()],
            la_send_leads: vec!["send.lead@oxfordshire.example".into()],
            yos_leads: vec!["yjs.manager@oxfordshire.example".into()],
            baseline: Some(baseline),
            awards: vec![],
        }],
    }
}

fn ctx(store: Store) -> Ctx {
    Ctx {
        store,
        round: arc_swap::ArcSwap::from_pointee(round()),
        roster: arc_swap::ArcSwap::from_pointee(roster()),
        trusted_authserv_id: Some("mx.example.org".into()),
        limits: Limits::default(),
        max_message_bytes: 25 * 1024 * 1024,
        message_seconds: 30,
        from: "Youth Justice SEND <youthjusticesend@example.org>".into(),
        own_addresses: vec!["youthjusticesend@example.org".into()],
        max_per_sender: 3,
        window_hours: 3,
        max_attempts: 3,
        evidence_window_days: 14,
        retry_seconds: 30,
        alerts_to: vec!["project.team@example.org".into()],
        digest_to: vec!["project.team@example.org".into()],
        digest_at: jiff::civil::time(8, 0, 0, 0),
        digest_request: None,
        outbox_wake: Default::default(),
        pause: Default::default(),
        secret_expires: None,
        claim_seconds: 2 * 86_400,
        intake_failing_after: std::time::Duration::from_secs(1800),
        wording: yjsend::compose::wording::Wording::builtin(),
        evaluator: yjsend::pipeline::Evaluator::InProcess,
        retention: None,
        restart: Default::default(),
    }
}

impl App {
    fn new() -> App {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("mail");
        let outbox = dir.path().join("outbox");
        let store_path = dir.path().join("yjsend.db");
        App {
            mailbox: Maildir::open(&inbox, "Processed", "Quarantine").unwrap(),
            transport: DirTransport::new(outbox.clone()).unwrap(),
            ctx: ctx(Store::open(&store_path).unwrap()),
            inbox,
            outbox,
            store_path,
            _dir: dir,
        }
    }

    /// Reopens the store as a restarted daemon would.
    fn restart(&mut self) {
        let fresh = ctx(Store::open(&tempfile::tempdir().unwrap().path().join("x")).unwrap());
        let old = std::mem::replace(&mut self.ctx, fresh);
        drop(old);
        self.ctx = ctx(Store::open(&self.store_path).unwrap());
    }

    fn deliver(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.inbox.join("new").join(name), bytes).unwrap();
    }

    async fn run_once(&mut self) -> (Tick, Tick) {
        let now = jiff::Timestamp::now();
        let a = intake::tick(&self.ctx, &mut self.mailbox, now)
            .await
            .unwrap();
        let b = delivery::tick(&self.ctx, &self.transport, now)
            .await
            .unwrap();
        (a, b)
    }

    fn sent(&self) -> Vec<String> {
        let mut out: Vec<String> = files(&self.outbox)
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        out.sort();
        out
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    v.sort();
    v
}

fn submission(message_id: &str, from: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "Received: from mail.oxfordshire.example by mx.example.org; Tue, 20 Feb 2018 10:00:00 +0000\r\n\
         From: Sam Lead <{from}>\r\n\
         To: youthjusticesend@example.org\r\n\
         Cc: yjs.manager@oxfordshire.example\r\n\
         Subject: Our rescore\r\n\
         Message-ID: {message_id}\r\n\
         Date: Tue, 20 Feb 2018 09:59:00 +0000\r\n\
         {extra_headers}\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Our scores:\r\n\
         Statement 1: 7\r\nStatement 2: 7\r\nStatement 3: 6\r\nStatement 4a: 7\r\n\
         Statement 4b: 7\r\nStatement 5: 8\r\nStatement 6: 7\r\nStatement 7: 7\r\n\
         Statement 8: 9\r\nStatement 9: 7\r\nStatement 10: 7\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn a_submission_gets_one_threaded_reply_and_moves_to_processed() {
    let mut app = App::new();
    app.deliver(
        "1.a:2,",
        &submission(
            "<s1@oxfordshire.example>",
            "send.lead@oxfordshire.example",
            "",
        ),
    );
    let (intake, delivery) = app.run_once().await;
    assert_eq!(intake, Tick::Worked(1));
    assert_eq!(delivery, Tick::Worked(1));

    let sent = app.sent();
    assert_eq!(sent.len(), 1);
    let reply = &sent[0];
    assert!(
        reply.contains("In-Reply-To: <s1@oxfordshire.example>"),
        "{reply}"
    );
    assert!(reply.contains("Auto-Submitted: auto-replied"));
    assert!(reply.contains("Subject: Re: Our rescore [YJS-2018-0001]"));
    assert!(reply.contains("X-Envelope-To: send.lead@oxfordshire.example"));
    assert!(reply.contains("X-Envelope-To: yjs.manager@oxfordshire.example"));
    assert_eq!(
        files(&app.inbox.join("cur")).len() + files(&app.inbox.join("new")).len(),
        0
    );
    assert_eq!(files(&app.inbox.join(".Processed/cur")).len(), 1);

    // Nothing new: a second pass does nothing.
    assert_eq!(app.run_once().await, (Tick::Idle, Tick::Idle));

    // The same message again (a copy, or after a UIDVALIDITY change): no second reply.
    app.deliver(
        "2.b",
        &submission(
            "<s1@oxfordshire.example>",
            "send.lead@oxfordshire.example",
            "",
        ),
    );
    app.run_once().await;
    assert_eq!(app.sent().len(), 1);
    assert_eq!(files(&app.inbox.join(".Processed/cur")).len(), 2);
}

#[tokio::test]
async fn a_message_opened_in_a_mail_client_is_still_answered() {
    let mut app = App::new();
    // Moved to cur/ and flagged Seen by a person before the daemon looked.
    std::fs::write(
        app.inbox.join("cur").join("3.c:2,S"),
        submission(
            "<seen@oxfordshire.example>",
            "send.lead@oxfordshire.example",
            "",
        ),
    )
    .unwrap();
    app.run_once().await;
    assert_eq!(app.sent().len(), 1);
}

#[tokio::test]
async fn automatic_mail_is_never_answered() {
    let mut app = App::new();
    app.deliver(
        "4.d",
        &submission(
            "<ooo@oxfordshire.example>",
            "send.lead@oxfordshire.example",
            "Auto-Submitted: auto-replied\r\n",
        ),
    );
    app.run_once().await;
    assert!(app.sent().is_empty());
    let records = app.ctx.store.records().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].classification, Some(Classification::Automatic));
    assert_eq!(records[0].state, RecordState::Done);
    assert_eq!(files(&app.inbox.join(".Processed/cur")).len(), 1);
}

#[tokio::test]
async fn the_per_sender_cap_ends_a_loop() {
    let mut app = App::new();
    for i in 0..6 {
        app.deliver(
            &format!("{i}.loop"),
            &submission(
                &format!("<loop{i}@oxfordshire.example>"),
                "send.lead@oxfordshire.example",
                "",
            ),
        );
    }
    app.run_once().await;
    assert_eq!(app.sent().len(), 3, "the cap in this test is 3");
    assert_eq!(files(&app.inbox.join(".Processed/cur")).len(), 6);
}

#[tokio::test]
async fn an_interrupted_evaluation_is_retried_then_quarantined() {
    let mut app = App::new();
    let bytes = submission(
        "<crash@oxfordshire.example>",
        "send.lead@oxfordshire.example",
        "",
    );
    app.deliver("5.e", &bytes);
    // Simulate three deaths inside evaluation: the record stays `Received` with its attempts.
    let mut record = yjsend::adapters::store::Record::received(
        "maildir:5.e".into(),
        "x".into(),
        "2018-02-20T10:00:00Z".parse().unwrap(),
        bytes.len() as u64,
        None,
    );
    record.attempts = 3;
    app.ctx.store.receive(record, &bytes).unwrap();
    app.ctx.store.flush().await.unwrap();
    app.restart();
    app.run_once().await;
    assert!(app.sent().is_empty());
    assert_eq!(files(&app.inbox.join(".Quarantine/cur")).len(), 1);
}

#[tokio::test]
async fn a_reply_queued_before_a_crash_is_sent_after_restart_once() {
    let mut app = App::new();
    app.deliver(
        "6.f",
        &submission(
            "<q@oxfordshire.example>",
            "send.lead@oxfordshire.example",
            "",
        ),
    );
    let now = jiff::Timestamp::now();
    // Intake only, then "crash" before delivery.
    intake::tick(&app.ctx, &mut app.mailbox, now).await.unwrap();
    app.restart();
    app.run_once().await;
    app.run_once().await;
    assert_eq!(app.sent().len(), 1);
    let items = app.ctx.store.outbox_items().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].state, OutboxState::Sent);
    assert_eq!(items[0].attempts, 1);
}

/// The message id of the first reply we sent.
fn our_message_id(reply: &str) -> String {
    reply
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test]
async fn evidence_sent_separately_joins_the_current_submission() {
    let mut app = App::new();
    app.deliver(
        "1.a",
        &submission(
            "<s1@oxfordshire.example>",
            "send.lead@oxfordshire.example",
            "",
        ),
    );
    app.run_once().await;
    // A new email (not a reply) a few minutes later: a case study, no grid.
    let evidence = "From: Sam Lead <send.lead@oxfordshire.example>\r\n\
         To: youthjusticesend@example.org\r\n\
         Subject: Case study for statement 8\r\n\
         Message-ID: <e1@oxfordshire.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nThe case study we mentioned.\r\n\
         --b\r\nContent-Type: text/plain; name=\"Case study - Key Statement 8.txt\"\r\n\
         Content-Disposition: attachment; filename=\"Case study - Key Statement 8.txt\"\r\n\r\n\
         Case study: resettlement planning\r\n--b--\r\n";
    app.deliver("2.b", evidence.as_bytes());
    app.run_once().await;
    let sent = app.sent();
    assert_eq!(sent.len(), 2);
    let ack = sent
        .iter()
        .find(|m| m.contains("<e1@oxfordshire.example>"))
        .unwrap();
    assert!(
        ack.contains("Subject: Re: Case study for statement 8 [YJS-2018-0001]"),
        "{ack}"
    );
    let body = ack.replace("=\r\n", "").replace("=\n", "");
    assert!(
        body.contains("added the evidence in this email to your submission YJS-2018-0001"),
        "{ack}"
    );
    let records = app.ctx.store.records().unwrap();
    let first = records
        .iter()
        .find(|r| r.reference.as_deref() == Some("YJS-2018-0001"))
        .unwrap();
    let added: Vec<&str> = first
        .evidence
        .iter()
        .filter(|f| f.record_id != first.id)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(added, vec!["Case study - Key Statement 8.txt"]);
    assert_eq!(first.joined.len(), 1);
    assert_eq!(first.joined[0].kind, JoinKind::Evidence);
}

#[tokio::test]
async fn the_other_lead_confirming_in_our_thread_completes_the_sign_off() {
    let mut app = App::new();
    let alone = String::from_utf8(submission(
        "<s1@oxfordshire.example>",
        "send.lead@oxfordshire.example",
        "",
    ))
    .unwrap()
    .replace("Cc: yjs.manager@oxfordshire.example\r\n", "");
    app.deliver("1.a", alone.as_bytes());
    app.run_once().await;
    let first = app.ctx.store.records().unwrap().remove(0);
    assert!(!app.ctx.standing(&first).signoff.verified);
    let ours = our_message_id(&app.sent()[0]);
    let confirm = format!(
        "From: Mark Ellis <yjs.manager@oxfordshire.example>\r\n\
         To: youthjusticesend@example.org\r\n\
         Subject: RE: Re: Our rescore [YJS-2018-0001]\r\n\
         Message-ID: <c1@oxfordshire.example>\r\n\
         In-Reply-To: {ours}\r\nReferences: <s1@oxfordshire.example> {ours}\r\n\
         Content-Type: text/plain\r\n\r\n\
         I confirm these scores were agreed jointly.\r\n"
    );
    app.deliver("2.b", confirm.as_bytes());
    app.run_once().await;
    let sent = app.sent();
    assert_eq!(
        sent.len(),
        2,
        "a confirmation that moves a verdict is acknowledged"
    );
    let ack = sent[1].replace("=\r\n", "").replace("=\n", "");
    assert!(
        ack.contains("In-Reply-To: <c1@oxfordshire.example>"),
        "{ack}"
    );
    assert!(
        ack.contains("Mark Ellis (yjs.manager@oxfordshire.example) confirmed the YOS sign-off."),
        "{ack}"
    );
    assert!(
        ack.contains("Quality Mark: not complete yet =E2=86=92 provisionally met")
            || ack.contains("Quality Mark: not complete yet \u{2192} provisionally met"),
        "{ack}"
    );
    let records = app.ctx.store.records().unwrap();
    let first = records.iter().find(|r| r.id == first.id).unwrap();
    let standing = app.ctx.standing(first);
    assert!(standing.signoff.verified);
    assert_eq!(standing.quality_mark.provisional, Provisional::Eligible);
    assert_eq!(
        first.confirmed_by(),
        Some("yjs.manager@oxfordshire.example")
    );
    let note = records
        .iter()
        .find(|r| r.message_id.as_deref() == Some("<c1@oxfordshire.example>"))
        .unwrap();
    assert_eq!(note.joined_to, Some(first.id));

    // The same lead confirming again moves nothing: no mail.
    let again = confirm
        .replace("<c1@oxfordshire.example>", "<c2@oxfordshire.example>")
        .replace("I confirm these scores", "Confirmed again: these scores");
    app.deliver("3.c", again.as_bytes());
    app.run_once().await;
    assert_eq!(
        app.sent().len(),
        2,
        "a confirmation that moves nothing is not answered"
    );
}

/// A mailbox that fails its first `failures` listings (a server down, a password changed),
/// then wraps a working Maildir.
struct Flaky {
    failures: usize,
    inner: Maildir,
}

impl yjsend::pipeline::ports::Mailbox for Flaky {
    async fn list(
        &mut self,
        max_bytes: u64,
        limit: usize,
    ) -> Result<Vec<yjsend::pipeline::ports::RawMessage>, yjsend::pipeline::ports::MailboxError>
    {
        if self.failures > 0 {
            self.failures -= 1;
            return Err(yjsend::pipeline::ports::MailboxError::Unavailable(
                "connection refused".into(),
            ));
        }
        self.inner.list(max_bytes, limit).await
    }
    async fn mark_processed(
        &mut self,
        keys: &[yjsend::pipeline::ports::MessageKey],
    ) -> Result<(), yjsend::pipeline::ports::MailboxError> {
        self.inner.mark_processed(keys).await
    }
    async fn quarantine(
        &mut self,
        key: &yjsend::pipeline::ports::MessageKey,
    ) -> Result<(), yjsend::pipeline::ports::MailboxError> {
        self.inner.quarantine(key).await
    }
    async fn wait(
        &mut self,
        _timeout: std::time::Duration,
    ) -> Result<(), yjsend::pipeline::ports::MailboxError> {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        Ok(())
    }
}

#[tokio::test]
async fn a_mailbox_failing_too_long_alerts_the_team_once_and_then_its_recovery() {
    use std::time::Duration;
    let mut app = App::new();
    app.ctx.intake_failing_after = Duration::from_millis(300);
    app.deliver(
        "1.a:2,",
        &submission(
            "<s1@oxfordshire.example>",
            "send.lead@oxfordshire.example",
            "",
        ),
    );
    let mut mailbox = Flaky {
        failures: 40,
        inner: Maildir::open(&app.inbox, "Processed", "Quarantine").unwrap(),
    };
    let pace = yjsend::pipeline::scheduler::Pace {
        backstop: Duration::from_millis(50),
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(20),
    };
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let outbox = app.outbox.clone();
    let run = yjsend::pipeline::scheduler::run(
        &app.ctx,
        &mut mailbox,
        &app.transport,
        false,
        pace,
        stop_rx,
    );
    let watch = async {
        // Until the submission is answered (after the mailbox recovered) and both alerts sent.
        for _ in 0..300 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if files(&outbox).len() >= 3 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.send_replace(true);
    };
    let (result, ()) = tokio::join!(run, watch);
    result.unwrap();
    let sent = app.sent();
    let failing: Vec<_> = sent
        .iter()
        .filter(|m| m.contains("Subject: [yjsend] intake failing"))
        .collect();
    let recovered: Vec<_> = sent
        .iter()
        .filter(|m| m.contains("Subject: [yjsend] intake recovered"))
        .collect();
    assert_eq!(failing.len(), 1, "one alert for one outage: {sent:#?}");
    assert_eq!(recovered.len(), 1, "{sent:#?}");
    assert!(failing[0].contains("X-Envelope-To: project.team@example.org"));
    assert!(failing[0].contains("connection refused"));
    assert!(
        sent.iter()
            .any(|m| m.contains("Subject: Re: Our rescore [YJS-2018-0001]")),
        "the submission is answered once the mailbox is back"
    );
    assert!(app.ctx.store.meta_get("mailbox_last_ok").unwrap().is_some());
}

#[tokio::test]
async fn the_daily_digest_is_sent_once_per_slot_and_a_missed_one_at_start_but_none_on_first_start()
{
    use yjsend::pipeline::digest;
    let mut app = App::new();
    app.deliver(
        "1.a:2,",
        &submission(
            "<s1@oxfordshire.example>",
            "send.lead@oxfordshire.example",
            "",
        ),
    );
    app.run_once().await;
    let digests = |app: &App| {
        app.sent()
            .into_iter()
            .filter(|m| m.contains("Subject: [yjsend] Digest for"))
            .count()
    };
    // 09:00 on 20 February 2018, London: the 08:00 slot has passed, but this is the first
    // start, so nothing counts as missed.
    let first: jiff::Timestamp = "2018-02-20T09:00:00Z".parse().unwrap();
    assert!(!digest::catch_up(&app.ctx, first).unwrap());
    // Later the same day: still the same slot.
    let evening: jiff::Timestamp = "2018-02-20T20:00:00Z".parse().unwrap();
    assert!(!digest::catch_up(&app.ctx, evening).unwrap());
    // The next morning's slot passes (the daemon was down at 08:00): sent once at start.
    let next_day: jiff::Timestamp = "2018-02-21T10:00:00Z".parse().unwrap();
    assert!(digest::catch_up(&app.ctx, next_day).unwrap());
    assert!(!digest::catch_up(&app.ctx, next_day).unwrap());
    app.ctx.store.flush().await.unwrap();
    app.restart();
    assert!(!digest::catch_up(&app.ctx, next_day).unwrap());
    delivery::tick(&app.ctx, &app.transport, next_day)
        .await
        .unwrap();
    assert_eq!(digests(&app), 1);
    let sent = app.sent();
    let digest = sent
        .iter()
        .find(|m| m.contains("Subject: [yjsend] Digest for"))
        .unwrap();
    assert!(digest.contains("X-Envelope-To: project.team@example.org"));
    assert!(digest.contains("Auto-Submitted: auto-generated"));
    assert!(digest.contains("image/png"), "the new submission's chart");
}

#[tokio::test]
async fn a_resubmission_says_what_it_replaces_and_which_scores_changed() {
    let mut app = App::new();
    app.deliver(
        "1.a:2,",
        &submission(
            "<s1@oxfordshire.example>",
            "send.lead@oxfordshire.example",
            "",
        ),
    );
    app.run_once().await;
    let second = String::from_utf8(submission(
        "<s2@oxfordshire.example>",
        "send.lead@oxfordshire.example",
        "",
    ))
    .unwrap()
    .replace("Statement 4a: 7", "Statement 4a: 8");
    app.deliver("2.b:2,", second.as_bytes());
    app.run_once().await;
    let sent = app.sent();
    let reply = sent
        .iter()
        .find(|m| m.contains("In-Reply-To: <s2@oxfordshire.example>"))
        .expect("the second reply");
    let parsed = mail_parser::MessageParser::default()
        .parse(reply.as_bytes())
        .unwrap();
    let text = parsed.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(
        text.contains("This submission replaces your earlier one, YJS-2018-0001."),
        "{text}"
    );
    assert!(
        text.contains("Changed since your last submission: 4a 7 -> 8."),
        "{text}"
    );
    assert!(text.contains("  4a   8  (baseline 6, +2)"), "{text}");
}

#[tokio::test]
async fn the_team_corrects_an_unread_grid_the_verdict_is_recomputed_and_a_corrected_reply_goes() {
    use yjsend::domain::panel::members::{Member, Role};
    use yjsend::pipeline::panel;
    let mut app = App::new();
    // A question with no grid from Oxfordshire: answered with the formats and a template.
    let no_grid = String::from_utf8(submission(
        "<q1@oxfordshire.example>",
        "send.lead@oxfordshire.example",
        "",
    ))
    .unwrap();
    let no_grid =
        no_grid[..no_grid.find("Our scores:").unwrap()].to_string() + "Could you help?\r\n";
    app.deliver("1.a:2,", no_grid.as_bytes());
    app.run_once().await;
    let record = panel::record(&app.ctx, "YJS-2018-0001").unwrap().unwrap();
    assert_eq!(record.classification, Some(Classification::NoGrid));
    assert!(app.ctx.store.case("YJS-2018-0001").unwrap().is_none());

    let team = Member {
        name: "Team".into(),
        role: Role::Team,
        token_sha256: [0; 32],
        conflicts: vec![],
    };
    let panel_member = Member {
        role: Role::Panel,
        name: "Alice".into(),
        ..team.clone()
    };
    let scores = StatementId::ALL
        .into_iter()
        .map(|s| (s, Score::new(7).unwrap()))
        .collect();
    let correction = panel::Correction {
        scores,
        case_studies: vec![],
        reason: "The grid was in the body as a picture; scores from the PDF they sent".into(),
        send_reply: true,
    };
    // Only the team corrects, and only with a reason.
    assert!(matches!(
        panel::correct(&app.ctx, &panel_member, "YJS-2018-0001", &correction, 100).await,
        Err(panel::PanelError::TeamOnly)
    ));
    let no_reason = panel::Correction {
        reason: " ".into(),
        ..correction.clone()
    };
    assert!(
        panel::correct(&app.ctx, &team, "YJS-2018-0001", &no_reason, 100)
            .await
            .is_err()
    );
    panel::correct(&app.ctx, &team, "YJS-2018-0001", &correction, 100)
        .await
        .unwrap();
    let record = panel::record(&app.ctx, "YJS-2018-0001").unwrap().unwrap();
    assert_eq!(record.classification, Some(Classification::Submission));
    let standing = app.ctx.standing(&record);
    assert_eq!(standing.quality_mark.provisional, Provisional::Eligible);
    // All 7s: Quality Lead needs two 8s, so it is not eligible.
    assert_eq!(standing.quality_lead.provisional, Provisional::NotEligible);
    assert_eq!(record.corrections.len(), 1);
    // It now has a case, and the correction is in the audit trail.
    let case = app
        .ctx
        .store
        .case("YJS-2018-0001")
        .unwrap()
        .expect("a case");
    let trail = app.ctx.store.audit_trail(Some(&case.reference)).unwrap();
    assert!(
        trail
            .iter()
            .any(|a| a.action == "correct" && a.detail.contains("picture"))
    );
    // The corrected reply, under the same reference.
    delivery::tick(&app.ctx, &app.transport, jiff::Timestamp::now())
        .await
        .unwrap();
    let sent: Vec<String> = app.sent().iter().map(|m| m.replace("=\r\n", "")).collect();
    let corrected = sent
        .iter()
        .find(|m| m.contains("corrected the scores we read"))
        .unwrap_or_else(|| panic!("no corrected reply in {sent:#?}"));
    assert!(corrected.contains("[YJS-2018-0001]"));
}

#[tokio::test]
async fn a_backup_taken_mid_backlog_restores_and_carries_on_with_nothing_lost_or_doubled() {
    let mut app = App::new();
    // One sender sends them all: lift the loop cap for this test.
    app.ctx.max_per_sender = 1000;
    // More than one intake batch (50) waiting.
    for n in 0..70 {
        app.deliver(
            &format!("{n}.m:2,"),
            &submission(
                &format!("<b{n}@oxfordshire.example>"),
                "send.lead@oxfordshire.example",
                "",
            ),
        );
    }
    // One intake step (a batch), and a delivery pass that sends part of what it queued.
    let now = jiff::Timestamp::now();
    intake::tick(&app.ctx, &mut app.mailbox, now).await.unwrap();
    delivery::tick_until(&app.ctx, &app.transport, now, {
        let sent = std::cell::Cell::new(0);
        move || {
            sent.set(sent.get() + 1);
            sent.get() > 3
        }
    })
    .await
    .unwrap();
    let backup = yjsend::pipeline::panel::backup(&app.ctx).await.unwrap();
    let sent_before = app.sent().len();
    assert!(sent_before > 0 && sent_before < 70, "{sent_before}");

    // The machine is lost after the backup; a new one restores it and carries on.
    let restored = tempfile::tempdir().unwrap();
    let path = restored.path().join("yjsend.db");
    let n = Store::restore(&path, std::io::Cursor::new(&backup)).unwrap();
    assert!(n > 70, "{n} entries");
    assert!(
        Store::restore(&path, std::io::Cursor::new(&backup)).is_err(),
        "a restore never overwrites a store with data"
    );
    app.ctx = ctx(Store::open(&path).unwrap());
    app.ctx.max_per_sender = 1000;
    for _ in 0..5 {
        app.run_once().await;
    }
    // Every submission answered exactly once, across both machines.
    let mut answered = std::collections::BTreeMap::new();
    for m in app.sent() {
        if let Some(id) = m
            .lines()
            .find_map(|l| l.strip_prefix("In-Reply-To: "))
            .map(str::to_string)
        {
            *answered.entry(id).or_insert(0) += 1;
        }
    }
    assert_eq!(answered.len(), 70);
    assert!(answered.values().all(|&n| n == 1), "{answered:?}");
    // References continue from where the backup left them: no number given twice.
    let refs: std::collections::BTreeSet<String> = app
        .ctx
        .store
        .records()
        .unwrap()
        .into_iter()
        .filter_map(|r| r.reference)
        .collect();
    assert_eq!(refs.len(), 70);
}

#[tokio::test]
async fn the_digest_lists_quality_leads_due_for_redesignation_and_marks_a_holders_submission() {
    use yjsend::domain::roster::{Award, AwardKind};
    let mut app = App::new();
    let mut r = roster();
    r.partnerships[0].awards.push(Award {
        kind: AwardKind::QualityLead,
        date: "2015-07-01".parse().unwrap(),
        child_first: false,
    });
    app.ctx.roster.store(std::sync::Arc::new(r));
    app.deliver(
        "1.a:2,",
        &submission(
            "<s1@oxfordshire.example>",
            "send.lead@oxfordshire.example",
            "",
        ),
    );
    app.run_once().await;
    let now: jiff::Timestamp = "2018-02-20T09:00:00Z".parse().unwrap();
    let built = yjsend::pipeline::digest::view(&app.ctx, now, 0, true).unwrap();
    assert_eq!(
        built.view.redesignation,
        vec!["Oxfordshire: Quality Lead since 1 July 2015, due July 2018".to_string()]
    );
    assert!(built.view.submissions[0].redesignation);
}

#[tokio::test]
async fn the_digest_reports_a_member_opening_many_cases_they_do_not_hold() {
    let app = App::new();
    let now = jiff::Timestamp::now();
    for n in 0..7 {
        app.ctx
            .store
            .audit(&yjsend::adapters::store::AuditEntry {
                at: now.as_second() - 60,
                who: "Mallory".into(),
                action: "open_case".into(),
                case: Some(format!("YJS-2018-00{n:02}")),
                detail: String::new(),
            })
            .unwrap();
    }
    // A few reads are ordinary.
    for n in 0..3 {
        app.ctx
            .store
            .audit(&yjsend::adapters::store::AuditEntry {
                at: now.as_second() - 60,
                who: "Alice".into(),
                action: "open_case".into(),
                case: Some(format!("YJS-2018-00{n:02}")),
                detail: String::new(),
            })
            .unwrap();
    }
    let built = yjsend::pipeline::digest::view(&app.ctx, now, 0, true).unwrap();
    let unusual: Vec<_> = built
        .view
        .attention
        .iter()
        .filter(|a| a.what == "Unusual access")
        .collect();
    assert_eq!(unusual.len(), 1, "{:?}", built.view.attention);
    assert!(unusual[0].detail.starts_with("Mallory opened 7 cases"));
}

/// The deadline is judged on the mailbox's receipt time, not on when the daemon gets to the
/// message: one received a second before the deadline and processed long after is on time,
/// and one received a second after is late (the round's deadline is 23:59:59 London time).
#[tokio::test]
async fn the_deadline_is_judged_at_receipt_not_at_processing() {
    let mut app = App::new();
    app.ctx.max_per_sender = 100;
    let deadline: jiff::Timestamp = "2018-02-23T23:59:59Z".parse().unwrap();
    for (name, offset) in [("before", -1i64), ("after", 1)] {
        let path = app.inbox.join("new").join(format!("{name}.m:2,"));
        std::fs::write(
            &path,
            submission(
                &format!("<{name}@oxfordshire.example>"),
                "send.lead@oxfordshire.example",
                "",
            ),
        )
        .unwrap();
        let at = deadline.as_second() + offset;
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at as u64))
            .unwrap();
    }
    // Processed now, years after the deadline.
    app.run_once().await;
    let records = app.ctx.store.records().unwrap();
    let on_time = |mid: &str| {
        records
            .iter()
            .find(|r| r.message_id.as_deref() == Some(mid))
            .and_then(|r| r.on_time)
    };
    assert_eq!(on_time("<before@oxfordshire.example>"), Some(true));
    assert_eq!(on_time("<after@oxfordshire.example>"), Some(false));
}

/// Summer time starts (25 March 2018) between the round's deadline being set and the mail
/// arriving, and has ended (28 October) by the time the daemon gets to it: the deadline is
/// 23:59:59 British Summer Time, receipt is judged and quoted in the offset in force when the
/// message arrived, whatever the offset when it is processed.
#[tokio::test]
async fn summer_time_changing_between_receipt_and_processing_moves_nothing() {
    let mut app = App::new();
    app.ctx.max_per_sender = 100;
    let tz = jiff::tz::TimeZone::get("Europe/London").unwrap();
    let mut r = round();
    r.deadline = Round::resolve_deadline("2018-03-25T23:59:59".parse().unwrap(), &tz).unwrap();
    assert_eq!(
        r.deadline.to_string(),
        "2018-03-25T22:59:59Z",
        "BST is UTC+1"
    );
    app.ctx.round.store(std::sync::Arc::new(r));
    // 23:59:58 BST (on time) and 00:00:00 BST the next day (late): an hour apart from what
    // GMT, the offset at processing time, would make of them.
    for (name, at) in [
        ("in-time", "2018-03-25T22:59:58Z"),
        ("late", "2018-03-25T23:00:00Z"),
    ] {
        let path = app.inbox.join("new").join(format!("{name}.m:2,"));
        std::fs::write(
            &path,
            submission(
                &format!("<{name}@oxfordshire.example>"),
                "send.lead@oxfordshire.example",
                "",
            ),
        )
        .unwrap();
        let at: jiff::Timestamp = at.parse().unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(at.into())
            .unwrap();
    }
    let winter: jiff::Timestamp = "2018-11-01T12:00:00Z".parse().unwrap();
    intake::tick(&app.ctx, &mut app.mailbox, winter)
        .await
        .unwrap();
    delivery::tick(&app.ctx, &app.transport, winter)
        .await
        .unwrap();
    let records = app.ctx.store.records().unwrap();
    let on_time = |mid: &str| {
        records
            .iter()
            .find(|r| r.message_id.as_deref() == Some(mid))
            .and_then(|r| r.on_time)
    };
    assert_eq!(on_time("<in-time@oxfordshire.example>"), Some(true));
    assert_eq!(on_time("<late@oxfordshire.example>"), Some(false));
    let sent = app.sent();
    let reply_to = |mid: &str| {
        sent.iter()
            .find(|m| m.contains(&format!("In-Reply-To: <{mid}@oxfordshire.example>")))
            .unwrap()
            .replace("=\r\n", "")
    };
    let late = reply_to("late");
    assert!(
        late.contains(
            "Received 26 March 2018 at 00:00, after the deadline (25 March 2018 at 23:59)"
        ),
        "{late}"
    );
    assert!(reply_to("in-time").contains("Received 25 March 2018 at 23:59, before the deadline"));
}

/// sled's id generator starts again in a restored store: new records, replies and audit lines
/// must still get ids above the restored ones, or they would overwrite them.
#[tokio::test]
async fn a_restored_store_never_reuses_an_id() {
    let mut app = App::new();
    // Each opening moves sled's generator on by a block: a store opened more often than its
    // restored copy has higher ids than the copy's generator will give.
    for _ in 0..3 {
        app.restart();
    }
    app.ctx.max_per_sender = 100;
    for n in 0..3 {
        app.deliver(
            &format!("{n}.r:2,"),
            &submission(
                &format!("<r{n}@oxfordshire.example>"),
                "send.lead@oxfordshire.example",
                "",
            ),
        );
    }
    app.run_once().await;
    let mut backup = Vec::new();
    app.ctx.store.backup(&mut backup).unwrap();
    let before = app.ctx.store.records().unwrap();
    let restored = tempfile::tempdir().unwrap();
    let path = restored.path().join("yjsend.db");
    Store::restore(&path, std::io::Cursor::new(&backup)).unwrap();
    app.ctx = ctx(Store::open(&path).unwrap());
    app.ctx.max_per_sender = 100;
    app.deliver(
        "9.r:2,",
        &submission(
            "<r9@oxfordshire.example>",
            "send.lead@oxfordshire.example",
            "",
        ),
    );
    app.run_once().await;
    let after = app.ctx.store.records().unwrap();
    assert_eq!(after.len(), before.len() + 1, "{after:#?}");
    for old in &before {
        let kept = after.iter().find(|r| r.id == old.id).unwrap();
        assert_eq!(
            kept.reference, old.reference,
            "record {} overwritten",
            old.id
        );
    }
    let newest = after.iter().map(|r| r.id).max().unwrap();
    assert!(before.iter().all(|r| r.id < newest));
    assert_eq!(app.sent().len(), 4, "four replies, none overwritten");
}
