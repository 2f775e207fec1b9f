//! The round: its name, reference prefix, deadline and the dates quoted in replies.

use jiff::{Timestamp, tz::TimeZone};

/// One funded (or later) round of the awards.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    pub name: String,
    pub reference_prefix: String,
    /// The deadline as an instant (the configured local time resolved in `timezone`).
    pub deadline: Timestamp,
    pub timezone: TimeZone,
    /// Words for the replies' next steps ("late February to early March 2018").
    pub panel_meets: Option<String>,
    /// When outcomes are sent, as configured ("2018-03-16").
    pub outcomes_by: Option<jiff::civil::Date>,
}

impl Round {
    /// Whether a message received at `received_at` is on time. Times compare in whole seconds:
    /// a fraction of a second after the deadline's second is still on time.
    pub fn on_time(&self, received_at: Timestamp) -> bool {
        received_at.as_second() <= self.deadline.as_second()
    }

    /// Resolves a local deadline in a time zone (a gap or fold at a clock change resolves to
    /// the later instant, which never makes an on-time message late).
    pub fn resolve_deadline(
        local: jiff::civil::DateTime,
        tz: &TimeZone,
    ) -> Result<Timestamp, jiff::Error> {
        tz.to_ambiguous_timestamp(local).later()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(deadline_local: &str) -> Round {
        let tz = TimeZone::get("Europe/London").unwrap();
        let local: jiff::civil::DateTime = deadline_local.parse().unwrap();
        Round {
            name: "t".into(),
            reference_prefix: "YJS-T".into(),
            deadline: Round::resolve_deadline(local, &tz).unwrap(),
            timezone: tz,
            panel_meets: None,
            outcomes_by: None,
        }
    }

    #[test]
    fn winter_deadline_is_utc() {
        let r = round("2018-02-23T23:59:59");
        assert_eq!(r.deadline.to_string(), "2018-02-23T23:59:59Z");
        assert!(r.on_time("2018-02-23T23:59:59Z".parse().unwrap()));
        assert!(r.on_time("2018-02-23T23:59:59.900Z".parse().unwrap()));
        assert!(!r.on_time("2018-02-24T00:00:00Z".parse().unwrap()));
        assert!(r.on_time("2018-02-23T23:59:58Z".parse().unwrap()));
    }

    #[test]
    fn summer_deadline_is_an_hour_earlier_in_utc() {
        // British Summer Time began on 2018-03-25; a deadline after it is UTC+1.
        let r = round("2018-03-26T23:59:59");
        assert_eq!(r.deadline.to_string(), "2018-03-26T22:59:59Z");
        assert!(r.on_time("2018-03-26T22:59:59Z".parse().unwrap()));
        assert!(!r.on_time("2018-03-26T23:00:00Z".parse().unwrap()));
    }

    #[test]
    fn deadline_inside_the_spring_gap_resolves_later() {
        // 01:30 on 2018-03-25 does not exist in London; the later reading is 02:30 BST = 01:30Z.
        let r = round("2018-03-25T01:30:00");
        assert_eq!(r.deadline.to_string(), "2018-03-25T01:30:00Z");
    }

    #[test]
    fn deadline_inside_the_autumn_fold_takes_the_later_instant() {
        // 01:30 on 2018-10-28 happens twice; the later one is GMT.
        let r = round("2018-10-28T01:30:00");
        assert_eq!(r.deadline.to_string(), "2018-10-28T01:30:00Z");
        assert!(r.on_time("2018-10-28T00:30:00Z".parse().unwrap()));
    }
}
