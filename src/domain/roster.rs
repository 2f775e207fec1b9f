//! The partnerships taking part, their leads, sender domains and initial benchmarking scores,
//! and how a message's addresses identify one of them.

use super::statement::Scores;

/// An award a partnership already holds (a Quality Lead is redesignated about three years on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Award {
    pub kind: AwardKind,
    /// ISO date as written in the roster.
    pub date: jiff::civil::Date,
    pub child_first: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwardKind {
    QualityMark,
    QualityLead,
}

impl AwardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AwardKind::QualityMark => "quality_mark",
            AwardKind::QualityLead => "quality_lead",
        }
    }
}

/// One local area partnership (LA SEND team plus Youth Offending / Youth Justice Service).
#[derive(Debug, Clone, PartialEq)]
pub struct Partnership {
    pub id: String,
    pub name: String,
    pub region: Option<String>,
    /// Sender domains, lower case.
    pub domains: Vec<String>,
    /// Addresses of the LA SEND leads, lower case.
    pub la_send_leads: Vec<String>,
    /// Addresses of the YOS leads, lower case.
    pub yos_leads: Vec<String>,
    /// Initial benchmarking scores; `None` when the partnership did not take part.
    pub baseline: Option<Scores>,
    pub awards: Vec<Award>,
}

impl Partnership {
    /// Every lead's address, LA SEND leads first: who a reply or an outcome goes to.
    pub fn leads(&self) -> Vec<String> {
        self.la_send_leads
            .iter()
            .chain(&self.yos_leads)
            .cloned()
            .collect()
    }

    /// True when `addr` (lower case) is one of this partnership's leads.
    pub fn is_lead(&self, addr: &str) -> bool {
        self.la_send_leads.iter().any(|a| a == addr) || self.yos_leads.iter().any(|a| a == addr)
    }

    /// True when `domain` (lower case) is one of ours or a subdomain of one.
    pub fn owns_domain(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| {
            domain == d
                || (domain.len() > d.len()
                    && domain.ends_with(d.as_str())
                    && domain.as_bytes()[domain.len() - d.len() - 1] == b'.')
        })
    }
}

/// Every partnership of the round.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Roster {
    pub partnerships: Vec<Partnership>,
}

impl Roster {
    pub fn get(&self, id: &str) -> Option<&Partnership> {
        self.partnerships.iter().find(|p| p.id == id)
    }

    /// Identifies the partnership as the spec says: first a lead's exact address among
    /// `addresses` (From, Sender, Reply-To, To, Cc, in that order); else the From domain, exact
    /// or a subdomain of a roster domain. Comparison is case-insensitive.
    pub fn identify(&self, addresses: &[String], from: Option<&str>) -> Option<&Partnership> {
        for addr in addresses {
            let addr = addr.to_ascii_lowercase();
            if let Some(p) = self.partnerships.iter().find(|p| p.is_lead(&addr)) {
                return Some(p);
            }
        }
        let from = from?.to_ascii_lowercase();
        let domain = from.rsplit_once('@')?.1;
        // The longest matching roster domain wins, so "yjs.county.example" beats "county.example".
        self.partnerships
            .iter()
            .filter_map(|p| {
                p.domains
                    .iter()
                    .filter(|d| {
                        domain == d.as_str()
                            || (domain.ends_with(d.as_str())
                                && domain.len() > d.len()
                                && domain.as_bytes()[domain.len() - d.len() - 1] == b'.')
                    })
                    .map(|d| d.len())
                    .max()
                    .map(|len| (len, p))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, p)| p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, domain: &str) -> Partnership {
        Partnership {
            id: id.into(),
            name: id.into(),
            region: None,
            domains: vec![domain.into()],
            la_send_leads: vec![format!("send.lead@{domain}")],
            yos_leads: vec![format!("yjs.manager@{domain}")],
            baseline: None,
            awards: vec![],
        }
    }

    #[test]
    fn identifies_by_lead_address_first() {
        let r = Roster {
            partnerships: vec![
                p("oxon", "oxfordshire.example"),
                p("swin", "swindon.example"),
            ],
        };
        let addrs = vec![
            "someone@oxfordshire.example".to_string(),
            "YJS.Manager@Swindon.example".to_string(),
        ];
        assert_eq!(
            r.identify(&addrs, Some("someone@oxfordshire.example"))
                .unwrap()
                .id,
            "swin"
        );
    }

    #[test]
    fn identifies_by_domain_and_subdomain_only() {
        let r = Roster {
            partnerships: vec![p("oxon", "oxfordshire.example")],
        };
        assert_eq!(
            r.identify(&[], Some("a@OXFORDSHIRE.example")).unwrap().id,
            "oxon"
        );
        assert_eq!(
            r.identify(&[], Some("a@yjs.oxfordshire.example"))
                .unwrap()
                .id,
            "oxon"
        );
        assert!(r.identify(&[], Some("a@notoxfordshire.example")).is_none());
        assert!(
            r.identify(&[], Some("a@oxfordshire.example.evil"))
                .is_none()
        );
        assert!(r.identify(&[], None).is_none());
    }
}
