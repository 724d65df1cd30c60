use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::DbConn;
use super::error::StoreError;
use super::schema::admin_keys as k;
use crate::domain::admin_key::AdminKeyInfo;
use crate::domain::cidr;
use crate::domain::ids::{TenantId, TokenId};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = k, treat_none_as_default_value = false)]
struct AdminKeyRow {
    id: String,
    tenant_id: Option<String>,
    key_hash: String,
    hint: String,
    allow: Option<String>,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

impl TryFrom<AdminKeyRow> for AdminKeyInfo {
    type Error = StoreError;

    fn try_from(r: AdminKeyRow) -> Result<Self, StoreError> {
        let allow = r
            .allow
            .as_deref()
            .map(cidr::parse_list)
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(AdminKeyInfo {
            id: TokenId::from_raw(r.id),
            tenant_id: r.tenant_id.map(TenantId::from_raw),
            hint: r.hint,
            allow,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
    }
}

pub fn insert(conn: &mut DbConn, info: &AdminKeyInfo, hash: &str) -> Result<(), StoreError> {
    let allow = info.allow.as_ref().map(|list| {
        list.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    });
    diesel::insert_into(k::table)
        .values(AdminKeyRow {
            id: info.id.to_string(),
            tenant_id: info.tenant_id.as_ref().map(ToString::to_string),
            key_hash: hash.to_string(),
            hint: info.hint.clone(),
            allow,
            created_at: info.created_at,
            revoked_at: info.revoked_at,
        })
        .execute(conn)?;
    Ok(())
}

pub fn list(conn: &mut DbConn) -> Result<Vec<AdminKeyInfo>, StoreError> {
    k::table
        .order(k::created_at)
        .select(AdminKeyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AdminKeyInfo::try_from)
        .collect()
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

/// The hash and the key of the live key with this hash.
pub fn find_live(
    conn: &mut DbConn,
    hash: &str,
) -> Result<Option<(String, AdminKeyInfo)>, StoreError> {
    k::table
        .filter(k::key_hash.eq(hash))
        .filter(k::revoked_at.is_null())
        .select(AdminKeyRow::as_select())
        .get_result(conn)
        .optional()?
        .map(|r| {
            let hash = r.key_hash.clone();
            Ok((hash, AdminKeyInfo::try_from(r)?))
        })
        .transpose()
}

/// The live key with this id.
pub fn find_live_by_id(conn: &mut DbConn, id: &str) -> Result<Option<AdminKeyInfo>, StoreError> {
    k::table
        .filter(k::id.eq(id))
        .filter(k::revoked_at.is_null())
        .select(AdminKeyRow::as_select())
        .get_result(conn)
        .optional()?
        .map(AdminKeyInfo::try_from)
        .transpose()
}
