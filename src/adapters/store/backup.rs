//! Backups: every tree written to one gzip stream, and read back into an empty store. Also
//! the way a purge makes sure deleted data is gone from the files: the store is rewritten
//! from what remains.

use super::{Store, StoreError};
use std::path::Path;

/// The first bytes of a backup (after gzip).
const BACKUP_MAGIC: &[u8; 8] = b"YJSBAK1\n";

impl Store {
    /// Writes every tree to `out` (gzip): the backup format, read back by [`Store::restore`].
    /// The caller makes sure nothing writes meanwhile (the daemon pauses its steps) and
    /// flushes first. Returns the number of entries written.
    pub fn backup(&self, out: impl std::io::Write) -> Result<u64, StoreError> {
        use std::io::Write;
        let io = |e: std::io::Error| StoreError::Corrupt(format!("writing the backup: {e}"));
        let mut z = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        z.write_all(BACKUP_MAGIC).map_err(io)?;
        let mut n = 0u64;
        for name in self.db.tree_names() {
            let tree = self.db.open_tree(&name)?;
            for entry in tree.iter() {
                let (k, v) = entry?;
                for part in [&name[..], &k[..], &v[..]] {
                    z.write_all(&(part.len() as u64).to_be_bytes())
                        .map_err(io)?;
                    z.write_all(part).map_err(io)?;
                }
                n += 1;
            }
        }
        z.finish().map_err(io)?.flush().map_err(io)?;
        Ok(n)
    }

    /// Creates a store at `path` from a backup; refuses a store that already holds data.
    pub fn restore(path: &Path, input: impl std::io::Read) -> Result<u64, StoreError> {
        use std::io::Read;
        let store = Store::open(path)?;
        if !store.records.is_empty() || !store.ledger.is_empty() {
            return Err(StoreError::Corrupt(format!(
                "{} already holds data: restore into an empty store",
                path.display()
            )));
        }
        let bad = |e: String| StoreError::Corrupt(format!("reading the backup: {e}"));
        let mut z = flate2::read::GzDecoder::new(input);
        let mut magic = [0u8; 8];
        z.read_exact(&mut magic).map_err(|e| bad(e.to_string()))?;
        if &magic != BACKUP_MAGIC {
            return Err(bad("not a yjsend backup".into()));
        }
        let read_part =
            |z: &mut flate2::read::GzDecoder<_>| -> Result<Option<Vec<u8>>, StoreError> {
                let mut len = [0u8; 8];
                match z.read_exact(&mut len) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                    Err(e) => return Err(bad(e.to_string())),
                }
                let len = u64::from_be_bytes(len);
                if len > 1 << 32 {
                    return Err(bad("an entry larger than 4 GiB".into()));
                }
                let mut buf = Vec::new();
                z.by_ref()
                    .take(len)
                    .read_to_end(&mut buf)
                    .map_err(|e| bad(e.to_string()))?;
                if buf.len() as u64 != len {
                    return Err(bad("the backup is cut short".into()));
                }
                Ok(Some(buf))
            };
        let mut n = 0u64;
        // A new store is marked with the current schema when opened; a backup made by an
        // earlier release carries no schema key, and its records are upgraded once loaded.
        store.meta.remove(super::upgrade::SCHEMA_KEY)?;
        let mut schema_in_backup = false;
        while let Some(name) = read_part(&mut z)? {
            let (Some(k), Some(v)) = (read_part(&mut z)?, read_part(&mut z)?) else {
                return Err(bad("the backup is cut short".into()));
            };
            schema_in_backup |= name == b"meta" && k == super::upgrade::SCHEMA_KEY.as_bytes();
            store.db.open_tree(&name)?.insert(k, v)?;
            n += 1;
        }
        if !schema_in_backup {
            // The backup file itself is the copy kept of what was restored.
            store.upgrade_schema(None)?;
        }
        // sled's id generator starts again in the new store: new ids must start above every
        // id restored, or a new record, reply or audit line would overwrite an old one.
        let mut highest = 0u64;
        for tree in [&store.records, &store.outbox, &store.audit] {
            if let Some((k, _)) = tree.last()? {
                highest = highest.max(super::from_be(&k).unwrap_or(0));
            }
        }
        if highest > 0 {
            store
                .meta
                .insert(super::ID_FLOOR, &(highest + 1).to_be_bytes())?;
        }
        store.db.flush()?;
        Ok(n)
    }
}
