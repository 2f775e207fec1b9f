//! The pure core: statement areas, scores, grids, roster, round and deadline, sign-off,
//! eligibility and the evaluation they add up to.
//!
//! Invariant: nothing here does I/O, reads the clock, or knows of IMAP, SMTP, sled or files.
//! Everything takes values and returns values, so `check` and the daemon cannot drift apart.

pub mod case_study;
pub mod eligibility;
pub mod evaluation;
pub mod followup;
pub mod grid;
pub mod panel;
pub mod problem;
pub mod retention;
pub mod roster;
pub mod round;
pub mod signoff;
pub mod standing;
pub mod statement;
pub mod submission;
pub mod table;
