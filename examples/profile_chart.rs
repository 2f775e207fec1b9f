//! Writes two sample profile charts, to look at by eye:
//! `cargo run --example profile_chart -- [DIR]` (default: the system temp directory) writes
//! `chart-sample.png` (baseline and re-score) and `chart-gaps.png` (a 0 and an unscored area).

use yjsend::compose::chart::profile_png;
use yjsend::domain::statement::{Score, Scores, StatementId};

fn scores(values: [u8; 11]) -> Scores {
    StatementId::ALL
        .into_iter()
        .zip(values)
        .filter_map(|(s, v)| Some((s, Score::new(v)?)))
        .collect()
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let baseline = scores([5, 6, 4, 6, 5, 6, 7, 6, 7, 5, 6]);
    let rescore = scores([7, 7, 6, 7, 6, 7, 8, 7, 8, 6, 7]);
    let sample = profile_png("Oxfordshire: SEND profile", Some(&baseline), &rescore)?;
    std::fs::write(dir.join("chart-sample.png"), &sample)?;

    let mut gaps = rescore.clone();
    gaps.insert(StatementId::S5, Score::new(0).expect("0 is a score"));
    gaps.remove(&StatementId::S8);
    let gappy = profile_png("Oxfordshire: SEND profile", Some(&baseline), &gaps)?;
    std::fs::write(dir.join("chart-gaps.png"), &gappy)?;
    println!(
        "{} and {} bytes in {}",
        sample.len(),
        gappy.len(),
        dir.display()
    );
    Ok(())
}
