//! Every file reader on arbitrary bytes, then the grid reader on what it gives: the first byte
//! picks the kind, so the fuzzer reaches each reader directly instead of through MIME.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yjsend::domain::grid;
use yjsend::extract::{Budget, FileKind, Limits, Part, file, msg, tnef, archive};

const KINDS: [FileKind; 14] = [
    FileKind::Xlsx,
    FileKind::Xlsb,
    FileKind::Xls,
    FileKind::Ods,
    FileKind::Csv,
    FileKind::Docx,
    FileKind::Doc,
    FileKind::Odt,
    FileKind::Rtf,
    FileKind::Pdf,
    FileKind::Html,
    FileKind::PlainText,
    FileKind::Tnef,
    FileKind::OutlookMsg,
];

/// The product catches library panics around each reader (`catch_unwind`) and reports a
/// corrupt file; libFuzzer's hook would abort on those too. Only panics that escape the
/// product reach the harness's own catch and count as crashes.
fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics();
    let Some((&pick, bytes)) = data.split_first() else { return };
    let kind = KINDS[pick as usize % KINDS.len()];
    let limits = Limits {
        max_unpacked_bytes: 8 * 1024 * 1024,
        max_unpacked_total_bytes: 16 * 1024 * 1024,
        ..Limits::default()
    };
    let mut budget = Budget::new(limits);
    match kind {
        FileKind::Tnef => {
            let _ = tnef::unpack("winmail.dat/", bytes, &mut budget);
        }
        FileKind::OutlookMsg => {
            let _ = msg::unpack("x.msg/", bytes, &mut budget);
            let _ = archive::unpack_zip("x.zip/", bytes, &mut budget);
        }
        _ => {
            let part = Part {
                path: "f".into(),
                name: "f".into(),
                content_type: "application/octet-stream".into(),
                bytes: bytes.to_vec(),
            };
            let _ = file::sniff("f", "", bytes);
            let content = file::read_file(&part, kind, &mut budget);
            let _ = grid::read_tables(&content.tables, "f");
            let _ = grid::read_text(&content.text, "f", 6);
        }
    }
});
