//! Zip archives of evidence: unpacked within the budget into [`Part`]s.

use super::{Budget, Part, zipguard};
use crate::domain::problem::Problem;
use std::io::Cursor;

/// Unpacks a zip's files (directories and Mac resource forks skipped) as parts under
/// `prefix` (`evidence.zip/`).
pub fn unpack_zip(prefix: &str, bytes: &[u8], budget: &mut Budget) -> (Vec<Part>, Vec<Problem>) {
    let file = prefix.trim_end_matches('/');
    if let Err(p) = zipguard::check_zip(bytes, budget, file) {
        return (Vec::new(), vec![p]);
    }
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return (Vec::new(), Vec::new());
    };
    let mut parts = Vec::new();
    let mut problems = Vec::new();
    for i in 0..archive.len() {
        if parts.len() >= budget.limits.max_parts {
            break;
        }
        let (name, is_dir) = match archive.by_index_raw(i) {
            Ok(e) => match e.name() {
                Ok(n) => (n.into_owned(), e.is_dir()),
                Err(_) => continue,
            },
            Err(_) => continue,
        };
        let base = name.rsplit('/').next().unwrap_or(&name).to_string();
        if is_dir
            || base.is_empty()
            || name.starts_with("__MACOSX/")
            || base == ".DS_Store"
            || base.starts_with("._")
            || base.eq_ignore_ascii_case("thumbs.db")
        {
            continue;
        }
        match zipguard::read_index(&mut archive, i, budget, &format!("{prefix}{name}")) {
            Ok(data) => parts.push(Part {
                path: format!("{prefix}{name}"),
                name: base,
                content_type: "application/octet-stream".into(),
                bytes: data,
            }),
            Err(p) => problems.push(p),
        }
    }
    (parts, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Limits;
    use std::io::Write;

    #[test]
    fn files_come_out_with_their_paths() {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let o = zip::write::SimpleFileOptions::default();
            w.add_directory("evidence/", o).unwrap();
            for (n, d) in [
                ("evidence/Grid.xlsx", &b"x"[..]),
                ("__MACOSX/evidence/._Grid.xlsx", b"y"),
                ("Case study 8.docx", b"z"),
            ] {
                w.start_file(n, o).unwrap();
                w.write_all(d).unwrap();
            }
            w.finish().unwrap();
        }
        let mut b = Budget::new(Limits::default());
        let (parts, problems) = unpack_zip("evidence.zip/", buf.get_ref(), &mut b);
        assert!(problems.is_empty());
        let paths: Vec<(&str, &str)> = parts
            .iter()
            .map(|p| (p.path.as_str(), p.name.as_str()))
            .collect();
        assert_eq!(
            paths,
            vec![
                ("evidence.zip/evidence/Grid.xlsx", "Grid.xlsx"),
                ("evidence.zip/Case study 8.docx", "Case study 8.docx")
            ]
        );
    }
}
