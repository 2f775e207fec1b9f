//! The pipeline: the one evaluation shared by `check` and the daemon.
pub mod evaluate;
