use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::{DbConn, on_backend};
use super::error::StoreError;
use super::schema::{directories, tokens};
use crate::domain::ids::{DirectoryId, TenantId, TokenId};
use crate::domain::tenancy::{DirectoryKind, Scope};
use crate::domain::token::{StoredToken, TokenInfo};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens, treat_none_as_default_value = false)]
struct TokenRow {
    id: String,
    tenant_id: String,
    directory_id: String,
    token_hash: String,
    hint: String,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    expires_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
}

impl From<TokenRow> for TokenInfo {
    fn from(r: TokenRow) -> Self {
        TokenInfo {
            id: TokenId::from_raw(r.id),
            tenant_id: TenantId::from_raw(r.tenant_id),
            directory_id: DirectoryId::from_raw(r.directory_id),
            hint: r.hint,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
        }
    }
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
            expires_at: info.expires_at,
            last_used_at: info.last_used_at,
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
    Ok(query.load(conn)?.into_iter().map(TokenInfo::from).collect())
}

pub fn get(conn: &mut DbConn, id: &TokenId) -> Result<Option<TokenInfo>, StoreError> {
    Ok(tokens::table
        .filter(tokens::id.eq(id.as_str()))
        .select(TokenRow::as_select())
        .get_result(conn)
        .optional()?
        .map(TokenInfo::from))
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

pub fn set_expiry(conn: &mut DbConn, id: &TokenId, at: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(tokens::table.filter(tokens::id.eq(id.as_str())))
        .set(tokens::expires_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

pub fn mark_used(conn: &mut DbConn, id: &TokenId, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(tokens::table.filter(tokens::id.eq(id.as_str())))
        .set(tokens::last_used_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}

/// The token with this hash if it is neither revoked nor expired at `now`, and its directory
/// is not disabled.
pub fn find_live(
    conn: &mut DbConn,
    hash: &str,
    now: NaiveDateTime,
) -> Result<Option<StoredToken>, StoreError> {
    let query = tokens::table
        .inner_join(directories::table)
        .filter(tokens::token_hash.eq(hash))
        .filter(tokens::revoked_at.is_null())
        .filter(tokens::expires_at.is_null().or(tokens::expires_at.gt(now)))
        .filter(directories::disabled_at.is_null())
        .select((
            tokens::id,
            tokens::token_hash,
            tokens::tenant_id,
            tokens::directory_id,
            directories::kind,
            tokens::expires_at,
            tokens::last_used_at,
        ));
    type Row = (
        String,
        String,
        String,
        String,
        String,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let row: Option<Row> = on_backend!(conn, |c| query.get_result(c).optional())?;
    row.map(
        |(id, hash, tenant_id, directory_id, kind, expires_at, last_used_at)| {
            Ok(StoredToken {
                id: TokenId::from_raw(id),
                hash,
                scope: Scope {
                    tenant_id: TenantId::from_raw(tenant_id),
                    directory_id: DirectoryId::from_raw(directory_id),
                },
                kind: kind
                    .parse::<DirectoryKind>()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                expires_at,
                last_used_at,
            })
        },
    )
    .transpose()
}

/// Whether the directory has a token that is not revoked.
pub fn has_live(
    conn: &mut DbConn,
    directory: &DirectoryId,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let found: Option<String> = tokens::table
        .filter(tokens::directory_id.eq(directory.as_str()))
        .filter(tokens::revoked_at.is_null())
        .filter(tokens::expires_at.is_null().or(tokens::expires_at.gt(now)))
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
