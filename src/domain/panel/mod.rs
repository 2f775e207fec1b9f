//! The panel's side of the process, as pure rules: who may do what (members and their tokens),
//! and the life of a case from the queue to a released outcome. The daemon's store keeps the
//! cases and the HTTP adapter serves them; neither decides anything these rules do not.

pub mod case;
pub mod members;
