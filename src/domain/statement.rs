//! The eleven statement areas of the Ten Key Statement framework and their 0–10 scores.
//!
//! Statement 4 has two parts (4a and 4b), so there are eleven areas for ten statements. Every
//! reader in the crate turns whatever label a partnership wrote into a [`StatementId`] here, so
//! the leniency lives in one place.

use std::collections::BTreeMap;
use std::fmt;

/// One of the eleven statement areas: 1, 2, 3, 4a, 4b, 5, 6, 7, 8, 9, 10.
///
/// The derived order is the framework's order, so a `BTreeMap<StatementId, _>` lists areas as
/// the grid does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatementId {
    S1,
    S2,
    S3,
    S4a,
    S4b,
    S5,
    S6,
    S7,
    S8,
    S9,
    S10,
}

impl StatementId {
    /// All eleven areas in the framework's order.
    pub const ALL: [StatementId; 11] = [
        StatementId::S1,
        StatementId::S2,
        StatementId::S3,
        StatementId::S4a,
        StatementId::S4b,
        StatementId::S5,
        StatementId::S6,
        StatementId::S7,
        StatementId::S8,
        StatementId::S9,
        StatementId::S10,
    ];

    /// The key used in JSON, the roster and the config: `1` … `10`, `4a`, `4b`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementId::S1 => "1",
            StatementId::S2 => "2",
            StatementId::S3 => "3",
            StatementId::S4a => "4a",
            StatementId::S4b => "4b",
            StatementId::S5 => "5",
            StatementId::S6 => "6",
            StatementId::S7 => "7",
            StatementId::S8 => "8",
            StatementId::S9 => "9",
            StatementId::S10 => "10",
        }
    }

    /// Parses the exact key (`"4a"`, `"10"`); case-insensitive, surrounding space ignored.
    /// Used for configuration, where anything else (such as `"4c"`) is an error.
    pub fn from_key(key: &str) -> Option<StatementId> {
        let k = key.trim().to_ascii_lowercase();
        StatementId::ALL.into_iter().find(|s| s.as_str() == k)
    }

    /// A short title for replies and tables ("SEND reform knowledge: LA staff").
    pub fn short_title(self) -> &'static str {
        match self {
            StatementId::S1 => "LA SEND staff know SEND reform in youth justice",
            StatementId::S2 => "YOT staff know SEND reform in youth justice",
            StatementId::S3 => "Recent SEND awareness training for YOT staff",
            StatementId::S4a => "Timely information exchange with secure estate, health and care",
            StatementId::S4b => "Early identification of young people at risk",
            StatementId::S5 => "Screening by trained professionals informs provision",
            StatementId::S6 => "EHCP information sharing gives continuity of provision",
            StatementId::S7 => "Timely support for newly identified needs",
            StatementId::S8 => "Transition and resettlement planning for positive outcomes",
            StatementId::S9 => "Young people and families engaged and heard",
            StatementId::S10 => "Commissioners resource and review provision",
        }
    }

    /// The statement's own words, as the framework (and the Word summary sheet) gives them.
    pub fn full_text(self) -> &'static str {
        match self {
            StatementId::S1 => {
                "All Local Authority SEND Team staff (and others who work regularly with YOTs) have working knowledge of SEND Reform practice in the Youth Justice System"
            }
            StatementId::S2 => {
                "All staff within Youth Offending Teams (relevant staff in the Secure Estate) have a working knowledge of SEND Reform practice in the Youth Justice System"
            }
            StatementId::S3 => {
                "All staff who work with and within YOTs have had recent training that builds a basic awareness of the type and range of special educational needs that are prevalent in the youth justice system, as well as the complexities and impact of structural (social) disadvantage."
            }
            StatementId::S4a => {
                "Information exchange regarding all forms and levels of special educational needs between secure estate, health and care professionals, LAs and YOT is timely, comprehensive and leads to continuity of/establishing appropriate provision."
            }
            StatementId::S4b => {
                "Proactive information exchange and planning between LA SEND, Social, Health and LAC Teams, as well as YOT, leads to the early identification of YPs at risk of entering the youth justice system, with provision leading to reduced \"first time\" offending rates."
            }
            StatementId::S5 => {
                "Initial screening/assessment of YPs entering the Youth Justice System is conducted by trained / experienced professionals and informs provision mapping."
            }
            StatementId::S6 => {
                "If a YP has an EHCP, information sharing leads to continuity of provision (throughout youth justice system and into transition/resettlement)"
            }
            StatementId::S7 => {
                "If screening/assessment indicates a YP has high level needs that were previously unidentified, or has SEN support needs not met by an EHCP, timely and appropriate support is either implemented or commissioned whilst further assessment is considered."
            }
            StatementId::S8 => {
                "Multiagency teams, working in partnership with the YOT, ensure that transition and resettlement planning/delivery are aligned to securing a series of positive life outcomes for YPs (education, independence, self-efficacy, work, etc.)"
            }
            StatementId::S9 => {
                "Young people and their families are actively engaged in all aspects of screening, identification, diagnosis and intervention planning, and have a voice in shaping the provision, and evaluating its impact"
            }
            StatementId::S10 => {
                "Strategic Commissioners within Local Authority Area Partnerships ensure that the needs of YPs in the youth justice system are adequately resourced and supported, and the provision reviewed regularly."
            }
        }
    }
}

impl fmt::Display for StatementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A score on the ten-point grid, 0 ("inappropriate/inapplicable") to 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(u8);

impl Score {
    /// A score if `value` is within 0..=10.
    pub fn new(value: u8) -> Option<Score> {
        (value <= 10).then_some(Score(value))
    }

    /// The number, 0..=10.
    pub fn value(self) -> u8 {
        self.0
    }

    /// 0 means the area was marked inapplicable: it counts as not scored for the awards.
    pub fn is_inapplicable(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl serde::Serialize for StatementId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for StatementId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        StatementId::from_key(&key)
            .ok_or_else(|| serde::de::Error::custom(format!("{key:?} is not a statement area")))
    }
}

impl serde::Serialize for Score {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Score {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = u8::deserialize(deserializer)?;
        Score::new(v).ok_or_else(|| serde::de::Error::custom(format!("{v} is outside 0–10")))
    }
}

/// Scores by statement area; an area not scored is absent.
pub type Scores = BTreeMap<StatementId, Score>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for s in StatementId::ALL {
            assert_eq!(StatementId::from_key(s.as_str()), Some(s));
            assert_eq!(StatementId::from_key(&s.as_str().to_uppercase()), Some(s));
        }
        assert_eq!(StatementId::from_key("4c"), None);
        assert_eq!(StatementId::from_key("11"), None);
        assert_eq!(StatementId::from_key("4"), None);
    }

    #[test]
    fn score_range() {
        assert_eq!(Score::new(10).map(Score::value), Some(10));
        assert!(Score::new(11).is_none());
        assert!(Score::new(0).unwrap().is_inapplicable());
    }

    #[test]
    fn order_is_the_framework_order() {
        let mut v = StatementId::ALL.to_vec();
        v.reverse();
        v.sort();
        assert_eq!(v, StatementId::ALL.to_vec());
    }
}
