//! Removing a directory's rows a batch at a time, each batch its own short write, so that
//! deleting a directory of 100,000 users never holds the writer (SQLite) or a lock (PostgreSQL)
//! for long. Every batch walks an index from the directory's id.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::DbConn;
use super::error::StoreError;
use super::schema::{
    attribute_values, directories, directory_groups, directory_users, memberships, request_log,
    tokens,
};
use crate::domain::ids::DirectoryId;

/// Marks a directory as being deleted and revokes its tokens; `false` when it already was.
pub fn mark_deleting(
    conn: &mut DbConn,
    id: &DirectoryId,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let marked = diesel::update(
        directories::table
            .filter(directories::id.eq(id.as_str()))
            .filter(directories::deleting_at.is_null()),
    )
    .set(directories::deleting_at.eq(Some(now)))
    .execute(conn)?;
    diesel::update(
        tokens::table
            .filter(tokens::directory_id.eq(id.as_str()))
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(marked == 1)
}

/// When the directory's deletion began, if it has.
pub fn deleting_since(
    conn: &mut DbConn,
    id: &DirectoryId,
) -> Result<Option<NaiveDateTime>, StoreError> {
    let since: Option<Option<NaiveDateTime>> = directories::table
        .filter(directories::id.eq(id.as_str()))
        .select(directories::deleting_at)
        .get_result(conn)
        .optional()?;
    Ok(since.flatten())
}

/// The directories whose deletion began and has not finished (a server stopped meanwhile).
pub fn unfinished(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
    Ok(directories::table
        .filter(directories::deleting_at.is_not_null())
        .select(directories::id)
        .load(conn)?)
}

/// The indexed values of users or groups `ids`, and their memberships as members.
fn remove_values_and_memberships(conn: &mut DbConn, ids: &[String]) -> Result<(), StoreError> {
    diesel::delete(attribute_values::table.filter(attribute_values::resource_id.eq_any(ids)))
        .execute(conn)?;
    diesel::delete(memberships::table.filter(memberships::member_id.eq_any(ids))).execute(conn)?;
    Ok(())
}

/// Removes up to `limit` users of the directory with their indexed values and memberships;
/// how many it removed.
pub fn remove_users(
    conn: &mut DbConn,
    directory: &DirectoryId,
    limit: i64,
) -> Result<usize, StoreError> {
    let ids: Vec<String> = directory_users::table
        .filter(directory_users::directory_id.eq(directory.as_str()))
        .select(directory_users::id)
        .order(directory_users::id)
        .limit(limit)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    remove_values_and_memberships(conn, &ids)?;
    diesel::delete(directory_users::table.filter(directory_users::id.eq_any(&ids)))
        .execute(conn)?;
    Ok(ids.len())
}

/// Removes up to `limit` groups of the directory with their indexed values and whatever
/// memberships are left (nested groups: users' went with the users); how many it removed.
pub fn remove_groups(
    conn: &mut DbConn,
    directory: &DirectoryId,
    limit: i64,
) -> Result<usize, StoreError> {
    let ids: Vec<String> = directory_groups::table
        .filter(directory_groups::directory_id.eq(directory.as_str()))
        .select(directory_groups::id)
        .order(directory_groups::id)
        .limit(limit)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(memberships::table.filter(memberships::group_id.eq_any(&ids))).execute(conn)?;
    remove_values_and_memberships(conn, &ids)?;
    diesel::delete(directory_groups::table.filter(directory_groups::id.eq_any(&ids)))
        .execute(conn)?;
    Ok(ids.len())
}

/// Removes up to `limit` of the directory's oldest logged requests; how many it removed.
pub fn remove_requests(
    conn: &mut DbConn,
    directory: &DirectoryId,
    limit: i64,
) -> Result<usize, StoreError> {
    let ids: Vec<i64> = request_log::table
        .filter(request_log::directory_id.eq(directory.as_str()))
        .select(request_log::id)
        .order(request_log::id)
        .limit(limit)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(request_log::table.filter(request_log::id.eq_any(&ids))).execute(conn)?;
    Ok(ids.len())
}

/// Removes the directory's row; the few rows left under it (tokens, Google settings, path
/// numbers, and anything a request that raced the token revocation wrote) go with it.
/// `false` when another process removed it first.
pub fn remove_directory(conn: &mut DbConn, directory: &DirectoryId) -> Result<bool, StoreError> {
    let n = diesel::delete(directories::table.filter(directories::id.eq(directory.as_str())))
        .execute(conn)?;
    Ok(n == 1)
}
