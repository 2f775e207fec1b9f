//! Workbooks made by real tools (the fixture corpus) and CSV variants.

use super::*;
use crate::extract::Limits;

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
    let files: [(&str, &[u8], FileKind); 4] = [
        (
            "xlsx",
            include_bytes!("../../../fixtures/files/001-xlsx-plain/Grid.xlsx"),
            FileKind::Xlsx,
        ),
        (
            "xlsm",
            include_bytes!("../../../fixtures/files/007-xlsm-macro-workbook/Swindon grid.xlsm"),
            FileKind::Xlsm,
        ),
        (
            "xls",
            include_bytes!("../../../fixtures/files/008-xls-legacy/Warwickshire grid 2018.xls"),
            FileKind::Xls,
        ),
        (
            "ods",
            include_bytes!(
                "../../../fixtures/files/009-ods-statement-text-only/St Helens grid.ods"
            ),
            FileKind::Ods,
        ),
    ];
    for (what, bytes, kind) in files {
        let mut b = Budget::new(Limits::default());
        let c = read_workbook("f", bytes, kind, &mut b);
        assert!(c.problems.is_empty(), "{what}: {:?}", c.problems);
        assert!(
            c.tables.iter().any(|t| t.cells.len() >= 22),
            "{what}: {:?}",
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
}

/// Found by the `attachment` fuzzer: a damaged CFB container made calamine's .xls reader
/// index out of bounds. The first byte of the input picked the kind.
#[test]
fn a_damaged_xls_container_is_corrupt_not_a_panic() {
    let input: &[u8] = include_bytes!("../../../tests/data/fuzz-attachment-xls-cfb.bin");
    let mut b = Budget::new(Limits::default());
    let c = read_workbook("Grid.xls", &input[1..], FileKind::Xls, &mut b);
    assert_eq!(c.problems.len(), 1);
}
