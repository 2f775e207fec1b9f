//! Attached Outlook items (.msg, a CFB container): their attachments.
//!
//! A forwarded Outlook item keeps each attachment in a storage `__attach_version1.0_#N` with
//! its long name in `__substg1.0_3707001F` (UTF-16) or `…001E` (8-bit) and its bytes in
//! `__substg1.0_37010102`. Attached items inside attached items are not opened.

use super::{Budget, Part};
use crate::domain::problem::{Problem, ProblemCode};
use std::io::{Cursor, Read};

fn read_stream(
    file: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    path: &str,
    cap: u64,
) -> Option<Vec<u8>> {
    let s = file.open_stream(path).ok()?;
    let mut out = Vec::new();
    s.take(cap.saturating_add(1)).read_to_end(&mut out).ok()?;
    Some(out)
}

fn utf16(b: &[u8]) -> String {
    let u: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&x| x != 0)
        .collect();
    String::from_utf16_lossy(&u)
}

/// The attachments of an Outlook .msg as parts under `prefix`.
pub fn unpack(prefix: &str, bytes: &[u8], budget: &mut Budget) -> (Vec<Part>, Vec<Problem>) {
    let file_name = prefix.trim_end_matches('/');
    let Ok(mut file) = cfb::CompoundFile::open(Cursor::new(bytes)) else {
        return (
            Vec::new(),
            vec![Problem::new(
                ProblemCode::CorruptAttachment,
                format!(
                    "'{file_name}' is not a readable Outlook item, so its attachments could not be read."
                ),
            )],
        );
    };
    let storages: Vec<String> = file
        .read_root_storage()
        .filter(|e| e.is_storage() && e.name().starts_with("__attach_version1.0_"))
        .map(|e| e.name().to_string())
        .collect();
    let mut parts = Vec::new();
    let mut problems = Vec::new();
    for (i, s) in storages.iter().enumerate().take(budget.limits.max_parts) {
        let base = format!("/{s}");
        let name = read_stream(&mut file, &format!("{base}/__substg1.0_3707001F"), 4096)
            .map(|b| utf16(&b))
            .or_else(|| {
                read_stream(&mut file, &format!("{base}/__substg1.0_3707001E"), 4096).map(|b| {
                    encoding_rs::WINDOWS_1252
                        .decode(&b)
                        .0
                        .trim_end_matches('\0')
                        .to_string()
                })
            })
            .or_else(|| {
                read_stream(&mut file, &format!("{base}/__substg1.0_3704001F"), 4096)
                    .map(|b| utf16(&b))
            })
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("attachment {}", i + 1));
        let name = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string();
        let cap = budget.allowance();
        let Some(data) = read_stream(&mut file, &format!("{base}/__substg1.0_37010102"), cap)
        else {
            continue;
        };
        if data.len() as u64 > cap || !budget.take(data.len() as u64) {
            problems.push(super::zipguard::limit_problem(
                &format!("{prefix}{name}"),
                budget,
            ));
            break;
        }
        parts.push(Part {
            path: format!("{prefix}{name}"),
            name,
            content_type: "application/octet-stream".into(),
            bytes: data,
        });
    }
    (parts, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Limits;
    use std::io::Write;

    #[test]
    fn attachments_of_an_outlook_item() {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut c = cfb::CompoundFile::create(&mut buf).unwrap();
            c.create_stream("/__substg1.0_0037001F")
                .unwrap()
                .write_all(&[b'S', 0])
                .unwrap();
            c.create_storage("/__attach_version1.0_#00000000").unwrap();
            let name: Vec<u8> = "Grid.xlsx"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes())
                .collect();
            c.create_stream("/__attach_version1.0_#00000000/__substg1.0_3707001F")
                .unwrap()
                .write_all(&name)
                .unwrap();
            c.create_stream("/__attach_version1.0_#00000000/__substg1.0_37010102")
                .unwrap()
                .write_all(b"PKgrid")
                .unwrap();
            c.flush().unwrap();
        }
        let bytes = buf.into_inner();
        let mut b = Budget::new(Limits::default());
        let (parts, problems) = unpack("Fwd.msg/", &bytes, &mut b);
        assert!(problems.is_empty());
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].path, "Fwd.msg/Grid.xlsx");
        assert_eq!(parts[0].bytes, b"PKgrid");
        assert_eq!(unpack("x/", b"junk", &mut b).1.len(), 1);
    }
}
