//! How long one statement may run. A client shapes its reads (a filter of many `co` tests, a
//! `sortBy` that reads every resource's values), so without a bound one request could keep a
//! connection busy for as long as reading the whole directory takes. PostgreSQL stops any
//! statement past `statement_timeout`, set on every pooled connection; SQLite has no such
//! setting, so a progress handler stops a statement of a read past the same limit. SQLite's
//! writes are never stopped: they commit in groups, and one stopped write would fail its whole
//! group. The limit is per statement on both, so a long read made of many short statements
//! (a directory snapshot, page by page) is not stopped.
//!
//! The limit is a parameter of the database URL, `statement_timeout=MS` (default 10 s, 0 for
//! none), taken out before the URL reaches SQLite or libpq.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};
use std::sync::Once;
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::{Connection, PgConnection};
use libsqlite3_sys as ffi;

use super::error::StoreError;

pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

const PARAMETER: &str = "statement_timeout";

/// `url` without the `statement_timeout` parameter, and the limit it names.
pub fn split_url(url: &str) -> Result<(String, Duration), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), DEFAULT_STATEMENT_TIMEOUT));
    };
    let mut limit = DEFAULT_STATEMENT_TIMEOUT;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((PARAMETER, ms)) => {
                let ms = ms.parse().map_err(|_| {
                    StoreError::BadUrl(format!(
                        "{PARAMETER} is a number of milliseconds (0 for no limit), not '{ms}'"
                    ))
                })?;
                limit = Duration::from_millis(ms);
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, limit))
}

thread_local! {
    /// How long a SQLite statement on this thread may run; `None`: without limit.
    static LIMIT: Cell<Option<Duration>> = const { Cell::new(None) };
    /// When the statement running on this thread began (`Watch`).
    static STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
    /// A statement on this thread was stopped at the limit.
    static STOPPED: Cell<bool> = const { Cell::new(false) };
}

/// While it lives, SQLite statements on this thread stop at `limit` (`arm`) or never
/// (`disarm`); dropping it restores what was before.
pub(super) struct Deadline {
    previous: Option<Duration>,
}

impl Deadline {
    /// For a read; inside another read, that one's limit stays.
    pub(super) fn arm(limit: Duration) -> Deadline {
        let previous = LIMIT.get();
        if previous.is_none() && !limit.is_zero() {
            STOPPED.set(false);
            // For a connection without `Watch`: its statements count from here.
            STARTED.set(Some(Instant::now()));
            LIMIT.set(Some(limit));
        }
        Deadline { previous }
    }

    /// For writes, which a read's limit must not reach: on SQLite the calling thread may
    /// commit a whole group of other requests' writes.
    pub(super) fn disarm() -> Deadline {
        STOPPED.set(false);
        Deadline {
            previous: LIMIT.replace(None),
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        LIMIT.set(self.previous);
    }
}

/// `result`, with a failure that came from a statement stopped at the limit replaced by
/// `stopped`'s error.
pub(super) fn checked<T, E: From<StoreError>>(
    result: Result<T, E>,
    stopped: impl FnOnce() -> StoreError,
) -> Result<T, E> {
    let was_stopped = STOPPED.replace(false);
    match result {
        Err(_) if was_stopped => Err(stopped().into()),
        other => other,
    }
}

/// SQLite runs the progress handler every this many virtual-machine instructions: a few
/// hundred rows of a scan, so a read stops soon after its deadline (one row's function calls,
/// a LIKE say, run to their end), and looking at the clock costs nothing measurable.
const PROGRESS_EVERY: c_int = 1000;

extern "C" fn progress(_: *mut c_void) -> c_int {
    // `try_with`: no unwinding into SQLite, even while the thread's locals are torn down.
    let limit = LIMIT.try_with(Cell::get).ok().flatten();
    let started = STARTED.try_with(Cell::get).ok().flatten();
    match (limit, started) {
        (Some(limit), Some(started)) if started.elapsed() >= limit => {
            let _ = STOPPED.try_with(|s| s.set(true));
            1
        }
        _ => 0,
    }
}

unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _: *mut *mut c_char,
    _: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: SQLite calls this with the connection it is opening, a valid handle.
    unsafe {
        ffi::sqlite3_progress_handler(db, PROGRESS_EVERY, Some(progress), std::ptr::null_mut())
    };
    ffi::SQLITE_OK
}

/// Gives every SQLite connection this process opens from now on the progress handler. diesel
/// does not hand out a connection's raw handle; SQLite's automatic extensions are given it. The
/// handler does nothing on threads without an armed `Deadline`.
///
/// The connection also needs `Watch`, which tells the handler when each statement began.
pub(super) fn install_sqlite_handler() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: registers a function with the signature SQLite calls automatic extensions
        // with; nothing else is shared.
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(on_open)) };
        if rc != ffi::SQLITE_OK {
            tracing::warn!(
                rc,
                "SQLite reads will not be stopped at the statement timeout"
            );
        }
    });
}

/// `SET statement_timeout` for `limit` (0: none).
pub(super) fn set_statement_timeout(limit: Duration) -> String {
    format!("SET statement_timeout = {}", limit.as_millis())
}

/// Bounds a new PostgreSQL connection's statements by `limit`, and marks the thread when one
/// is stopped by it: a statement that failed after running for the whole limit is one the
/// server cancelled (diesel does not expose the SQLSTATE, and the message is localized).
pub(super) fn bound_postgres(conn: &mut PgConnection, limit: Duration) -> diesel::QueryResult<()> {
    conn.batch_execute(&set_statement_timeout(limit))?;
    conn.set_instrumentation(Watch::new((!limit.is_zero()).then_some(limit)));
    Ok(())
}

/// Notes when each statement begins (what SQLite's progress handler measures from) and, on
/// PostgreSQL, whether one failed after running for the whole `limit`, when the connection
/// last answered, and whether it was lost (what the pool asks: `pool::Manager`).
pub(super) struct Watch {
    limit: Option<Duration>,
    answered_at: Option<Instant>,
    lost: bool,
}

impl Watch {
    pub(super) fn new(limit: Option<Duration>) -> Watch {
        Watch {
            limit,
            answered_at: None,
            lost: false,
        }
    }

    /// Whether a statement succeeded on the connection less than `within` ago.
    pub(super) fn answered_within(&self, within: Duration) -> bool {
        self.answered_at.is_some_and(|at| at.elapsed() < within)
    }

    /// Whether the server closed the connection or could not be reached on it.
    pub(super) fn lost(&self) -> bool {
        self.lost
    }
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match event {
            InstrumentationEvent::StartQuery { .. } => STARTED.set(Some(Instant::now())),
            InstrumentationEvent::FinishQuery { error: None, .. } => {
                self.answered_at = Some(Instant::now());
            }
            InstrumentationEvent::FinishQuery {
                error: Some(Error::DatabaseError(kind, _)),
                ..
            } => {
                if matches!(kind, Kind::ClosedConnection | Kind::UnableToSendCommand) {
                    self.lost = true;
                }
                if self
                    .limit
                    .is_some_and(|limit| STARTED.get().is_some_and(|s| s.elapsed() >= limit))
                {
                    STOPPED.set(true);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::{RunQueryDsl, SqliteConnection};

    #[test]
    fn the_url_parameter_is_taken_out() {
        let ten = DEFAULT_STATEMENT_TIMEOUT;
        let cases = [
            ("sqlite://r.db", Some(("sqlite://r.db", ten))),
            (
                "sqlite://r.db?statement_timeout=250",
                Some(("sqlite://r.db", Duration::from_millis(250))),
            ),
            (
                "postgres://u@h/db?sslmode=disable&statement_timeout=0&application_name=x",
                Some((
                    "postgres://u@h/db?sslmode=disable&application_name=x",
                    Duration::ZERO,
                )),
            ),
            (
                "postgres://u@h/db?sslmode=disable",
                Some(("postgres://u@h/db?sslmode=disable", ten)),
            ),
            ("sqlite://r.db?statement_timeout=5s", None),
        ];
        for (url, expected) in cases {
            let got = split_url(url).ok();
            let expected = expected.map(|(u, l)| (u.to_string(), l));
            assert_eq!(got, expected, "{url}");
        }
    }

    /// A recursive count to `n`: millions of virtual-machine steps and no table.
    fn count_to(conn: &mut SqliteConnection, n: u64) -> diesel::QueryResult<usize> {
        diesel::sql_query(format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) \
             SELECT x FROM c WHERE x = 0"
        ))
        .execute(conn)
    }

    #[test]
    fn an_armed_sqlite_read_stops_at_its_deadline_and_nothing_else_does() {
        install_sqlite_handler();
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let limit = Duration::from_millis(50);

        let started = Instant::now();
        let stopped = {
            let _armed = Deadline::arm(limit);
            checked(
                count_to(&mut conn, u64::MAX).map_err(StoreError::from),
                || StoreError::ReadTimedOut(limit),
            )
        };
        assert!(
            matches!(stopped, Err(StoreError::ReadTimedOut(_))),
            "{stopped:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );

        // Within the limit: runs to the end.
        {
            let _armed = Deadline::arm(Duration::from_secs(60));
            assert!(count_to(&mut conn, 10_000).is_ok());
        }
        // Past an armed deadline, but disarmed (a write): runs to the end.
        {
            let _armed = Deadline::arm(Duration::from_millis(1));
            std::thread::sleep(Duration::from_millis(5));
            let _write = Deadline::disarm();
            assert!(count_to(&mut conn, 100_000).is_ok());
        }
        // Not armed: runs to the end.
        assert!(count_to(&mut conn, 100_000).is_ok());
        // The limit is per statement: a read of many short statements runs past it.
        conn.set_instrumentation(Watch::new(None));
        let _armed = Deadline::arm(Duration::from_millis(20));
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(10));
            assert!(count_to(&mut conn, 1_000).is_ok());
        }
        assert!(!STOPPED.get());
    }
}
