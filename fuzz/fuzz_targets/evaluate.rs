//! The whole message-to-report path on arbitrary bytes: it must never panic, abort or run
//! unbounded, whatever a sender attaches.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use yjsend::domain::roster::{Partnership, Roster};
use yjsend::domain::round::Round;
use yjsend::extract::Limits;
use yjsend::pipeline::evaluate::{Settings, evaluate};

static ROUND: LazyLock<Round> = LazyLock::new(|| {
    let tz = jiff::tz::TimeZone::get("Europe/London").expect("bundled tzdb");
    let local: jiff::civil::DateTime = "2018-02-23T23:59:59".parse().expect("valid date");
    Round {
        name: "fuzz".into(),
        reference_prefix: "YJS-2018".into(),
        deadline: Round::resolve_deadline(local, &tz).expect("resolvable"),
        timezone: tz,
        panel_meets: None,
        outcomes_by: None,
    }
});

static ROSTER: LazyLock<Roster> = LazyLock::new(|| Roster {
    partnerships: vec![Partnership {
        id: "oxfordshire".into(),
        name: "Oxfordshire".into(),
        region: None,
        domains: vec!["oxfordshire.example".into()],
        la_send_leads: vec!["send.lead@oxfordshire.example".into()],
        yos_leads: vec!["yjs.manager@oxfordshire.example".into()],
        baseline: None,
        awards: vec![],
    }],
});

fuzz_target!(|data: &[u8]| {
    let settings = Settings {
        round: &ROUND,
        roster: &ROSTER,
        trusted_authserv_id: Some("mx.example.org"),
        limits: Limits {
            max_unpacked_bytes: 8 * 1024 * 1024,
            max_unpacked_total_bytes: 16 * 1024 * 1024,
            ..Limits::default()
        },
        max_message_bytes: 4 * 1024 * 1024,
    };
    let _ = evaluate(data, None, &settings);
});
