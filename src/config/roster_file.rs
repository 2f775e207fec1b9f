//! `partnerships.toml`: the roster, read with every mistake reported at its line.
//!
//! The roster decides who is answered and whose sign-off counts, so a typo must never be
//! ignored: a score of 11, a statement "4c", a duplicate id or a domain claimed by two
//! partnerships are errors, not silently dropped values.

use super::reader::{Errors, Section};
use crate::domain::roster::{Award, AwardKind, Partnership, Roster};
use crate::domain::statement::{Score, Scores, StatementId};
use std::collections::HashMap;
use toml::de::DeValue;

/// Reads the roster from its text; errors go to `errors`.
pub fn read(source: &str, errors: &mut Errors) -> Roster {
    let mut roster = Roster::default();
    let Some(doc) = super::reader::parse(source, errors) else {
        return roster;
    };
    let mut top = Section::new("", Some(doc.get_ref()), 0);
    let Some(list) = top.raw("partnership") else {
        errors.push(
            0,
            "partnership",
            "no [[partnership]] entries: the roster is empty",
        );
        top.finish(errors);
        return roster;
    };
    let DeValue::Array(items) = list.get_ref() else {
        errors.push(
            list.span().start,
            "partnership",
            "expected [[partnership]] tables",
        );
        return roster;
    };
    for (i, item) in items.iter().enumerate() {
        let DeValue::Table(t) = item.get_ref() else {
            errors.push(item.span().start, "partnership", "expected a table");
            continue;
        };
        let section = Section::new(
            format!("partnership[{}]", i + 1),
            Some(t),
            item.span().start,
        );
        if let Some(p) = partnership(section, errors) {
            roster.partnerships.push(p);
        }
    }
    top.finish(errors);
    check_unique(&roster, source, errors);
    roster
}

fn partnership(mut s: Section, errors: &mut Errors) -> Option<Partnership> {
    let id = s.required_string("id", errors);
    let name = s.required_string("name", errors);
    let region = s.string("region", errors).map(|r| r.into_inner());
    let domains = lower_list(&mut s, "domains", errors, false);
    let la = lower_list(&mut s, "la_send_leads", errors, true);
    let yos = lower_list(&mut s, "yos_leads", errors, true);
    let baseline = baseline(&mut s, errors);
    let awards = awards(&mut s, errors);
    if let Some(id) = &id {
        let ok = !id.get_ref().is_empty()
            && id
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            errors.push(
                id.span().start,
                &s.key("id"),
                "use lower-case letters, digits, '-' or '_' (it appears in URLs and commands)",
            );
        }
    }
    if la.is_empty() {
        errors.push(
            s.offset,
            &s.key("la_send_leads"),
            "needs at least one address",
        );
    }
    if yos.is_empty() {
        errors.push(s.offset, &s.key("yos_leads"), "needs at least one address");
    }
    s.finish(errors);
    Some(Partnership {
        id: id?.into_inner(),
        name: name?.into_inner(),
        region,
        domains,
        la_send_leads: la,
        yos_leads: yos,
        baseline,
        awards,
    })
}

/// A list of addresses or domains, lower-cased; addresses must look like addresses.
fn lower_list(
    s: &mut Section,
    name: &'static str,
    errors: &mut Errors,
    addresses: bool,
) -> Vec<String> {
    let key = s.key(name);
    let mut out = Vec::new();
    for item in s.strings(name, errors).unwrap_or_default() {
        let v = item.get_ref().trim().to_ascii_lowercase();
        let valid = if addresses {
            v.split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'))
        } else {
            !v.is_empty() && !v.contains('@') && !v.contains(' ')
        };
        if valid {
            out.push(v);
        } else {
            let what = if addresses {
                "an email address"
            } else {
                "a domain"
            };
            errors.push(
                item.span().start,
                &key,
                format!("{:?} is not {what}", item.get_ref()),
            );
        }
    }
    out
}

fn baseline(s: &mut Section, errors: &mut Errors) -> Option<Scores> {
    let key = s.key("baseline");
    let v = s.raw("baseline")?;
    let DeValue::Table(t) = v.get_ref() else {
        errors.push(
            v.span().start,
            &key,
            "expected a table of statement = score",
        );
        return None;
    };
    let mut scores = Scores::new();
    for (k, val) in t.iter() {
        let name = k.get_ref().as_ref();
        let Some(statement) = StatementId::from_key(name) else {
            errors.push(
                k.span().start,
                &format!("{key}.{name}"),
                "not a statement area (use 1, 2, 3, 4a, 4b, 5 … 10)",
            );
            continue;
        };
        let score = match val.get_ref() {
            DeValue::Integer(i) => u8::from_str_radix(i.as_str(), i.radix())
                .ok()
                .and_then(Score::new),
            _ => None,
        };
        match score {
            Some(sc) => {
                scores.insert(statement, sc);
            }
            None => errors.push(
                val.span().start,
                &format!("{key}.{name}"),
                "must be a whole number from 0 to 10",
            ),
        }
    }
    Some(scores)
}

fn awards(s: &mut Section, errors: &mut Errors) -> Vec<Award> {
    let key = s.key("awards");
    let Some(v) = s.raw("awards") else {
        return Vec::new();
    };
    let DeValue::Array(items) = v.get_ref() else {
        errors.push(v.span().start, &key, "expected a list of awards");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let DeValue::Table(t) = item.get_ref() else {
            errors.push(item.span().start, &key, "expected a table");
            continue;
        };
        let mut a = Section::new(format!("{key}[{}]", i + 1), Some(t), item.span().start);
        let kind = a.choice("kind", &["quality_mark", "quality_lead"], errors);
        let date = a.required_string("date", errors).and_then(|d| {
            d.get_ref().parse::<jiff::civil::Date>().ok().or_else(|| {
                errors.push(
                    d.span().start,
                    &a.key("date"),
                    "expected a date like 2018-07-01",
                );
                None
            })
        });
        let commendation = a.choice("commendation", &["child_first"], errors);
        a.finish(errors);
        if let (Some(kind), Some(date)) = (kind, date) {
            out.push(Award {
                kind: if kind == "quality_lead" {
                    AwardKind::QualityLead
                } else {
                    AwardKind::QualityMark
                },
                date,
                child_first: commendation.is_some(),
            });
        }
    }
    out
}

/// Ids, lead addresses and domains must each belong to one partnership.
fn check_unique(roster: &Roster, source: &str, errors: &mut Errors) {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut domains: HashMap<&str, &str> = HashMap::new();
    for (i, p) in roster.partnerships.iter().enumerate() {
        if ids.insert(p.id.as_str(), i).is_some() {
            let at = find_after(source, &format!("\"{}\"", p.id), 0);
            errors.push(
                at,
                &format!("partnership[{}].id", i + 1),
                format!("duplicate id {:?}", p.id),
            );
        }
        for d in &p.domains {
            if let Some(other) = domains.insert(d.as_str(), p.id.as_str())
                && other != p.id
            {
                let at = find_last(source, &format!("\"{d}\""));
                errors.push(
                    at,
                    &format!("partnership[{}].domains", i + 1),
                    format!("domain {d:?} is listed for both {other:?} and {:?}", p.id),
                );
            }
        }
    }
}

fn find_after(source: &str, needle: &str, from: usize) -> usize {
    let first = source[from..].find(needle).map(|i| i + from);
    first
        .and_then(|f| source[f + 1..].find(needle).map(|i| i + f + 1))
        .or(first)
        .unwrap_or(0)
}

fn find_last(source: &str, needle: &str) -> usize {
    source
        .to_ascii_lowercase()
        .rfind(&needle.to_ascii_lowercase())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn errors_of(src: &str) -> Vec<String> {
        let mut e = Errors::new(Path::new("p.toml"), src);
        read(src, &mut e);
        e.list.iter().map(|e| e.to_string()).collect()
    }

    const GOOD: &str = r#"
[[partnership]]
id = "oxfordshire"
name = "Oxfordshire"
domains = ["Oxfordshire.example"]
la_send_leads = ["send.lead@oxfordshire.example"]
yos_leads = ["yjs.manager@oxfordshire.example"]
baseline = { "1" = 5, "4a" = 6 }
awards = [{ kind = "quality_lead", date = "2018-07-01", commendation = "child_first" }]
"#;

    #[test]
    fn a_good_roster_reads() {
        let mut e = Errors::new(Path::new("p.toml"), GOOD);
        let r = read(GOOD, &mut e);
        assert!(e.list.is_empty(), "{:?}", e.list);
        let p = &r.partnerships[0];
        assert_eq!(p.domains, vec!["oxfordshire.example"]);
        assert_eq!(p.baseline.as_ref().unwrap().len(), 2);
        assert!(p.awards[0].child_first);
    }

    #[test]
    fn every_mistake_is_named_with_its_line() {
        let src = GOOD
            .replace("\"4a\" = 6", "\"4c\" = 6, \"2\" = 11")
            .replace("name =", "nmae =");
        let errs = errors_of(&src);
        assert!(errs.contains(&"p.toml:8: partnership[1].baseline.4c: not a statement area (use 1, 2, 3, 4a, 4b, 5 … 10)".to_string()), "{errs:?}");
        assert!(
            errs.iter()
                .any(|e| e.starts_with("p.toml:8: partnership[1].baseline.2: must be")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("p.toml:4: partnership[1].nmae: unknown key")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("partnership[1].name: is required")),
            "{errs:?}"
        );
    }

    #[test]
    fn duplicate_ids_and_shared_domains_are_errors() {
        let src = format!("{GOOD}\n{}", GOOD.replace("baseline", "# baseline"));
        let errs = errors_of(&src);
        assert!(
            errs.iter()
                .any(|e| e.contains("partnership[2].id: duplicate id \"oxfordshire\"")),
            "{errs:?}"
        );
        let src2 = format!(
            "{GOOD}\n{}",
            GOOD.replace("id = \"oxfordshire\"", "id = \"other\"")
        );
        let errs = errors_of(&src2);
        assert!(
            errs.iter()
                .any(|e| e.contains("domain \"oxfordshire.example\" is listed for both")),
            "{errs:?}"
        );
        assert!(errs.iter().any(|e| e.starts_with("p.toml:15:")), "{errs:?}");
    }
}
