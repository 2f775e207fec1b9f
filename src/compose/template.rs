//! The grid template (xlsx): what a partnership with no readable grid is sent, and what
//! `yjsend template` writes. For a partnership on the roster it carries their initial
//! benchmarking scores with space to re-score and comment, as the January redistribution did.
//!
//! Its layout is one the grid reader reads (a title block, then Key Statement, Statement,
//! Baseline, Re-score, Commentary), and a test reads it back.

use crate::domain::roster::Partnership;
use crate::domain::round::Round;
use crate::domain::statement::StatementId;
use rust_xlsxwriter::{
    DataValidation, DataValidationRule, Format, FormatAlign, FormatBorder, Workbook, XlsxError,
};

/// The header row of the grid, 0-based.
pub const HEADER_ROW: u32 = 5;

/// Builds the template; `partnership` fills in the name and baseline when known.
pub fn build(round: &Round, partnership: Option<&Partnership>) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Rescore")?;
    let title = Format::new().set_bold().set_font_size(14);
    let bold = Format::new().set_bold();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_background_color("#DDEBF7");
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);
    let centred = Format::new()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);
    let input = centred.clone().set_background_color("#FFF2CC");

    sheet.write_string_with_format(
        0,
        0,
        "Youth Justice SEND: Ten Key Statement scoring grid",
        &title,
    )?;
    sheet.write_string(1, 0, &round.name)?;
    let who = partnership.map_or("Partnership: ".to_string(), |p| {
        format!("Partnership: {}", p.name)
    });
    sheet.write_string_with_format(2, 0, &who, &bold)?;
    sheet.write_string(
        3,
        0,
        "Score each statement 0–10 (0 inapplicable, 1 we do not do this, 3 some evidence, 5 effective practice not yet consistent, 7 widespread effective practice with better outcomes, 9 case studies of outstanding practice). Add a commentary for any score that has improved, and a case study for each score of 8 or more.",
    )?;

    let headers = [
        "Key Statement",
        "Statement",
        "Baseline (initial benchmarking)",
        "Re-score",
        "Commentary",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(HEADER_ROW, c as u16, *h, &header)?;
    }
    let baseline = partnership.and_then(|p| p.baseline.as_ref());
    for (i, id) in StatementId::ALL.into_iter().enumerate() {
        let row = HEADER_ROW + 1 + i as u32;
        sheet.write_string_with_format(row, 0, id.as_str(), &centred)?;
        sheet.write_string_with_format(row, 1, id.full_text(), &wrap)?;
        match baseline.and_then(|b| b.get(&id)) {
            Some(score) => {
                sheet.write_number_with_format(row, 2, score.value() as f64, &centred)?
            }
            None => sheet.write_blank(row, 2, &centred)?,
        };
        sheet.write_blank(row, 3, &input)?;
        sheet.write_blank(row, 4, &wrap)?;
    }
    let last = HEADER_ROW + StatementId::ALL.len() as u32;
    let validation = DataValidation::new()
        .allow_whole_number(DataValidationRule::Between(0, 10))
        .set_error_message("Please enter a whole number from 0 to 10.")?;
    sheet.add_data_validation(HEADER_ROW + 1, 3, last, 3, &validation)?;
    sheet.set_column_width(0, 10)?;
    sheet.set_column_width(1, 70)?;
    sheet.set_column_width(2, 16)?;
    sheet.set_column_width(3, 10)?;
    sheet.set_column_width(4, 50)?;
    sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::statement::Score;
    use calamine::{Data, Reader, Xlsx};

    fn round() -> Round {
        let tz = jiff::tz::TimeZone::get("Europe/London").unwrap();
        Round {
            name: "Quality Mark and Quality Lead 2018".into(),
            reference_prefix: "YJS-2018".into(),
            deadline: Round::resolve_deadline("2018-02-23T23:59:59".parse().unwrap(), &tz).unwrap(),
            timezone: tz,
            panel_meets: None,
            outcomes_by: None,
        }
    }

    #[test]
    fn carries_the_baseline_and_an_empty_rescore_column() {
        let baseline = StatementId::ALL
            .into_iter()
            .enumerate()
            .map(|(i, s)| (s, Score::new((i % 10) as u8 + 1).unwrap()))
            .collect();
        let p = Partnership {
            id: "oxfordshire".into(),
            name: "Oxfordshire".into(),
            region: None,
            domains: vec![],
            la_send_leads: vec![],
            yos_leads: vec![],
            baseline: Some(baseline),
            awards: vec![],
        };
        let bytes = build(&round(), Some(&p)).unwrap();
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("Rescore").unwrap();
        let h = HEADER_ROW;
        assert_eq!(
            range.get_value((h, 3)),
            Some(&Data::String("Re-score".into()))
        );
        assert_eq!(range.get_value((h + 1, 0)), Some(&Data::String("1".into())));
        assert_eq!(
            range.get_value((h + 4, 0)),
            Some(&Data::String("4a".into()))
        );
        assert_eq!(range.get_value((h + 1, 2)), Some(&Data::Float(1.0)));
        assert_eq!(range.get_value((h + 11, 2)), Some(&Data::Float(1.0)));
        assert_eq!(
            range.get_value((2, 0)),
            Some(&Data::String("Partnership: Oxfordshire".into()))
        );
        assert!(matches!(
            range.get_value((h + 1, 3)),
            None | Some(Data::Empty)
        ));
    }
}
