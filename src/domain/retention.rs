//! Retention (UK GDPR): how long a submission's personal data is kept. The messages carry
//! case studies about children, so they are kept only for a configured number of months after
//! their round closed, then purged, leaving the anonymous figures. A round closes at its
//! deadline; a message that came after it (a late submission, a question) counts from its
//! arrival. Nothing of the current round is ever purged, however long it runs.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use std::collections::BTreeMap;

/// The rule the daemon applies (`[retention] after_round_months`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub after_round_months: u32,
}

/// What the rule needs to know of one record.
#[derive(Debug, Clone, Copy)]
pub struct Held<'a> {
    /// The reference prefix of the round it arrived in (`YJS-2018`), if known.
    pub round: Option<&'a str>,
    pub received_at: Timestamp,
}

/// The round a reference belongs to: `YJS-2018-0042` → `YJS-2018`.
pub fn round_of_reference(reference: &str) -> Option<&str> {
    let (prefix, number) = reference.rsplit_once('-')?;
    (!prefix.is_empty() && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
        .then_some(prefix)
}

impl Policy {
    /// When `held` may be purged: `after_round_months` after its round closed (its deadline,
    /// from `closes`, or its arrival if later or if the round is unknown). `None`: not while
    /// it belongs to the current round.
    pub fn purge_after(
        &self,
        held: Held<'_>,
        current_round: &str,
        closes: &BTreeMap<String, Timestamp>,
        tz: &TimeZone,
    ) -> Option<Timestamp> {
        if held.round == Some(current_round) {
            return None;
        }
        let closed = held
            .round
            .and_then(|r| closes.get(r))
            .map_or(held.received_at, |deadline| {
                (*deadline).max(held.received_at)
            });
        let months = i64::from(self.after_round_months).months();
        // Calendar months in the round's time zone (31 March + 1 month = 30 April).
        closed
            .to_zoned(tz.clone())
            .checked_add(months)
            .map(|z| z.timestamp())
            .ok()
    }

    /// Whether `held` is due for purging at `now`.
    pub fn due(
        &self,
        held: Held<'_>,
        current_round: &str,
        closes: &BTreeMap<String, Timestamp>,
        tz: &TimeZone,
        now: Timestamp,
    ) -> bool {
        self.purge_after(held, current_round, closes, tz)
            .is_some_and(|at| at <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn london() -> TimeZone {
        TimeZone::get("Europe/London").unwrap()
    }

    fn closes() -> BTreeMap<String, Timestamp> {
        BTreeMap::from([("YJS-2018".to_string(), ts("2018-02-23T23:59:59Z"))])
    }

    const POLICY: Policy = Policy {
        after_round_months: 24,
    };

    #[test]
    fn a_closed_round_is_kept_for_the_period_after_its_deadline() {
        let held = Held {
            round: Some("YJS-2018"),
            received_at: ts("2018-02-10T09:00:00Z"),
        };
        let (c, tz) = (closes(), london());
        assert_eq!(
            POLICY.purge_after(held, "YJS-2019", &c, &tz),
            Some(ts("2020-02-23T23:59:59Z"))
        );
        assert!(!POLICY.due(held, "YJS-2019", &c, &tz, ts("2020-02-23T23:59:58Z")));
        assert!(POLICY.due(held, "YJS-2019", &c, &tz, ts("2020-02-23T23:59:59Z")));
    }

    #[test]
    fn nothing_of_the_current_round_is_purged() {
        let held = Held {
            round: Some("YJS-2018"),
            received_at: ts("2018-02-10T09:00:00Z"),
        };
        assert!(!POLICY.due(
            held,
            "YJS-2018",
            &closes(),
            &london(),
            ts("2040-01-01T00:00:00Z")
        ));
    }

    #[test]
    fn a_late_message_counts_from_its_arrival_and_an_unknown_round_too() {
        let late = Held {
            round: Some("YJS-2018"),
            received_at: ts("2018-06-01T12:00:00Z"),
        };
        let unknown = Held {
            round: None,
            received_at: ts("2018-06-01T12:00:00Z"),
        };
        for held in [late, unknown] {
            assert_eq!(
                POLICY.purge_after(held, "YJS-2019", &closes(), &london()),
                Some(ts("2020-06-01T12:00:00Z"))
            );
        }
    }

    #[test]
    fn months_are_calendar_months_in_the_round_time_zone() {
        let held = Held {
            round: None,
            // 31 March 2019, 00:30 in London (still GMT): one month on is 30 April (no 31st),
            // 00:30 BST, an hour earlier in UTC.
            received_at: ts("2019-03-31T00:30:00Z"),
        };
        let one = Policy {
            after_round_months: 1,
        };
        assert_eq!(
            one.purge_after(held, "YJS-2020", &BTreeMap::new(), &london()),
            Some(ts("2019-04-29T23:30:00Z"))
        );
    }

    #[test]
    fn references_name_their_round() {
        assert_eq!(round_of_reference("YJS-2018-0042"), Some("YJS-2018"));
        assert_eq!(round_of_reference("LA-PAID-2021-7"), Some("LA-PAID-2021"));
        assert_eq!(round_of_reference("nonsense"), None);
        assert_eq!(round_of_reference("YJS-2018-"), None);
    }
}
