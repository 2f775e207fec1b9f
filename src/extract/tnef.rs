//! Outlook's winmail.dat (TNEF, MS-OXTNEF): its attachments, unpacked.
//!
//! Outlook sends "rich text" mail with every attachment inside one `winmail.dat`; helpdesks
//! that cannot open it lose the grid. The stream is a list of attributes; each attachment
//! starts with `attAttachRendData`, carries its bytes in `attAttachData`, its short name in
//! `attAttachTitle` and its long name in the MAPI properties of `attAttachment`.

use super::{Budget, Part};
use crate::domain::problem::{Problem, ProblemCode};

const SIGNATURE: u32 = 0x223E_9F78;
const ATT_ATTACH_DATA: u16 = 0x800F;
const ATT_ATTACH_TITLE: u16 = 0x8010;
const ATT_ATTACH_REND_DATA: u16 = 0x9002;
const ATT_ATTACHMENT: u16 = 0x9005;
const PR_ATTACH_DATA_OBJ: u16 = 0x3701;
const PR_ATTACH_FILENAME: u16 = 0x3704;
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;

/// A little-endian reader that never reads past the end.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.at)?;
        self.at += 1;
        Some(v)
    }
    fn u16(&mut self) -> Option<u16> {
        let s = self.take(2)?;
        Some(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        let s = self.take(4)?;
        Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn pad4(&mut self, n: usize) {
        let pad = (4 - n % 4) % 4;
        self.at = self.at.saturating_add(pad).min(self.b.len());
    }
}

#[derive(Default)]
struct Attachment {
    title: Option<String>,
    long_name: Option<String>,
    data: Option<Vec<u8>>,
}

fn string8(b: &[u8]) -> String {
    let b = b.split(|&c| c == 0).next().unwrap_or(b);
    encoding_rs::WINDOWS_1252.decode(b).0.into_owned()
}

fn unicode(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// Reads the MAPI property list of `attAttachment` for the file name and data.
fn mapi_props(data: &[u8], att: &mut Attachment) -> Option<()> {
    let mut c = Cursor { b: data, at: 0 };
    let count = c.u32()?;
    for _ in 0..count.min(10_000) {
        let ptype = c.u16()?;
        let pid = c.u16()?;
        if pid >= 0x8000 {
            c.take(16)?;
            let kind = c.u32()?;
            if kind == 0 {
                c.u32()?;
            } else {
                let len = c.u32()? as usize;
                c.take(len)?;
                c.pad4(len);
            }
        }
        let multi = ptype & 0x1000 != 0;
        let base = ptype & 0x0FFF;
        let values = if multi { c.u32()?.min(100_000) } else { 1 };
        for _ in 0..values {
            match base {
                0x001E | 0x001F | 0x0102 | 0x000D => {
                    // Variable length: a count of values (single-valued: 1) then each.
                    let n = if multi { 1 } else { c.u32()?.min(1000) };
                    for _ in 0..n {
                        let len = c.u32()? as usize;
                        let v = c.take(len)?;
                        c.pad4(len);
                        match (pid, base) {
                            (PR_ATTACH_LONG_FILENAME, 0x001F) => att.long_name = Some(unicode(v)),
                            (PR_ATTACH_LONG_FILENAME, 0x001E) => att.long_name = Some(string8(v)),
                            (PR_ATTACH_FILENAME, 0x001F) if att.title.is_none() => {
                                att.title = Some(unicode(v))
                            }
                            (PR_ATTACH_FILENAME, 0x001E) if att.title.is_none() => {
                                att.title = Some(string8(v))
                            }
                            (PR_ATTACH_DATA_OBJ, 0x0102) if att.data.is_none() => {
                                att.data = Some(v.to_vec())
                            }
                            _ => {}
                        }
                    }
                }
                0x0002 | 0x000B | 0x0003 | 0x0004 | 0x000A | 0x0001 => {
                    c.take(4)?;
                }
                0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => {
                    c.take(8)?;
                }
                0x0048 => {
                    c.take(16)?;
                }
                _ => return None,
            }
        }
    }
    Some(())
}

/// The attached files inside a TNEF stream, as parts under `prefix` (`winmail.dat/`).
pub fn unpack(prefix: &str, bytes: &[u8], budget: &mut Budget) -> (Vec<Part>, Vec<Problem>) {
    let file = prefix.trim_end_matches('/');
    let corrupt = |why: &str| {
        Problem::new(
            ProblemCode::CorruptAttachment,
            format!(
                "'{file}' (Outlook's winmail.dat) is damaged, so some attachments could not be read ({why})."
            ),
        )
    };
    let mut c = Cursor { b: bytes, at: 0 };
    if c.u32() != Some(SIGNATURE) || c.u16().is_none() {
        return (Vec::new(), vec![corrupt("not a TNEF stream")]);
    }
    let mut attachments: Vec<Attachment> = Vec::new();
    let mut problems = Vec::new();
    while c.at < bytes.len() {
        let (Some(level), Some(id), Some(len)) = (c.u8(), c.u32(), c.u32()) else {
            problems.push(corrupt("cut short"));
            break;
        };
        let Some(data) = c.take(len as usize) else {
            problems.push(corrupt("cut short"));
            break;
        };
        if c.u16().is_none() {
            problems.push(corrupt("cut short"));
            break;
        }
        if level != 2 {
            continue;
        }
        let id = (id & 0xFFFF) as u16;
        if id == ATT_ATTACH_REND_DATA || attachments.is_empty() {
            if attachments.len() >= budget.limits.max_parts {
                break;
            }
            attachments.push(Attachment::default());
        }
        let Some(att) = attachments.last_mut() else {
            break;
        };
        match id {
            ATT_ATTACH_TITLE => att.title = Some(string8(data)),
            ATT_ATTACH_DATA => att.data = Some(data.to_vec()),
            ATT_ATTACHMENT => {
                let _ = mapi_props(data, att);
            }
            _ => {}
        }
    }
    let mut parts = Vec::new();
    for (i, a) in attachments.into_iter().enumerate() {
        let Some(data) = a.data else { continue };
        let name = a
            .long_name
            .or(a.title)
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("attachment {}", i + 1));
        let name = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string();
        if !budget.take(data.len() as u64) {
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

    fn attr(level: u8, id: u32, data: &[u8]) -> Vec<u8> {
        let mut v = vec![level];
        v.extend_from_slice(&id.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        let sum: u16 = data.iter().fold(0u16, |a, &b| a.wrapping_add(b as u16));
        v.extend_from_slice(&sum.to_le_bytes());
        v
    }

    fn long_name_props(name: &str) -> Vec<u8> {
        let mut p = 1u32.to_le_bytes().to_vec();
        p.extend_from_slice(&0x001Fu16.to_le_bytes());
        p.extend_from_slice(&PR_ATTACH_LONG_FILENAME.to_le_bytes());
        p.extend_from_slice(&1u32.to_le_bytes());
        let mut s: Vec<u8> = name.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        s.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&(s.len() as u32).to_le_bytes());
        let len = s.len();
        p.extend_from_slice(&s);
        p.extend(std::iter::repeat_n(0, (4 - len % 4) % 4));
        p
    }

    fn tnef(files: &[(&str, &str, &[u8])]) -> Vec<u8> {
        let mut v = SIGNATURE.to_le_bytes().to_vec();
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend(attr(1, 0x0008_9006, b"IPM.Microsoft Mail.Note\0"));
        for (short, long, data) in files {
            v.extend(attr(2, 0x0006_9002, &[0; 14]));
            v.extend(attr(2, 0x0001_8010, format!("{short}\0").as_bytes()));
            v.extend(attr(2, 0x0006_800F, data));
            v.extend(attr(2, 0x0006_9005, &long_name_props(long)));
        }
        v
    }

    #[test]
    fn attachments_with_long_names() {
        let t = tnef(&[
            ("GRID~1.XLS", "Grid – re-score.xlsx", b"PKdata"),
            ("CASE~1.DOC", "Case study 8.docx", b"doc"),
        ]);
        let mut b = Budget::new(Limits::default());
        let (parts, problems) = unpack("winmail.dat/", &t, &mut b);
        assert!(problems.is_empty(), "{problems:?}");
        let got: Vec<(&str, &[u8])> = parts
            .iter()
            .map(|p| (p.path.as_str(), p.bytes.as_slice()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("winmail.dat/Grid – re-score.xlsx", &b"PKdata"[..]),
                ("winmail.dat/Case study 8.docx", &b"doc"[..])
            ]
        );
    }

    #[test]
    fn truncated_and_junk() {
        let t = tnef(&[("A.XLS", "A.xlsx", b"0123456789")]);
        let mut b = Budget::new(Limits::default());
        for cut in 0..t.len() {
            let _ = unpack("w/", &t[..cut], &mut b);
        }
        assert_eq!(unpack("w/", b"junk", &mut b).1.len(), 1);
    }

    #[test]
    fn the_fixture_matches_the_tnef_tool() {
        let raw = include_bytes!("../../fixtures/eml/028-winmail-dat-tnef.eml");
        let mut b = Budget::new(Limits::default());
        let facts = crate::extract::message::parse(raw, &mut b, None).unwrap();
        let paths: Vec<&str> = facts.parts.iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"winmail.dat/Grid.xlsx"), "{paths:?}");
    }
}
