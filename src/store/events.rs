//! The events table: appending in commit order, reading by cursor, snapshots' positions,
//! pruning.
//!
//! A cursor must never let a reader that has seen cursor C later find a new event below C.
//! On SQLite every write runs on one writer, so a counter row taken inside the write orders
//! cursors by commit. On PostgreSQL several transactions commit side by side, and one counter
//! row would serialize every tenant's writes behind its lock. There an event's cursor is
//! `xid << XID_SHIFT | n`, from its transaction's id and its place in that transaction, and a
//! reader sees only events of transactions below the oldest one of this database still
//! running (`horizon!`): every transaction whose events could still appear has a higher id,
//! and so higher cursors, than anything already shown.

use std::cell::Cell;

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, BigInt, Bool, HasSqlType, Nullable};

use super::conn::{DbConn, MultiBackend, insert_rows};
use super::error::StoreError;
use super::schema::events;
use super::schema::settings as settings_table;
use super::settings;
use crate::domain::event::NewEvent;
use crate::domain::tenancy::Scope;

/// Bits of a PostgreSQL cursor that number the events of one transaction.
pub const XID_SHIFT: u32 = 20;

#[derive(Insertable)]
#[diesel(table_name = events, treat_none_as_default_value = false)]
struct EventRow<'a> {
    cursor: i64,
    id: &'a str,
    tenant_id: &'a str,
    directory_id: &'a str,
    event_type: &'a str,
    resource_type: &'a str,
    resource_id: &'a str,
    data: &'a str,
    created_at: NaiveDateTime,
    changed: Option<String>,
    previous: Option<&'a str>,
}

/// An event as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct StoredEvent {
    pub cursor: i64,
    pub id: String,
    pub tenant_id: String,
    pub directory_id: String,
    pub event_type: String,
    pub resource_type: String,
    pub resource_id: String,
    pub data: String,
    pub created_at: NaiveDateTime,
    pub changed: Option<String>,
    pub previous: Option<String>,
}

/// Advances the event counter by `n` and returns its new value. Written out as SQL so that its
/// statement stays prepared: it runs in every write, and diesel prepares every UPDATE anew.
#[derive(Debug, Clone, Copy, QueryId)]
struct TakeCursors {
    n: i64,
}

impl<DB> QueryFragment<DB> for TakeCursors
where
    DB: Backend + HasSqlType<BigInt>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE event_counter SET last_cursor = last_cursor + ");
        out.push_bind_param::<BigInt, _>(&self.n)?;
        out.push_sql(" WHERE id = 1 RETURNING last_cursor");
        Ok(())
    }
}

impl Query for TakeCursors {
    type SqlType = BigInt;
}

impl<C> RunQueryDsl<C> for TakeCursors {}

/// This transaction's id, and the last cursor it has already given an event.
#[derive(QueryableByName)]
struct TransactionCursors {
    #[diesel(sql_type = BigInt)]
    xid: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    last: Option<i64>,
}

const TRANSACTION_CURSORS: &str = "WITH x AS (SELECT pg_current_xact_id()::text::bigint AS xid) \
    SELECT x.xid, (SELECT MAX(cursor) FROM events \
    WHERE cursor >= (x.xid << 20) AND cursor < ((x.xid + 1) << 20)) AS last FROM x";

/// Rows per multi-row INSERT on PostgreSQL: eleven bound parameters each.
const INSERT_CHUNK: usize = 500;

thread_local! {
    /// Set by `append` on the thread running a write: whether it appended events, and on
    /// PostgreSQL in which transaction (`Appended`).
    static APPENDED: Cell<Option<Appended>> = const { Cell::new(None) };
}

/// What a write appended, for the store to act on once it commits: wake the readers waiting
/// for events and, on PostgreSQL, wait until its events are visible (`wait_visible`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    Sqlite { events: u64 },
    Postgres { xid: i64, events: u64 },
}

impl Appended {
    pub fn events(self) -> u64 {
        match self {
            Appended::Sqlite { events } | Appended::Postgres { events, .. } => events,
        }
    }
}

/// Forgets what the calling thread appended, and returns it: called around every write.
pub fn take_appended() -> Option<Appended> {
    APPENDED.take()
}

/// Appends events. Must run inside the writing transaction.
pub fn append(
    conn: &mut DbConn,
    scope: &Scope,
    new_events: &[NewEvent],
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    if new_events.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(new_events.len()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // A write may append more than once; the count is for the whole write.
    let events = APPENDED.get().map_or(0, Appended::events) + new_events.len() as u64;
    let first = match conn {
        DbConn::Sqlite(c) => {
            let last: i64 = TakeCursors { n }.get_result(c)?;
            APPENDED.set(Some(Appended::Sqlite { events }));
            last - n + 1
        }
        DbConn::Postgres(c) => {
            let at: TransactionCursors = diesel::sql_query(TRANSACTION_CURSORS).get_result(c)?;
            let base = at.xid << XID_SHIFT;
            let first = at.last.map_or(base, |last| last + 1);
            if first + n > base + (1 << XID_SHIFT) {
                return Err(StoreError::Commit(format!(
                    "one transaction may append at most {} events",
                    1 << XID_SHIFT
                )));
            }
            APPENDED.set(Some(Appended::Postgres {
                xid: at.xid,
                events,
            }));
            first
        }
    };
    let rows: Vec<EventRow> = (0..n)
        .zip(new_events)
        .map(|(offset, event)| EventRow {
            cursor: first + offset,
            id: event.id.as_str(),
            tenant_id: scope.tenant_id.as_str(),
            directory_id: scope.directory_id.as_str(),
            event_type: event.kind.as_str(),
            resource_type: event.kind.resource_type(),
            resource_id: &event.resource_id,
            data: event.data.as_str(),
            created_at: now,
            changed: event
                .change
                .as_ref()
                .map(|c| serde_json::to_string(&c.changed).expect("strings serialize")),
            previous: event.change.as_ref().map(|c| c.previous.as_str()),
        })
        .collect();
    insert_rows!(conn, events::table, &rows, INSERT_CHUNK);
    Ok(())
}

/// The oldest transaction that could still add events to this database, as the statement's
/// snapshot sees it: the snapshot's running transactions, less those known to belong to
/// another database of the cluster. `pg_snapshot_xmin` alone is cluster-wide: one long
/// transaction in any other database (a migration, a bulk load, another application) held
/// every Roster write (`wait_visible`) and the feed back until it ended. A transaction that
/// ended between the snapshot and the look at `pg_stat_get_activity` cannot be told apart
/// and counts as ours, so the horizon is never later than it may be. `backend_xid` is 32
/// bits; its epoch is the snapshot's xmax's, less one when it is above xmax's low bits.
macro_rules! horizon {
    () => {
        "(WITH s AS (SELECT pg_current_snapshot() AS s), \
    elsewhere AS ( \
        SELECT (pg_snapshot_xmax(s.s)::text::bigint & ~4294967295::bigint) \
            + a.backend_xid::text::bigint \
            - CASE WHEN a.backend_xid::text::bigint >= (pg_snapshot_xmax(s.s)::text::bigint & 4294967295) \
                THEN 4294967296 ELSE 0 END AS xid \
        FROM s, pg_stat_get_activity(NULL) a \
        WHERE a.backend_xid IS NOT NULL \
          AND a.datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database())) \
    SELECT COALESCE( \
        (SELECT min(x::text::bigint) FROM s, pg_snapshot_xip(s.s) x \
         WHERE x::text::bigint NOT IN (SELECT xid FROM elsewhere)), \
        (SELECT pg_snapshot_xmax(s.s)::text::bigint FROM s)))"
    };
}

/// Which events a PostgreSQL reader may see: those of transactions below `horizon!`. The
/// cheap cluster-wide test (`pg_snapshot_xmin`, never later than `horizon!`) first;
/// `horizon!`, a look at every backend, runs at most once per query, when a row fails it.
const VISIBLE: &str = concat!(
    "(cursor < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20) OR cursor < (",
    horizon!(),
    " << 20))"
);

/// How long a write waits on the cheap horizon before each look at `horizon!`.
const FULL_LOOK_EVERY: std::time::Duration = std::time::Duration::from_millis(5);

#[derive(QueryableByName)]
struct Horizon {
    #[diesel(sql_type = BigInt)]
    xmin: i64,
}

/// On PostgreSQL, waits until every transaction older than `xid` has ended, so that the
/// events `xid` committed are readable (see the module's comment) before its write is
/// answered. Almost always at once: only a write that committed while an older one was still
/// running waits, until that one ends.
pub fn wait_visible(conn: &mut DbConn, xid: i64) -> Result<(), StoreError> {
    let DbConn::Postgres(c) = conn else {
        return Ok(());
    };
    use std::time::{Duration, Instant};
    let started = Instant::now();
    let deadline = started + Duration::from_secs(30);
    // Concurrent writes of this database end within milliseconds: the cheap cluster-wide
    // horizon says so. Only a transaction still running after that (most likely in another
    // database) is worth the full look at every backend.
    let mut full_look_at = started + FULL_LOOK_EVERY;
    let mut pause = Duration::from_micros(200);
    loop {
        let cheap: Horizon = diesel::sql_query(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin",
        )
        .get_result(c)?;
        if cheap.xmin > xid || Instant::now() > deadline {
            return Ok(());
        }
        if Instant::now() >= full_look_at {
            let full: Horizon =
                diesel::sql_query(concat!("SELECT ", horizon!(), " AS xmin")).get_result(c)?;
            if full.xmin > xid {
                return Ok(());
            }
            full_look_at = Instant::now() + FULL_LOOK_EVERY;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// Events of transactions in `running`, or at or past `xmax`, are not in a snapshot taken with
/// them (PostgreSQL); every other event after its position is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotSkip {
    pub xmax: i64,
    pub running: Vec<i64>,
}

/// What to read: events after `after` (skipping what `skip` says a snapshot already holds),
/// of these tenants (all when `None`), this directory and these types, `limit` of them.
pub struct EventQuery<'a> {
    pub after: i64,
    pub skip: Option<&'a SnapshotSkip>,
    pub tenant_ids: Option<&'a [String]>,
    pub directory_id: Option<&'a str>,
    pub types: Option<&'a [&'static str]>,
    pub limit: i64,
}

/// The visible events a query asks for, in cursor order.
pub fn read(conn: &mut DbConn, q: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
    let mut query = events::table
        .filter(events::cursor.gt(q.after))
        .order(events::cursor)
        .limit(q.limit)
        .select(StoredEvent::as_select())
        .into_boxed::<MultiBackend>();
    if let DbConn::Postgres(_) = conn {
        query = query.filter(sql::<Bool>(VISIBLE));
        if let Some(skip) = q.skip {
            query = query.filter(
                events::cursor
                    .ge(skip.xmax << XID_SHIFT)
                    .or(sql::<BigInt>("(cursor >> 20)").eq_any(skip.running.clone())),
            );
        }
    }
    if let Some(tenants) = q.tenant_ids {
        query = query.filter(events::tenant_id.eq_any(tenants.to_vec()));
    }
    if let Some(d) = q.directory_id {
        query = query.filter(events::directory_id.eq(d.to_string()));
    }
    if let Some(types) = q.types {
        query = query.filter(events::event_type.eq_any(types.to_vec()));
    }
    Ok(query.load(conn)?)
}

/// A consistent read's position in the feed: run as the first statement of the snapshot's
/// transaction. On SQLite, the last cursor it sees; on PostgreSQL, the position below which
/// it sees every event, and the transactions above it it does not see.
#[derive(QueryableByName)]
struct SnapshotRow {
    #[diesel(sql_type = BigInt)]
    xmin: i64,
    #[diesel(sql_type = BigInt)]
    xmax: i64,
    #[diesel(sql_type = Array<BigInt>)]
    running: Vec<i64>,
}

pub fn snapshot_position(conn: &mut DbConn) -> Result<(i64, Option<SnapshotSkip>), StoreError> {
    match conn {
        DbConn::Sqlite(c) => {
            let last: Option<i64> = events::table
                .select(diesel::dsl::max(events::cursor))
                .get_result(c)?;
            Ok((last.unwrap_or(0), None))
        }
        DbConn::Postgres(c) => {
            let s: SnapshotRow = diesel::sql_query(
                "SELECT pg_snapshot_xmin(s)::text::bigint AS xmin, \
                 pg_snapshot_xmax(s)::text::bigint AS xmax, \
                 ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(s) x ORDER BY 1) AS running \
                 FROM pg_current_snapshot() s",
            )
            .get_result(c)?;
            Ok((
                (s.xmin << XID_SHIFT) - 1,
                Some(SnapshotSkip {
                    xmax: s.xmax,
                    running: s.running,
                }),
            ))
        }
    }
}

/// Deletes, in cursor order, up to `batch` of the oldest events created before `cutoff`,
/// all of them after `pruned_through`; returns the last cursor deleted and how many. Stops at
/// the first younger event, so what is left is always a suffix of the feed.
pub fn prune(
    conn: &mut DbConn,
    pruned_through: i64,
    cutoff: NaiveDateTime,
    batch: i64,
) -> Result<Option<(i64, u64)>, StoreError> {
    let oldest = read(
        conn,
        &EventQuery {
            after: pruned_through,
            skip: None,
            tenant_ids: None,
            directory_id: None,
            types: None,
            limit: batch,
        },
    )?;
    let Some(last) = oldest
        .iter()
        .take_while(|e| e.created_at < cutoff)
        .map(|e| e.cursor)
        .last()
    else {
        return Ok(None);
    };
    let n = diesel::delete(
        events::table
            .filter(events::cursor.gt(pruned_through))
            .filter(events::cursor.le(last)),
    )
    .execute(conn)?;
    Ok(Some((last, n as u64)))
}

/// The setting that holds the last cursor pruning deleted: a reader's cursor below it has
/// lost events.
const PRUNED_THROUGH: &str = "events.pruned_through";

pub fn pruned_through(conn: &mut DbConn) -> Result<i64, StoreError> {
    settings::get(conn, PRUNED_THROUGH)?
        .map(|v| {
            v.parse::<i64>()
                .map_err(|e| StoreError::Corrupt(format!("{PRUNED_THROUGH}: {e}")))
        })
        .transpose()
        .map(|v| v.unwrap_or(0))
}

/// `pruned_through`, locked for the rest of the writing transaction on PostgreSQL, so that
/// two instances pruning at once take turns and the mark only moves forward.
pub fn lock_pruned_through(conn: &mut DbConn) -> Result<i64, StoreError> {
    if let DbConn::Postgres(c) = conn {
        diesel::sql_query(
            "INSERT INTO settings (name, value, created_at) VALUES ($1, '0', now()) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind::<diesel::sql_types::Text, _>(PRUNED_THROUGH)
        .execute(c)?;
        settings_table::table
            .filter(settings_table::name.eq(PRUNED_THROUGH))
            .select(settings_table::value)
            .for_update()
            .load::<String>(c)?;
    }
    pruned_through(conn)
}

pub fn set_pruned_through(conn: &mut DbConn, cursor: i64) -> Result<(), StoreError> {
    let value = cursor.to_string();
    let updated =
        diesel::update(settings_table::table.filter(settings_table::name.eq(PRUNED_THROUGH)))
            .set(settings_table::value.eq(&value))
            .execute(conn)?;
    if updated == 0 {
        settings::insert(conn, PRUNED_THROUGH, &value, crate::domain::clock::now())?;
    }
    Ok(())
}

/// The cursor of the newest visible event, or `None` when there is none.
pub fn last_cursor(conn: &mut DbConn) -> Result<Option<i64>, StoreError> {
    let mut query = events::table
        .select(events::cursor)
        .order(events::cursor.desc())
        .limit(1)
        .into_boxed::<MultiBackend>();
    if let DbConn::Postgres(_) = conn {
        query = query.filter(sql::<Bool>(VISIBLE));
    }
    Ok(query.get_result(conn).optional()?)
}

/// The tenant of a directory's events, if the feed holds any: how a deleted directory's feed
/// stays readable by its directory id until retention prunes it.
pub fn tenant_of_directory(
    conn: &mut DbConn,
    directory: &str,
) -> Result<Option<String>, StoreError> {
    Ok(events::table
        .filter(events::directory_id.eq(directory))
        .select(events::tenant_id)
        .first(conn)
        .optional()?)
}

/// Where a run of events happened: how the webhook dispatcher finds the directories that have
/// new events for its endpoints, in one read for all of them.
pub struct EventSpan {
    /// Each directory with events in the run, and its tenant.
    pub directories: Vec<(String, String)>,
    /// The run's last cursor; `None` when there were no events.
    pub last: Option<i64>,
}

/// The span of the visible events after `after`, reading at most `limit` events.
pub fn directories_after(
    conn: &mut DbConn,
    after: i64,
    limit: i64,
) -> Result<EventSpan, StoreError> {
    let mut query = events::table
        .filter(events::cursor.gt(after))
        .order(events::cursor)
        .limit(limit)
        .select((events::cursor, events::directory_id, events::tenant_id))
        .into_boxed::<MultiBackend>();
    if let DbConn::Postgres(_) = conn {
        query = query.filter(sql::<Bool>(VISIBLE));
    }
    let rows: Vec<(i64, String, String)> = query.load(conn)?;
    let last = rows.last().map(|(c, _, _)| *c);
    let mut directories: Vec<(String, String)> = rows.into_iter().map(|(_, d, t)| (d, t)).collect();
    directories.sort();
    directories.dedup();
    Ok(EventSpan { directories, last })
}

/// Users of `directory` deleted before `before` whose `user.deleted` event still holds their
/// record: at most `limit`.
pub fn deleted_users_to_erase(
    conn: &mut DbConn,
    directory: &str,
    before: NaiveDateTime,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    Ok(events::table
        .filter(events::directory_id.eq(directory))
        .filter(events::event_type.eq("user.deleted"))
        .filter(events::created_at.lt(before))
        .filter(events::redacted.eq(false))
        .select(events::resource_id)
        .limit(limit)
        .load(conn)?)
}

/// `directory`'s events that may hold the records of `users`: their own events, and
/// membership events naming one of them (the caller checks the record's id).
pub fn events_naming_users(
    conn: &mut DbConn,
    directory: &str,
    users: &[String],
) -> Result<Vec<(i64, String, String, String)>, StoreError> {
    type Test = Box<dyn BoxableExpression<events::table, MultiBackend, SqlType = Bool>>;
    let mut named: Test = Box::new(
        events::resource_type
            .eq("User")
            .and(events::resource_id.eq_any(users.to_vec())),
    );
    for user in users {
        named = Box::new(
            named.or(events::event_type
                .eq_any(["group.user_added", "group.user_removed"])
                .and(events::data.like(format!("%{user}%")))),
        );
    }
    Ok(events::table
        .filter(events::directory_id.eq(directory))
        .filter(named)
        .select((
            events::cursor,
            events::event_type,
            events::resource_id,
            events::data,
        ))
        .load(conn)?)
}

/// `directory`'s events after `after` that may hold a user's record and were not erased yet
/// (users' own events and membership events), in cursor order, at most `limit`.
pub fn unerased_user_events(
    conn: &mut DbConn,
    directory: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String, String, String)>, StoreError> {
    Ok(events::table
        .filter(events::directory_id.eq(directory))
        .filter(events::cursor.gt(after))
        .filter(events::redacted.eq(false))
        .filter(
            events::resource_type
                .eq("User")
                .or(events::event_type.eq_any(["group.user_added", "group.user_removed"])),
        )
        .order(events::cursor)
        .limit(limit)
        .select((
            events::cursor,
            events::event_type,
            events::resource_id,
            events::data,
        ))
        .load(conn)?)
}

/// Replaces an event's data with its erased form, drops its previous values and marks it
/// redacted.
pub fn rewrite_redacted(conn: &mut DbConn, cursor: i64, data: &str) -> Result<(), StoreError> {
    diesel::update(events::table.filter(events::cursor.eq(cursor)))
        .set((
            events::data.eq(data),
            events::previous.eq(None::<String>),
            events::redacted.eq(true),
        ))
        .execute(conn)?;
    Ok(())
}
