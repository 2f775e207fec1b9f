//! Grid reading on tables and text shaped as partnerships send them.

use super::*;
use crate::domain::problem::ProblemCode;
use crate::domain::statement::{Score, StatementId};
use crate::domain::table::CellValue;

fn t(rows: &[&[&str]]) -> Table {
    Table::from_text_rows(
        "Grid",
        &rows
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect::<Vec<_>>(),
    )
}

fn keys(s: &Scores) -> Vec<(String, u8)> {
    s.iter()
        .map(|(k, v)| (k.as_str().to_string(), v.value()))
        .collect()
}

fn codes(g: &GridRead) -> Vec<ProblemCode> {
    g.problems.iter().map(|p| p.code).collect()
}

const LABELS: [&str; 11] = ["1", "2", "3", "4a", "4b", "5", "6", "7", "8", "9", "10"];

#[test]
fn a_score_column() {
    let mut rows: Vec<Vec<&str>> = vec![vec!["Key Statement", "Score"]];
    for l in LABELS {
        rows.push(vec![l, "7"]);
    }
    let table = t(&rows.iter().map(|r| r.as_slice()).collect::<Vec<_>>());
    let g = read_table(&table, "Grid.xlsx").unwrap();
    assert_eq!(g.scores.len(), 11);
    assert!(g.problems.is_empty());
}

#[test]
fn baseline_rescore_and_commentary_after_a_title_block() {
    let mut rows: Vec<Vec<String>> = vec![
        vec!["Youth Justice SEND Project".into()],
        vec!["Partnership:".into(), "Oxfordshire".into()],
        vec![
            "Key Statement".into(),
            "Statement".into(),
            "Baseline (2017)".into(),
            "Re-score (2018)".into(),
            "Commentary".into(),
        ],
    ];
    for (i, s) in StatementId::ALL.iter().enumerate() {
        rows.push(vec![
            s.as_str().into(),
            s.full_text().into(),
            "5".into(),
            (6 + i % 2).to_string(),
            "Up from 5: 12 of 14 trained".into(),
        ]);
    }
    let g = read_table(&Table::from_text_rows("Re-score", &rows), "G.xlsx").unwrap();
    assert_eq!(g.scores[&StatementId::S1].value(), 6);
    assert_eq!(g.scores[&StatementId::S2].value(), 7);
    assert_eq!(g.baseline.len(), 11);
    assert!(g.problems.is_empty(), "{:?}", g.problems);
}

#[test]
fn the_circle_grid_with_two_marks_and_none() {
    let mut rows: Vec<Vec<String>> = vec![
        std::iter::once("Key Statement".to_string())
            .chain((0..=10).map(|n| n.to_string()))
            .collect(),
    ];
    for (i, s) in StatementId::ALL.iter().enumerate() {
        let mut r = vec![format!("{} {}", s.as_str(), s.full_text())];
        for n in 0..=10 {
            let marked = (n == 7) || (i == 3 && n == 6);
            r.push(if marked && i != 4 { "●" } else { "○" }.to_string());
        }
        rows.push(r);
    }
    let g = read_table(&Table::from_text_rows("table 1", &rows), "Summary.docx").unwrap();
    assert_eq!(g.scores.len(), 9);
    assert_eq!(
        codes(&g),
        vec![ProblemCode::AmbiguousScore, ProblemCode::StatementMissing]
    );
    assert_eq!(
        g.problems[0].detail,
        "Summary.docx, table 1, row 5: two marks for statement 4a (at 6 and 7), so we could not tell which score you meant."
    );
}

#[test]
fn out_of_range_words_and_blank_cells() {
    let mut rows: Vec<Vec<String>> = vec![vec!["Key Statement".into(), "Re-score".into()]];
    for s in StatementId::ALL {
        let v = match s {
            StatementId::S3 => "11".to_string(),
            StatementId::S4b => String::new(),
            StatementId::S5 => "7 - Widespread effective practice".into(),
            _ => "6".into(),
        };
        rows.push(vec![format!("Key Statement {}", s.as_str()), v]);
    }
    let g = read_table(&Table::from_text_rows("Grid", &rows), "Grid.xlsx").unwrap();
    assert_eq!(g.scores.len(), 9);
    assert_eq!(g.scores[&StatementId::S5].value(), 7);
    assert_eq!(
        codes(&g),
        vec![ProblemCode::ScoreOutOfRange, ProblemCode::StatementMissing]
    );
    assert!(
        g.problems[0]
            .detail
            .starts_with("Grid.xlsx, sheet 'Grid', B4: 11 for statement 3"),
        "{}",
        g.problems[0].detail
    );
}

#[test]
fn numbers_as_cells_and_a_scoring_guide_is_not_a_grid() {
    let guide = t(&[
        &["Score", "Meaning"],
        &["0", "Inappropriate"],
        &["1", "We do not do this"],
        &["3", "Some evidence"],
        &["5", "Effective"],
        &["7", "Widespread"],
        &["9", "Outstanding"],
        &["10", "Exemplary"],
        &["2", "x"],
        &["6", "y"],
    ]);
    assert!(read_table(&guide, "G.xlsx").is_none());
    let rows: Vec<Vec<Option<CellValue>>> = StatementId::ALL
        .iter()
        .map(|s| {
            vec![
                Some(CellValue::Text(format!("KS{}", s.as_str()))),
                Some(CellValue::Number(7.0)),
            ]
        })
        .collect();
    let g = read_table(&Table::from_rows("Grid", rows), "G.xlsx").unwrap();
    assert_eq!(g.scores.len(), 11);
}

#[test]
fn statements_across_a_row() {
    let mut header = vec!["Statement".to_string()];
    let mut scores = vec!["Score".to_string()];
    for s in StatementId::ALL {
        header.push(format!("KS{}", s.as_str()));
        scores.push("8".into());
    }
    let g = read_table(&Table::from_text_rows("Grid", &[header, scores]), "G.xlsx").unwrap();
    assert_eq!(g.scores.len(), 11);
}

#[test]
fn workbook_with_baseline_and_rescore_sheets() {
    let sheet = |name: &str, v: &str| {
        let mut rows = vec![vec!["Key Statement".to_string(), "Score".to_string()]];
        for l in LABELS {
            rows.push(vec![l.to_string(), v.to_string()]);
        }
        Table::from_text_rows(name, &rows)
    };
    let g = read_tables(
        &[sheet("Baseline 2017", "5"), sheet("Re-score 2018", "7")],
        "W.xlsx",
    )
    .unwrap();
    assert!(g.scores.values().all(|v| v.value() == 7));
    assert!(g.baseline.values().all(|v| v.value() == 5));
    let g = read_tables(&[sheet("Draft", "5"), sheet("Final", "7")], "W.xlsx").unwrap();
    assert!(g.scores.is_empty());
    assert_eq!(codes(&g), vec![ProblemCode::AmbiguousGrid]);
}

#[test]
fn typed_scores_in_a_body() {
    let body = "Dear team,\n\nOur scores:\nStatement 1: 7\nStatement 2 - 6\nKS3 = 7\nKey statement 4(a): 8\nStatement 4b: 7\nKS 5 – 7\nStatement 6: 7/10\nStatement 7 – timely support – 6\nStatement 8: 7\nStatement 9: 7\nKS 10 - 8\n\nThanks";
    let g = read_text(body, "body", 6).unwrap();
    assert_eq!(
        keys(&g.scores),
        vec![
            ("1".into(), 7),
            ("2".into(), 6),
            ("3".into(), 7),
            ("4a".into(), 8),
            ("4b".into(), 7),
            ("5".into(), 7),
            ("6".into(), 7),
            ("7".into(), 6),
            ("8".into(), 7),
            ("9".into(), 7),
            ("10".into(), 8)
        ]
    );
    assert!(g.problems.is_empty(), "{:?}", g.problems);
}

#[test]
fn five_statements_are_not_a_grid_six_are() {
    let five = "Statement 1: 7\nStatement 2: 7\nStatement 3: 7\nStatement 5: 7\nStatement 6: 7\n";
    assert!(read_text(five, "body", 6).is_none());
    let six = format!("{five}Statement 8: 7\n");
    let g = read_text(&six, "body", 6).unwrap();
    assert_eq!(g.scores.len(), 6);
    assert_eq!(codes(&g).len(), 5);
}

#[test]
fn cells_on_their_own_lines() {
    let mut text = String::from("Key Statement\nScore\nEvidence\n");
    for (i, l) in LABELS.iter().enumerate() {
        text.push_str(&format!("Statement {l}\n{}\n", 6 + i % 2));
        if i == 2 {
            text.push_str("Training matrix 2017-\n18\n");
        }
    }
    let g = read_text(&text, "Grid.pdf", 6).unwrap();
    assert_eq!(g.scores.len(), 11, "{:?}", g.problems);
    assert_eq!(g.scores[&StatementId::S4a], Score::new(7).unwrap());
    let mut bare = String::new();
    for l in LABELS {
        bare.push_str(&format!("{l}\n7\n"));
    }
    assert_eq!(read_text(&bare, "body", 6).unwrap().scores.len(), 11);
}

#[test]
fn conflicting_typed_scores_are_ambiguous() {
    let body = "Statement 1: 7\nStatement 2: 7\nStatement 3: 7\nStatement 4a: 7\nStatement 4b: 7\nStatement 5: 7\nStatement 1: 8\n";
    let g = read_text(body, "body", 6).unwrap();
    assert!(!g.scores.contains_key(&StatementId::S1));
    assert!(codes(&g).contains(&ProblemCode::AmbiguousScore));
}

#[test]
fn bare_numbers_with_scores_and_tab_separated_rows() {
    let body = "Our scores\n1 - 7\n2 - 7\n3: 6\n4a - 7\n4(b) - 7\n5 - 8\n6 - 7\n7 - 7\n8 - 9\n9 - 7\n10 - 7\n";
    let g = read_text(body, "body", 6).unwrap();
    assert_eq!(g.scores.len(), 11, "{:?}", g.problems);
    assert_eq!(g.scores[&StatementId::S8].value(), 9);
    let tabs = "Key Statement\tStatement\tScore\n1\tAll Local Authority SEND Team staff\t7\n2\tAll staff within YOTs\t6\n3\tRecent training\t7\n4a\tInformation exchange\t7\n4b\tProactive exchange\t7\n5\tScreening\t7\n";
    let g = read_text(tabs, "body", 6).unwrap();
    assert_eq!(g.scores.len(), 6, "{:?}", g.problems);
    assert_eq!(g.scores[&StatementId::S2].value(), 6);
    assert!(read_text("Meeting 1 - 2 pm\nRoom 3 - 4\n", "body", 6).is_none());
}
