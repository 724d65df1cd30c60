use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::DbConn;
use super::error::StoreError;
use super::schema::settings;

pub fn get(conn: &mut DbConn, name: &str) -> Result<Option<String>, StoreError> {
    Ok(settings::table
        .filter(settings::name.eq(name))
        .select(settings::value)
        .get_result(conn)
        .optional()?)
}

pub fn insert(
    conn: &mut DbConn,
    name: &str,
    value: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(settings::table)
        .values((
            settings::name.eq(name),
            settings::value.eq(value),
            settings::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
