//! Bounded access to zip containers (xlsx, xlsm, docx, ods, odt, plain .zip).
//!
//! calamine and the document readers inflate whole entries with no bound, so every zip is
//! checked here first from its central directory (declared sizes against the [`Budget`]), and
//! entries are inflated through a reader that stops at the cap whatever the header claims.

use super::Budget;
use crate::domain::problem::{Problem, ProblemCode};
use std::io::{Cursor, Read};

/// More entries than any real office file has; a zip with more is refused.
const MAX_ENTRIES: usize = 10_000;

fn mb(bytes: u64) -> u64 {
    bytes.div_ceil(1024 * 1024)
}

pub(crate) fn limit_problem(file: &str, budget: &Budget) -> Problem {
    Problem::new(
        ProblemCode::DecompressionLimit,
        format!(
            "'{file}' unpacks to more than {} MB, the most we read from one file, so it was not opened.",
            mb(budget.allowance())
        ),
    )
}

fn corrupt(file: &str, e: impl std::fmt::Display) -> Problem {
    Problem::new(
        ProblemCode::CorruptAttachment,
        format!("'{file}' is damaged or incomplete, so we could not open it ({e})."),
    )
}

/// Checks the central directory: refuses a zip whose declared uncompressed sizes exceed the
/// budget, or that has absurdly many entries. `file` names it in problems. Takes nothing from
/// the budget: reading does.
pub fn check_zip(bytes: &[u8], budget: &mut Budget, file: &str) -> Result<(), Problem> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(file, e))?;
    if archive.len() > MAX_ENTRIES {
        return Err(limit_problem(file, budget));
    }
    let allowance = budget.allowance();
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| corrupt(file, e))?;
        total = total.saturating_add(entry.size());
        if entry.size() > allowance || total > allowance {
            return Err(limit_problem(file, budget));
        }
    }
    Ok(())
}

/// Inflates one entry by name (case-insensitive), never producing more than the budget
/// allows. `Ok(None)` when the entry is absent.
pub fn read_entry(
    bytes: &[u8],
    entry: &str,
    budget: &mut Budget,
    file: &str,
) -> Result<Option<Vec<u8>>, Problem> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(file, e))?;
    let index = archive
        .file_names()
        .position(|n| n.is_ok_and(|n| n.eq_ignore_ascii_case(entry)));
    let Some(index) = index else {
        return Ok(None);
    };
    read_index(&mut archive, index, budget, file).map(Some)
}

/// Inflates entry `index` through a capped reader and charges it to the budget.
pub(crate) fn read_index(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    budget: &mut Budget,
    file: &str,
) -> Result<Vec<u8>, Problem> {
    let allowance = budget.allowance();
    let entry = archive.by_index(index).map_err(|e| corrupt(file, e))?;
    if entry.size() > allowance {
        return Err(limit_problem(file, budget));
    }
    let mut out = Vec::with_capacity(entry.size().min(16 * 1024 * 1024) as usize);
    entry
        .take(allowance.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| corrupt(file, e))?;
    if !budget.take(out.len() as u64) {
        return Err(limit_problem(file, budget));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Limits;
    use std::io::Write;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            for (name, data) in entries {
                w.start_file(*name, zip::write::SimpleFileOptions::default())
                    .unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    fn small() -> Limits {
        Limits {
            max_unpacked_bytes: 1000,
            max_unpacked_total_bytes: 1500,
            ..Limits::default()
        }
    }

    #[test]
    fn reads_within_the_budget_and_charges_it() {
        let z = zip_of(&[("a.xml", &[b'x'; 600]), ("B.xml", b"hello")]);
        let mut b = Budget::new(small());
        check_zip(&z, &mut b, "f.zip").unwrap();
        assert_eq!(
            read_entry(&z, "b.xml", &mut b, "f.zip").unwrap().unwrap(),
            b"hello"
        );
        assert_eq!(
            read_entry(&z, "a.xml", &mut b, "f.zip")
                .unwrap()
                .unwrap()
                .len(),
            600
        );
        assert_eq!(read_entry(&z, "none", &mut b, "f.zip").unwrap(), None);
        // 1500 - 605 left: a second 600 fits, a third does not.
        assert!(read_entry(&z, "a.xml", &mut b, "f.zip").is_ok());
        let e = read_entry(&z, "a.xml", &mut b, "f.zip").unwrap_err();
        assert_eq!(e.code, ProblemCode::DecompressionLimit);
    }

    #[test]
    fn declared_sizes_over_the_cap_are_refused_before_inflating() {
        let z = zip_of(&[("big.xml", &[0u8; 5000])]);
        let mut b = Budget::new(small());
        assert_eq!(
            check_zip(&z, &mut b, "f").unwrap_err().code,
            ProblemCode::DecompressionLimit
        );
        assert_eq!(
            read_entry(&z, "big.xml", &mut b, "f").unwrap_err().code,
            ProblemCode::DecompressionLimit
        );
    }

    #[test]
    fn junk_and_truncation_are_corrupt() {
        let mut b = Budget::new(small());
        assert_eq!(
            check_zip(b"PK\x03\x04junk", &mut b, "f").unwrap_err().code,
            ProblemCode::CorruptAttachment
        );
        let z = zip_of(&[("a.xml", b"hello world")]);
        let cut = &z[..z.len() * 2 / 3];
        assert!(check_zip(cut, &mut b, "f").is_err());
    }
}
