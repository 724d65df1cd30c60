use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::DbConn;
use super::error::StoreError;
use super::schema::{event_counter, events};
use crate::domain::event::NewEvent;
use crate::domain::ids::EventId;
use crate::domain::tenancy::Scope;

#[derive(Insertable)]
#[diesel(table_name = events)]
struct EventRow<'a> {
    cursor: i64,
    id: String,
    tenant_id: &'a str,
    directory_id: &'a str,
    event_type: &'a str,
    resource_type: &'a str,
    resource_id: &'a str,
    data: String,
    created_at: NaiveDateTime,
}

/// Appends events with the next cursors. Must run inside the writing transaction: the counter
/// row stays locked until commit, so cursors become visible in increasing order.
/// Rows per multi-row INSERT: nine bound parameters each.
const INSERT_CHUNK: usize = 500;

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
    diesel::update(event_counter::table.filter(event_counter::id.eq(1)))
        .set(event_counter::last_cursor.eq(event_counter::last_cursor + n))
        .execute(conn)?;
    let last: i64 = event_counter::table
        .filter(event_counter::id.eq(1))
        .select(event_counter::last_cursor)
        .get_result(conn)?;
    let rows: Vec<EventRow> = (0..n)
        .zip(new_events)
        .map(|(offset, event)| EventRow {
            cursor: last - n + 1 + offset,
            id: EventId::generate().to_string(),
            tenant_id: scope.tenant_id.as_str(),
            directory_id: scope.directory_id.as_str(),
            event_type: event.kind.as_str(),
            resource_type: event.kind.resource_type(),
            resource_id: &event.resource_id,
            data: event.data.to_string(),
            created_at: now,
        })
        .collect();
    // Multi-row INSERTs are built per backend only (see attribute_index::replace); a
    // 100,000-member change is then 200 statements, not 100,000.
    for chunk in rows.chunks(INSERT_CHUNK) {
        match conn {
            DbConn::Postgres(c) => diesel::insert_into(events::table)
                .values(chunk)
                .execute(c)?,
            DbConn::Sqlite(c) => diesel::insert_into(events::table)
                .values(chunk)
                .execute(c)?,
        };
    }
    Ok(())
}
