//! One-time setup links (`domain::setup_link`): stored by the hash of their secret.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::DbConn;
use super::error::StoreError;
use super::schema::setup_links as l;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = l)]
pub struct SetupLinkRow {
    pub id: String,
    pub tenant_id: String,
    pub directory_id: String,
    pub secret_hash: String,
    pub hint: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub token_revealed_at: Option<NaiveDateTime>,
    pub token_id: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &SetupLinkRow) -> Result<(), StoreError> {
    diesel::insert_into(l::table)
        .values(row.clone())
        .execute(conn)?;
    Ok(())
}

pub fn find_by_hash(
    conn: &mut DbConn,
    secret_hash: &str,
) -> Result<Option<SetupLinkRow>, StoreError> {
    Ok(l::table
        .filter(l::secret_hash.eq(secret_hash))
        .select(SetupLinkRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The directory's links, newest first.
pub fn list(conn: &mut DbConn, directory_id: &str) -> Result<Vec<SetupLinkRow>, StoreError> {
    Ok(l::table
        .filter(l::directory_id.eq(directory_id))
        .order(l::created_at.desc())
        .select(SetupLinkRow::as_select())
        .load(conn)?)
}

/// Revokes the directory's link `id` and answers it; `None` when it has no such link.
pub fn revoke(
    conn: &mut DbConn,
    directory_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<SetupLinkRow>, StoreError> {
    diesel::update(
        l::table
            .filter(l::id.eq(id))
            .filter(l::directory_id.eq(directory_id))
            .filter(l::revoked_at.is_null()),
    )
    .set(l::revoked_at.eq(now))
    .execute(conn)?;
    Ok(l::table
        .filter(l::id.eq(id))
        .filter(l::directory_id.eq(directory_id))
        .select(SetupLinkRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// Marks the link's token revealed, once: `true` for the one caller whose UPDATE found it
/// not yet revealed; the others write nothing.
pub fn mark_revealed(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<bool, StoreError> {
    let n = diesel::update(
        l::table
            .filter(l::id.eq(id))
            .filter(l::token_revealed_at.is_null()),
    )
    .set(l::token_revealed_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Which token the link revealed, for the operator's listing of tokens.
pub fn set_token(conn: &mut DbConn, id: &str, token_id: &str) -> Result<(), StoreError> {
    diesel::update(l::table.filter(l::id.eq(id)))
        .set(l::token_id.eq(token_id))
        .execute(conn)?;
    Ok(())
}
