//! yjsend: the intake of the Youth Justice SEND Quality Mark and Quality Lead awards.
//!
//! The crate map (see ARCHITECTURE.md):
//! - [`domain`]: the pure core (statements, scores, grid, roster, round, sign-off,
//!   eligibility, evaluation). No I/O.
//! - [`extract`]: bytes to facts (mail, spreadsheets, documents), bounded and panic-free.
//! - [`pipeline`]: the one evaluation shared by `check` and the daemon.
//! - [`config`]: `yjsend.toml` and the roster.
//! - [`cli`]: the command line.

pub mod adapters;
pub mod cli;
pub mod compose;
pub mod config;
pub mod domain;
pub mod extract;
pub mod pipeline;
