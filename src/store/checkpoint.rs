//! SQLite's WAL copied back into the database file in the background.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::error::StoreError;
use super::group_commit::GroupCommit;

/// How often the background checkpoint runs. A passive checkpoint never blocks readers or the
/// writer; between two runs the WAL grows by whatever was written meanwhile.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Copies the WAL back into the database file on a thread of its own, on a connection of its
/// own (not one of the pool's), until the store is dropped.
pub(super) struct Checkpointer {
    stop: Arc<AtomicBool>,
}

impl Checkpointer {
    pub(super) fn start(path: &str, writers: Arc<GroupCommit>) -> Result<Checkpointer, StoreError> {
        let mut conn = SqliteConnection::establish(path)
            .map_err(|e| StoreError::Connect(format!("checkpoint connection: {e}")))?;
        conn.batch_execute("PRAGMA busy_timeout = 10000;")?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    if let Err(e) = checkpoint(&mut conn, &writers) {
                        tracing::warn!(error = %e, "SQLite checkpoint failed; retrying");
                    }
                }
            })
            .map_err(|e| StoreError::Connect(format!("checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop })
    }
}

/// The answer of `PRAGMA wal_checkpoint`: frames in the WAL, and how many are copied back.
#[derive(QueryableByName)]
struct CheckpointResult {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
}

/// WAL frames (pages) above which the checkpointer holds writers back to catch up.
const WAL_CATCH_UP_FRAMES: i32 = 4096;

/// A passive checkpoint, never blocking anyone. Under a steady stream of writes it never
/// catches up with the last frame, so SQLite never starts the WAL over and the file grows
/// without bound (3 GB in three minutes of a bulk import). Past `WAL_CATCH_UP_FRAMES` a second
/// passive checkpoint runs with writers held off and their last group committed: no writer
/// appends meanwhile, so it copies the few frames the first one left, and the next writer
/// starts the WAL over (`journal_size_limit` then shrinks the file). A RESTART checkpoint
/// would do the same but also wait for every reader, which cost writers p99 stalls of
/// 100-800 ms.
fn checkpoint(conn: &mut SqliteConnection, writers: &GroupCommit) -> Result<(), StoreError> {
    let passive: CheckpointResult =
        diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(conn)?;
    if passive.log > WAL_CATCH_UP_FRAMES {
        writers.quiesced(|| {
            diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<CheckpointResult>(conn)
        })?;
    }
    Ok(())
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
