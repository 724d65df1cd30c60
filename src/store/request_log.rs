//! The request log table: batched inserts from the log writer, reads for `roster log`, and the
//! retention purge.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::{DbConn, insert_rows};
use super::error::StoreError;
use super::schema::request_log;
use crate::domain::ids::{DirectoryId, TenantId};
use crate::domain::request_log::{Entry, Exchange, LogQuery};

#[derive(Insertable)]
#[diesel(table_name = request_log, treat_none_as_default_value = false)]
struct NewRow<'a> {
    tenant_id: &'a str,
    directory_id: &'a str,
    received_at: NaiveDateTime,
    method: &'a str,
    path: &'a str,
    query: &'a str,
    base_url: &'a str,
    request_headers: String,
    request_body: Option<&'a str>,
    request_truncated: bool,
    status: i32,
    response_headers: String,
    response_body: Option<&'a str>,
    response_truncated: bool,
    duration_us: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = request_log)]
struct Row {
    id: i64,
    tenant_id: String,
    directory_id: String,
    received_at: NaiveDateTime,
    method: String,
    path: String,
    query: String,
    base_url: String,
    request_headers: String,
    request_body: Option<String>,
    request_truncated: bool,
    status: i32,
    response_headers: String,
    response_body: Option<String>,
    response_truncated: bool,
    duration_us: i64,
}

fn headers(text: &str) -> Result<BTreeMap<String, String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("logged headers: {e}")))
}

impl TryFrom<Row> for Entry {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Entry {
            id: r.id,
            exchange: Exchange {
                tenant_id: TenantId::from_raw(r.tenant_id),
                directory_id: DirectoryId::from_raw(r.directory_id),
                received_at: r.received_at,
                method: r.method,
                path: r.path,
                query: r.query,
                base_url: r.base_url,
                request_headers: headers(&r.request_headers)?,
                request_body: r.request_body,
                request_truncated: r.request_truncated,
                status: u16::try_from(r.status)
                    .map_err(|e| StoreError::Corrupt(format!("logged status: {e}")))?,
                response_headers: headers(&r.response_headers)?,
                response_body: r.response_body,
                response_truncated: r.response_truncated,
                duration_us: r.duration_us,
            },
        })
    }
}

/// Rows per multi-row INSERT on PostgreSQL: sixteen bound parameters each.
const INSERT_CHUNK: usize = 500;

pub fn insert(conn: &mut DbConn, entries: &[Exchange]) -> Result<(), StoreError> {
    let rows: Vec<NewRow> = entries
        .iter()
        .map(|e| NewRow {
            tenant_id: e.tenant_id.as_str(),
            directory_id: e.directory_id.as_str(),
            received_at: e.received_at,
            method: &e.method,
            path: &e.path,
            query: &e.query,
            base_url: &e.base_url,
            request_headers: serde_json::to_string(&e.request_headers).unwrap_or_default(),
            request_body: e.request_body.as_deref(),
            request_truncated: e.request_truncated,
            status: i32::from(e.status),
            response_headers: serde_json::to_string(&e.response_headers).unwrap_or_default(),
            response_body: e.response_body.as_deref(),
            response_truncated: e.response_truncated,
            duration_us: e.duration_us,
        })
        .collect();
    insert_rows!(conn, request_log::table, &rows, INSERT_CHUNK);
    Ok(())
}

/// Deletes at most `limit` entries received before `cutoff` (`None`: any), oldest first.
pub fn delete_before(
    conn: &mut DbConn,
    cutoff: Option<NaiveDateTime>,
    limit: i64,
) -> Result<usize, StoreError> {
    let oldest = request_log::table
        .select(request_log::id)
        .order(request_log::received_at)
        .limit(limit);
    let ids: Vec<i64> = match cutoff {
        Some(cutoff) => oldest
            .filter(request_log::received_at.lt(cutoff))
            .load(conn)?,
        None => oldest.load(conn)?,
    };
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(diesel::delete(request_log::table.filter(request_log::id.eq_any(&ids))).execute(conn)?)
}

pub fn list(
    conn: &mut DbConn,
    directory: &DirectoryId,
    q: &LogQuery,
) -> Result<Vec<Entry>, StoreError> {
    let mut query = request_log::table
        .filter(request_log::directory_id.eq(directory.as_str()))
        .select(Row::as_select())
        .into_boxed();
    if let Some(since) = q.since {
        query = query.filter(request_log::received_at.ge(since));
    }
    if let Some(until) = q.until {
        query = query.filter(request_log::received_at.le(until));
    }
    if let Some(from) = q.from_id {
        query = query.filter(request_log::id.ge(from));
    }
    if let Some(to) = q.to_id {
        query = query.filter(request_log::id.le(to));
    }
    if let Some(status) = q.status {
        let (low, high) = status.range();
        query = query.filter(request_log::status.between(i32::from(low), i32::from(high)));
    }
    query = if q.latest {
        query.order(request_log::id.desc())
    } else {
        query.order(request_log::id.asc())
    };
    if let Some(limit) = q.limit {
        query = query.limit(limit);
    }
    let mut rows = query.load(conn)?;
    if q.latest {
        rows.reverse();
    }
    rows.into_iter().map(Entry::try_from).collect()
}

pub fn get(conn: &mut DbConn, id: i64) -> Result<Option<Entry>, StoreError> {
    request_log::table
        .find(id)
        .select(Row::as_select())
        .get_result(conn)
        .optional()?
        .map(Entry::try_from)
        .transpose()
}

/// When the newest logged request of the directory arrived: a seek on
/// `request_log_directory`.
pub fn last_received_at(
    conn: &mut DbConn,
    directory: &DirectoryId,
) -> Result<Option<NaiveDateTime>, StoreError> {
    Ok(request_log::table
        .filter(request_log::directory_id.eq(directory.as_str()))
        .order(request_log::id.desc())
        .select(request_log::received_at)
        .limit(1)
        .get_result(conn)
        .optional()?)
}

/// How many of a directory's requests since `since` were recorded, and how many of them
/// answered 400 or above. The first entry of the period is found on the time index, then the
/// directory's entries from it on the (directory, id) index: ids grow with time.
pub fn counts_since(
    conn: &mut DbConn,
    directory: &DirectoryId,
    since: NaiveDateTime,
) -> Result<(i64, i64), StoreError> {
    let first: Option<i64> = request_log::table
        .filter(request_log::received_at.ge(since))
        .order(request_log::received_at)
        .select(request_log::id)
        .limit(1)
        .get_result(conn)
        .optional()?;
    let Some(first) = first else {
        return Ok((0, 0));
    };
    let recent = || {
        request_log::table
            .filter(request_log::directory_id.eq(directory.as_str()))
            .filter(request_log::id.ge(first))
    };
    let total: i64 = recent().count().get_result(conn)?;
    let failed: i64 = recent()
        .filter(request_log::status.ge(400))
        .count()
        .get_result(conn)?;
    Ok((total, failed))
}
