//! What people receive, built from values: the auto-reply. Pure: the time and the reference
//! are parameters; nothing here sends or stores.

pub mod reply;
pub mod reply_text;
pub mod template;
