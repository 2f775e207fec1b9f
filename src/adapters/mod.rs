//! Adapters at the edge: they implement the pipeline's ports (mailbox, transport) and own the
//! store. Nothing in `domain` or `extract` knows they exist.

pub mod dir;
pub mod http;
pub mod imap;
pub mod maildir;
pub mod oauth2;
pub mod smtp;
pub mod store;
pub mod systemd;
