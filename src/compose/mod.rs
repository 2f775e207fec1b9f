//! What people receive, built from values: the auto-reply and alerts to the team. Pure: the
//! time and the reference are parameters; nothing here sends or stores.

pub mod alert;
pub mod reply;
pub mod reply_text;
pub mod template;
