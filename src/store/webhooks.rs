//! Webhook endpoints, their per-directory delivery streams and the delivery log.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::{DbConn, MultiBackend};
use super::error::StoreError;
use super::schema::{webhook_deliveries as d, webhook_endpoints as e, webhook_streams as s};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = e, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct EndpointRow {
    pub id: String,
    pub tenant_id: Option<String>,
    pub url: String,
    pub types: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<NaiveDateTime>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub start_cursor: i64,
    pub scan_cursor: i64,
    pub failing_since: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = s)]
pub struct StreamRow {
    pub endpoint_id: String,
    pub directory_id: String,
    pub cursor: i64,
    pub attempt: i32,
    pub next_attempt_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = d, treat_none_as_default_value = false)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_cursor: i64,
    pub event_type: String,
    pub directory_id: String,
    pub attempt: i32,
    pub status: String,
    pub response_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub attempted_at: NaiveDateTime,
    pub next_attempt_at: Option<NaiveDateTime>,
}

pub fn insert_endpoint(conn: &mut DbConn, row: &EndpointRow) -> Result<(), StoreError> {
    diesel::insert_into(e::table).values(row).execute(conn)?;
    Ok(())
}

pub fn save_endpoint(conn: &mut DbConn, row: &EndpointRow) -> Result<(), StoreError> {
    diesel::update(e::table.filter(e::id.eq(&row.id)))
        .set(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_endpoint(conn: &mut DbConn, id: &str) -> Result<Option<EndpointRow>, StoreError> {
    Ok(e::table
        .filter(e::id.eq(id))
        .select(EndpointRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// Endpoints, oldest first; of one tenant (without the global ones) when `tenant` is given.
pub fn list_endpoints(
    conn: &mut DbConn,
    tenant: Option<&str>,
) -> Result<Vec<EndpointRow>, StoreError> {
    let mut query = e::table
        .order((e::created_at, e::id))
        .select(EndpointRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(t) = tenant {
        query = query.filter(e::tenant_id.eq(t.to_string()));
    }
    Ok(query.load(conn)?)
}

/// The ids of every endpoint, enabled or not.
pub fn endpoint_ids(conn: &mut DbConn) -> Result<std::collections::HashSet<String>, StoreError> {
    Ok(e::table
        .select(e::id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

pub fn enabled_endpoints(conn: &mut DbConn) -> Result<Vec<EndpointRow>, StoreError> {
    Ok(e::table
        .filter(e::enabled.eq(true))
        .select(EndpointRow::as_select())
        .load(conn)?)
}

pub fn delete_endpoint(conn: &mut DbConn, id: &str) -> Result<bool, StoreError> {
    diesel::delete(s::table.filter(s::endpoint_id.eq(id))).execute(conn)?;
    diesel::delete(d::table.filter(d::endpoint_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(e::table.filter(e::id.eq(id))).execute(conn)? == 1)
}

/// Moves an endpoint's discovery mark forward (never back).
pub fn set_scan_cursor(conn: &mut DbConn, id: &str, cursor: i64) -> Result<(), StoreError> {
    diesel::update(
        e::table
            .filter(e::id.eq(id))
            .filter(e::scan_cursor.lt(cursor)),
    )
    .set(e::scan_cursor.eq(cursor))
    .execute(conn)?;
    Ok(())
}

/// Creates the streams of `directories` that the endpoint lacks, starting at `cursor`.
pub fn ensure_streams(
    conn: &mut DbConn,
    endpoint: &str,
    directories: &[String],
    cursor: i64,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    for directory in directories {
        let row = (
            s::endpoint_id.eq(endpoint),
            s::directory_id.eq(directory),
            s::cursor.eq(cursor),
            s::attempt.eq(0),
            s::next_attempt_at.eq(now),
        );
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(s::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c)?,
            DbConn::Postgres(c) => diesel::insert_into(s::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c)?,
        };
    }
    Ok(())
}

/// Whether any stream of an enabled endpoint could be claimed now (`claim_due`).
pub fn any_due(conn: &mut DbConn, now: NaiveDateTime) -> Result<bool, StoreError> {
    let claimable = s::lease_until
        .is_null()
        .and(s::next_attempt_at.le(now))
        .or(s::lease_until.lt(now));
    let found: Option<String> = s::table
        .inner_join(e::table)
        .filter(e::enabled.eq(true))
        .filter(claimable)
        .select(s::endpoint_id)
        .limit(1)
        .get_result(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Leases up to `limit` streams to `owner` until `lease_until`: those due (idle ones woken
/// by new events, failed ones whose retry time has come) and those whose lease ran out (their
/// instance died). Each claim is a conditional UPDATE, so two instances never both win one
/// stream. A claimed stream's next attempt is put at `idle_until`: new events meanwhile bring
/// it back to now (`wake`), so the end of the turn knows whether to look again.
pub fn claim_due(
    conn: &mut DbConn,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    idle_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<StreamRow>, StoreError> {
    let claimable = s::lease_until
        .is_null()
        .and(s::next_attempt_at.le(now))
        .or(s::lease_until.lt(now));
    let due: Vec<StreamRow> = s::table
        .inner_join(e::table)
        .filter(e::enabled.eq(true))
        .filter(claimable)
        .order(s::next_attempt_at)
        .limit(limit)
        .select(StreamRow::as_select())
        .load(conn)?;
    let mut claimed = Vec::with_capacity(due.len());
    for stream in due {
        let won = diesel::update(
            s::table
                .filter(s::endpoint_id.eq(&stream.endpoint_id))
                .filter(s::directory_id.eq(&stream.directory_id))
                .filter(claimable),
        )
        .set((
            s::lease_owner.eq(owner),
            s::lease_until.eq(Some(lease_until)),
            s::next_attempt_at.eq(idle_until),
        ))
        .execute(conn)?;
        if won == 1 {
            claimed.push(stream);
        }
    }
    Ok(claimed)
}

/// The stream (endpoint, directory) while `owner` holds its lease.
type Leased<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<s::table, diesel::dsl::Eq<s::endpoint_id, &'a str>>,
        diesel::dsl::Eq<s::directory_id, &'a str>,
    >,
    diesel::dsl::Eq<s::lease_owner, &'a str>,
>;

fn leased<'a>(endpoint: &'a str, directory: &'a str, owner: &'a str) -> Leased<'a> {
    s::table
        .filter(s::endpoint_id.eq(endpoint))
        .filter(s::directory_id.eq(directory))
        .filter(s::lease_owner.eq(owner))
}

/// Extends every lease `owner` holds: a live instance's heartbeat.
pub fn renew_leases(
    conn: &mut DbConn,
    owner: &str,
    lease_until: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(s::table.filter(s::lease_owner.eq(owner)))
        .set(s::lease_until.eq(Some(lease_until)))
        .execute(conn)?;
    Ok(())
}

/// When the oldest event that a stream of an enabled endpoint has not handled yet was
/// appended: one index seek per stream (`events_directory`).
pub fn oldest_unhandled(conn: &mut DbConn) -> Result<Option<NaiveDateTime>, StoreError> {
    use super::schema::events as ev;
    let first_after = ev::table
        .filter(ev::directory_id.eq(s::directory_id))
        .filter(ev::cursor.gt(s::cursor))
        .order(ev::cursor)
        .select(ev::created_at)
        .limit(1)
        .single_value();
    let enabled = e::table.filter(e::enabled.eq(true)).select(e::id);
    let firsts: Vec<Option<NaiveDateTime>> = s::table
        .filter(s::endpoint_id.eq_any(enabled))
        .select(first_after)
        .load(conn)?;
    Ok(firsts.into_iter().flatten().min())
}

/// Gives up every lease `owner` holds, at once: for an instance shutting down, so another
/// takes its streams over without waiting for the leases to run out.
pub fn release_all(conn: &mut DbConn, owner: &str) -> Result<(), StoreError> {
    diesel::update(s::table.filter(s::lease_owner.eq(owner)))
        .set((
            s::lease_owner.eq(None::<String>),
            s::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// A leased stream delivered up to `cursor`; the lease goes on until `lease_until`.
pub fn progress(
    conn: &mut DbConn,
    endpoint: &str,
    directory: &str,
    owner: &str,
    cursor: i64,
    lease_until: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(leased(endpoint, directory, owner))
        .set((
            s::cursor.eq(cursor),
            s::attempt.eq(0),
            s::lease_until.eq(Some(lease_until)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Gives a stream's lease up; `due` makes it due again at once (it has more to send).
pub fn release(
    conn: &mut DbConn,
    endpoint: &str,
    directory: &str,
    owner: &str,
    due: Option<NaiveDateTime>,
) -> Result<(), StoreError> {
    let target = leased(endpoint, directory, owner);
    let free = (
        s::lease_owner.eq(None::<String>),
        s::lease_until.eq(None::<NaiveDateTime>),
    );
    match due {
        Some(now) => diesel::update(target)
            .set((free, s::next_attempt_at.eq(now)))
            .execute(conn)?,
        None => diesel::update(target).set(free).execute(conn)?,
    };
    Ok(())
}

/// A stream's delivery failed: `attempt` failures in a row, next try at `next_attempt_at`.
pub fn fail(
    conn: &mut DbConn,
    endpoint: &str,
    directory: &str,
    owner: &str,
    attempt: i32,
    next_attempt_at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(leased(endpoint, directory, owner))
        .set((
            s::attempt.eq(attempt),
            s::next_attempt_at.eq(next_attempt_at),
            s::lease_owner.eq(None::<String>),
            s::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Makes the idle streams of an endpoint for `directories` due now: they have new events.
/// Streams waiting to retry a failure keep their time.
pub fn wake(
    conn: &mut DbConn,
    endpoint: &str,
    directories: &[String],
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(
        s::table
            .filter(s::endpoint_id.eq(endpoint))
            .filter(s::directory_id.eq_any(directories))
            .filter(s::attempt.eq(0))
            .filter(s::next_attempt_at.gt(now)),
    )
    .set(s::next_attempt_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Makes every stream of an endpoint due now (it was enabled again).
pub fn retry_now(conn: &mut DbConn, endpoint: &str, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(s::table.filter(s::endpoint_id.eq(endpoint)))
        .set(s::next_attempt_at.eq(now))
        .execute(conn)?;
    Ok(())
}

pub fn insert_delivery(conn: &mut DbConn, row: &DeliveryRow) -> Result<(), StoreError> {
    diesel::insert_into(d::table).values(row).execute(conn)?;
    Ok(())
}

/// Marks an endpoint failing since `now` unless it already is; clears it on success.
pub fn set_failing(
    conn: &mut DbConn,
    endpoint: &str,
    failing: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    if failing {
        diesel::update(
            e::table
                .filter(e::id.eq(endpoint))
                .filter(e::failing_since.is_null()),
        )
        .set(e::failing_since.eq(Some(now)))
        .execute(conn)?;
    } else {
        diesel::update(
            e::table
                .filter(e::id.eq(endpoint))
                .filter(e::failing_since.is_not_null()),
        )
        .set(e::failing_since.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    }
    Ok(())
}

pub fn disable(
    conn: &mut DbConn,
    endpoint: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(e::table.filter(e::id.eq(endpoint)))
        .set((
            e::enabled.eq(false),
            e::disabled_reason.eq(Some(reason)),
            e::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest deliveries of an endpoint first, `limit` of them; failed ones only if asked.
pub fn deliveries(
    conn: &mut DbConn,
    endpoint: &str,
    failed_only: bool,
    limit: i64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let mut query = d::table
        .filter(d::endpoint_id.eq(endpoint.to_string()))
        .order((d::attempted_at.desc(), d::id.desc()))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .into_boxed::<MultiBackend>();
    if failed_only {
        query = query.filter(d::status.eq("failed"));
    }
    Ok(query.load(conn)?)
}
