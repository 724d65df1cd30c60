use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::{DbConn, on_backend};
use super::error::StoreError;
use super::schema::{directories, tokens};
use crate::domain::ids::{DirectoryId, TenantId, TokenId};
use crate::domain::tenancy::{DirectoryKind, Scope};
use crate::domain::token::{StoredToken, TokenInfo};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens)]
struct TokenRow {
    id: String,
    tenant_id: String,
    directory_id: String,
    token_hash: String,
    hint: String,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, info: &TokenInfo, hash: &str) -> Result<(), StoreError> {
    diesel::insert_into(tokens::table)
        .values(TokenRow {
            id: info.id.to_string(),
            tenant_id: info.tenant_id.to_string(),
            directory_id: info.directory_id.to_string(),
            token_hash: hash.to_string(),
            hint: info.hint.clone(),
            created_at: info.created_at,
            revoked_at: info.revoked_at,
        })
        .execute(conn)?;
    Ok(())
}

pub fn list(
    conn: &mut DbConn,
    directory: Option<&DirectoryId>,
) -> Result<Vec<TokenInfo>, StoreError> {
    let mut query = tokens::table
        .order((tokens::directory_id, tokens::created_at))
        .select(TokenRow::as_select())
        .into_boxed();
    if let Some(d) = directory {
        query = query.filter(tokens::directory_id.eq(d.as_str().to_string()));
    }
    Ok(query
        .load(conn)?
        .into_iter()
        .map(|r| TokenInfo {
            id: TokenId::from_raw(r.id),
            tenant_id: TenantId::from_raw(r.tenant_id),
            directory_id: DirectoryId::from_raw(r.directory_id),
            hint: r.hint,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
        .collect())
}

/// Marks a live token revoked; `false` when no live token has that id.
pub fn revoke(conn: &mut DbConn, id: &TokenId, now: NaiveDateTime) -> Result<bool, StoreError> {
    let n = diesel::update(
        tokens::table
            .filter(tokens::id.eq(id.as_str()))
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn find_live(conn: &mut DbConn, hash: &str) -> Result<Option<StoredToken>, StoreError> {
    let query = tokens::table
        .inner_join(directories::table)
        .filter(tokens::token_hash.eq(hash))
        .filter(tokens::revoked_at.is_null())
        .select((
            tokens::token_hash,
            tokens::tenant_id,
            tokens::directory_id,
            directories::kind,
        ));
    let row: Option<(String, String, String, String)> =
        on_backend!(conn, |c| query.get_result(c).optional())?;
    row.map(|(hash, tenant_id, directory_id, kind)| {
        Ok(StoredToken {
            hash,
            scope: Scope {
                tenant_id: TenantId::from_raw(tenant_id),
                directory_id: DirectoryId::from_raw(directory_id),
            },
            kind: kind
                .parse::<DirectoryKind>()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        })
    })
    .transpose()
}

/// Whether the directory has a token that is not revoked.
pub fn has_live(conn: &mut DbConn, directory: &DirectoryId) -> Result<bool, StoreError> {
    let found: Option<String> = tokens::table
        .filter(tokens::directory_id.eq(directory.as_str()))
        .filter(tokens::revoked_at.is_null())
        .select(tokens::id)
        .limit(1)
        .get_result(conn)
        .optional()?;
    Ok(found.is_some())
}

/// The directory of a token, by the token's id.
pub fn directory_of(conn: &mut DbConn, id: &TokenId) -> Result<Option<DirectoryId>, StoreError> {
    let found: Option<String> = tokens::table
        .filter(tokens::id.eq(id.as_str()))
        .select(tokens::directory_id)
        .get_result(conn)
        .optional()?;
    Ok(found.map(DirectoryId::from_raw))
}
