//! The embedded default transport: each outgoing message written as an `.eml` file.
//!
//! Written to a temporary name, synced, then renamed, so a reader never sees half a message
//! and a crash leaves either the whole file or none. The file name carries the outbox id, so a
//! resend after a crash overwrites the same file instead of making a second one.

use crate::pipeline::ports::{Outgoing, SendError, Transport};
use std::io::Write;
use std::path::PathBuf;

/// Writes messages into `path` as `<outbox id>.eml`.
#[derive(Debug, Clone)]
pub struct DirTransport {
    path: PathBuf,
}

impl DirTransport {
    pub fn new(path: PathBuf) -> std::io::Result<DirTransport> {
        std::fs::create_dir_all(&path)?;
        Ok(DirTransport { path })
    }
}

impl Transport for DirTransport {
    async fn send(&self, message: Outgoing<'_>) -> Result<(), SendError> {
        // Id 0 is a message sent past the outbox (an alert that the store failed): named by
        // the time instead, so a second one does not replace the first.
        let name = match message.id {
            0 => format!("alert-{}.eml", jiff::Timestamp::now().as_nanosecond()),
            id => format!("{id:010}.eml"),
        };
        let tmp = self.path.join(format!(".{name}.tmp"));
        let dest = self.path.join(&name);
        let mut bytes = Vec::with_capacity(message.bytes.len() + 128);
        // The envelope as headers a person can read; mail tools ignore X- headers.
        bytes.extend_from_slice(
            format!("X-Envelope-From: {}\r\n", message.envelope_from).as_bytes(),
        );
        for r in message.recipients {
            bytes.extend_from_slice(format!("X-Envelope-To: {r}\r\n").as_bytes());
        }
        bytes.extend_from_slice(message.bytes);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &dest)
        };
        write()
            .map_err(|e| SendError::Transient(format!("Failed to write {}: {e}", dest.display())))
    }
}
