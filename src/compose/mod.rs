//! What people receive, built from values: the auto-reply and the profile chart. Pure: the time
//! and the reference are parameters; nothing here sends or stores.

pub mod chart;
pub mod reply;
pub mod reply_text;
pub mod template;
