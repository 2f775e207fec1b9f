//! Evidence files: which attachments are case studies (and for which statements) and which
//! are witness testimonies, from the file name and a document's title and opening lines.
//!
//! The spec's rules, in short: "case study", "case studies" and "case-study" mark a case study;
//! a statement is named with a statement word before it ("statement 8", "KS8", "KS 4(a)",
//! "key statement 4a", "statements 5 and 8"), or as 4a, 4b, 4(a) or 4(b) anywhere; a bare
//! number with no statement word does not link (so "Case study 2.docx" stays unlinked).

use super::statement::StatementId;
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// What an evidence file was taken as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceKind {
    /// A case study linked to these statements (never empty).
    CaseStudy(BTreeSet<StatementId>),
    /// A case study that names no statement.
    CaseStudyUnlinked,
    WitnessTestimony,
    /// Anything else (a covering letter, a protocol, an action plan).
    Other,
}

/// Normalises separators so "Case_Study-KS8" reads as "case study ks8".
fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '_' | '-' | '–' | '—' | '.' => ' ',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

static CASE_STUDY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bcase\s*stud(?:y|ies)\b").expect("valid regex"));
static WITNESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:witness\s+(?:testimon(?:y|ies)|statements?)|testimon(?:y|ies|ial|ials))\b")
        .expect("valid regex")
});
/// A statement word, then a list of statement numbers ("statements 5, 8 and 4a").
static NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:key\s*statements?|statements?|kss?)\s*(?:no\s*)?[:#]?\s*((?:\d{1,2}\s*(?:\(\s*[ab]\s*\)|[ab]\b)?)(?:\s*(?:,|&|and|\+|/)\s*\d{1,2}\s*(?:\(\s*[ab]\s*\)|[ab]\b)?)*)",
    )
    .expect("valid regex")
});
static ONE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d{1,2})\s*(?:\(\s*([ab])\s*\)|([ab])\b)?").expect("valid regex")
});
/// 4a, 4b, 4(a), 4(b) anywhere: only statement 4 has parts, so these need no statement word.
static FOUR_PART: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b4\s?(?:\(\s*([ab])\s*\)|([ab])\b)").expect("valid regex"));

fn statement(number: &str, part: Option<&str>) -> Option<StatementId> {
    let key = format!("{}{}", number.trim_start_matches('0'), part.unwrap_or(""));
    StatementId::from_key(&key)
}

/// The statements named in `text` by the spec's rules.
pub fn named_statements(text: &str) -> BTreeSet<StatementId> {
    let text = normalise(text);
    let mut found = BTreeSet::new();
    for caps in NAMED.captures_iter(&text) {
        let Some(list) = caps.get(1) else { continue };
        for n in ONE_NUMBER.captures_iter(list.as_str()) {
            let part = n.get(2).or(n.get(3)).map(|m| m.as_str());
            if let Some(s) = n.get(1).and_then(|num| statement(num.as_str(), part)) {
                found.insert(s);
            }
        }
    }
    for caps in FOUR_PART.captures_iter(&text) {
        let part = caps.get(1).or(caps.get(2)).map(|m| m.as_str());
        if let Some(s) = statement("4", part) {
            found.insert(s);
        }
    }
    found
}

/// Classifies an evidence file from its name and, for documents, its title and opening text
/// (only the first five non-empty lines are read, as the spec says).
pub fn classify(name: &str, title: Option<&str>, text: &str) -> EvidenceKind {
    let head: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(5)
        .collect();
    let mut sources: Vec<String> = vec![strip_extension(name).to_string()];
    sources.extend(title.map(str::to_string));
    sources.extend(head.iter().map(|l| l.to_string()));

    let is_case_study = sources.iter().any(|s| CASE_STUDY.is_match(&normalise(s)));
    if is_case_study {
        let mut linked = BTreeSet::new();
        for s in &sources {
            linked.extend(named_statements(s));
        }
        return if linked.is_empty() {
            EvidenceKind::CaseStudyUnlinked
        } else {
            EvidenceKind::CaseStudy(linked)
        };
    }
    if sources.iter().any(|s| WITNESS.is_match(&normalise(s))) {
        return EvidenceKind::WitnessTestimony;
    }
    EvidenceKind::Other
}

/// "Case study KS8.docx" → "Case study KS8" (so ".docx" is not read as words).
fn strip_extension(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 5 && !ext.contains(' ') => stem,
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatementId::*;

    fn linked(name: &str) -> Vec<StatementId> {
        match classify(name, None, "") {
            EvidenceKind::CaseStudy(s) => s.into_iter().collect(),
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn names_from_the_spec_link() {
        assert_eq!(linked("Case study - statement 5.docx"), vec![S5]);
        assert_eq!(linked("KS8 case study.pdf"), vec![S8]);
        assert_eq!(linked("Case-study KS 4(a).docx"), vec![S4a]);
        assert_eq!(
            linked("case studies key statement 4a and 10.docx"),
            vec![S4a, S10]
        );
        assert_eq!(linked("Case_Study_KS10.docx"), vec![S10]);
        assert_eq!(linked("Case study 4b.docx"), vec![S4b]);
        assert_eq!(linked("Case study (4(b)).docx"), vec![S4b]);
        assert_eq!(
            linked("Case studies - statements 5, 8 & 9.docx"),
            vec![S5, S8, S9]
        );
    }

    #[test]
    fn bare_numbers_and_bad_statements_do_not_link() {
        assert_eq!(
            classify("Case study 2.docx", None, ""),
            EvidenceKind::CaseStudyUnlinked
        );
        assert_eq!(
            classify("Case study - youth panel.docx", None, ""),
            EvidenceKind::CaseStudyUnlinked
        );
        assert_eq!(
            classify("Case study statement 11.docx", None, ""),
            EvidenceKind::CaseStudyUnlinked
        );
        assert_eq!(
            classify("Case study KS4.docx", None, ""),
            EvidenceKind::CaseStudyUnlinked
        );
        assert_eq!(
            classify("Case study 2016-17.docx", None, ""),
            EvidenceKind::CaseStudyUnlinked
        );
    }

    #[test]
    fn opening_text_links_and_only_five_lines_count() {
        let text = "\n\nYouth Justice SEND\nCase Study\nKey Statement 8: resettlement\n";
        assert_eq!(
            classify("Evidence A.docx", None, text),
            EvidenceKind::CaseStudy([S8].into())
        );
        let late = "a\nb\nc\nd\ne\nCase study statement 8\n";
        assert_eq!(classify("Evidence A.docx", None, late), EvidenceKind::Other);
        assert_eq!(
            classify("Evidence.docx", Some("Case study: statement 9"), ""),
            EvidenceKind::CaseStudy([S9].into())
        );
    }

    #[test]
    fn witness_testimonies() {
        assert_eq!(
            classify("Witness testimony - Virtual School Head.docx", None, ""),
            EvidenceKind::WitnessTestimony
        );
        assert_eq!(
            classify("Testimonial from SaLT.pdf", None, ""),
            EvidenceKind::WitnessTestimony
        );
        assert_eq!(classify("Protocol 2018.pdf", None, ""), EvidenceKind::Other);
    }
}
