//! The partnership's profile as a PNG: the eleven areas along the bottom, the 0–10 score up the
//! side, the baseline and the re-score as two lines, and the award thresholds marked.
//!
//! Pure: bytes in memory, no files, no system fonts. Text is drawn with DejaVu Sans embedded in
//! the binary, so the chart looks the same on a server without fontconfig. The picture is meant
//! for an email read on a phone: small (640×360), plain, and in colours that stay apart for
//! colour-blind readers (the Okabe–Ito blue and orange), with the baseline also dashed so it
//! does not depend on colour at all.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use crate::domain::statement::{Scores, StatementId};

/// Width and height in pixels: legible on a phone, small enough to attach.
const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;

/// The re-score: solid, on top.
const RESCORE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
/// The baseline: dashed, underneath.
const BASELINE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
/// The award thresholds: grey, so they read as reference lines rather than data.
const THRESHOLD: RGBColor = RGBColor(0x60, 0x60, 0x60);
const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// The floors every area must reach: 6 for the Quality Mark, 7 for the Quality Lead (the full
/// criteria are in `domain::eligibility`). A reader sees at a glance which areas fall short.
const QUALITY_MARK: f64 = 6.0;
const QUALITY_LEAD: f64 = 7.0;

/// The right-hand margin holds the threshold labels and the legend, so neither covers a line.
const SIDE: i32 = 118;

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the embedded font could not be loaded")]
    Font,
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    #[error("encoding the chart as PNG failed: {0}")]
    Encode(#[from] png::EncodingError),
}

/// Draws the profile: the eleven areas along the x axis in framework order (1, 2, 3, 4a, 4b, 5..10),
/// score 0–10 on the y axis; the baseline (when given) and the re-score as two lines with
/// markers ("joining the dots"); horizontal lines at 6 (Quality Mark) and 7 (Quality Lead),
/// labelled; a legend. A score of 0 ("inappropriate/inapplicable" in the framework) and an
/// area not scored are left out: the line breaks there rather than dropping to 0.
pub fn profile_png(
    title: &str,
    baseline: Option<&Scores>,
    rescore: &Scores,
) -> Result<Vec<u8>, ChartError> {
    let (rgb, _) = render(title, baseline, rescore)?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(out)
}

/// Plotters looks fonts up in a process-wide table; fill it once.
fn ensure_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    ok.then_some(()).ok_or(ChartError::Font)
}

/// Any plotters error, whatever its backend type, as text.
fn draw_err(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// The stretches of consecutive scored areas, as (area index, score) points. A 0 or a missing
/// area ends a stretch, so the line breaks there.
fn runs(scores: &Scores) -> Vec<Vec<(f64, f64)>> {
    let mut runs = vec![];
    let mut current = vec![];
    for (i, id) in StatementId::ALL.into_iter().enumerate() {
        match scores.get(&id).map(|s| s.value()) {
            Some(v) if v > 0 => current.push((i as f64, f64::from(v))),
            _ if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            _ => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// Draws into an RGB buffer; also returns the pixel column of each area, for the tests.
fn render(
    title: &str,
    baseline: Option<&Scores>,
    rescore: &Scores,
) -> Result<(Vec<u8>, [i32; 11]), ChartError> {
    ensure_font()?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    let columns = {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        let columns = draw(&root, title, baseline, rescore)?;
        root.present().map_err(draw_err)?;
        columns
    };
    Ok((rgb, columns))
}

fn draw(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    title: &str,
    baseline: Option<&Scores>,
    rescore: &Scores,
) -> Result<[i32; 11], ChartError> {
    root.fill(&WHITE).map_err(draw_err)?;
    // Half a step of room at each end and above 10 keeps the end markers whole.
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20).into_font().color(&INK))
        .margin(10)
        .margin_right(SIDE)
        .x_label_area_size(46)
        .y_label_area_size(44)
        .build_cartesian_2d(-0.5f64..10.5, 0f64..10.5)
        .map_err(draw_err)?;

    // Asking for up to 12 labels makes plotters choose a step of 1: one label per area and
    // per score. Anything between whole numbers (there should be none) is left blank.
    let label = |i: &f64| match StatementId::ALL.get(i.round() as usize) {
        Some(s) if i.fract() == 0.0 => s.as_str().to_string(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(THRESHOLD)
        .x_labels(12)
        .y_labels(12)
        .x_label_formatter(&label)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 15).into_font().color(&INK))
        .axis_desc_style(("sans-serif", 14).into_font().color(&INK))
        .x_desc("Statement area")
        .y_desc("Score")
        .draw()
        .map_err(draw_err)?;

    for level in [QUALITY_MARK, QUALITY_LEAD] {
        chart
            .draw_series(LineSeries::new(
                [(-0.5, level), (10.5, level)],
                THRESHOLD.stroke_width(1),
            ))
            .map_err(draw_err)?;
    }
    if let Some(baseline) = baseline {
        for run in runs(baseline) {
            let markers = run.clone();
            chart
                .draw_series(DashedLineSeries::new(run, 7, 5, BASELINE.stroke_width(2)))
                .map_err(draw_err)?;
            chart
                .draw_series(
                    markers
                        .into_iter()
                        .map(|p| Circle::new(p, 4, BASELINE.filled())),
                )
                .map_err(draw_err)?;
        }
    }
    for run in runs(rescore) {
        chart
            .draw_series(LineSeries::new(run, RESCORE.filled().stroke_width(3)).point_size(4))
            .map_err(draw_err)?;
    }

    // The side panel: threshold labels level with their lines, then the legend.
    let (right, _) = chart.backend_coord(&(10.5, 0.0));
    let x = right + 8;
    let side_text = ("sans-serif", 15)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (level, name) in [
        (QUALITY_LEAD, "Quality Lead"),
        (QUALITY_MARK, "Quality Mark"),
    ] {
        let (_, y) = chart.backend_coord(&(0.0, level));
        root.draw(&Text::new(name, (x, y), side_text.clone()))
            .map_err(draw_err)?;
    }
    let (_, top) = chart.backend_coord(&(0.0, 10.5));
    let mut y = top + 10;
    let swatch = 26;
    let text_x = x + swatch + 6;
    root.draw(&PathElement::new(
        [(x, y), (x + swatch, y)],
        RESCORE.stroke_width(3),
    ))
    .map_err(draw_err)?;
    root.draw(&Circle::new((x + swatch / 2, y), 4, RESCORE.filled()))
        .map_err(draw_err)?;
    root.draw(&Text::new("Re-score", (text_x, y), side_text.clone()))
        .map_err(draw_err)?;
    if baseline.is_some() {
        y += 22;
        root.draw(&DashedPathElement::new(
            [(x, y), (x + swatch, y)],
            7,
            5,
            BASELINE.stroke_width(2),
        ))
        .map_err(draw_err)?;
        root.draw(&Circle::new((x + swatch / 2, y), 4, BASELINE.filled()))
            .map_err(draw_err)?;
        root.draw(&Text::new("Baseline", (text_x, y), side_text))
            .map_err(draw_err)?;
    }

    let mut columns = [0; 11];
    for (i, c) in columns.iter_mut().enumerate() {
        *c = chart.backend_coord(&(i as f64, 0.0)).0;
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::statement::Score;

    fn scores(values: &[(StatementId, u8)]) -> Scores {
        values
            .iter()
            .map(|&(s, v)| (s, Score::new(v).unwrap()))
            .collect()
    }

    fn all(values: [u8; 11]) -> Scores {
        StatementId::ALL
            .into_iter()
            .zip(values)
            .map(|(s, v)| (s, Score::new(v).unwrap()))
            .collect()
    }

    /// The Oxfordshire-like sample: a baseline and a better re-score.
    fn sample() -> (Scores, Scores) {
        (
            all([5, 6, 4, 6, 5, 6, 7, 6, 7, 5, 6]),
            all([7, 7, 6, 7, 6, 7, 8, 7, 8, 6, 7]),
        )
    }

    /// A re-score with area 5 marked 0 and area 8 not scored.
    fn gappy() -> (Scores, Scores) {
        let (baseline, mut rescore) = sample();
        rescore.insert(StatementId::S5, Score::new(0).unwrap());
        rescore.remove(&StatementId::S8);
        (baseline, rescore)
    }

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    fn count(rgb: &[u8], colour: RGBColor) -> usize {
        rgb.chunks_exact(3)
            .filter(|p| p == &[colour.0, colour.1, colour.2])
            .count()
    }

    /// Pixels of `colour` in one column of the buffer.
    fn in_column(rgb: &[u8], x: i32, colour: RGBColor) -> usize {
        (0..HEIGHT as usize)
            .filter(|&y| {
                let i = (y * WIDTH as usize + x as usize) * 3;
                rgb[i..i + 3] == [colour.0, colour.1, colour.2]
            })
            .count()
    }

    #[test]
    fn png_decodes_at_the_right_size() {
        let (baseline, rescore) = sample();
        let bytes = profile_png("Oxfordshire: profile", Some(&baseline), &rescore).unwrap();
        assert!(bytes.len() < 60_000, "{} bytes", bytes.len());
        let (info, rgb) = decode(&bytes);
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert!(count(&rgb, RESCORE) > 300, "the re-score line is drawn");
        assert!(count(&rgb, BASELINE) > 100, "the baseline is drawn");
    }

    #[test]
    fn without_a_baseline() {
        let (_, rescore) = sample();
        let bytes = profile_png("Profile", None, &rescore).unwrap();
        let (_, rgb) = decode(&bytes);
        assert!(count(&rgb, RESCORE) > 300);
        assert_eq!(count(&rgb, BASELINE), 0, "no baseline, no baseline legend");
    }

    #[test]
    fn zeros_and_gaps_break_the_line() {
        let (baseline, rescore) = gappy();
        let (rgb, columns) = render("Gaps", None, &rescore).unwrap();
        let at = |s: StatementId| columns[StatementId::ALL.iter().position(|&a| a == s).unwrap()];
        assert_eq!(
            in_column(&rgb, at(StatementId::S5), RESCORE),
            0,
            "0 is left out"
        );
        assert_eq!(
            in_column(&rgb, at(StatementId::S8), RESCORE),
            0,
            "gap is left out"
        );
        assert!(in_column(&rgb, at(StatementId::S6), RESCORE) > 0);
        assert!(profile_png("Gaps", Some(&baseline), &rescore).is_ok());
    }

    #[test]
    fn nothing_scored_still_draws() {
        let empty = Scores::new();
        let only_zero = scores(&[(StatementId::S1, 0)]);
        let lone = scores(&[(StatementId::S10, 10)]);
        for (b, r) in [
            (None, &empty),
            (Some(&only_zero), &lone),
            (Some(&lone), &empty),
        ] {
            let (_, rgb) = decode(&profile_png("", b, r).unwrap());
            assert_eq!(rgb.len(), (WIDTH * HEIGHT * 3) as usize);
        }
    }

    #[test]
    fn runs_split_at_zeros_and_gaps() {
        let (_, rescore) = gappy();
        let lens: Vec<usize> = runs(&rescore).iter().map(Vec::len).collect();
        assert_eq!(lens, [5, 2, 2]);
    }
}
