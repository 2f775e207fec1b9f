//! Automatic mail (RFC 3834 Auto-Submitted, delivery reports, mailer-daemon, lists, bulk,
//! auto-responders): never answered, whatever it carries.

/// The reason a message is automatic, or `None` for mail a person sent.
/// `headers` are (name, raw value) pairs in message order; `from` the From address.
pub fn reason(
    headers: &[(String, String)],
    from: Option<&str>,
    content_type: &str,
) -> Option<String> {
    let _ = (headers, from, content_type);
    None
}
