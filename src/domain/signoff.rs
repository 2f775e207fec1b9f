//! Joint sign-off: the partnership's LA SEND lead and YOS lead both on the message, and the
//! sender not failed by our trusted mail server's DMARC check.

use super::roster::Partnership;

/// Who signed off, and whether it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SignOff {
    /// An LA SEND lead of the partnership is on the message.
    pub la_send: bool,
    /// A YOS lead of the partnership is on the message.
    pub yos: bool,
    /// Both are there and the trusted server did not report `dmarc=fail`.
    pub verified: bool,
}

/// Sign-off from the message's addresses (From, Sender, Reply-To, To, Cc; any case).
/// `dmarc_failed` is the trusted Authentication-Results verdict.
pub fn assess(
    partnership: Option<&Partnership>,
    addresses: &[String],
    dmarc_failed: bool,
) -> SignOff {
    let Some(p) = partnership else {
        return SignOff::default();
    };
    let lower: Vec<String> = addresses.iter().map(|a| a.to_ascii_lowercase()).collect();
    let la_send = lower.iter().any(|a| p.la_send_leads.contains(a));
    let yos = lower.iter().any(|a| p.yos_leads.contains(a));
    SignOff {
        la_send,
        yos,
        verified: la_send && yos && !dmarc_failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oxon() -> Partnership {
        Partnership {
            id: "oxfordshire".into(),
            name: "Oxfordshire".into(),
            region: None,
            domains: vec!["oxfordshire.example".into()],
            la_send_leads: vec!["send.lead@oxfordshire.example".into()],
            yos_leads: vec!["yjs.manager@oxfordshire.example".into()],
            baseline: None,
            awards: vec![],
        }
    }

    #[test]
    fn both_leads_verify() {
        let a = vec![
            "Send.Lead@oxfordshire.example".to_string(),
            "yjs.manager@oxfordshire.example".to_string(),
        ];
        assert_eq!(
            assess(Some(&oxon()), &a, false),
            SignOff {
                la_send: true,
                yos: true,
                verified: true
            }
        );
        assert_eq!(
            assess(Some(&oxon()), &a, true),
            SignOff {
                la_send: true,
                yos: true,
                verified: false
            }
        );
    }

    #[test]
    fn one_lead_or_no_partnership_does_not() {
        let a = vec!["send.lead@oxfordshire.example".to_string()];
        assert_eq!(
            assess(Some(&oxon()), &a, false),
            SignOff {
                la_send: true,
                yos: false,
                verified: false
            }
        );
        assert_eq!(assess(None, &a, false), SignOff::default());
    }
}
