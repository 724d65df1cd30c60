use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::conn::DbConn;
use super::error::StoreError;
use super::schema::{directories, tenants};
use crate::domain::error::DomainError;
use crate::domain::ids::{DirectoryId, TenantId};
use crate::domain::lifecycle::Deprovisioning;
use crate::domain::tenancy::{Directory, DirectoryKind, Tenant};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tenants)]
struct TenantRow {
    id: String,
    name: String,
    created_at: NaiveDateTime,
}

impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Self {
        Tenant {
            id: TenantId::from_raw(r.id),
            name: r.name,
            created_at: r.created_at,
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = directories, treat_none_as_default_value = false)]
struct DirectoryRow {
    id: String,
    tenant_id: String,
    name: String,
    kind: String,
    created_at: NaiveDateTime,
    on_deactivate: String,
    on_delete: String,
    retention_seconds: i64,
    on_group_loss: String,
    disabled_at: Option<NaiveDateTime>,
}

fn parsed<T: std::str::FromStr<Err = DomainError>>(text: &str) -> Result<T, StoreError> {
    text.parse::<T>()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl TryFrom<DirectoryRow> for Directory {
    type Error = StoreError;

    fn try_from(r: DirectoryRow) -> Result<Self, StoreError> {
        Ok(Directory {
            kind: parsed::<DirectoryKind>(&r.kind)?,
            deprovisioning: Deprovisioning {
                on_deactivate: parsed(&r.on_deactivate)?,
                on_delete: parsed(&r.on_delete)?,
                retention: Duration::try_seconds(r.retention_seconds)
                    .ok_or_else(|| StoreError::Corrupt("retention out of range".into()))?,
                on_group_loss: parsed(&r.on_group_loss)?,
            },
            id: DirectoryId::from_raw(r.id),
            tenant_id: TenantId::from_raw(r.tenant_id),
            name: r.name,
            created_at: r.created_at,
            disabled_at: r.disabled_at,
        })
    }
}

fn row(d: &Directory) -> DirectoryRow {
    let p = &d.deprovisioning;
    DirectoryRow {
        id: d.id.to_string(),
        tenant_id: d.tenant_id.to_string(),
        name: d.name.clone(),
        kind: d.kind.as_str().to_string(),
        created_at: d.created_at,
        on_deactivate: p.on_deactivate.as_str().to_string(),
        on_delete: p.on_delete.as_str().to_string(),
        retention_seconds: p.retention.num_seconds(),
        on_group_loss: p.on_group_loss.as_str().to_string(),
        disabled_at: d.disabled_at,
    }
}

pub fn insert_tenant(conn: &mut DbConn, t: &Tenant) -> Result<(), StoreError> {
    diesel::insert_into(tenants::table)
        .values(TenantRow {
            id: t.id.to_string(),
            name: t.name.clone(),
            created_at: t.created_at,
        })
        .execute(conn)?;
    Ok(())
}

pub fn list_tenants(conn: &mut DbConn) -> Result<Vec<Tenant>, StoreError> {
    Ok(tenants::table
        .order(tenants::name)
        .select(TenantRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Tenant::from)
        .collect())
}

pub fn find_tenant(conn: &mut DbConn, id_or_name: &str) -> Result<Option<Tenant>, StoreError> {
    Ok(tenants::table
        .filter(tenants::id.eq(id_or_name).or(tenants::name.eq(id_or_name)))
        .select(TenantRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Tenant::from))
}

pub fn insert_directory(conn: &mut DbConn, d: &Directory) -> Result<(), StoreError> {
    diesel::insert_into(directories::table)
        .values(row(d))
        .execute(conn)?;
    Ok(())
}

pub fn update_directory(
    conn: &mut DbConn,
    id: &DirectoryId,
    name: &str,
    p: &Deprovisioning,
) -> Result<(), StoreError> {
    diesel::update(directories::table.filter(directories::id.eq(id.as_str())))
        .set((
            directories::name.eq(name),
            directories::on_deactivate.eq(p.on_deactivate.as_str()),
            directories::on_delete.eq(p.on_delete.as_str()),
            directories::retention_seconds.eq(p.retention.num_seconds()),
            directories::on_group_loss.eq(p.on_group_loss.as_str()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The policy of a directory, read inside the writing transaction that applies it.
pub fn deprovisioning(conn: &mut DbConn, id: &DirectoryId) -> Result<Deprovisioning, StoreError> {
    let r: DirectoryRow = directories::table
        .filter(directories::id.eq(id.as_str()))
        .select(DirectoryRow::as_select())
        .get_result(conn)?;
    Ok(Directory::try_from(r)?.deprovisioning)
}

pub fn list_directories(
    conn: &mut DbConn,
    tenant: Option<&TenantId>,
) -> Result<Vec<Directory>, StoreError> {
    let mut query = directories::table
        .order((directories::tenant_id, directories::name))
        .select(DirectoryRow::as_select())
        .into_boxed();
    if let Some(t) = tenant {
        query = query.filter(directories::tenant_id.eq(t.as_str().to_string()));
    }
    query
        .load(conn)?
        .into_iter()
        .map(Directory::try_from)
        .collect()
}

pub fn find_directories(conn: &mut DbConn, id_or_name: &str) -> Result<Vec<Directory>, StoreError> {
    directories::table
        .filter(
            directories::id
                .eq(id_or_name)
                .or(directories::name.eq(id_or_name)),
        )
        .select(DirectoryRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Directory::try_from)
        .collect()
}

/// Sets or clears `disabled_at`; `false` when the directory is already in that state.
pub fn set_disabled(
    conn: &mut DbConn,
    id: &DirectoryId,
    at: Option<NaiveDateTime>,
) -> Result<bool, StoreError> {
    let target = directories::table.filter(directories::id.eq(id.as_str()));
    let n = match at {
        Some(_) => diesel::update(target.filter(directories::disabled_at.is_null()))
            .set(directories::disabled_at.eq(at))
            .execute(conn)?,
        None => diesel::update(target.filter(directories::disabled_at.is_not_null()))
            .set(directories::disabled_at.eq(at))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Sets `activated_at` if it is not set yet; `true` when this call set it.
pub fn mark_activated(
    conn: &mut DbConn,
    id: &DirectoryId,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        directories::table
            .filter(directories::id.eq(id.as_str()))
            .filter(directories::activated_at.is_null()),
    )
    .set(directories::activated_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Up to `limit` directories of `tenants` (every tenant when `None`) in id order after
/// `after`.
pub fn directories_page(
    conn: &mut DbConn,
    tenants: Option<&[String]>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Directory>, StoreError> {
    let mut query = directories::table
        .order(directories::id)
        .limit(limit)
        .select(DirectoryRow::as_select())
        .into_boxed();
    if let Some(tenants) = tenants {
        query = query.filter(directories::tenant_id.eq_any(tenants.to_vec()));
    }
    if let Some(after) = after {
        query = query.filter(directories::id.gt(after.to_string()));
    }
    query
        .load(conn)?
        .into_iter()
        .map(Directory::try_from)
        .collect()
}

/// When the directory was activated, if it was.
pub fn activated_at(
    conn: &mut DbConn,
    id: &DirectoryId,
) -> Result<Option<NaiveDateTime>, StoreError> {
    Ok(directories::table
        .filter(directories::id.eq(id.as_str()))
        .select(directories::activated_at)
        .get_result::<Option<NaiveDateTime>>(conn)
        .optional()?
        .flatten())
}

/// Locks a directory's row for the rest of the writing transaction, on PostgreSQL: two
/// revocations of a directory's last two tokens then see each other's, and so the last one
/// sees none left. SQLite's writer is alone anyway.
pub fn lock_directory(conn: &mut DbConn, id: &DirectoryId) -> Result<(), StoreError> {
    if let DbConn::Postgres(c) = conn {
        directories::table
            .filter(directories::id.eq(id.as_str()))
            .select(directories::id)
            .for_update()
            .load::<String>(c)?;
    }
    Ok(())
}
