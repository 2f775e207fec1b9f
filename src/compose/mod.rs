//! What people receive, built from values: the auto-reply, the profile chart and alerts to the
//! team. Pure: the time and the reference are parameters; nothing here sends or stores.

pub mod alert;
pub mod chart;
pub mod reply;
pub mod reply_text;
pub mod template;
