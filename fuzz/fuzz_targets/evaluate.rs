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

/// The product catches library panics around each reader (`catch_unwind`) and reports a
/// corrupt file; libFuzzer's hook would abort on those too. Only panics that escape the
/// product reach the harness's own catch and count as crashes.
fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics();
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
