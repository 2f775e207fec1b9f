//! Workbooks made by real tools (the fixture corpus) and CSV variants.

use super::*;
use crate::extract::Limits;
use std::path::Path;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/files")
            .join(rel),
    )
    .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn cell(t: &Table, a1: &str) -> Option<String> {
    t.cells
        .iter()
        .find(|c| c.a1() == a1)
        .map(|c| c.value.to_text())
}

#[test]
fn csv_with_semicolons_and_cp1252() {
    let mut b = Budget::new(Limits::default());
    let c = read_csv(
        "g.csv",
        b"Statement;Score\r\n\"Caf\xe9 \x93quoted\x94\";7\r\n",
        &mut b,
    );
    let t = &c.tables[0];
    assert_eq!(cell(t, "A2").as_deref(), Some("Café “quoted”"));
    assert_eq!(cell(t, "B2").as_deref(), Some("7"));
}

#[test]
fn csv_with_bom_and_commas_inside_quotes() {
    let mut b = Budget::new(Limits::default());
    let c = read_csv(
        "g.csv",
        "\u{feff}KS,\"Text, with comma\",Score\n1,\"a, b\",6\n".as_bytes(),
        &mut b,
    );
    let t = &c.tables[0];
    assert_eq!(cell(t, "A1").as_deref(), Some("KS"));
    assert_eq!(cell(t, "C2").as_deref(), Some("6"));
}

#[test]
fn every_spreadsheet_kind_of_the_corpus_reads() {
    for (dir, kind) in [
        ("001-xlsx-plain", FileKind::Xlsx),
        ("007-xlsm-macro-workbook", FileKind::Xlsm),
        ("008-xls-legacy", FileKind::Xls),
        ("009-ods-statement-text-only", FileKind::Ods),
    ] {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/files")
            .join(dir);
        let file = std::fs::read_dir(&folder)
            .unwrap()
            .flatten()
            .next()
            .unwrap()
            .path();
        let bytes = std::fs::read(&file).unwrap();
        let mut b = Budget::new(Limits::default());
        let c = read_workbook("f", &bytes, kind, &mut b);
        assert!(c.problems.is_empty(), "{dir}: {:?}", c.problems);
        assert!(
            c.tables.iter().any(|t| t.cells.len() >= 22),
            "{dir}: {:?}",
            c.tables.iter().map(|t| t.cells.len()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn junk_named_as_a_workbook_is_corrupt() {
    for kind in [FileKind::Xlsx, FileKind::Xls, FileKind::Ods, FileKind::Xlsb] {
        let mut b = Budget::new(Limits::default());
        let c = read_workbook(
            "Grid.xlsx",
            b"PK\x03\x04 this is not a zip at all",
            kind,
            &mut b,
        );
        assert_eq!(c.problems.len(), 1, "{kind:?}");
        assert!(c.tables.is_empty());
    }
    let _ = fixture;
}
