use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType};

use super::conn::{DbConn, insert_rows, on_backend};
use super::error::StoreError;
use super::schema::events;
use crate::domain::event::NewEvent;
use crate::domain::tenancy::Scope;

#[derive(Insertable)]
#[diesel(table_name = events)]
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

/// Rows per multi-row INSERT on PostgreSQL: nine bound parameters each.
const INSERT_CHUNK: usize = 500;

/// Appends events with the next cursors. Must run inside the writing transaction: the counter
/// row stays locked until commit, so cursors become visible in increasing order.
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
    let last: i64 = on_backend!(conn, |c| TakeCursors { n }.get_result(c))?;
    let rows: Vec<EventRow> = (0..n)
        .zip(new_events)
        .map(|(offset, event)| EventRow {
            cursor: last - n + 1 + offset,
            id: event.id.as_str(),
            tenant_id: scope.tenant_id.as_str(),
            directory_id: scope.directory_id.as_str(),
            event_type: event.kind.as_str(),
            resource_type: event.kind.resource_type(),
            resource_id: &event.resource_id,
            data: event.data.as_str(),
            created_at: now,
        })
        .collect();
    insert_rows!(conn, events::table, &rows, INSERT_CHUNK);
    Ok(())
}
