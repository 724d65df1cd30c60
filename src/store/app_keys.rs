use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::DbConn;
use super::error::StoreError;
use super::schema::app_keys as k;
use crate::domain::app_key::AppKeyInfo;
use crate::domain::ids::{TenantId, TokenId};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = k, treat_none_as_default_value = false)]
struct AppKeyRow {
    id: String,
    tenant_id: Option<String>,
    key_hash: String,
    hint: String,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, info: &AppKeyInfo, hash: &str) -> Result<(), StoreError> {
    diesel::insert_into(k::table)
        .values(AppKeyRow {
            id: info.id.to_string(),
            tenant_id: info.tenant_id.as_ref().map(|t| t.to_string()),
            key_hash: hash.to_string(),
            hint: info.hint.clone(),
            created_at: info.created_at,
            revoked_at: info.revoked_at,
        })
        .execute(conn)?;
    Ok(())
}

pub fn list(conn: &mut DbConn) -> Result<Vec<AppKeyInfo>, StoreError> {
    Ok(k::table
        .order(k::created_at)
        .select(AppKeyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| AppKeyInfo {
            id: TokenId::from_raw(r.id),
            tenant_id: r.tenant_id.map(TenantId::from_raw),
            hint: r.hint,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
        .collect())
}

/// Marks a live key revoked; `false` when no live key has that id.
pub fn revoke(conn: &mut DbConn, id: &TokenId, now: NaiveDateTime) -> Result<bool, StoreError> {
    let n = diesel::update(
        k::table
            .filter(k::id.eq(id.as_str()))
            .filter(k::revoked_at.is_null()),
    )
    .set(k::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// The hash and tenant of the live key with this hash.
pub fn find_live(
    conn: &mut DbConn,
    hash: &str,
) -> Result<Option<(String, Option<TenantId>)>, StoreError> {
    let row: Option<(String, Option<String>)> = k::table
        .filter(k::key_hash.eq(hash))
        .filter(k::revoked_at.is_null())
        .select((k::key_hash, k::tenant_id))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(h, t)| (h, t.map(TenantId::from_raw))))
}
