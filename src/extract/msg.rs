//! Attached Outlook items (.msg, a CFB container): their attachments and body text.

use super::{Budget, Part};
use crate::domain::problem::Problem;

/// The attachments of an Outlook .msg as parts under `prefix`.
pub fn unpack(prefix: &str, bytes: &[u8], budget: &mut Budget) -> (Vec<Part>, Vec<Problem>) {
    let _ = (prefix, bytes, budget);
    (Vec::new(), Vec::new())
}
