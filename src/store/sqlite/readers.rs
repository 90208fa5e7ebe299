//! The read connections: loads run on connections of their own, so that
//! threads reading do not wait for each other or for the writer. In WAL
//! mode a read transaction sees the database as of the latest commit when
//! it starts, while the writer appends after it.
//!
//! Connections are opened when no idle one is left (with the checks of the
//! store's opening: no symbolic link, the owner and modes of the files, the
//! mail2fa schema, and the very file the store was opened on), made
//! read-only (`PRAGMA query_only`), and kept for the next load — up to a
//! bound; the ones beyond it are closed when their load ends.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::Connection;

use super::connection::open_connection;
use super::failure::backend;
use super::files::{FileIdentity, check_files};
use super::schema::identify_current;
use crate::store::error::StoreError;

/// The pool of read connections of one store.
#[derive(Debug)]
pub(super) struct Readers {
    path: PathBuf,
    file: FileIdentity,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    keep: usize,
}

impl Readers {
    /// No connection yet; at most `keep` idle ones kept.
    pub(super) fn new(
        path: PathBuf,
        file: FileIdentity,
        busy_timeout: Duration,
        keep: usize,
    ) -> Self {
        Self {
            path,
            file,
            busy_timeout,
            idle: Mutex::new(Vec::with_capacity(keep)),
            keep,
        }
    }

    /// Runs `read` on a read connection of its own (an idle one, or a new
    /// one). The connection goes back to the pool if `read` succeeds; after
    /// an error (or a panic) it is closed, so that no connection in an
    /// unknown state is used again.
    pub(super) fn read<T>(
        &self,
        read: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self.lock()?.pop();
        let mut connection = match idle {
            Some(connection) => connection,
            None => self.open()?,
        };
        let result = read(&mut connection);
        if result.is_ok() {
            let mut idle = self.lock()?;
            if idle.len() < self.keep {
                idle.push(connection);
                return result;
            }
        }
        // Closed here, outside the lock.
        drop(connection);
        result
    }

    /// Whether the path still names the file the store opened: a database
    /// replaced or moved under a running process is refused (its WAL would
    /// not be the new file's), never written to or read as the new one.
    pub(super) fn check_file(&self) -> Result<(), StoreError> {
        if FileIdentity::of(&self.path)? != self.file {
            return Err(StoreError::Backend(format!(
                "sqlite: {} is no longer the file this store opened (it was replaced or \
                 moved); restart the process to open the new one",
                self.path.display()
            )));
        }
        Ok(())
    }

    /// The database file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// How many idle connections the pool holds now.
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Vec<Connection>>, StoreError> {
        self.idle
            .lock()
            .map_err(|_| StoreError::Backend("sqlite: reader pool lock poisoned".into()))
    }

    /// A new read connection to the store's file.
    fn open(&self) -> Result<Connection, StoreError> {
        check_files(&self.path)?;
        let connection = open_connection(&self.path, self.busy_timeout)?;
        // Checked before the first statement reads anything (SQLite opens
        // the `-wal` beside the path, whichever database it belongs to).
        self.check_file()?;
        connection
            .pragma_update(None, "query_only", true)
            .map_err(|e| backend("read-only reader", e))?;
        identify_current(&connection, &self.path)?;
        Ok(connection)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::store::sqlite::schema::migrate;

    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            use std::os::unix::fs::PermissionsExt;
            let dir =
                std::env::temp_dir().join(format!("m2fa-readers-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
            Self(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A new mail2fa database at `path` holding one record, as the store
    /// creates it; its connection stays open (the writer's).
    fn database(path: &Path) -> Connection {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .unwrap();
        let mut connection = open_connection(path, Duration::from_secs(5)).unwrap();
        let mode: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        migrate(&mut connection, true).unwrap();
        connection
            .execute(
                "INSERT INTO m2fa_records (key, version, bytes) VALUES (x'6b', 1, x'76')",
                [],
            )
            .unwrap();
        connection
    }

    fn readers(path: &Path, keep: usize) -> Readers {
        Readers::new(
            path.to_owned(),
            FileIdentity::of(path).unwrap(),
            Duration::from_secs(5),
            keep,
        )
    }

    fn count(connection: &mut Connection) -> Result<i64, StoreError> {
        connection
            .query_row("SELECT count(*) FROM m2fa_records", [], |row| row.get(0))
            .map_err(|e| backend("count", e))
    }

    #[test]
    fn a_reader_cannot_write() {
        let scratch = Scratch::new("query-only");
        let path = scratch.0.join("state.db");
        let writer = database(&path);
        let readers = readers(&path, 1);
        for sql in [
            "INSERT INTO m2fa_records (key, version, bytes) VALUES (x'01', 99, x'02')",
            "UPDATE m2fa_records SET bytes = x'00'",
            "DELETE FROM m2fa_records",
            "UPDATE m2fa_counter SET next_version = 1",
            "DROP TABLE m2fa_records",
        ] {
            let refused = readers
                .read(|connection| connection.execute(sql, []).map_err(|e| backend("write", e)));
            let Err(StoreError::Backend(message)) = refused else {
                panic!("{sql}: a reader wrote: {refused:?}");
            };
            assert!(message.contains("readonly"), "{sql}: {message}");
        }
        assert_eq!(readers.read(count).unwrap(), 1);
        let bytes: Vec<u8> = writer
            .query_row("SELECT bytes FROM m2fa_records", [], |row| row.get(0))
            .unwrap();
        assert_eq!(bytes, b"v");
    }

    #[test]
    fn the_pool_keeps_at_most_its_bound() {
        let scratch = Scratch::new("bound");
        let path = scratch.0.join("state.db");
        let _writer = database(&path);
        let readers = readers(&path, 2);
        assert_eq!(readers.idle(), 0, "connections are opened on demand");
        // Five loads at once, each inside the previous: five connections.
        fn nested(readers: &Readers, depth: usize) -> Result<usize, StoreError> {
            readers.read(|connection| {
                count(connection)?;
                if depth == 1 {
                    Ok(1)
                } else {
                    Ok(1 + nested(readers, depth - 1)?)
                }
            })
        }
        assert_eq!(nested(&readers, 5).unwrap(), 5);
        assert_eq!(readers.idle(), 2, "three closed, two kept");
        // Kept ones are used again: sequential loads open nothing new.
        for _ in 0..100 {
            readers.read(count).unwrap();
        }
        assert_eq!(readers.idle(), 2);
        // A failed read closes its connection instead of keeping it.
        let failed = readers.read(|connection| {
            connection
                .execute("SELECT * FROM no_such_table", [])
                .map_err(|e| backend("read", e))
        });
        assert!(failed.is_err());
        assert_eq!(readers.idle(), 1);
    }

    #[test]
    fn a_replaced_file_is_refused_to_new_readers() {
        let scratch = Scratch::new("replaced");
        let path = scratch.0.join("state.db");
        let other = scratch.0.join("other.db");
        let _writer = database(&path);
        drop(database(&other));
        let readers = readers(&path, 1);
        readers.read(count).unwrap();
        // The idle connection still reads the file it opened.
        std::fs::rename(&other, &path).unwrap();
        readers.read(count).unwrap();
        // A new one would read another file: refused.
        let both = readers.read(|connection| {
            count(connection)?;
            readers.read(count)
        });
        let Err(StoreError::Backend(message)) = both else {
            panic!("a reader of another file was opened: {both:?}");
        };
        assert!(message.contains("no longer the file"), "{message}");
    }
}
