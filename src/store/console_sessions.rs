use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::DbConn;
use super::error::StoreError;
use super::schema::console_sessions as s;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = s)]
pub struct SessionRow {
    pub id_hash: String,
    pub admin_key_id: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &SessionRow) -> Result<(), StoreError> {
    diesel::insert_into(s::table)
        .values(row.clone())
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
    Ok(s::table
        .filter(s::id_hash.eq(id_hash))
        .select(SessionRow::as_select())
        .get_result(conn)
        .optional()?)
}

pub fn touch(conn: &mut DbConn, id_hash: &str, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(s::table.filter(s::id_hash.eq(id_hash)))
        .set(s::last_seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConn, id_hash: &str) -> Result<(), StoreError> {
    diesel::delete(s::table.filter(s::id_hash.eq(id_hash))).execute(conn)?;
    Ok(())
}

/// Removes sessions past their absolute expiry or idle since before `idle_before`.
pub fn delete_expired(
    conn: &mut DbConn,
    now: NaiveDateTime,
    idle_before: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(s::table.filter(s::expires_at.le(now).or(s::last_seen_at.lt(idle_before))))
            .execute(conn)?,
    )
}
