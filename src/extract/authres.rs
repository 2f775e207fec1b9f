//! `Authentication-Results` (RFC 8601): only the topmost header from our trusted server counts.

/// The sender-authentication verdict the trusted server gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVerdict {
    /// No trusted header, or one without `dmarc=fail`.
    NotFailed,
    /// The trusted header says `dmarc=fail`.
    DmarcFail,
}

/// `headers` are the raw Authentication-Results values, topmost first.
pub fn verdict(headers: &[String], trusted_authserv_id: Option<&str>) -> AuthVerdict {
    let _ = (headers, trusted_authserv_id);
    AuthVerdict::NotFailed
}
