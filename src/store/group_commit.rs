//! Group commit for SQLite. Writers take turns on one connection, each in a savepoint of a
//! shared transaction, and one COMMIT makes the whole group durable. SQLite has one writer
//! anyway; what a group saves is the commit: every commit appends each page it changed to the
//! WAL, and consecutive writes change the same pages (the tables' last leaves, their indexes,
//! the event counter). A profile of POSTs at 16 clients had a third of the server's time in
//! commits.
//!
//! The rules:
//! - A writer's closure runs in a savepoint. If it fails, only its savepoint is rolled back and
//!   the others in the group are unaffected.
//! - A writer that says it fails only before it writes (`Guard::None`) runs without one: a
//!   savepoint's statements and SQLite's copy of every page it first touches were a fifth of
//!   the writer's time per POST. If it fails having written after all, or panics, the whole
//!   group is rolled back; it gets its error (or its panic), and the others run again in a
//!   later group (`Ended::Again`): one write's failure costs the others a retry, never an
//!   error. So that they can, a writer goes without a savepoint only while every member of the
//!   group can be run again (`write_again`, `submit_again`: their closures are `FnMut`); once
//!   one that cannot has joined, the group is pinned and every later writer gets a savepoint.
//! - A writer in a savepoint whose closure panics has its savepoint rolled back; the group goes
//!   on, and the panic goes on to its own caller.
//! - A writer's result is handed back only after the COMMIT that contains its changes succeeded;
//!   if that COMMIT fails, every writer in the group gets the error and nothing of the group is
//!   stored. Nobody sees a write that was not committed.
//! - The writer that finds nobody waiting behind it (or fills the group) commits. A lone writer
//!   therefore commits at once, as before; a group forms only while writers queue anyway.
//! - A write handed over with `submit` owns what it needs and is run by the store's writer
//!   thread, under the same rules, in the same groups as blocking writers; its caller awaits a
//!   oneshot that is answered once the group ended.

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};

use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::{Connection, RunQueryDsl};
use tokio::sync::oneshot;

use super::conn::DbConn;
use super::error::StoreError;
use super::pool::Manager;

/// Writes per group at most, which bounds how long the first writer of a group waits for the
/// commit.
const MAX_GROUP: usize = 32;

/// What undoes a writer's changes when its closure fails, leaving the group's others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    Savepoint,
    /// Nothing: the closure promises that when it fails it has written nothing, its one
    /// failure a client can cause coming before its writes or being its first write (a
    /// single-row INSERT, which SQLite undoes by itself when it breaks a constraint). SQLite's
    /// count of changed rows checks the promise.
    None,
}

mod sql {
    diesel::define_sql_function! {
        /// Rows inserted, updated or deleted on this connection since it opened.
        fn total_changes() -> diesel::sql_types::BigInt;
    }
}

/// SQLite ends the whole transaction on some failures (an I/O error, a full disk) without the
/// failing statement's caller being told. diesel checks for that after a `batch_execute`
/// fails, so a statement that fails whatever the state (releasing a savepoint that does not
/// exist) makes the depth check after a writer see it.
fn notice_ended_transaction(conn: &mut DbConn) {
    let _ = sqlite(conn).batch_execute("RELEASE roster_no_such_savepoint");
}

fn total_changes(conn: &mut DbConn) -> Result<i64, diesel::result::Error> {
    diesel::select(sql::total_changes()).get_result(sqlite(conn))
}

pub struct GroupCommit {
    path: PathBuf,
    batch: Mutex<Batch>,
    /// Threads about to take the batch lock. Non-zero means someone will carry the group on.
    waiting: AtomicUsize,
    /// Writes for the writer thread (`submit`).
    queue: Arc<Queue>,
    /// Writes per committed group, for `/metrics`.
    sizes: prometheus::Histogram,
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.queue.close();
    }
}

#[derive(Default)]
struct Batch {
    conn: Option<DbConn>,
    open: bool,
    /// Writers whose changes are in the open group and who wait for its commit.
    members: usize,
    /// A member of the open group cannot be run again: no later writer may go without a
    /// savepoint, since its failure would roll that member back.
    pinned: bool,
    /// Where the open group's members learn how it ended.
    outcome: Arc<Outcome>,
    /// How the open group's queued members (`submit`) learn it.
    told: Vec<Tell>,
}

/// How a group ended, for its members.
#[derive(Debug, Clone)]
enum Ended {
    Committed,
    Failed(String),
    /// Rolled back for another writer's fault: every member runs again.
    Again,
}

/// Hands a queued write its result once its group ended.
type Tell = Box<dyn FnOnce(&Ended) + Send>;

/// A queued write, run by the writer thread in the open group.
type Job = Box<dyn FnOnce(&GroupCommit, &mut Batch) + Send>;

/// How running a writer's closure went.
enum Ran<T, E> {
    /// Its changes, if it succeeded, are in the open group.
    InGroup(Result<T, E>),
    /// It failed and ended the group (rolled back).
    Ended(E),
    /// It panicked; the group was ended and rolled back.
    Panicked(Box<dyn std::any::Any + Send>),
}

/// Writes waiting for the writer thread, which starts with the first.
#[derive(Default)]
struct Queue {
    pending: Mutex<Pending>,
    pushed: Condvar,
    /// The writer thread, once the first queued write started it.
    writer: OnceLock<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct Pending {
    jobs: Vec<Job>,
    /// The store is gone; the writer thread ends.
    closed: bool,
}

impl Queue {
    fn push(self: &Arc<Self>, job: Job, writers: &Arc<GroupCommit>) {
        self.writer.get_or_init(|| {
            let (writers, queue) = (Arc::downgrade(writers), Arc::clone(self));
            std::thread::Builder::new()
                .name("sqlite-writer".into())
                .spawn(move || GroupCommit::serve(writers, queue))
                .expect("start the SQLite writer thread")
        });
        self.pending().jobs.push(job);
        self.pushed.notify_one();
    }

    fn pending(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a write again, from the writer thread, which is running already.
    fn requeue(&self, job: Job) {
        self.pending().jobs.push(job);
        self.pushed.notify_one();
    }

    fn take(&self) -> Vec<Job> {
        std::mem::take(&mut self.pending().jobs)
    }

    fn is_empty(&self) -> bool {
        self.pending().jobs.is_empty()
    }

    /// The queued writes, once there are any; `None` once the store is closed.
    fn wait(&self) -> Option<Vec<Job>> {
        let mut pending = self.pending();
        loop {
            if pending.closed {
                return None;
            }
            if !pending.jobs.is_empty() {
                return Some(std::mem::take(&mut pending.jobs));
            }
            pending = self.pushed.wait(pending).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn close(&self) {
        self.pending().closed = true;
        self.pushed.notify_all();
    }
}

/// How a group ended, told to its waiting members apart from the batch lock: a group's members
/// wake together at its commit, and taking the batch lock to read the outcome queued all of
/// them behind, and in front of, the next group's writers.
#[derive(Default)]
struct Outcome {
    /// `Some` once the group ended.
    ended: Mutex<Option<Ended>>,
    told: Condvar,
}

impl Outcome {
    fn tell(&self, how: Ended) {
        *self.ended.lock().unwrap_or_else(|p| p.into_inner()) = Some(how);
        self.told.notify_all();
    }

    fn wait(&self) -> Ended {
        let mut ended = self.ended.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(how) = &*ended {
                return how.clone();
            }
            ended = self.told.wait(ended).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl GroupCommit {
    pub fn new(path: PathBuf, sizes: prometheus::Histogram) -> GroupCommit {
        GroupCommit {
            path,
            batch: Mutex::new(Batch::default()),
            waiting: AtomicUsize::new(0),
            queue: Arc::default(),
            sizes,
        }
    }

    /// Writes waiting: queued for the writer thread, or about to take the batch lock.
    pub fn queued(&self) -> usize {
        self.queue.pending().jobs.len() + self.waiting.load(Ordering::Relaxed)
    }

    /// Whether queued writes can still be run: the writer thread has not ended (it ends only
    /// by a panic outside any writer's closure). Before the first queued write there is no
    /// thread yet, and the first one starts it.
    pub fn writer_alive(&self) -> bool {
        self.queue.writer.get().is_none_or(|t| !t.is_finished())
    }

    /// Runs `f` as part of a group and returns its result once the group is committed.
    pub fn write<T, E>(
        &self,
        guard: Guard,
        f: impl FnOnce(&mut DbConn) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        // A writer that cannot run again pins its group: nobody's failure ends it for them.
        self.attempt(guard, false, f).unwrap_or_else(|| {
            Err(StoreError::Commit("the write's group was rolled back".into()).into())
        })
    }

    /// `write` without a savepoint (`Guard::None`) for a closure that can run again: when
    /// another writer's failure rolls its group back, it does, in a later group.
    pub fn write_again<T, E>(&self, mut f: impl FnMut(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        loop {
            if let Some(result) = self.attempt(Guard::None, true, &mut f) {
                return result;
            }
        }
    }

    /// One run of `f` in a group; `None` when the group was rolled back for another writer's
    /// fault and `f` is to run again.
    fn attempt<T, E>(
        &self,
        guard: Guard,
        again: bool,
        f: impl FnOnce(&mut DbConn) -> Result<T, E>,
    ) -> Option<Result<T, E>>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        let mut batch = self.lock();
        let result = match self.run(&mut batch, guard, again, f) {
            Ran::InGroup(result) => result,
            Ran::Ended(e) => return Some(Err(e)),
            Ran::Panicked(panicked) => {
                // The group went on without this writer: someone must still end it.
                if batch.open && self.ends_group(&batch) {
                    self.finish(&mut batch, None);
                }
                drop(batch);
                panic::resume_unwind(panicked);
            }
        };
        if self.ends_group(&batch) {
            return Some(match (result, self.finish(&mut batch, None)) {
                (Ok(_), Ended::Failed(e)) => Err(StoreError::Commit(e).into()),
                (result, _) => result,
            });
        }
        let value = match result {
            Ok(value) => value,
            Err(e) => return Some(Err(e)),
        };
        // A writer is queued behind this one; it carries the group on, and the last commits.
        let outcome = Arc::clone(&batch.outcome);
        drop(batch);
        match outcome.wait() {
            Ended::Committed => Some(Ok(value)),
            Ended::Failed(e) => Some(Err(StoreError::Commit(e).into())),
            Ended::Again => None,
        }
    }

    /// `write` for a closure that owns what it needs, run by the writer thread while the caller
    /// awaits its result: no blocking thread waits for its turn, for the lock or for the
    /// commit. Each of those waits was a sleep and a wake-up of a thread, and at 16 concurrent
    /// POSTs thread switches took a seventh of the server's time.
    pub fn submit<T, E, F>(
        self: &Arc<Self>,
        guard: Guard,
        f: F,
    ) -> impl Future<Output = Result<T, E>> + use<T, E, F>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        let (reply, replied) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |writers: &GroupCommit, batch: &mut Batch| {
            let ran = writers.run(batch, guard, false, f);
            answer(batch, ran, reply, |reply, e| {
                let _ = reply.send(Err(StoreError::Commit(format!(
                    "the write's group was {e}"
                ))
                .into()));
            });
        });
        self.queue.push(job, self);
        replied_or_stopped(replied)
    }

    /// `submit` as `write_again` is to `write`: without a savepoint, run again in a later group
    /// when another writer's failure rolls its group back.
    pub fn submit_again<T, E, F>(
        self: &Arc<Self>,
        f: F,
    ) -> impl Future<Output = Result<T, E>> + use<T, E, F>
    where
        F: FnMut(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        let (reply, replied) = oneshot::channel::<Result<T, E>>();
        self.queue.push(again_job(f, reply), self);
        replied_or_stopped(replied)
    }

    /// Runs `f` in the open group, opening one if needed.
    fn run<T, E>(
        &self,
        batch: &mut Batch,
        guard: Guard,
        again: bool,
        f: impl FnOnce(&mut DbConn) -> Result<T, E>,
    ) -> Ran<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        if !batch.open
            && let Err(e) = self.begin(batch)
        {
            return Ran::Ended(e.into());
        }
        let guard = if batch.pinned {
            Guard::Savepoint
        } else {
            guard
        };
        let conn = batch
            .conn
            .as_mut()
            .expect("an open group has its connection");
        let run = panic::catch_unwind(AssertUnwindSafe(|| match guard {
            Guard::Savepoint => (conn.transaction(f), false),
            Guard::None => match total_changes(conn) {
                Ok(before) => {
                    let result = f(conn);
                    let wrote = result.is_err() && {
                        notice_ended_transaction(conn);
                        total_changes(conn).ok() != Some(before)
                    };
                    (result, wrote)
                }
                // Without the count nothing could tell a failure apart from a half write.
                Err(e) => (Err(e.into()), true),
            },
        }));
        let (result, wrote_then_failed) = match run {
            Ok(ran) => ran,
            Err(panicked) => {
                // Its savepoint, left open by the unwinding, takes back what it wrote.
                if guard == Guard::Savepoint
                    && AnsiTransactionManager::rollback_transaction(sqlite(conn)).is_ok()
                    && in_group_transaction(conn)
                {
                    return Ran::Panicked(panicked);
                }
                // Ended here, not by the next writer's lock: the group's members would wait
                // for it until one came.
                self.finish(batch, Some("a writer in the group failed".into()));
                return Ran::Panicked(panicked);
            }
        };
        let intact = !wrote_then_failed && in_group_transaction(conn);
        if !intact {
            // A savepoint could not be ended, or a write without one failed halfway: the
            // group's transaction is unusable.
            let why = "the transaction broke".to_string();
            self.finish(batch, Some(why.clone()));
            return Ran::Ended(match result {
                Err(e) => e,
                Ok(_) => StoreError::Commit(why).into(),
            });
        }
        if result.is_ok() {
            batch.members += 1;
            batch.pinned |= !again;
        }
        Ran::InGroup(result)
    }

    /// Whether the holder of the batch lock commits the group now: the group is full, or
    /// nobody is about to carry it on. A writer that might be (one running on the other core,
    /// its request nearly ready) gets the processor once first; on two cores that made groups
    /// half as large again and cost a POST 6% less processor time.
    fn ends_group(&self, batch: &Batch) -> bool {
        if batch.members >= MAX_GROUP {
            return true;
        }
        if self.waiting.load(Ordering::SeqCst) == 0 && self.queue.is_empty() {
            std::thread::yield_now();
        }
        self.waiting.load(Ordering::SeqCst) == 0 && self.queue.is_empty()
    }

    /// The writer thread: runs queued writes in groups until the store is dropped.
    fn serve(writers: Weak<GroupCommit>, queue: Arc<Queue>) {
        while let Some(mut jobs) = queue.wait() {
            let Some(writers) = writers.upgrade() else {
                return;
            };
            let mut batch = writers.lock();
            loop {
                for job in jobs {
                    job(&writers, &mut batch);
                }
                if !batch.open {
                    break;
                }
                if writers.ends_group(&batch) {
                    writers.finish(&mut batch, None);
                    break;
                }
                jobs = queue.take();
                if jobs.is_empty() {
                    // A blocking writer waits for the lock; it carries the group on.
                    break;
                }
            }
        }
    }

    /// Holds writers off while `f` runs, with everything written so far committed: for a
    /// checkpoint that must see the WAL's last frame.
    pub fn quiesced<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut batch = self.lock();
        if batch.open {
            self.finish(&mut batch, None);
        }
        f()
    }

    fn lock(&self) -> MutexGuard<'_, Batch> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let locked = self.batch.lock();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match locked {
            Ok(batch) => batch,
            Err(poisoned) => {
                // A writer panicked holding the lock outside its closure (`write` ends the
                // group of one that panics inside): the group cannot be trusted.
                self.batch.clear_poison();
                let mut batch = poisoned.into_inner();
                if batch.open {
                    self.finish(&mut batch, Some("a writer in the group failed".into()));
                }
                batch
            }
        }
    }

    fn begin(&self, batch: &mut Batch) -> Result<(), StoreError> {
        if batch.conn.is_none() {
            batch.conn = Some(
                Manager::connect_sqlite(&self.path)
                    .map_err(|e| StoreError::Connect(e.to_string()))?,
            );
        }
        let conn = batch.conn.as_mut().expect("just opened");
        // IMMEDIATE takes SQLite's write lock now, waiting (busy_timeout) for another process's
        // writer, instead of failing later when a read would have to become a write.
        if let Err(e) =
            AnsiTransactionManager::begin_transaction_sql(sqlite(conn), "BEGIN IMMEDIATE")
        {
            batch.conn = None;
            return Err(e.into());
        }
        batch.open = true;
        Ok(())
    }

    /// Ends the open group: commits it, or rolls it back when `broken` says why it cannot be
    /// (its members then run again, unless the group is pinned). Returns how it ended.
    fn finish(&self, batch: &mut Batch, broken: Option<String>) -> Ended {
        let conn = batch
            .conn
            .as_mut()
            .expect("an open group has its connection");
        let ended = match broken {
            Some(_) if !batch.pinned => Ended::Again,
            Some(why) => Ended::Failed(why),
            None => match AnsiTransactionManager::commit_transaction(sqlite(conn)) {
                Ok(()) => {
                    if batch.members > 0 {
                        self.sizes.observe(batch.members as f64);
                    }
                    Ended::Committed
                }
                Err(e) => Ended::Failed(e.to_string()),
            },
        };
        if !matches!(ended, Ended::Committed) && !roll_back_entirely(sqlite(conn)) {
            batch.conn = None;
        }
        std::mem::take(&mut batch.outcome).tell(ended.clone());
        for tell in batch.told.drain(..) {
            tell(&ended);
        }
        batch.open = false;
        batch.members = 0;
        batch.pinned = false;
        ended
    }
}

/// Whether the group's transaction is open with no savepoint left inside it.
fn in_group_transaction(conn: &mut DbConn) -> bool {
    matches!(
        AnsiTransactionManager::transaction_manager_status_mut(sqlite(conn)).transaction_depth(),
        Ok(Some(depth)) if depth.get() == 1
    )
}

/// Answers a queued write once its run is known: at once if it failed, else once its group
/// ended. `rerun` gets the reply back when the group was rolled back for another's fault.
fn answer<T, E>(
    batch: &mut Batch,
    ran: Ran<T, E>,
    reply: oneshot::Sender<Result<T, E>>,
    rerun: impl FnOnce(oneshot::Sender<Result<T, E>>, &str) + Send + 'static,
) where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    match ran {
        Ran::InGroup(Ok(value)) => batch.told.push(Box::new(move |ended| match ended {
            Ended::Committed => {
                let _ = reply.send(Ok(value));
            }
            Ended::Failed(e) => {
                let _ = reply.send(Err(StoreError::Commit(e.clone()).into()));
            }
            Ended::Again => rerun(reply, "rolled back"),
        })),
        Ran::InGroup(Err(e)) | Ran::Ended(e) => {
            let _ = reply.send(Err(e));
        }
        Ran::Panicked(panicked) => {
            let why = panicked
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panicked.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %why, "a queued write panicked");
            let _ = reply.send(Err(StoreError::Commit("the write failed".into()).into()));
        }
    }
}

/// A queued write that runs again, queued anew, whenever its group is rolled back for another
/// writer's fault.
fn again_job<T, E, F>(mut f: F, reply: oneshot::Sender<Result<T, E>>) -> Job
where
    F: FnMut(&mut DbConn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
{
    Box::new(move |writers: &GroupCommit, batch: &mut Batch| {
        let ran = writers.run(batch, Guard::None, true, &mut f);
        let queue = Arc::clone(&writers.queue);
        answer(batch, ran, reply, move |reply, _| {
            queue.requeue(again_job(f, reply));
        });
    })
}

async fn replied_or_stopped<T, E: From<StoreError>>(
    replied: oneshot::Receiver<Result<T, E>>,
) -> Result<T, E> {
    replied
        .await
        .unwrap_or_else(|_| Err(StoreError::Commit("the writer thread stopped".into()).into()))
}

/// Rolls back the group's transaction with any savepoint a writer left open (one that failed
/// to end it, or panicked inside it). `false` when the connection is left in a transaction.
fn roll_back_entirely(conn: &mut diesel::SqliteConnection) -> bool {
    loop {
        let depth =
            AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth();
        match depth {
            Ok(None) => return true,
            Ok(Some(_)) => {
                if AnsiTransactionManager::rollback_transaction(conn).is_err() {
                    // SQLite may have ended the transaction itself; diesel then says so.
                    return matches!(
                        AnsiTransactionManager::transaction_manager_status_mut(conn)
                            .transaction_depth(),
                        Ok(None)
                    );
                }
            }
            Err(_) => return false,
        }
    }
}

fn sqlite(conn: &mut DbConn) -> &mut diesel::SqliteConnection {
    match conn {
        DbConn::Sqlite(c) => c,
        DbConn::Postgres(_) => unreachable!("group commit is opened on SQLite files only"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::BigInt;
    use std::sync::mpsc;
    use std::time::Duration;

    fn insert(conn: &mut DbConn, x: i64) -> Result<(), StoreError> {
        sqlite(conn).batch_execute(&format!("INSERT INTO t (x) VALUES ({x})"))?;
        Ok(())
    }

    fn rows(writers: &GroupCommit) -> i64 {
        writers
            .write(Guard::Savepoint, |c| -> Result<i64, StoreError> {
                Ok(
                    diesel::select(diesel::dsl::sql::<BigInt>("(SELECT count(*) FROM t)"))
                        .get_result(sqlite(c))?,
                )
            })
            .unwrap()
    }

    fn store_with_table() -> (Arc<GroupCommit>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("roster-gc-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let writers = Arc::new(GroupCommit::new(
            dir.join("db"),
            crate::store::stats::StoreStats::default().group_commit_size,
        ));
        writers
            .write(Guard::Savepoint, |c| -> Result<(), StoreError> {
                Ok(sqlite(c).batch_execute("CREATE TABLE t (x INTEGER)")?)
            })
            .unwrap();
        (writers, dir)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_writes_commit_and_each_failure_stays_its_own() {
        let (writers, dir) = store_with_table();
        let mut replies = Vec::new();
        for x in 0..40_i64 {
            let guard = if x % 2 == 0 {
                Guard::Savepoint
            } else {
                Guard::None
            };
            let reply = writers.submit(guard, move |c| -> Result<i64, StoreError> {
                match x {
                    // Wrote, then failed: its savepoint takes the row back.
                    10 => {
                        insert(c, x)?;
                        Err(StoreError::Corrupt("refused after writing".into()))
                    }
                    // Failed before writing anything.
                    11 => Err(StoreError::Corrupt("refused".into())),
                    _ => insert(c, x).map(|()| x),
                }
            });
            replies.push(tokio::spawn(reply));
        }
        // A blocking writer in between joins whatever group is open.
        writers.write(Guard::Savepoint, |c| insert(c, 100)).unwrap();
        let mut stored = 1;
        for (x, reply) in replies.into_iter().enumerate() {
            match reply.await.unwrap() {
                Ok(v) => {
                    assert_eq!(v, x as i64);
                    stored += 1;
                }
                Err(_) => assert!(x == 10 || x == 11, "write {x} failed"),
            }
        }
        assert_eq!(stored, 39);
        assert_eq!(rows(&writers), 39);
        drop(writers);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_queued_write_fails_alone_and_the_writer_goes_on() {
        let (writers, dir) = store_with_table();
        let panicked = writers
            .submit(Guard::Savepoint, |_| -> Result<(), StoreError> {
                panic!("a bug in a queued writer")
            })
            .await;
        assert!(panicked.is_err());
        writers
            .submit(Guard::None, |c| insert(c, 1))
            .await
            .expect("the writer thread still runs writes");
        writers.write(Guard::Savepoint, |c| insert(c, 2)).unwrap();
        assert_eq!(rows(&writers), 2);
        drop(writers);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_breaks_its_group_costs_the_others_a_retry_not_an_error() {
        let (writers, dir) = store_with_table();
        let runs = Arc::new(AtomicUsize::new(0));
        let mut replies = Vec::new();
        for x in 0..40_i64 {
            let runs = Arc::clone(&runs);
            let reply = writers.submit_again(move |c| -> Result<i64, StoreError> {
                runs.fetch_add(1, Ordering::SeqCst);
                match x {
                    // Wrote, then failed, without a savepoint: its group is rolled back.
                    10 => {
                        insert(c, x)?;
                        Err(StoreError::Corrupt("refused after writing".into()))
                    }
                    20 => {
                        insert(c, x)?;
                        panic!("a bug in a writer")
                    }
                    _ => insert(c, x).map(|()| x),
                }
            });
            replies.push(tokio::spawn(reply));
        }
        // Blocking writers that can run again join the same groups.
        let blocking = {
            let writers = Arc::clone(&writers);
            std::thread::spawn(move || {
                (100..104_i64)
                    .map(|x| writers.write_again(|c| insert(c, x)))
                    .collect::<Vec<_>>()
            })
        };
        for (x, reply) in replies.into_iter().enumerate() {
            let result = reply.await.unwrap();
            match x {
                10 | 20 => assert!(result.is_err(), "write {x} succeeded"),
                _ => assert_eq!(result.unwrap(), x as i64, "write {x} failed"),
            }
        }
        for result in blocking.join().unwrap() {
            result.expect("a blocking write failed");
        }
        assert_eq!(rows(&writers), 38 + 4, "every write but the two is stored");
        assert!(
            runs.load(Ordering::SeqCst) > 40,
            "the broken groups' other writes ran again"
        );
        drop(writers);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_panicking_writer_in_a_savepoint_leaves_its_group_going() {
        let (writers, dir) = store_with_table();
        // As if a writer were queued: the member then waits for the group's commit.
        writers.waiting.fetch_add(1, Ordering::SeqCst);
        let (told, outcome) = mpsc::channel();
        let member = {
            let writers = Arc::clone(&writers);
            std::thread::spawn(move || {
                told.send(writers.write(Guard::Savepoint, |c| insert(c, 1)))
                    .unwrap()
            })
        };
        while writers.lock().members == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        writers.waiting.fetch_sub(1, Ordering::SeqCst);

        let panicked = panic::catch_unwind(AssertUnwindSafe(|| {
            writers.write(Guard::Savepoint, |c| -> Result<(), StoreError> {
                insert(c, 99)?;
                panic!("a bug in a writer")
            })
        }));
        assert!(panicked.is_err());
        let member_result = outcome
            .recv_timeout(Duration::from_secs(10))
            .expect("the waiting member is told at once");
        member_result.expect("the member's write is committed");
        member.join().unwrap();
        assert!(!writers.batch.is_poisoned());
        writers.write(Guard::Savepoint, |c| insert(c, 2)).unwrap();
        assert_eq!(rows(&writers), 2, "the panicking write left nothing");
        drop(writers);
        let _ = std::fs::remove_dir_all(dir);
    }
}
