//! What people receive, built from values: the auto-reply, the profile chart, the digest and
//! alerts to the team. Pure apart from reading the wording templates: the time and the
//! reference are parameters; nothing here sends or stores.

pub mod alert;
pub mod chart;
pub mod digest;
pub mod outcome;
pub mod reply;
pub mod report;
pub mod samples;
pub mod template;
pub mod view;
pub mod wording;
