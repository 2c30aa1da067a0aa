//! WAL checkpoints on their own thread and connection, so copying committed pages back
//! into the database file never stalls the group-commit writer. The writer nudges it
//! after each commit; nudges coalesce, and checkpoints run at most once per interval,
//! so a page rewritten by many commits is copied (and the file synced) once.

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::store::StoreError;

/// The least time between two checkpoints. Under load the WAL then holds about this
/// long of writes (tens of MiB at most; `journal_size_limit` trims it back after).
const INTERVAL: Duration = Duration::from_millis(500);

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
                let mut last: Option<Instant> = None;
                while let Ok(Signal::Committed) = rx.recv() {
                    if let Some(last) = last {
                        if !wait_until(&rx, last + INTERVAL) {
                            break;
                        }
                    }
                    checkpoint(&conn, "PASSIVE");
                    last = Some(Instant::now());
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

/// Lets nudges pile up until `deadline`; false when asked to stop meanwhile.
fn wait_until(rx: &Receiver<Signal>, deadline: Instant) -> bool {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        match rx.recv_timeout(left) {
            Ok(Signal::Committed) => continue,
            Err(RecvTimeoutError::Timeout) => return true,
            Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => return false,
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
