//! WAL checkpoints on their own thread and connection, so copying committed pages back
//! into the database file never stalls the group-commit writer. The writer nudges it
//! after each commit; nudges coalesce while a checkpoint is running.

use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::thread::JoinHandle;

use rusqlite::Connection;

use crate::store::StoreError;

enum Signal {
    Committed,
    Stop,
}

pub struct Checkpointer {
    tx: SyncSender<Signal>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(1))?;
        let (tx, rx) = sync_channel::<Signal>(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Ok(Signal::Committed) = rx.recv() {
                    checkpoint(&conn, "PASSIVE");
                }
                checkpoint(&conn, "TRUNCATE");
            })
            .map_err(|source| StoreError::Io {
                path: path.to_owned(),
                source,
            })?;
        Ok(Checkpointer {
            tx,
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint soon; free when one is already pending.
    pub fn notify(&self) {
        match self.tx.try_send(Signal::Committed) {
            Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

fn checkpoint(conn: &Connection, mode: &str) {
    let result = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
    });
    match result {
        Ok((log, done)) => tracing::trace!(mode, log, done, "wal checkpoint"),
        // Busy while another checkpoint runs: the next nudge catches up.
        Err(error) => tracing::debug!(mode, %error, "wal checkpoint skipped"),
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let _ = self.tx.send(Signal::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
